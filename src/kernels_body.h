/*-------------------------------------------------------------------------
 *
 * kernels_body.h
 *		Distance kernel bodies, written once against SIMDe intrinsics.
 *
 * Included by one file per instruction set (kernels_avx2.c,
 * kernels_avx512.c, kernels_neon.c), each of which first defines:
 *
 *	VK_T			the vector register type
 *	VK_W			floats per register
 *	VK_ZERO()		a register of zeros
 *	VK_LOAD(p)		unaligned load of VK_W floats
 *	VK_ADD(a, b)	a + b
 *	VK_SUB(a, b)	a - b
 *	VK_FMA(a, b, c)	a * b + c
 *	VK_ABS(a)		|a|
 *	VK_HSUM(a)		sum of the lanes, as float
 *	VK_TABLE		name of the VecKernels table to define
 *	VK_NAME			its user-visible name
 *
 * Every kernel keeps two accumulators over a loop of 2 * VK_W floats, then
 * one register at a time, then a scalar tail.  The element count may be 0.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels_body.h
 *
 *-------------------------------------------------------------------------
 */
#include "kernels.h"

/*
 * Squared Euclidean distance
 */
static float
vk_l2sq(int n, const float *a, const float *b)
{
	VK_T		s0 = VK_ZERO();
	VK_T		s1 = VK_ZERO();
	float		r;
	int			i = 0;

	for (; i + 2 * VK_W <= n; i += 2 * VK_W)
	{
		VK_T		d0 = VK_SUB(VK_LOAD(a + i), VK_LOAD(b + i));
		VK_T		d1 = VK_SUB(VK_LOAD(a + i + VK_W), VK_LOAD(b + i + VK_W));

		s0 = VK_FMA(d0, d0, s0);
		s1 = VK_FMA(d1, d1, s1);
	}
	for (; i + VK_W <= n; i += VK_W)
	{
		VK_T		d0 = VK_SUB(VK_LOAD(a + i), VK_LOAD(b + i));

		s0 = VK_FMA(d0, d0, s0);
	}
	r = VK_HSUM(VK_ADD(s0, s1));
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		r += d * d;
	}
	return r;
}

/*
 * Inner product
 */
static float
vk_dot(int n, const float *a, const float *b)
{
	VK_T		s0 = VK_ZERO();
	VK_T		s1 = VK_ZERO();
	float		r;
	int			i = 0;

	for (; i + 2 * VK_W <= n; i += 2 * VK_W)
	{
		s0 = VK_FMA(VK_LOAD(a + i), VK_LOAD(b + i), s0);
		s1 = VK_FMA(VK_LOAD(a + i + VK_W), VK_LOAD(b + i + VK_W), s1);
	}
	for (; i + VK_W <= n; i += VK_W)
		s0 = VK_FMA(VK_LOAD(a + i), VK_LOAD(b + i), s0);
	r = VK_HSUM(VK_ADD(s0, s1));
	for (; i < n; i++)
		r += a[i] * b[i];
	return r;
}

/*
 * Manhattan (taxicab) distance
 */
static float
vk_l1(int n, const float *a, const float *b)
{
	VK_T		s0 = VK_ZERO();
	VK_T		s1 = VK_ZERO();
	float		r;
	int			i = 0;

	for (; i + 2 * VK_W <= n; i += 2 * VK_W)
	{
		s0 = VK_ADD(s0, VK_ABS(VK_SUB(VK_LOAD(a + i), VK_LOAD(b + i))));
		s1 = VK_ADD(s1, VK_ABS(VK_SUB(VK_LOAD(a + i + VK_W), VK_LOAD(b + i + VK_W))));
	}
	for (; i + VK_W <= n; i += VK_W)
		s0 = VK_ADD(s0, VK_ABS(VK_SUB(VK_LOAD(a + i), VK_LOAD(b + i))));
	r = VK_HSUM(VK_ADD(s0, s1));
	for (; i < n; i++)
		r += fabsf(a[i] - b[i]);
	return r;
}

/*
 * a.b, a.a and b.b in one pass, for cosine distance
 */
static void
vk_cosparts(int n, const float *a, const float *b, float *ab, float *aa, float *bb)
{
	VK_T		sab = VK_ZERO();
	VK_T		saa = VK_ZERO();
	VK_T		sbb = VK_ZERO();
	float		rab,
				raa,
				rbb;
	int			i = 0;

	for (; i + VK_W <= n; i += VK_W)
	{
		VK_T		va = VK_LOAD(a + i);
		VK_T		vb = VK_LOAD(b + i);

		sab = VK_FMA(va, vb, sab);
		saa = VK_FMA(va, va, saa);
		sbb = VK_FMA(vb, vb, sbb);
	}
	rab = VK_HSUM(sab);
	raa = VK_HSUM(saa);
	rbb = VK_HSUM(sbb);
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

const VecKernels VK_TABLE = {
	.name = VK_NAME,
	.l2sq = vk_l2sq,
	.dot = vk_dot,
	.l1 = vk_l1,
	.cosparts = vk_cosparts,
};
