/*-------------------------------------------------------------------------
 *
 * rec.h
 *		Shared declarations of the recommendation layer (schema vecrec):
 *		session and profile vectors, blending, MMR re-ranking, diversity.
 *
 * All vector arithmetic runs on the active SIMD kernel table
 * (VecActiveKernels); sums that feed a result are kept in double precision.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/rec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_REC_H
#define VECREC_REC_H

#include "utils/array.h"

#include "vector.h"

/*
 * A vector[] argument taken apart: vecs[i] is NULL for a NULL element,
 * otherwise a detoasted, aligned vector.  dim is the dimension count shared
 * by every non-NULL element (0 when there is none).
 */
typedef struct RecVectorArrayData
{
	int			n;				/* number of elements */
	int			nnonnull;		/* how many are not NULL */
	int			dim;			/* common dimension count, or 0 */
	Vector	  **vecs;			/* n entries, NULL for NULL elements */
} RecVectorArrayData;

typedef RecVectorArrayData *RecVectorArray;

/* recutils.c */
extern RecVectorArray RecGetVectorArray(ArrayType *array, const char *argname);
extern int	RecArrayLength(ArrayType *array, const char *argname);
extern double RecNorm(const Vector *v);
extern double RecDot(const Vector *a, const Vector *b);
extern void RecReportDimsMismatch(const char *what, int expected, int found) pg_attribute_noreturn();
extern void RecReportZeroVector(const char *what) pg_attribute_noreturn();
extern double RecDoubleNorm(const double *x, int dim);
extern Vector *RecVectorFromDoubles(const double *x, int dim, double divisor);

#endif							/* VECREC_REC_H */
