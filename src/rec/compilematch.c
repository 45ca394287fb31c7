/*-------------------------------------------------------------------------
 *
 * compilematch.c
 *		vecrec.compile_match(catalog regclass, match jsonb): the server
 *		side of the rule match compiler.
 *
 * The parsing and the SQL it builds are src/rec/matchc.c (libc only,
 * fuzzed by test/fuzz/fuzz_match.c).  Here are its callbacks over the
 * catalog:
 *
 *	- column: the attribute's type (syscache; user columns only), named
 *	  by format_type_be (the cast target of the literals);
 *	- op_ref: vecrec._match_operator(col, type, op) through SPI (the
 *	  operator of the type, else pg_catalog's, checked to yield boolean;
 *	  it raises the "not available" error);
 *	- check_value: vecrec._match_literal(col, type, value) through SPI
 *	  (test-casts the value and raises the "not a valid" error); the
 *	  literal it returns must be the compiler's (a safety net);
 *	- compare, lower, is_keyword: the default collation's order and
 *	  lower(), quote_identifier().
 *
 * Errors the compiler finds itself become the same ereports (SQLSTATE,
 * message and hint) as the PL/pgSQL compiler of 0.1.0 raised.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/compilematch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "compat.h"
#include "matchc.h"

PG_FUNCTION_INFO_V1(vecrec_compile_match);

typedef struct MatchState
{
	MemoryContext mcxt;			/* the function's context (outlives SPI) */
	Oid			relid;
	bool		relnull;
} MatchState;

static void *
mc_alloc(void *arg, size_t size)
{
	return MemoryContextAlloc(((MatchState *) arg)->mcxt, size);
}

static void
mc_dealloc(void *arg, void *p)
{
	pfree(p);
}

static int
mc_compare(void *arg, const char *a, size_t alen, const char *b, size_t blen)
{
	return varstr_cmp(a, (int) alen, b, (int) blen, DEFAULT_COLLATION_OID);
}

static char *
mc_lower(void *arg, const char *s, size_t len)
{
	MemoryContext old = MemoryContextSwitchTo(((MatchState *) arg)->mcxt);
	char	   *r = str_tolower(s, len, DEFAULT_COLLATION_OID);

	MemoryContextSwitchTo(old);
	return r;
}

static int
mc_column(void *arg, const char *name, VrMatchColumn *col)
{
	MatchState *st = arg;
	AttrNumber	attnum;
	Oid			typid;
	MemoryContext old;

	if (st->relnull || strlen(name) >= NAMEDATALEN)
		return 0;
	attnum = get_attnum(st->relid, name);
	if (attnum <= 0)
		return 0;
	typid = get_atttype(st->relid, attnum);
	old = MemoryContextSwitchTo(st->mcxt);
	col->typname = format_type_be(typid);
	MemoryContextSwitchTo(old);
	col->type = (void *) (uintptr_t) typid;
	return 1;
}

static int
mc_is_keyword(void *arg, const char *ident)
{
	return quote_identifier(ident) != ident;
}

/* SELECT fn($1::name, $2::oid, $3) through SPI: its text, in st->mcxt */
static char *
call_helper(MatchState *st, const char *query, const char *colname, Oid typid,
			const char *third)
{
	Oid			argtypes[3] = {NAMEOID, OIDOID, TEXTOID};
	Datum		values[3];
	int			rc;
	char	   *r;

	values[0] = DirectFunctionCall1(namein, CStringGetDatum(colname));
	values[1] = ObjectIdGetDatum(typid);
	values[2] = CStringGetTextDatum(third);
	rc = SPI_execute_with_args(query, 3, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "vecrec.compile_match: \"%s\" failed: %d", query, rc);
	r = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (r == NULL)
		elog(ERROR, "vecrec.compile_match: \"%s\" returned NULL", query);
	return MemoryContextStrdup(st->mcxt, r);
}

static char *
mc_op_ref(void *arg, const char *colname, const VrMatchColumn *col,
		  const char *op, char *msg, size_t msglen)
{
	return call_helper(arg, "SELECT vecrec._match_operator($1, $2, $3)", colname,
					   (Oid) (uintptr_t) col->type, op);
}

static int
mc_check_value(void *arg, const char *colname, const VrMatchColumn *col,
			   const char *value, const char *json, const char *lit,
			   char *msg, size_t msglen)
{
	char	   *r = call_helper(arg, "SELECT vecrec._match_literal($1, $2, $3::jsonb)", colname,
								(Oid) (uintptr_t) col->type, json);

	if (strcmp(r, lit) != 0)
		elog(ERROR, "vecrec.compile_match: literal %s differs from %s", lit, r);
	pfree(r);
	return 0;
}

Datum
vecrec_compile_match(PG_FUNCTION_ARGS)
{
	MatchState	st;
	VrMatchCallbacks cb = {
		.arg = &st,
		.alloc = mc_alloc,
		.dealloc = mc_dealloc,
		.compare = mc_compare,
		.lower = mc_lower,
		.column = mc_column,
		.is_keyword = mc_is_keyword,
		.op_ref = mc_op_ref,
		.check_value = mc_check_value,
	};
	VrMatchResult res;
	Jsonb	   *jb;
	char	   *json;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	jb = PG_GETARG_JSONB_P(1);
	json = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	st.mcxt = CurrentMemoryContext;
	st.relnull = PG_ARGISNULL(0);
	st.relid = st.relnull ? InvalidOid : PG_GETARG_OID(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "vecrec.compile_match: SPI_connect failed");
	VrMatchCompile(json, strlen(json), &cb, 0, 0, &res);
	SPI_finish();

	switch (res.status)
	{
		case VM_OK:
			PG_RETURN_TEXT_P(cstring_to_text(res.sql));
		case VM_NOT_OBJECT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("match must be a non-empty JSON object"),
					 errhint("For example {\"category\": \"clearance\"}, {\"price\": {\"<\": 100}} or {\"brand\": {\"in\": [\"a\", \"b\"]}}.")));
			break;
		case VM_NO_COLUMN:
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation %s does not exist", res.col,
							st.relnull ? "<NULL>" :
							DatumGetCString(DirectFunctionCall1(regclassout,
																ObjectIdGetDatum(st.relid)))),
					 errhint("The keys of match are column names of the catalog table.")));
			break;
		case VM_NO_OPERATOR:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("match for column \"%s\" has no operator", res.col),
					 errhint("For example {\"price\": {\"<\": 100}}.")));
			break;
		case VM_UNKNOWN_OPERATOR:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown match operator \"%s\" for column \"%s\"", res.op, res.col),
					 errhint("Operators are =, <>, !=, <, <=, >, >=, in and not in.")));
			break;
		case VM_NEED_ARRAY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" for column \"%s\" needs a non-empty JSON array", res.op, res.col),
					 errhint("For example {\"brand\": {\"in\": [\"a\", \"b\"]}}.")));
			break;
		case VM_VALUE_KIND:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("match value for column \"%s\" must be a string, number or boolean, not %s",
							res.col, res.kind),
					 errhint("Write {\"column\": value}, {\"column\": {\"<\": value}} or {\"column\": {\"in\": [value, ...]}}.")));
			break;
		default:
			/* jsonb's text form is JSON, and there are no limits here */
			elog(ERROR, "vecrec.compile_match: unexpected status %d at %zu: %s",
				 (int) res.status, res.pos, res.msg);
	}
	PG_RETURN_NULL();
}
