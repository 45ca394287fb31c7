/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *		Build an hnsw index: the graph in memory, then pages in one pass.
 *
 * The heap is scanned once; each vector is inserted into an in-memory
 * graph (Algorithm 1 of the paper) whose elements are numbered in scan
 * order.  At the end every element is given its item pointer (pages are
 * filled in element order), and the pages are written with neighbour
 * numbers translated to item pointers, then WAL-logged as full images.
 *
 * Memory is bounded by maintenance_work_mem.  When the graph outgrows it,
 * the graph built so far is written out and the remaining rows are
 * inserted through the on-disk insert path (slower, never failing).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"

#define HNSW_BUILD_SEED 20261122
#define ARENA_BLOCK_SIZE (1024 * 1024)

/* An element of the in-memory graph */
/*
 * An element of the in-memory graph.  Its level-0 block (neighbour count,
 * 2m slots, their 2m distances, then the vector) lives in chunks addressed
 * by element number, so a search touches one contiguous block per element,
 * as in hnswlib.  Levels above 0 (rare) keep counts[level], then per level
 * m slots and m distances, in upper.
 */
typedef struct GraphElement
{
	ItemPointerData heaptid;
	uint8		level;
	int32	   *upper;
} GraphElement;

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	int			dims;
	int			m;
	int			efConstruction;
	HnswDistance dist;

	/* the graph: level-0 blocks in chunks of 2^blockShift elements */
	char	  **blockChunks;
	int			nBlockChunks;
	int			blockShift;
	Size		blockSize;
	Size		vecOffset;		/* of the vector within a block */
	GraphElement *elements;
	int			n;
	int			cap;
	int			entry;			/* element number, or -1 */
	int			entryLevel;
	pg_prng_state prng;

	/* memory */
	MemoryContext graphCtx;
	char	   *arena;
	Size		arenaFree;
	Size		memUsed;
	Size		memLimit;
	bool		onDisk;			/* graph written; rows now go through hnswinsert */

	/* search scratch */
	uint32	   *visitedGen;
	uint32		gen;
	HnswHeap	cand;
	HnswHeap	found;
	HnswCandidate *layer;		/* ef_construction results of one level */
	float	   *selDist;
	int		   *sel;
	int32	   *tmpNbrs;
	int32	   *batch;			/* unvisited neighbours of one element */
	HnswCandidate *eps;			/* entry points of the next level */
	HnswCandidate *links;		/* chosen neighbours of the element being added */
	float	   *vecBuf;
	MemoryContext tmpCtx;

	double		reltuples;
	double		indtuples;
} HnswBuildState;

/* Element numbers travel through HnswHeap in the block number field */
static inline void
idx_to_tid(int idx, ItemPointer tid)
{
	ItemPointerSetBlockNumber(tid, (BlockNumber) idx);
	tid->ip_posid = 1;
}

static inline int
tid_to_idx(const ItemPointerData *tid)
{
	return (int) ItemPointerGetBlockNumberNoCheck((ItemPointer) tid);
}

/*
 * Memory for the graph: a bump allocator inside maintenance_work_mem
 */
static void *
arena_alloc(HnswBuildState *bs, Size size)
{
	void	   *p;

	size = MAXALIGN(size);
	if (size > bs->arenaFree)
	{
		Size		block = Max(ARENA_BLOCK_SIZE, size);

		bs->arena = MemoryContextAllocHuge(bs->graphCtx, block);
		bs->arenaFree = block;
		bs->memUsed += block;
	}
	p = bs->arena;
	bs->arena += size;
	bs->arenaFree -= size;
	return p;
}

/* The level-0 block of element idx */
static inline char *
elem_block(HnswBuildState *bs, int idx)
{
	return bs->blockChunks[idx >> bs->blockShift] + (Size) (idx & ((1 << bs->blockShift) - 1)) * bs->blockSize;
}

/* The vector of element idx */
static inline float *
elem_vec(HnswBuildState *bs, int idx)
{
	return (float *) (elem_block(bs, idx) + bs->vecOffset);
}

/* Number of neighbours of element idx at a level */
static inline int32 *
nbr_count(HnswBuildState *bs, int idx, int level)
{
	if (level == 0)
		return (int32 *) elem_block(bs, idx);
	return &bs->elements[idx].upper[level - 1];
}

/* First neighbour slot of element idx at a level */
static inline int32 *
nbr_slots(HnswBuildState *bs, int idx, int level)
{
	GraphElement *e;

	if (level == 0)
		return (int32 *) elem_block(bs, idx) + 1;
	e = &bs->elements[idx];
	return e->upper + e->level + (level - 1) * 2 * bs->m;
}

/* Distances from element idx to its neighbours at a level */
static inline float *
nbr_dists(HnswBuildState *bs, int idx, int level)
{
	return (float *) (nbr_slots(bs, idx, level) + HnswLevelSlots(bs->m, level));
}

static inline float
elem_dist(HnswBuildState *bs, const float *q, int idx)
{
	return (float) HnswDist(&bs->dist, bs->dims, q, elem_vec(bs, idx));
}

/* Ask the CPU to start loading a vector (the search is memory bound) */
static inline void
prefetch_vec(HnswBuildState *bs, int idx)
{
	const char *p = (const char *) elem_vec(bs, idx);
	Size		len = sizeof(float) * bs->dims;

	for (Size off = 0; off < len && off < 1024; off += 64)
		__builtin_prefetch(p + off);
}

/*
 * Greedy descent in memory from ep down to level toLevel (inclusive)
 */
static HnswCandidate
graph_greedy(HnswBuildState *bs, const float *q, HnswCandidate ep, int fromLevel, int toLevel)
{
	for (int level = fromLevel; level >= toLevel; level--)
	{
		bool		changed = true;

		while (changed)
		{
			int32	   *slots = nbr_slots(bs, tid_to_idx(&ep.tid), level);
			int			count = *nbr_count(bs, tid_to_idx(&ep.tid), level);

			changed = false;
			for (int i = 0; i < count; i++)
			{
				float		d = elem_dist(bs, q, slots[i]);

				if (d < ep.dist)
				{
					ep.dist = d;
					idx_to_tid(slots[i], &ep.tid);
					changed = true;
				}
			}
		}
	}
	return ep;
}

/* qsort comparator: nearest first, then lower element number */
static int
candidate_cmp(const void *a, const void *b)
{
	const HnswCandidate *ca = a;
	const HnswCandidate *cb = b;

	if (ca->dist != cb->dist)
		return ca->dist < cb->dist ? -1 : 1;
	return tid_to_idx(&ca->tid) < tid_to_idx(&cb->tid) ? -1 : 1;
}

/*
 * Search one level of the in-memory graph (Algorithm 2); results nearest
 * first in bs->layer
 */
static int
graph_search_layer(HnswBuildState *bs, const float *q, HnswCandidate *eps, int neps, int level)
{
	int			ef = bs->efConstruction;
	HnswHeap   *cand = &bs->cand;
	HnswHeap   *found = &bs->found;

	if (++bs->gen == 0)
	{
		memset(bs->visitedGen, 0, sizeof(uint32) * bs->cap);
		bs->gen = 1;
	}
	cand->n = 0;
	found->n = 0;
	for (int i = 0; i < neps; i++)
	{
		int			idx = tid_to_idx(&eps[i].tid);

		if (bs->visitedGen[idx] == bs->gen)
			continue;
		bs->visitedGen[idx] = bs->gen;
		HnswHeapPush(cand, eps[i].dist, &eps[i].tid);
		HnswHeapPush(found, eps[i].dist, &eps[i].tid);
		if (found->n > ef)
			HnswHeapPop(found);
	}

	while (cand->n > 0)
	{
		HnswCandidate c = HnswHeapPop(cand);
		int32	   *slots;
		int			count;
		int			nnew;

		if (found->n >= ef && c.dist > found->items[0].dist)
			break;
		slots = nbr_slots(bs, tid_to_idx(&c.tid), level);
		count = *nbr_count(bs, tid_to_idx(&c.tid), level);

		/* first the unvisited neighbours, their vectors requested early */
		for (int i = 0; i < count; i++)
			__builtin_prefetch(&bs->visitedGen[slots[i]]);
		nnew = 0;
		for (int i = 0; i < count; i++)
		{
			int			nb = slots[i];

			if (bs->visitedGen[nb] == bs->gen)
				continue;
			bs->visitedGen[nb] = bs->gen;
			bs->batch[nnew++] = nb;
			prefetch_vec(bs, nb);
		}
		for (int i = 0; i < nnew; i++)
		{
			int			nb = bs->batch[i];
			float		d = elem_dist(bs, q, nb);

			if (found->n < ef || d < found->items[0].dist)
			{
				ItemPointerData tid;

				idx_to_tid(nb, &tid);
				HnswHeapPush(cand, d, &tid);
				HnswHeapPush(found, d, &tid);
				if (found->n > ef)
					HnswHeapPop(found);
			}
		}
	}

	memcpy(bs->layer, found->items, sizeof(HnswCandidate) * found->n);
	qsort(bs->layer, found->n, sizeof(HnswCandidate), candidate_cmp);
	return found->n;
}

/* Pairwise distance between two candidates of bs->layer */
static float
layer_pairdist(void *ctx, int i, int j)
{
	HnswBuildState *bs = ctx;

	return elem_dist(bs, elem_vec(bs, tid_to_idx(&bs->layer[i].tid)),
					 tid_to_idx(&bs->layer[j].tid));
}

/*
 * Add a link from element s to element add at a level; a full list drops
 * the candidate the heuristic would drop (HnswPickDropped)
 */
static void
graph_connect(HnswBuildState *bs, int s, int add, float d, int level)
{
	int32	   *countp = nbr_count(bs, s, level);
	int32	   *slots = nbr_slots(bs, s, level);
	float	   *dists = nbr_dists(bs, s, level);
	int			count = *countp;
	int			max = HnswLevelSlots(bs->m, level);
	HnswCandidate *layer = bs->layer;
	int			drop;
	int			n = 0;

	if (count < max)
	{
		slots[count] = add;
		dists[count] = d;
		*countp = count + 1;
		return;
	}

	/* full: the old neighbours and the new one, nearest first */
	for (int i = 0; i < count; i++)
	{
		layer[i].dist = dists[i];
		idx_to_tid(slots[i], &layer[i].tid);
		prefetch_vec(bs, slots[i]);
	}
	layer[count].dist = d;
	idx_to_tid(add, &layer[count].tid);
	qsort(layer, count + 1, sizeof(HnswCandidate), candidate_cmp);
	for (int i = 0; i <= count; i++)
		bs->selDist[i] = layer[i].dist;
	drop = HnswPickDropped(count + 1, bs->selDist, layer_pairdist, bs);
	for (int i = 0; i <= count; i++)
	{
		if (i == drop)
			continue;
		slots[n] = tid_to_idx(&layer[i].tid);
		dists[n] = layer[i].dist;
		n++;
	}
	*countp = n;
}

/*
 * Insert element idx into the in-memory graph (Algorithm 1)
 */
static void
graph_insert(HnswBuildState *bs, int idx)
{
	GraphElement *e = &bs->elements[idx];
	const float *q = elem_vec(bs, idx);
	HnswCandidate ep;
	HnswCandidate *eps;
	int			neps;

	if (bs->entry < 0)
	{
		bs->entry = idx;
		bs->entryLevel = e->level;
		return;
	}

	ep.dist = elem_dist(bs, q, bs->entry);
	idx_to_tid(bs->entry, &ep.tid);
	if (bs->entryLevel > e->level)
		ep = graph_greedy(bs, q, ep, bs->entryLevel, e->level + 1);

	eps = bs->eps;
	eps[0] = ep;
	neps = 1;
	for (int level = Min(e->level, bs->entryLevel); level >= 0; level--)
	{
		int			n = graph_search_layer(bs, q, eps, neps, level);
		int			max = HnswLevelSlots(bs->m, level);
		int			nsel;
		int32	   *slots = nbr_slots(bs, idx, level);

		for (int i = 0; i < n; i++)
			bs->selDist[i] = bs->layer[i].dist;
		nsel = HnswSelectNeighbors(n, bs->selDist, max, layer_pairdist, bs, bs->sel);
		for (int i = 0; i < nsel; i++)
		{
			bs->links[i] = bs->layer[bs->sel[i]];
			slots[i] = tid_to_idx(&bs->links[i].tid);
			nbr_dists(bs, idx, level)[i] = bs->links[i].dist;
		}
		*nbr_count(bs, idx, level) = nsel;

		/* the layer's results are the next level's entry points */
		memcpy(eps, bs->layer, sizeof(HnswCandidate) * n);
		neps = n;

		/* graph_connect reuses the scratch arrays: links holds what it needs */
		for (int i = 0; i < nsel; i++)
			graph_connect(bs, tid_to_idx(&bs->links[i].tid), idx, bs->links[i].dist, level);
	}

	if (e->level > bs->entryLevel)
	{
		bs->entry = idx;
		bs->entryLevel = e->level;
	}
}

/*
 * Highest level whose element tuple still fits on a page
 */
static int
max_fitting_level(int dims, int m)
{
	int			level = HNSW_MAX_LEVEL;

	while (level > 0 && HNSW_ELEMENT_TUPLE_SIZE(dims, m, level) > HNSW_MAX_ITEM_SIZE)
		level--;
	return level;
}

/*
 * Add one vector to the in-memory graph
 */
static void
graph_add(HnswBuildState *bs, ItemPointer heaptid, const float *vec)
{
	GraphElement *e;
	int			level;

	if (bs->n == bs->cap)
	{
		bs->cap *= 2;
		bs->elements = repalloc_huge(bs->elements, sizeof(GraphElement) * bs->cap);
		bs->visitedGen = repalloc_huge(bs->visitedGen, sizeof(uint32) * bs->cap);
		memset(bs->visitedGen + bs->cap / 2, 0, sizeof(uint32) * (bs->cap / 2));
		bs->memUsed += (sizeof(GraphElement) + sizeof(uint32)) * (bs->cap / 2);
	}

	level = (int) floor(-log(1 - pg_prng_double(&bs->prng)) / log(bs->m));
	level = Min(level, max_fitting_level(bs->dims, bs->m));

	if ((bs->n >> bs->blockShift) >= bs->nBlockChunks)
	{
		Size		chunk = ((Size) 1 << bs->blockShift) * bs->blockSize;

		bs->blockChunks = repalloc(bs->blockChunks, sizeof(char *) * (bs->nBlockChunks + 1));
		bs->blockChunks[bs->nBlockChunks++] = MemoryContextAllocHuge(bs->graphCtx, chunk);
		bs->memUsed += chunk;
	}
	e = &bs->elements[bs->n];
	e->heaptid = *heaptid;
	e->level = level;
	*nbr_count(bs, bs->n, 0) = 0;
	memcpy(elem_vec(bs, bs->n), vec, sizeof(float) * bs->dims);
	e->upper = NULL;
	if (level > 0)
	{
		e->upper = arena_alloc(bs, sizeof(int32) * (level + (Size) level * 2 * bs->m));
		memset(e->upper, 0, sizeof(int32) * level);
	}

	graph_insert(bs, bs->n);
	bs->n++;
}

/*
 * Write the in-memory graph to pages: metapage, then data pages
 */
static void
write_graph(HnswBuildState *bs)
{
	ItemPointerData *tids = palloc_extended(sizeof(ItemPointerData) * Max(bs->n, 1), MCXT_ALLOC_HUGE);
	BlockNumber blkno = HNSW_FIRST_DATA_BLKNO;
	OffsetNumber offno = 0;
	Size		lower = SizeOfPageHeaderData;
	Size		upper = BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData));
	Size		maxsize = HNSW_ELEMENT_TUPLE_SIZE(bs->dims, bs->m, HNSW_MAX_LEVEL);
	HnswElementTuple etup = palloc0(maxsize);
	Buffer		buf;
	Page		page;
	HnswMetaPage meta;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 3);

	/* pass 1: where each element goes, simulating the page fill */
	for (int i = 0; i < bs->n; i++)
	{
		Size		sz = MAXALIGN(HNSW_ELEMENT_TUPLE_SIZE(bs->dims, bs->m, bs->elements[i].level));

		if (lower + sizeof(ItemIdData) + sz > upper)
		{
			blkno++;
			offno = 0;
			lower = SizeOfPageHeaderData;
			upper = BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData));
		}
		lower += sizeof(ItemIdData);
		upper -= sz;
		ItemPointerSet(&tids[i], blkno, ++offno);
	}

	/* the metapage */
	buf = ReadBufferExtended(bs->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(buf) == HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	meta->magic = HNSW_MAGIC_NUMBER;
	meta->version = HNSW_VERSION;
	meta->dims = bs->dims;
	meta->m = bs->m;
	meta->efConstruction = bs->efConstruction;
	meta->entryBlkno = InvalidBlockNumber;
	meta->entryOffno = InvalidOffsetNumber;
	meta->entryLevel = -1;
	if (bs->entry >= 0)
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(&tids[bs->entry]);
		meta->entryOffno = ItemPointerGetOffsetNumber(&tids[bs->entry]);
		meta->entryLevel = bs->entryLevel;
	}
	meta->lastBlkno = bs->n > 0 ? blkno : InvalidBlockNumber;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	/* pass 2: the data pages */
	buf = InvalidBuffer;
	page = NULL;
	for (int i = 0; i < bs->n; i++)
	{
		GraphElement *e = &bs->elements[i];
		Size		sz = HNSW_ELEMENT_TUPLE_SIZE(bs->dims, bs->m, e->level);
		ItemPointer nbrs = HnswElementNeighbors(etup, bs->dims);

		if (!BufferIsValid(buf) || BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&tids[i]))
		{
			Buffer		next = ReadBufferExtended(bs->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);

			LockBuffer(next, BUFFER_LOCK_EXCLUSIVE);
			if (BufferGetBlockNumber(next) != ItemPointerGetBlockNumber(&tids[i]))
				elog(ERROR, "hnsw build: expected block %u, got %u",
					 ItemPointerGetBlockNumber(&tids[i]), BufferGetBlockNumber(next));
			if (BufferIsValid(buf))
			{
				HnswPageGetOpaque(page)->nextblkno = BufferGetBlockNumber(next);
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = next;
			page = BufferGetPage(buf);
			HnswInitPage(page, HNSW_PAGE_DATA);
			CHECK_FOR_INTERRUPTS();
		}

		memset(etup, 0, sz);
		etup->type = HNSW_ELEMENT_TUPLE;
		etup->level = e->level;
		etup->heaptid = e->heaptid;
		memcpy(etup->x, elem_vec(bs, i), sizeof(float) * bs->dims);
		for (int level = 0; level <= e->level; level++)
		{
			int32	   *slots = nbr_slots(bs, i, level);
			int			count = *nbr_count(bs, i, level);
			int			start = level == 0 ? 0 : HnswTotalSlots(bs->m, level - 1);

			for (int j = 0; j < HnswLevelSlots(bs->m, level); j++)
			{
				if (j < count)
					nbrs[start + j] = tids[slots[j]];
				else
					ItemPointerSetInvalid(&nbrs[start + j]);
			}
		}
		if (PageAddItem(page, (Item) etup, sz, InvalidOffsetNumber, false, false) !=
			ItemPointerGetOffsetNumber(&tids[i]))
			elog(ERROR, "hnsw build: failed to add element to index \"%s\"",
				 RelationGetRelationName(bs->index));
	}
	if (BufferIsValid(buf))
	{
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}

	if (RelationNeedsWAL(bs->index))
		log_newpage_range(bs->index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(bs->index), true);

	pfree(etup);
	pfree(tids);
}

/*
 * Called for each heap tuple by the build scan
 */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = state;
	MemoryContext oldCtx;

	bs->reltuples++;
	if (isnull[0])
		return;

	if (bs->onDisk)
	{
		HnswInsertTuple(index, values[0], tid, false);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
		return;
	}

	oldCtx = MemoryContextSwitchTo(bs->tmpCtx);
	if (HnswPrepareVector(&bs->dist, index, values[0], bs->vecBuf, bs->dims))
	{
		MemoryContextSwitchTo(oldCtx);
		graph_add(bs, tid, bs->vecBuf);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);

		if (bs->memUsed > bs->memLimit)
		{
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem after " INT64_FORMAT " tuples",
							(int64) bs->indtuples),
					 errdetail("Building will take significantly more time."),
					 errhint("Increase maintenance_work_mem to speed up builds.")));
			write_graph(bs);
			bs->onDisk = true;
		}
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * Dimensions of the indexed column, with the limits an element tuple sets
 */
static int
index_dims(Relation index, int m)
{
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	int			maxdims = 1;

	if (dims < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with its dimensions, for example vector(384).")));
	while (HNSW_ELEMENT_TUPLE_SIZE(maxdims + 1, m, 0) <= HNSW_MAX_ITEM_SIZE)
		maxdims++;
	if (dims > maxdims)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for hnsw index with m = %d", maxdims, m),
				 errhint("Use a smaller m, or reduce the dimensions with subvector() in an expression index.")));
	return dims;
}

/*
 * Set up the build state
 */
static void
init_build_state(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	int			efc;

	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->indexInfo = indexInfo;
	bs->m = HnswGetM(index);
	bs->efConstruction = efc = HnswGetEfConstruction(index);
	if (efc < 2 * bs->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("ef_construction is %d and m is %d.", efc, bs->m)));
	bs->dims = index_dims(index, bs->m);
	HnswInitDistance(index, &bs->dist);

	bs->graphCtx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph", ALLOCSET_DEFAULT_SIZES);
	bs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build temporary", ALLOCSET_DEFAULT_SIZES);
	bs->memLimit = (Size) maintenance_work_mem * 1024;
	bs->cap = 1024;
	bs->elements = palloc(sizeof(GraphElement) * bs->cap);
	bs->visitedGen = palloc0(sizeof(uint32) * bs->cap);
	bs->entry = -1;
	bs->entryLevel = -1;
	pg_prng_seed(&bs->prng, HNSW_BUILD_SEED);

	/* level-0 blocks in chunks of about 4 MB, a power of two elements each */
	bs->vecOffset = sizeof(int32) * (1 + 4 * bs->m);
	bs->blockSize = MAXALIGN(bs->vecOffset + sizeof(float) * bs->dims);
	bs->blockShift = 0;
	while (((Size) 2 << bs->blockShift) * bs->blockSize <= 4 * 1024 * 1024)
		bs->blockShift++;
	bs->blockChunks = palloc(sizeof(char *));
	bs->nBlockChunks = 0;

	HnswHeapInit(&bs->cand, false, efc * 4);
	HnswHeapInit(&bs->found, true, efc + 1);
	bs->layer = palloc(sizeof(HnswCandidate) * Max(efc + 1, 2 * HNSW_MAX_M + 1));
	bs->selDist = palloc(sizeof(float) * Max(efc + 1, 2 * HNSW_MAX_M + 1));
	bs->sel = palloc(sizeof(int) * Max(efc + 1, 2 * HNSW_MAX_M + 1));
	bs->tmpNbrs = palloc(sizeof(int32) * (2 * HNSW_MAX_M + 1));
	bs->batch = palloc(sizeof(int32) * (2 * HNSW_MAX_M + 1));
	bs->eps = palloc(sizeof(HnswCandidate) * (efc + 1));
	bs->links = palloc(sizeof(HnswCandidate) * (2 * HNSW_MAX_M + 1));
	bs->vecBuf = palloc(sizeof(float) * bs->dims);
}

/*
 * Build a new index (ambuild)
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	HnswBuildState bs;
	IndexBuildResult *result;

	init_build_state(&bs, heap, index, indexInfo);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) Max(heap->rd_rel->reltuples, 0));

	table_index_build_scan(heap, index, indexInfo, true, true, build_callback, &bs, NULL);

	if (!bs.onDisk)
		write_graph(&bs);

	MemoryContextDelete(bs.graphCtx);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * Build the init fork of an unlogged index: an empty metapage
 */
void
hnswbuildempty(Relation index)
{
	int			m = HnswGetM(index);
	int			dims = index_dims(index, m);
	Buffer		buf = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Page		page;
	HnswMetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	START_CRIT_SECTION();
	page = BufferGetPage(buf);
	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	meta->magic = HNSW_MAGIC_NUMBER;
	meta->version = HNSW_VERSION;
	meta->dims = dims;
	meta->m = m;
	meta->efConstruction = HnswGetEfConstruction(index);
	meta->entryBlkno = InvalidBlockNumber;
	meta->entryOffno = InvalidOffsetNumber;
	meta->entryLevel = -1;
	meta->lastBlkno = InvalidBlockNumber;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
}
