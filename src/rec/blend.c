/*-------------------------------------------------------------------------
 *
 * blend.c
 *		vecrec.blend(vector[], float8[]): a composite query vector from
 *		weighted parts (current product, session, user profile, ...).
 *
 * Each non-NULL part is scaled to unit length and multiplied by its weight;
 * the sum is scaled to unit length.  A NULL part drops out, so the others
 * are renormalised by the final scaling alone.  Decisions:
 *	- a part of zero norm is an error (it has no direction to normalise);
 *	- a sum of zero norm (all weights zero, or parts that cancel) is NULL;
 *	- negative weights are allowed ("less like this").
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/blend.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"

#include "compat.h"
#include "rec.h"

/*
 * The weights argument as doubles, after checking that every weight is
 * present and finite
 */
static double *
get_weights(ArrayType *weights, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *w;

	RecArrayLength(weights, "weights");
	deconstruct_array(weights, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, n);
	w = palloc(sizeof(double) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("weights must not contain nulls"),
					 errhint("To leave a part out, pass its vector as NULL.")));
		w[i] = DatumGetFloat8(elems[i]);
		if (isnan(w[i]) || isinf(w[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weight %d must be a finite number, not %g", i + 1, w[i])));
	}
	return w;
}

PG_FUNCTION_INFO_V1(rec_blend);

/*
 * Unit-length weighted sum of unit-length parts; NULL when every part is
 * NULL or the sum has zero length
 */
Datum
rec_blend(PG_FUNCTION_ARGS)
{
	RecVectorArray parts = RecGetVectorArray(PG_GETARG_ARRAYTYPE_P(0), "vectors");
	int			nweights;
	double	   *w = get_weights(PG_GETARG_ARRAYTYPE_P(1), &nweights);
	double	   *sum;
	double		norm;

	if (parts->n != nweights)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("vectors and weights have different lengths %d and %d",
						parts->n, nweights),
				 errhint("Pass one weight per vector, NULL vectors included.")));
	if (parts->nnonnull == 0)
		PG_RETURN_NULL();

	sum = palloc0(sizeof(double) * parts->dim);
	for (int i = 0; i < parts->n; i++)
	{
		Vector	   *v = parts->vecs[i];
		double		f;

		if (v == NULL)
			continue;
		f = RecNorm(v);
		if (f == 0)
			RecReportZeroVector(psprintf("vector %d of the blend", i + 1));
		f = w[i] / f;
		for (int j = 0; j < v->dim; j++)
			sum[j] += f * v->x[j];
	}

	norm = RecDoubleNorm(sum, parts->dim);
	if (norm == 0)
		PG_RETURN_NULL();
	PG_RETURN_VECTOR_P(RecVectorFromDoubles(sum, parts->dim, norm));
}
