/*-------------------------------------------------------------------------
 *
 * hnsw.c
 *		The hnsw access method: handler, options, GUCs, costing, validation.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnsw.c
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
#include "utils/regproc.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "compat.h"
#include "hnsw.h"
#include "hnswpart.h"

int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_iterative_scan = HNSW_ITERATIVE_SCAN_OFF;
int			hnsw_max_scan_tuples = 20000;
double		hnsw_scan_mem_multiplier = 1;

static relopt_kind hnsw_relopt_kind;

static const struct config_enum_entry hnsw_iterative_scan_options[] = {
	{"off", HNSW_ITERATIVE_SCAN_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_SCAN_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_SCAN_STRICT, false},
	{NULL, 0, false}
};

/*
 * Register reloptions and GUCs; called from _PG_init
 */
void
HnswInit(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m", "Max number of connections per element",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction", "Size of the dynamic candidate list for construction",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION, HNSW_MAX_EF_CONSTRUCTION,
					  AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search", "Sets the size of the dynamic candidate list for search",
							"Larger values give better recall and slower queries.",
							&hnsw_ef_search, HNSW_DEFAULT_EF_SEARCH, HNSW_MIN_EF_SEARCH, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan", "Sets the mode for iterative scans",
							 "With relaxed_order or strict_order, a scan keeps searching the graph "
							 "until the query has enough rows that pass its filters.",
							 &hnsw_iterative_scan, HNSW_ITERATIVE_SCAN_OFF, hnsw_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples", "Sets the max number of tuples to visit for iterative scans",
							NULL, &hnsw_max_scan_tuples, 20000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Sets the multiple of work_mem to use for iterative scans",
							 NULL, &hnsw_scan_mem_multiplier, 1, 1, 1000,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("hnsw");
}

/*
 * Parse and validate reloptions
 */
static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, efConstruction)},
	};

	return (bytea *) build_reloptions(reloptions, validate, hnsw_relopt_kind,
									  sizeof(HnswOptions), tab, lengthof(tab));
}

/*
 * The m option of an index
 */
int
HnswGetM(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->m : HNSW_DEFAULT_M;
}

/*
 * The ef_construction option of an index
 */
int
HnswGetEfConstruction(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->efConstruction : HNSW_DEFAULT_EF_CONSTRUCTION;
}

/*
 * Estimate the cost of an index scan.
 *
 * Without ORDER BY the index is useless.  With one, the first batch costs a
 * search of about ef_search * 2m element visits, whatever the table size.
 * Every further row (an iterative scan feeding a filter) comes from a
 * search deeper by ef_search / HNSW_ITERATIVE_ROWS, which measured about m
 * visits per unit of ef.  Charging the total for all rows lets the
 * planner's LIMIT arithmetic (fetch fraction = limit / expected rows) see
 * that a selective filter makes the index walk long, so that a scan of the
 * matching rows plus a sort wins when it should.
 *
 * Calibration (GloVe-100, m = 16, in shared buffers): a visit costs about
 * 0.4 us and a row of a bitmap heap scan with its sort about 1.8 us for
 * some 2.6 cost units; a sequential scan with its sort about 0.3 us for
 * 0.08 units.  A visit is charged 0.2 units (80 * cpu_operator_cost),
 * between the two, so that an unfiltered query prefers the index from a
 * few thousand rows on and, with a filter, the index wins at 10% of the
 * rows and the exact plan at 1% (measured: hnsw about 5 ms and 20 ms there;
 * bitmap scan and sort 6 ms at 1%, some 60 ms at 10% by its 1.8 us a row).
 */
static void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;
	int			m;
	double		visitsFirst;
	double		visitsPerRow;
	double		perVisit = 80 * cpu_operator_cost;
	double		ntuples = path->indexinfo->tuples;
	Relation	index;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	/* filter key columns: a scan of one key's partition (hnswpart.c) */
	if (HnswPartCostEstimate(root, path, loop_count, indexStartupCost, indexTotalCost,
							 indexSelectivity, indexCorrelation, indexPages))
		return;

	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	index = index_open(path->indexinfo->indexoid, NoLock);
	m = HnswGetM(index);
	index_close(index, NoLock);

	visitsFirst = Min(ntuples, (double) hnsw_ef_search * 2 * m);
	visitsPerRow = (double) hnsw_ef_search / HNSW_ITERATIVE_ROWS * m;
	*indexStartupCost = visitsFirst * perVisit;
	*indexTotalCost = *indexStartupCost +
		Max(ntuples - HNSW_ITERATIVE_ROWS, 0) * visitsPerRow * perVisit +
		costs.indexTotalCost - costs.indexStartupCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

/*
 * Names of the build phases, for pg_stat_progress_create_index
 */
static char *
hnswbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case 2:
			return "loading tuples";
		case 3:
			return "writing pages";
		case 4:
			return "writing key partitions";
		default:
			return NULL;
	}
}

/*
 * Look up an operator class and the support functions and operators of its
 * family; HnswOpclassListsClose releases them
 */
void
HnswOpclassListsOpen(Oid opclassoid, HnswOpclassLists *l)
{
	Form_pg_opclass classform;

	l->classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(l->classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(l->classtup);
	l->opfamily = classform->opcfamily;
	l->opcintype = classform->opcintype;
	l->name = NameStr(classform->opcname);
	l->procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(l->opfamily));
	l->oprs = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(l->opfamily));
}

void
HnswOpclassListsClose(HnswOpclassLists *l)
{
	ReleaseCatCacheList(l->procs);
	ReleaseCatCacheList(l->oprs);
	ReleaseSysCache(l->classtup);
}

/*
 * Check an operator class of a vecrec access method (amname, for messages):
 * support function 1 (distance) and optionally 2 (norm, which asks for
 * normalised vectors), and one ORDER BY operator.  hnsw and ivfflat share
 * these support numbers.
 */
bool
HnswValidateOpclass(Oid opclassoid, const char *amname)
{
	bool		result = true;
	HnswOpclassLists l;
	bool		hasdistance = false;

	HnswOpclassListsOpen(opclassoid, &l);
	for (int i = 0; i < l.procs->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&l.procs->members[i]->tuple);
		bool		ok;

		if (procform->amproclefttype != l.opcintype || procform->amprocrighttype != l.opcintype)
			continue;
		switch (procform->amprocnum)
		{
			case HNSW_DISTANCE_PROC:
				ok = check_amproc_signature(procform->amproc, FLOAT8OID, false, 2, 2, l.opcintype, l.opcintype);
				hasdistance = true;
				break;
			case HNSW_NORM_PROC:
				ok = check_amproc_signature(procform->amproc, FLOAT8OID, false, 1, 1, l.opcintype);
				break;
			default:
				ereport(INFO,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("%s operator class \"%s\" contains function %s with invalid support number %d",
								amname, l.name, format_procedure(procform->amproc), procform->amprocnum)));
				result = false;
				continue;
		}
		if (!ok)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains function %s with wrong signature for support number %d",
							amname, l.name, format_procedure(procform->amproc), procform->amprocnum)));
			result = false;
		}
	}
	if (!hasdistance)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" is missing support function %d",
						amname, l.name, HNSW_DISTANCE_PROC)));
		result = false;
	}

	for (int i = 0; i < l.oprs->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&l.oprs->members[i]->tuple);

		if (oprform->amopstrategy != 1 || oprform->amoppurpose != AMOP_ORDER ||
			!check_amop_signature(oprform->amopopr, FLOAT8OID, oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" contains invalid operator %s: only an ORDER BY operator with strategy 1 returning double precision is supported",
							amname, l.name, format_operator(oprform->amopopr))));
			result = false;
		}
	}

	HnswOpclassListsClose(&l);
	return result;
}

static bool
hnswvalidate(Oid opclassoid)
{
	bool		result;

	/* filter key operator classes (hnswpart.c) */
	if (HnswPartValidateOpclass(opclassoid, &result))
		return result;
	return HnswValidateOpclass(opclassoid, "hnsw");
}

PG_FUNCTION_INFO_V1(hnswhandler);

/*
 * The index access method handler
 */
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 3;	/* 3: key operator classes' hash (hnswpart.h) */
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;	/* can change direction mid-scan */
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = true;	/* vector, then filter key columns */
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

	amroutine->ambuild = hnswbuild;
	amroutine->ambuildempty = hnswbuildempty;
	amroutine->aminsert = hnswinsert;
	amroutine->ambulkdelete = hnswbulkdelete;
	amroutine->amvacuumcleanup = hnswvacuumcleanup;
	amroutine->amcanreturn = NULL;	/* vectors are stored normalised for cosine */
	amroutine->amcostestimate = hnswcostestimate;
	amroutine->amoptions = hnswoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = hnswbuildphasename;
	amroutine->amvalidate = hnswvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = hnswbeginscan;
	amroutine->amrescan = hnswrescan;
	amroutine->amgettuple = hnswgettuple;
	amroutine->amgetbitmap = NULL;	/* results only make sense in distance order */
	amroutine->amendscan = hnswendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
