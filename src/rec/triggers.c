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
 *	- without one: vecrec._collect_job(), AFTER INSERT OR UPDATE OF the
 *	  source columns FOR EACH ROW, which notes (id, text) of rows that need
 *	  a job in backend memory, and vecrec._flush_jobs(), AFTER INSERT OR
 *	  UPDATE FOR EACH STATEMENT, which writes the statement's jobs to
 *	  vecrec.embedding_queue with one INSERT and sends one NOTIFY; plus
 *	  vecrec._embedding_written(), AFTER UPDATE OF the embedding column FOR
 *	  EACH ROW, which deletes the row's job: writing the embedding
 *	  completes it, even with the same value.  (DELETE and TRUNCATE drop
 *	  jobs in PL/pgSQL statement triggers, sql/vecrec--0.1.0.sql.)
 *
 * Row triggers with a column list cost nothing for updates that set no
 * source column, and a row event is much cheaper than a transition table
 * plus a join, which is why the queue is fed this way: an AFTER ROW event
 * of a statement always fires before its AFTER STATEMENT event.  The
 * statement's jobs are first inserted without ON CONFLICT (conflicts are
 * rare for new rows, and the plain insert is twice as fast); on a unique
 * violation the insert is redone, in a subtransaction, as an upsert that
 * coalesces with the pending jobs.
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
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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

/* Settings of vecrec._collect_job for one relation */
typedef struct CollectState
{
	Oid			relid;
	Oid			catalog;
	AttrNumber	id_att;
	Oid			id_type;
	AttrNumber	emb_att;
	int			nsrc;
	AttrNumber *src_att;
	FmgrInfo   *src_out;
} CollectState;

/* Jobs of one catalog noted by row triggers, not yet written */
typedef struct PendingJobs
{
	Oid			catalog;
	int			n;
	int			capacity;
	int64	   *ids;
	char	  **texts;			/* NULL: the text is empty, drop the job */
} PendingJobs;

/* Pending jobs of this transaction; the memory goes with it */
static MemoryContext pending_cxt = NULL;
static PendingJobs *pending = NULL;
static int	npending = 0;

static SPIPlanPtr delete_job_plan = NULL;

PG_FUNCTION_INFO_V1(vecrec_embed_row);
PG_FUNCTION_INFO_V1(vecrec_embedding_written);
PG_FUNCTION_INFO_V1(vecrec_embedding_lease_interval);
PG_FUNCTION_INFO_V1(vecrec_collect_job);
PG_FUNCTION_INFO_V1(vecrec_flush_jobs);

/*
 * At the end of a transaction its pending jobs are gone (those of a
 * committed one were written by the statement triggers)
 */
static void
fresh_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/* rows written into a partition directly: no statement trigger ran */
			for (int i = 0; i < npending; i++)
				if (pending[i].n > 0)
					ereport(WARNING,
							(errcode(ERRCODE_WARNING),
							 errmsg("%d embedding jobs of catalog %s were not queued",
									pending[i].n, get_rel_name(pending[i].catalog)),
							 errhint("Write to a partitioned catalog through its parent table, or run vecrec.reembed().")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			pending_cxt = NULL;
			pending = NULL;
			npending = 0;
			break;
		default:
			break;
	}
}

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
	RegisterXactCallback(fresh_xact_callback, NULL);
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
 * The catalog OID a trigger argument names: the trigger's table itself or
 * an ancestor of the partition it fires on, never another table (the
 * queue triggers run as the extension's owner)
 */
static Oid
trigger_catalog(Relation rel, Trigger *tg, const char *arg)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			catalog = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(arg)));

	if (catalog != relid && !(rel->rd_rel->relispartition &&
							  list_member_oid(get_partition_ancestors(relid), catalog)))
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" on relation \"%s\" names another catalog",
						tg->tgname, RelationGetRelationName(rel)),
				 errhint("Install the trigger with vecrec.track().")));
	return catalog;
}

/*
 * Attribute number of the id column named by a trigger argument; its type
 * (integer or bigint) in *type
 */
static AttrNumber
trigger_id_column(Relation rel, const char *col, Oid *type)
{
	AttrNumber	att = trigger_column(rel, col);

	*type = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
	if (*type != INT4OID && *type != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("id column \"%s\" of relation \"%s\" must be integer or bigint",
						col, RelationGetRelationName(rel))));
	return att;
}

/*
 * Output functions of the source columns named by trigger arguments
 * args[0 .. n - 1]
 */
static void
source_columns(Relation rel, char **args, int n, MemoryContext cxt,
			   AttrNumber **atts, FmgrInfo **outs)
{
	*atts = MemoryContextAlloc(cxt, sizeof(AttrNumber) * n);
	*outs = MemoryContextAlloc(cxt, sizeof(FmgrInfo) * n);
	for (int i = 0; i < n; i++)
	{
		Oid			out;
		bool		varlena;

		(*atts)[i] = trigger_column(rel, args[i]);
		getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), (*atts)[i] - 1)->atttypid,
						  &out, &varlena);
		fmgr_info_cxt(out, &(*outs)[i], cxt);
	}
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
	source_columns(rel, tg->tgargs + 2, st->nsrc, cxt, &st->src_att, &st->src_out);
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
	st->catalog = trigger_catalog(rel, tg, tg->tgargs[0]);
	st->id_att = trigger_id_column(rel, tg->tgargs[1], &st->id_type);
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

/*
 * Settings of vecrec._collect_job from the trigger arguments:
 * catalog OID, id column, embedding column, source columns...
 */
static CollectState *
collect_state(FunctionCallInfo fcinfo, TriggerData *td)
{
	CollectState *st = (CollectState *) fcinfo->flinfo->fn_extra;
	Relation	rel = td->tg_relation;
	Trigger    *tg = td->tg_trigger;
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;

	if (st != NULL && st->relid == RelationGetRelid(rel))
		return st;
	if (tg->tgnargs < 4)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" needs a catalog, id and embedding columns and source columns",
						tg->tgname),
				 errhint("Install the trigger with vecrec.track().")));
	st = MemoryContextAllocZero(cxt, sizeof(CollectState));
	st->relid = RelationGetRelid(rel);
	st->catalog = trigger_catalog(rel, tg, tg->tgargs[0]);
	st->id_att = trigger_id_column(rel, tg->tgargs[1], &st->id_type);
	st->emb_att = trigger_column(rel, tg->tgargs[2]);
	st->nsrc = tg->tgnargs - 3;
	source_columns(rel, tg->tgargs + 3, st->nsrc, cxt, &st->src_att, &st->src_out);
	fcinfo->flinfo->fn_extra = st;
	return st;
}

/*
 * The source columns' text of a tuple, NULLs skipped; NULL if empty
 */
static char *
tuple_text(int nsrc, AttrNumber *atts, FmgrInfo *outs, HeapTuple tup, TupleDesc desc)
{
	EmbedRowState st;

	st.nsrc = nsrc;
	st.src_att = atts;
	st.src_out = outs;
	return source_text(&st, tup, desc);
}

/*
 * The pending jobs of a catalog, created if missing
 */
static PendingJobs *
pending_jobs(Oid catalog)
{
	PendingJobs *p;

	for (int i = 0; i < npending; i++)
		if (pending[i].catalog == catalog)
			return &pending[i];
	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopTransactionContext, "vecrec pending jobs",
											ALLOCSET_DEFAULT_SIZES);
	if (pending == NULL)
		pending = MemoryContextAlloc(pending_cxt, sizeof(PendingJobs) * 4);
	else if (npending % 4 == 0)
		pending = repalloc(pending, sizeof(PendingJobs) * (npending + 4));
	p = &pending[npending++];
	memset(p, 0, sizeof(PendingJobs));
	p->catalog = catalog;
	return p;
}

/*
 * Note a job (text NULL: drop the job) for the statement trigger
 */
static void
add_pending(Oid catalog, int64 id, const char *text)
{
	PendingJobs *p = pending_jobs(catalog);

	if (p->n == p->capacity)
	{
		int			cap = p->capacity ? p->capacity * 2 : 256;

		if (p->capacity == 0)
		{
			p->ids = MemoryContextAllocHuge(pending_cxt, sizeof(int64) * cap);
			p->texts = MemoryContextAllocHuge(pending_cxt, sizeof(char *) * cap);
		}
		else
		{
			p->ids = repalloc_huge(p->ids, sizeof(int64) * cap);
			p->texts = repalloc_huge(p->texts, sizeof(char *) * cap);
		}
		p->capacity = cap;
	}
	p->ids[p->n] = id;
	p->texts[p->n] = text ? MemoryContextStrdup(pending_cxt, text) : NULL;
	p->n++;
}

/*
 * Are two values of the embedding column the same (both NULL, or the same
 * bytes)?
 */
static bool
same_embedding(CollectState *st, TupleDesc desc, HeapTuple a, HeapTuple b)
{
	bool		na;
	bool		nb;
	Datum		da = heap_getattr(a, st->emb_att, desc, &na);
	Datum		db = heap_getattr(b, st->emb_att, desc, &nb);

	if (na || nb)
		return na == nb;
	return datum_image_eq(da, db, false, -1);
}

/*
 * AFTER INSERT OR UPDATE OF source columns FOR EACH ROW: note the row's job
 * when its text is new or changed.  An inserted row that has an embedding,
 * and an updated row whose embedding the same statement changed, need
 * none (an explicitly written embedding wins).
 */
Datum
vecrec_collect_job(PG_FUNCTION_ARGS)
{
	TriggerData *td = check_trigger_context(fcinfo, "vecrec._collect_job", false);
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	CollectState *st = collect_state(fcinfo, td);
	HeapTuple	newtup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	char	   *text;
	bool		isnull;
	Datum		id;

	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "vecrec._collect_job: must be fired by INSERT or UPDATE");
	id = heap_getattr(newtup, st->id_att, desc, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	text = tuple_text(st->nsrc, st->src_att, st->src_out, newtup, desc);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		(void) heap_getattr(newtup, st->emb_att, desc, &isnull);
		if (text == NULL || !isnull)
			return PointerGetDatum(NULL);
	}
	else
	{
		char	   *old = tuple_text(st->nsrc, st->src_att, st->src_out, td->tg_trigtuple, desc);

		if ((old == NULL && text == NULL) ||
			(old != NULL && text != NULL && strcmp(old, text) == 0))
			return PointerGetDatum(NULL);
		if (!same_embedding(st, desc, td->tg_trigtuple, newtup))
			return PointerGetDatum(NULL);
	}
	add_pending(st->catalog,
				st->id_type == INT4OID ? (int64) DatumGetInt32(id) : DatumGetInt64(id), text);
	return PointerGetDatum(NULL);
}

/*
 * Run an INSERT of the statement's jobs in a subtransaction: false when
 * it failed with a unique violation (any other error is raised)
 */
static bool
try_insert_jobs(const char *sql, Datum *args, Oid *types)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (SPI_execute_with_args(sql, 3, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_with_args failed");
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Write a catalog's pending jobs: drop those with empty text, insert or
 * coalesce the others; the number of jobs queued
 */
static uint64
write_jobs(PendingJobs *p)
{
	Datum	   *ids = palloc(sizeof(Datum) * p->n);
	Datum	   *texts = palloc(sizeof(Datum) * p->n);
	Datum	   *drop = palloc(sizeof(Datum) * p->n);
	int			n = 0;
	int			ndrop = 0;
	Oid			types[3] = {REGCLASSOID, INT8ARRAYOID, TEXTARRAYOID};
	Datum		args[3];
	uint64		queued = 0;

	for (int i = 0; i < p->n; i++)
	{
		if (p->texts[i] == NULL)
			drop[ndrop++] = Int64GetDatum(p->ids[i]);
		else
		{
			ids[n] = Int64GetDatum(p->ids[i]);
			texts[n++] = CStringGetTextDatum(p->texts[i]);
		}
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = ObjectIdGetDatum(p->catalog);
	if (ndrop > 0)
	{
		args[1] = PointerGetDatum(construct_array(drop, ndrop, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (SPI_execute_with_args("DELETE FROM vecrec.embedding_queue q "
								  "WHERE q.catalog = $1 AND q.item_id = ANY ($2)",
								  2, types, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "SPI_execute_with_args failed");
	}
	if (n > 0)
	{
		args[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[2] = PointerGetDatum(construct_array(texts, n, TEXTOID, -1, false, TYPALIGN_INT));
		if (!try_insert_jobs("INSERT INTO vecrec.embedding_queue (catalog, item_id, text) "
							 "SELECT $1, u.i, u.t FROM unnest($2, $3) AS u(i, t)",
							 args, types))
		{
			/* some rows have jobs already: coalesce (the last text of an id wins) */
			if (SPI_execute_with_args("INSERT INTO vecrec.embedding_queue AS q (catalog, item_id, text) "
									  "SELECT DISTINCT ON (u.i) $1, u.i, u.t "
									  "  FROM unnest($2, $3) WITH ORDINALITY AS u(i, t, o) "
									  " ORDER BY u.i, u.o DESC "
									  "ON CONFLICT (catalog, item_id) DO UPDATE "
									  "   SET text = EXCLUDED.text, enqueued_at = EXCLUDED.enqueued_at, "
									  "       claimed_at = NULL, attempts = 0",
									  3, types, args, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "SPI_execute_with_args failed");
		}
		queued = SPI_processed;
	}
	SPI_finish();
	return queued;
}

/*
 * AFTER INSERT OR UPDATE FOR EACH STATEMENT: write the jobs the row
 * triggers noted, and NOTIFY vecrec_embedding once with the catalog's name
 */
Datum
vecrec_flush_jobs(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Trigger    *tg;
	Oid			catalog;
	PendingJobs *p = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "vecrec._flush_jobs: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || !TRIGGER_FIRED_AFTER(td->tg_event))
		elog(ERROR, "vecrec._flush_jobs: must be fired after each statement");
	tg = td->tg_trigger;
	if (tg->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" needs a catalog", tg->tgname),
				 errhint("Install the trigger with vecrec.track().")));
	catalog = trigger_catalog(td->tg_relation, tg, tg->tgargs[0]);
	for (int i = 0; i < npending; i++)
		if (pending[i].catalog == catalog)
			p = &pending[i];
	if (p == NULL || p->n == 0)
		return PointerGetDatum(NULL);
	if (write_jobs(p) > 0)
		Async_Notify("vecrec_embedding",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(catalog)),
												get_rel_name(catalog)));
	p->n = 0;
	return PointerGetDatum(NULL);
}
