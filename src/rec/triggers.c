/*-------------------------------------------------------------------------
 *
 * triggers.c
 *		Row triggers that keep catalog embeddings fresh.
 *
 * vecrec.track() installs, on a catalog with source columns:
 *
 *	- with an embedder: vecrec._embed_row(), BEFORE INSERT OR UPDATE OF the
 *	  source columns FOR EACH ROW.  It joins the source columns' text with
 *	  single spaces (NULLs skipped, like concat_ws), and when that text is
 *	  new (INSERT) or differs from the old row's (UPDATE) sets the embedding
 *	  column to embedder(text), or NULL when the text is empty;
 *
 *	- without one: statement-level triggers in PL/pgSQL that queue jobs
 *	  (sql/vecrec--0.1.0.sql), plus vecrec._embedding_written(), AFTER
 *	  UPDATE OF the embedding column FOR EACH ROW, which deletes the row's
 *	  job: writing the embedding completes it, even with the same value.
 *
 * Both take their settings from the trigger arguments, which track()
 * writes, and cache column numbers and functions in fn_extra (one per
 * statement and result relation).  Column names are matched exactly, so
 * quoted and mixed-case names work.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/triggers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "fresh.h"
#include "vector.h"

int			vecrec_embedding_lease = 300;

/* Settings of vecrec._embed_row for one relation */
typedef struct EmbedRowState
{
	Oid			relid;
	AttrNumber	emb_att;
	int32		emb_typmod;
	int			nsrc;
	AttrNumber *src_att;
	FmgrInfo   *src_out;		/* output function of each source column */
	FmgrInfo	embedder;
} EmbedRowState;

/* Settings of vecrec._embedding_written for one relation */
typedef struct WrittenState
{
	Oid			relid;
	Oid			catalog;
	AttrNumber	id_att;
	Oid			id_type;
} WrittenState;

static SPIPlanPtr delete_job_plan = NULL;

PG_FUNCTION_INFO_V1(vecrec_embed_row);
PG_FUNCTION_INFO_V1(vecrec_embedding_written);
PG_FUNCTION_INFO_V1(vecrec_embedding_lease_interval);

/*
 * Register the freshness GUCs
 */
void
FreshInit(void)
{
	DefineCustomIntVariable("vecrec.embedding_lease",
							"How long a claimed embedding job stays with its worker",
							"A job claimed by vecrec.claim_embedding_jobs and not completed "
							"within this time is handed out again.",
							&vecrec_embedding_lease, 300, 1, 365 * 86400, PGC_USERSET,
							GUC_UNIT_S, NULL, NULL, NULL);
	EmbedInit();
}

/*
 * Error unless called as a row trigger of the given timing
 */
static TriggerData *
check_trigger_context(FunctionCallInfo fcinfo, const char *fn, bool before)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not called by trigger manager", fn);
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "%s: must be fired for each row", fn);
	if (before != TRIGGER_FIRED_BEFORE(td->tg_event))
		elog(ERROR, "%s: must be fired %s", fn, before ? "before" : "after");
	return td;
}

/*
 * Attribute number of a column named by a trigger argument, or an error
 */
static AttrNumber
trigger_column(Relation rel, const char *col)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), col);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", col,
						RelationGetRelationName(rel)),
				 errhint("Run vecrec.track() again after renaming or dropping catalog columns.")));
	return (AttrNumber) att;
}

/*
 * Settings of vecrec._embed_row from the trigger arguments:
 * embedding column, embedder OID, source columns...
 */
static EmbedRowState *
embed_row_state(FunctionCallInfo fcinfo, TriggerData *td)
{
	EmbedRowState *st = (EmbedRowState *) fcinfo->flinfo->fn_extra;
	Relation	rel = td->tg_relation;
	Trigger    *tg = td->tg_trigger;
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
	TupleDesc	desc = RelationGetDescr(rel);

	if (st != NULL && st->relid == RelationGetRelid(rel))
		return st;
	if (tg->tgnargs < 3)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" needs an embedding column, an embedder and source columns",
						tg->tgname),
				 errhint("Install the trigger with vecrec.track().")));
	st = MemoryContextAllocZero(cxt, sizeof(EmbedRowState));
	st->relid = RelationGetRelid(rel);
	st->emb_att = trigger_column(rel, tg->tgargs[0]);
	st->emb_typmod = TupleDescAttr(desc, st->emb_att - 1)->atttypmod;
	fmgr_info_cxt(DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(tg->tgargs[1]))),
				  &st->embedder, cxt);
	st->nsrc = tg->tgnargs - 2;
	st->src_att = MemoryContextAlloc(cxt, sizeof(AttrNumber) * st->nsrc);
	st->src_out = MemoryContextAlloc(cxt, sizeof(FmgrInfo) * st->nsrc);
	for (int i = 0; i < st->nsrc; i++)
	{
		Oid			out;
		bool		varlena;

		st->src_att[i] = trigger_column(rel, tg->tgargs[i + 2]);
		getTypeOutputInfo(TupleDescAttr(desc, st->src_att[i] - 1)->atttypid, &out, &varlena);
		fmgr_info_cxt(out, &st->src_out[i], cxt);
	}
	fcinfo->flinfo->fn_extra = st;
	return st;
}

/*
 * The source columns' text joined by spaces, NULLs skipped; NULL if empty
 */
static char *
source_text(EmbedRowState *st, HeapTuple tup, TupleDesc desc)
{
	StringInfoData buf;
	bool		any = false;

	initStringInfo(&buf);
	for (int i = 0; i < st->nsrc; i++)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, st->src_att[i], desc, &isnull);

		if (isnull)
			continue;
		if (any)
			appendStringInfoChar(&buf, ' ');
		appendStringInfoString(&buf, OutputFunctionCall(&st->src_out[i], d));
		any = true;
	}
	if (buf.len == 0)
	{
		pfree(buf.data);
		return NULL;
	}
	return buf.data;
}

/*
 * embedder(text), checked against the embedding column's dimensions;
 * *isnull when the embedder returns NULL
 */
static Datum
call_embedder(EmbedRowState *st, Relation rel, const char *text, bool *isnull)
{
	LOCAL_FCINFO(ecinfo, 1);
	Datum		result;
	Vector	   *v;

	InitFunctionCallInfoData(*ecinfo, &st->embedder, 1, DEFAULT_COLLATION_OID, NULL, NULL);
	ecinfo->args[0].value = CStringGetTextDatum(text);
	ecinfo->args[0].isnull = false;
	result = FunctionCallInvoke(ecinfo);
	*isnull = ecinfo->isnull;
	if (*isnull)
		return (Datum) 0;
	v = DatumGetVector(result);
	if (st->emb_typmod != -1 && v->dim != st->emb_typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("embedder %s returned %d dimensions, but column \"%s\" of relation \"%s\" has %d",
						format_procedure(st->embedder.fn_oid), v->dim,
						NameStr(TupleDescAttr(RelationGetDescr(rel), st->emb_att - 1)->attname),
						RelationGetRelationName(rel), st->emb_typmod),
				 errhint("Use an embedder and an embedding column of the same dimensions.")));
	return PointerGetDatum(v);
}

/*
 * BEFORE INSERT OR UPDATE OF source columns FOR EACH ROW: set the embedding
 * from the source text when it is new or changed
 */
Datum
vecrec_embed_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = check_trigger_context(fcinfo, "vecrec._embed_row", true);
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	EmbedRowState *st = embed_row_state(fcinfo, td);
	HeapTuple	newtup;
	char	   *text;
	Datum		value = (Datum) 0;
	bool		isnull = true;
	int			col;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		newtup = td->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		newtup = td->tg_newtuple;
	else
		elog(ERROR, "vecrec._embed_row: must be fired by INSERT or UPDATE");

	text = source_text(st, newtup, desc);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		char	   *old = source_text(st, td->tg_trigtuple, desc);

		/* same text: leave the embedding (and the index entry) alone */
		if ((old == NULL && text == NULL) ||
			(old != NULL && text != NULL && strcmp(old, text) == 0))
			return PointerGetDatum(newtup);
	}
	if (text != NULL)
		value = call_embedder(st, rel, text, &isnull);
	col = st->emb_att;
	return PointerGetDatum(heap_modify_tuple_by_cols(newtup, desc, 1, &col, &value, &isnull));
}

/*
 * Settings of vecrec._embedding_written from the trigger arguments:
 * catalog OID, id column
 */
static WrittenState *
written_state(FunctionCallInfo fcinfo, TriggerData *td)
{
	WrittenState *st = (WrittenState *) fcinfo->flinfo->fn_extra;
	Relation	rel = td->tg_relation;
	Trigger    *tg = td->tg_trigger;
	Oid			relid = RelationGetRelid(rel);

	if (st != NULL && st->relid == relid)
		return st;
	if (tg->tgnargs != 2)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" needs a catalog and an id column", tg->tgname),
				 errhint("Install the trigger with vecrec.track().")));
	st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(WrittenState));
	st->relid = relid;
	st->catalog = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(tg->tgargs[0])));
	/* only the table itself or a partition of it may complete its jobs */
	if (st->catalog != relid &&
		!list_member_oid(get_partition_ancestors(relid), st->catalog))
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" on relation \"%s\" names another catalog",
						tg->tgname, RelationGetRelationName(rel)),
				 errhint("Install the trigger with vecrec.track().")));
	st->id_att = trigger_column(rel, tg->tgargs[1]);
	st->id_type = TupleDescAttr(RelationGetDescr(rel), st->id_att - 1)->atttypid;
	if (st->id_type != INT4OID && st->id_type != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("id column \"%s\" of relation \"%s\" must be integer or bigint",
						tg->tgargs[1], RelationGetRelationName(rel))));
	fcinfo->flinfo->fn_extra = st;
	return st;
}

/*
 * Delete the job of one catalog row
 */
static void
delete_job(Oid catalog, int64 id)
{
	Datum		args[2] = {ObjectIdGetDatum(catalog), Int64GetDatum(id)};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (delete_job_plan == NULL)
	{
		Oid			types[2] = {REGCLASSOID, INT8OID};
		SPIPlanPtr	plan = SPI_prepare("DELETE FROM vecrec.embedding_queue q "
									   "WHERE q.catalog OPERATOR(pg_catalog.=) $1 "
									   "AND q.item_id OPERATOR(pg_catalog.=) $2",
									   2, types);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		delete_job_plan = plan;
	}
	if (SPI_execute_plan(delete_job_plan, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_plan failed");
	SPI_finish();
}

/*
 * AFTER UPDATE OF the embedding column FOR EACH ROW: the row's job is done
 */
Datum
vecrec_embedding_written(PG_FUNCTION_ARGS)
{
	TriggerData *td = check_trigger_context(fcinfo, "vecrec._embedding_written", false);
	WrittenState *st;
	bool		isnull;
	Datum		id;

	if (!TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "vecrec._embedding_written: must be fired by UPDATE");
	st = written_state(fcinfo, td);
	id = heap_getattr(td->tg_newtuple, st->id_att, RelationGetDescr(td->tg_relation), &isnull);
	if (!isnull)
		delete_job(st->catalog, st->id_type == INT4OID ? (int64) DatumGetInt32(id) : DatumGetInt64(id));
	return PointerGetDatum(td->tg_newtuple);
}

/*
 * vecrec._embedding_lease() -> interval: the GUC vecrec.embedding_lease
 */
Datum
vecrec_embedding_lease_interval(PG_FUNCTION_ARGS)
{
	Interval   *r = palloc0(sizeof(Interval));

	r->time = (int64) vecrec_embedding_lease * USECS_PER_SEC;
	PG_RETURN_INTERVAL_P(r);
}
