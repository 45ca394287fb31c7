/*-------------------------------------------------------------------------
 *
 * hnswscan.c
 *		Index scans: ORDER BY column <op> query LIMIT n.
 *
 * The first call descends greedily from the entry point to level 0, then
 * searches level 0 for the hnsw.ef_search nearest elements and returns
 * them nearest first.  With hnsw.iterative_scan on, the search state is
 * kept (every candidate and result outside the bound included), and rows
 * go out at the pace of a LIMIT 10 scan: the first ten of the ef_search
 * found, then, each time the executor wants more (a WHERE clause rejected
 * rows), ef grows, the search resumes, and the next rows go out, always
 * from the nearest ef * 10 / ef_search results, where a search is
 * reliable.  relaxed_order returns every new row (a batch may hold rows
 * nearer than the last one returned), strict_order skips those so that
 * distances never decrease.  hnsw.max_scan_tuples (elements whose distance
 * the scan computed, checked before each expansion once the first batch is
 * out) and work_mem * hnsw.scan_mem_multiplier bound the searching: past
 * them, the scan hands out every element it has already measured, nearest
 * first, and then ends.  A query that puts every element at the same
 * distance (NULL, or a zero vector under cosine or inner product) has no
 * order to search for: the scan reads the elements in page order instead.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswscan.c
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
#include "hnsw.h"
#include "hnswpart.h"

typedef struct HnswScanOpaqueData
{
	MemoryContext ctx;			/* everything below lives here */
	HnswDistance dist;
	HnswMetaPageData meta;
	float	   *q;
	bool		started;
	bool		exhausted;		/* nothing more to search */
	bool		draining;		/* past the limits: hand out what was measured */
	HnswSearch	s;
	HnswHeap	cand;			/* to expand, nearest first */
	HnswHeap	found;			/* best ef results, farthest on top */
	HnswHeap	later;			/* results beyond ef, nearest first */
	int			ef;
	int			efStep;			/* hnsw.ef_search at the start */
	bool		iterative;		/* hnsw.iterative_scan was on at the start */
	bool		bounded;		/* past the first batch: max_scan_tuples applies */
	HnswCandidate *batch;		/* results to hand out, nearest first */
	int			nbatch;
	int			pos;
	float		lastDist;
	/* a query without direction: every order is right (see start_unordered) */
	bool		unordered;
	BlockNumber walkBlk;		/* next data page to read */
	ItemPointerData *walk;		/* heap pointers of the page read last */
	int			nwalk;
	int64		nread;			/* elements read, against max_scan_tuples */
	/* filter key columns (hnswpartscan.c): the partition path, or NULL */
	HnswPartScan *part;
	bool		keyRecheck;		/* quals on key columns: the executor rechecks */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/*
 * Start a scan
 */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan", ALLOCSET_DEFAULT_SIZES);
	HnswInitDistance(index, &so->dist);
	scan->opaque = so;
	return scan;
}

/*
 * Restart a scan, possibly with a new query vector
 */
void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = scan->opaque;

	if (so->started && !so->unordered)
		HnswSearchEnd(&so->s);
	MemoryContextReset(so->ctx);
	so->started = false;
	so->unordered = false;
	so->exhausted = false;
	so->draining = false;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	/* filter key columns: an equality key on each reads a partition (hnswpartscan.c) */
	{
		MemoryContext oldCtx = MemoryContextSwitchTo(so->ctx);

		so->part = HnswPartScanPrepare(scan, &so->dist, &so->keyRecheck);
		MemoryContextSwitchTo(oldCtx);
	}
}

/*
 * Has the scan reached hnsw.max_scan_tuples elements measured, or memory
 * beyond work_mem * hnsw.scan_mem_multiplier?
 */
static bool
past_limits(HnswScanOpaque so)
{
	double		limit = (double) work_mem * 1024 * hnsw_scan_mem_multiplier;

	if (so->s.ndistances >= hnsw_max_scan_tuples)
		return true;
	return (double) MemoryContextMemAllocated(so->ctx, true) > limit;
}

/*
 * Queue an element found by the search, as candidate and as result
 */
static void
queue_element(HnswScanOpaque so, HnswVisitedEntry *e, ItemPointer tid, float d,
			  bool deleted, ItemPointer heaptid)
{
	e->heaptid = *heaptid;
	if (deleted || !ItemPointerIsValid(heaptid))
		e->flags |= HNSW_VISITED_DELETED;

	if (so->found.n < so->ef || d < so->found.items[0].dist)
	{
		HnswHeapPush(&so->cand, d, tid);
		if (!(e->flags & HNSW_VISITED_DELETED))
		{
			HnswHeapPush(&so->found, d, tid);
			if (so->found.n > so->ef)
			{
				HnswCandidate out = HnswHeapPop(&so->found);

				HnswHeapPush(&so->later, out.dist, &out.tid);
			}
		}
	}
	else if (so->iterative)
	{
		/*
		 * Only a later batch can need it.  As a candidate it waits in cand,
		 * where the search stops before reaching it until ef grows.
		 */
		HnswHeapPush(&so->cand, d, tid);
		if (!(e->flags & HNSW_VISITED_DELETED))
			HnswHeapPush(&so->later, d, tid);
	}
}

/*
 * Read and queue the elements at tids that were not seen before, a batch
 * at a time
 */
static void
consider(HnswScanOpaque so, const ItemPointerData *tids, int n)
{
	for (int start = 0; start < n; start += HNSW_READ_BATCH)
	{
		ItemPointerData batch[HNSW_READ_BATCH];
		HnswVisitedEntry *entries[HNSW_READ_BATCH];
		ItemPointerData heaptids[HNSW_READ_BATCH];
		float		d[HNSW_READ_BATCH];
		bool		deleted[HNSW_READ_BATCH];
		bool		ok[HNSW_READ_BATCH];
		int			nb = 0;

		/* entry pointers must survive the batch's additions */
		HnswVisitedReserve(&so->s.visited, HNSW_READ_BATCH);
		for (int i = start; i < Min(n, start + HNSW_READ_BATCH); i++)
		{
			bool		seen;
			HnswVisitedEntry *e = HnswVisitedAdd(&so->s.visited, (ItemPointer) &tids[i], &seen);

			if (seen)
				continue;
			entries[nb] = e;
			batch[nb++] = tids[i];
		}
		HnswReadDistances(&so->s, batch, nb, d, deleted, heaptids, ok);
		for (int i = 0; i < nb; i++)
		{
			if (!ok[i])
				entries[i]->flags |= HNSW_VISITED_DELETED | HNSW_VISITED_EXPANDED;
			else
				queue_element(so, entries[i], &batch[i], d[i], deleted[i], &heaptids[i]);
		}
	}
}

/*
 * Expand candidates until none can improve the best ef (Algorithm 2, on
 * state that survives between batches)
 */
static void
search_level0(HnswScanOpaque so)
{
	ItemPointerData *nbrs = palloc(sizeof(ItemPointerData) * HnswLevelSlots(so->meta.m, 0));

	while (so->cand.n > 0)
	{
		HnswCandidate c = so->cand.items[0];
		bool		seen;
		HnswVisitedEntry *e;
		int			n;

		if (so->found.n >= so->ef && c.dist > so->found.items[0].dist)
			break;
		if (so->bounded && past_limits(so))
		{
			so->draining = true;
			break;
		}
		HnswHeapPop(&so->cand);
		e = HnswVisitedAdd(&so->s.visited, &c.tid, &seen);
		if (e->flags & HNSW_VISITED_EXPANDED)
			continue;
		e->flags |= HNSW_VISITED_EXPANDED;
		CHECK_FOR_INTERRUPTS();

		n = HnswReadNeighbors(&so->s, &c.tid, 0, nbrs);
		consider(so, nbrs, n);
	}
	pfree(nbrs);
}

/*
 * Does the query put every element at the same distance?  A NULL query
 * (every distance is NULL), a zero vector under cosine (no direction) or
 * under inner product (every product is 0).  Then every order is right,
 * and a graph search, which cannot stop while a candidate ties with the
 * worst result, would measure the whole index before the first row.
 */
static bool
query_has_no_order(HnswScanOpaque so, bool isnull, bool prepared)
{
	if (isnull || !prepared)
		return true;
	if (so->dist.metric != HNSW_METRIC_NEG_IP)
		return false;
	for (int i = 0; i < so->meta.dims; i++)
		if (so->q[i] != 0)
			return false;
	return true;
}

/*
 * A query without order: hand out the elements in page order, a page at a
 * time, as many as a search would (ef_search, or with an iterative scan
 * up to hnsw.max_scan_tuples)
 */
static void
start_unordered(HnswScanOpaque so)
{
	so->unordered = true;
	so->walkBlk = HNSW_METAPAGE_BLKNO + 1;
	so->walk = palloc(sizeof(ItemPointerData) * MaxOffsetNumber);
	so->nwalk = so->pos = 0;
	so->nread = 0;
	so->started = true;
}

/*
 * Read the next data page's live elements into so->walk; false at the end
 */
static bool
walk_next_page(Relation index, HnswScanOpaque so)
{
	while (so->walkBlk < RelationGetNumberOfBlocks(index))
	{
		Buffer		buf = ReadBuffer(index, so->walkBlk++);
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		so->nwalk = so->pos = 0;
		maxoff = PageIsNew(page) ? InvalidOffsetNumber : PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswElementTuple etup = HnswPageItemOfType(page, off, HNSW_ELEMENT_TUPLE);

			if (etup != NULL && !etup->deleted &&
				ItemPointerIsValid(&etup->heaptid))
				so->walk[so->nwalk++] = etup->heaptid;
		}
		UnlockReleaseBuffer(buf);
		if (so->nwalk > 0)
			return true;
	}
	return false;
}

/*
 * Next row of a query without order
 */
static bool
next_unordered(IndexScanDesc scan, HnswScanOpaque so)
{
	int64		limit = so->iterative ? hnsw_max_scan_tuples : hnsw_ef_search;

	if (so->nread >= limit)
		return false;
	while (so->pos >= so->nwalk)
		if (!walk_next_page(scan->indexRelation, so))
			return false;
	scan->xs_heaptid = so->walk[so->pos++];
	so->nread++;
	return true;
}

/*
 * The first search: descend to level 0 and seed the candidate heaps
 */
static void
start_search(IndexScanDesc scan)
{
	HnswScanOpaque so = scan->opaque;
	Relation	index = scan->indexRelation;
	HnswCandidate ep;
	bool		deleted;
	bool		isnull = (scan->orderByData->sk_flags & SK_ISNULL) != 0;
	bool		prepared = false;

	HnswGetMeta(index, &so->meta);
	so->q = palloc0(sizeof(float) * so->meta.dims);
	so->iterative = hnsw_iterative_scan != HNSW_ITERATIVE_SCAN_OFF;
	if (!isnull)
		prepared = HnswPrepareVector(&so->dist, index, scan->orderByData->sk_argument,
									 so->q, so->meta.dims);
	if (query_has_no_order(so, isnull, prepared))
	{
		start_unordered(so);
		return;
	}

	HnswSearchBegin(&so->s, index, &so->dist, &so->meta, so->q, hnsw_ef_search);
	so->ef = hnsw_ef_search;
	so->efStep = hnsw_ef_search;
	so->bounded = false;
	HnswHeapInit(&so->cand, false, so->ef * 4);
	HnswHeapInit(&so->found, true, so->ef + 1);
	HnswHeapInit(&so->later, false, 64);
	so->batch = palloc(sizeof(HnswCandidate) * (so->ef + 1));
	so->nbatch = so->pos = 0;
	so->lastDist = -FLT_MAX;
	so->started = true;

	if (!BlockNumberIsValid(so->meta.entryBlkno))
	{
		so->exhausted = true;
		return;
	}
	ItemPointerSet(&ep.tid, so->meta.entryBlkno, so->meta.entryOffno);
	while (!HnswReadDistance(&so->s, &ep.tid, &ep.dist, &deleted))
	{
		HnswMetaPageData meta;

		/*
		 * A scan takes no lock against inserts: since the metapage was read,
		 * the entry point may have moved and VACUUM freed the old one (it
		 * never frees the current one).  Start from the new one.
		 */
		HnswGetMeta(index, &meta);
		if (meta.entryBlkno == so->meta.entryBlkno && meta.entryOffno == so->meta.entryOffno)
			elog(ERROR, "hnsw entry point (%u,%u) of index \"%s\" is missing",
				 so->meta.entryBlkno, so->meta.entryOffno, RelationGetRelationName(index));
		so->meta.entryBlkno = meta.entryBlkno;
		so->meta.entryOffno = meta.entryOffno;
		so->meta.entryLevel = meta.entryLevel;
		ItemPointerSet(&ep.tid, so->meta.entryBlkno, so->meta.entryOffno);
	}
	if (so->meta.entryLevel > 0)
		ep = HnswSearchGreedy(&so->s, ep, so->meta.entryLevel, 1);
	consider(so, &ep.tid, 1);
}

/*
 * Grow ef for the next batch, by ef_search or a quarter, whichever is more
 * (so that a deep scan takes few steps), and move the results that waited
 * beyond the old bound back into play
 */
static void
widen_search(HnswScanOpaque so)
{
	so->ef += Max(so->efStep, so->ef / 4);
	so->bounded = true;
	while (so->later.n > 0 && so->found.n < so->ef)
	{
		HnswCandidate c = HnswHeapPop(&so->later);

		HnswHeapPush(&so->found, c.dist, &c.tid);
	}
}

/* Is a nearer than b (ties broken by item pointer, as HnswCandidateCmp)? */
static inline bool
cand_less(const HnswCandidate *a, const HnswCandidate *b)
{
	return HnswCandidateCmp(a, b) < 0;
}

/*
 * Reorder c[0 .. n-1] so that its k nearest come first, in any order
 * (quickselect, median of three)
 */
static void
select_nearest(HnswCandidate *c, int n, int k)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi && k > lo && k <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		HnswCandidate pivot,
					tmp;
		int			i = lo,
					j = hi;

		/* median of three as pivot */
		if (cand_less(&c[mid], &c[lo]))
		{
			tmp = c[mid]; c[mid] = c[lo]; c[lo] = tmp;
		}
		if (cand_less(&c[hi], &c[lo]))
		{
			tmp = c[hi]; c[hi] = c[lo]; c[lo] = tmp;
		}
		if (cand_less(&c[hi], &c[mid]))
		{
			tmp = c[hi]; c[hi] = c[mid]; c[mid] = tmp;
		}
		pivot = c[mid];
		while (i <= j)
		{
			while (cand_less(&c[i], &pivot))
				i++;
			while (cand_less(&pivot, &c[j]))
				j--;
			if (i <= j)
			{
				tmp = c[i]; c[i] = c[j]; c[j] = tmp;
				i++;
				j--;
			}
		}
		/* now c[lo .. j] <= pivot <= c[i .. hi] */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
}

/*
 * Move into the batch, nearest first, the results not returned yet among
 * the nearest cap of found (and, when draining, all of found and later);
 * returns how many
 */
static int
collect_batch(HnswScanOpaque so, int cap)
{
	int			total = so->found.n + (so->draining ? so->later.n : 0);
	int			n = 0;

	so->batch = repalloc_huge(so->batch, sizeof(HnswCandidate) * Max(total, 1));
	memcpy(so->batch, so->found.items, sizeof(HnswCandidate) * so->found.n);
	if (so->draining)
	{
		memcpy(so->batch + so->found.n, so->later.items, sizeof(HnswCandidate) * so->later.n);
		so->later.n = 0;
		cap = total;
	}
	else if (cap < total)
	{
		/* only the nearest cap can go out: no need to sort the rest */
		select_nearest(so->batch, total, cap);
		total = cap;
	}
	for (int i = 0; i < total; i++)
	{
		bool		seen;
		HnswVisitedEntry *e = HnswVisitedAdd(&so->s.visited, &so->batch[i].tid, &seen);

		if (e->flags & HNSW_VISITED_RETURNED)
			continue;
		so->batch[n++] = so->batch[i];
	}
	qsort(so->batch, n, sizeof(HnswCandidate), HnswCandidateCmp);

	/* mark them returned, and in strict order drop those out of order */
	total = n;
	n = 0;
	for (int i = 0; i < total; i++)
	{
		bool		seen;
		HnswVisitedEntry *e = HnswVisitedAdd(&so->s.visited, &so->batch[i].tid, &seen);

		e->flags |= HNSW_VISITED_RETURNED;
		if (hnsw_iterative_scan == HNSW_ITERATIVE_SCAN_STRICT && so->batch[i].dist < so->lastDist)
			continue;
		so->batch[n++] = so->batch[i];
	}
	return n;
}

/*
 * How many of the nearest results of the search so far may be handed out.
 * A plain scan hands out all of them.  An iterative scan keeps the ratio of
 * ef to rows that hnsw.ef_search has to a LIMIT of HNSW_ITERATIVE_ROWS:
 * the r-th row comes from a search with ef >= r * ef_search /
 * HNSW_ITERATIVE_ROWS.  The nearest results of a search are the reliable
 * ones, so recall holds up however deep the scan goes, where handing out
 * all ef results at each step lets recall fall with depth.
 */
static int
handout_cap(HnswScanOpaque so)
{
	int64		deeper;

	if (!so->iterative)
		return so->ef;
	if (so->ef <= so->efStep)
		return Max(1, (int) ((int64) so->ef * HNSW_ITERATIVE_ROWS / so->efStep));
	deeper = (int64) (so->ef - so->efStep) * HNSW_ITERATIVE_ROWS * 10 /
		((int64) so->efStep * HNSW_ITERATIVE_DEEP_PACE_X10);
	return (int) Min(HNSW_ITERATIVE_ROWS + deeper, PG_INT32_MAX);
}

/*
 * Search (more) and fill the batch with results not returned yet.
 * Returns false when there is nothing left.
 */
static bool
next_batch(HnswScanOpaque so)
{
	for (;;)
	{
		int			n;
		bool		done;

		if (so->exhausted)
			return false;
		if (!so->draining)
			search_level0(so);

		/* nothing left to search: every result found is final */
		done = so->cand.n == 0;
		if (done && so->iterative)
			so->draining = true;
		n = collect_batch(so, handout_cap(so));
		so->nbatch = n;
		so->pos = 0;

		if (!so->iterative || so->draining)
			so->exhausted = true;
		else if (past_limits(so))
			so->draining = true;
		else
			widen_search(so);

		if (n > 0)
			return true;
	}
}

/*
 * Return the next heap row, nearest first
 */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = scan->opaque;
	MemoryContext oldCtx;

	if (scan->orderByData == NULL)
		elog(ERROR, "cannot scan hnsw index without order");
	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "hnsw index scans only go forward");

	/* filter key columns: the partition path (hnswpartscan.c) */
	if (so->part)
	{
		bool		found;

		oldCtx = MemoryContextSwitchTo(so->ctx);
		found = HnswPartScanNext(scan, so->part);
		MemoryContextSwitchTo(oldCtx);
		scan->xs_recheck = true;
		scan->xs_recheckorderby = false;
		return found;
	}

	oldCtx = MemoryContextSwitchTo(so->ctx);
	if (!so->started)
	{
		start_search(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}

	if (so->unordered)
	{
		bool		found = next_unordered(scan, so);

		MemoryContextSwitchTo(oldCtx);
		scan->xs_recheck = so->keyRecheck;
		scan->xs_recheckorderby = false;
		return found;
	}

	while (so->pos >= so->nbatch)
	{
		if (!next_batch(so))
		{
			MemoryContextSwitchTo(oldCtx);
			return false;
		}
	}
	{
		HnswCandidate *c = &so->batch[so->pos++];
		bool		seen;
		HnswVisitedEntry *e = HnswVisitedAdd(&so->s.visited, &c->tid, &seen);

		scan->xs_heaptid = e->heaptid;
		so->lastDist = c->dist;
	}
	MemoryContextSwitchTo(oldCtx);
	scan->xs_recheck = so->keyRecheck;
	scan->xs_recheckorderby = false;
	return true;
}

/*
 * End a scan
 */
void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = scan->opaque;

	if (so->started && !so->unordered)
		HnswSearchEnd(&so->s);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
