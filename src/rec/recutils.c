/*-------------------------------------------------------------------------
 *
 * recutils.c
 *		Helpers shared by the recommendation functions: taking vector[]
 *		arguments apart, norms and dot products on the SIMD kernels, and
 *		the errors every function reports the same way.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/recutils.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "utils/lsyscache.h"

#include "distance.h"
#include "rec.h"

/*
 * Error unless an array argument has at most one dimension
 */
static void
check_one_dimensional(ArrayType *array, const char *argname)
{
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", argname),
				 errhint("Pass a flat array such as ARRAY[a, b, c].")));
}

/*
 * Number of elements of a one-dimensional (or empty) array argument
 */
int
RecArrayLength(ArrayType *array, const char *argname)
{
	check_one_dimensional(array, argname);
	return ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
}

/*
 * Take a vector[] argument apart.  Every non-NULL element must have the
 * same number of dimensions as the first one.
 */
RecVectorArray
RecGetVectorArray(ArrayType *array, const char *argname)
{
	RecVectorArray result = palloc0(sizeof(RecVectorArrayData));
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	check_one_dimensional(array, argname);
	get_typlenbyvalalign(ARR_ELEMTYPE(array), &typlen, &typbyval, &typalign);
	deconstruct_array(array, ARR_ELEMTYPE(array), typlen, typbyval, typalign,
					  &elems, &nulls, &n);

	result->n = n;
	result->vecs = palloc0(sizeof(Vector *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		Vector	   *v;

		if (nulls[i])
			continue;
		/* elements may carry short headers: DatumGetVector copies those */
		v = DatumGetVector(elems[i]);
		if (result->nnonnull == 0)
			result->dim = v->dim;
		else if (v->dim != result->dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("different vector dimensions %d and %d in %s",
							result->dim, v->dim, argname),
					 errhint("Every element of %s must have the same number of dimensions.",
							 argname)));
		result->vecs[i] = v;
		result->nnonnull++;
	}
	return result;
}

/*
 * Euclidean norm on the active kernels
 */
double
RecNorm(const Vector *v)
{
	return sqrt((double) VecActiveKernels->dot(v->dim, v->x, v->x));
}

/*
 * Inner product on the active kernels (dimensions checked by the caller)
 */
double
RecDot(const Vector *a, const Vector *b)
{
	return (double) VecActiveKernels->dot(a->dim, a->x, b->x);
}

/*
 * The error for vectors whose dimension counts differ
 */
void
RecReportDimsMismatch(const char *what, int expected, int found)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("different vector dimensions %d and %d", expected, found),
			 errhint("%s must have the same number of dimensions.", what)));
}

/*
 * The error for a vector whose direction is needed but which has none
 */
void
RecReportZeroVector(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s has zero norm", what),
			 errdetail("Cosine similarity and normalisation are undefined for a zero vector."),
			 errhint("Leave out vectors that are all zeros, or pass NULL instead.")));
}

/*
 * A new vector holding x[i] / divisor, with an error (never truncation) if
 * a value does not fit in float4
 */
Vector *
RecVectorFromDoubles(const double *x, int dim, double divisor)
{
	Vector	   *r = InitVector(dim);

	for (int i = 0; i < dim; i++)
	{
		double		v = x[i] / divisor;

		if (isnan(v) || fabs(v) > FLT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errhint("The weights or vectors are too large for single precision.")));
		r->x[i] = (float) v;
	}
	return r;
}

/*
 * Euclidean norm of a double array, scaled so that squaring cannot
 * overflow; an error if an element is not finite
 */
double
RecDoubleNorm(const double *x, int dim)
{
	double		maxabs = 0;
	double		s = 0;

	for (int i = 0; i < dim; i++)
		maxabs = Max(maxabs, fabs(x[i]));
	if (isnan(maxabs) || isinf(maxabs))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errhint("The weights or vectors are too large for double precision.")));
	if (maxabs == 0)
		return 0;
	for (int i = 0; i < dim; i++)
	{
		double		t = x[i] / maxabs;

		s += t * t;
	}
	return maxabs * sqrt(s);
}
