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

/*
 * Integer kernel: AVX-512F alone has no 512-bit vpmaddwd (that is
 * AVX-512BW), so the 256-bit AVX2 form, which every AVX-512F CPU has
 */
#define VKI_T			simde__m256i
#define VKI_W			16
#define VKI_ZERO()		simde_mm256_setzero_si256()
#define VKI_ADD(a, b)	simde_mm256_add_epi32(a, b)
#define VKI_STEP(s, w, c) \
	simde_mm256_add_epi32(s, simde_mm256_madd_epi16(simde_mm256_loadu_si256((const simde__m256i *) (w)), \
													 simde_mm256_cvtepu8_epi16(simde_mm_loadu_si128((const simde__m128i *) (c)))))
#define VKI_HSUM(a)		avx512_hsum_epi32(a)

/* Sum the eight int32 lanes of a register */
static inline int32_t
avx512_hsum_epi32(simde__m256i v)
{
	simde__m128i s = simde_mm_add_epi32(simde_mm256_castsi256_si128(v), simde_mm256_extracti128_si256(v, 1));

	s = simde_mm_add_epi32(s, simde_mm_shuffle_epi32(s, SIMDE_MM_SHUFFLE(1, 0, 3, 2)));
	s = simde_mm_add_epi32(s, simde_mm_shuffle_epi32(s, SIMDE_MM_SHUFFLE(2, 3, 0, 1)));
	return simde_mm_cvtsi128_si32(s);
}

#include "kernels_body.h"
