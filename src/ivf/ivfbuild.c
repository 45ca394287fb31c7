/*-------------------------------------------------------------------------
 *
 * ivfbuild.c
 *		Build an ivfflat index: k-means on a sample, rows sorted by list,
 *		pages written list after list.
 *
 * Three phases, each reported in pg_stat_progress_create_index:
 *
 * 1. performing k-means: a heap scan keeps a uniform sample of the rows
 *    (reservoir sampling, IVF_SAMPLES_PER_LIST per list), which k-means
 *    (ivfkmeans.c) clusters into the lists' centroids.  The sample must
 *    fit in maintenance_work_mem with the k-means state: when it does not,
 *    a smaller sample is taken (with a NOTICE), and when not even one row
 *    per list fits, the build stops with an error.  A table with fewer
 *    rows than lists gets one list per row (and a NOTICE); an empty table
 *    gets a single list, so that inserts have somewhere to go.  With
 *    quantizer = 'sq8' the sample also trains the quantizer (ivfquant.c).
 * 2. assigning tuples: a second heap scan gives every row its nearest
 *    centroid, and a tuplesort (bounded by maintenance_work_mem, spilling
 *    to disk beyond) orders the rows by list.  With parallel workers
 *    (max_parallel_maintenance_workers, plan_create_index_workers) the
 *    leader and the workers share the scan, each sorting its rows into a
 *    run of a shared tuplesort, and the leader merges the runs.
 * 3. loading tuples: the metapage and the list pages are laid out first,
 *    then the quantizer's parameter pages (if any), then each list's
 *    entries (vectors, or codes) fill pages of their own, chained; every
 *    list gets at least one page.  The whole index is then WAL-logged as full
 *    page images (log_newpage_range).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "optimizer/optimizer.h"
#include "storage/spin.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

#define IVF_SAMPLE_SEED 20261123

typedef struct IvfBuildState
{
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	int			dims;
	int			lists;			/* the option */
	int			nlists;			/* lists built */
	HnswDistance dist;
	bool		spherical;
	IvfQuantizer quant;			/* list format; sq8 parameters trained in phase 1 */
	float	   *vecBuf;
	MemoryContext tmpCtx;

	/* phase 1 */
	float	   *samples;
	int			sampleCap;
	int			nsamples;
	double		seen;			/* rows offered to the sample */
	pg_prng_state prng;

	/* phase 2 */
	float	   *centers;
	Tuplesortstate *sort;
	TupleDesc	sortdesc;
	TupleTableSlot *slot;
	bytea	   *vecDatum;
	float	   *batch;			/* rows waiting for their lists, prepared */
	ItemPointerData batchTids[IVF_ASSIGN_TILE];
	int			nbatch;

	double		reltuples;
	double		indtuples;
	bool		leader;			/* reports progress */
} IvfBuildState;

#define PARALLEL_KEY_IVF_SHARED		UINT64CONST(0xA5A5000000000011)
#define PARALLEL_KEY_IVF_TUPLESORT	UINT64CONST(0xA5A5000000000012)

/*
 * Shared state of a parallel assignment, followed by the centroids and
 * the parallel heap scan
 */
typedef struct IvfBuildShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			dims;
	int			nlists;
	int			nparticipants;	/* planned: workers + leader */
	Size		scanOffset;		/* from the start of this struct */
	slock_t		mutex;			/* guards the fields below */
	double		reltuples;
	double		indtuples;
} IvfBuildShared;

#define IvfSharedCenters(shared) \
	((float *) ((char *) (shared) + BUFFERALIGN(sizeof(IvfBuildShared))))
#define IvfSharedScan(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + (shared)->scanOffset))

/*
 * Phase 1: whether HnswPrepareVector would index the value (the same
 * dimension check, without preparing the vector)
 */
static bool
sample_indexable(IvfBuildState *bs, Relation index, Datum value)
{
	Vector	   *v = DatumGetVector(value);

	if (v->dim != bs->dims)
		return HnswPrepareVector(&bs->dist, index, value, bs->vecBuf, bs->dims);	/* raises the error */
	return HnswHasDirection(&bs->dist, v);
}

/*
 * Phase 1: offer a row to the reservoir (only the rows it keeps are
 * prepared: most rows of a large table are not)
 */
static void
sample_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfBuildState *bs = state;
	MemoryContext oldCtx;
	int			slot;

	if (isnull[0])
		return;
	oldCtx = MemoryContextSwitchTo(bs->tmpCtx);
	if (sample_indexable(bs, index, values[0]))
	{
		bs->seen++;
		if (bs->nsamples < bs->sampleCap)
			slot = bs->nsamples++;
		else
		{
			double		r = pg_prng_double(&bs->prng) * bs->seen;

			slot = r < bs->sampleCap ? (int) r : -1;
		}
		if (slot >= 0 &&
			!HnswPrepareVector(&bs->dist, index, values[0], bs->samples + (Size) slot * bs->dims, bs->dims))
			elog(ERROR, "ivfflat build: sampled vector not indexable");
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * Phase 1: sample the table and cluster the sample into the centroids
 */
static void
compute_centers(IvfBuildState *bs)
{
	Size		mem = (Size) maintenance_work_mem * 1024;
	Size		fixed = (Size) bs->lists * bs->dims * (sizeof(double) + sizeof(float)) +
		(Size) bs->lists * 16;
	Size		perSample = sizeof(float) * bs->dims + 4 * sizeof(float);
	double		cap;
	double		target = (double) bs->lists * IVF_SAMPLES_PER_LIST;
	bool		reduced = false;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_KMEANS);

	cap = mem > fixed ? (double) (mem - fixed) / perSample : 0;
	cap = Min(cap, (double) MaxAllocHugeSize / perSample);
	if (cap < target)
	{
		if (cap < bs->lists)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("memory required for k-means with %d lists of %d dimensions is %zu MB, maintenance_work_mem is %d MB",
							bs->lists, bs->dims,
							(fixed + perSample * (Size) bs->lists) / (1024 * 1024) + 1,
							maintenance_work_mem / 1024),
					 errhint("Increase maintenance_work_mem or use fewer lists.")));
		target = cap;
		reduced = true;
	}
	bs->sampleCap = (int) target;
	bs->samples = palloc_extended(sizeof(float) * bs->dims * (Size) bs->sampleCap, MCXT_ALLOC_HUGE);
	pg_prng_seed(&bs->prng, IVF_SAMPLE_SEED);
	table_index_build_scan(bs->heap, bs->index, bs->indexInfo, true, true, sample_callback, bs, NULL);

	if (reduced && bs->seen > bs->sampleCap)
		ereport(NOTICE,
				(errmsg("ivfflat k-means sample reduced to %d rows to fit into maintenance_work_mem",
						bs->sampleCap),
				 errdetail("%d lists are best trained on %d rows.",
						   bs->lists, bs->lists * IVF_SAMPLES_PER_LIST),
				 errhint("Increase maintenance_work_mem for better recall.")));

	if (bs->seen < bs->lists && bs->seen > 0)
		ereport(NOTICE,
				(errmsg("ivfflat index has fewer rows than lists"),
				 errdetail("The table has %.0f indexable rows for %d lists, so the index has %.0f lists.",
						   bs->seen, bs->lists, bs->seen),
				 errhint("Create the index when the table has more data, for better recall.")));

	bs->nlists = Max(1, Min(bs->lists, bs->nsamples));
	bs->centers = palloc_extended(sizeof(float) * bs->dims * (Size) bs->nlists, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	if (bs->nsamples > 0)
		IvfKmeans(bs->samples, bs->nsamples, bs->dims, bs->nlists, bs->spherical, bs->centers);
	if (bs->quant.kind != IVF_QUANTIZER_NONE)
		IvfQuantTrain(&bs->quant, bs->samples, bs->nsamples, bs->spherical);
	pfree(bs->samples);
	bs->samples = NULL;
}

/*
 * Phase 2: give the waiting rows their lists and put them into the sort
 */
static void
flush_batch(IvfBuildState *bs)
{
	const float *rows[IVF_ASSIGN_TILE];
	int			lists[IVF_ASSIGN_TILE];
	TupleTableSlot *slot = bs->slot;

	for (int r = 0; r < bs->nbatch; r++)
		rows[r] = bs->batch + (Size) r * bs->dims;
	IvfNearestCenters(rows, bs->nbatch, bs->centers, bs->nlists, bs->dims, lists, NULL, NULL);
	for (int r = 0; r < bs->nbatch; r++)
	{
		memcpy(VARDATA(bs->vecDatum), rows[r], sizeof(float) * bs->dims);
		ExecClearTuple(slot);
		slot->tts_values[0] = Int32GetDatum(lists[r]);
		slot->tts_isnull[0] = false;
		slot->tts_values[1] = PointerGetDatum(&bs->batchTids[r]);
		slot->tts_isnull[1] = false;
		slot->tts_values[2] = PointerGetDatum(bs->vecDatum);
		slot->tts_isnull[2] = false;
		ExecStoreVirtualTuple(slot);
		tuplesort_puttupleslot(bs->sort, slot);
	}
	bs->indtuples += bs->nbatch;
	bs->nbatch = 0;
	if (bs->leader)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

/*
 * Phase 2: prepare a row and queue it for its list (IvfNearestCenters
 * measures IVF_ASSIGN_TILE rows at a time against the centroids)
 */
static void
assign_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfBuildState *bs = state;
	MemoryContext oldCtx;

	bs->reltuples++;
	if (isnull[0])
		return;
	oldCtx = MemoryContextSwitchTo(bs->tmpCtx);
	if (HnswPrepareVector(&bs->dist, index, values[0], bs->batch + (Size) bs->nbatch * bs->dims, bs->dims))
	{
		bs->batchTids[bs->nbatch++] = *tid;
		if (bs->nbatch == IVF_ASSIGN_TILE)
			flush_batch(bs);
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * Phase 2: the sort by list, for a serial build, a parallel participant
 * (coord->isWorker) or the leader's merge of the participants' runs
 */
static Tuplesortstate *
begin_sort(IvfBuildState *bs, int sortmem, SortCoordinate coord)
{
	AttrNumber	attNums[] = {1};
	Oid			sortOperators[] = {Int4LessOperator};
	Oid			sortCollations[] = {InvalidOid};
	bool		nullsFirstFlags[] = {false};

	if (bs->sortdesc == NULL)
	{
		bs->sortdesc = CreateTemplateTupleDesc(3);
		TupleDescInitEntry(bs->sortdesc, (AttrNumber) 1, "list", INT4OID, -1, 0);
		TupleDescInitEntry(bs->sortdesc, (AttrNumber) 2, "tid", TIDOID, -1, 0);
		TupleDescInitEntry(bs->sortdesc, (AttrNumber) 3, "vector", BYTEAOID, -1, 0);
		bs->slot = MakeSingleTupleTableSlot(bs->sortdesc, &TTSOpsVirtual);
		bs->vecDatum = palloc(VARHDRSZ + sizeof(float) * bs->dims);
		SET_VARSIZE(bs->vecDatum, VARHDRSZ + sizeof(float) * bs->dims);
		bs->batch = palloc(sizeof(float) * bs->dims * IVF_ASSIGN_TILE);
		bs->nbatch = 0;
	}
	return tuplesort_begin_heap(bs->sortdesc, 1, attNums, sortOperators, sortCollations,
								nullsFirstFlags, sortmem, coord, TUPLESORT_NONE);
}

/*
 * Phase 2, serial: assign every row to its list, sorted by list
 */
static void
assign_rows(IvfBuildState *bs)
{
	bs->sort = begin_sort(bs, maintenance_work_mem, NULL);
	table_index_build_scan(bs->heap, bs->index, bs->indexInfo, true, true, assign_callback, bs, NULL);
	if (bs->nbatch > 0)
		flush_batch(bs);
	tuplesort_performsort(bs->sort);
}

/*
 * Scan (a share of) the heap and sort its rows by list into this
 * participant's run; used by the leader and every worker of a parallel
 * assignment
 */
static void
parallel_assign(IvfBuildShared *shared, Sharedsort *sharedsort, Relation heap, Relation index,
				IndexInfo *indexInfo, bool leader)
{
	IvfBuildState bs;
	SortCoordinate coord = palloc0(sizeof(SortCoordinateData));
	TableScanDesc scan;

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	bs.indexInfo = indexInfo;
	bs.dims = shared->dims;
	bs.nlists = shared->nlists;
	bs.centers = IvfSharedCenters(shared);
	bs.leader = leader;
	HnswInitDistance(index, &bs.dist);
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build temporary", ALLOCSET_DEFAULT_SIZES);

	coord->isWorker = true;
	coord->nParticipants = -1;
	coord->sharedsort = sharedsort;
	bs.sort = begin_sort(&bs, Max(64, maintenance_work_mem / shared->nparticipants), coord);
	scan = table_beginscan_parallel(heap, IvfSharedScan(shared));
	table_index_build_scan(heap, index, indexInfo, true, leader, assign_callback, &bs, scan);
	if (bs.nbatch > 0)
		flush_batch(&bs);
	tuplesort_performsort(bs.sort);
	tuplesort_end(bs.sort);
	ExecDropSingleTupleTableSlot(bs.slot);
	MemoryContextDelete(bs.tmpCtx);

	SpinLockAcquire(&shared->mutex);
	shared->reltuples += bs.reltuples;
	shared->indtuples += bs.indtuples;
	SpinLockRelease(&shared->mutex);
}

/*
 * Entry point of a parallel build worker
 */
PGDLLEXPORT void IvfParallelBuildMain(dsm_segment *seg, shm_toc *toc);

void
IvfParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	IvfBuildShared *shared = shm_toc_lookup(toc, PARALLEL_KEY_IVF_SHARED, false);
	Sharedsort *sharedsort = shm_toc_lookup(toc, PARALLEL_KEY_IVF_TUPLESORT, false);
	LOCKMODE	heapLockmode = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexLockmode = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap = table_open(shared->heaprelid, heapLockmode);
	Relation	index = index_open(shared->indexrelid, indexLockmode);
	IndexInfo  *indexInfo = BuildIndexInfo(index);

	indexInfo->ii_Concurrent = shared->isconcurrent;
	tuplesort_attach_shared(sharedsort, seg);
	parallel_assign(shared, sharedsort, heap, index, indexInfo, false);
	index_close(index, indexLockmode);
	table_close(heap, heapLockmode);
}

/*
 * Pages of a build or of an init fork, written in block order
 */
typedef struct IvfWriter
{
	Relation	index;
	ForkNumber	forkNum;
	Buffer		buf;			/* entry page being filled, locked */
	Page		page;
} IvfWriter;

/*
 * Append a new page of the given kind; it becomes the writer's current
 * page when it is an entry page
 */
static Buffer
writer_new_page(IvfWriter *w, uint16 flags)
{
	Buffer		buf = ReadBufferExtended(w->index, w->forkNum, P_NEW, RBM_NORMAL, NULL);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	IvfInitPage(BufferGetPage(buf), flags);
	MarkBufferDirty(buf);
	return buf;
}

/*
 * Finish the current entry page
 */
static void
writer_release(IvfWriter *w)
{
	if (BufferIsValid(w->buf))
	{
		MarkBufferDirty(w->buf);
		UnlockReleaseBuffer(w->buf);
		w->buf = InvalidBuffer;
	}
}

/*
 * Start a list's first entry page; returns its block number
 */
static BlockNumber
writer_start_list(IvfWriter *w)
{
	writer_release(w);
	w->buf = writer_new_page(w, IVF_PAGE_ENTRY);
	w->page = BufferGetPage(w->buf);
	CHECK_FOR_INTERRUPTS();
	return BufferGetBlockNumber(w->buf);
}

/*
 * Add an entry to the current list, chaining a new page when full
 */
static void
writer_add(IvfWriter *w, void *etup, Size sz)
{
	if (PageGetFreeSpace(w->page) < sz)
	{
		Buffer		next = writer_new_page(w, IVF_PAGE_ENTRY);

		IvfPageGetOpaque(w->page)->nextblkno = BufferGetBlockNumber(next);
		writer_release(w);
		w->buf = next;
		w->page = BufferGetPage(next);
		CHECK_FOR_INTERRUPTS();
	}
	if (PageAddItem(w->page, (Item) etup, sz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "ivfflat build: failed to add entry to index \"%s\"", RelationGetRelationName(w->index));
}

/*
 * Phase 3 (and empty indexes): write the metapage, the list pages and the
 * entries of every list.  With sort NULL the lists are empty.
 */
static void
write_index(Relation index, ForkNumber forkNum, int dims, int nlists, const float *centers,
			const IvfQuantizer *quant, Tuplesortstate *sort, TupleDesc sortdesc)
{
	IvfWriter	w = {index, forkNum, InvalidBuffer, NULL};
	Size		ltupSize = IVF_LIST_TUPLE_SIZE(dims);
	Size		etupSize = IvfEntrySize(quant->kind, dims);
	int			paramPages = IvfParamPages(quant->kind, dims);
	int			perPage = (int) ((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfPageOpaqueData))) /
								 (ltupSize + sizeof(ItemIdData)));
	BlockNumber listPages = (nlists + perPage - 1) / perPage;
	BlockNumber *starts = palloc(sizeof(BlockNumber) * nlists);
	BlockNumber *lasts = palloc(sizeof(BlockNumber) * nlists);
	void	   *etup = palloc0(etupSize);
	IvfListTuple ltup = palloc0(ltupSize);
	TupleTableSlot *slot = NULL;
	bool		have = false;
	Buffer		buf;
	IvfMetaPage meta;

	if (sort)
	{
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_LOAD);
		slot = MakeSingleTupleTableSlot(sortdesc, &TTSOpsMinimalTuple);
		have = tuplesort_gettupleslot(sort, true, false, slot, NULL);
	}

	/* metapage and list pages first, filled in at the end */
	buf = writer_new_page(&w, IVF_PAGE_META);
	Assert(BufferGetBlockNumber(buf) == IVF_METAPAGE_BLKNO);
	UnlockReleaseBuffer(buf);
	for (BlockNumber i = 0; i < listPages; i++)
		UnlockReleaseBuffer(writer_new_page(&w, IVF_PAGE_LIST));

	/* then the quantizer's parameters, if any */
	for (int i = 0; i < paramPages; i++)
	{
		buf = writer_new_page(&w, IVF_PAGE_PARAMS);
		IvfFillParamPage(quant, i, BufferGetPage(buf));
		UnlockReleaseBuffer(buf);
	}

	/* entries, list after list */
	for (int list = 0; list < nlists; list++)
	{
		starts[list] = writer_start_list(&w);
		while (have)
		{
			bool		isnull;
			int			l = DatumGetInt32(slot_getattr(slot, 1, &isnull));
			bytea	   *vec;

			if (l != list)
				break;
			vec = DatumGetByteaPP(slot_getattr(slot, 3, &isnull));
			memset(etup, 0, etupSize);
			IvfFormEntry(quant, (float *) VARDATA_ANY(vec),
						 (ItemPointer) DatumGetPointer(slot_getattr(slot, 2, &isnull)), etup);
			writer_add(&w, etup, etupSize);
			have = tuplesort_gettupleslot(sort, true, false, slot, NULL);
		}
		lasts[list] = BufferGetBlockNumber(w.buf);
	}
	writer_release(&w);
	if (have)
		elog(ERROR, "ivfflat build: entry of a list beyond the last one");

	/* now the list pages and the metapage */
	for (int list = 0; list < nlists; list++)
	{
		BlockNumber blkno = IVF_FIRST_LIST_BLKNO + list / perPage;
		Page		page;

		buf = ReadBufferExtended(index, forkNum, blkno, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		memset(ltup, 0, ltupSize);
		ltup->startBlkno = starts[list];
		ltup->insertBlkno = lasts[list];
		memcpy(ltup->centroid, centers + (Size) list * dims, sizeof(float) * dims);
		if (PageAddItem(page, (Item) ltup, ltupSize, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "ivfflat build: failed to add list to index \"%s\"", RelationGetRelationName(index));
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	buf = ReadBufferExtended(index, forkNum, IVF_METAPAGE_BLKNO, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	{
		Page		page = BufferGetPage(buf);

		meta = IvfPageGetMeta(page);
		memset(meta, 0, sizeof(IvfMetaPageData));
		meta->magic = IVF_MAGIC_NUMBER;
		meta->version = quant->kind == IVF_QUANTIZER_NONE ? IVF_VERSION : IVF_VERSION_QUANT;
		meta->dims = dims;
		meta->lists = nlists;
		meta->listPages = listPages;
		meta->quantizer = quant->kind;
		meta->paramPages = paramPages;
		((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfMetaPageData)) - (char *) page;
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	if (RelationNeedsWAL(index) || forkNum == INIT_FORKNUM)
		log_newpage_range(index, forkNum, 0, RelationGetNumberOfBlocksInFork(index, forkNum), true);

	if (slot)
		ExecDropSingleTupleTableSlot(slot);
	pfree(starts);
	pfree(lasts);
	pfree(etup);
	pfree(ltup);
}

/*
 * Phases 2 and 3 with parallel workers: the leader and the workers each
 * scan part of the heap and sort their rows by list; the leader merges the
 * sorted runs as it writes the pages.  Returns false (having done nothing)
 * when parallelism is not available.
 */
static bool
build_parallel(IvfBuildState *bs, int nworkers)
{
	Relation	heap = bs->heap;
	Relation	index = bs->index;
	bool		isconcurrent = bs->indexInfo->ii_Concurrent;
	Size		centersSize = BUFFERALIGN(sizeof(float) * bs->dims * (Size) bs->nlists);
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		estshared;
	Size		estsort;
	IvfBuildShared *shared;
	Sharedsort *sharedsort;
	SortCoordinate coord;

	EnterParallelMode();
	pcxt = CreateParallelContext("vecrec", "IvfParallelBuildMain", nworkers);
	snapshot = isconcurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;

	estshared = add_size(BUFFERALIGN(sizeof(IvfBuildShared)) + centersSize,
						 table_parallelscan_estimate(heap, snapshot));
	estsort = tuplesort_estimate_shared(nworkers + 1);
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_chunk(&pcxt->estimator, estsort);
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
	shared->nlists = bs->nlists;
	shared->nparticipants = nworkers + 1;
	shared->scanOffset = BUFFERALIGN(sizeof(IvfBuildShared)) + centersSize;
	SpinLockInit(&shared->mutex);
	shared->reltuples = 0;
	shared->indtuples = 0;
	memcpy(IvfSharedCenters(shared), bs->centers, sizeof(float) * bs->dims * (Size) bs->nlists);
	table_parallelscan_initialize(heap, IvfSharedScan(shared), snapshot);
	sharedsort = shm_toc_allocate(pcxt->toc, estsort);
	tuplesort_initialize_shared(sharedsort, nworkers + 1, pcxt->seg);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_IVF_SHARED, shared);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_IVF_TUPLESORT, sharedsort);

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("ivfflat build of \"%s\": %d parallel workers launched",
							 RelationGetRelationName(index), pcxt->nworkers_launched)));
	parallel_assign(shared, sharedsort, heap, index, bs->indexInfo, true);
	WaitForParallelWorkersToFinish(pcxt);
	bs->reltuples = shared->reltuples;
	bs->indtuples = shared->indtuples;

	/* merge the runs while the shared files still exist */
	coord = palloc0(sizeof(SortCoordinateData));
	coord->isWorker = false;
	coord->nParticipants = pcxt->nworkers_launched + 1;
	coord->sharedsort = sharedsort;
	bs->sort = begin_sort(bs, maintenance_work_mem, coord);
	tuplesort_performsort(bs->sort);
	write_index(index, MAIN_FORKNUM, bs->dims, bs->nlists, bs->centers, &bs->quant, bs->sort, bs->sortdesc);
	tuplesort_end(bs->sort);

	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/*
 * The list format of a new index, from its options (parameters allocated,
 * not trained yet)
 */
static void
init_quantizer(Relation index, const HnswDistance *dist, int dims, IvfQuantizer *q)
{
	q->kind = IvfGetQuantizer(index);
	q->dims = dims;
	q->lo = q->step = NULL;
	if (q->kind == IVF_QUANTIZER_NONE)
		return;
	if (dist->metric != HNSW_METRIC_L2SQ && dist->metric != HNSW_METRIC_NEG_IP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ivfflat quantizer \"%s\" does not support this operator class",
						IvfQuantizerName(q->kind)),
				 errhint("Use vector_l2_ops, vector_ip_ops or vector_cosine_ops.")));
	q->lo = palloc(sizeof(float) * dims);
	q->step = palloc(sizeof(float) * dims);
}

/*
 * Build a new index (ambuild)
 */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IvfBuildState bs;
	IndexBuildResult *result;
	int			nworkers = 0;

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	bs.indexInfo = indexInfo;
	bs.leader = true;
	bs.dims = IvfIndexDims(index);
	bs.lists = IvfGetLists(index);
	HnswInitDistance(index, &bs.dist);
	bs.spherical = bs.dist.normalize;
	init_quantizer(index, &bs.dist, bs.dims, &bs.quant);
	bs.vecBuf = palloc(sizeof(float) * bs.dims);
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build temporary", ALLOCSET_DEFAULT_SIZES);

	compute_centers(&bs);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_ASSIGN);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) Max(heap->rd_rel->reltuples, 0));

	if (!IsInParallelMode() && heap->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers == 0 || !build_parallel(&bs, nworkers))
	{
		assign_rows(&bs);
		write_index(index, MAIN_FORKNUM, bs.dims, bs.nlists, bs.centers, &bs.quant, bs.sort, bs.sortdesc);
		tuplesort_end(bs.sort);
	}
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * Build the init fork of an unlogged index: one empty list, as for an
 * empty table
 */
void
ivfflatbuildempty(Relation index)
{
	int			dims = IvfIndexDims(index);
	float	   *center = palloc0(sizeof(float) * dims);
	HnswDistance dist;
	IvfQuantizer quant;

	HnswInitDistance(index, &dist);
	init_quantizer(index, &dist, dims, &quant);
	if (quant.kind != IVF_QUANTIZER_NONE)
		IvfQuantTrain(&quant, NULL, 0, dist.normalize);
	write_index(index, INIT_FORKNUM, dims, 1, center, &quant, NULL, NULL);
	pfree(center);
}
