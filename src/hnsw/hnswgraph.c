/*-------------------------------------------------------------------------
 *
 * hnswgraph.c
 *		The in-memory graph of an index build, in local or shared memory.
 *
 * Elements are numbered in the order they are added.  Each element has a
 * level-0 block (neighbour count, then 2m neighbour numbers, in no
 * particular order) and a vector, both addressed by element number; levels
 * above 0 (rare) keep, in the "upper" area, counts[level] then m numbers
 * per level.  Everything is addressed by number or offset, never by
 * pointer, so the same graph can live in a dynamic shared memory segment
 * mapped at different addresses by parallel workers.
 *
 * Vectors are most of the memory (400 of 548 bytes per element for 100
 * dimensions and m = 16).  When a serial build's graph outgrows
 * maintenance_work_mem, the vectors move to a temporary file that the
 * build maps read-only into its address space (HnswGraphSpill): the
 * kernel's page cache serves them at memory speed while the machine has
 * memory to spare, the build's own memory then holds only the neighbour
 * lists, and later vectors are appended to the file.
 *
 * In a serial build the graph grows in local memory.  In a parallel build
 * it has a fixed capacity in shared memory; each element has an LWLock
 * that guards its neighbour lists (held only to copy or rewrite one list,
 * never two at once), vectors never change once added, and the entry point
 * is guarded by the shared mutex.  A new element's lists are complete at
 * every level before any other element links to it (publish_links).
 *
 * Before its pages are written, the graph is made to reach every element
 * from the entry point (HnswGraphRepairReach).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswgraph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#ifndef WIN32
#include <sys/mman.h>
#endif

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "compat.h"
#include "hnsw.h"

#define HNSW_BLOCK_CHUNK_BYTES (4 * 1024 * 1024)

/* Wait event name of the element locks of a parallel build */
#define HNSW_BUILD_LOCK_TRANCHE "vecrec_hnsw_build"

/*
 * Tranche of the element locks of the parallel builds this backend leads:
 * one per backend, not one per build, as tranche ids are never reused (and
 * an LWLock keeps only 16 bits of it)
 */
static int	buildLockTranche = 0;

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

static bool spill_map(HnswGraph *g, MemoryContext ctx);

/* The level-0 block of element idx */
static inline char *
elem_block(HnswGraph *g, int idx)
{
	return g->blockChunks[idx >> g->blockShift] + (Size) (idx & ((1 << g->blockShift) - 1)) * g->blockSize;
}

/*
 * The vector of element idx
 */
float *
HnswGraphVector(HnswGraph *g, int idx)
{
	if (g->vecMap)
		return (float *) (g->vecMap + (Size) idx * g->vecSize);
	return (float *) (g->vecArena[idx >> g->vecShift] + (Size) (idx & ((1 << g->vecShift) - 1)) * g->vecSize);
}

/*
 * Number of neighbours of element idx at a level
 */
int32 *
HnswGraphCount(HnswGraph *g, int idx, int level)
{
	if (level == 0)
		return (int32 *) elem_block(g, idx);
	return g->upper + g->elements[idx].upper + level - 1;
}

/*
 * Neighbour numbers of element idx at a level
 */
int32 *
HnswGraphSlots(HnswGraph *g, int idx, int level)
{
	HnswGraphElement *e;

	if (level == 0)
		return (int32 *) elem_block(g, idx) + 1;
	e = &g->elements[idx];
	return g->upper + e->upper + e->level + (level - 1) * g->m;
}

/*
 * Lock the neighbour lists of element idx (parallel builds only).  These
 * are LWLocks, not spinlocks: a list is rewritten under its lock after
 * computing distances, which may call an operator class's function -- and
 * an error there must not leave the lock held (spinlocks are not released
 * on abort, and the other participants would spin until a PANIC).
 */
static inline void
lock_elem(HnswGraph *g, int idx, LWLockMode mode)
{
	if (g->locks)
		LWLockAcquire(&g->locks[idx], mode);
}

static inline void
unlock_elem(HnswGraph *g, int idx)
{
	if (g->locks)
		LWLockRelease(&g->locks[idx]);
}

static inline float
elem_dist(HnswGraph *g, const float *q, int idx)
{
	return (float) HnswDist(&g->dist, g->dims, q, HnswGraphVector(g, idx));
}

/* Ask the CPU to start loading a vector (the search is memory bound) */
static inline void
prefetch_vec(HnswGraph *g, int idx)
{
	const char *p = (const char *) HnswGraphVector(g, idx);
	Size		len = sizeof(float) * g->dims;

	for (Size off = 0; off < len && off < 1024; off += 64)
		__builtin_prefetch(p + off);
}

/*
 * Copy the neighbours of element idx at a level into g->nbrCopy; returns
 * how many (under the element's lock in a parallel build)
 */
static int
copy_neighbors(HnswGraph *g, int idx, int level)
{
	int			n;

	lock_elem(g, idx, LW_SHARED);
	n = *HnswGraphCount(g, idx, level);
	memcpy(g->nbrCopy, HnswGraphSlots(g, idx, level), sizeof(int32) * n);
	unlock_elem(g, idx);
	return n;
}

/* --- layout ------------------------------------------------------------- */

/*
 * Fill in the sizes of a graph for these dimensions and m
 */
static void
graph_layout(HnswGraph *g, int dims, int m, int efConstruction)
{
	g->dims = dims;
	g->m = m;
	g->vecChunks = HnswVecChunksFor(dims, m);
	g->efConstruction = efConstruction;
	g->blockSize = sizeof(int32) * (1 + 2 * m);
	g->vecSize = sizeof(float) * dims;
}

/* Expected upper-area int32s per element: levels 1.. have probability 1/m^l */
static uint64
upper_per_capacity(int m, uint32 capacity)
{
	/* sum over l >= 1 of m^-l * (1 + m) per level, with room to spare */
	return (uint64) ceil((double) capacity * 2.0 * (1 + m) / (m - 1)) + 1024 * (1 + m);
}

/* Chunk shift: the largest power of two of items of this size in chunkBytes */
static int
chunk_shift(Size itemSize, Size chunkBytes)
{
	int			shift = 0;

	while (((Size) 2 << shift) * itemSize <= chunkBytes)
		shift++;
	return shift;
}

/*
 * Bytes of shared memory for a graph of this capacity
 */
Size
HnswGraphShmemSize(int dims, int m, uint32 capacity, bool spilled)
{
	HnswGraph	g;
	Size		size = MAXALIGN(sizeof(HnswGraphShared));

	graph_layout(&g, dims, m, 0);
	size = add_size(size, MAXALIGN(mul_size(sizeof(HnswGraphElement), capacity)));
	size = add_size(size, MAXALIGN(mul_size(g.blockSize, capacity)));
	if (!spilled)
		size = add_size(size, MAXALIGN(mul_size(g.vecSize, capacity)));
	size = add_size(size, MAXALIGN(mul_size(sizeof(LWLock), capacity)));
	size = add_size(size, mul_size(sizeof(int32), upper_per_capacity(m, capacity)));
	return size;
}

/*
 * Bytes per element of a serial build's graph, for memory estimates
 */
Size
HnswGraphElementSize(int dims, int m, bool spilled)
{
	HnswGraph	g;

	graph_layout(&g, dims, m, 0);
	return g.blockSize + (spilled ? 0 : g.vecSize) + sizeof(HnswGraphElement) + sizeof(uint32) + sizeof(LWLock) +
		sizeof(int32) * 2 * (1 + m) / (m - 1) + 1;
}

/*
 * Lay out an empty graph in shared memory (by the leader)
 */
void
HnswGraphInitShared(HnswGraphShared *sh, int dims, int m, uint32 capacity, dsm_segment *seg,
					bool spilled)
{
	HnswGraph	g;
	Size		off = MAXALIGN(sizeof(HnswGraphShared));
	LWLock	   *locks;

	graph_layout(&g, dims, m, 0);
	SpinLockInit(&sh->mutex);
	sh->entry = -1;
	sh->entryLevel = -1;
	pg_atomic_init_u32(&sh->n, 0);
	pg_atomic_init_u64(&sh->upperUsed, 1);	/* 0 means "none" */
	sh->capacity = capacity;
	sh->upperCapacity = upper_per_capacity(m, capacity);
	sh->elementsOffset = off;
	off += MAXALIGN(sizeof(HnswGraphElement) * capacity);
	sh->blocksOffset = off;
	off += MAXALIGN(g.blockSize * capacity);
	sh->vectorsOffset = off;
	if (!spilled)
		off += MAXALIGN(g.vecSize * capacity);
	sh->locksOffset = off;
	off += MAXALIGN(sizeof(LWLock) * capacity);
	sh->upperOffset = off;

	if (buildLockTranche == 0)
		buildLockTranche = LWLockNewTrancheId();
	sh->lockTranche = buildLockTranche;
	LWLockRegisterTranche(sh->lockTranche, HNSW_BUILD_LOCK_TRANCHE);
	locks = (LWLock *) ((char *) sh + sh->locksOffset);
	for (uint32 i = 0; i < capacity; i++)
		LWLockInitialize(&locks[i], sh->lockTranche);

	/* vectors in a file of a shared file set, which every participant maps */
	sh->spilled = spilled;
	if (spilled)
	{
		SharedFileSetInit(&sh->fileset, seg);
		FileClose(FileSetCreate(&sh->fileset.fs, "vectors"));
	}
}

/*
 * Per-process scratch space for searches
 */
static void
init_scratch(HnswGraph *g, uint32 visitedCap)
{
	int			efc = g->efConstruction;
	int			maxlist = 2 * HNSW_MAX_M + 1;

	g->visitedGen = MemoryContextAllocExtended(g->ctx, sizeof(uint32) * Max(visitedCap, 1),
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	g->visitedCap = visitedCap;
	g->gen = 0;
	HnswHeapInit(&g->cand, false, efc * 4);
	HnswHeapInit(&g->found, true, efc + 1);
	g->layer = palloc(sizeof(HnswCandidate) * Max(efc + 1, maxlist));
	g->selDist = palloc(sizeof(float) * Max(efc + 1, maxlist));
	g->sel = palloc(sizeof(int) * Max(efc + 1, maxlist));
	g->batch = palloc(sizeof(int32) * maxlist);
	g->nbrCopy = palloc(sizeof(int32) * maxlist);
	g->eps = palloc(sizeof(HnswCandidate) * (efc + 1));
	g->links = palloc(sizeof(HnswCandidate) * HnswNewLinks(g->m) * (HNSW_MAX_LEVEL + 1));
}

/*
 * A growing graph in local memory (serial build)
 */
void
HnswGraphInitLocal(HnswGraph *g, Relation index, int dims, int m, int efConstruction, Size memLimit)
{
	/* chunks small enough that a small maintenance_work_mem is not spent at once */
	Size		chunkBytes = Max(Min(HNSW_BLOCK_CHUNK_BYTES, memLimit / 16), 64 * 1024);

	memset(g, 0, sizeof(*g));
	graph_layout(g, dims, m, efConstruction);
	HnswInitDistance(index, &g->dist);
	g->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph", ALLOCSET_DEFAULT_SIZES);
	g->vecFile = -1;
	g->cap = 64;
	g->elements = MemoryContextAllocHuge(g->ctx, sizeof(HnswGraphElement) * g->cap);
	g->blockShift = chunk_shift(g->blockSize, chunkBytes);
	g->blockChunks = MemoryContextAlloc(g->ctx, sizeof(char *));
	g->vecShift = chunk_shift(g->vecSize, chunkBytes);
	g->vecArena = MemoryContextAlloc(g->ctx, sizeof(char *));
	g->upperCap = 256;
	g->upper = MemoryContextAllocHuge(g->ctx, sizeof(int32) * g->upperCap);
	g->upperUsed = 1;			/* 0 means "none" */
	g->entry = -1;
	g->entryLevel = -1;
	g->memUsed = sizeof(HnswGraphElement) * g->cap + sizeof(int32) * g->upperCap;
	init_scratch(g, g->cap);
}

/*
 * Attach to a graph in shared memory (leader and workers)
 */
void
HnswGraphAttach(HnswGraph *g, HnswGraphShared *sh, Relation index, int dims, int m,
				int efConstruction)
{
	memset(g, 0, sizeof(*g));
	graph_layout(g, dims, m, efConstruction);
	HnswInitDistance(index, &g->dist);
	g->ctx = CurrentMemoryContext;
	g->shared = sh;
	g->cap = sh->capacity;
	g->elements = (HnswGraphElement *) ((char *) sh + sh->elementsOffset);
	g->blockShift = 30;			/* one chunk holds them all */
	g->blockChunks = palloc(sizeof(char *));
	g->blockChunks[0] = (char *) sh + sh->blocksOffset;
	g->nBlockChunks = 1;
	g->vecShift = 30;
	g->vecArena = palloc(sizeof(char *));
	g->vecArena[0] = (char *) sh + sh->vectorsOffset;
	g->nVecArena = 1;
	g->vecFile = -1;
	if (sh->spilled)
	{
		g->vecFile = FileSetOpen(&sh->fileset.fs, "vectors", O_RDWR);
		if (!spill_map(g, CurrentMemoryContext))
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not map the vector file of a parallel hnsw index build: %m")));
	}
	g->locks = (LWLock *) ((char *) sh + sh->locksOffset);
	LWLockRegisterTranche(sh->lockTranche, HNSW_BUILD_LOCK_TRANCHE);
	g->upper = (int32 *) ((char *) sh + sh->upperOffset);
	g->upperCap = sh->upperCapacity;
	init_scratch(g, sh->capacity);
}

/*
 * Number of elements in the graph
 */
int
HnswGraphSize(HnswGraph *g)
{
	if (g->shared)
		return (int) Min(pg_atomic_read_u32(&g->shared->n), g->shared->capacity);
	return g->n;
}

/*
 * The entry point and its level
 */
void
HnswGraphEntry(HnswGraph *g, int *entry, int *level)
{
	if (g->shared)
	{
		SpinLockAcquire(&g->shared->mutex);
		*entry = g->shared->entry;
		*level = g->shared->entryLevel;
		SpinLockRelease(&g->shared->mutex);
	}
	else
	{
		*entry = g->entry;
		*level = g->entryLevel;
	}
}

/* --- searching ---------------------------------------------------------- */

/*
 * Greedy descent from ep down to level toLevel (inclusive); when allowed is
 * given, only through elements it allows
 */
static HnswCandidate
graph_greedy(HnswGraph *g, const float *q, HnswCandidate ep, int fromLevel, int toLevel,
			 const bool *allowed)
{
	for (int level = fromLevel; level >= toLevel; level--)
	{
		bool		changed = true;

		while (changed)
		{
			int			count = copy_neighbors(g, tid_to_idx(&ep.tid), level);

			changed = false;
			for (int i = 0; i < count; i++)
			{
				float		d;

				if (allowed && !allowed[g->nbrCopy[i]])
					continue;
				d = elem_dist(g, q, g->nbrCopy[i]);

				if (d < ep.dist)
				{
					ep.dist = d;
					idx_to_tid(g->nbrCopy[i], &ep.tid);
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
 * Search one level (Algorithm 2) for element self's vector q; results
 * nearest first in g->layer.  self itself is never a result.  When allowed
 * is given, the search only goes through (and returns) elements it allows;
 * the entry points must be allowed.
 */
static int
graph_search_layer(HnswGraph *g, const float *q, int self, HnswCandidate *eps, int neps, int level,
				   const bool *allowed)
{
	int			ef = g->efConstruction;
	HnswHeap   *cand = &g->cand;
	HnswHeap   *found = &g->found;

	if (++g->gen == 0)
	{
		memset(g->visitedGen, 0, sizeof(uint32) * g->visitedCap);
		g->gen = 1;
	}
	g->visitedGen[self] = g->gen;
	cand->n = 0;
	found->n = 0;
	for (int i = 0; i < neps; i++)
	{
		int			idx = tid_to_idx(&eps[i].tid);

		if (g->visitedGen[idx] == g->gen)
			continue;
		g->visitedGen[idx] = g->gen;
		HnswHeapPush(cand, eps[i].dist, &eps[i].tid);
		HnswHeapPush(found, eps[i].dist, &eps[i].tid);
		if (found->n > ef)
			HnswHeapPop(found);
	}

	while (cand->n > 0)
	{
		HnswCandidate c = HnswHeapPop(cand);
		int			count;
		int			nnew = 0;

		if (found->n >= ef && c.dist > found->items[0].dist)
			break;
		count = copy_neighbors(g, tid_to_idx(&c.tid), level);

		/* first the unvisited neighbours, their vectors requested early */
		for (int i = 0; i < count; i++)
			__builtin_prefetch(&g->visitedGen[g->nbrCopy[i]]);
		for (int i = 0; i < count; i++)
		{
			int			nb = g->nbrCopy[i];

			if (g->visitedGen[nb] == g->gen)
				continue;
			g->visitedGen[nb] = g->gen;
			if (allowed && !allowed[nb])
				continue;
			g->batch[nnew++] = nb;
			prefetch_vec(g, nb);
		}
		for (int i = 0; i < nnew; i++)
		{
			int			nb = g->batch[i];
			float		d = elem_dist(g, q, nb);

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

	memcpy(g->layer, found->items, sizeof(HnswCandidate) * found->n);
	qsort(g->layer, found->n, sizeof(HnswCandidate), candidate_cmp);
	return found->n;
}

/* Pairwise distance between two candidates of g->layer */
static float
layer_pairdist(void *ctx, int i, int j)
{
	HnswGraph  *g = ctx;

	return elem_dist(g, HnswGraphVector(g, tid_to_idx(&g->layer[i].tid)), tid_to_idx(&g->layer[j].tid));
}

/* Whether two candidates of g->layer have the same vector */
static bool
layer_same(void *ctx, int i, int j)
{
	HnswGraph  *g = ctx;

	return memcmp(HnswGraphVector(g, tid_to_idx(&g->layer[i].tid)),
				  HnswGraphVector(g, tid_to_idx(&g->layer[j].tid)), g->vecSize) == 0;
}

/*
 * Add a link from element s to element add at distance d, at a level.  A
 * list with a free slot takes it.  A full list is cut back to the
 * candidates the heuristic keeps among the old neighbours and the newcomer
 * (without keepPrunedConnections, as hnswlib does): the freed slots take
 * the next links without any distance computation, where dropping one
 * candidate per overflow costs pairwise distances every time (measured on
 * GloVe-100: 12-17% fewer distances per build, same recall for the
 * distances a query computes).  The newcomer itself may be cut.  Holds s's
 * lock throughout: its list must not change under us.
 */
static void
graph_connect(HnswGraph *g, int s, int add, float d, int level)
{
	int32	   *countp;
	int32	   *slots;
	const float *svec = HnswGraphVector(g, s);
	int			count;
	int			max = HnswLevelSlots(g->m, level);
	HnswCandidate *layer = g->layer;
	int			n;

	lock_elem(g, s, LW_EXCLUSIVE);
	countp = HnswGraphCount(g, s, level);
	slots = HnswGraphSlots(g, s, level);
	count = *countp;
	/* in a parallel build, two elements linked in at once can pick each other */
	for (int i = 0; i < count; i++)
	{
		if (slots[i] == add)
		{
			unlock_elem(g, s);
			return;
		}
	}
	if (count < max)
	{
		slots[count] = add;
		*countp = count + 1;
		unlock_elem(g, s);
		return;
	}

	/* full: the old neighbours and the new one, nearest first */
	for (int i = 0; i < count; i++)
		prefetch_vec(g, slots[i]);
	for (int i = 0; i < count; i++)
	{
		layer[i].dist = elem_dist(g, svec, slots[i]);
		idx_to_tid(slots[i], &layer[i].tid);
	}
	layer[count].dist = d;
	idx_to_tid(add, &layer[count].tid);
	qsort(layer, count + 1, sizeof(HnswCandidate), candidate_cmp);
	for (int i = 0; i <= count; i++)
		g->selDist[i] = layer[i].dist;

	n = HnswSelectNeighbors(count + 1, g->selDist, max, false, layer_pairdist, layer_same, g, g->sel);
	for (int i = 0; i < n; i++)
		slots[i] = tid_to_idx(&layer[g->sel[i]].tid);
	*countp = n;
	unlock_elem(g, s);
}

/*
 * The links a new element chooses at a level: HnswNewLinks(m) of them per
 * level, in g->links
 */
static inline HnswCandidate *
level_links(HnswGraph *g, int level)
{
	return g->links + level * HnswNewLinks(g->m);
}

/*
 * Choose the neighbours of element idx at levels top down to bottom
 * (Algorithm 1 without its linking): greedy descent from the entry point
 * down to level top + 1, then a search and Algorithm 4 at each level, into
 * g->links and g->nlinks.  Only reads the graph.
 */
static void
choose_links(HnswGraph *g, int idx, int entry, int entryLevel, int top, int bottom)
{
	const float *q = HnswGraphVector(g, idx);
	HnswCandidate ep;
	HnswCandidate *eps = g->eps;
	int			neps;
	int			max = HnswNewLinks(g->m);

	ep.dist = elem_dist(g, q, entry);
	idx_to_tid(entry, &ep.tid);
	if (entryLevel > top)
		ep = graph_greedy(g, q, ep, entryLevel, top + 1, NULL);

	eps[0] = ep;
	neps = 1;
	for (int level = top; level >= bottom; level--)
	{
		int			n = graph_search_layer(g, q, idx, eps, neps, level, NULL);
		HnswCandidate *links = level_links(g, level);
		int			nsel;

		for (int i = 0; i < n; i++)
			g->selDist[i] = g->layer[i].dist;
		nsel = HnswSelectNeighbors(n, g->selDist, max, true, layer_pairdist, layer_same, g, g->sel);
		for (int i = 0; i < nsel; i++)
			links[i] = g->layer[g->sel[i]];
		g->nlinks[level] = nsel;

		/* the layer's results are the next level's entry points */
		memcpy(eps, g->layer, sizeof(HnswCandidate) * n);
		neps = n;
	}
}

/*
 * Write element idx's lists at levels top down to bottom from g->links,
 * then link its neighbours back to it.
 *
 * The order matters in a parallel build: once a neighbour links back, other
 * participants can reach idx and read its lists, so these must be complete
 * by then at every level being linked.  (Linking back level by level let a
 * concurrent insert descend into an element whose lower lists were still
 * empty: its search stopped there, and it linked to that element alone.)
 * In a serial build the order changes nothing: a link back at one level
 * only changes lists at that level, which the searches at the levels
 * below never read.
 */
static void
publish_links(HnswGraph *g, int idx, int top, int bottom)
{
	for (int level = top; level >= bottom; level--)
	{
		HnswCandidate *links = level_links(g, level);
		int32	   *slots;

		/* nobody links to idx before the links back below: no merging */
		lock_elem(g, idx, LW_EXCLUSIVE);
		slots = HnswGraphSlots(g, idx, level);
		for (int i = 0; i < g->nlinks[level]; i++)
			slots[i] = tid_to_idx(&links[i].tid);
		*HnswGraphCount(g, idx, level) = g->nlinks[level];
		unlock_elem(g, idx);
	}

	for (int level = top; level >= bottom; level--)
	{
		HnswCandidate *links = level_links(g, level);

		for (int i = 0; i < g->nlinks[level]; i++)
			graph_connect(g, tid_to_idx(&links[i].tid), idx, links[i].dist, level);
	}
}

/*
 * Make element idx the entry point if the graph is empty; otherwise return
 * false with the entry point and its level
 */
static bool
claim_first(HnswGraph *g, int idx, int *entry, int *entryLevel)
{
	bool		claimed = false;

	if (g->shared)
	{
		SpinLockAcquire(&g->shared->mutex);
		if (g->shared->entry < 0)
		{
			g->shared->entry = idx;
			g->shared->entryLevel = g->elements[idx].level;
			claimed = true;
		}
		*entry = g->shared->entry;
		*entryLevel = g->shared->entryLevel;
		SpinLockRelease(&g->shared->mutex);
	}
	else if (g->entry < 0)
	{
		g->entry = idx;
		g->entryLevel = g->elements[idx].level;
		claimed = true;
	}
	else
	{
		*entry = g->entry;
		*entryLevel = g->entryLevel;
	}
	return claimed;
}

/*
 * Make element idx, linked at every level up to *entryLevel, the entry
 * point: unless the entry point has risen since (to a level of another
 * element linked in meanwhile), in which case idx is not linked at the
 * levels in between yet; then return false with the new entry point.
 */
static bool
raise_entry(HnswGraph *g, int idx, int *entry, int *entryLevel)
{
	bool		raised = false;

	if (!g->shared)
	{
		g->entry = idx;
		g->entryLevel = g->elements[idx].level;
		return true;
	}
	SpinLockAcquire(&g->shared->mutex);
	/* levels only rise: the same level means the same entry point */
	if (g->shared->entryLevel == *entryLevel)
	{
		g->shared->entry = idx;
		g->shared->entryLevel = g->elements[idx].level;
		raised = true;
	}
	*entry = g->shared->entry;
	*entryLevel = g->shared->entryLevel;
	SpinLockRelease(&g->shared->mutex);
	return raised;
}

/*
 * Link element idx into the graph (Algorithm 1).  At the levels the entry
 * point has, idx is linked from the top down; if its own level is higher,
 * it becomes the entry point.  In a parallel build the entry point may
 * rise meanwhile: then idx is linked at the levels it missed, starting
 * from the new entry point, and tries again.
 */
static void
graph_insert(HnswGraph *g, int idx)
{
	int			level = g->elements[idx].level;
	int			entry;
	int			entryLevel;
	int			linked = -1;	/* idx is linked at levels 0 .. linked */

	if (claim_first(g, idx, &entry, &entryLevel))
		return;
	for (;;)
	{
		int			top = Min(level, entryLevel);

		if (top > linked)
		{
			choose_links(g, idx, entry, entryLevel, top, linked + 1);
			publish_links(g, idx, top, linked + 1);
			linked = top;
		}
		if (level <= linked || raise_entry(g, idx, &entry, &entryLevel))
			break;
	}
}

/* --- adding ------------------------------------------------------------- */

/*
 * Make room for one more element in a local graph
 */
static void
grow_local(HnswGraph *g)
{
	if (g->n == g->cap)
	{
		g->cap *= 2;
		g->elements = repalloc_huge(g->elements, sizeof(HnswGraphElement) * g->cap);
		g->visitedGen = repalloc_huge(g->visitedGen, sizeof(uint32) * g->cap);
		memset(g->visitedGen + g->cap / 2, 0, sizeof(uint32) * (g->cap / 2));
		g->visitedCap = g->cap;
		g->memUsed += (sizeof(HnswGraphElement) + sizeof(uint32)) * (g->cap / 2);
	}
	if ((g->n >> g->blockShift) >= g->nBlockChunks)
	{
		Size		chunk = ((Size) 1 << g->blockShift) * g->blockSize;

		g->blockChunks = repalloc(g->blockChunks, sizeof(char *) * (g->nBlockChunks + 1));
		g->blockChunks[g->nBlockChunks++] = MemoryContextAllocHuge(g->ctx, chunk);
		g->memUsed += chunk;
	}
	if (!g->vecMap && (g->n >> g->vecShift) >= g->nVecArena)
	{
		Size		chunk = ((Size) 1 << g->vecShift) * g->vecSize;

		g->vecArena = repalloc(g->vecArena, sizeof(char *) * (g->nVecArena + 1));
		g->vecArena[g->nVecArena++] = MemoryContextAllocHuge(g->ctx, chunk);
		g->memUsed += chunk;
		g->vecMemUsed += chunk;
	}
}

/*
 * Room for an element's upper levels: an offset into the upper area, or 0
 * when a shared graph's area is exhausted (the element then stays at
 * level 0)
 */
static uint32
alloc_upper(HnswGraph *g, int level)
{
	uint64		need = level + (uint64) level * g->m;
	uint64		off;

	if (g->shared)
	{
		off = pg_atomic_fetch_add_u64(&g->shared->upperUsed, need);
		return off + need <= g->upperCap ? (uint32) off : 0;
	}
	while (g->upperUsed + need > g->upperCap)
	{
		g->memUsed += sizeof(int32) * g->upperCap;
		g->upperCap *= 2;
		g->upper = repalloc_huge(g->upper, sizeof(int32) * g->upperCap);
	}
	off = g->upperUsed;
	g->upperUsed += need;
	return (uint32) off;
}

/* --- vectors in a mapped temporary file ------------------------------------ */

/* Address space reserved for the mapping: the file may grow up to it */
#define HNSW_SPILL_RESERVE	((Size) 1 << 40)

/* Unmap when the memory context holding the mapping is reset (aborts too) */
static void
spill_unmap(void *arg)
{
#ifndef WIN32
	HnswVecMap *vm = arg;

	if (vm->base)
		munmap(vm->base, vm->len);
	vm->base = NULL;
#endif
}

/*
 * Map g->vecFile read-only, reserving address space for the file to grow;
 * the mapping lives as long as memory context ctx
 */
static bool
spill_map(HnswGraph *g, MemoryContext ctx)
{
#ifdef WIN32
	return false;
#else
	Size		reserve = HNSW_SPILL_RESERVE;
	Size		least = Max((Size) g->cap, (Size) g->n + 1) * g->vecSize * 2;
	char	   *map = MAP_FAILED;
	HnswVecMap *vm;
	MemoryContextCallback *cb;

	if (sizeof(Size) < 8)
		return false;
	while (reserve >= least)
	{
		map = mmap(NULL, reserve, PROT_READ, MAP_SHARED, FileGetRawDesc(g->vecFile), 0);
		if (map != MAP_FAILED)
			break;
		reserve /= 2;
	}
	if (map == MAP_FAILED)
		return false;
	vm = MemoryContextAlloc(ctx, sizeof(HnswVecMap));
	vm->base = map;
	vm->len = reserve;
	cb = MemoryContextAlloc(ctx, sizeof(MemoryContextCallback));
	cb->func = spill_unmap;
	cb->arg = vm;
	MemoryContextRegisterResetCallback(ctx, cb);
	g->vecMapping = vm;
	g->vecMap = map;
	g->vecMapLen = reserve;
	return true;
#endif
}

/* Unmap and close the file, if any */
static void
spill_close(HnswGraph *g)
{
	if (g->vecMapping)
		spill_unmap(g->vecMapping);
	g->vecMapping = NULL;
	g->vecMap = NULL;
	if (g->vecFile >= 0)
		FileClose(g->vecFile);
	g->vecFile = -1;
}

static void
spill_write(HnswGraph *g, const char *data, Size len, off_t offset)
{
	while (len > 0)
	{
		int			amount = (int) Min(len, (Size) 1 << 30);
		int			written = FileWrite(g->vecFile, (char *) data, amount, offset,
										WAIT_EVENT_BUFFILE_WRITE);

		if (written != amount)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write to temporary file of hnsw index build: %m")));
		data += amount;
		len -= amount;
		offset += amount;
	}
}

/* Append the vector of element idx to the file (it then reads through the map) */
static void
spill_append(HnswGraph *g, int idx, const float *vec)
{
	if ((Size) (idx + 1) * g->vecSize > g->vecMapLen)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw index build: vectors outgrew the address space reserved for them")));
	spill_write(g, (const char *) vec, g->vecSize, (off_t) idx * g->vecSize);
}

/*
 * Move the vectors of a local graph out of its memory into a temporary file
 * mapped read-only into the address space; later vectors are appended to
 * the file.  The file counts against temp_file_limit; its pages are the
 * kernel's page cache, reclaimable.  Returns false (and changes nothing)
 * where this is not possible.
 */
bool
HnswGraphSpill(HnswGraph *g)
{
	Size		perChunk = (Size) 1 << g->vecShift;

	if (g->shared || g->vecMap)
		return false;

	g->vecFile = OpenTemporaryFile(false);
	for (int c = 0; c < g->nVecArena; c++)
	{
		Size		first = c * perChunk;
		Size		items = Min(perChunk, (Size) g->n - Min(first, (Size) g->n));

		if (items > 0)
			spill_write(g, g->vecArena[c], items * g->vecSize, (off_t) (first * g->vecSize));
		CHECK_FOR_INTERRUPTS();
	}
	if (!spill_map(g, g->ctx))
	{
		FileClose(g->vecFile);
		g->vecFile = -1;
		return false;
	}

	for (int c = 0; c < g->nVecArena; c++)
		pfree(g->vecArena[c]);
	g->nVecArena = 0;
	g->memUsed -= g->vecMemUsed;
	g->vecMemUsed = 0;
	return true;
}

/*
 * Free a local graph (its memory, mapping and temporary file), or detach
 * from a shared one (its mapping and file)
 */
void
HnswGraphRelease(HnswGraph *g)
{
	spill_close(g);
	if (g->shared == NULL && g->ctx != NULL)
		MemoryContextDelete(g->ctx);
	g->ctx = NULL;
}

/*
 * Add a vector to the graph and link it in.  Returns false if a shared
 * graph is full.
 */
bool
HnswGraphAdd(HnswGraph *g, ItemPointer heaptid, const float *vec)
{
	HnswGraphElement *e;
	int			idx;
	int			level;

	level = Min(HnswElementLevel(heaptid, g->m), HnswMaxLevel(g->dims, g->vecChunks, g->m));

	if (g->shared)
	{
		idx = (int) pg_atomic_fetch_add_u32(&g->shared->n, 1);
		if ((uint32) idx >= g->shared->capacity)
			return false;
	}
	else
	{
		grow_local(g);
		idx = g->n++;
	}

	e = &g->elements[idx];
	e->heaptid = *heaptid;
	e->upper = 0;
	if (level > 0)
	{
		e->upper = alloc_upper(g, level);
		if (e->upper == 0)
			level = 0;
		else
			memset(g->upper + e->upper, 0, sizeof(int32) * level);
	}
	e->level = level;
	*HnswGraphCount(g, idx, 0) = 0;
	if (g->vecMap)
		spill_append(g, idx, vec);
	else
		memcpy(HnswGraphVector(g, idx), vec, g->vecSize);

	graph_insert(g, idx);
	return true;
}

/* --- repair --------------------------------------------------------------- */

/*
 * The neighbour selection heuristic can leave elements that no search can
 * reach: a full list that takes a new neighbour keeps only the diverse ones,
 * so an element can lose every link pointing at it, or keep only links from
 * elements in the same plight (two near elements linking only to each
 * other).  HNSW has this whatever the order of insertion; random data with
 * a small m, inner product (which prunes the links towards short vectors)
 * and exact duplicates are prone to it.  Once all rows are in (with no
 * concurrency left), the build walks level 0 from the entry point and links
 * every element it does not reach from a near element it does reach; the
 * walk then carries on from there, so one link brings in a whole group of
 * elements that only link to each other.  A link given up to make room is
 * never one the walk came through, so nothing reached is cut off.
 */

/* Elements linked in last that the repair remembers */
#define HNSW_REPAIR_RECENT 16

typedef struct ReachState
{
	HnswGraph  *g;
	int			n;
	bool	   *reached;		/* by the walk from the entry point */
	int32	   *queue;
	int32	   *parent;			/* the reached element whose link reached it */
	HnswCandidate *cands;		/* where to link an element from */
	float	   *dists;			/* from a candidate to its neighbours */
	int32	   *visit;			/* queue of link_near */
	int32		recent[HNSW_REPAIR_RECENT];	/* elements linked last, or -1 */
	int			nextRecent;
} ReachState;

/*
 * Walk level 0 from element start, marking what was not reached yet; each
 * element reached remembers the element whose link reached it.  These
 * links form a tree that spans all that is reached.
 */
static void
reach_from(ReachState *rs, int start)
{
	HnswGraph  *g = rs->g;
	int			head = 0;
	int			tail = 0;

	if (rs->reached[start])
		return;
	rs->reached[start] = true;
	rs->queue[tail++] = start;
	while (head < tail)
	{
		int			c = rs->queue[head++];
		int			count = *HnswGraphCount(g, c, 0);
		int32	   *slots = HnswGraphSlots(g, c, 0);

		if ((head & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < count; j++)
		{
			if (!rs->reached[slots[j]])
			{
				rs->reached[slots[j]] = true;
				rs->parent[slots[j]] = c;
				rs->queue[tail++] = slots[j];
			}
		}
	}
}

/*
 * Reached elements that could link to unreached element u, nearest first:
 * its own level-0 neighbours, or (search) the results of a search for it
 * from the entry point through reached elements only
 */
static int
link_candidates(ReachState *rs, int u, bool search)
{
	HnswGraph  *g = rs->g;
	const float *q = HnswGraphVector(g, u);
	int			n = 0;

	if (!search)
	{
		int			count = *HnswGraphCount(g, u, 0);
		int32	   *slots = HnswGraphSlots(g, u, 0);

		for (int j = 0; j < count; j++)
		{
			if (!rs->reached[slots[j]])
				continue;
			rs->cands[n].dist = elem_dist(g, q, slots[j]);
			idx_to_tid(slots[j], &rs->cands[n++].tid);
		}
		qsort(rs->cands, n, sizeof(HnswCandidate), candidate_cmp);
	}
	else
	{
		int			entry;
		int			entryLevel;
		HnswCandidate ep;
		int			found;

		HnswGraphEntry(g, &entry, &entryLevel);
		ep.dist = elem_dist(g, q, entry);
		idx_to_tid(entry, &ep.tid);
		/* the upper levels may lead into u's unreached part: stay out */
		if (entryLevel > 0)
			ep = graph_greedy(g, q, ep, entryLevel, 1, rs->reached);
		found = graph_search_layer(g, q, u, &ep, 1, 0, rs->reached);
		memcpy(rs->cands, g->layer, sizeof(HnswCandidate) * found);
		n = found;
	}
	return n;
}

/* What link_from may give up for a new link */
typedef enum RepairVictim
{
	VICTIM_NONE,				/* only a free slot will do */
	VICTIM_LONGER,				/* or a link longer than the new one */
	VICTIM_ANY					/* or any link */
} RepairVictim;

/*
 * Add a level-0 link from reached element t to unreached element u at
 * distance d: into a free slot or, as victims allows, in place of t's
 * farthest link that is not in the tree of the walk (giving up a tree link
 * would cut off what is behind it; any other link can go, everything
 * reached stays reached).  Returns whether u was linked.
 */
static bool
link_from(ReachState *rs, int t, int u, float d, RepairVictim victims)
{
	HnswGraph  *g = rs->g;
	int32	   *countp = HnswGraphCount(g, t, 0);
	int32	   *slots = HnswGraphSlots(g, t, 0);
	const float *tvec = HnswGraphVector(g, t);
	int			victim = -1;

	if (*countp < HnswLevelSlots(g->m, 0))
	{
		slots[(*countp)++] = u;
		rs->parent[u] = t;
		return true;
	}
	if (victims == VICTIM_NONE)
		return false;
	for (int j = 0; j < *countp; j++)
	{
		if (rs->parent[slots[j]] == t)
			continue;
		rs->dists[j] = elem_dist(g, tvec, slots[j]);
		if ((victims == VICTIM_ANY || rs->dists[j] > d) && (victim < 0 || rs->dists[j] > rs->dists[victim]))
			victim = j;
	}
	if (victim < 0)
		return false;
	slots[victim] = u;
	rs->parent[u] = t;
	return true;
}

/* Reached elements a search for a free slot visits at most */
#define HNSW_REPAIR_VISITS 256

/*
 * Look for a reached element with a free slot to link element u from: the
 * candidates in rs->cands first, then, breadth first, the reached elements
 * they link to.  When u has many exact duplicates, the lists near it fill
 * up with links to those linked before it, which in turn have room.
 */
static bool
link_near(ReachState *rs, int u, int ncands)
{
	HnswGraph  *g = rs->g;
	int32	   *queue = rs->visit;
	int			head = 0;
	int			tail = 0;

	if (++g->gen == 0)
	{
		memset(g->visitedGen, 0, sizeof(uint32) * g->visitedCap);
		g->gen = 1;
	}
	g->visitedGen[u] = g->gen;
	for (int i = 0; i < ncands && tail < HNSW_REPAIR_VISITS; i++)
	{
		queue[tail++] = tid_to_idx(&rs->cands[i].tid);
		g->visitedGen[queue[tail - 1]] = g->gen;
	}
	while (head < tail)
	{
		int			t = queue[head++];
		int			count = *HnswGraphCount(g, t, 0);
		int32	   *slots = HnswGraphSlots(g, t, 0);

		if (link_from(rs, t, u, 0, VICTIM_NONE))
			return true;
		for (int j = 0; j < count && tail < HNSW_REPAIR_VISITS; j++)
		{
			if (rs->reached[slots[j]] && g->visitedGen[slots[j]] != g->gen)
			{
				g->visitedGen[slots[j]] = g->gen;
				queue[tail++] = slots[j];
			}
		}
	}
	return false;
}

/*
 * Link element u in place of a link of the nearest candidate in rs->cands
 * that has one to give up, as victims allows
 */
static bool
link_replacing(ReachState *rs, int u, int ncands, RepairVictim victims)
{
	for (int i = 0; i < ncands; i++)
	{
		if (link_from(rs, tid_to_idx(&rs->cands[i].tid), u, rs->cands[i].dist, victims))
			return true;
	}
	return false;
}

/*
 * Link element u from one of the elements linked in last, if one has room
 * and is no farther from it than bound.  These have room (they only have
 * their own links yet), and when many elements are out of reach, as
 * copies of one vector are, the next one is often near them.
 */
static bool
link_recent(ReachState *rs, int u, float bound)
{
	HnswGraph  *g = rs->g;
	const float *q = HnswGraphVector(g, u);

	for (int i = 0; i < HNSW_REPAIR_RECENT; i++)
	{
		int			t = rs->recent[(rs->nextRecent + HNSW_REPAIR_RECENT - 1 - i) % HNSW_REPAIR_RECENT];

		if (t < 0 || !rs->reached[t] || *HnswGraphCount(g, t, 0) >= HnswLevelSlots(g->m, 0) ||
			elem_dist(g, q, t) > bound)
			continue;
		if (link_from(rs, t, u, 0, VICTIM_NONE))
			return true;
	}
	return false;
}

/*
 * Link unreached element u from a reached one near it, found from its own
 * neighbours, or else from the results of a search for it: into a free
 * slot if there is one near, or on one of the elements linked in last,
 * else in place of a longer link, else of any link outside the tree.
 * Returns whether it was linked.
 */
static bool
link_unreached(ReachState *rs, int u)
{
	bool		linked = false;

	for (int search = 0; search < 2 && !linked; search++)
	{
		int			ncands = link_candidates(rs, u, search);

		if (ncands == 0)
			continue;
		linked = link_near(rs, u, ncands) ||
			link_recent(rs, u, rs->cands[0].dist) ||
			link_replacing(rs, u, ncands, VICTIM_LONGER) ||
			link_replacing(rs, u, ncands, VICTIM_ANY);
	}
	if (linked)
	{
		rs->recent[rs->nextRecent] = u;
		rs->nextRecent = (rs->nextRecent + 1) % HNSW_REPAIR_RECENT;
	}
	return linked;
}

/*
 * Walk level 0 from the entry point afresh; returns how many elements it
 * does not reach
 */
static int
walk_from_entry(ReachState *rs, int entry)
{
	int			unreached = 0;

	memset(rs->reached, 0, sizeof(bool) * rs->n);
	rs->parent[entry] = -1;
	reach_from(rs, entry);
	for (int u = 0; u < rs->n; u++)
		unreached += !rs->reached[u];
	return unreached;
}

/*
 * Make every element reachable at level 0 from the entry point (see
 * above).  Elements whose near elements were only reached after their turn
 * get another pass, after a fresh walk, a few times at most.  Returns the
 * number of links added; *unreached is the number of elements still out of
 * reach (none, unless no list near them could take a link).
 */
int
HnswGraphRepairReach(HnswGraph *g, int *unreached)
{
	ReachState	rs;
	int			entry;
	int			entryLevel;
	int			added = 0;

	*unreached = 0;
	rs.g = g;
	rs.n = HnswGraphSize(g);
	HnswGraphEntry(g, &entry, &entryLevel);
	if (rs.n < 2 || entry < 0)
		return 0;
	rs.reached = palloc_extended(sizeof(bool) * rs.n, MCXT_ALLOC_HUGE);
	rs.queue = palloc_extended(sizeof(int32) * rs.n, MCXT_ALLOC_HUGE);
	rs.parent = palloc_extended(sizeof(int32) * rs.n, MCXT_ALLOC_HUGE);
	rs.cands = palloc(sizeof(HnswCandidate) * Max(g->efConstruction + 1, 2 * HNSW_MAX_M + 1));
	rs.dists = palloc(sizeof(float) * (2 * HNSW_MAX_M + 1));
	rs.visit = palloc(sizeof(int32) * HNSW_REPAIR_VISITS);
	for (int i = 0; i < HNSW_REPAIR_RECENT; i++)
		rs.recent[i] = -1;
	rs.nextRecent = 0;

	for (int round = 0; (*unreached = walk_from_entry(&rs, entry)) > 0 && round < 4; round++)
	{
		int			before = added;

		for (int u = 0; u < rs.n; u++)
		{
			if (rs.reached[u])
				continue;
			CHECK_FOR_INTERRUPTS();
			if (link_unreached(&rs, u))
			{
				added++;
				reach_from(&rs, u);
			}
		}
		if (added == before)
			break;
	}

	pfree(rs.reached);
	pfree(rs.queue);
	pfree(rs.parent);
	pfree(rs.cands);
	pfree(rs.dists);
	pfree(rs.visit);
	return added;
}
