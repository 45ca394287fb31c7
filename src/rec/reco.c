/*-------------------------------------------------------------------------
 *
 * reco.c
 *		C support of vecrec.recommend(): the vecrec.log_impressions GUC,
 *		the filter check and the request id of the last call.
 *
 * recommend() itself is PL/pgSQL (sql/vecrec--0.1.0.sql).  It splices the
 * application's filter into a WHERE clause as "(<filter>\n)", so the filter
 * must not be able to leave that position.  vecrec._check_filter() runs the
 * core SQL scanner over it (so string literals, quoted identifiers, dollar
 * quotes and comments are understood exactly as the parser will) and
 * rejects it unless
 *
 *	- it has at least one token,
 *	- no ';' token (statement separator),
 *	- its parentheses and brackets balance and never close more than they
 *	  opened (so the parentheses around it match each other and no
 *	  operator precedence can reach across them),
 *	- it has no unterminated literal or comment (the scanner errors out).
 *
 * What is left is a parenthesised expression of the caller's making; its
 * columns, types and privileges are checked when recommend() runs it with
 * the caller's rights.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/reco.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "parser/scanner.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/uuid.h"

#include "compat.h"
#include "reco.h"

bool		vecrec_log_impressions = true;

/* request id of this backend's last recommend() call */
static pg_uuid_t last_request_id;
static bool last_request_id_set = false;

PG_FUNCTION_INFO_V1(vecrec_check_filter);
PG_FUNCTION_INFO_V1(vecrec_set_request_id);
PG_FUNCTION_INFO_V1(vecrec_last_request_id);

/*
 * Register the GUCs of the recommendation layer
 */
void
RecoInit(void)
{
	DefineCustomBoolVariable("vecrec.log_impressions",
							 "Makes vecrec.recommend() log one row per returned item in vecrec.impressions",
							 NULL,
							 &vecrec_log_impressions, true, PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * Raise the filter error with a hint
 */
static void
filter_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("invalid filter"),
			 errdetail("%s", detail),
			 errhint("The filter must be one boolean SQL expression over the catalog's columns, "
					 "such as in_stock AND price < 100.")));
}

/*
 * Check that text is one expression that cannot leave its parentheses
 *
 * Returns the number of tokens (0 never: empty text is an error).
 */
int
RecoCheckFilter(const char *str)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	volatile int depth = 0;
	volatile int ntokens = 0;
	const char *volatile problem = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;

	scanner = scanner_init(str, &yyextra, &ScanKeywords, ScanKeywordTokens);
	PG_TRY();
	{
		for (;;)
		{
			core_YYSTYPE yylval;
			YYLTYPE		yylloc;
			int			tok = core_yylex(&yylval, &yylloc, scanner);

			if (tok == 0)
				break;
			ntokens++;
			if (tok == ';')
				problem = "The filter contains a statement separator (;).";
			else if (tok == '(' || tok == '[')
				depth++;
			else if ((tok == ')' || tok == ']') && --depth < 0)
				problem = "The filter closes a parenthesis it did not open.";
			if (problem)
				break;
		}
	}
	PG_CATCH();
	{
		/* a scanner error (unterminated literal or comment): say so */
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->elevel != ERROR || edata->sqlerrcode != ERRCODE_SYNTAX_ERROR)
			PG_RE_THROW();
		FlushErrorState();
		filter_error(edata->message);
	}
	PG_END_TRY();
	scanner_finish(scanner);

	if (problem)
		filter_error(problem);
	if (depth != 0)
		filter_error("The filter leaves a parenthesis or bracket open.");
	if (ntokens == 0)
		filter_error("The filter is empty.");
	return ntokens;
}

/*
 * vecrec._check_filter(text): error unless the text is a self-contained expression
 */
Datum
vecrec_check_filter(PG_FUNCTION_ARGS)
{
	RecoCheckFilter(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/*
 * vecrec._set_request_id(uuid): remember the request id of this call
 */
Datum
vecrec_set_request_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id = PG_GETARG_UUID_P(0);

	memcpy(&last_request_id, id, sizeof(pg_uuid_t));
	last_request_id_set = true;
	PG_RETURN_VOID();
}

/*
 * vecrec.last_request_id(): request id of this session's last recommend() call
 */
Datum
vecrec_last_request_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;

	if (!last_request_id_set)
		PG_RETURN_NULL();
	id = palloc(sizeof(pg_uuid_t));
	memcpy(id, &last_request_id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(id);
}
