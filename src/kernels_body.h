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
 * and optionally VK_LOAD_TAIL(p, r): load r < VK_W floats, zeros in the
 * other lanes, never touching memory past p + r (a masked load), and
 * VK_HSUM8(a, ..., h, out): out[0..7] = the VK_HSUM of eight registers,
 * bit for bit (a transposing reduction).
 *
 * The integer kernel (uint8 codes against int16 weights) needs:
 *
 *	VKI_T			an integer register of int32 sums
 *	VKI_W			codes per step
 *	VKI_ZERO()		a register of zeros
 *	VKI_STEP(s, w, c)	s + the products of VKI_W weights and codes, summed
 *					pairwise into the int32 lanes (never reading past
 *					c + VKI_W or w + VKI_W)
 *	VKI_ADD(a, b)	lane-wise a + b
 *	VKI_HSUM(s)		sum of the lanes, as int32_t
 *
 * Every kernel keeps two accumulators over a loop of 2 * VK_W floats, then
 * one register at a time, then the tail: one masked step where the
 * instruction set has one, a scalar loop otherwise.  The element count may
 * be 0.
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
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
		VK_T		d1 = VK_SUB(VK_LOAD_TAIL(a + i, n - i), VK_LOAD_TAIL(b + i, n - i));

		s1 = VK_FMA(d1, d1, s1);
		i = n;
	}
#endif
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
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
		s1 = VK_FMA(VK_LOAD_TAIL(a + i, n - i), VK_LOAD_TAIL(b + i, n - i), s1);
		i = n;
	}
#endif
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
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
		s1 = VK_ADD(s1, VK_ABS(VK_SUB(VK_LOAD_TAIL(a + i, n - i), VK_LOAD_TAIL(b + i, n - i))));
		i = n;
	}
#endif
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
	VK_T		sab0 = VK_ZERO(),
				sab1 = VK_ZERO();
	VK_T		saa0 = VK_ZERO(),
				saa1 = VK_ZERO();
	VK_T		sbb0 = VK_ZERO(),
				sbb1 = VK_ZERO();
	float		rab,
				raa,
				rbb;
	int			i = 0;

	/* six independent chains hide the FMA latency */
	for (; i + 2 * VK_W <= n; i += 2 * VK_W)
	{
		VK_T		va0 = VK_LOAD(a + i);
		VK_T		vb0 = VK_LOAD(b + i);
		VK_T		va1 = VK_LOAD(a + i + VK_W);
		VK_T		vb1 = VK_LOAD(b + i + VK_W);

		sab0 = VK_FMA(va0, vb0, sab0);
		saa0 = VK_FMA(va0, va0, saa0);
		sbb0 = VK_FMA(vb0, vb0, sbb0);
		sab1 = VK_FMA(va1, vb1, sab1);
		saa1 = VK_FMA(va1, va1, saa1);
		sbb1 = VK_FMA(vb1, vb1, sbb1);
	}
	for (; i + VK_W <= n; i += VK_W)
	{
		VK_T		va = VK_LOAD(a + i);
		VK_T		vb = VK_LOAD(b + i);

		sab0 = VK_FMA(va, vb, sab0);
		saa0 = VK_FMA(va, va, saa0);
		sbb0 = VK_FMA(vb, vb, sbb0);
	}
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
		VK_T		va = VK_LOAD_TAIL(a + i, n - i);
		VK_T		vb = VK_LOAD_TAIL(b + i, n - i);

		sab1 = VK_FMA(va, vb, sab1);
		saa1 = VK_FMA(va, va, saa1);
		sbb1 = VK_FMA(vb, vb, sbb1);
		i = n;
	}
#endif
	rab = VK_HSUM(VK_ADD(sab0, sab1));
	raa = VK_HSUM(VK_ADD(saa0, saa1));
	rbb = VK_HSUM(VK_ADD(sbb0, sbb1));
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
vk_dotnorm(int n, const float *a, const float *b, float *ab, float *aa)
{
	VK_T		sab0 = VK_ZERO(),
				sab1 = VK_ZERO();
	VK_T		saa0 = VK_ZERO(),
				saa1 = VK_ZERO();
	float		rab,
				raa;
	int			i = 0;

	for (; i + 2 * VK_W <= n; i += 2 * VK_W)
	{
		VK_T		va0 = VK_LOAD(a + i);
		VK_T		va1 = VK_LOAD(a + i + VK_W);

		sab0 = VK_FMA(va0, VK_LOAD(b + i), sab0);
		saa0 = VK_FMA(va0, va0, saa0);
		sab1 = VK_FMA(va1, VK_LOAD(b + i + VK_W), sab1);
		saa1 = VK_FMA(va1, va1, saa1);
	}
	for (; i + VK_W <= n; i += VK_W)
	{
		VK_T		va = VK_LOAD(a + i);

		sab0 = VK_FMA(va, VK_LOAD(b + i), sab0);
		saa0 = VK_FMA(va, va, saa0);
	}
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
		VK_T		va = VK_LOAD_TAIL(a + i, n - i);

		sab1 = VK_FMA(va, VK_LOAD_TAIL(b + i, n - i), sab1);
		saa1 = VK_FMA(va, va, saa1);
		i = n;
	}
#endif
	rab = VK_HSUM(VK_ADD(sab0, sab1));
	raa = VK_HSUM(VK_ADD(saa0, saa1));
	for (; i < n; i++)
	{
		rab += a[i] * b[i];
		raa += a[i] * a[i];
	}
	*ab = rab;
	*aa = raa;
}

/*
 * Squared Euclidean distances from a to four vectors: a is loaded once for
 * the four, and the four sums are independent chains (k-means and the
 * assignment of rows to lists in ivfflat builds)
 */
static void
vk_l2sq4(int n, const float *a, const float *const *b, float *out)
{
	const float *b0 = b[0],
			   *b1 = b[1],
			   *b2 = b[2],
			   *b3 = b[3];
	VK_T		s0 = VK_ZERO(),
				s1 = VK_ZERO(),
				s2 = VK_ZERO(),
				s3 = VK_ZERO();
	int			i = 0;

	for (; i + VK_W <= n; i += VK_W)
	{
		VK_T		va = VK_LOAD(a + i);
		VK_T		d0 = VK_SUB(va, VK_LOAD(b0 + i));
		VK_T		d1 = VK_SUB(va, VK_LOAD(b1 + i));
		VK_T		d2 = VK_SUB(va, VK_LOAD(b2 + i));
		VK_T		d3 = VK_SUB(va, VK_LOAD(b3 + i));

		s0 = VK_FMA(d0, d0, s0);
		s1 = VK_FMA(d1, d1, s1);
		s2 = VK_FMA(d2, d2, s2);
		s3 = VK_FMA(d3, d3, s3);
	}
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
		VK_T		va = VK_LOAD_TAIL(a + i, n - i);
		VK_T		d0 = VK_SUB(va, VK_LOAD_TAIL(b0 + i, n - i));
		VK_T		d1 = VK_SUB(va, VK_LOAD_TAIL(b1 + i, n - i));
		VK_T		d2 = VK_SUB(va, VK_LOAD_TAIL(b2 + i, n - i));
		VK_T		d3 = VK_SUB(va, VK_LOAD_TAIL(b3 + i, n - i));

		s0 = VK_FMA(d0, d0, s0);
		s1 = VK_FMA(d1, d1, s1);
		s2 = VK_FMA(d2, d2, s2);
		s3 = VK_FMA(d3, d3, s3);
		i = n;
	}
#endif
	out[0] = VK_HSUM(s0);
	out[1] = VK_HSUM(s1);
	out[2] = VK_HSUM(s2);
	out[3] = VK_HSUM(s3);
	for (; i < n; i++)
	{
		float		d0 = a[i] - b0[i];
		float		d1 = a[i] - b1[i];
		float		d2 = a[i] - b2[i];
		float		d3 = a[i] - b3[i];

		out[0] += d0 * d0;
		out[1] += d1 * d1;
		out[2] += d2 * d2;
		out[3] += d3 * d3;
	}
}

/*
 * Squared L2 distances from two vectors a[0], a[1] to four vectors b[0..3]:
 * out[r * 4 + j] = |a[r] - b[j]|^2.  Every pair is accumulated exactly as
 * in vk_l2sq4 (one accumulator, the same tail and horizontal sum), so the
 * results are those of two vk_l2sq4 calls to the last bit; with eight
 * independent accumulators instead of four, the loop is not bound by the
 * latency of the FMA (builds measure many rows against the same centers).
 */
static void
vk_l2sq2x4(int n, const float *const *a, const float *const *b, float *out)
{
	const float *a0 = a[0],
			   *a1 = a[1],
			   *b0 = b[0],
			   *b1 = b[1],
			   *b2 = b[2],
			   *b3 = b[3];
	VK_T		s00 = VK_ZERO(),
				s01 = VK_ZERO(),
				s02 = VK_ZERO(),
				s03 = VK_ZERO(),
				s10 = VK_ZERO(),
				s11 = VK_ZERO(),
				s12 = VK_ZERO(),
				s13 = VK_ZERO();
	int			i = 0;

#define VK_L2SQ2X4_STEP(LOAD) \
	do { \
		VK_T		va0 = LOAD(a0), \
					va1 = LOAD(a1), \
					vb = LOAD(b0), \
					d0 = VK_SUB(va0, vb), \
					d1 = VK_SUB(va1, vb); \
		s00 = VK_FMA(d0, d0, s00); \
		s10 = VK_FMA(d1, d1, s10); \
		vb = LOAD(b1); \
		d0 = VK_SUB(va0, vb); \
		d1 = VK_SUB(va1, vb); \
		s01 = VK_FMA(d0, d0, s01); \
		s11 = VK_FMA(d1, d1, s11); \
		vb = LOAD(b2); \
		d0 = VK_SUB(va0, vb); \
		d1 = VK_SUB(va1, vb); \
		s02 = VK_FMA(d0, d0, s02); \
		s12 = VK_FMA(d1, d1, s12); \
		vb = LOAD(b3); \
		d0 = VK_SUB(va0, vb); \
		d1 = VK_SUB(va1, vb); \
		s03 = VK_FMA(d0, d0, s03); \
		s13 = VK_FMA(d1, d1, s13); \
	} while (0)
#define VK_L2SQ2X4_LOAD(p) VK_LOAD((p) + i)
	for (; i + VK_W <= n; i += VK_W)
		VK_L2SQ2X4_STEP(VK_L2SQ2X4_LOAD);
#undef VK_L2SQ2X4_LOAD
#ifdef VK_LOAD_TAIL
	if (i < n)
	{
#define VK_L2SQ2X4_LOAD(p) VK_LOAD_TAIL((p) + i, n - i)
		VK_L2SQ2X4_STEP(VK_L2SQ2X4_LOAD);
#undef VK_L2SQ2X4_LOAD
		i = n;
	}
#endif
#undef VK_L2SQ2X4_STEP
#ifdef VK_HSUM8
	VK_HSUM8(s00, s01, s02, s03, s10, s11, s12, s13, out);
#else
	out[0] = VK_HSUM(s00);
	out[1] = VK_HSUM(s01);
	out[2] = VK_HSUM(s02);
	out[3] = VK_HSUM(s03);
	out[4] = VK_HSUM(s10);
	out[5] = VK_HSUM(s11);
	out[6] = VK_HSUM(s12);
	out[7] = VK_HSUM(s13);
#endif
	for (; i < n; i++)
	{
		for (int r = 0; r < 2; r++)
		{
			for (int j = 0; j < 4; j++)
			{
				float		d = a[r][i] - b[j][i];

				out[r * 4 + j] += d * d;
			}
		}
	}
}

/*
 * Integer dot product of int16 weights and uint8 codes (exact): the codes
 * are widened to 16 bits and multiplied pairwise into 32-bit sums
 */
static int32_t
vk_dotu8(int n, const int16_t *w, const uint8_t *c)
{
	VKI_T		s0 = VKI_ZERO();
	VKI_T		s1 = VKI_ZERO();
	int32_t		r;
	int			i = 0;

	for (; i + 2 * VKI_W <= n; i += 2 * VKI_W)
	{
		s0 = VKI_STEP(s0, w + i, c + i);
		s1 = VKI_STEP(s1, w + i + VKI_W, c + i + VKI_W);
	}
	for (; i + VKI_W <= n; i += VKI_W)
		s0 = VKI_STEP(s0, w + i, c + i);
	r = VKI_HSUM(VKI_ADD(s0, s1));
	for (; i < n; i++)
		r += (int32_t) w[i] * c[i];
	return r;
}

const VecKernels VK_TABLE = {
	.name = VK_NAME,
	.l2sq = vk_l2sq,
	.dot = vk_dot,
	.l1 = vk_l1,
	.cosparts = vk_cosparts,
	.dotnorm = vk_dotnorm,
	.l2sq4 = vk_l2sq4,
	.l2sq2x4 = vk_l2sq2x4,
	.dotu8 = vk_dotu8,
};
