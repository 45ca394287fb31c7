/*-------------------------------------------------------------------------
 *
 * distance.h
 *		Distances between vectors, on the active kernel table.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/distance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_DISTANCE_H
#define VECREC_DISTANCE_H

#include "compat.h"

#include "kernels.h"

/* distance.c */
extern void DistanceInit(void);
extern double VectorNorm(int dim, const float *a);

/* SQL-callable distances that index support code recognises by address */
extern PGDLLEXPORT Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum l1_distance(PG_FUNCTION_ARGS);

#endif							/* VECREC_DISTANCE_H */
