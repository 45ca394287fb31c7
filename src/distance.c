/*-------------------------------------------------------------------------
 *
 * distance.c
 *		SQL-callable distance functions and the choice of kernels.
 *
 * The GUC vecrec.kernel picks the kernel table: "auto" (the default) takes
 * the fastest one the CPU supports; naming one forces it, so tests can run
 * every table.  vecrec.kernels() lists what is compiled in and supported.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/distance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"

#include "compat.h"
#include "distance.h"
#include "vector.h"

static char *vecrec_kernel = NULL;

/*
 * GUC check hook: a compiled kernel table this CPU supports, or "auto"
 */
static bool
check_kernel(char **newval, void **extra, GucSource source)
{
	const VecKernels *k;
	bool		supported;

	if (pg_strcasecmp(*newval, "auto") == 0)
		return true;
	k = VecKernelByName(*newval, &supported);
	if (k == NULL)
	{
		GUC_check_errdetail("Unknown kernel \"%s\".", *newval);
		GUC_check_errhint("SELECT * FROM vecrec.kernels() lists the kernels compiled in.");
		return false;
	}
	if (!supported)
	{
		GUC_check_errdetail("This CPU does not support the \"%s\" kernel.", *newval);
		GUC_check_errhint("SELECT * FROM vecrec.kernels() lists the kernels this CPU supports.");
		return false;
	}
	return true;
}

/*
 * GUC assign hook: switch the active table
 */
static void
assign_kernel(const char *newval, void *extra)
{
	const VecKernels *k = NULL;

	if (pg_strcasecmp(newval, "auto") != 0)
		k = VecKernelByName(newval, NULL);
	VecActiveKernels = k ? k : VecBestKernels();
}

/*
 * Register the kernel GUC and pick the kernels
 */
void
DistanceInit(void)
{
	VecActiveKernels = VecBestKernels();
	DefineCustomStringVariable("vecrec.kernel",
							   "Distance kernels to use: auto, or a name from vecrec.kernels().",
							   "\"auto\" picks the fastest kernels the CPU supports.",
							   &vecrec_kernel,
							   "auto",
							   PGC_USERSET,
							   0,
							   check_kernel,
							   assign_kernel,
							   NULL);
}

/*
 * Euclidean norm, accumulated in double precision
 */
double
VectorNorm(int dim, const float *a)
{
	double		s = 0;

	for (int i = 0; i < dim; i++)
		s += (double) a[i] * a[i];
	return sqrt(s);
}

/* Fetch two vectors of equal dimensions */
#define GET_TWO_VECTORS(a, b) \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	CheckVectorDims(a, b)

PG_FUNCTION_INFO_V1(l2_distance);

/*
 * Euclidean distance (operator <->)
 */
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8(sqrt((double) VecActiveKernels->l2sq(a->dim, a->x, b->x)));
}

PG_FUNCTION_INFO_V1(vector_l2_squared_distance);

/*
 * Squared Euclidean distance: same order as <->, no square root
 */
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) VecActiveKernels->l2sq(a->dim, a->x, b->x));
}

PG_FUNCTION_INFO_V1(inner_product);

/*
 * Inner product
 */
Datum
inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) VecActiveKernels->dot(a->dim, a->x, b->x));
}

PG_FUNCTION_INFO_V1(vector_negative_inner_product);

/*
 * Negative inner product (operator <#>), so that smaller is closer
 */
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8(-(double) VecActiveKernels->dot(a->dim, a->x, b->x));
}

/*
 * Norm cached for the argument of a call site that stays the same for the
 * whole execution (a constant or an external parameter: the query vector
 * of an exact nearest-neighbour scan)
 */
typedef struct CosineCache
{
	int			argno;			/* stable argument, or -1 */
	const Vector *ptr;			/* where its value was last seen */
	Vector	   *vec;			/* copy of its value */
	float		normsq;
} CosineCache;

/*
 * The cache of a call site, set up on the first call
 */
static CosineCache *
cosine_cache(FunctionCallInfo fcinfo)
{
	CosineCache *c = fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CosineCache));
		c->argno = -1;
		if (fcinfo->flinfo->fn_expr != NULL)
		{
			if (get_fn_expr_arg_stable(fcinfo->flinfo, 1))
				c->argno = 1;
			else if (get_fn_expr_arg_stable(fcinfo->flinfo, 0))
				c->argno = 0;
		}
		fcinfo->flinfo->fn_extra = c;
	}
	return c;
}

/*
 * 1 - a.b / sqrt(aa * bb), clamped to [0, 2]; NaN if a norm is zero
 */
static inline double
cosine_from_parts(float ab, float aa, float bb)
{
	double		sim;

	if (aa == 0 || bb == 0)
		return get_float8_nan();
	sim = (double) ab / sqrt((double) aa * (double) bb);
	if (sim > 1)
		sim = 1;
	else if (sim < -1)
		sim = -1;
	return 1.0 - sim;
}

PG_FUNCTION_INFO_V1(cosine_distance);

/*
 * Cosine distance (operator <=>): 1 - cosine similarity, in [0, 2];
 * NaN when either vector is zero (as pgvector).  When one side is the
 * same for every row, its norm is computed once.
 */
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	CosineCache *c = cosine_cache(fcinfo);
	float		ab,
				aa,
				bb;

	GET_TWO_VECTORS(a, b);
	if (c->argno >= 0)
	{
		Vector	   *fixed = c->argno == 1 ? b : a;
		Vector	   *other = c->argno == 1 ? a : b;

		/*
		 * A stable value keeps its address; should it move (a detoasted
		 * copy per call), compare contents before trusting the cache.
		 */
		if (fixed != c->ptr)
		{
			if (c->vec == NULL || VARSIZE(c->vec) != VARSIZE(fixed) ||
				memcmp(c->vec->x, fixed->x, sizeof(float) * fixed->dim) != 0)
			{
				if (c->vec != NULL)
					pfree(c->vec);
				c->vec = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(fixed));
				memcpy(c->vec, fixed, VARSIZE(fixed));
				c->normsq = VecActiveKernels->dot(fixed->dim, fixed->x, fixed->x);
			}
			c->ptr = fixed;
		}
		VecActiveKernels->dotnorm(other->dim, other->x, fixed->x, &ab, &aa);
		PG_RETURN_FLOAT8(cosine_from_parts(ab, aa, c->normsq));
	}
	VecActiveKernels->cosparts(a->dim, a->x, b->x, &ab, &aa, &bb);
	PG_RETURN_FLOAT8(cosine_from_parts(ab, aa, bb));
}

PG_FUNCTION_INFO_V1(vector_spherical_distance);

/*
 * Angle between unit vectors divided by pi, in [0, 1]; index support
 */
Datum
vector_spherical_distance(PG_FUNCTION_ARGS)
{
	double		dot;

	GET_TWO_VECTORS(a, b);
	dot = (double) VecActiveKernels->dot(a->dim, a->x, b->x);
	if (dot > 1)
		dot = 1;
	else if (dot < -1)
		dot = -1;
	PG_RETURN_FLOAT8(acos(dot) / M_PI);
}

PG_FUNCTION_INFO_V1(l1_distance);

/*
 * Manhattan distance (operator <+>)
 */
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) VecActiveKernels->l1(a->dim, a->x, b->x));
}

PG_FUNCTION_INFO_V1(vecrec_kernels);

/*
 * vecrec.kernels(): name, supported by this CPU, active
 */
Datum
vecrec_kernels(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < VecKernelCount(); i++)
	{
		bool		supported;
		const VecKernels *k = VecKernelByIndex(i, &supported);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(k->name);
		values[1] = BoolGetDatum(supported);
		values[2] = BoolGetDatum(k == VecActiveKernels);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
