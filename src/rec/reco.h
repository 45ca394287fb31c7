/*-------------------------------------------------------------------------
 *
 * reco.h
 *		C support of vecrec.recommend(): GUCs and the filter check.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/reco.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_RECO_H
#define VECREC_RECO_H

/* reco.c */
extern bool vecrec_log_impressions;
extern void RecoInit(void);
extern int	RecoCheckFilter(const char *str);

#endif							/* VECREC_RECO_H */
