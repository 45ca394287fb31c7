/*-------------------------------------------------------------------------
 *
 * exactscan.h
 *		Exact nearest-neighbour custom scan over a bitmap of rows.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/exactscan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_EXACTSCAN_H
#define VECREC_EXACTSCAN_H

extern bool vecrec_enable_exact_scan;
extern void ExactScanInit(void);

#endif							/* VECREC_EXACTSCAN_H */
