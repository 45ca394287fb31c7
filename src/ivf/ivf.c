/*-------------------------------------------------------------------------
 *
 * ivf.c
 *		The ivfflat access method: handler, options, GUCs, costing,
 *		validation.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivf.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ivf.h"

int			ivfflat_probes = IVF_DEFAULT_PROBES;
int			ivfflat_iterative_scan = IVF_ITERATIVE_SCAN_OFF;
int			ivfflat_max_probes = IVF_MAX_PROBES;
int			vecrec_ivfflat_rerank = IVF_DEFAULT_RERANK;

static relopt_kind ivf_relopt_kind;

static const struct config_enum_entry ivf_iterative_scan_options[] = {
	{"off", IVF_ITERATIVE_SCAN_OFF, false},
	{"relaxed_order", IVF_ITERATIVE_SCAN_RELAXED, false},
	{NULL, 0, false}
};

/*
 * Check the value of the quantizer option
 */
static void
validate_quantizer(const char *value)
{
	IvfQuantizerKind kind;

	if (value != NULL && !IvfQuantizerByName(value, &kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for ivfflat option \"quantizer\": \"%s\"", value),
				 errdetail("Valid values are \"none\" and \"sq8\".")));
}

/*
 * Register reloptions and GUCs; called from _PG_init
 */
void
IvfInit(void)
{
	ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(ivf_relopt_kind, "lists", "Number of inverted lists",
					  IVF_DEFAULT_LISTS, IVF_MIN_LISTS, IVF_MAX_LISTS, AccessExclusiveLock);
	add_string_reloption(ivf_relopt_kind, "quantizer", "List format: none (float4 vectors) or sq8 (8-bit codes)",
						 "none", validate_quantizer, AccessExclusiveLock);

	DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes",
							"Lists searched per query: more give better recall and slower queries.",
							&ivfflat_probes, IVF_DEFAULT_PROBES, 1, IVF_MAX_PROBES,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans",
							 "With relaxed_order, a scan keeps probing more lists until the query "
							 "has enough rows that pass its filters.",
							 &ivfflat_iterative_scan, IVF_ITERATIVE_SCAN_OFF, ivf_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.max_probes", "Sets the max number of probes for iterative scans",
							"Ignored when lower than ivfflat.probes.",
							&ivfflat_max_probes, IVF_MAX_PROBES, 1, IVF_MAX_PROBES,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfflat");
	DefineCustomIntVariable("vecrec.ivfflat_rerank",
							"Sets the number of rows a scan of a quantized ivfflat index re-ranks at a time",
							"The rows of the probed lists nearest by their codes are measured exactly on "
							"the table, this many at a time, and returned in exact order; 0 returns rows "
							"in the order of their codes, without reading the table.",
							&vecrec_ivfflat_rerank, IVF_DEFAULT_RERANK, 0, IVF_MAX_RERANK,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * Parse and validate reloptions
 */
static bytea *
ivfflatoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfOptions, lists)},
		{"quantizer", RELOPT_TYPE_STRING, offsetof(IvfOptions, quantizer)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivf_relopt_kind,
									  sizeof(IvfOptions), tab, lengthof(tab));
}

/*
 * The lists option of an index
 */
int
IvfGetLists(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	return opts ? opts->lists : IVF_DEFAULT_LISTS;
}

/*
 * The quantizer option of an index (what a build will use; scans read the
 * metapage)
 */
IvfQuantizerKind
IvfGetQuantizer(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;
	IvfQuantizerKind kind = IVF_QUANTIZER_NONE;

	if (opts && opts->quantizer != 0)
		IvfQuantizerByName((char *) opts + opts->quantizer, &kind);
	return kind;
}

/*
 * Estimate the cost of an index scan.
 *
 * Without ORDER BY the index is useless.  With one, the scan measures
 * every centroid, then every entry of the probes nearest lists (a share
 * probes / lists of the table) and sorts them before the first row goes
 * out, so all of that is startup cost.  An entry costs 20 *
 * cpu_operator_cost: a sequential read of a vector on an index page and
 * one SIMD distance, several times cheaper than an hnsw visit (hnsw.c)
 * and a little dearer than a sequential scan row.  The pages of the probed
 * lists are read at random_page_cost.  Further rows (an iterative scan
 * behind a filter) cost what genericcostestimate says a full index scan
 * costs per row.  An entry of a quantized index costs half as much (a
 * quarter of the bytes, an integer kernel), plus the exact re-ranking of
 * vecrec.ivfflat_rerank rows on the table at the cost of a random heap
 * fetch each.
 */
static void
ivfflatcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					Cost *indexStartupCost, Cost *indexTotalCost,
					Selectivity *indexSelectivity, double *indexCorrelation,
					double *indexPages)
{
	GenericCosts costs;
	int			lists;
	double		ratio;
	double		perEntry = 20 * cpu_operator_cost;
	double		ntuples = path->indexinfo->tuples;
	Relation	index;
	bool		quantized;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	index = index_open(path->indexinfo->indexoid, NoLock);
	lists = IvfGetLists(index);
	quantized = IvfGetQuantizer(index) != IVF_QUANTIZER_NONE;
	index_close(index, NoLock);

	ratio = Min(1.0, (double) ivfflat_probes / lists);
	*indexStartupCost = (lists + ntuples * ratio * (quantized ? 0.5 : 1)) * perEntry +
		costs.numIndexPages * ratio * random_page_cost;
	if (quantized)
		*indexStartupCost += Min(vecrec_ivfflat_rerank, ntuples) * (random_page_cost + perEntry);
	*indexTotalCost = *indexStartupCost + costs.indexTotalCost - costs.indexStartupCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

/*
 * Names of the build phases, for pg_stat_progress_create_index
 */
static char *
ivfflatbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVF_PHASE_KMEANS:
			return "performing k-means";
		case IVF_PHASE_ASSIGN:
			return "assigning tuples";
		case IVF_PHASE_LOAD:
			return "loading tuples";
		default:
			return NULL;
	}
}

/*
 * Check an operator class: hnsw's checks, as the support numbers are the same
 */
static bool
ivfflatvalidate(Oid opclassoid)
{
	StaticAssertStmt(IVF_DISTANCE_PROC == HNSW_DISTANCE_PROC && IVF_NORM_PROC == HNSW_NORM_PROC,
					 "ivfflat and hnsw support function numbers differ");
	return HnswValidateOpclass(opclassoid, "ivfflat");
}

PG_FUNCTION_INFO_V1(ivfflathandler);

/*
 * The index access method handler
 */
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 2;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;	/* can change direction mid-scan */
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = false;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = false;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false; /* not used during VACUUM */
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = ivfflatbuild;
	amroutine->ambuildempty = ivfflatbuildempty;
	amroutine->aminsert = ivfflatinsert;
	amroutine->ambulkdelete = ivfflatbulkdelete;
	amroutine->amvacuumcleanup = ivfflatvacuumcleanup;
	amroutine->amcanreturn = NULL;	/* vectors are stored normalised for cosine */
	amroutine->amcostestimate = ivfflatcostestimate;
	amroutine->amoptions = ivfflatoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = ivfflatbuildphasename;
	amroutine->amvalidate = ivfflatvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = ivfflatbeginscan;
	amroutine->amrescan = ivfflatrescan;
	amroutine->amgettuple = ivfflatgettuple;
	amroutine->amgetbitmap = NULL;	/* results only make sense in distance order */
	amroutine->amendscan = ivfflatendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
