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

/* Integer kernel: 8 codes widened to 16 bits, multiply-accumulate long */
#define VKI_T			simde_int32x4_t
#define VKI_W			8
#define VKI_ZERO()		simde_vdupq_n_s32(0)
#define VKI_ADD(a, b)	simde_vaddq_s32(a, b)
#define VKI_STEP(s, w, c)	neon_dotu8_step(s, w, c)
#define VKI_HSUM(a)		simde_vaddvq_s32(a)

/* s + the products of 8 weights and 8 codes, in 4 int32 lanes */
static inline simde_int32x4_t
neon_dotu8_step(simde_int32x4_t s, const int16_t *w, const uint8_t *c)
{
	simde_int16x8_t cw = simde_vreinterpretq_s16_u16(simde_vmovl_u8(simde_vld1_u8(c)));
	simde_int16x8_t ww = simde_vld1q_s16(w);

	s = simde_vmlal_s16(s, simde_vget_low_s16(cw), simde_vget_low_s16(ww));
	return simde_vmlal_s16(s, simde_vget_high_s16(cw), simde_vget_high_s16(ww));
}

#include "kernels_body.h"
