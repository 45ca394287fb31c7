/*-------------------------------------------------------------------------
 *
 * ivfkmeans.c
 *		k-means for ivfflat builds: k-means++ seeding, then Lloyd
 *		iterations accelerated with Hamerly's bounds.
 *
 * Hamerly's algorithm (G. Hamerly, "Making k-means even faster", SDM
 * 2010) keeps for every point an upper bound on the distance to its
 * center and a lower bound on the distance to every other center; when
 * the upper bound is below the lower one (or below half the distance from
 * its center to the nearest other center) the point cannot change
 * cluster and no distance is computed.  The result is the same as
 * Lloyd's.  In many dimensions the bounds skip few points (on GloVe-100
 * almost none: the second nearest center is about as near as the
 * nearest, and every center's move lowers every lower bound), so the
 * points that need every distance are measured IVF_ASSIGN_TILE at a time
 * (IvfNearestCenters), which costs less per distance than one at a time.
 *
 * Distances are L2 (through the SIMD kernels).  Spherical k-means, for
 * cosine distance, is the same on unit vectors with every center scaled
 * back to unit length after each update: on the unit sphere the nearest
 * center by L2 is the one of the largest inner product.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfkmeans.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

#define IVF_KMEANS_SEED		20261122
/*
 * Lloyd iterations at most.  In 100 dimensions Hamerly's bounds prune
 * little (about 10% of the points per iteration on GloVe-100), so every
 * iteration costs nearly samples x centers distances.  On 100,000 GloVe-100
 * rows with 575 lists (cosine) a build with 20 iterations (all of them
 * ran) took 3.6 s, with 10 2.3 s, and recall at probes 8, 16 and 32 moved
 * by less than 0.01 (with 4 iterations too).
 */
#define IVF_KMEANS_MAX_ITER	10

/*
 * Stop iterating once fewer than this share of the points change cluster
 */
#define IVF_KMEANS_MIN_CHANGED	0.001

/*
 * k-means++ seeding costs a distance per sample and center: it draws from
 * a random subset of this many samples per center only (the Lloyd
 * iterations then use every sample)
 */
#define IVF_KMEANS_SEED_PER_CENTER 10

/* Most centers for which the center-to-center distances are computed */
#define IVF_KMEANS_MAX_PAIRS	4096

static inline float
l2(const float *a, const float *b, int dims)
{
	return sqrtf(VecActiveKernels->l2sq(dims, a, b));
}

/*
 * Squared L2 distances from x to centers j .. j+3 (those past k repeat the
 * last center), with one pass over x
 */
static inline void
dist4(const float *x, const float *centers, int j, int k, int dims, float *out)
{
	const float *b[4];

	for (int t = 0; t < 4; t++)
		b[t] = centers + (Size) Min(j + t, k - 1) * dims;
	VecActiveKernels->l2sq4(dims, x, b, out);
}

/*
 * Squared L2 distances from x to each of k centers (contiguous).  The
 * build, inserts and L2 scans all measure centers with this, so that they
 * agree to the last bit on which is nearest.
 */
void
IvfCenterDistances(const float *x, const float *centers, int k, int dims, float *out)
{
	for (int j = 0; j < k; j += 4)
	{
		float		d[4];

		dist4(x, centers, j, k, dims, d);
		for (int t = 0; t < 4 && j + t < k; t++)
			out[j + t] = d[t];
	}
}

/*
 * The nearest of k centers to x (squared L2, the first of equals)
 */
int
IvfNearestCenter(const float *x, const float *centers, int k, int dims)
{
	int			best = 0;
	float		bestDist = FLT_MAX;

	for (int j = 0; j < k; j += 4)
	{
		float		d[4];

		dist4(x, centers, j, k, dims, d);
		for (int t = 0; t < 4 && j + t < k; t++)
		{
			if (d[t] < bestDist)
			{
				bestDist = d[t];
				best = j + t;
			}
		}
	}
	return best;
}

/*
 * The nearest center of each of m points x[0..m-1] (squared L2, the first
 * of equals) into best[], with its distance into d1[] and the second
 * nearest distance into d2[] (either may be NULL; FLT_MAX when k = 1).
 * The results are those of IvfNearestCenter for each point, to the last
 * bit (the l2sq2x4 kernel measures each pair as l2sq4 does); the points
 * are measured two at a time against four centers at a time, and
 * IVF_ASSIGN_TILE points against the same centers while these are in the
 * L1 cache.
 */
void
IvfNearestCenters(const float *const *x, int m, const float *centers, int k, int dims,
				  int *best, float *d1, float *d2)
{
	float		b1[IVF_ASSIGN_TILE];
	float		b2[IVF_ASSIGN_TILE];
	int			bi[IVF_ASSIGN_TILE];
	float		dist[IVF_ASSIGN_TILE][IVF_ASSIGN_CHUNK];

	for (int r0 = 0; r0 < m; r0 += IVF_ASSIGN_TILE)
	{
		int			mt = Min(IVF_ASSIGN_TILE, m - r0);

		for (int r = 0; r < mt; r++)
		{
			b1[r] = b2[r] = FLT_MAX;
			bi[r] = 0;
		}
		for (int j0 = 0; j0 < k; j0 += IVF_ASSIGN_CHUNK)
		{
			int			kc = Min(IVF_ASSIGN_CHUNK, k - j0);

			/* the distances of the tile's points to a chunk of centers */
			for (int j = 0; j < kc; j += 4)
			{
				const float *c[4];

				for (int t = 0; t < 4; t++)
					c[t] = centers + (Size) Min(j0 + j + t, k - 1) * dims;
				for (int r = 0; r < mt; r += 2)
				{
					const float *a[2];
					float		d[8];

					a[0] = x[r0 + r];
					a[1] = x[r0 + Min(r + 1, mt - 1)];
					VecActiveKernels->l2sq2x4(dims, a, c, d);
					memcpy(&dist[r][j], d, sizeof(float) * 4);
					memcpy(&dist[Min(r + 1, IVF_ASSIGN_TILE - 1)][j], d + 4, sizeof(float) * 4);
				}
			}

			/* then the nearest two of each point, in center order */
			for (int r = 0; r < mt; r++)
			{
				const float *dr = dist[r];
				float		n1 = b1[r],
							n2 = b2[r];
				int			ni = bi[r];

				for (int j = 0; j < kc; j++)
				{
					float		dd = dr[j];

					if (dd < n2)
					{
						if (dd < n1)
						{
							n2 = n1;
							n1 = dd;
							ni = j0 + j;
						}
						else
							n2 = dd;
					}
				}
				b1[r] = n1;
				b2[r] = n2;
				bi[r] = ni;
			}
		}
		for (int r = 0; r < mt; r++)
		{
			best[r0 + r] = bi[r];
			if (d1)
				d1[r0 + r] = b1[r];
			if (d2)
				d2[r0 + r] = b2[r];
		}
	}
}

/*
 * Hamerly's full step for the points idx[0..m-1]: nearest center, the
 * distance to it (upper bound) and to the second nearest (lower bound);
 * returns how many points changed center
 */
static int
full_assign_batch(const float *x, const int *idx, int m, const float *centers, int k, int dims,
				  int *a, float *u, float *l)
{
	const float *rows[IVF_ASSIGN_TILE] = {NULL};
	int			best[IVF_ASSIGN_TILE];
	float		d1[IVF_ASSIGN_TILE];
	float		d2[IVF_ASSIGN_TILE];
	int			changed = 0;

	Assert(m <= IVF_ASSIGN_TILE);
	for (int r = 0; r < m; r++)
		rows[r] = x + (Size) idx[r] * dims;
	IvfNearestCenters(rows, m, centers, k, dims, best, d1, d2);
	for (int r = 0; r < m; r++)
	{
		int			i = idx[r];

		if (a[i] != best[r])
			changed++;
		a[i] = best[r];
		u[i] = sqrtf(d1[r]);
		l[i] = k > 1 ? sqrtf(d2[r]) : FLT_MAX;
	}
	return changed;
}

/*
 * k-means++ seeding (Arthur and Vassilvitskii): every next center is a
 * sample drawn with probability proportional to its squared distance to
 * the nearest center chosen so far
 */
static void
seed_centers(const float *x, int n, int dims, int k, float *centers, pg_prng_state *prng)
{
	float	   *minDist = palloc_extended(sizeof(float) * n, MCXT_ALLOC_HUGE);
	int			first = (int) pg_prng_uint64_range(prng, 0, n - 1);

	memcpy(centers, x + (Size) first * dims, sizeof(float) * dims);
	for (int i = 0; i < n; i++)
		minDist[i] = FLT_MAX;

	for (int c = 1; c <= k; c++)
	{
		const float *last = centers + (Size) (c - 1) * dims;
		double		total = 0;
		double		r;
		int			chosen = n - 1;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i += 4)
		{
			const float *b[4];
			float		d[4];

			for (int t = 0; t < 4; t++)
				b[t] = x + (Size) Min(i + t, n - 1) * dims;
			VecActiveKernels->l2sq4(dims, last, b, d);
			for (int t = 0; t < 4 && i + t < n; t++)
			{
				if (d[t] < minDist[i + t])
					minDist[i + t] = d[t];
				total += minDist[i + t];
			}
		}
		if (c == k)
			break;

		/* all remaining points sit on centers: any will do */
		r = pg_prng_double(prng) * total;
		for (int i = 0; i < n; i++)
		{
			r -= minDist[i];
			if (r < 0)
			{
				chosen = i;
				break;
			}
		}
		if (total == 0)
			chosen = (int) pg_prng_uint64_range(prng, 0, n - 1);
		memcpy(centers + (Size) c * dims, x + (Size) chosen * dims, sizeof(float) * dims);
	}
	pfree(minDist);
}

/*
 * Cluster n samples of dims dimensions into k centers (n >= k >= 1),
 * written to centers[k * dims].  Reorders the samples.
 */
void
IvfKmeans(float *x, int n, int dims, int k, bool spherical, float *centers)
{
	pg_prng_state prng;
	int			nseed;
	int			iter;
	double		ndist;
	int		   *a = palloc_extended(sizeof(int) * n, MCXT_ALLOC_HUGE);
	float	   *u = palloc_extended(sizeof(float) * n, MCXT_ALLOC_HUGE);
	float	   *l = palloc_extended(sizeof(float) * n, MCXT_ALLOC_HUGE);
	double	   *sums = palloc_extended(sizeof(double) * k * dims, MCXT_ALLOC_HUGE);
	int		   *counts = palloc(sizeof(int) * k);
	float	   *s = palloc(sizeof(float) * k);
	float	   *moved = palloc(sizeof(float) * k);
	float	   *old = palloc(sizeof(float) * dims);
	int			idx[IVF_ASSIGN_TILE];
	int			npending;

	Assert(n >= k && k >= 1);
	pg_prng_seed(&prng, IVF_KMEANS_SEED);

	/* move a random subset of the samples to the front, and seed from it */
	nseed = Min(n, k * IVF_KMEANS_SEED_PER_CENTER);
	for (int i = 0; i < nseed && nseed < n; i++)
	{
		int			j = (int) pg_prng_uint64_range(&prng, i, n - 1);

		memcpy(old, x + (Size) i * dims, sizeof(float) * dims);
		memcpy(x + (Size) i * dims, x + (Size) j * dims, sizeof(float) * dims);
		memcpy(x + (Size) j * dims, old, sizeof(float) * dims);
	}
	seed_centers(x, nseed, dims, k, centers, &prng);

	for (int i = 0; i < n; i += IVF_ASSIGN_TILE)
	{
		int			m = Min(IVF_ASSIGN_TILE, n - i);

		CHECK_FOR_INTERRUPTS();
		for (int r = 0; r < m; r++)
		{
			idx[r] = i + r;
			a[i + r] = -1;
		}
		full_assign_batch(x, idx, m, centers, k, dims, a, u, l);
	}

	ndist = (double) nseed * k + (double) n * k;
	for (iter = 0; iter < IVF_KMEANS_MAX_ITER; iter++)
	{
		int			changed = 0;
		float		maxMoved = 0,
					secondMoved = 0;
		int			maxMovedAt = -1;

		/* new centers: the means of their points */
		memset(sums, 0, sizeof(double) * k * dims);
		memset(counts, 0, sizeof(int) * k);
		for (int i = 0; i < n; i++)
		{
			const float *xi = x + (Size) i * dims;
			double	   *sum = sums + (Size) a[i] * dims;

			for (int d = 0; d < dims; d++)
				sum[d] += xi[d];
			counts[a[i]]++;
		}
		for (int j = 0; j < k; j++)
		{
			float	   *c = centers + (Size) j * dims;

			CHECK_FOR_INTERRUPTS();
			memcpy(old, c, sizeof(float) * dims);
			if (counts[j] == 0)
			{
				/* an empty cluster takes the point farthest from its center */
				int			far = 0;

				for (int i = 1; i < n; i++)
					if (u[i] > u[far])
						far = i;
				memcpy(c, x + (Size) far * dims, sizeof(float) * dims);
				a[far] = j;
				u[far] = 0;
				l[far] = 0;		/* its old center is now another one */
			}
			else
			{
				for (int d = 0; d < dims; d++)
					c[d] = (float) (sums[(Size) j * dims + d] / counts[j]);
			}
			if (spherical)
				IvfNormalize(c, dims);
			moved[j] = l2(old, c, dims);
			if (moved[j] > maxMoved)
			{
				secondMoved = maxMoved;
				maxMoved = moved[j];
				maxMovedAt = j;
			}
			else if (moved[j] > secondMoved)
				secondMoved = moved[j];
		}

		/* bounds follow the centers */
		for (int i = 0; i < n; i++)
		{
			u[i] += moved[a[i]];
			l[i] -= a[i] == maxMovedAt ? secondMoved : maxMoved;
		}

		/*
		 * Half the distance from each center to its nearest other center
		 * (k^2 distances: beyond IVF_KMEANS_MAX_PAIRS centers only the
		 * lower bounds prune)
		 */
		for (int j = 0; j < k && k > IVF_KMEANS_MAX_PAIRS; j++)
			s[j] = 0;
		for (int j = 0; j < k && k <= IVF_KMEANS_MAX_PAIRS; j++)
		{
			float		best = FLT_MAX;

			CHECK_FOR_INTERRUPTS();
			for (int j2 = 0; j2 < k; j2++)
			{
				float		d;

				if (j2 == j)
					continue;
				d = l2(centers + (Size) j * dims, centers + (Size) j2 * dims, dims);
				if (d < best)
					best = d;
			}
			s[j] = best / 2;
		}

		/*
		 * reassign the points whose bounds allow a change (those that need
		 * every distance are measured IVF_ASSIGN_TILE at a time: the centers
		 * do not move meanwhile)
		 */
		npending = 0;
		for (int i = 0; i < n; i++)
		{
			const float *xi = x + (Size) i * dims;
			float		m = Max(s[a[i]], l[i]);

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			if (u[i] <= m)
				continue;
			u[i] = l2(xi, centers + (Size) a[i] * dims, dims);
			ndist++;
			if (u[i] <= m)
				continue;
			idx[npending++] = i;
			ndist += k;
			if (npending == IVF_ASSIGN_TILE)
			{
				changed += full_assign_batch(x, idx, npending, centers, k, dims, a, u, l);
				npending = 0;
			}
		}
		if (npending > 0)
			changed += full_assign_batch(x, idx, npending, centers, k, dims, a, u, l);
		if (changed <= n * IVF_KMEANS_MIN_CHANGED)
			break;
	}
	ereport(DEBUG1,
			(errmsg_internal("ivfflat k-means: %d samples, %d centers, %d iterations, %.0f distances",
							 n, k, Min(iter + 1, IVF_KMEANS_MAX_ITER), ndist)));

	pfree(a);
	pfree(u);
	pfree(l);
	pfree(sums);
	pfree(counts);
	pfree(s);
	pfree(moved);
	pfree(old);
}
