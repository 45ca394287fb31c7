/*-------------------------------------------------------------------------
 *
 * test_kernels.c
 *		Check every distance kernel table against an exact reference.
 *
 * For lengths 0..33, 1024 and 16000 (every tail case of every register
 * width, and the largest vectors), with aligned and misaligned inputs,
 * each kernel must agree with a double-precision reference:
 *
 *		|kernel - exact| <= 1e-5 * sum(|term|) + 1e-30
 *
 * where term is the i-th summand of the distance.  That bound allows for
 * float accumulation over 16,000 elements in any order.  The integer
 * kernel (dotu8) must equal its reference exactly.  Tables the CPU
 * cannot run are reported as skipped.  The AVX-512 body is also built
 * without -mavx512f, where SIMDe emulates it, so its logic is checked on
 * any x86-64 CPU; so is the NEON body, emulated on x86-64.  Output is TAP.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/kernels/test_kernels.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#ifdef VEC_HAVE_X86
extern const VecKernels VecKernelsAvx512Emu;
extern const VecKernels VecKernelsNeonEmu;
#endif

#define TOL 1e-5
#define MAXN 16000

static int	test_no = 0;
static int	failures = 0;

/* Deterministic pseudo-random floats in [-scale, scale) */
static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

static float
rnd(float scale)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return scale * (float) ((double) (rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* Exact (double) values and the magnitudes that scale the tolerance */
typedef struct Exact
{
	double		l2sq,
				l2sq_mag;
	double		dot,
				dot_mag;
	double		l1;
	double		aa,
				bb;
} Exact;

static Exact
exact(int n, const float *a, const float *b)
{
	Exact		e = {0};

	for (int i = 0; i < n; i++)
	{
		double		d = (double) a[i] - b[i];
		double		p = (double) a[i] * b[i];

		e.l2sq += d * d;
		e.dot += p;
		e.dot_mag += fabs(p);
		e.l1 += fabs(d);
		e.aa += (double) a[i] * a[i];
		e.bb += (double) b[i] * b[i];
	}
	e.l2sq_mag = e.l2sq;
	return e;
}

static int
close_enough(double got, double want, double mag)
{
	return fabs(got - want) <= TOL * mag + 1e-30;
}

static void
report(int ok, const char *kernel, const char *what, int n, int offset, double got, double want)
{
	test_no++;
	if (!ok)
		failures++;
	printf("%s %d - %s %s n=%d offset=%d", ok ? "ok" : "not ok", test_no, kernel, what, n, offset);
	if (!ok)
		printf(" (got %.9g, want %.9g)", got, want);
	printf("\n");
}

/*
 * All the kernels of one table at one length and alignment
 */
static void
check_one(const VecKernels *k, const char *label, int n, int offset, float *abuf, float *bbuf)
{
	float	   *a = abuf + offset;
	float	   *b = bbuf + offset;
	Exact		e;
	float		ab,
				aa,
				bb;
	int			ok;

	for (int i = 0; i < n; i++)
	{
		a[i] = rnd(2.0f);
		b[i] = rnd(2.0f);
	}
	e = exact(n, a, b);

	report(close_enough(k->l2sq(n, a, b), e.l2sq, e.l2sq_mag), label, "l2sq", n, offset,
		   k->l2sq(n, a, b), e.l2sq);
	report(close_enough(k->dot(n, a, b), e.dot, e.dot_mag), label, "dot", n, offset,
		   k->dot(n, a, b), e.dot);
	report(close_enough(k->l1(n, a, b), e.l1, e.l1), label, "l1", n, offset,
		   k->l1(n, a, b), e.l1);
	k->cosparts(n, a, b, &ab, &aa, &bb);
	ok = close_enough(ab, e.dot, e.dot_mag) && close_enough(aa, e.aa, e.aa) &&
		close_enough(bb, e.bb, e.bb);
	report(ok, label, "cosparts", n, offset, ab, e.dot);
	ab = aa = -1;
	k->dotnorm(n, a, b, &ab, &aa);
	ok = close_enough(ab, e.dot, e.dot_mag) && close_enough(aa, e.aa, e.aa);
	report(ok, label, "dotnorm", n, offset, ab, e.dot);

	/* four distances at once: to b, a itself, c (another vector) and b */
	{
		float	   *c = malloc(sizeof(float) * (n + 1));
		const float *four[4];
		float		out[4] = {-1, -1, -1, -1};
		Exact		ec;

		if (c == NULL)
			exit(2);
		for (int i = 0; i < n; i++)
			c[i] = rnd(2.0f);
		ec = exact(n, a, c);
		four[0] = b;
		four[1] = a;
		four[2] = c;
		four[3] = b;
		k->l2sq4(n, a, four, out);
		ok = close_enough(out[0], e.l2sq, e.l2sq_mag) && out[1] == 0 &&
			close_enough(out[2], ec.l2sq, ec.l2sq_mag) && close_enough(out[3], e.l2sq, e.l2sq_mag);
		report(ok, label, "l2sq4", n, offset, out[2], ec.l2sq);

		/* two rows at once: bit for bit the l2sq4 results */
		{
			const float *two[2] = {a, c};
			float		out8[8];
			float		outc[4];

			k->l2sq4(n, c, four, outc);
			k->l2sq2x4(n, two, four, out8);
			ok = memcmp(out8, out, sizeof(out)) == 0 && memcmp(out8 + 4, outc, sizeof(outc)) == 0;
			report(ok, label, "l2sq2x4", n, offset, out8[6], outc[2]);
		}
		free(c);
	}

	/*
	 * integer dot product of int16 weights and uint8 codes: exact, so equal
	 * to the reference; weights of the largest magnitude the callers use
	 * (255 * sum |w| below 2^31), codes over the whole range
	 */
	{
		int16_t    *w = malloc(sizeof(int16_t) * (n + 1));
		uint8_t    *code = malloc(n + 1);
		long long	want = 0;
		int			wmax = n > 0 ? (int) (2147483647LL / (255LL * n)) : 1;
		int32_t		got;

		if (w == NULL || code == NULL)
			exit(2);
		wmax = wmax > 32767 ? 32767 : wmax;
		w += offset;
		code += offset;
		for (int i = 0; i < n; i++)
		{
			w[i] = (int16_t) (rnd(1.0f) * wmax);
			code[i] = (uint8_t) (i % 5 == 0 ? 255 : (int) ((rnd(1.0f) + 1.0f) * 127.99f));
			want += (long long) w[i] * code[i];
		}
		got = k->dotu8(n, w, code);
		report(got == want, label, "dotu8", n, offset, got, (double) want);
		free(w - offset);
		free(code - offset);
	}
}

/*
 * Every length and alignment for one table
 */
static void
check_table(const VecKernels *k, const char *label, float *abuf, float *bbuf)
{
	static const int big[] = {1024, MAXN};

	for (int offset = 0; offset <= 1; offset++)
	{
		for (int n = 0; n <= 33; n++)
			check_one(k, label, n, offset, abuf, bbuf);
		for (int j = 0; j < 2; j++)
			check_one(k, label, big[j], offset, abuf, bbuf);
	}
}

int
main(void)
{
	float	   *abuf = malloc(sizeof(float) * (MAXN + 16));
	float	   *bbuf = malloc(sizeof(float) * (MAXN + 16));

	if (!abuf || !bbuf)
		return 2;

	for (int i = 0; i < VecKernelCount(); i++)
	{
		bool		supported;
		const VecKernels *k = VecKernelByIndex(i, &supported);

		if (!supported)
		{
			printf("ok %d # skip %s: not supported by this CPU\n", ++test_no, k->name);
			continue;
		}
		check_table(k, k->name, abuf, bbuf);
	}
#ifdef VEC_HAVE_X86
	check_table(&VecKernelsAvx512Emu, "avx512(emulated)", abuf, bbuf);
	check_table(&VecKernelsNeonEmu, "neon(emulated)", abuf, bbuf);
#endif

	/* the best table is one of the supported ones */
	{
		bool		supported = false;
		const VecKernels *best = VecBestKernels();

		VecKernelByName(best->name, &supported);
		report(supported, best->name, "is supported and chosen as best", 0, 0, 0, 0);
	}

	printf("1..%d\n", test_no);
	free(abuf);
	free(bbuf);
	return failures ? 1 : 0;
}
