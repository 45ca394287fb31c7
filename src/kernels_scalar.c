/*-------------------------------------------------------------------------
 *
 * kernels_scalar.c
 *		Plain C reference kernels.
 *
 * The reference every other kernel is tested against, and the fallback
 * on CPUs without a faster table.  Eight partial sums keep the loops free
 * of a serial dependency, so the compiler can vectorize them for the
 * baseline instruction set without -ffast-math.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels_scalar.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "kernels.h"

#define LANES 8

/* Sum the partial sums in a fixed order */
static inline float
sum_lanes(const float *s)
{
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/*
 * Squared Euclidean distance
 */
static float
scalar_l2sq(int n, const float *a, const float *b)
{
	float		s[LANES] = {0};
	float		r;
	int			i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
		{
			float		d = a[i + j] - b[i + j];

			s[j] += d * d;
		}
	r = sum_lanes(s);
	for (; i < n; i++)
		r += (a[i] - b[i]) * (a[i] - b[i]);
	return r;
}

/*
 * Inner product
 */
static float
scalar_dot(int n, const float *a, const float *b)
{
	float		s[LANES] = {0};
	float		r;
	int			i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
			s[j] += a[i + j] * b[i + j];
	r = sum_lanes(s);
	for (; i < n; i++)
		r += a[i] * b[i];
	return r;
}

/*
 * Manhattan (taxicab) distance
 */
static float
scalar_l1(int n, const float *a, const float *b)
{
	float		s[LANES] = {0};
	float		r;
	int			i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
			s[j] += fabsf(a[i + j] - b[i + j]);
	r = sum_lanes(s);
	for (; i < n; i++)
		r += fabsf(a[i] - b[i]);
	return r;
}

/*
 * a.b, a.a and b.b in one pass, for cosine distance
 */
static void
scalar_cosparts(int n, const float *a, const float *b, float *ab, float *aa, float *bb)
{
	float		sab[LANES] = {0};
	float		saa[LANES] = {0};
	float		sbb[LANES] = {0};
	float		rab,
				raa,
				rbb;
	int			i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
		{
			sab[j] += a[i + j] * b[i + j];
			saa[j] += a[i + j] * a[i + j];
			sbb[j] += b[i + j] * b[i + j];
		}
	rab = sum_lanes(sab);
	raa = sum_lanes(saa);
	rbb = sum_lanes(sbb);
	for (; i < n; i++)
	{
		rab += a[i] * b[i];
		raa += a[i] * a[i];
		rbb += b[i] * b[i];
	}
	*ab = rab;
	*aa = raa;
	*bb = rbb;
}

/*
 * a.b and a.a in one pass, for cosine against a vector of known norm
 */
static void
scalar_dotnorm(int n, const float *a, const float *b, float *ab, float *aa)
{
	float		sab[LANES] = {0};
	float		saa[LANES] = {0};
	float		rab,
				raa;
	int			i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
		{
			sab[j] += a[i + j] * b[i + j];
			saa[j] += a[i + j] * a[i + j];
		}
	rab = sum_lanes(sab);
	raa = sum_lanes(saa);
	for (; i < n; i++)
	{
		rab += a[i] * b[i];
		raa += a[i] * a[i];
	}
	*ab = rab;
	*aa = raa;
}

/*
 * Squared Euclidean distances from a to four vectors
 */
static void
scalar_l2sq4(int n, const float *a, const float *const *b, float *out)
{
	for (int j = 0; j < 4; j++)
		out[j] = scalar_l2sq(n, a, b[j]);
}

/*
 * Squared Euclidean distances from two vectors to four (as two l2sq4)
 */
static void
scalar_l2sq2x4(int n, const float *const *a, const float *const *b, float *out)
{
	for (int r = 0; r < 2; r++)
		for (int j = 0; j < 4; j++)
			out[r * 4 + j] = scalar_l2sq(n, a[r], b[j]);
}

/*
 * Integer dot product of int16 weights and uint8 codes
 */
static int32_t
scalar_dotu8(int n, const int16_t *w, const uint8_t *c)
{
	int32_t		s[LANES] = {0};
	int32_t		r;
	int			i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
			s[j] += (int32_t) w[i + j] * c[i + j];
	r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
	for (; i < n; i++)
		r += (int32_t) w[i] * c[i];
	return r;
}

const VecKernels VecKernelsScalar = {
	.name = "scalar",
	.l2sq = scalar_l2sq,
	.dot = scalar_dot,
	.l1 = scalar_l1,
	.cosparts = scalar_cosparts,
	.dotnorm = scalar_dotnorm,
	.l2sq4 = scalar_l2sq4,
	.l2sq2x4 = scalar_l2sq2x4,
	.dotu8 = scalar_dotu8,
};
