/*-------------------------------------------------------------------------
 *
 * vecrec.c
 *		Module magic and load-time initialisation.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/vecrec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "compat.h"
#include "distance.h"
#include "exactscan.h"
#include "fresh.h"
#include "hnsw.h"
#include "ivf.h"
#include "reco.h"

VECREC_MODULE_MAGIC;

extern PGDLLEXPORT void _PG_init(void);

PG_FUNCTION_INFO_V1(vecrec_version);

/*
 * Called when the library is loaded: register GUCs, choose kernels
 */
void
_PG_init(void)
{
	DistanceInit();
	HnswInit();
	IvfInit();
	ExactScanInit();
	RecoInit();
	FreshInit();
	MarkGUCPrefixReserved("vecrec");
}

/*
 * The version of the loaded library, to compare with the SQL script's
 */
Datum
vecrec_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(VECREC_VERSION));
}
