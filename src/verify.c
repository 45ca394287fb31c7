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
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"
#include "ivf.h"

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
	MemoryContext ctx;
	MemoryContext oldCtx;

	InitMaterializedSRF(fcinfo, 0);

	/* lock the table before the index, as everything else does */
	if (OidIsValid(heapoid))
		heap = table_open(heapoid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
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
	if (index->rd_indam->ambuild == ivfflatbuild)
	{
		if (heapallindexed)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("heapallindexed is not supported for ivfflat indexes yet"),
					 errhint("Run vecrec.verify_index on an ivfflat index without heapallindexed; its \"entries\" row counts the index entries.")));
		IvfCheckIndex(index, strict, report_row, rsinfo);
	}
	else
		HnswCheckIndex(index, heapallindexed ? heap : NULL, strict, report_row, rsinfo);
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);

	index_close(index, AccessShareLock);
	if (heap)
		table_close(heap, AccessShareLock);
	return (Datum) 0;
}
