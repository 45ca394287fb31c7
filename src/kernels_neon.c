/*-------------------------------------------------------------------------
 *
 * kernels_neon.c
 *		Distance kernels for aarch64 Advanced SIMD (NEON is baseline there).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels_neon.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include <simde/arm/neon.h>

#define VK_T			simde_float32x4_t
#define VK_W			4
#define VK_ZERO()		simde_vdupq_n_f32(0.0f)
#define VK_LOAD(p)		simde_vld1q_f32(p)
#define VK_ADD(a, b)	simde_vaddq_f32(a, b)
#define VK_SUB(a, b)	simde_vsubq_f32(a, b)
#define VK_FMA(a, b, c) simde_vfmaq_f32(c, a, b)
#define VK_ABS(a)		simde_vabsq_f32(a)
#define VK_HSUM(a)		simde_vaddvq_f32(a)
#ifndef VK_TABLE
#define VK_TABLE		VecKernelsNeon
#endif
#define VK_NAME			"neon"

#include "kernels_body.h"
