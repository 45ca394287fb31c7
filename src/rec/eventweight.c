/*-------------------------------------------------------------------------
 *
 * eventweight.c
 *		vecrec.event_weight(text): the weight of an event type, read from
 *		the user-editable table vecrec.event_weights.
 *
 * The lookup runs through SPI with a plan prepared once per backend; the
 * plan cache re-plans it when the table is altered or re-created.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/eventweight.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "rec.h"

#define EVENT_WEIGHT_QUERY \
	"SELECT weight FROM vecrec.event_weights WHERE event OPERATOR(pg_catalog.=) $1"

static SPIPlanPtr event_weight_plan = NULL;

/*
 * The prepared lookup, made on first use
 */
static SPIPlanPtr
get_plan(void)
{
	if (event_weight_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	plan = SPI_prepare(EVENT_WEIGHT_QUERY, 1, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		event_weight_plan = plan;
	}
	return event_weight_plan;
}

PG_FUNCTION_INFO_V1(rec_event_weight);

/*
 * vecrec.event_weight(event text): an error naming the event if the table
 * has no row for it
 */
Datum
rec_event_weight(PG_FUNCTION_ARGS)
{
	text	   *event = PG_GETARG_TEXT_PP(0);
	Datum		values[1] = {PointerGetDatum(event)};
	bool		isnull;
	double		weight;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_plan(get_plan(), values, NULL, true, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown event \"%s\"", text_to_cstring(event)),
				 errhint("Event weights are read from table vecrec.event_weights; add a row for this event there.")));
	weight = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		elog(ERROR, "null weight in vecrec.event_weights");
	SPI_finish();
	PG_RETURN_FLOAT8(weight);
}
