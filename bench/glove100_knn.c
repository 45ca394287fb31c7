/*-------------------------------------------------------------------------
 *
 * glove100_knn.c
 *		Exact cosine k-nearest-neighbour ground truth for .fvecs files.
 *
 *   glove100_knn BASE.fvecs QUERY.fvecs K OUT.ivecs [THREADS]
 *
 * OUT.ivecs (TEXMEX layout): per query an int32 K, then the K nearest base
 * row numbers (0-based), nearest first.  Distance is the cosine distance
 * 1 - q.b / (sqrt(q.q) * sqrt(b.b)) computed in double precision from the
 * raw float32 values; equal distances are ordered by the lower id.
 *
 * Two stages per query:
 *   1. a float32 screen over unit-length copies keeps the best K + EXTRA
 *	  candidates (queries are handled in groups against base blocks that stay
 *	  in cache);
 *   2. the candidates are re-scored in double precision and sorted.
 * The screen is only trusted when it is provably wide enough: every row it
 * dropped has a float32 distance >= the worst kept one, so its true distance
 * is at least that minus the float32 error bound.  If that is not clearly
 * worse than the K-th exact distance, the query falls back to an exact
 * double-precision scan of the whole base.  So the output does not depend on
 * the screen's rounding, and the file is built with -ffp-contract=off so the
 * double sums are plain IEEE operations in order on every machine.
 *
 * Threads split the queries (pthreads).  Build (see get_glove100.sh):
 *   cc -O3 [-mavx2 -mfma] -ffp-contract=off -pthread glove100_knn.c -lm
 *
 * bench/glove100_knn.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EXTRA
#define EXTRA	64				/* screened candidates beyond K */
#endif
#define QGROUP	16				/* queries sharing one pass over a base block */
#define BBLOCK	256				/* base rows per cache-resident block */

typedef struct
{
	float	   *x;
	long		n;
	int			d;
} Matrix;

typedef struct
{
	double		dist;
	int32_t		id;
} Neighbour;

typedef struct
{
	const Matrix *base;
	const Matrix *query;
	const float *ubase;			/* unit-length base rows */
	const float *uquery;		/* unit-length queries */
	const double *bnorm;		/* sqrt(b.b) of the raw base rows */
	int			k;
	long		q_begin;
	long		q_end;
	int32_t    *out;			/* query.n x k */
	long		fallbacks;
} Job;

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "glove100_knn: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		fail("out of memory", NULL);
	return p;
}

static Matrix
read_fvecs(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	Matrix		m;
	int32_t		d;
	long		bytes;

	if (f == NULL)
		fail(path, strerror(errno));
	if (fread(&d, 4, 1, f) != 1 || d <= 0 || d > 65536)
		fail(path, "bad dimension in the first row");
	if (fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		fail(path, "cannot seek");
	if (bytes % (4L * (d + 1)) != 0)
		fail(path, "size is not a whole number of rows");
	m.n = bytes / (4L * (d + 1));
	m.d = d;
	m.x = xmalloc((size_t) m.n * d * sizeof(float));
	for (long i = 0; i < m.n; i++)
	{
		int32_t		di;

		if (fread(&di, 4, 1, f) != 1 || di != d)
			fail(path, "rows of different dimensions");
		if (fread(m.x + i * d, sizeof(float), d, f) != (size_t) d)
			fail(path, "short read");
	}
	fclose(f);
	return m;
}

/* sum of products in double precision, in index order */
static double
dot_double(const float *a, const float *b, int d)
{
	double		s = 0.0;

	for (int j = 0; j < d; j++)
		s += (double) a[j] * (double) b[j];
	return s;
}

/* float32 dot product with 8 independent partial sums (vectorises) */
static inline float
dot_float(const float *a, const float *b, int d)
{
	float		acc[8] = {0};
	float		s;
	int			j = 0;

	for (; j + 8 <= d; j += 8)
		for (int l = 0; l < 8; l++)
			acc[l] += a[j + l] * b[j + l];
	s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
	for (; j < d; j++)
		s += a[j] * b[j];
	return s;
}

/* unit-length float copy of every row; zero rows stay zero */
static float *
unit_rows(const Matrix *m, double *norms)
{
	float	   *u = xmalloc((size_t) m->n * m->d * sizeof(float));

	for (long i = 0; i < m->n; i++)
	{
		const float *row = m->x + i * m->d;
		double		norm = sqrt(dot_double(row, row, m->d));

		if (norms)
			norms[i] = norm;
		for (int j = 0; j < m->d; j++)
			u[i * m->d + j] = norm > 0 ? (float) (row[j] / norm) : 0.0f;
	}
	return u;
}

/* a is farther than b: larger distance, or same distance and larger id */
static inline int
farther(const Neighbour *a, const Neighbour *b)
{
	return a->dist > b->dist || (a->dist == b->dist && a->id > b->id);
}

static int
cmp_neighbour(const void *pa, const void *pb)
{
	const Neighbour *a = pa, *b = pb;

	return farther(a, b) ? 1 : (farther(b, a) ? -1 : 0);
}

/* Bounded max-heap (farthest on top) of the best cap neighbours seen. */
static inline void
keep_best(Neighbour *heap, int *len, int cap, Neighbour c)
{
	int			i;

	if (*len < cap)
	{
		i = (*len)++;
		while (i > 0 && farther(&c, &heap[(i - 1) / 2]))
		{
			heap[i] = heap[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		heap[i] = c;
		return;
	}
	if (!farther(&heap[0], &c))
		return;
	i = 0;
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					m = -1;
		const Neighbour *top = &c;

		if (l < cap && farther(&heap[l], top))
		{
			m = l;
			top = &heap[l];
		}
		if (r < cap && farther(&heap[r], top))
			m = r;
		if (m < 0)
			break;
		heap[i] = heap[m];
		i = m;
	}
	heap[i] = c;
}

static inline double
cosine_distance(const float *q, double qnorm, const float *b, double bnorm, int d)
{
	double		denom = qnorm * bnorm;

	return denom > 0 ? 1.0 - dot_double(q, b, d) / denom : 1.0;
}

/* Exact scan of the whole base for one query (fallback path). */
static void
exact_query(const Job *job, long q, Neighbour *heap, int32_t *out)
{
	const Matrix *base = job->base;
	const float *qv = job->query->x + q * base->d;
	double		qnorm = sqrt(dot_double(qv, qv, base->d));
	int			len = 0;

	for (long b = 0; b < base->n; b++)
	{
		Neighbour	c = {cosine_distance(qv, qnorm, base->x + b * base->d, job->bnorm[b], base->d), (int32_t) b};

		keep_best(heap, &len, job->k, c);
	}
	qsort(heap, len, sizeof(Neighbour), cmp_neighbour);
	for (int i = 0; i < job->k; i++)
		out[i] = heap[i].id;
}

static void *
worker(void *arg)
{
	Job		   *job = arg;
	const Matrix *base = job->base;
	int			d = base->d;
	int			cap = job->k + EXTRA;
	/* float32 error bound of the screen's 1 - u.v for unit vectors, widened */
	double		slack = 4.0 * (d + 16) * ldexp(1.0, -24);
	Neighbour  *heaps = xmalloc(sizeof(Neighbour) * cap * QGROUP);
	Neighbour  *scratch = xmalloc(sizeof(Neighbour) * job->k);

	if (cap > base->n)
		cap = (int) base->n;

	for (long q0 = job->q_begin; q0 < job->q_end; q0 += QGROUP)
	{
		int			nq = (int) (job->q_end - q0 < QGROUP ? job->q_end - q0 : QGROUP);
		int			len[QGROUP] = {0};

		/* stage 1: float32 screen */
		for (long b0 = 0; b0 < base->n; b0 += BBLOCK)
		{
			long		b1 = b0 + BBLOCK < base->n ? b0 + BBLOCK : base->n;

			for (int qi = 0; qi < nq; qi++)
			{
				const float *qv = job->uquery + (q0 + qi) * d;
				Neighbour  *heap = heaps + qi * cap;

				for (long b = b0; b < b1; b++)
				{
					double		dist = 1.0f - dot_float(qv, job->ubase + b * d, d);

					if (len[qi] == cap && dist > heap[0].dist)
						continue;
					keep_best(heap, &len[qi], cap, (Neighbour) {dist, (int32_t) b});
				}
			}
		}

		/* stage 2: exact re-scoring, then check that the screen was wide enough */
		for (int qi = 0; qi < nq; qi++)
		{
			long		q = q0 + qi;
			const float *qv = job->query->x + q * d;
			double		qnorm = sqrt(dot_double(qv, qv, d));
			Neighbour  *heap = heaps + qi * cap;
			double		screen_worst = heap[0].dist;	/* root = farthest kept */
			int32_t    *out = job->out + q * job->k;

			for (int c = 0; c < len[qi]; c++)
				heap[c].dist = cosine_distance(qv, qnorm, base->x + (long) heap[c].id * d,
											   job->bnorm[heap[c].id], d);
			qsort(heap, len[qi], sizeof(Neighbour), cmp_neighbour);

			if (len[qi] < base->n && !(heap[job->k - 1].dist < screen_worst - slack))
			{
				job->fallbacks++;
				exact_query(job, q, scratch, out);
				continue;
			}
			for (int c = 0; c < job->k; c++)
				out[c] = heap[c].id;
		}
	}
	free(heaps);
	free(scratch);
	return NULL;
}

int
main(int argc, char **argv)
{
	Matrix		base,
				query;
	int			k,
				nthreads;
	float	   *ubase,
			   *uquery;
	double	   *bnorm;
	int32_t    *out;
	pthread_t  *threads;
	Job		   *jobs;
	long		fallbacks = 0;
	FILE	   *f;

	if (argc < 5 || argc > 6)
	{
		fprintf(stderr, "usage: glove100_knn BASE.fvecs QUERY.fvecs K OUT.ivecs [THREADS]\n");
		return 2;
	}
	base = read_fvecs(argv[1]);
	query = read_fvecs(argv[2]);
	k = atoi(argv[3]);
	nthreads = argc > 5 ? atoi(argv[5]) : 1;
	if (base.d != query.d)
		fail("base and query dimensions differ", NULL);
	if (k <= 0 || k > base.n)
		fail("K must be between 1 and the number of base rows", NULL);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > query.n)
		nthreads = (int) query.n;

	bnorm = xmalloc(sizeof(double) * base.n);
	ubase = unit_rows(&base, bnorm);
	uquery = unit_rows(&query, NULL);
	out = xmalloc(sizeof(int32_t) * (size_t) query.n * k);
	threads = xmalloc(sizeof(pthread_t) * nthreads);
	jobs = xmalloc(sizeof(Job) * nthreads);

	for (int t = 0; t < nthreads; t++)
	{
		jobs[t] = (Job) {&base, &query, ubase, uquery, bnorm, k,
			query.n * t / nthreads, query.n * (t + 1) / nthreads, out, 0};
		if (pthread_create(&threads[t], NULL, worker, &jobs[t]) != 0)
			fail("pthread_create failed", NULL);
	}
	for (int t = 0; t < nthreads; t++)
	{
		pthread_join(threads[t], NULL);
		fallbacks += jobs[t].fallbacks;
	}

	f = fopen(argv[4], "wb");
	if (f == NULL)
		fail(argv[4], strerror(errno));
	for (long q = 0; q < query.n; q++)
	{
		int32_t		kk = k;

		if (fwrite(&kk, 4, 1, f) != 1 || fwrite(out + q * k, 4, k, f) != (size_t) k)
			fail(argv[4], "write failed");
	}
	if (fclose(f) != 0)
		fail(argv[4], "write failed");
	fprintf(stderr, "glove100_knn: %ld queries x %ld base rows, d=%d, k=%d, %d threads, %ld exact fallbacks\n",
			query.n, base.n, base.d, k, nthreads, fallbacks);
	return 0;
}
