/*-------------------------------------------------------------------------
 *
 * vector.h
 *		The on-disk vector datum and its fmgr macros.
 *
 * The layout is the one pgvector uses, so binary COPY, the wire format and
 * client libraries written for pgvector work unchanged:
 *
 *	+----------+---------+------------+----------------------------+
 *	| varlena  | dim     | unused     | x[0] ... x[dim - 1]        |
 *	| int32    | int16   | int16 = 0  | float4, finite             |
 *	+----------+---------+------------+----------------------------+
 *
 * "unused" is reserved and must be zero; binary input checks it.
 * Installed for other extensions (Makefile HEADERS).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/vector.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_VECTOR_H
#define VECREC_VECTOR_H

#include "fmgr.h"

#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved for future use, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(_dim)		(offsetof(Vector, x) + sizeof(float) * (_dim))

/*
 * Detoast only when needed: a plain in-line value (every row of a typical
 * table) is used where it lies, without a call to pg_detoast_datum()
 */
#define DatumGetVector(x) \
	((Vector *) (VARATT_IS_EXTENDED(DatumGetPointer(x)) ? \
				 pg_detoast_datum((struct varlena *) DatumGetPointer(x)) : \
				 (struct varlena *) DatumGetPointer(x)))
#define PG_GETARG_VECTOR_P(x)	DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)

/* vector.c */
extern Vector *InitVector(int dim);
extern void ReportVectorDimsMismatch(const Vector *a, const Vector *b) pg_attribute_noreturn();
extern void CheckVectorDim(int dim);
extern void CheckVectorElement(float value);

/*
 * Error unless two vectors have the same number of dimensions (inline: it
 * runs once per distance computed)
 */
static inline void
CheckVectorDims(const Vector *a, const Vector *b)
{
	if (unlikely(a->dim != b->dim))
		ReportVectorDimsMismatch(a, b);
}

#endif							/* VECREC_VECTOR_H */
