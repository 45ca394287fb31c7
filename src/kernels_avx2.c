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

/*
 * The lane sums of eight registers a..h into out[0..7] (unaligned), each
 * added in the order of avx2_hsum, so bit for bit its results: lanes i and
 * i + 4 first, then (0 + 2) + (1 + 3).  The registers are transposed as
 * they are added, instead of reduced one at a time.
 */
static inline void
avx2_hsum8(simde__m256 a, simde__m256 b, simde__m256 c, simde__m256 d,
		   simde__m256 e, simde__m256 f, simde__m256 g, simde__m256 h, float *out)
{
	/* [x0+x4, x1+x5, x2+x6, x3+x7] of a | of e, and so on */
	simde__m256 ae = simde_mm256_add_ps(simde_mm256_permute2f128_ps(a, e, 0x20),
										simde_mm256_permute2f128_ps(a, e, 0x31));
	simde__m256 bf = simde_mm256_add_ps(simde_mm256_permute2f128_ps(b, f, 0x20),
										simde_mm256_permute2f128_ps(b, f, 0x31));
	simde__m256 cg = simde_mm256_add_ps(simde_mm256_permute2f128_ps(c, g, 0x20),
										simde_mm256_permute2f128_ps(c, g, 0x31));
	simde__m256 dh = simde_mm256_add_ps(simde_mm256_permute2f128_ps(d, h, 0x20),
										simde_mm256_permute2f128_ps(d, h, 0x31));
	/* [p0+p2, p1+p3] of a, of b | of e, of f; and of c, d | g, h */
	simde__m256 abef = simde_mm256_add_ps(simde_mm256_shuffle_ps(ae, bf, 0x44),
										  simde_mm256_shuffle_ps(ae, bf, 0xEE));
	simde__m256 cdgh = simde_mm256_add_ps(simde_mm256_shuffle_ps(cg, dh, 0x44),
										  simde_mm256_shuffle_ps(cg, dh, 0xEE));

	simde_mm256_storeu_ps(out, simde_mm256_add_ps(simde_mm256_shuffle_ps(abef, cdgh, 0x88),
												  simde_mm256_shuffle_ps(abef, cdgh, 0xDD)));
}

#define VK_HSUM8(a, b, c, d, e, f, g, h, out) avx2_hsum8(a, b, c, d, e, f, g, h, out)

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
