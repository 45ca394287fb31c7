/*-------------------------------------------------------------------------
 *
 * kernels.h
 *		Distance kernels over float arrays, independent of PostgreSQL.
 *
 * Each instruction set gets one table of kernels.  The bodies are written
 * once (kernels_body.h) against SIMDe intrinsics and compiled once per
 * instruction set with its own CFLAGS; kernels.c picks the best table the
 * CPU supports when the library loads.  Nothing here includes postgres.h,
 * so the kernel test and the benchmark link the same objects.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_KERNELS_H
#define VECREC_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One set of kernels.  All take the element count first; n may be 0.
 * Results are accumulated in single precision with several independent
 * partial sums, so different tables may differ in the last bits.
 */
typedef struct VecKernels
{
	const char *name;
	/* sum((a[i] - b[i])^2) */
	float		(*l2sq) (int n, const float *a, const float *b);
	/* sum(a[i] * b[i]) */
	float		(*dot) (int n, const float *a, const float *b);
	/* sum(|a[i] - b[i]|) */
	float		(*l1) (int n, const float *a, const float *b);
	/* one pass for cosine: *ab = a.b, *aa = a.a, *bb = b.b */
	void		(*cosparts) (int n, const float *a, const float *b,
							 float *ab, float *aa, float *bb);
	/* cosine when b's norm is known: *ab = a.b, *aa = a.a */
	void		(*dotnorm) (int n, const float *a, const float *b, float *ab, float *aa);
	/* out[j] = sum((a[i] - b[j][i])^2) for j = 0..3: one pass over a */
	void		(*l2sq4) (int n, const float *a, const float *const *b, float *out);
	/*
	 * out[r * 4 + j] = sum((a[r][i] - b[j][i])^2) for r = 0..1, j = 0..3:
	 * bit for bit what two l2sq4 calls of the same table return
	 */
	void		(*l2sq2x4) (int n, const float *const *a, const float *const *b, float *out);
	/*
	 * sum(w[i] * c[i]) in exact integer arithmetic: int16 weights against
	 * uint8 codes (ivfflat's sq8 lists).  The caller keeps the sum within
	 * int32: 255 * sum(|w[i]|) < 2^31.
	 */
	int32_t		(*dotu8) (int n, const int16_t *w, const uint8_t *c);
} VecKernels;

/* kernels.c */
#define VEC_KERNEL_MAX 8
extern const VecKernels *VecActiveKernels;
extern int	VecKernelCount(void);
extern const VecKernels *VecKernelByIndex(int i, bool *supported);
extern const VecKernels *VecKernelByName(const char *name, bool *supported);
extern const VecKernels *VecBestKernels(void);

/* one table per instruction set; NULL-free only where compiled in */
extern const VecKernels VecKernelsScalar;
#if defined(__x86_64__) || defined(_M_X64)
#define VEC_HAVE_X86 1
extern const VecKernels VecKernelsAvx2;
extern const VecKernels VecKernelsAvx512;
#endif
#if defined(__aarch64__)
#define VEC_HAVE_NEON 1
extern const VecKernels VecKernelsNeon;
#endif

#endif							/* VECREC_KERNELS_H */
