/*-------------------------------------------------------------------------
 *
 * verify.c
 *		vecrec.verify_index(regclass): structural checks of vecrec indexes.
 *
 * Takes AccessShareLock on the index (and on its table first, as amcheck
 * does) and hands over to the access method's checker, which reports one
 * row per check.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "hnsw.h"
#include "ivf.h"

/* State of the heapallindexed table scan */
typedef struct VerifyHeapState
{
	VerifyHeapTid *tids;		/* sorted */
	int64		ntids;
	int64		nmissing;		/* live heap rows without an index entry */
	int64		nunreached;		/* ... whose hnsw element is unreachable */
	ItemPointerData first;		/* first missing row */
} VerifyHeapState;

/* State of VerifyScanIndexableRows */
typedef struct IndexableScan
{
	HnswDistance dist;			/* which values the index holds */
	VerifyRowCallback callback;
	void	   *arg;
	int64		nrows;
} IndexableScan;

/* Heap TID order, for qsort and bsearch */
static int
heap_tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) &((const VerifyHeapTid *) a)->tid,
							  (ItemPointer) &((const VerifyHeapTid *) b)->tid);
}

/* table_index_build_scan callback: pass on the rows the index holds */
static void
indexable_row(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive,
			  void *arg)
{
	IndexableScan *is = arg;

	if (isnull[0] || !tupleIsAlive)
		return;					/* NULLs are not indexed */
	if (is->dist.normalize)
	{
		Vector	   *v = DatumGetVector(values[0]);
		bool		indexed = HnswHasDirection(&is->dist, v);

		if ((Pointer) v != DatumGetPointer(values[0]))
			pfree(v);
		if (!indexed)
			return;				/* a zero vector under cosine */
	}
	CHECK_FOR_INTERRUPTS();
	is->nrows++;
	is->callback(tid, values, isnull, is->arg);
}

/*
 * Call callback for every row of the heap that the snapshot sees (taken
 * before the index was read, so rows committed since are not expected)
 * and that belongs in the index: non-NULL, not a zero vector under
 * cosine, inside a partial index's predicate.  HOT chains come by their
 * root, as the index holds them.  Returns the number of rows.
 */
int64
VerifyScanIndexableRows(Relation index, Relation heap, Snapshot snapshot,
						VerifyRowCallback callback, void *arg)
{
	IndexableScan is;
	IndexInfo  *indexInfo = BuildIndexInfo(index);
	TableScanDesc scan;

	HnswInitDistance(index, &is.dist);
	is.callback = callback;
	is.arg = arg;
	is.nrows = 0;

	/* as amcheck does: an MVCC snapshot, so no waiting on other transactions */
	indexInfo->ii_Concurrent = true;
	indexInfo->ii_Unique = false;
	indexInfo->ii_ExclusionOps = NULL;
	indexInfo->ii_ExclusionProcs = NULL;
	indexInfo->ii_ExclusionStrats = NULL;
	scan = table_beginscan_strat(heap, snapshot, 0, NULL, true, false);
	table_index_build_scan(heap, index, indexInfo, true, false, indexable_row, &is, scan);
	return is.nrows;
}

/* VerifyScanIndexableRows callback: is this row in the index? */
static void
check_heap_row(ItemPointer tid, Datum *values, bool *isnull, void *arg)
{
	VerifyHeapState *hs = arg;
	VerifyHeapTid key;
	VerifyHeapTid *found;

	key.tid = *tid;
	found = bsearch(&key, hs->tids, hs->ntids, sizeof(VerifyHeapTid), heap_tid_cmp);
	if (found == NULL)
	{
		if (hs->nmissing++ == 0)
			hs->first = *tid;
	}
	else if (!found->reached)
		hs->nunreached++;
}

/*
 * heapallindexed: every row of the heap that belongs in the index (see
 * VerifyScanIndexableRows) is among tids, the index entries' heap rows.
 * Reports the "heapallindexed" row; graph: also count the rows whose
 * element is not reached.
 */
void
VerifyHeapAllIndexed(Relation index, Relation heap, Snapshot snapshot, VerifyHeapTid *tids,
					 int64 ntids, bool graph, bool strict, HnswCheckReport report, void *arg)
{
	VerifyHeapState hs;
	int64		nrows;
	char		detail[256];
	bool		ok;

	memset(&hs, 0, sizeof(hs));
	hs.tids = tids;
	hs.ntids = ntids;
	qsort(tids, ntids, sizeof(VerifyHeapTid), heap_tid_cmp);
	nrows = VerifyScanIndexableRows(index, heap, snapshot, check_heap_row, &hs);

	ok = hs.nmissing == 0;
	if (ok && graph)
		snprintf(detail, sizeof(detail),
				 INT64_FORMAT " live heap rows, all in the index (" INT64_FORMAT " in elements unreachable from the entry point)",
				 nrows, hs.nunreached);
	else if (ok)
		snprintf(detail, sizeof(detail), INT64_FORMAT " live heap rows, all in the index", nrows);
	else
		snprintf(detail, sizeof(detail),
				 INT64_FORMAT " of " INT64_FORMAT " live heap rows are not in the index, the first at (%u,%u)",
				 hs.nmissing, nrows, ItemPointerGetBlockNumber(&hs.first),
				 ItemPointerGetOffsetNumber(&hs.first));
	if (!ok && strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" lacks rows of table \"%s\"", RelationGetRelationName(index),
						RelationGetRelationName(heap)),
				 errdetail("%s.", detail)));
	report(arg, "heapallindexed", ok, detail);
}

/* Rows go into the function's tuplestore */
static void
report_row(void *arg, const char *check, bool ok, const char *detail)
{
	ReturnSetInfo *rsinfo = arg;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(check);
	values[1] = BoolGetDatum(ok);
	values[2] = CStringGetTextDatum(detail);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(vecrec_verify_index);

/*
 * vecrec.verify_index(index regclass, strict boolean, heapallindexed boolean)
 */
Datum
vecrec_verify_index(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	bool		strict = PG_GETARG_BOOL(1);
	bool		heapallindexed = PG_NARGS() > 2 && PG_GETARG_BOOL(2);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	heap = NULL;
	Relation	index;
	Relation	heap_for_check;
	Snapshot	snapshot = NULL;
	MemoryContext ctx;
	MemoryContext oldCtx;

	InitMaterializedSRF(fcinfo, 0);

	/* lock the table before the index, as everything else does */
	if (OidIsValid(heapoid))
		heap = table_open(heapoid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
	heap_for_check = heap;
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		(index->rd_indam->ambuild != hnswbuild && index->rd_indam->ambuild != ivfflatbuild))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vecrec hnsw or ivfflat index", RelationGetRelationName(index)),
				 errhint("vecrec.verify_index checks indexes built with USING hnsw or USING ivfflat.")));

	ctx = AllocSetContextCreate(CurrentMemoryContext, "vecrec verify", ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(ctx);
	if (heapallindexed && heap == NULL)
		elog(ERROR, "could not find the table of index \"%s\"", RelationGetRelationName(index));
	/* the heap pass expects exactly the rows committed before the index is read */
	if (heapallindexed)
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
	else
		heap_for_check = NULL;
	if (index->rd_indam->ambuild == ivfflatbuild)
		IvfCheckIndex(index, heap_for_check, snapshot, strict, report_row, rsinfo);
	else
		HnswCheckIndex(index, heap_for_check, snapshot, strict, report_row, rsinfo);
	if (snapshot)
		UnregisterSnapshot(snapshot);
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);

	index_close(index, AccessShareLock);
	if (heap)
		table_close(heap, AccessShareLock);
	return (Datum) 0;
}
