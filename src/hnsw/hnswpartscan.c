/*-------------------------------------------------------------------------
 *
 * hnswpartscan.c
 *		Scans of an hnsw index through the partition of a key: exact
 *		nearest-first order for WHERE key = ... ORDER BY vector <op> q.
 *
 * When every key column has an equality scan key, the scan hashes the key
 * values, finds the partition in the directory, reads all of its pages (a
 * share lock on one page at a time), computes the distance of every live
 * entry with the SIMD kernels straight from the page, keeping the nearest
 * HNSW_PART_TOPK on the way, and hands those out in order; a query that
 * wants more rows (a filter rejecting many) then heapifies every
 * (distance, heap TID) pair and pops them nearest first.  Every row is a candidate whose key only has the same
 * hash, so the executor rechecks the index quals on the heap row
 * (xs_recheck); the distances are exact, so the order needs no recheck.
 * A query without order (NULL, or a zero vector under cosine or inner
 * product) gets the partition's rows in page order.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswpartscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnswpart.h"

/*
 * Rows handed out from the nearest entries kept while the partition is
 * read (a LIMIT 10 or 12 with a filter keeping most rows needs no more);
 * past them the scan heapifies every entry and pops
 */
#define HNSW_PART_TOPK		32

struct HnswPartScan
{
	bool		empty;			/* a key is NULL: no row can match */
	uint64		hash;
	HnswDistance *dist;
	bool		started;
	bool		unordered;
	HnswCandidate *items;		/* every live entry read, in page order */
	int			n;
	int			cap;
	int			pos;			/* next to hand out of items (unordered) or top */
	/* the nearest HNSW_PART_TOPK, gathered while reading (a max-heap), then sorted */
	HnswCandidate top[HNSW_PART_TOPK];
	int			ntop;
	bool		heapified;		/* past the first HNSW_PART_TOPK: items is a min-heap */
	int			dims;
	float	   *q;
};

/*
 * Look at the scan keys of a (re)scan: returns the partition scan state
 * when every key column has an equality key (or some key is NULL, which
 * matches nothing), else NULL for a graph search.  *recheck: the scan has
 * quals on key columns, which the executor must check on the heap rows.
 */
HnswPartScan *
HnswPartScanPrepare(IndexScanDesc scan, HnswDistance *dist, bool *recheck)
{
	Relation	index = scan->indexRelation;
	int			nkeys = IndexRelationGetNumberOfKeyAttributes(index) - 1;
	Datum		values[INDEX_MAX_KEYS];
	bool		have[INDEX_MAX_KEYS] = {false};
	bool		nulls[INDEX_MAX_KEYS] = {false};
	Oid			types[INDEX_MAX_KEYS] = {InvalidOid};
	bool		empty = false;
	HnswPartScan *ps;

	*recheck = false;
	if (nkeys < 1)
		return NULL;
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		sk = &scan->keyData[i];
		int			col = sk->sk_attno - 2;

		if (col < 0 || col >= nkeys)
			continue;
		*recheck = true;
		if (sk->sk_flags & SK_ISNULL)
		{
			empty = true;		/* key = NULL is never true */
			continue;
		}
		if (sk->sk_strategy != 1 || have[col])
			continue;
		have[col] = true;
		values[col] = sk->sk_argument;
		types[col] = sk->sk_subtype;	/* int8_column = 5: the int4 hash */
	}
	if (!empty)
		for (int col = 0; col < nkeys; col++)
			if (!have[col])
				return NULL;

	ps = palloc0(sizeof(HnswPartScan));
	ps->empty = empty;
	ps->dist = dist;
	if (!empty)
		ps->hash = HnswPartHashKeys(index, nkeys, values, nulls, types);
	return ps;
}

static inline bool
cand_before(const HnswCandidate *a, const HnswCandidate *b)
{
	if (a->dist != b->dist)
		return a->dist < b->dist;
	return ItemPointerCompare((ItemPointer) &a->tid, (ItemPointer) &b->tid) < 0;
}

/* Max-heap (farthest on top) of the nearest entries so far */
static void
top_sift_down(HnswCandidate *h, int n, int i)
{
	HnswCandidate x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && cand_before(&h[c], &h[c + 1]))
			c++;
		if (!cand_before(&x, &h[c]))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static inline void
top_offer(HnswPartScan *ps, const HnswCandidate *c)
{
	if (ps->ntop < HNSW_PART_TOPK)
	{
		int			i = ps->ntop++;

		/* sift up */
		while (i > 0 && cand_before(&ps->top[(i - 1) / 2], c))
		{
			ps->top[i] = ps->top[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		ps->top[i] = *c;
	}
	else if (cand_before(c, &ps->top[0]))
	{
		ps->top[0] = *c;
		top_sift_down(ps->top, ps->ntop, 0);
	}
}

static int
cand_cmp(const void *a, const void *b)
{
	if (cand_before(a, b))
		return -1;
	return cand_before(b, a) ? 1 : 0;
}

static void
sift_down(HnswCandidate *h, int n, int i)
{
	HnswCandidate x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && cand_before(&h[c + 1], &h[c]))
			c++;
		if (!cand_before(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Read one partition page: the live entries of the scan's key, with their
 * distances; returns the page's next link
 */
static BlockNumber
read_page(Relation index, HnswPartScan *ps, BlockNumber blkno)
{
	/* through the buffer this backend last found the block in (hnswsearch.c) */
	Buffer		buf = HnswPinBlock(index, blkno);
	Page		page;
	OffsetNumber maxoff;
	BlockNumber next;
	Size		entrySize = HNSW_PART_TUPLE_SIZE(ps->dims);

	CHECK_FOR_INTERRUPTS();
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (!HnswPartIsPartPage(page) || !(HnswPageGetOpaque(page)->flags & HNSW_PAGE_PART))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has no partition page at block %u",
						RelationGetRelationName(index), blkno),
				 errhint("Please REINDEX it.")));
	maxoff = PageGetMaxOffsetNumber(page);
	if (ps->n + maxoff > ps->cap)
	{
		ps->cap = Max(ps->cap * 2, ps->n + maxoff);
		ps->items = repalloc_huge(ps->items, sizeof(HnswCandidate) * ps->cap);
	}
	/*
	 * Items fill a page from its end down: the last offset comes first in
	 * memory, so read them from there on, a forward stream
	 */
	for (OffsetNumber off = maxoff; off >= FirstOffsetNumber; off--)
	{
		ItemId		itemid = PageGetItemId(page, off);
		HnswPartTuple t;
		HnswCandidate *c;

		if (!ItemIdIsNormal(itemid))
			continue;
		t = (HnswPartTuple) PageGetItem(page, itemid);
#if defined(__GNUC__)
		/* the entry after next: its cache lines arrive while these two are measured */
		if (off > FirstOffsetNumber + 1)
		{
			const char *ahead = (const char *) PageGetItem(page, PageGetItemId(page, off - 2));

			for (Size b = 0; b < entrySize; b += 64)
				__builtin_prefetch(ahead + b);
		}
#endif
		if (t->type != HNSW_PART_TUPLE || t->hash != ps->hash || t->deleted)
			continue;
		c = &ps->items[ps->n++];
		c->tid = t->heaptid;
		if (ps->unordered)
			c->dist = 0;
		else
		{
			c->dist = (float) HnswDist(ps->dist, ps->dims, ps->q, t->x);
			top_offer(ps, c);
		}
	}
	next = HnswPageGetOpaque(page)->nextblkno;
	UnlockReleaseBuffer(buf);
	return next;
}

/*
 * First call: find and read the partition, order it
 */
static void
start_partition(IndexScanDesc scan, HnswPartScan *ps)
{
	Relation	index = scan->indexRelation;
	HnswMetaPageData meta;
	HnswPartLocation loc;
	bool		isnull = (scan->orderByData->sk_flags & SK_ISNULL) != 0;
	bool		prepared = false;

	ps->started = true;
	pgstat_count_index_scan(index);
	HnswGetMeta(index, &meta);
	ps->dims = meta.dims;
	ps->q = palloc0(sizeof(float) * meta.dims);
	if (!isnull)
		prepared = HnswPrepareVector(ps->dist, index, scan->orderByData->sk_argument, ps->q, meta.dims);
	ps->unordered = isnull || !prepared;
	if (!ps->unordered && ps->dist->metric == HNSW_METRIC_NEG_IP)
	{
		ps->unordered = true;
		for (int i = 0; i < meta.dims; i++)
			if (ps->q[i] != 0)
			{
				ps->unordered = false;
				break;
			}
	}

	HnswPartLookup(index, ps->hash, &loc);
	if (!loc.found)
		return;
	ps->cap = Max((int) Min(loc.count, (uint32) (MaxAllocHugeSize / sizeof(HnswCandidate) / 2)), 16);
	ps->items = palloc_extended(sizeof(HnswCandidate) * ps->cap, MCXT_ALLOC_HUGE);
	/* (consecutive blocks: the kernel's readahead serves them from disk) */
	if (BlockNumberIsValid(loc.first))
		for (BlockNumber blk = loc.first; blk <= loc.last; blk++)
			read_page(index, ps, blk);
	for (BlockNumber blk = loc.ovfFirst; BlockNumberIsValid(blk);)
		blk = read_page(index, ps, blk);

	/* the nearest first: they are all most queries take */
	if (!ps->unordered)
		qsort(ps->top, ps->ntop, sizeof(HnswCandidate), cand_cmp);
}

/*
 * Next heap row of a partition scan, nearest first; false at the end
 */
bool
HnswPartScanNext(IndexScanDesc scan, HnswPartScan *ps)
{
	if (ps->empty)
		return false;
	if (!ps->started)
		start_partition(scan, ps);
	if (ps->unordered)
	{
		if (ps->pos >= ps->n)
			return false;
		scan->xs_heaptid = ps->items[ps->pos++].tid;
		return true;
	}
	if (ps->pos < ps->ntop)
	{
		scan->xs_heaptid = ps->top[ps->pos++].tid;
		return true;
	}
	if (!ps->heapified)
	{
		/*
		 * Past the nearest HNSW_PART_TOPK: heap up every entry and drop the
		 * ones handed out (the order is total, ties broken by TID, so they
		 * are exactly the first pops)
		 */
		for (int i = ps->n / 2 - 1; i >= 0; i--)
			sift_down(ps->items, ps->n, i);
		for (int i = 0; i < ps->ntop && ps->n > 0; i++)
		{
			ps->items[0] = ps->items[--ps->n];
			if (ps->n > 0)
				sift_down(ps->items, ps->n, 0);
		}
		ps->heapified = true;
	}
	if (ps->n == 0)
		return false;
	scan->xs_heaptid = ps->items[0].tid;
	ps->items[0] = ps->items[--ps->n];
	if (ps->n > 0)
		sift_down(ps->items, ps->n, 0);
	return true;
}
