/*-------------------------------------------------------------------------
 *
 * kernels_avx512.c
 *		Distance kernels for x86-64 with AVX-512F (compiled -mavx512f).
 *
 * Built without -mavx512f (the kernel test does this), SIMDe emulates
 * the same intrinsics, so the body can be checked on any CPU.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels_avx512.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include <simde/x86/avx512.h>

#define VK_T			simde__m512
#define VK_W			16
#define VK_ZERO()		simde_mm512_setzero_ps()
#define VK_LOAD(p)		simde_mm512_loadu_ps(p)
#define VK_ADD(a, b)	simde_mm512_add_ps(a, b)
#define VK_SUB(a, b)	simde_mm512_sub_ps(a, b)
#define VK_FMA(a, b, c) simde_mm512_fmadd_ps(a, b, c)
#define VK_ABS(a)		simde_mm512_abs_ps(a)
#define VK_HSUM(a)		avx512_hsum(a)
#ifndef VK_TABLE
#define VK_TABLE		VecKernelsAvx512
#endif
#define VK_NAME			"avx512"

/* Sum the sixteen lanes of a register (AVX-512F instructions only) */
static inline float
avx512_hsum(simde__m512 v)
{
	simde__m128 s = simde_mm_add_ps(simde_mm512_castps512_ps128(v),
									simde_mm512_extractf32x4_ps(v, 1));

	s = simde_mm_add_ps(s, simde_mm512_extractf32x4_ps(v, 2));
	s = simde_mm_add_ps(s, simde_mm512_extractf32x4_ps(v, 3));
	s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
	s = simde_mm_add_ss(s, simde_mm_movehdup_ps(s));
	return simde_mm_cvtss_f32(s);
}

#include "kernels_body.h"
