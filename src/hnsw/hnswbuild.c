/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *		Build an hnsw index: the graph in memory, then pages in one pass.
 *
 * The heap is scanned once and each vector added to an in-memory graph
 * (hnswgraph.c).  With max_parallel_maintenance_workers > 0 and a table
 * large enough, the graph lives in a dynamic shared memory segment and
 * the leader and parallel workers scan the heap together, each adding the
 * rows it reads.  At the end every element is given its item pointer
 * (pages are filled in element order) and the pages are written with
 * neighbour numbers translated to item pointers, then WAL-logged as full
 * images.
 *
 * Memory is bounded by maintenance_work_mem.  A serial build whose graph
 * outgrows it moves the vectors to a mapped temporary file and goes on with
 * only the neighbour lists in memory (HnswGraphSpill); if even those
 * outgrow it, it writes the graph built so far and inserts the remaining
 * rows through the on-disk insert path (slower, never failing).  A
 * parallel build is only chosen when the table fits.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heaptoast.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "hnsw.h"
#include "hnswpart.h"

#define PARALLEL_KEY_HNSW_SHARED	UINT64CONST(0xA5A5000000000001)
#define PARALLEL_KEY_HNSW_GRAPH		UINT64CONST(0xA5A5000000000002)

/* Shared state of a parallel build, followed by the parallel heap scan */
typedef struct HnswBuildShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			dims;
	int			m;
	int			efConstruction;
	slock_t		mutex;			/* guards the fields below */
	double		reltuples;
	double		indtuples;
} HnswBuildShared;

#define ParallelTableScanFromHnswShared(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(HnswBuildShared))))

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	int			dims;
	int			m;
	int			efConstruction;
	HnswGraph	graph;
	HnswDistance dist;
	Size		memLimit;
	bool		onDisk;			/* graph written; rows now go through insert */
	bool		leader;			/* reports progress */
	float	   *vecBuf;
	MemoryContext tmpCtx;
	double		reltuples;
	double		indtuples;
	struct HnswPartBuild *part;	/* filter key columns: partition entries (hnswpart.c) */
} HnswBuildState;

/*
 * Where the items of a build go, filling pages in order.  write_graph lays
 * every element (and, out of line, its vector's chunks) out twice with
 * place_element: once to give elements their item pointers, once to write
 * them, so that both passes agree by construction.  The sums mirror
 * PageInit, PageGetFreeSpace and PageAddItem.
 */
typedef struct PageFill
{
	BlockNumber blkno;			/* page being filled */
	OffsetNumber offno;			/* last offset used on it */
	Size		lower;
	Size		upper;
} PageFill;

static Size
fill_free(PageFill *pf)
{
	return pf->upper - pf->lower < sizeof(ItemIdData) ? 0 : pf->upper - pf->lower - sizeof(ItemIdData);
}

/*
 * Place an item of sz bytes on the current page, or on the next one when
 * it does not fit
 */
static ItemPointerData
fill_place(PageFill *pf, Size sz)
{
	ItemPointerData tid;

	if (fill_free(pf) < MAXALIGN(sz))
	{
		pf->blkno++;
		pf->offno = 0;
		pf->lower = SizeOfPageHeaderData;
		pf->upper = BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData));
	}
	pf->lower += sizeof(ItemIdData);
	pf->upper -= MAXALIGN(sz);
	ItemPointerSet(&tid, pf->blkno, ++pf->offno);
	return tid;
}

/*
 * Place element i: first its vector's chunks when vectors are out of line
 * (each filling what the page has left, as inserts do: HnswChunkFloats),
 * then the element.  Sets chunks[] and counts[] (vecChunks entries, unused
 * chunk pointers invalid) and returns the element's item pointer.
 */
static ItemPointerData
place_element(HnswGraph *g, int i, PageFill *pf, ItemPointer chunks, int *counts)
{
	int			pos = 0;
	int			n = 0;

	while (g->vecChunks > 0 && pos < g->dims)
	{
		int			count = HnswChunkFloats(fill_free(pf), g->dims - pos);

		if (count == 0)
			count = HnswChunkFloats(HNSW_MAX_ITEM_SIZE, g->dims - pos);
		if (n >= g->vecChunks)
			elog(ERROR, "hnsw build: vector needs more than %d chunks", g->vecChunks);
		chunks[n] = fill_place(pf, HNSW_VECTOR_TUPLE_SIZE(count));
		counts[n++] = count;
		pos += count;
	}
	for (; n < g->vecChunks; n++)
	{
		ItemPointerSetInvalid(&chunks[n]);
		counts[n] = 0;
	}
	return fill_place(pf, HNSW_ELEMENT_TUPLE_SIZE(g->dims, g->vecChunks, g->m, g->elements[i].level));
}

/*
 * Pass 2's pages: the one being written, exclusively locked
 */
typedef struct PageWriter
{
	Relation	index;
	Buffer		buf;
	Page		page;
} PageWriter;

/*
 * Write an item where place_element put it, starting the next page when
 * the item goes there
 */
static void
writer_add(PageWriter *w, ItemPointer tid, Item item, Size sz)
{
	if (!BufferIsValid(w->buf) || BufferGetBlockNumber(w->buf) != ItemPointerGetBlockNumber(tid))
	{
		Buffer		next = ReadBufferExtended(w->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);

		LockBuffer(next, BUFFER_LOCK_EXCLUSIVE);
		if (BufferGetBlockNumber(next) != ItemPointerGetBlockNumber(tid))
			elog(ERROR, "hnsw build: expected block %u, got %u",
				 ItemPointerGetBlockNumber(tid), BufferGetBlockNumber(next));
		if (BufferIsValid(w->buf))
		{
			HnswPageGetOpaque(w->page)->nextblkno = BufferGetBlockNumber(next);
			MarkBufferDirty(w->buf);
			UnlockReleaseBuffer(w->buf);
		}
		w->buf = next;
		w->page = BufferGetPage(next);
		HnswInitPage(w->page, HNSW_PAGE_DATA);
		CHECK_FOR_INTERRUPTS();
	}
	if (PageAddItem(w->page, item, sz, InvalidOffsetNumber, false, false) != ItemPointerGetOffsetNumber(tid))
		elog(ERROR, "hnsw build: failed to add item to index \"%s\"", RelationGetRelationName(w->index));
}

/*
 * Write the graph to pages: metapage, then data pages
 */
static void
write_graph(Relation index, HnswGraph *g)
{
	int			n = HnswGraphSize(g);
	ItemPointerData *tids = palloc_extended(sizeof(ItemPointerData) * Max(n, 1), MCXT_ALLOC_HUGE);
	ItemPointerData chunks[HNSW_MAX_VEC_CHUNKS];
	int			counts[HNSW_MAX_VEC_CHUNKS];
	PageFill	pf = {HNSW_FIRST_DATA_BLKNO - 1, 0, 0, 0};
	PageWriter	w = {index, InvalidBuffer, NULL};
	HnswElementTuple etup = palloc0(HNSW_ELEMENT_TUPLE_SIZE(g->dims, g->vecChunks, g->m, HNSW_MAX_LEVEL));
	HnswVectorTuple ctup = g->vecChunks > 0 ? palloc0(HNSW_MAX_ITEM_SIZE) : NULL;
	Buffer		buf;
	Page		page;
	HnswMetaPage meta;
	int			entry;
	int			entryLevel;
	int			added;
	int			unreached;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 3);
	added = HnswGraphRepairReach(g, &unreached);
	ereport(DEBUG1,
			(errmsg_internal("hnsw build: %d links added to reach every element from the entry point, %d still unreached",
							 added, unreached)));

	/* pass 1: where each element goes */
	for (int i = 0; i < n; i++)
		tids[i] = place_element(g, i, &pf, chunks, counts);

	/* the metapage */
	HnswGraphEntry(g, &entry, &entryLevel);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(buf) == HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	HnswInitMeta(meta, g->dims, g->m, g->efConstruction);
	Assert(meta->vecChunks == g->vecChunks);
	if (entry >= 0)
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(&tids[entry]);
		meta->entryOffno = ItemPointerGetOffsetNumber(&tids[entry]);
		meta->entryLevel = entryLevel;
	}
	meta->lastBlkno = n > 0 ? pf.blkno : InvalidBlockNumber;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	/* pass 2: the data pages, laid out again the same way */
	pf.blkno = HNSW_FIRST_DATA_BLKNO - 1;
	pf.offno = 0;
	pf.lower = pf.upper = 0;
	for (int i = 0; i < n; i++)
	{
		HnswGraphElement *e = &g->elements[i];
		Size		sz = HNSW_ELEMENT_TUPLE_SIZE(g->dims, g->vecChunks, g->m, e->level);
		ItemPointer nbrs = HnswElementNeighbors(etup, g->dims, g->vecChunks);
		ItemPointerData etid = place_element(g, i, &pf, chunks, counts);
		const float *vec = HnswGraphVector(g, i);

		if (!ItemPointerEquals(&etid, &tids[i]))
			elog(ERROR, "hnsw build: element %d moved between passes", i);

		for (int c = 0, pos = 0; c < g->vecChunks && counts[c] > 0; pos += counts[c++])
		{
			memset(ctup, 0, offsetof(HnswVectorTupleData, x));
			ctup->type = HNSW_VECTOR_TUPLE;
			ctup->count = counts[c];
			ctup->start = pos;
			memcpy(ctup->x, vec + pos, sizeof(float) * counts[c]);
			writer_add(&w, &chunks[c], (Item) ctup, HNSW_VECTOR_TUPLE_SIZE(counts[c]));
		}

		memset(etup, 0, sz);
		etup->type = HNSW_ELEMENT_TUPLE;
		etup->level = e->level;
		etup->heaptid = e->heaptid;
		if (g->vecChunks == 0)
			memcpy(etup->x, vec, sizeof(float) * g->dims);
		else
			memcpy(HnswElementChunks(etup), chunks, sizeof(ItemPointerData) * g->vecChunks);
		for (int level = 0; level <= e->level; level++)
		{
			int32	   *slots = HnswGraphSlots(g, i, level);
			int			count = *HnswGraphCount(g, i, level);
			int			start = level == 0 ? 0 : HnswTotalSlots(g->m, level - 1);

			for (int j = 0; j < HnswLevelSlots(g->m, level); j++)
			{
				if (j < count)
					nbrs[start + j] = tids[slots[j]];
				else
					ItemPointerSetInvalid(&nbrs[start + j]);
			}
		}
		writer_add(&w, &etid, (Item) etup, sz);
	}
	if (BufferIsValid(w.buf))
	{
		MarkBufferDirty(w.buf);
		UnlockReleaseBuffer(w.buf);
	}

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	if (ctup)
		pfree(ctup);
	pfree(etup);
	pfree(tids);
}

/*
 * Whether vectors of rows may go to a temporary file under temp_file_limit
 * (unlimited by default): the file must be able to hold every row the
 * table is expected to have, or the build would fail part way where the
 * on-disk fallback would have finished
 */
static bool
spill_within_temp_file_limit(double rows, int dims)
{
	if (temp_file_limit < 0)
		return true;
	return rows > 0 && rows * 1.1 * sizeof(float) * dims < (double) temp_file_limit * 1024;
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
	/* filter key columns: every indexed row also goes to its partition (hnswpart.c) */
	if (bs->part)
		HnswPartBuildAdd(bs->part, values, isnull, tid);

	if (bs->onDisk)
	{
		oldCtx = MemoryContextSwitchTo(bs->tmpCtx);
		HnswInsertTuple(index, values[0], tid, true);
		MemoryContextSwitchTo(oldCtx);
		MemoryContextReset(bs->tmpCtx);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
		return;
	}

	oldCtx = MemoryContextSwitchTo(bs->tmpCtx);
	if (HnswPrepareVector(&bs->dist, index, values[0], bs->vecBuf, bs->dims))
	{
		MemoryContextSwitchTo(oldCtx);
		if (!HnswGraphAdd(&bs->graph, tid, bs->vecBuf))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("hnsw graph of a parallel build outgrew its shared memory"),
					 errdetail("The table has more rows than its statistics said when the build began."),
					 errhint("Run ANALYZE on the table, or SET max_parallel_maintenance_workers = 0 to build serially.")));
		bs->indtuples++;
		if (bs->leader)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
										 bs->graph.shared ? HnswGraphSize(&bs->graph) : (int64) bs->indtuples);

		if (!bs->graph.shared && bs->graph.memUsed > bs->memLimit)
		{
			/* first move the vectors out of memory, then give up on memory */
			if (!bs->graph.vecMap &&
				spill_within_temp_file_limit(bs->heap->rd_rel->reltuples, bs->dims) &&
				HnswGraphSpill(&bs->graph))
				ereport(DEBUG1,
						(errmsg_internal("hnsw build: vectors moved to a temporary file after " INT64_FORMAT " tuples",
										 (int64) bs->indtuples)));
			if (bs->graph.memUsed > bs->memLimit)
			{
				ereport(NOTICE,
						(errmsg("hnsw graph no longer fits into maintenance_work_mem after " INT64_FORMAT " tuples",
								(int64) bs->indtuples),
						 errdetail("Building will take significantly more time."),
						 errhint("Increase maintenance_work_mem to speed up builds.")));
				write_graph(index, &bs->graph);
				HnswGraphRelease(&bs->graph);
				bs->onDisk = true;
			}
		}
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * Dimensions of the indexed column
 */
static int
index_dims(Relation index)
{
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (dims < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with its dimensions, for example vector(384).")));
	/* the type allows no more; an index must not either */
	if (dims > HNSW_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for hnsw index", HNSW_MAX_DIM)));
	return dims;
}

/*
 * Set up what serial and parallel participants share
 */
static void
init_build_state(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->indexInfo = indexInfo;
	bs->m = HnswGetM(index);
	bs->efConstruction = HnswGetEfConstruction(index);
	if (bs->efConstruction < 2 * bs->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("ef_construction is %d and m is %d.", bs->efConstruction, bs->m)));
	bs->dims = index_dims(index);
	HnswInitDistance(index, &bs->dist);
	bs->memLimit = (Size) maintenance_work_mem * 1024;
	bs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build temporary", ALLOCSET_DEFAULT_SIZES);
	bs->vecBuf = palloc(sizeof(float) * bs->dims);
}

/*
 * Scan (a share of) the heap, adding rows to the shared graph; used by the
 * leader and by every worker of a parallel build
 */
static void
parallel_scan_and_add(HnswBuildShared *shared, HnswGraphShared *graphsh, Relation heap,
					  Relation index, IndexInfo *indexInfo, bool leader)
{
	HnswBuildState bs;
	TableScanDesc scan;

	init_build_state(&bs, heap, index, indexInfo);
	bs.leader = leader;
	HnswGraphAttach(&bs.graph, graphsh, index, bs.dims, bs.m, bs.efConstruction);
	if (HnswIndexHasKeys(index))
		bs.part = HnswPartBuildBegin(index, true);	/* hnswpart.c */
	scan = table_beginscan_parallel(heap, ParallelTableScanFromHnswShared(shared));
	table_index_build_scan(heap, index, indexInfo, true, leader, build_callback, &bs, scan);
	HnswGraphRelease(&bs.graph);
	if (bs.part)
		HnswPartBuildWorkerDone(bs.part);	/* hnswpart.c */

	SpinLockAcquire(&shared->mutex);
	shared->reltuples += bs.reltuples;
	shared->indtuples += bs.indtuples;
	SpinLockRelease(&shared->mutex);
}

/*
 * Entry point of a parallel build worker
 */
PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswBuildShared *shared = shm_toc_lookup(toc, PARALLEL_KEY_HNSW_SHARED, false);
	HnswGraphShared *graphsh = shm_toc_lookup(toc, PARALLEL_KEY_HNSW_GRAPH, false);
	LOCKMODE	heapLockmode = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexLockmode = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap = table_open(shared->heaprelid, heapLockmode);
	Relation	index = index_open(shared->indexrelid, indexLockmode);
	IndexInfo  *indexInfo = BuildIndexInfo(index);

	if (graphsh->spilled)
		SharedFileSetAttach(&graphsh->fileset, seg);
	HnswPartParallelAttach(toc, seg);	/* filter key columns (hnswpart.c) */
	indexInfo->ii_Concurrent = shared->isconcurrent;
	parallel_scan_and_add(shared, graphsh, heap, index, indexInfo, false);
	index_close(index, indexLockmode);
	table_close(heap, heapLockmode);
}

/*
 * How many elements a parallel build's graph must hold, or 0 when the
 * build should be serial: the graph has a fixed size, so the table must be
 * known to fit in maintenance_work_mem -- with its vectors, or else
 * (*spilled) with only its neighbour lists, the vectors in a mapped file.
 */
static uint32
parallel_capacity(Relation heap, int dims, int m, bool *spilled)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(heap);
	double		reltuples = heap->rd_rel->reltuples;
	Size		vecSize = VECTOR_SIZE(dims);

	/*
	 * The smallest heap tuple holding a vector: the vector itself, or a
	 * TOAST pointer when it is large enough to be moved out of line (as
	 * every vector of more than about 500 dimensions can be)
	 */
	Size		minTuple = MAXALIGN(SizeofHeapTupleHeader +
									(vecSize > TOAST_TUPLE_THRESHOLD ? TOAST_POINTER_SIZE : vecSize)) +
		sizeof(ItemIdData);
	double		perPage = Min(MaxHeapTuplesPerPage, BLCKSZ / (double) Min(minTuple, 64));
	double		maxPossible = (double) nblocks * perPage;
	double		memCap = (double) maintenance_work_mem * 1024 / HnswGraphElementSize(dims, m, false);
	double		cap;

	/* enough room for every row the table can hold, or for 1.5x its estimate */
	if (reltuples > 0)
		cap = Min(maxPossible, reltuples * 1.5 + 1000);
	else
		cap = maxPossible;
	*spilled = false;
	if (cap > memCap && spill_within_temp_file_limit(cap, dims))
	{
		*spilled = true;
		memCap = (double) maintenance_work_mem * 1024 / HnswGraphElementSize(dims, m, true);
	}
	if (cap > memCap || cap > (double) MaxAllocHugeSize / HnswGraphElementSize(dims, m, *spilled) || cap >= (double) INT32_MAX)
		return 0;
	return (uint32) Max(cap, 1);
}

/*
 * A parallel build; returns false (having done nothing) when parallelism
 * is not available
 */
static bool
build_parallel(HnswBuildState *bs, int nworkers)
{
	Relation	heap = bs->heap;
	Relation	index = bs->index;
	bool		spilled;
	uint32		capacity = parallel_capacity(heap, bs->dims, bs->m, &spilled);
	bool		isconcurrent = bs->indexInfo->ii_Concurrent;
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		estshared;
	Size		estgraph;
	HnswBuildShared *shared;
	HnswGraphShared *graphsh;
	HnswGraph	view;

	if (capacity == 0)
		return false;

	EnterParallelMode();
	pcxt = CreateParallelContext("vecrec", "HnswParallelBuildMain", nworkers);
	snapshot = isconcurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;

	estshared = add_size(BUFFERALIGN(sizeof(HnswBuildShared)), table_parallelscan_estimate(heap, snapshot));
	estgraph = HnswGraphShmemSize(bs->dims, bs->m, capacity, spilled);
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_chunk(&pcxt->estimator, estgraph);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	HnswPartParallelEstimate(pcxt, index);	/* filter key columns (hnswpart.c) */
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = shm_toc_allocate(pcxt->toc, estshared);
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = isconcurrent;
	shared->dims = bs->dims;
	shared->m = bs->m;
	shared->efConstruction = bs->efConstruction;
	SpinLockInit(&shared->mutex);
	shared->reltuples = 0;
	shared->indtuples = 0;
	table_parallelscan_initialize(heap, ParallelTableScanFromHnswShared(shared), snapshot);
	graphsh = shm_toc_allocate(pcxt->toc, estgraph);
	HnswGraphInitShared(graphsh, bs->dims, bs->m, capacity, pcxt->seg, spilled);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_HNSW_SHARED, shared);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_HNSW_GRAPH, graphsh);
	HnswPartParallelInit(pcxt, index);	/* filter key columns (hnswpart.c) */

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("hnsw build of \"%s\": %d parallel workers launched",
							 RelationGetRelationName(index), pcxt->nworkers_launched)));
	parallel_scan_and_add(shared, graphsh, heap, index, bs->indexInfo, true);
	WaitForParallelWorkersToFinish(pcxt);

	bs->reltuples = shared->reltuples;
	bs->indtuples = shared->indtuples;
	HnswGraphAttach(&view, graphsh, index, bs->dims, bs->m, bs->efConstruction);
	ereport(DEBUG1,
			(errmsg_internal("hnsw build: graph of %d elements in %zu kB of shared memory%s",
							 HnswGraphSize(&view), HnswGraphShmemSize(bs->dims, bs->m, capacity, spilled) / 1024,
							 spilled ? ", vectors in a temporary file" : "")));
	write_graph(index, &view);
	HnswGraphRelease(&view);
	/* filter key columns: merge the participants' sorts, write partitions (hnswpart.c) */
	if (HnswIndexHasKeys(index))
		HnswPartBuildFinish(index, NULL, pcxt->nworkers_launched + 1);

	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/*
 * Build a new index (ambuild)
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	HnswBuildState bs;
	IndexBuildResult *result;
	int			nworkers = 0;

	HnswPartCheckColumns(index);	/* filter key columns (hnswpart.c) */
	init_build_state(&bs, heap, index, indexInfo);
	bs.leader = true;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) Max(heap->rd_rel->reltuples, 0));

	if (!IsInParallelMode() && heap->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));

	if (nworkers == 0 || !build_parallel(&bs, nworkers))
	{
		HnswGraphInitLocal(&bs.graph, index, bs.dims, bs.m, bs.efConstruction,
						   bs.memLimit);
		if (HnswIndexHasKeys(index))
			bs.part = HnswPartBuildBegin(index, false);	/* hnswpart.c */
		table_index_build_scan(heap, index, indexInfo, true, true, build_callback, &bs, NULL);
		if (!bs.onDisk)
		{
			ereport(DEBUG1,
					(errmsg_internal("hnsw build: graph of %d elements in %zu kB of memory%s",
									 HnswGraphSize(&bs.graph), bs.graph.memUsed / 1024,
									 bs.graph.vecMap ? ", vectors in a temporary file" : "")));
			write_graph(index, &bs.graph);
		}
		HnswGraphRelease(&bs.graph);
		if (bs.part)
			HnswPartBuildFinish(index, bs.part, 0);	/* hnswpart.c */
	}
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
	int			dims = index_dims(index);
	Buffer		buf = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Page		page;
	HnswMetaPage meta;

	HnswPartCheckColumns(index);	/* filter key columns (hnswpart.c) */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	START_CRIT_SECTION();
	page = BufferGetPage(buf);
	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	HnswInitMeta(meta, dims, m, HnswGetEfConstruction(index));
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
}
