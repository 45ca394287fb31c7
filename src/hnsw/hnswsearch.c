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
#include "utils/memutils.h"
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
 * Make room for extra more elements, so that entry pointers returned by the
 * next extra HnswVisitedAdd calls stay valid together
 */
void
HnswVisitedReserve(HnswVisited *v, int extra)
{
	while ((v->n + (uint32) extra) * 2 >= v->mask)
		visited_grow(v);
}

/*
 * Is the element in the set?  (Never adds it.)
 */
bool
HnswVisitedContains(HnswVisited *v, ItemPointer tid)
{
	uint64		key = tid_key(tid);
	uint32		i = (uint32) ((key * UINT64CONST(0x9E3779B97F4A7C15)) >> 32) & v->mask;

	for (;;)
	{
		HnswVisitedEntry *e = &v->entries[i];

		if (e->gen != v->gen)
			return false;
		if (e->key == key)
			return true;
		i = (i + 1) & v->mask;
	}
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
 * Which buffer held each block of an index when this backend last read it.
 * ReadRecentBuffer() pins such a buffer directly if it still holds the
 * block, skipping the shared buffer mapping table (a hash lookup under a
 * partition lock) that otherwise costs about a tenth of a search.  Stale
 * entries are harmless: the buffer's tag is checked.  A few indexes are
 * remembered per backend.
 */
typedef struct RecentBuffers
{
	RelFileNode node;
	BlockNumber size;
	Buffer	   *bufs;
} RecentBuffers;

#define N_RECENT_INDEXES 4
static RecentBuffers recent[N_RECENT_INDEXES];
static int	recent_next = 0;

/*
 * The slot remembering blkno of this index
 */
static Buffer *
recent_slot(Relation index, BlockNumber blkno)
{
	RecentBuffers *r = NULL;

	for (int i = 0; i < N_RECENT_INDEXES; i++)
		if (RelFileNodeEquals(recent[i].node, index->rd_node) && recent[i].bufs != NULL)
			r = &recent[i];
	if (r == NULL)
	{
		r = &recent[recent_next];
		recent_next = (recent_next + 1) % N_RECENT_INDEXES;
		if (r->bufs)
			pfree(r->bufs);
		r->node = index->rd_node;
		r->size = 0;
		r->bufs = NULL;
	}
	if (blkno >= r->size)
	{
		BlockNumber size = Max(blkno + 1, Max(r->size * 2, 1024));

		if (r->bufs == NULL)
			r->bufs = MemoryContextAllocZero(TopMemoryContext, sizeof(Buffer) * size);
		else
		{
			r->bufs = repalloc(r->bufs, sizeof(Buffer) * size);
			memset(r->bufs + r->size, 0, sizeof(Buffer) * (size - r->size));
		}
		r->size = size;
	}
	return &r->bufs[blkno];
}

/*
 * The buffer that held a block of a relation when this backend last pinned
 * it through HnswPinBlock, or InvalidBuffer; a hint for prefetching only
 */
Buffer
HnswRecentBuffer(Relation rel, BlockNumber blkno)
{
	for (int i = 0; i < N_RECENT_INDEXES; i++)
		if (RelFileNodeEquals(recent[i].node, rel->rd_node) && recent[i].bufs != NULL)
			return blkno < recent[i].size ? recent[i].bufs[blkno] : InvalidBuffer;
	return InvalidBuffer;
}

/*
 * Pin a block of a relation (an index, or the heap of an exact scan),
 * through the recent-buffer hint when it works
 */
Buffer
HnswPinBlock(Relation index, BlockNumber blkno)
{
	Buffer	   *slot = recent_slot(index, blkno);

	if (BufferIsValid(*slot) && !RelationUsesLocalBuffers(index) &&
		ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, *slot))
		return *slot;
	*slot = ReadBuffer(index, blkno);
	return *slot;
}

/*
 * Begin a search of the index described by meta for the prepared query
 * vector q
 */
void
HnswSearchBegin(HnswSearch *s, Relation index, HnswDistance *d, const HnswMetaPageData *meta,
				const float *q, int ef)
{
	s->index = index;
	s->dist = d;
	s->dims = meta->dims;
	s->m = meta->m;
	s->vecChunks = meta->vecChunks;
	s->q = q;
	/* a search visits some ef * m elements: size for that from the start */
	HnswVisitedInit(&s->visited, Max(1024, ef * s->m * 2));
	s->buf = InvalidBuffer;
	s->ndistances = 0;
	s->nbrs = palloc(sizeof(ItemPointerData) * HnswTotalSlots(s->m, HNSW_MAX_LEVEL));
	/* the fmgr metric needs whole vectors: out-of-line ones are put together here */
	s->vecBuf = NULL;
	if (s->vecChunks > 0 && d->metric == HNSW_METRIC_FMGR)
		s->vecBuf = palloc(sizeof(float) * s->dims);
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
		s->buf = HnswPinBlock(s->index, blkno);
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
 * Error for a chunk pointer, of an element on block eblkno, that does not
 * lead to the expected piece of its vector
 */
static void
pg_attribute_noreturn()
chunk_corrupted(HnswSearch *s, ItemPointer ctid, BlockNumber eblkno)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" has an invalid vector chunk (%u,%u) for an element on block %u",
					RelationGetRelationName(s->index), ItemPointerGetBlockNumberNoCheck(ctid),
					ItemPointerGetOffsetNumberNoCheck(ctid), eblkno),
			 errhint("Please REINDEX it.")));
}

/*
 * Use the chunk at ctid, on its locked page: copy its coordinates into out
 * when out is not NULL, otherwise add its part of the distance to the
 * query to *sum (squared L2, negative inner product and L1 are sums over
 * coordinates, so chunks add up).  Reports where the chunk starts and how
 * long it is.
 */
static void
use_chunk(HnswSearch *s, Page page, ItemPointer ctid, BlockNumber eblkno, float *out,
		  double *sum, int *start, int *count)
{
	OffsetNumber offno = ItemPointerGetOffsetNumber(ctid);
	ItemId		itemid;
	HnswVectorTuple ctup;

	if (offno < FirstOffsetNumber || offno > PageGetMaxOffsetNumber(page))
		chunk_corrupted(s, ctid, eblkno);
	itemid = PageGetItemId(page, offno);
	if (!ItemIdIsNormal(itemid))
		chunk_corrupted(s, ctid, eblkno);
	ctup = (HnswVectorTuple) PageGetItem(page, itemid);
	if (ctup->type != HNSW_VECTOR_TUPLE || ctup->count == 0 || ctup->start >= (uint32) s->dims ||
		ctup->count > s->dims - ctup->start ||
		ItemIdGetLength(itemid) != HNSW_VECTOR_TUPLE_SIZE(ctup->count))
		chunk_corrupted(s, ctid, eblkno);
	if (out != NULL)
		memcpy(out + ctup->start, ctup->x, sizeof(float) * ctup->count);
	else
		*sum += HnswDist(s->dist, ctup->count, s->q + ctup->start, ctup->x);
	*start = ctup->start;
	*count = ctup->count;
}

/*
 * Read the out-of-line vector of element etup, which lies on the
 * share-locked buffer buf: copy it into out, or (out NULL) return its
 * distance to the query.  The chunks on buf's own page (usually the last
 * one: it is written just before the element) are read first; then buf is
 * unlocked, staying pinned, and every other chunk is read with its page
 * pinned and share-locked in turn.  So a search never holds two locks,
 * and pins at most one page more than its caller (HNSW_READ_BATCH).
 */
static double
read_chunked(HnswSearch *s, Buffer buf, HnswElementTuple etup, float *out)
{
	ItemPointerData chunks[HNSW_MAX_VEC_CHUNKS];
	int			starts[HNSW_MAX_VEC_CHUNKS];
	int			counts[HNSW_MAX_VEC_CHUNKS];
	BlockNumber eblkno = BufferGetBlockNumber(buf);
	float	   *dst = out;
	double		sum = 0;
	int			pos = 0;

	Assert(s->vecChunks > 0 && s->vecChunks <= HNSW_MAX_VEC_CHUNKS);
	if (out == NULL && s->dist->metric == HNSW_METRIC_FMGR)
		dst = s->vecBuf;
	memcpy(chunks, HnswElementChunks(etup), sizeof(ItemPointerData) * s->vecChunks);
	for (int i = 0; i < s->vecChunks; i++)
	{
		starts[i] = -1;
		if (ItemPointerIsValid(&chunks[i]) && ItemPointerGetBlockNumber(&chunks[i]) == eblkno)
			use_chunk(s, BufferGetPage(buf), &chunks[i], eblkno, dst, &sum, &starts[i], &counts[i]);
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);

	/* the others in vector order, checking that they follow each other */
	for (int i = 0; i < s->vecChunks && pos < s->dims; i++)
	{
		if (!ItemPointerIsValid(&chunks[i]))
			chunk_corrupted(s, &chunks[i], eblkno);
		if (starts[i] < 0)
		{
			Buffer		cbuf = HnswPinBlock(s->index, ItemPointerGetBlockNumber(&chunks[i]));

			LockBuffer(cbuf, BUFFER_LOCK_SHARE);
			use_chunk(s, BufferGetPage(cbuf), &chunks[i], eblkno, dst, &sum, &starts[i], &counts[i]);
			UnlockReleaseBuffer(cbuf);
		}
		if (starts[i] != pos)
			chunk_corrupted(s, &chunks[i], eblkno);
		pos += counts[i];
	}
	if (pos != s->dims)
		chunk_corrupted(s, &chunks[0], eblkno);

	if (out == NULL && dst != NULL)
		return HnswDist(s->dist, s->dims, s->q, dst);
	return sum;
}

/*
 * Copy the vector of element etup, on the share-locked buffer buf, into
 * out; buf is unlocked on return (still pinned)
 */
void
HnswCopyVector(HnswSearch *s, Buffer buf, HnswElementTuple etup, float *out)
{
	if (s->vecChunks == 0)
	{
		memcpy(out, etup->x, sizeof(float) * s->dims);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	else
		read_chunked(s, buf, etup, out);
}

/*
 * Distance from the query to element etup, on the share-locked buffer
 * buf; buf is unlocked on return (still pinned)
 */
static inline float
element_distance(HnswSearch *s, Buffer buf, HnswElementTuple etup)
{
	float		d;

	if (s->vecChunks == 0)
	{
		d = (float) HnswDist(s->dist, s->dims, s->q, etup->x);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	else
		d = (float) read_chunked(s, buf, etup, NULL);
	s->ndistances++;
	return d;
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
	*deleted = etup->deleted != 0;
	*heaptid = etup->heaptid;
	*dist = element_distance(s, s->buf, etup);
	return true;
}

/*
 * Distances from the query to n elements (n <= HNSW_READ_BATCH), with
 * their deleted flags and heap rows; ok[i] is false for an element that is
 * gone.  The pages are pinned together and their line pointers, then the
 * elements (with inline vectors, the vectors), prefetched before any is
 * read: the reads are bound by memory latency, and overlapping the misses
 * of a batch hides most of it.  Out-of-line vectors are read chunk by
 * chunk (read_chunked), one more page pinned at a time.
 */
void
HnswReadDistances(HnswSearch *s, const ItemPointerData *tids, int n, float *dist,
				  bool *deleted, ItemPointerData *heaptids, bool *ok)
{
	Buffer		bufs[HNSW_READ_BATCH];
	Size		vecbytes = offsetof(HnswElementTupleData, x) + HnswVectorBytes(s->dims, s->vecChunks);

	Assert(n <= HNSW_READ_BATCH);
	for (int i = 0; i < n; i++)
	{
		Page		page;

		bufs[i] = HnswPinBlock(s->index, ItemPointerGetBlockNumber(&tids[i]));
		page = BufferGetPage(bufs[i]);
		__builtin_prefetch(page);
		__builtin_prefetch(&((PageHeader) page)->pd_linp[ItemPointerGetOffsetNumber(&tids[i]) - 1]);
	}
	for (int i = 0; i < n; i++)
	{
		/* a hint only: line pointers of existing items never change */
		Page		page = BufferGetPage(bufs[i]);
		ItemId		itemid = &((PageHeader) page)->pd_linp[ItemPointerGetOffsetNumber(&tids[i]) - 1];
		const char *tup = (const char *) page + (ItemIdGetOffset(itemid) & (BLCKSZ - 1));

		for (Size off = 0; off < vecbytes && off < 1024; off += 64)
			__builtin_prefetch(tup + off);
	}
	for (int i = 0; i < n; i++)
	{
		Page		page;
		OffsetNumber offno = ItemPointerGetOffsetNumber(&tids[i]);
		ItemId		itemid;
		HnswElementTuple etup = NULL;

		LockBuffer(bufs[i], BUFFER_LOCK_SHARE);
		page = BufferGetPage(bufs[i]);
		if (offno <= PageGetMaxOffsetNumber(page))
		{
			itemid = PageGetItemId(page, offno);
			if (ItemIdIsNormal(itemid))
			{
				etup = (HnswElementTuple) PageGetItem(page, itemid);
				if (etup->type != HNSW_ELEMENT_TUPLE)
					etup = NULL;
			}
		}
		ok[i] = etup != NULL;
		if (etup != NULL)
		{
			deleted[i] = etup->deleted != 0;
			heaptids[i] = etup->heaptid;
			dist[i] = element_distance(s, bufs[i], etup);
		}
		else
			LockBuffer(bufs[i], BUFFER_LOCK_UNLOCK);
		ReleaseBuffer(bufs[i]);
	}
}

/*
 * Distance from the query to the element at tid; false if it is gone
 */
bool
HnswReadDistance(HnswSearch *s, ItemPointer tid, float *dist, bool *deleted)
{
	ItemPointerData heaptid;

	return HnswReadDistanceHeap(s, tid, dist, deleted, &heaptid);
}

/*
 * Copy the element's vector to out; false if it is gone
 */
bool
HnswReadVector(HnswSearch *s, ItemPointer tid, float *out)
{
	HnswElementTuple etup = lock_element(s, tid);

	if (etup == NULL)
	{
		LockBuffer(s->buf, BUFFER_LOCK_UNLOCK);
		return false;
	}
	HnswCopyVector(s, s->buf, etup, out);
	return true;
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
		ItemPointer slots = HnswElementNeighbors(etup, s->dims, s->vecChunks);
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
 * paper.  out must have room for ef candidates.  The entry points count as
 * results only if epsLive: a greedy descent can end on a deleted element,
 * and an insert must never link to one (VACUUM frees deleted elements once
 * no live list points at them; see README).
 */
int
HnswSearchLayer(HnswSearch *s, HnswCandidate *eps, int neps, bool epsLive, int ef, int level,
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
		if (!epsLive)
			continue;
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
		for (int start = 0; start < nn; start += HNSW_READ_BATCH)
		{
			ItemPointerData batch[HNSW_READ_BATCH];
			ItemPointerData heaptids[HNSW_READ_BATCH];
			float		d[HNSW_READ_BATCH];
			bool		deleted[HNSW_READ_BATCH];
			bool		ok[HNSW_READ_BATCH];
			int			nb = 0;

			for (int i = start; i < Min(nn, start + HNSW_READ_BATCH); i++)
			{
				bool		seen;

				HnswVisitedAdd(&s->visited, &s->nbrs[i], &seen);
				if (!seen)
					batch[nb++] = s->nbrs[i];
			}
			HnswReadDistances(s, batch, nb, d, deleted, heaptids, ok);
			for (int i = 0; i < nb; i++)
			{
				if (!ok[i] || (found.n >= ef && d[i] >= found.items[0].dist))
					continue;
				HnswHeapPush(&cand, d[i], &batch[i]);
				if (!deleted[i])
				{
					HnswHeapPush(&found, d[i], &batch[i]);
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
