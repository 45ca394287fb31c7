/*-------------------------------------------------------------------------
 *
 * session.c
 *		Session and profile vectors: the aggregates vecrec.weighted_avg
 *		and vecrec.session_vector.
 *
 * Both share one transition state, a float8[] that starts as '{0,0,0}':
 *
 *	+-------+-------+-------+-------+-----+-------+
 *	| count | ref   | sum_w | sum_1 | ... | sum_n |
 *	+-------+-------+-------+-------+-----+-------+
 *
 * count is the number of non-NULL rows seen (all of them, zero weights
 * included, so dimensions are checked on every row); sum_w and sum_i are the
 * sums of w and w * v_i over the rows of positive effective weight.
 *
 * weighted_avg uses w as given and ref stays 0.  session_vector weighs a row
 * w * 0.5 ^ h, with h = age / half_life (the number of half-lives).  As its
 * result is normalised, only ratios of weights matter, so the state stores
 * w * 0.5 ^ (h - ref), ref being the smallest h seen (the newest event) and
 * the sums rescaled whenever a newer event arrives.  Events many half-lives
 * old therefore never underflow to a zero vector: the result depends on
 * the events' relative ages only.  sum_w > 0 tells that ref is valid.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "rec.h"

/* positions in the state array */
#define SV_COUNT	0
#define SV_REF		1
#define SV_SUMW		2
#define SV_HEADER	3

/*
 * The state's elements, after checking that it is a well-formed state
 */
static float8 *
state_values(ArrayType *state, int *dim)
{
	float8	   *s;
	int			n;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		goto bad;
	n = ARR_DIMS(state)[0];
	if (n < SV_HEADER || n > VECTOR_MAX_DIM + SV_HEADER)
		goto bad;
	s = (float8 *) ARR_DATA_PTR(state);
	if (!(s[SV_COUNT] >= 0) || isinf(s[SV_COUNT]) || !(s[SV_SUMW] >= 0) ||
		isinf(s[SV_SUMW]) || isnan(s[SV_REF]) || isinf(s[SV_REF]))
		goto bad;
	if (s[SV_COUNT] > 0 && n == SV_HEADER)
		goto bad;
	*dim = n - SV_HEADER;
	return s;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid weighted vector aggregate state"),
			 errdetail("The state must be a double precision array {count, ref, sum_w, sum_1, ..., sum_n} without nulls, with finite count >= 0 and sum_w >= 0.")));
	pg_unreachable();
}

/*
 * A zeroed state for vectors of dim dimensions
 */
static ArrayType *
new_state(int dim)
{
	int			n = dim + SV_HEADER;
	Datum	   *d = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(0.0);
	return construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * The state argument, ready to be updated: a fresh one sized for dim at the
 * first row, a copy when called outside an aggregate (never scribble on the
 * caller's value), else the aggregate's own state, updated in place
 */
static ArrayType *
state_for_update(FunctionCallInfo fcinfo, int dim, float8 **s)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			sdim;

	*s = state_values(state, &sdim);
	if ((*s)[SV_COUNT] == 0)
		state = new_state(dim);
	else if (!AggCheckCallContext(fcinfo, NULL))
		state = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
	*s = state_values(state, &sdim);
	if (sdim != dim)
		RecReportDimsMismatch("All vectors in an aggregate", sdim, dim);
	return state;
}

/*
 * Error unless a weight is finite and not negative
 */
static void
check_weight(double w)
{
	if (isnan(w) || isinf(w))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight must be a finite number, not %g", w)));
	if (w < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight must not be negative, not %g", w),
				 errhint("Use weight 0 for rows that should not count.")));
}

/*
 * Error if the sum of the weights overflowed
 */
static void
check_sum(double sum_w)
{
	if (isinf(sum_w))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errhint("The sum of the weights is too large for double precision.")));
}

/*
 * Add one row of weight w at h half-lives (h = 0 for weighted_avg) to the
 * state s of dim dimensions
 */
static void
state_add(float8 *s, const Vector *v, double w, double h)
{
	double		scale;

	s[SV_COUNT] += 1;
	if (w == 0 || isinf(h))
		return;					/* counts for the dimension check only */
	if (s[SV_SUMW] == 0)
		s[SV_REF] = h;
	else if (h < s[SV_REF])
	{
		/* a newer event: rescale what came before to the new reference */
		double		f = exp2(h - s[SV_REF]);

		for (int i = SV_SUMW; i < v->dim + SV_HEADER; i++)
			s[i] *= f;
		s[SV_REF] = h;
	}
	scale = w * exp2(s[SV_REF] - h);
	if (scale == 0)
		return;
	s[SV_SUMW] += scale;
	check_sum(s[SV_SUMW]);
	for (int i = 0; i < v->dim; i++)
		s[SV_HEADER + i] += scale * v->x[i];
}

PG_FUNCTION_INFO_V1(rec_weighted_avg_accum);

/*
 * Transition function of vecrec.weighted_avg(vector, float8)
 */
Datum
rec_weighted_avg_accum(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	double		w = PG_GETARG_FLOAT8(2);
	ArrayType  *state;
	float8	   *s;

	check_weight(w);
	state = state_for_update(fcinfo, v->dim, &s);
	state_add(s, v, w, 0);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Length of an interval in microseconds, with extract(epoch ...)'s
 * conventions: a month is 30 days, a year 365.25 days
 */
static double
interval_usecs(const Interval *iv)
{
	double		years = iv->month / MONTHS_PER_YEAR;
	double		months = iv->month % MONTHS_PER_YEAR;

	return (double) iv->time +
		(years * DAYS_PER_YEAR + months * DAYS_PER_MONTH + iv->day) * (double) USECS_PER_DAY;
}

/*
 * The number of half-lives between at and as_of (0 for events after
 * as_of, infinity for at = -infinity)
 */
static double
half_lives(TimestampTz at, const Interval *half_life, TimestampTz as_of)
{
	double		hl = interval_usecs(half_life);

	if (!(hl > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("half-life must be positive"),
				 errhint("Pass an interval such as '30 minutes'.")));
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be a finite timestamp")));
	if (TIMESTAMP_IS_NOBEGIN(at))
		return get_float8_infinity();
	if (TIMESTAMP_IS_NOEND(at) || at >= as_of)
		return 0;
	return ((double) as_of - (double) at) / hl;
}

/*
 * One row of session_vector, as_of given
 */
static Datum
session_accum(FunctionCallInfo fcinfo, TimestampTz as_of)
{
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	double		w = PG_GETARG_FLOAT8(2);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(3);
	Interval   *half_life = PG_GETARG_INTERVAL_P(4);
	double		h;
	ArrayType  *state;
	float8	   *s;

	check_weight(w);
	h = half_lives(at, half_life, as_of);
	state = state_for_update(fcinfo, v->dim, &s);
	state_add(s, v, w, h);
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(rec_session_accum);

/*
 * Transition function of vecrec.session_vector(vector, float8,
 * timestamptz, interval, timestamptz): ages counted up to as_of
 */
Datum
rec_session_accum(PG_FUNCTION_ARGS)
{
	return session_accum(fcinfo, PG_GETARG_TIMESTAMPTZ(5));
}

PG_FUNCTION_INFO_V1(rec_session_accum_now);

/*
 * Transition function of vecrec.session_vector(vector, float8,
 * timestamptz, interval): ages counted up to now(), the start of the
 * transaction (parallel workers see the leader's)
 */
Datum
rec_session_accum_now(PG_FUNCTION_ARGS)
{
	return session_accum(fcinfo, GetCurrentTransactionStartTimestamp());
}

PG_FUNCTION_INFO_V1(rec_weighted_combine);

/*
 * Combine function of both aggregates: merge two partial states, the one
 * with the older reference rescaled to the newer
 */
Datum
rec_weighted_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *s1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *s2 = PG_GETARG_ARRAYTYPE_P(1);
	float8	   *a;
	float8	   *b;
	int			da;
	int			db;
	double		fa = 1;
	double		fb = 1;

	a = state_values(s1, &da);
	b = state_values(s2, &db);
	if (b[SV_COUNT] == 0)
		PG_RETURN_ARRAYTYPE_P(s1);
	if (a[SV_COUNT] == 0)
		PG_RETURN_ARRAYTYPE_P(s2);
	if (da != db)
		RecReportDimsMismatch("All vectors in an aggregate", da, db);
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		s1 = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
		a = state_values(s1, &da);
	}

	if (a[SV_SUMW] == 0)
		a[SV_REF] = b[SV_REF];
	else if (b[SV_SUMW] > 0)
	{
		if (b[SV_REF] < a[SV_REF])
		{
			fa = exp2(b[SV_REF] - a[SV_REF]);
			a[SV_REF] = b[SV_REF];
		}
		else
			fb = exp2(a[SV_REF] - b[SV_REF]);
	}
	a[SV_COUNT] += b[SV_COUNT];
	for (int i = SV_SUMW; i < da + SV_HEADER; i++)
		a[i] = a[i] * fa + b[i] * fb;
	check_sum(a[SV_SUMW]);
	PG_RETURN_ARRAYTYPE_P(s1);
}

PG_FUNCTION_INFO_V1(rec_weighted_avg_final);

/*
 * Final function of weighted_avg: sum(w * v) / sum(w); NULL for no rows or
 * weights that are all zero
 */
Datum
rec_weighted_avg_final(PG_FUNCTION_ARGS)
{
	int			dim;
	float8	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), &dim);

	if (s[SV_COUNT] == 0 || s[SV_SUMW] == 0)
		PG_RETURN_NULL();
	PG_RETURN_VECTOR_P(RecVectorFromDoubles(s + SV_HEADER, dim, s[SV_SUMW]));
}

PG_FUNCTION_INFO_V1(rec_session_final);

/*
 * Final function of session_vector: the weighted sum scaled to unit length;
 * NULL for no rows, weights that are all zero, or a sum of zero length
 */
Datum
rec_session_final(PG_FUNCTION_ARGS)
{
	int			dim;
	float8	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), &dim);
	double		norm;

	if (s[SV_COUNT] == 0 || s[SV_SUMW] == 0)
		PG_RETURN_NULL();
	norm = RecDoubleNorm(s + SV_HEADER, dim);
	if (norm == 0)
		PG_RETURN_NULL();
	PG_RETURN_VECTOR_P(RecVectorFromDoubles(s + SV_HEADER, dim, norm));
}
