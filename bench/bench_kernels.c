/*-------------------------------------------------------------------------
 *
 * bench_kernels.c
 *		Throughput of the distance kernels, next to the memory bandwidth.
 *
 *   bench_kernels [-b BIG_MIB] [-s SMALL_KIB] [-r REPS] [-d DIMS] [-k KERNEL]
 *
 * One query is compared with every vector of a contiguous array, the way an
 * exact scan does, one thread.  Two array sizes:
 *   big    BIG_MIB (default 1024 MiB), far larger than the caches: each
 *		  repetition is one pass, so the vectors stream from memory;
 *   small  SMALL_KIB (default 256 KiB), stays in L2: each repetition is as
 *		  many passes as fill MIN_REP_SECONDS.
 * Throughput is the bytes of array vectors read per second
 * (n_vectors * dim * 4 / time), the median of REPS repetitions.  For
 * comparison the machine's memory bandwidth is measured on the big buffer
 * with memcpy (bytes read, i.e. the size copied) and with a plain summing
 * read loop.
 *
 * Prints a table, then the same figures as "csv," lines.  Links the
 * PostgreSQL-independent kernel sources from src/ (see bench_distance.sh).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * bench/bench_kernels.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <simde/x86/sse2.h>

#include "kernels.h"

#define MAX_REPS		101
#define MAX_DIMS		16
#define MIN_REP_SECONDS 0.05
#define MAX_RESULTS		512

typedef struct
{
	char		kernel[32];
	char		op[16];
	int			dim;
	const char *where;
	size_t		bytes;			/* bytes of vectors per pass */
	double		gbps;			/* median */
	double		gbps_min;
	double		gbps_max;
	double		ns_per_vec;
} Result;

static Result results[MAX_RESULTS];
static int	n_results;
static volatile float sink_f;
static volatile uint64_t sink_u;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *
alloc_or_die(size_t bytes)
{
	void	   *p = NULL;

	if (posix_memalign(&p, 4096, bytes) != 0 || p == NULL)
	{
		fprintf(stderr, "bench_kernels: cannot allocate %zu bytes\n", bytes);
		exit(1);
	}
	return p;
}

/* Pseudo-random floats in [-1, 1) (xorshift64*), touching every page. */
static void
fill_random(float *x, size_t n, uint64_t seed)
{
	uint64_t	s = seed | 1;

	for (size_t i = 0; i < n; i++)
	{
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		x[i] = (float) ((int32_t) ((s * 2685821657736338717ULL) >> 32)) * (1.0f / 2147483648.0f);
	}
}

/* One pass: the query against every vector of the array. */
static float
scan_cosine(const VecKernels *k, int dim, const float *q, const float *x, size_t n)
{
	float		acc = 0.0f;

	for (size_t i = 0; i < n; i++)
	{
		float		ab,
					aa,
					bb;

		k->cosparts(dim, q, x + i * dim, &ab, &aa, &bb);
		acc += ab / sqrtf(aa * bb);
	}
	return acc;
}

static float
scan_l2(const VecKernels *k, int dim, const float *q, const float *x, size_t n)
{
	float		acc = 0.0f;

	for (size_t i = 0; i < n; i++)
		acc += k->l2sq(dim, q, x + i * dim);
	return acc;
}

/*
 * Median throughput (GB/s of vector data) of REPS repetitions; each
 * repetition is passes passes over n vectors.
 */
static void
measure(Result *res, const VecKernels *k, const char *op, int dim, const char *where,
		const float *q, const float *x, size_t n, int passes, int reps)
{
	double		gbps[MAX_REPS];
	size_t		bytes = n * dim * sizeof(float);
	int			cosine = strcmp(op, "cosine") == 0;

	/* warm-up pass (and page-in) */
	sink_f = cosine ? scan_cosine(k, dim, q, x, n) : scan_l2(k, dim, q, x, n);
	for (int r = 0; r < reps; r++)
	{
		double		t0 = now(),
					t;
		float		acc = 0.0f;

		for (int p = 0; p < passes; p++)
			acc += cosine ? scan_cosine(k, dim, q, x, n) : scan_l2(k, dim, q, x, n);
		t = now() - t0;
		sink_f = acc;
		gbps[r] = (double) bytes * passes / t / 1e9;
	}
	snprintf(res->kernel, sizeof(res->kernel), "%s", k->name);
	snprintf(res->op, sizeof(res->op), "%s", op);
	res->dim = dim;
	res->where = where;
	res->bytes = bytes;
	res->gbps = median(gbps, reps);
	res->gbps_min = gbps[0];
	res->gbps_max = gbps[reps - 1];
	res->ns_per_vec = dim * sizeof(float) / res->gbps;
}

/* Passes over a small array that take about MIN_REP_SECONDS. */
static int
calibrate(const VecKernels *k, const char *op, int dim, const float *q, const float *x, size_t n)
{
	int			passes = 1;
	int			cosine = strcmp(op, "cosine") == 0;

	for (;;)
	{
		double		t0 = now();

		for (int p = 0; p < passes; p++)
			sink_f = cosine ? scan_cosine(k, dim, q, x, n) : scan_l2(k, dim, q, x, n);
		if (now() - t0 >= MIN_REP_SECONDS / 4 || passes >= (1 << 24))
			return passes * 4;
		passes *= 2;
	}
}

/* Results agree with a double-precision reference on a few vectors? */
static int
sanity_check(const VecKernels *k, int dim, const float *q, const float *x)
{
	for (int i = 0; i < 8; i++)
	{
		const float *v = x + (size_t) i * dim;
		double		ab = 0,
					aa = 0,
					bb = 0,
					l2 = 0;
		float		fab,
					faa,
					fbb,
					fl2;

		for (int j = 0; j < dim; j++)
		{
			ab += (double) q[j] * v[j];
			aa += (double) q[j] * q[j];
			bb += (double) v[j] * v[j];
			l2 += ((double) q[j] - v[j]) * ((double) q[j] - v[j]);
		}
		k->cosparts(dim, q, v, &fab, &faa, &fbb);
		fl2 = k->l2sq(dim, q, v);
		if (fabs(fab - ab) > 1e-4 * (sqrt(aa * bb) + 1) || fabs(faa - aa) > 1e-4 * (aa + 1) ||
			fabs(fbb - bb) > 1e-4 * (bb + 1) || fabs(fl2 - l2) > 1e-4 * (l2 + 1))
		{
			fprintf(stderr, "bench_kernels: %s gives wrong results at dim %d\n", k->name, dim);
			return 0;
		}
	}
	return 1;
}

/*
 * Seconds to read the buffer once, summing it as 64-bit integers with
 * 128-bit loads into four independent sums (SSE2 or its SIMDe equivalent,
 * so the loop is limited by memory, not by the adds).
 */
static double
sum_read(const void *buf, size_t bytes)
{
	const simde__m128i *p = buf;
	size_t		n = bytes / sizeof(simde__m128i);
	simde__m128i s0 = simde_mm_setzero_si128(),
				s1 = s0,
				s2 = s0,
				s3 = s0;
	uint64_t	lanes[2];
	double		t0 = now();

	for (size_t i = 0; i + 4 <= n; i += 4)
	{
		s0 = simde_mm_add_epi64(s0, simde_mm_load_si128(p + i));
		s1 = simde_mm_add_epi64(s1, simde_mm_load_si128(p + i + 1));
		s2 = simde_mm_add_epi64(s2, simde_mm_load_si128(p + i + 2));
		s3 = simde_mm_add_epi64(s3, simde_mm_load_si128(p + i + 3));
	}
	s0 = simde_mm_add_epi64(simde_mm_add_epi64(s0, s1), simde_mm_add_epi64(s2, s3));
	simde_mm_storeu_si128((simde__m128i *) lanes, s0);
	sink_u = lanes[0] + lanes[1];
	return now() - t0;
}

static void
memory_bandwidth(float *big, size_t big_bytes, int reps, double *copy_gbps, double *read_gbps)
{
	double		cg[MAX_REPS],
				rg[MAX_REPS];
	char	   *dst = alloc_or_die(big_bytes);

	memset(dst, 1, big_bytes);	/* page in */
	memcpy(dst, big, big_bytes);
	for (int r = 0; r < reps; r++)
	{
		double		t0 = now();

		memcpy(dst, big, big_bytes);
		cg[r] = big_bytes / (now() - t0) / 1e9;
		sink_u = (uint8_t) dst[(size_t) r * 4099 % big_bytes];
	}
	for (int r = 0; r < reps; r++)
		rg[r] = big_bytes / sum_read(big, big_bytes) / 1e9;
	free(dst);
	*copy_gbps = median(cg, reps);
	*read_gbps = median(rg, reps);
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: bench_kernels [-b BIG_MIB] [-s SMALL_KIB] [-r REPS] [-d DIM,DIM,...] [-k KERNEL]\n"
			"  defaults: -b 1024 -s 256 -r 5 -d 100,384,768,1536, every kernel the CPU supports\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t		big_mib = 1024,
				small_kib = 256;
	int			reps = 5;
	int			dims[MAX_DIMS] = {100, 384, 768, 1536};
	int			n_dims = 4;
	const char *only = NULL;
	const char *ops[] = {"cosine", "l2"};
	int			opt;
	size_t		big_bytes,
				small_bytes;
	float	   *big,
			   *small,
			   *query;
	double		copy_gbps,
				read_gbps;
	int			ok = 1;

	while ((opt = getopt(argc, argv, "b:s:r:d:k:h")) != -1)
	{
		switch (opt)
		{
			case 'b':
				big_mib = strtoul(optarg, NULL, 10);
				break;
			case 's':
				small_kib = strtoul(optarg, NULL, 10);
				break;
			case 'r':
				reps = atoi(optarg);
				break;
			case 'd':
				{
					char	   *s = optarg;

					n_dims = 0;
					while (*s && n_dims < MAX_DIMS)
					{
						char	   *end;
						long		d = strtol(s, &end, 10);

						if (end == s || d <= 0 || d > 16000)
							usage();
						dims[n_dims++] = (int) d;
						s = *end == ',' ? end + 1 : end;
						if (*end && *end != ',')
							usage();
					}
					break;
				}
			case 'k':
				only = optarg;
				break;
			default:
				usage();
		}
	}
	if (reps < 1 || reps > MAX_REPS || big_mib < 1 || small_kib < 16 || n_dims == 0)
		usage();

	big_bytes = big_mib << 20;
	small_bytes = small_kib << 10;
	big = alloc_or_die(big_bytes);
	small = alloc_or_die(small_bytes);
	query = alloc_or_die(16000 * sizeof(float));
	fill_random(big, big_bytes / sizeof(float), 42);
	fill_random(small, small_bytes / sizeof(float), 43);
	fill_random(query, 16000, 44);

	printf("bench_kernels: one thread, one query against an array of vectors, median of %d\n", reps);
	printf("  big array %zu MiB (one pass per repetition), small array %zu KiB (in cache)\n\n",
		   big_mib, small_kib);

	memory_bandwidth(big, big_bytes, reps, &copy_gbps, &read_gbps);
	printf("memory bandwidth (%zu MiB buffer, counted as bytes read):\n", big_mib);
	printf("  memcpy     %7.2f GB/s\n", copy_gbps);
	printf("  sum read   %7.2f GB/s\n\n", read_gbps);

	for (int i = 0; i < VecKernelCount(); i++)
	{
		bool		supported;
		const VecKernels *k = VecKernelByIndex(i, &supported);

		if (k == NULL || (only && strcmp(only, k->name) != 0))
			continue;
		if (!supported)
		{
			printf("kernel %s: not supported by this CPU, skipped\n", k->name);
			continue;
		}
		for (int di = 0; di < n_dims; di++)
		{
			int			dim = dims[di];
			size_t		n_big = big_bytes / (dim * sizeof(float));
			size_t		n_small = small_bytes / (dim * sizeof(float));

			if (n_small == 0)
				n_small = 1;
			if (!sanity_check(k, dim, query, big))
				ok = 0;
			for (int o = 0; o < 2; o++)
			{
				int			passes = calibrate(k, ops[o], dim, query, small, n_small);

				if (n_results + 2 > MAX_RESULTS)
					break;
				measure(&results[n_results++], k, ops[o], dim, "big", query, big, n_big, 1, reps);
				measure(&results[n_results++], k, ops[o], dim, "small", query, small, n_small, passes, reps);
			}
		}
	}

	printf("\n%-8s %-7s %5s   %12s %9s   %12s %9s   %s\n",
		   "kernel", "metric", "dim", "big GB/s", "ns/vec", "small GB/s", "ns/vec", "big / sum read");
	for (int i = 0; i + 1 < n_results; i += 2)
	{
		Result	   *b = &results[i],
				   *s = &results[i + 1];

		printf("%-8s %-7s %5d   %12.2f %9.1f   %12.2f %9.1f   %6.2f\n",
			   b->kernel, b->op, b->dim, b->gbps, b->ns_per_vec, s->gbps, s->ns_per_vec,
			   b->gbps / read_gbps);
	}

	printf("\ncsv,kernel,metric,dim,array,array_bytes,gb_per_s,gb_per_s_min,gb_per_s_max,ns_per_vector\n");
	printf("csv,memcpy,-,-,big,%zu,%.3f,,,\n", big_bytes, copy_gbps);
	printf("csv,sum_read,-,-,big,%zu,%.3f,,,\n", big_bytes, read_gbps);
	for (int i = 0; i < n_results; i++)
	{
		Result	   *r = &results[i];

		printf("csv,%s,%s,%d,%s,%zu,%.3f,%.3f,%.3f,%.2f\n", r->kernel, r->op, r->dim, r->where,
			   r->bytes, r->gbps, r->gbps_min, r->gbps_max, r->ns_per_vec);
	}
	free(big);
	free(small);
	free(query);
	return ok ? 0 : 1;
}
