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
 * outgrows it writes the graph built so far and inserts the remaining
 * rows through the on-disk insert path (slower, never failing); a parallel
 * build is only chosen when the table fits.
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
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "hnsw.h"

#define HNSW_BUILD_SEED 20261122

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
} HnswBuildState;

/*
 * Write the graph to pages: metapage, then data pages
 */
static void
write_graph(Relation index, HnswGraph *g)
{
	int			n = HnswGraphSize(g);
	ItemPointerData *tids = palloc_extended(sizeof(ItemPointerData) * Max(n, 1), MCXT_ALLOC_HUGE);
	BlockNumber blkno = HNSW_FIRST_DATA_BLKNO;
	OffsetNumber offno = 0;
	Size		lower = SizeOfPageHeaderData;
	Size		upper = BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData));
	HnswElementTuple etup = palloc0(HNSW_ELEMENT_TUPLE_SIZE(g->dims, g->m, HNSW_MAX_LEVEL));
	Buffer		buf;
	Page		page;
	HnswMetaPage meta;
	int			entry;
	int			entryLevel;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 3);
	HnswGraphRepairOrphans(g);

	/* pass 1: where each element goes, simulating the page fill */
	for (int i = 0; i < n; i++)
	{
		Size		sz = MAXALIGN(HNSW_ELEMENT_TUPLE_SIZE(g->dims, g->m, g->elements[i].level));

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
	HnswGraphEntry(g, &entry, &entryLevel);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(buf) == HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	meta->magic = HNSW_MAGIC_NUMBER;
	meta->version = HNSW_VERSION;
	meta->dims = g->dims;
	meta->m = g->m;
	meta->efConstruction = g->efConstruction;
	meta->entryBlkno = InvalidBlockNumber;
	meta->entryOffno = InvalidOffsetNumber;
	meta->entryLevel = -1;
	if (entry >= 0)
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(&tids[entry]);
		meta->entryOffno = ItemPointerGetOffsetNumber(&tids[entry]);
		meta->entryLevel = entryLevel;
	}
	meta->lastBlkno = n > 0 ? blkno : InvalidBlockNumber;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	/* pass 2: the data pages */
	buf = InvalidBuffer;
	page = NULL;
	for (int i = 0; i < n; i++)
	{
		HnswGraphElement *e = &g->elements[i];
		Size		sz = HNSW_ELEMENT_TUPLE_SIZE(g->dims, g->m, e->level);
		ItemPointer nbrs = HnswElementNeighbors(etup, g->dims);

		if (!BufferIsValid(buf) || BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&tids[i]))
		{
			Buffer		next = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);

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
		memcpy(etup->x, HnswGraphVector(g, i), sizeof(float) * g->dims);
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
		if (PageAddItem(page, (Item) etup, sz, InvalidOffsetNumber, false, false) !=
			ItemPointerGetOffsetNumber(&tids[i]))
			elog(ERROR, "hnsw build: failed to add element to index \"%s\"",
				 RelationGetRelationName(index));
	}
	if (BufferIsValid(buf))
	{
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

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
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem after " INT64_FORMAT " tuples",
							(int64) bs->indtuples),
					 errdetail("Building will take significantly more time."),
					 errhint("Increase maintenance_work_mem to speed up builds.")));
			write_graph(index, &bs->graph);
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
	bs->dims = index_dims(index, bs->m);
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
	HnswGraphAttach(&bs.graph, graphsh, index, bs.dims, bs.m, bs.efConstruction,
					HNSW_BUILD_SEED ^ ((uint64) MyProcPid << 16));
	scan = table_beginscan_parallel(heap, ParallelTableScanFromHnswShared(shared));
	table_index_build_scan(heap, index, indexInfo, true, leader, build_callback, &bs, scan);

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

	indexInfo->ii_Concurrent = shared->isconcurrent;
	parallel_scan_and_add(shared, graphsh, heap, index, indexInfo, false);
	index_close(index, indexLockmode);
	table_close(heap, heapLockmode);
}

/*
 * How many elements a parallel build's graph must hold, or 0 when the
 * build should be serial: the graph has a fixed size, so the table must be
 * known to fit in maintenance_work_mem.
 */
static uint32
parallel_capacity(Relation heap, int dims, int m)
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
	double		memCap = (double) maintenance_work_mem * 1024 / HnswGraphElementSize(dims, m);
	double		cap;

	/* enough room for every row the table can hold, or for 1.5x its estimate */
	if (reltuples > 0)
		cap = Min(maxPossible, reltuples * 1.5 + 1000);
	else
		cap = maxPossible;
	if (cap > memCap || cap > (double) MaxAllocHugeSize / HnswGraphElementSize(dims, m) || cap >= (double) INT32_MAX)
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
	uint32		capacity = parallel_capacity(heap, bs->dims, bs->m);
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
	estgraph = HnswGraphShmemSize(bs->dims, bs->m, capacity);
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_chunk(&pcxt->estimator, estgraph);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
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
	HnswGraphInitShared(graphsh, bs->dims, bs->m, capacity);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_HNSW_SHARED, shared);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_HNSW_GRAPH, graphsh);

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("hnsw build of \"%s\": %d parallel workers launched",
							 RelationGetRelationName(index), pcxt->nworkers_launched)));
	parallel_scan_and_add(shared, graphsh, heap, index, bs->indexInfo, true);
	WaitForParallelWorkersToFinish(pcxt);

	bs->reltuples = shared->reltuples;
	bs->indtuples = shared->indtuples;
	HnswGraphAttach(&view, graphsh, index, bs->dims, bs->m, bs->efConstruction, 0);
	write_graph(index, &view);

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

	init_build_state(&bs, heap, index, indexInfo);
	bs.leader = true;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) Max(heap->rd_rel->reltuples, 0));

	if (!IsInParallelMode() && heap->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));

	if (nworkers == 0 || !build_parallel(&bs, nworkers))
	{
		HnswGraphInitLocal(&bs.graph, index, bs.dims, bs.m, bs.efConstruction, HNSW_BUILD_SEED,
						   bs.memLimit);
		table_index_build_scan(heap, index, indexInfo, true, true, build_callback, &bs, NULL);
		if (!bs.onDisk)
			write_graph(index, &bs.graph);
		MemoryContextDelete(bs.graph.ctx);
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
