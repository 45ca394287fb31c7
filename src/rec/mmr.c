/*-------------------------------------------------------------------------
 *
 * mmr.c
 *		Re-ranking for diversity: vecrec.mmr (maximal marginal relevance)
 *		and the intra-list diversity metric vecrec.diversity.
 *
 * MMR (Carbonell and Goldstein, SIGIR 1998) fills the list one slot at a
 * time with the candidate c maximising
 *
 *		lambda * sim(c, query) - (1 - lambda) * max over picked p of sim(c, p)
 *
 * where sim is cosine similarity; the second term is 0 for the first slot.
 * Each candidate keeps the running maximum of its similarity to the picked
 * ones, updated with one inner product per remaining candidate after each
 * pick, and norms are computed once: k * n + 2 * n inner products in all,
 * on the SIMD kernels.  Ties go to the lower id, so the result is
 * deterministic; duplicate ids are an error (they would make ties, and the
 * output, ambiguous).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/mmr.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "compat.h"
#include "rec.h"

/* A candidate during the selection */
typedef struct MmrCandidate
{
	int64		id;
	const Vector *vec;
	double		norm;
	double		relevance;		/* cosine similarity to the query */
	double		maxsim;			/* max cosine similarity to the picked ones */
	bool		picked;
} MmrCandidate;

/* A row of the result */
typedef struct MmrPick
{
	int64		id;
	double		relevance;
	double		score;			/* MMR objective when picked */
} MmrPick;

/* Everything the value-per-call SRF keeps between calls */
typedef struct MmrResult
{
	int			npicks;
	MmrPick    *picks;
} MmrResult;

/*
 * Cosine similarity from an inner product and two non-zero norms, clamped
 * to [-1, 1] against rounding
 */
static inline double
cosine_sim(double dot, double na, double nb)
{
	double		sim = dot / (na * nb);

	return Max(-1.0, Min(1.0, sim));
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Error unless k and lambda are usable
 */
static void
check_mmr_params(int32 k, double lambda)
{
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at least 1, not %d", k)));
	if (!(lambda >= 0 && lambda <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lambda must be between 0 and 1, not %g", lambda),
				 errhint("1 ranks by relevance alone, 0 by diversity alone; 0.7 is a common choice.")));
}

/*
 * The ids argument, checked for NULLs and duplicates
 */
static int64 *
get_ids(ArrayType *ids, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int64	   *result;
	int64	   *sorted;

	RecArrayLength(ids, "ids");
	deconstruct_array(ids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, n);
	result = palloc(sizeof(int64) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ids must not contain nulls"),
					 errdetail("Element %d is NULL.", i + 1)));
		result[i] = DatumGetInt64(elems[i]);
	}

	sorted = palloc(sizeof(int64) * Max(*n, 1));
	memcpy(sorted, result, sizeof(int64) * *n);
	qsort(sorted, *n, sizeof(int64), cmp_int64);
	for (int i = 1; i < *n; i++)
		if (sorted[i] == sorted[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("duplicate id " INT64_FORMAT " in ids", sorted[i]),
					 errhint("Each candidate must appear once; remove duplicates with DISTINCT.")));
	pfree(sorted);
	return result;
}

/*
 * The candidates: ids and embeddings paired, with norms and relevance
 */
static MmrCandidate *
get_candidates(const Vector *query, ArrayType *idarr, ArrayType *embarr, int *n)
{
	int64	   *ids = get_ids(idarr, n);
	RecVectorArray embs = RecGetVectorArray(embarr, "embeddings");
	double		qnorm;
	MmrCandidate *c;

	if (embs->n != *n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("ids and embeddings have different lengths %d and %d", *n, embs->n),
				 errhint("Pass one embedding per id, in the same order.")));
	if (embs->nnonnull < embs->n)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("embeddings must not contain nulls"),
				 errhint("Leave out candidates without an embedding.")));
	if (*n > 0 && embs->dim != query->dim)
		RecReportDimsMismatch("The query and the embeddings", query->dim, embs->dim);
	qnorm = RecNorm(query);
	if (qnorm == 0)
		RecReportZeroVector("query vector");

	c = palloc(sizeof(MmrCandidate) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		c[i].id = ids[i];
		c[i].vec = embs->vecs[i];
		c[i].norm = RecNorm(c[i].vec);
		if (c[i].norm == 0)
			RecReportZeroVector(psprintf("embedding of id " INT64_FORMAT, ids[i]));
		c[i].relevance = cosine_sim(RecDot(query, c[i].vec), qnorm, c[i].norm);
		c[i].maxsim = 0;
		c[i].picked = false;
	}
	return c;
}

/*
 * The unpicked candidate with the best objective, ties to the lower id;
 * its objective in *score
 */
static int
mmr_best(const MmrCandidate *c, int n, double lambda, bool first, double *score)
{
	int			best = -1;

	for (int i = 0; i < n; i++)
	{
		double		obj;

		if (c[i].picked)
			continue;
		obj = lambda * c[i].relevance - (first ? 0 : (1 - lambda) * c[i].maxsim);
		if (best < 0 || obj > *score || (obj == *score && c[i].id < c[best].id))
		{
			best = i;
			*score = obj;
		}
	}
	return best;
}

/*
 * After picking p: every other unpicked candidate's running max similarity
 */
static void
mmr_update(MmrCandidate *c, int n, int p, bool first)
{
	for (int i = 0; i < n; i++)
	{
		double		sim;

		if (c[i].picked)
			continue;
		sim = cosine_sim(RecDot(c[i].vec, c[p].vec), c[i].norm, c[p].norm);
		if (first || sim > c[i].maxsim)
			c[i].maxsim = sim;
	}
}

/*
 * Run MMR: min(k, n) picks, best first
 */
static MmrResult *
mmr_select(MmrCandidate *c, int n, int k, double lambda, MemoryContext resultcxt)
{
	MmrResult  *r = MemoryContextAlloc(resultcxt, sizeof(MmrResult));

	r->npicks = Min(k, n);
	r->picks = MemoryContextAlloc(resultcxt, sizeof(MmrPick) * Max(r->npicks, 1));
	for (int rank = 0; rank < r->npicks; rank++)
	{
		double		score = 0;
		int			p;

		CHECK_FOR_INTERRUPTS();
		p = mmr_best(c, n, lambda, rank == 0, &score);
		Assert(p >= 0);
		c[p].picked = true;
		r->picks[rank].id = c[p].id;
		r->picks[rank].relevance = c[p].relevance;
		r->picks[rank].score = score;
		if (rank + 1 < r->npicks)
			mmr_update(c, n, p, rank == 0);
	}
	return r;
}

PG_FUNCTION_INFO_V1(rec_mmr);

/*
 * vecrec.mmr(query, ids, embeddings, k, lambda) returns (id, rank,
 * relevance, score), rank 1 first
 */
Datum
rec_mmr(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	MmrResult  *r;

	if (SRF_IS_FIRSTCALL())
	{
		int32		k = PG_GETARG_INT32(3);
		double		lambda = PG_GETARG_FLOAT8(4);
		Vector	   *query;
		MmrCandidate *c;
		int			n;
		TupleDesc	tupdesc;
		MemoryContext oldcxt;

		funcctx = SRF_FIRSTCALL_INIT();
		check_mmr_params(k, lambda);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		MemoryContextSwitchTo(oldcxt);

		/* the work happens in the caller's context; only the picks are kept */
		query = PG_GETARG_VECTOR_P(0);
		c = get_candidates(query, PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_ARRAYTYPE_P(2), &n);
		funcctx->user_fctx = mmr_select(c, n, k, lambda, funcctx->multi_call_memory_ctx);
	}

	funcctx = SRF_PERCALL_SETUP();
	r = funcctx->user_fctx;
	if (funcctx->call_cntr < (uint64) r->npicks)
	{
		MmrPick    *p = &r->picks[funcctx->call_cntr];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int64GetDatum(p->id);
		values[1] = Int32GetDatum((int32) funcctx->call_cntr + 1);
		values[2] = Float8GetDatum(p->relevance);
		values[3] = Float8GetDatum(p->score);
		SRF_RETURN_NEXT(funcctx,
						HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

PG_FUNCTION_INFO_V1(rec_diversity);

/*
 * vecrec.diversity(vector[]): mean cosine distance over all pairs of the
 * non-NULL vectors; NULL for fewer than two
 */
Datum
rec_diversity(PG_FUNCTION_ARGS)
{
	RecVectorArray a = RecGetVectorArray(PG_GETARG_ARRAYTYPE_P(0), "vectors");
	const Vector **v;
	double	   *norms;
	double		total = 0;
	int			m = 0;
	double		pairs;

	if (a->nnonnull < 2)
		PG_RETURN_NULL();

	v = palloc(sizeof(Vector *) * a->nnonnull);
	norms = palloc(sizeof(double) * a->nnonnull);
	for (int i = 0; i < a->n; i++)
	{
		if (a->vecs[i] == NULL)
			continue;
		v[m] = a->vecs[i];
		norms[m] = RecNorm(v[m]);
		if (norms[m] == 0)
			RecReportZeroVector(psprintf("vector %d", i + 1));
		m++;
	}

	for (int i = 0; i < m; i++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int j = i + 1; j < m; j++)
			total += 1 - cosine_sim(RecDot(v[i], v[j]), norms[i], norms[j]);
	}
	pairs = (double) m * (m - 1) / 2;
	PG_RETURN_FLOAT8(total / pairs);
}
