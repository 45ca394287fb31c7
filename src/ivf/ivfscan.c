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
 * Quantized lists (sq8) hold codes, not vectors: the heap orders rows by
 * their estimated distances, and vecrec.ivfflat_rerank rows at a time are
 * taken from it, measured exactly on the table's vectors (fetched with the
 * scan's snapshot; rows it cannot see are dropped, the executor would
 * skip them anyway), and returned in exact distance order.  The first
 * vecrec.ivfflat_rerank rows of a scan are therefore in exact order, and
 * so is every later batch within itself.
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
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

/*
 * Scans of quantized lists wait on memory more than they compute: the
 * entry this many items ahead of the one measured is requested meanwhile
 * (its first two cache lines)
 */
#define IVF_PREFETCH_AHEAD 4
#if defined(__GNUC__) || defined(__clang__)
#define IVF_PREFETCH(p)		__builtin_prefetch(p)
#else
#define IVF_PREFETCH(p)		((void) (p))
#endif

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

	/* quantized lists: estimates, then exact re-ranking on the heap */
	IvfQuantizer quant;			/* kind IVF_QUANTIZER_NONE for flat lists */
	IvfQuantQuery qq;
	bool		bounded;		/* re-ranking: keep the best estimates apart */
	IvfCandidate *best;			/* max-heap of the rerank best estimates */
	int			nbest;
	bool		heapified;		/* the other candidates (heap) are a heap */
	IvfCandidate *ranked;		/* the current batch, in exact order */
	int			nranked;
	int			nextRanked;
	int			rerank;			/* batch size; 0: estimates only */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	IndexInfo  *indexInfo;
	EState	   *estate;
	float	   *xbuf;
	MemoryContext rowCtx;		/* reset for every row measured */
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
	so->nranked = so->nextRanked = 0;
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
 * Restore the max-heap property below position i
 */
static void
sift_down_max(IvfCandidate *h, int n, int i)
{
	IvfCandidate x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].dist > h[c].dist)
			c++;
		if (h[c].dist <= x.dist)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Quantized lists with re-ranking: a candidate just appended to the heap's
 * array (*c, its last element) joins the best so far if it is among the
 * rerank nearest estimates; the one it pushes out, or itself, stays in the
 * array for later batches.  Most candidates cost one comparison, and the
 * array is only ordered if a scan needs more than one batch.
 */
static inline void
keep_best(IvfScanOpaque so, IvfCandidate *c)
{
	if (so->nbest < so->rerank)
	{
		int			i = so->nbest++;

		/* sift up */
		while (i > 0 && so->best[(i - 1) / 2].dist < c->dist)
		{
			so->best[i] = so->best[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		so->best[i] = *c;
		so->nheap--;
	}
	else if (c->dist < so->best[0].dist)
	{
		IvfCandidate out = so->best[0];

		so->best[0] = *c;
		sift_down_max(so->best, so->nbest, 0);
		*c = out;
	}
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
		if (so->quant.kind == IVF_QUANTIZER_SQ8)
		{
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
			{
				ItemId		itemid = PageGetItemId(page, off);
				IvfSq8Entry e;
				IvfCandidate *c;

				/* the entry a few steps ahead is on its way meanwhile */
				if (off + IVF_PREFETCH_AHEAD <= maxoff)
				{
					const char *ahead = PageGetItem(page, PageGetItemId(page, off + IVF_PREFETCH_AHEAD));

					IVF_PREFETCH(ahead);
					IVF_PREFETCH(ahead + 64);
				}
				if (!ItemIdIsNormal(itemid))
					continue;
				e = (IvfSq8Entry) PageGetItem(page, itemid);
				c = &so->heap[so->nheap++];
				c->dist = IvfQuantDistance(&so->qq, dims, e, k);
				c->tid = e->heaptid;
				if (so->bounded)
					keep_best(so, c);
			}
		}
		else if (l2)
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
 * Make the candidates of the heap's array a min-heap
 */
static void
heapify(IvfScanOpaque so)
{
	for (int i = so->nheap / 2 - 1; i >= 0; i--)
		sift_down(so->heap, so->nheap, i);
	so->heapified = true;
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
	so->heapified = false;
	if (!so->bounded)
		heapify(so);
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
		cache = IvfGetCache(index);
		so->meta = cache->meta;
		so->q = palloc(sizeof(float) * so->meta.dims);
		so->order = palloc(sizeof(IvfProbe) * so->meta.lists);
		so->cdist = palloc(sizeof(float) * so->meta.lists);
		/* a copy of the parameters: the cache may go away */
		so->quant = cache->quant;
		if (so->quant.kind != IVF_QUANTIZER_NONE)
		{
			so->quant.lo = palloc(sizeof(float) * 2 * so->meta.dims);
			so->quant.step = so->quant.lo + so->meta.dims;
			memcpy(so->quant.lo, cache->quant.lo, sizeof(float) * 2 * so->meta.dims);
		}
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
	if (so->quant.kind != IVF_QUANTIZER_NONE)
	{
		if (so->qq.w)
			pfree(so->qq.w);
		IvfQuantPrepareQuery(&so->quant, so->q, so->dist.metric == HNSW_METRIC_L2SQ, &so->qq);
		if (so->best == NULL || so->rerank != vecrec_ivfflat_rerank)
		{
			so->rerank = vecrec_ivfflat_rerank;
			so->best = so->rerank > 0 ? palloc(sizeof(IvfCandidate) * so->rerank) : NULL;
			so->ranked = NULL;
		}
		so->bounded = so->rerank > 0;
		so->nbest = 0;
		so->nranked = so->nextRanked = 0;
	}
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
 * The nearest candidate left (reading more lists if the scan may); false
 * when there is none
 */
static bool
pop_candidate(IndexScanDesc scan, ItemPointer tid, float *dist)
{
	IvfScanOpaque so = scan->opaque;

	while (so->nheap == 0)
	{
		if (!probe_more(scan))
			return false;
	}
	if (!so->heapified)
		heapify(so);
	*tid = so->heap[0].tid;
	if (dist)
		*dist = so->heap[0].dist;
	so->heap[0] = so->heap[--so->nheap];
	if (so->nheap > 0)
		sift_down(so->heap, so->nheap, 0);
	return true;
}

/*
 * Set up what exact re-ranking needs: a heap fetch, a slot, and the index's
 * IndexInfo and an executor state to compute the indexed value (a column
 * or an expression) from a table row
 */
static void
begin_rerank(IndexScanDesc scan)
{
	IvfScanOpaque so = scan->opaque;

	so->fetch = table_index_fetch_begin(scan->heapRelation);
	so->slot = table_slot_create(scan->heapRelation, NULL);
	so->indexInfo = BuildIndexInfo(scan->indexRelation);
	so->estate = CreateExecutorState();
	GetPerTupleExprContext(so->estate)->ecxt_scantuple = so->slot;
	so->xbuf = palloc(sizeof(float) * so->meta.dims);
	so->rowCtx = AllocSetContextCreate(so->ctx, "ivfflat re-rank row", ALLOCSET_SMALL_SIZES);
}

/*
 * Exact distance of the query to the table row a candidate points at;
 * false if the scan's snapshot cannot see the row
 */
static bool
exact_distance(IndexScanDesc scan, ItemPointer tid, float *dist)
{
	IvfScanOpaque so = scan->opaque;
	bool		call_again = false;
	bool		all_dead = false;
	bool		found;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext oldCtx;

	found = table_index_fetch_tuple(so->fetch, tid, scan->xs_snapshot, so->slot, &call_again, &all_dead);
	if (!found)
		return false;
	oldCtx = MemoryContextSwitchTo(so->rowCtx);
	FormIndexDatum(so->indexInfo, so->slot, so->estate, values, isnull);
	found = !isnull[0] && HnswPrepareVector(&so->dist, scan->indexRelation, values[0], so->xbuf, so->meta.dims);
	if (found)
		*dist = (float) HnswDist(&so->dist, so->meta.dims, so->q, so->xbuf);
	MemoryContextSwitchTo(oldCtx);
	ResetPerTupleExprContext(so->estate);
	MemoryContextReset(so->rowCtx);
	ExecClearTuple(so->slot);
	return found;
}

/*
 * Order candidates by distance, ties by heap pointer
 */
static int
candidate_cmp(const void *a, const void *b)
{
	const IvfCandidate *ca = a;
	const IvfCandidate *cb = b;

	if (ca->dist != cb->dist)
		return ca->dist < cb->dist ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &ca->tid, (ItemPointer) &cb->tid);
}

/*
 * Take the next vecrec.ivfflat_rerank candidates by estimate, measure them
 * exactly on the table and sort them; false when no candidate is left.
 * Without a table (a scan with no heap relation) the estimates stand.
 */
static bool
rerank_batch(IndexScanDesc scan)
{
	IvfScanOpaque so = scan->opaque;
	int			n = 0;
	int			taken = 0;
	ItemPointerData tid;
	float		dist;

	if (so->ranked == NULL)
	{
		if (scan->heapRelation && so->fetch == NULL)
			begin_rerank(scan);
		so->ranked = palloc(sizeof(IvfCandidate) * so->rerank);
	}
	for (;;)
	{
		if (taken >= so->rerank)
			break;
		if (so->nbest > 0)
		{
			/*
			 * The best estimates of the first lists read: the whole first
			 * batch.  Later batches come from the others, in order.
			 */
			so->nbest--;
			tid = so->best[so->nbest].tid;
			dist = so->best[so->nbest].dist;
			if (so->nbest == 0)
				so->bounded = false;
		}
		else if (!pop_candidate(scan, &tid, &dist))
			break;
		CHECK_FOR_INTERRUPTS();
		taken++;
		if (scan->heapRelation && !exact_distance(scan, &tid, &dist))
			continue;
		so->ranked[n].tid = tid;
		so->ranked[n].dist = dist;
		n++;
	}
	qsort(so->ranked, n, sizeof(IvfCandidate), candidate_cmp);
	so->nranked = n;
	so->nextRanked = 0;
	return taken > 0;
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
	if (so->quant.kind != IVF_QUANTIZER_NONE && so->rerank > 0)
	{
		while (so->nextRanked >= so->nranked)
		{
			if (!rerank_batch(scan))
			{
				MemoryContextSwitchTo(oldCtx);
				return false;
			}
		}
		scan->xs_heaptid = so->ranked[so->nextRanked++].tid;
		MemoryContextSwitchTo(oldCtx);
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		return true;
	}
	if (!pop_candidate(scan, &scan->xs_heaptid, NULL))
	{
		MemoryContextSwitchTo(oldCtx);
		return false;
	}
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

	if (so->fetch)
		table_index_fetch_end(so->fetch);
	if (so->slot)
		ExecDropSingleTupleTableSlot(so->slot);
	if (so->estate)
		FreeExecutorState(so->estate);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
