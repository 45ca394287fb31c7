/*-------------------------------------------------------------------------
 *
 * hnswsearch.c
 *		Searching the on-disk graph: heaps, the visited set, reading
 *		elements from pages, greedy descent and the layer search.
 *
 * A search holds at most one buffer lock at a time, and only for as long
 * as it takes to copy what it needs out of one element.  It keeps the last
 * buffer pinned so that consecutive reads of one page skip the buffer
 * table.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswsearch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"

/* --- heaps ------------------------------------------------------------- */

/* Does a belong above b? */
static inline bool
heap_above(const HnswHeap *h, const HnswCandidate *a, const HnswCandidate *b)
{
	return h->max ? a->dist > b->dist : a->dist < b->dist;
}

/*
 * An empty heap with room for cap candidates (it grows when needed)
 */
void
HnswHeapInit(HnswHeap *h, bool max, int cap)
{
	h->cap = Max(cap, 16);
	h->items = palloc(sizeof(HnswCandidate) * h->cap);
	h->n = 0;
	h->max = max;
}

/*
 * Add a candidate
 */
void
HnswHeapPush(HnswHeap *h, float dist, ItemPointer tid)
{
	int			i;

	if (h->n == h->cap)
	{
		h->cap *= 2;
		h->items = repalloc_huge(h->items, sizeof(HnswCandidate) * h->cap);
	}
	i = h->n++;
	h->items[i].dist = dist;
	h->items[i].tid = *tid;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		HnswCandidate tmp;

		if (!heap_above(h, &h->items[i], &h->items[parent]))
			break;
		tmp = h->items[i];
		h->items[i] = h->items[parent];
		h->items[parent] = tmp;
		i = parent;
	}
}

/*
 * Remove and return the top candidate; the heap must not be empty
 */
HnswCandidate
HnswHeapPop(HnswHeap *h)
{
	HnswCandidate top = h->items[0];
	int			i = 0;

	h->items[0] = h->items[--h->n];
	for (;;)
	{
		int			l = 2 * i + 1;
		int			best = i;
		HnswCandidate tmp;

		if (l < h->n && heap_above(h, &h->items[l], &h->items[best]))
			best = l;
		if (l + 1 < h->n && heap_above(h, &h->items[l + 1], &h->items[best]))
			best = l + 1;
		if (best == i)
			break;
		tmp = h->items[i];
		h->items[i] = h->items[best];
		h->items[best] = tmp;
		i = best;
	}
	return top;
}

/* --- visited set ------------------------------------------------------- */

static inline uint64
tid_key(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) | ItemPointerGetOffsetNumberNoCheck(tid);
}

/*
 * An empty visited set for about cap elements
 */
void
HnswVisitedInit(HnswVisited *v, int cap)
{
	uint32		size = 64;

	while (size < (uint32) cap * 2)
		size *= 2;
	v->entries = palloc0(sizeof(HnswVisitedEntry) * size);
	v->mask = size - 1;
	v->n = 0;
	v->gen = 1;
}

/*
 * Forget everything: entries of older generations count as empty
 */
void
HnswVisitedReset(HnswVisited *v)
{
	v->gen++;
	v->n = 0;
}

/*
 * Double the table, keeping current entries
 */
static void
visited_grow(HnswVisited *v)
{
	HnswVisitedEntry *old = v->entries;
	uint32		oldsize = v->mask + 1;
	uint32		size = oldsize * 2;

	v->entries = palloc_extended(sizeof(HnswVisitedEntry) * size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	v->mask = size - 1;
	for (uint32 i = 0; i < oldsize; i++)
	{
		uint32		j;

		if (old[i].gen != v->gen)
			continue;
		j = (uint32) ((old[i].key * UINT64CONST(0x9E3779B97F4A7C15)) >> 32) & v->mask;
		while (v->entries[j].gen == v->gen)
			j = (j + 1) & v->mask;
		v->entries[j] = old[i];
	}
	pfree(old);
}

/*
 * Find or add an element; *found says whether it was there already
 */
HnswVisitedEntry *
HnswVisitedAdd(HnswVisited *v, ItemPointer tid, bool *found)
{
	uint64		key = tid_key(tid);
	uint32		i;

	if (v->n * 2 >= v->mask)
		visited_grow(v);
	i = (uint32) ((key * UINT64CONST(0x9E3779B97F4A7C15)) >> 32) & v->mask;
	for (;;)
	{
		HnswVisitedEntry *e = &v->entries[i];

		if (e->gen != v->gen)
		{
			e->gen = v->gen;
			e->key = key;
			e->flags = 0;
			v->n++;
			*found = false;
			return e;
		}
		if (e->key == key)
		{
			*found = true;
			return e;
		}
		i = (i + 1) & v->mask;
	}
}

/* --- reading elements -------------------------------------------------- */

/*
 * Begin a search for the prepared query vector q
 */
void
HnswSearchBegin(HnswSearch *s, Relation index, HnswDistance *d, int dims, int m, const float *q)
{
	s->index = index;
	s->dist = d;
	s->dims = dims;
	s->m = m;
	s->q = q;
	HnswVisitedInit(&s->visited, 1024);
	s->buf = InvalidBuffer;
	s->ndistances = 0;
	s->nbrs = palloc(sizeof(ItemPointerData) * HnswTotalSlots(m, HNSW_MAX_LEVEL));
}

/*
 * Release the buffer a search keeps pinned
 */
void
HnswSearchEnd(HnswSearch *s)
{
	if (BufferIsValid(s->buf))
		ReleaseBuffer(s->buf);
	s->buf = InvalidBuffer;
}

/*
 * Lock the page holding tid (share) and return its element, or NULL if
 * the item is not an element.  The caller unlocks s->buf.
 */
static HnswElementTuple
lock_element(HnswSearch *s, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber offno = ItemPointerGetOffsetNumber(tid);
	Page		page;
	ItemId		itemid;
	HnswElementTuple etup;

	if (!BufferIsValid(s->buf) || BufferGetBlockNumber(s->buf) != blkno)
	{
		if (BufferIsValid(s->buf))
			ReleaseBuffer(s->buf);
		s->buf = ReadBuffer(s->index, blkno);
	}
	LockBuffer(s->buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(s->buf);
	if (offno > PageGetMaxOffsetNumber(page))
		return NULL;
	itemid = PageGetItemId(page, offno);
	if (!ItemIdIsNormal(itemid))
		return NULL;
	etup = (HnswElementTuple) PageGetItem(page, itemid);
	if (etup->type != HNSW_ELEMENT_TUPLE)
		return NULL;
	return etup;
}

/*
 * Distance from the query to the element at tid; false if it is gone
 */
bool
HnswReadDistance(HnswSearch *s, ItemPointer tid, float *dist, bool *deleted)
{
	HnswElementTuple etup = lock_element(s, tid);

	if (etup == NULL)
	{
		LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
		return false;
	}
	*dist = (float) HnswDist(s->dist, s->dims, s->q, etup->x);
	*deleted = etup->deleted != 0;
	LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
	s->ndistances++;
	return true;
}

/*
 * Distance from the query to the element at tid, and its heap row; false
 * if it is gone
 */
bool
HnswReadDistanceHeap(HnswSearch *s, ItemPointer tid, float *dist, bool *deleted,
					 ItemPointer heaptid)
{
	HnswElementTuple etup = lock_element(s, tid);

	if (etup == NULL)
	{
		LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
		return false;
	}
	*dist = (float) HnswDist(s->dist, s->dims, s->q, etup->x);
	*deleted = etup->deleted != 0;
	*heaptid = etup->heaptid;
	LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
	s->ndistances++;
	return true;
}

/*
 * Copy the element's vector to out; false if it is gone
 */
bool
HnswReadVector(HnswSearch *s, ItemPointer tid, float *out)
{
	HnswElementTuple etup = lock_element(s, tid);

	if (etup != NULL)
		memcpy(out, etup->x, sizeof(float) * s->dims);
	LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
	return etup != NULL;
}

/*
 * Copy the element's valid neighbours at a level to out; returns how many
 */
int
HnswReadNeighbors(HnswSearch *s, ItemPointer tid, int level, ItemPointer out)
{
	HnswElementTuple etup = lock_element(s, tid);
	int			n = 0;

	if (etup != NULL && etup->level >= level)
	{
		ItemPointer slots = HnswElementNeighbors(etup, s->dims);
		int			start = level == 0 ? 0 : HnswTotalSlots(s->m, level - 1);
		int			count = HnswLevelSlots(s->m, level);

		for (int i = 0; i < count; i++)
			if (ItemPointerIsValid(&slots[start + i]))
				out[n++] = slots[start + i];
	}
	LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
	return n;
}

/* --- searching --------------------------------------------------------- */

/*
 * Greedy descent: from ep at fromLevel, move to the nearest neighbour while
 * that gets closer, level by level down to toLevel (inclusive).
 */
HnswCandidate
HnswSearchGreedy(HnswSearch *s, HnswCandidate ep, int fromLevel, int toLevel)
{
	for (int level = fromLevel; level >= toLevel; level--)
	{
		bool		changed = true;

		while (changed)
		{
			int			n = HnswReadNeighbors(s, &ep.tid, level, s->nbrs);

			changed = false;
			CHECK_FOR_INTERRUPTS();
			for (int i = 0; i < n; i++)
			{
				float		d;
				bool		deleted;

				if (HnswReadDistance(s, &s->nbrs[i], &d, &deleted) && d < ep.dist)
				{
					ep.dist = d;
					ep.tid = s->nbrs[i];
					changed = true;
				}
			}
		}
	}
	return ep;
}

/*
 * qsort comparator: nearest first, then by item pointer for determinism
 */
int
HnswCandidateCmp(const void *a, const void *b)
{
	const HnswCandidate *ca = a;
	const HnswCandidate *cb = b;

	if (ca->dist != cb->dist)
		return ca->dist < cb->dist ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &ca->tid, (ItemPointer) &cb->tid);
}

/*
 * Search one level from the entry points eps for the ef nearest elements
 * that are not deleted (deleted ones are still walked through).  Writes
 * them to out, nearest first, and returns how many.  Algorithm 2 of the
 * paper.  out must have room for ef candidates.
 */
int
HnswSearchLayer(HnswSearch *s, HnswCandidate *eps, int neps, int ef, int level,
				HnswCandidate *out)
{
	HnswHeap	cand;
	HnswHeap	found;
	int			n;

	HnswVisitedReset(&s->visited);
	HnswHeapInit(&cand, false, ef * 2);
	HnswHeapInit(&found, true, ef + 1);
	for (int i = 0; i < neps; i++)
	{
		bool		seen;

		HnswVisitedAdd(&s->visited, &eps[i].tid, &seen);
		if (seen)
			continue;
		HnswHeapPush(&cand, eps[i].dist, &eps[i].tid);
		HnswHeapPush(&found, eps[i].dist, &eps[i].tid);
		if (found.n > ef)
			HnswHeapPop(&found);
	}

	while (cand.n > 0)
	{
		HnswCandidate c = HnswHeapPop(&cand);
		int			nn;

		if (found.n >= ef && c.dist > found.items[0].dist)
			break;
		CHECK_FOR_INTERRUPTS();
		nn = HnswReadNeighbors(s, &c.tid, level, s->nbrs);
		for (int i = 0; i < nn; i++)
		{
			bool		seen;
			float		d;
			bool		deleted;

			HnswVisitedAdd(&s->visited, &s->nbrs[i], &seen);
			if (seen || !HnswReadDistance(s, &s->nbrs[i], &d, &deleted))
				continue;
			if (found.n < ef || d < found.items[0].dist)
			{
				HnswHeapPush(&cand, d, &s->nbrs[i]);
				if (!deleted)
				{
					HnswHeapPush(&found, d, &s->nbrs[i]);
					if (found.n > ef)
						HnswHeapPop(&found);
				}
			}
		}
	}

	n = found.n;
	memcpy(out, found.items, sizeof(HnswCandidate) * n);
	qsort(out, n, sizeof(HnswCandidate), HnswCandidateCmp);
	pfree(cand.items);
	pfree(found.items);
	return n;
}
