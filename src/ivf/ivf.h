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
#include "kernels.h"
#include "vector.h"

/* Identification */
#define IVF_MAGIC_NUMBER	0x56524956	/* "VRIV" */
#define IVF_VERSION			1		/* flat lists */
#define IVF_VERSION_QUANT	2		/* quantized lists: quantizer parameter pages */
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

/* List formats (option quantizer, metapage field quantizer) */
typedef enum IvfQuantizerKind
{
	IVF_QUANTIZER_NONE = 0,		/* flat: float4 vectors */
	IVF_QUANTIZER_SQ8 = 1		/* one uint8 code per dimension */
} IvfQuantizerKind;

/* Rows of a quantized index re-ranked exactly per batch (vecrec.ivfflat_rerank) */
#define IVF_DEFAULT_RERANK	40
#define IVF_MAX_RERANK		100000

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
	uint32		quantizer;		/* IvfQuantizerKind (version 1: reserved, zero) */
	BlockNumber paramPages;		/* version 2: quantizer parameter pages, right
								 * after the list pages (version 1: 0) */
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
#define IVF_PAGE_PARAMS		4

/* The first block after the list and parameter pages */
#define IvfFirstEntryBlkno(meta) \
	(IVF_FIRST_LIST_BLKNO + (meta)->listPages + (meta)->paramPages)

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

/*
 * One indexed row of an sq8 list: its heap pointer, the squared norm of
 * its decoded vector (the L2 estimate needs it) and one code per
 * dimension.  Coordinate i decodes to lo[i] + step[i] * code[i] (the
 * parameters, trained at build time, are on the parameter pages).
 *
 *	+---------+--------+--------+----------------------+
 *	| heaptid | unused | norm2  | code[0 .. dims-1]    |
 *	| 6 bytes | uint16 | float4 | uint8                |
 *	+---------+--------+--------+----------------------+
 */
typedef struct IvfSq8EntryData
{
	ItemPointerData heaptid;	/* first, as in IvfEntryTupleData (VACUUM) */
	uint16		unused;			/* reserved, zero */
	float		norm2;			/* |decoded vector|^2 */
	uint8		code[FLEXIBLE_ARRAY_MEMBER];
} IvfSq8EntryData;

typedef IvfSq8EntryData *IvfSq8Entry;

#define IVF_SQ8_ENTRY_SIZE(dims) \
	MAXALIGN(offsetof(IvfSq8EntryData, code) + (dims))

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
	int			quantizer;		/* offset of the string option (0: default) */
} IvfOptions;

/*
 * Quantizer parameters, as read from the parameter pages (sq8: per
 * dimension, lo[i] is code 0 and step[i] the width of one code; stored as
 * lo[0..dims-1] then step[0..dims-1], floats split over pages)
 */
typedef struct IvfQuantizer
{
	IvfQuantizerKind kind;
	int			dims;
	float	   *lo;
	float	   *step;
} IvfQuantizer;

/* Floats per parameter page (one item per page) */
#define IVF_PARAMS_PER_PAGE	((int) (IVF_MAX_ITEM_SIZE / sizeof(float)))

/*
 * A query prepared for sq8 codes: q . decoded(code) is approximately
 * base + scale * dotu8(w, code), with the weights q[i] * step[i] scaled
 * to int16 (exact integer sums, see kernels.h)
 */
typedef struct IvfQuantQuery
{
	int16	   *w;
	float		scale;
	float		base;			/* q . lo */
	float		qq;				/* q . q */
	bool		l2;				/* estimate squared L2 (else -q.x) */
} IvfQuantQuery;

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
	IvfQuantizer quant;			/* kind IVF_QUANTIZER_NONE for flat lists */
} IvfCache;

/* ivf.c */
extern int	ivfflat_probes;
extern int	ivfflat_iterative_scan;
extern int	ivfflat_max_probes;
extern int	vecrec_ivfflat_rerank;
extern void IvfInit(void);
extern int	IvfGetLists(Relation index);
extern IvfQuantizerKind IvfGetQuantizer(Relation index);

/* ivfutils.c */
extern int	IvfIndexDims(Relation index);
extern void IvfInitPage(Page page, uint16 flags);
extern void IvfCheckPage(Relation index, Page page, BlockNumber blkno, uint16 flags);
extern void IvfGetMeta(Relation index, IvfMetaPageData *meta);
extern IvfList *IvfReadLists(Relation index, const IvfMetaPageData *meta);
extern IvfCache *IvfGetCache(Relation index);
extern void IvfNormalize(float *x, int dims);

/* ivfquant.c */
extern bool IvfQuantizerByName(const char *name, IvfQuantizerKind *kind);
extern const char *IvfQuantizerName(IvfQuantizerKind kind);
extern Size IvfEntrySize(IvfQuantizerKind kind, int dims);
extern void IvfQuantTrain(IvfQuantizer *q, const float *samples, int n, bool unit);
extern void IvfFormEntry(const IvfQuantizer *q, const float *x, ItemPointer tid, void *entry);
extern int	IvfParamPages(IvfQuantizerKind kind, int dims);
extern void IvfFillParamPage(const IvfQuantizer *q, int pageno, Page page);
extern void IvfReadQuantizer(Relation index, const IvfMetaPageData *meta, IvfQuantizer *q,
							 float *params);
extern void IvfQuantPrepareQuery(const IvfQuantizer *q, const float *query, bool l2,
								 IvfQuantQuery *out);

/*
 * Estimated distance of a query to an sq8 entry: squared L2, or -q.x
 */
static inline float
IvfQuantDistance(const IvfQuantQuery *qq, int dims, const IvfSq8EntryData *e, const VecKernels *k)
{
	float		ip = qq->base + qq->scale * (float) k->dotu8(dims, qq->w, e->code);

	return qq->l2 ? qq->qq - 2 * ip + e->norm2 : -ip;
}

/* ivfkmeans.c */
/* points measured together against the same centers (IvfNearestCenters) */
#define IVF_ASSIGN_TILE		16
/* centers measured before the nearest are picked out (a stack buffer) */
#define IVF_ASSIGN_CHUNK	256

extern void IvfKmeans(float *samples, int n, int dims, int k, bool spherical,
					  float *centers);
extern int	IvfNearestCenter(const float *x, const float *centers, int k, int dims);
extern void IvfNearestCenters(const float *const *x, int m, const float *centers, int k, int dims,
							  int *best, float *d1, float *d2);
extern void IvfCenterDistances(const float *x, const float *centers, int k, int dims, float *out);

/* ivfbuild.c */
extern IndexBuildResult *ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfflatbuildempty(Relation index);

/* ivfinsert.c */
extern bool ivfflatinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						  Relation heap, IndexUniqueCheck checkUnique,
						  bool indexUnchanged, IndexInfo *indexInfo);
extern void IvfAddEntry(Relation index, IvfList *list, void *etup, Size sz);

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
extern void IvfCheckIndex(Relation index, Relation heap, Snapshot snapshot, bool strict,
						  HnswCheckReport report, void *arg);

#endif							/* VECREC_IVF_H */
