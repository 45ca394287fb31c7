/*-------------------------------------------------------------------------
 *
 * ivf.h
 *		Private declarations of the ivfflat index access method.
 *
 * See README in this directory for the algorithm, the page layout, the
 * locking protocol and how changes are WAL-logged.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivf.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_IVF_H
#define VECREC_IVF_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

#include "hnsw.h"				/* HnswDistance: distance dispatch is shared */
#include "vector.h"

/* Identification */
#define IVF_MAGIC_NUMBER	0x56524956	/* "VRIV" */
#define IVF_VERSION			1
#define IVF_PAGE_ID			0xFF9B		/* last 2 bytes of every page's special space */

#define IVF_METAPAGE_BLKNO	0
#define IVF_FIRST_LIST_BLKNO 1

/* Options and GUCs (the ranges of pgvector, so its DDL works unchanged) */
#define IVF_DEFAULT_LISTS	100
#define IVF_MIN_LISTS		1
#define IVF_MAX_LISTS		32768
#define IVF_DEFAULT_PROBES	1
#define IVF_MAX_PROBES		IVF_MAX_LISTS

/* An entry (and a centroid) must fit on a page */
#define IVF_MAX_DIM			2000

/* Rows sampled per list for k-means */
#define IVF_SAMPLES_PER_LIST 50

/* Support function numbers (the same as hnsw's: hnswutils.c reads them) */
#define IVF_DISTANCE_PROC	1
#define IVF_NORM_PROC		2

/* Iterative scan modes (GUC ivfflat.iterative_scan) */
typedef enum IvfIterativeScan
{
	IVF_ITERATIVE_SCAN_OFF,
	IVF_ITERATIVE_SCAN_RELAXED
} IvfIterativeScan;

/* Build phases, for pg_stat_progress_create_index */
#define IVF_PHASE_KMEANS	2
#define IVF_PHASE_ASSIGN	3
#define IVF_PHASE_LOAD		4

/*
 * Metapage, block 0.  Options are frozen here at build time.
 */
typedef struct IvfMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dims;
	uint32		lists;			/* lists actually built (<= the lists option) */
	BlockNumber listPages;		/* list pages: blocks 1 .. listPages */
	uint32		unused;			/* reserved, zero */
} IvfMetaPageData;

typedef IvfMetaPageData *IvfMetaPage;

#define IvfPageGetMeta(page)	((IvfMetaPage) PageGetContents(page))

/*
 * Special space of every page
 */
typedef struct IvfPageOpaqueData
{
	BlockNumber nextblkno;		/* next page of the same list (entry pages) */
	uint16		flags;
	uint16		page_id;		/* IVF_PAGE_ID */
} IvfPageOpaqueData;

typedef IvfPageOpaqueData *IvfPageOpaque;

#define IVF_PAGE_META		1
#define IVF_PAGE_LIST		2
#define IVF_PAGE_ENTRY		3

#define IvfPageGetOpaque(page)	((IvfPageOpaque) PageGetSpecialPointer(page))

/*
 * One list: its centroid and where its entry pages are.  List tuples fill
 * blocks 1 .. listPages in list order and never move.
 *
 *	+-------------+--------------+--------+--------+--------------------+
 *	| startBlkno  | insertBlkno  | unused | pad    | centroid[0..dims-1]|
 *	| BlockNumber | BlockNumber  | uint32 | uint32 | float4             |
 *	+-------------+--------------+--------+--------+--------------------+
 */
typedef struct IvfListTupleData
{
	BlockNumber startBlkno;		/* first entry page: never changes */
	BlockNumber insertBlkno;	/* where inserts start looking for room */
	uint32		unused;			/* reserved, zero */
	uint32		pad;
	float		centroid[FLEXIBLE_ARRAY_MEMBER];
} IvfListTupleData;

typedef IvfListTupleData *IvfListTuple;

#define IVF_LIST_TUPLE_SIZE(dims) \
	MAXALIGN(offsetof(IvfListTupleData, centroid) + sizeof(float) * (dims))

/*
 * One indexed row: its heap pointer and its (prepared) vector.
 *
 *	+---------+--------+--------------------+
 *	| heaptid | unused | x[0 .. dims-1]     |
 *	| 6 bytes | uint16 | float4             |
 *	+---------+--------+--------------------+
 */
typedef struct IvfEntryTupleData
{
	ItemPointerData heaptid;
	uint16		unused;			/* reserved, zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} IvfEntryTupleData;

typedef IvfEntryTupleData *IvfEntryTuple;

#define IVF_ENTRY_TUPLE_SIZE(dims) \
	MAXALIGN(offsetof(IvfEntryTupleData, x) + sizeof(float) * (dims))

/* Largest item a page can hold */
#define IVF_MAX_ITEM_SIZE \
	MAXALIGN_DOWN(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfPageOpaqueData)) - sizeof(ItemIdData))

/*
 * Options (amoptions)
 */
typedef struct IvfOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			lists;
} IvfOptions;

/*
 * A list as read from its list page
 */
typedef struct IvfList
{
	ItemPointerData tid;		/* of its list tuple */
	BlockNumber startBlkno;
	BlockNumber insertBlkno;
	float	   *centroid;		/* dims floats */
} IvfList;

/*
 * The metapage and the lists of an index, cached in its relcache entry
 * (ivfutils.c IvfGetCache).  A relcache invalidation frees it: never keep
 * a pointer into it across anything that may process invalidations
 * (opening or locking a relation, detoasting).
 */
typedef struct IvfCache
{
	Oid			relNode;		/* of the relfilenode it was read from */
	IvfMetaPageData meta;
	IvfList    *lists;			/* insertBlkno is not kept up to date */
} IvfCache;

/* ivf.c */
extern int	ivfflat_probes;
extern int	ivfflat_iterative_scan;
extern int	ivfflat_max_probes;
extern void IvfInit(void);
extern int	IvfGetLists(Relation index);

/* ivfutils.c */
extern int	IvfIndexDims(Relation index);
extern void IvfInitPage(Page page, uint16 flags);
extern Buffer IvfNewBuffer(Relation index, ForkNumber forkNum);
extern void IvfCheckPage(Relation index, Page page, BlockNumber blkno, uint16 flags);
extern void IvfGetMeta(Relation index, IvfMetaPageData *meta);
extern IvfList *IvfReadLists(Relation index, const IvfMetaPageData *meta);
extern IvfCache *IvfGetCache(Relation index);
extern void IvfNormalize(float *x, int dims);

/* ivfkmeans.c */
extern void IvfKmeans(float *samples, int n, int dims, int k, bool spherical,
					  float *centers);
extern int	IvfNearestCenter(const float *x, const float *centers, int k, int dims);
extern void IvfCenterDistances(const float *x, const float *centers, int k, int dims, float *out);

/* ivfbuild.c */
extern IndexBuildResult *ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfflatbuildempty(Relation index);

/* ivfinsert.c */
extern bool ivfflatinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						  Relation heap, IndexUniqueCheck checkUnique,
						  bool indexUnchanged, IndexInfo *indexInfo);
extern void IvfAddEntry(Relation index, IvfList *list, IvfEntryTuple etup, Size sz);

/* ivfscan.c */
extern IndexScanDesc ivfflatbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfflatrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool ivfflatgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfflatendscan(IndexScanDesc scan);

/* ivfvacuum.c */
extern IndexBulkDeleteResult *ivfflatbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
												IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *ivfflatvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* ivfcheck.c */
extern void IvfCheckIndex(Relation index, bool strict, HnswCheckReport report, void *arg);

#endif							/* VECREC_IVF_H */
