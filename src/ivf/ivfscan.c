/*-------------------------------------------------------------------------
 *
 * ivfscan.c
 *		Index scans: ORDER BY column <op> query LIMIT n.
 *
 * The first call measures the query against every centroid and puts the
 * lists in a min-heap by distance, then reads every entry of the
 * ivfflat.probes nearest lists, measuring each vector where it lies on its
 * page (SIMD kernels, four entries per call, no copy), into a binary heap
 * that hands rows out nearest first.  With ivfflat.iterative_scan = relaxed_order, once those rows
 * are all out (a WHERE clause rejected them), the next ivfflat.probes
 * lists are read, and so on until ivfflat.max_probes lists have been read
 * (never fewer than ivfflat.probes): rows of a later batch can be nearer
 * than some of an earlier one, hence "relaxed".
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

/* A row found in a probed list */
typedef struct IvfCandidate
{
	float		dist;
	ItemPointerData tid;
} IvfCandidate;

/* A list and its centroid's distance to the query */
typedef struct IvfProbe
{
	float		dist;
	int			list;
	BlockNumber startBlkno;
} IvfProbe;

typedef struct IvfScanOpaqueData
{
	MemoryContext ctx;			/* everything below lives here */
	HnswDistance dist;
	IvfMetaPageData meta;
	float	   *q;
	bool		started;
	IvfProbe   *order;			/* lists not probed yet: a min-heap */
	int			norder;
	float	   *cdist;			/* scratch: centroid distances, in list order */
	int			nprobed;		/* lists read so far */
	int			maxProbes;		/* lists this scan may read */
	int			step;			/* lists read per batch */
	IvfCandidate *heap;			/* min-heap of rows not returned yet */
	int			nheap;
	int			capheap;
} IvfScanOpaqueData;

typedef IvfScanOpaqueData *IvfScanOpaque;

/*
 * Start a scan
 */
IndexScanDesc
ivfflatbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfScanOpaque so = palloc0(sizeof(IvfScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat scan", ALLOCSET_DEFAULT_SIZES);
	HnswInitDistance(index, &so->dist);
	scan->opaque = so;
	return scan;
}

/*
 * Restart a scan, possibly with a new query vector
 */
void
ivfflatrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IvfScanOpaque so = scan->opaque;

	so->started = false;
	so->nheap = 0;
	so->nprobed = 0;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

/*
 * Is list a nearer to the query than list b (ties by list number)?
 */
static inline bool
probe_before(const IvfProbe *a, const IvfProbe *b)
{
	if (a->dist != b->dist)
		return a->dist < b->dist;
	return a->list < b->list;
}

/*
 * Restore the heap property of the lists below position i
 */
static void
probe_sift_down(IvfProbe *h, int n, int i)
{
	IvfProbe	x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && probe_before(&h[c + 1], &h[c]))
			c++;
		if (!probe_before(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * The nearest list not probed yet (the lists are a min-heap: only the
 * lists a scan reads are ever ordered)
 */
static IvfProbe
next_probe(IvfScanOpaque so)
{
	IvfProbe	top = so->order[0];

	so->norder--;
	if (so->norder > 0)
	{
		so->order[0] = so->order[so->norder];
		probe_sift_down(so->order, so->norder, 0);
	}
	return top;
}

/*
 * Restore the heap property below position i
 */
static void
sift_down(IvfCandidate *h, int n, int i)
{
	IvfCandidate x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].dist < h[c].dist)
			c++;
		if (h[c].dist >= x.dist)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Read every entry of one list into the heap's array (unordered)
 */
static void
read_list(IndexScanDesc scan, BlockNumber startBlkno)
{
	IvfScanOpaque so = scan->opaque;
	Relation	index = scan->indexRelation;
	int			dims = so->meta.dims;
	BlockNumber blkno = startBlkno;
	const VecKernels *k = VecActiveKernels;
	/*
	 * Under cosine, stored vectors and the query are unit length (or the
	 * query zero, where any order will do): |q - x|^2 / 2 - 1 = -q.x, so
	 * the L2 kernel orders them as the operator does
	 */
	bool		cosine = so->dist.metric == HNSW_METRIC_NEG_IP && so->dist.normalize;
	bool		l2 = so->dist.metric == HNSW_METRIC_L2SQ || cosine;
	bool		ip = so->dist.metric == HNSW_METRIC_NEG_IP && !cosine;

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfCheckPage(index, page, blkno, IVF_PAGE_ENTRY);
		maxoff = PageGetMaxOffsetNumber(page);
		if (so->nheap + maxoff > so->capheap)
		{
			so->capheap = Max(so->capheap * 2, so->nheap + maxoff + 256);
			so->heap = repalloc_huge(so->heap, sizeof(IvfCandidate) * so->capheap);
		}
		if (l2)
		{
			/* four entries per pass over the query (unit vectors under cosine) */
			const float *x[4];
			IvfCandidate *c[4];
			int			n = 0;

			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff + 3; off++)
			{
				if (off <= maxoff)
				{
					ItemId		itemid = PageGetItemId(page, off);
					IvfEntryTuple etup;

					if (!ItemIdIsNormal(itemid))
						continue;
					etup = (IvfEntryTuple) PageGetItem(page, itemid);
					c[n] = &so->heap[so->nheap++];
					c[n]->tid = etup->heaptid;
					x[n++] = etup->x;
				}
				else if (n == 0)
					break;
				else
				{
					/* pad the last group with its first entry */
					c[n] = NULL;
					x[n++] = x[0];
				}
				if (n == 4)
				{
					float		d[4];

					k->l2sq4(dims, so->q, x, d);
					for (int t = 0; t < 4 && c[t]; t++)
						c[t]->dist = cosine ? d[t] / 2 - 1 : d[t];
					n = 0;
				}
			}
		}
		else
		{
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
			{
				ItemId		itemid = PageGetItemId(page, off);
				IvfEntryTuple etup;
				IvfCandidate *c;

				if (!ItemIdIsNormal(itemid))
					continue;
				etup = (IvfEntryTuple) PageGetItem(page, itemid);
				c = &so->heap[so->nheap++];
				if (ip)
					c->dist = -k->dot(dims, so->q, etup->x);
				else
					c->dist = (float) HnswDist(&so->dist, dims, so->q, etup->x);
				c->tid = etup->heaptid;
			}
		}
		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Read the next batch of lists; false when the scan may read no more
 */
static bool
probe_more(IndexScanDesc scan)
{
	IvfScanOpaque so = scan->opaque;
	int			end = Min(so->nprobed + so->step, so->maxProbes);

	if (so->nprobed >= end)
		return false;
	for (; so->nprobed < end; so->nprobed++)
		read_list(scan, next_probe(so).startBlkno);
	for (int i = so->nheap / 2 - 1; i >= 0; i--)
		sift_down(so->heap, so->nheap, i);
	return true;
}

/*
 * First call after a (re)scan: the query vector and the order of the lists
 */
static void
start_scan(IndexScanDesc scan)
{
	IvfScanOpaque so = scan->opaque;
	Relation	index = scan->indexRelation;
	ScanKey		key = &scan->orderByData[0];
	IvfCache   *cache;
	int			dims;

	if (so->q == NULL)
	{
		so->meta = IvfGetCache(index)->meta;
		so->q = palloc(sizeof(float) * so->meta.dims);
		so->order = palloc(sizeof(IvfProbe) * so->meta.lists);
		so->cdist = palloc(sizeof(float) * so->meta.lists);
	}
	dims = so->meta.dims;

	/* a NULL query (or one without a direction, under cosine): any order */
	if ((key->sk_flags & SK_ISNULL) ||
		!HnswPrepareVector(&so->dist, index, key->sk_argument, so->q, dims))
		memset(so->q, 0, sizeof(float) * dims);

	/*
	 * Detoasting the query may have processed a relcache invalidation:
	 * fetch the cache again, and keep no pointer into it (the next one may
	 * come during the scan)
	 */
	cache = IvfGetCache(index);
	if (cache->meta.lists != so->meta.lists || cache->meta.dims != so->meta.dims)
		elog(ERROR, "ivfflat index \"%s\" changed during a scan", RelationGetRelationName(index));
	if (so->dist.metric == HNSW_METRIC_L2SQ)
		IvfCenterDistances(so->q, cache->lists[0].centroid, so->meta.lists, dims, so->cdist);
	else
		for (uint32 i = 0; i < so->meta.lists; i++)
			so->cdist[i] = (float) HnswDist(&so->dist, dims, so->q, cache->lists[i].centroid);
	for (uint32 i = 0; i < so->meta.lists; i++)
	{
		so->order[i].list = i;
		so->order[i].startBlkno = cache->lists[i].startBlkno;
		so->order[i].dist = so->cdist[i];
	}
	so->norder = so->meta.lists;
	for (int i = so->norder / 2 - 1; i >= 0; i--)
		probe_sift_down(so->order, so->norder, i);

	so->step = Min(ivfflat_probes, (int) so->meta.lists);
	so->maxProbes = so->step;
	if (ivfflat_iterative_scan != IVF_ITERATIVE_SCAN_OFF)
		so->maxProbes = Min(Max(ivfflat_max_probes, ivfflat_probes), (int) so->meta.lists);
	so->nprobed = 0;
	so->nheap = 0;
	if (so->heap == NULL)
	{
		so->capheap = 1024;
		so->heap = palloc(sizeof(IvfCandidate) * so->capheap);
	}
	probe_more(scan);
	so->started = true;
}

/*
 * Return the next heap row, nearest first (within a batch of lists)
 */
bool
ivfflatgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfScanOpaque so = scan->opaque;
	MemoryContext oldCtx;

	if (scan->orderByData == NULL)
		elog(ERROR, "cannot scan ivfflat index without order");
	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "ivfflat index scans only go forward");

	oldCtx = MemoryContextSwitchTo(so->ctx);
	if (!so->started)
	{
		start_scan(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}
	while (so->nheap == 0)
	{
		if (!probe_more(scan))
		{
			MemoryContextSwitchTo(oldCtx);
			return false;
		}
	}
	scan->xs_heaptid = so->heap[0].tid;
	so->heap[0] = so->heap[--so->nheap];
	if (so->nheap > 0)
		sift_down(so->heap, so->nheap, 0);
	MemoryContextSwitchTo(oldCtx);
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	return true;
}

/*
 * End a scan
 */
void
ivfflatendscan(IndexScanDesc scan)
{
	IvfScanOpaque so = scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
