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

#include "kernels.h"

/* distance.c */
extern void DistanceInit(void);
extern double VectorCosineSimilarity(int dim, const float *a, const float *b);
extern double VectorNorm(int dim, const float *a);

#endif							/* VECREC_DISTANCE_H */
