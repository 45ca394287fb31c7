/*-------------------------------------------------------------------------
 *
 * kernels_avx2.c
 *		Distance kernels for x86-64 with AVX2 and FMA (compiled -mavx2 -mfma).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels_avx2.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>

#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#define VK_T			simde__m256
#define VK_W			8
#define VK_ZERO()		simde_mm256_setzero_ps()
#define VK_LOAD(p)		simde_mm256_loadu_ps(p)
#define VK_ADD(a, b)	simde_mm256_add_ps(a, b)
#define VK_SUB(a, b)	simde_mm256_sub_ps(a, b)
#define VK_FMA(a, b, c) simde_mm256_fmadd_ps(a, b, c)
#define VK_ABS(a)		simde_mm256_andnot_ps(simde_mm256_set1_ps(-0.0f), a)
#define VK_HSUM(a)		avx2_hsum(a)
#ifndef VK_TABLE
#define VK_TABLE		VecKernelsAvx2
#endif
#define VK_NAME			"avx2"

/*
 * Tail of fewer than 8 floats with vmaskmovps, which never faults on the
 * masked-out lanes.  Only with native AVX: SIMDe's emulation reads all 8.
 */
#if defined(SIMDE_X86_AVX_NATIVE)
static const int32_t avx2_tail_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#define VK_LOAD_TAIL(p, r) \
	simde_mm256_maskload_ps(p, simde_mm256_loadu_si256((const simde__m256i *) (avx2_tail_mask + 8 - (r))))
#endif

/* Sum the eight lanes of a register */
static inline float
avx2_hsum(simde__m256 v)
{
	simde__m128 lo = simde_mm256_castps256_ps128(v);
	simde__m128 hi = simde_mm256_extractf128_ps(v, 1);
	simde__m128 s = simde_mm_add_ps(lo, hi);

	s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
	s = simde_mm_add_ss(s, simde_mm_movehdup_ps(s));
	return simde_mm_cvtss_f32(s);
}

/* Integer kernel: 16 codes widened to int16, vpmaddwd into 8 int32 sums */
#define VKI_T			simde__m256i
#define VKI_W			16
#define VKI_ZERO()		simde_mm256_setzero_si256()
#define VKI_ADD(a, b)	simde_mm256_add_epi32(a, b)
#define VKI_STEP(s, w, c) \
	simde_mm256_add_epi32(s, simde_mm256_madd_epi16(simde_mm256_loadu_si256((const simde__m256i *) (w)), \
													 simde_mm256_cvtepu8_epi16(simde_mm_loadu_si128((const simde__m128i *) (c)))))
#define VKI_HSUM(a)		avx2_hsum_epi32(a)

/* Sum the eight int32 lanes of a register */
static inline int32_t
avx2_hsum_epi32(simde__m256i v)
{
	simde__m128i s = simde_mm_add_epi32(simde_mm256_castsi256_si128(v), simde_mm256_extracti128_si256(v, 1));

	s = simde_mm_add_epi32(s, simde_mm_shuffle_epi32(s, SIMDE_MM_SHUFFLE(1, 0, 3, 2)));
	s = simde_mm_add_epi32(s, simde_mm_shuffle_epi32(s, SIMDE_MM_SHUFFLE(2, 3, 0, 1)));
	return simde_mm_cvtsi128_si32(s);
}

#include "kernels_body.h"
