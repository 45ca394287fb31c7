/*-------------------------------------------------------------------------
 *
 * fresh.h
 *		Catalog freshness: the in-database text embedder and the triggers
 *		that keep catalog embeddings current.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/fresh.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_FRESH_H
#define VECREC_FRESH_H

/* embed.c */
extern double vecrec_sif_a;
extern void EmbedInit(void);

/* triggers.c */
extern int	vecrec_embedding_lease;
extern void FreshInit(void);

#endif							/* VECREC_FRESH_H */
