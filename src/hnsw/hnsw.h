/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *		Private declarations of the hnsw index access method.
 *
 * See README in this directory for the algorithm, the page layout, the
 * locking protocol and how changes are WAL-logged.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnsw.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_HNSW_H
#define VECREC_HNSW_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "port/atomics.h"
#include "storage/spin.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/fd.h"
#include "storage/lwlock.h"
#include "storage/sharedfileset.h"
#include "utils/catcache.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "vector.h"

/* Identification */
#define HNSW_MAGIC_NUMBER	0x56524857	/* "VRHW" */
#define HNSW_VERSION_INLINE	1			/* vectors inside their elements */
#define HNSW_VERSION_CHUNKED 2			/* vectors in chunk items (see below) */
#define HNSW_PAGE_ID		0xFF9A		/* last 2 bytes of every page's special space */

#define HNSW_METAPAGE_BLKNO	0
#define HNSW_FIRST_DATA_BLKNO 1

/* Options (the same ranges as pgvector, so its DDL works unchanged) */
#define HNSW_DEFAULT_M		16
#define HNSW_MIN_M			2
#define HNSW_MAX_M			100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION 4
#define HNSW_MAX_EF_CONSTRUCTION 1000
#define HNSW_DEFAULT_EF_SEARCH 40
#define HNSW_MIN_EF_SEARCH	1
#define HNSW_MAX_EF_SEARCH	1000

/*
 * Rows an iterative scan hands out per hnsw.ef_search of search depth: the
 * ratio a plain scan with the default ef_search has to LIMIT 10 (see
 * hnswscan.c handout_cap)
 */
#define HNSW_ITERATIVE_ROWS	10

/*
 * Past those first rows a filter is rejecting rows, and the rows that pass
 * it must come from a wider search: each later row needs this many times
 * the search depth per row of the first ones (in tenths)
 */
#define HNSW_ITERATIVE_DEEP_PACE_X10	15

/* Levels 0 .. HNSW_MAX_LEVEL; with m >= 2 higher levels are vanishingly rare */
#define HNSW_MAX_LEVEL		15
#define HNSW_LEVEL_SEED		UINT64CONST(20261122)	/* of HnswElementLevel's hash */

/* Dimensions an index can hold: those of the type */
#define HNSW_MAX_DIM		VECTOR_MAX_DIM

/* Support function numbers */
#define HNSW_DISTANCE_PROC	1
#define HNSW_NORM_PROC		2

/*
 * Elements whose pages a search reads together (prefetched as a group): with
 * the search's own pinned buffer, and one chunk page at a time for
 * out-of-line vectors, this stays within the 8 pins a backend tracks
 * without its overflow hash table
 */
#define HNSW_READ_BATCH		6

/*
 * Memory for the candidate vectors of one on-disk neighbour selection
 * (HnswSelectOnDisk): 256 vectors of 16,000 dimensions
 */
#define HNSW_SELECT_MEM		((Size) 16 * 1024 * 1024)

/* Lock on the metapage's block number taken by inserts (see README) */
#define HNSW_UPDATE_LOCK	0

/*
 * The free space map holds, for each page with free items (HNSW_FREE_TUPLE),
 * how big the biggest one is: (level + 1) steps for an item with room for
 * the lists of levels 0 .. level, nothing (0) for a page without free items.
 * An insert asks the map (GetPageWithFreeSpace) for a page whose value is at
 * least that of its own level, so it only visits pages where some free item
 * is big enough.  Sixteen levels take half a page's worth of "space".
 */
#define HNSW_FSM_STEP		(BLCKSZ / 32)
#define HnswFreeSpaceValue(level)	((level) < 0 ? 0 : (Size) ((level) + 1) * HNSW_FSM_STEP)

/* Neighbours kept at a level */
#define HnswLevelSlots(m, level)	((level) == 0 ? 2 * (m) : (m))
#define HnswTotalSlots(m, level)	(2 * (m) + (level) * (m))

/*
 * Links a new element makes at every level, as in hnswlib: m, so its level-0
 * list keeps m free slots for links back from later elements.  Fewer full
 * lists means fewer neighbours to drop (each drop costs pairwise distances),
 * and shorter lists make every search step cheaper.  On GloVe-100 (60,000
 * rows) this cut the distances a build computes by 44% and the distances a
 * query computes by 10% at equal or better recall than linking 2m.
 */
#define HnswNewLinks(m)				(m)

/* Iterative scan modes (GUC hnsw.iterative_scan) */
typedef enum HnswIterativeScan
{
	HNSW_ITERATIVE_SCAN_OFF,
	HNSW_ITERATIVE_SCAN_RELAXED,
	HNSW_ITERATIVE_SCAN_STRICT
} HnswIterativeScan;

/* How distances are computed */
typedef enum HnswMetric
{
	HNSW_METRIC_L2SQ,			/* squared L2: vector_l2_squared_distance */
	HNSW_METRIC_NEG_IP,			/* negative inner product (cosine on unit vectors) */
	HNSW_METRIC_L1,				/* L1 */
	HNSW_METRIC_FMGR			/* any other support function, through fmgr */
} HnswMetric;

/*
 * Metapage, block 0.  Options are frozen here at build time.
 */
typedef struct HnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dims;
	uint16		m;
	uint16		efConstruction;
	BlockNumber entryBlkno;		/* entry point, or InvalidBlockNumber if empty */
	OffsetNumber entryOffno;
	int16		entryLevel;
	BlockNumber lastBlkno;		/* last data page: inserts try it first */
	uint16		vecChunks;		/* version 2: chunk pointers per element;
								 * version 1: 0 (vectors inline) */
	uint16		unused;			/* reserved, zero */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

#define HnswPageGetMeta(page)	((HnswMetaPage) PageGetContents(page))

/*
 * Special space of every page
 */
typedef struct HnswPageOpaqueData
{
	BlockNumber nextblkno;		/* next data page, for full scans */
	uint16		flags;
	uint16		page_id;		/* HNSW_PAGE_ID */
} HnswPageOpaqueData;

typedef HnswPageOpaqueData *HnswPageOpaque;

#define HNSW_PAGE_META		1
#define HNSW_PAGE_DATA		2

#define HnswPageGetOpaque(page)	((HnswPageOpaque) PageGetSpecialPointer(page))

/*
 * One element of the graph: a heap row's vector and its neighbour lists,
 * in a single line pointer item on a data page.
 *
 *	+--------+-------+---------+--------+---------+------------------+---------------------+
 *	| type   | level | deleted | unused | heaptid | x[0 .. dims-1]   | neighbours          |
 *	| uint8  | uint8 | uint8   | uint8  | 6 bytes | float4 (12-byte  | ItemPointerData x   |
 *	|        |       |         |        | + 2 pad | offset, aligned) | (2m + level * m)    |
 *	+--------+-------+---------+--------+---------+------------------+---------------------+
 *
 * Neighbour slots: level 0 first (2m slots), then m slots for each level
 * 1 .. level; an unused slot holds an invalid item pointer.  Items never
 * move and never change size: neighbour updates overwrite slots in place.
 *
 * An element that took the item of a deleted one (HNSW_FREE_TUPLE, below)
 * may sit in an item made for a higher level than its own: the slots past
 * its level are invalid and never read.  Readers find the slots from the
 * stored level, never from the item's length.
 *
 * In an index of format version 2 (metapage vecChunks > 0) the vector is
 * stored out of line, in chunk items (below), and x[] is replaced by
 * vecChunks chunk pointers, in vector order, unused ones invalid:
 *
 *	+--------+-----+---------+-----------------------------+---------------------+
 *	| type   | ... | heaptid | chunks                      | neighbours          |
 *	| 12-byte header         | ItemPointerData x vecChunks | (2m + level * m)    |
 *	+--------+-----+---------+-----------------------------+---------------------+
 */
typedef struct HnswElementTupleData
{
	uint8		type;
	uint8		level;
	uint8		deleted;
	uint8		unused;
	ItemPointerData heaptid;
	uint16		pad;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} HnswElementTupleData;

typedef HnswElementTupleData *HnswElementTuple;

#define HNSW_ELEMENT_TUPLE	1
#define HNSW_VECTOR_TUPLE	2

/*
 * A free item: the item of an element that VACUUM found deleted and no
 * longer linked from any list in use (those of live elements and of the
 * entry point), ready for an insert to take
 * (see README, "Vacuum").  It keeps the layout of an element: level is the
 * highest level the item has room for, and in a version 2 index the chunk
 * pointers still lead to the vector chunks, which go with the item.
 * Everything else in it is stale and never read: to every reader a free
 * item is not an element (lock_element and friends check the type).
 */
#define HNSW_FREE_TUPLE		3

/*
 * The item at off when its line pointer is in use and its type byte (the
 * first byte of every hnsw item, graph or key partition) is type; NULL
 * otherwise
 */
static inline void *
HnswPageItemOfType(Page page, OffsetNumber off, uint8 type)
{
	ItemId		itemid = PageGetItemId(page, off);
	uint8	   *item;

	if (!ItemIdIsNormal(itemid))
		return NULL;
	item = (uint8 *) PageGetItem(page, itemid);
	return *item == type ? item : NULL;
}

/* Bytes between an element's header and its neighbour slots */
#define HnswVectorBytes(dims, vecChunks) \
	((vecChunks) == 0 ? sizeof(float) * (dims) : sizeof(ItemPointerData) * (vecChunks))

#define HNSW_ELEMENT_TUPLE_SIZE(dims, vecChunks, m, level) \
	(offsetof(HnswElementTupleData, x) + HnswVectorBytes(dims, vecChunks) + \
	 sizeof(ItemPointerData) * HnswTotalSlots(m, level))

#define HnswElementNeighbors(tup, dims, vecChunks) \
	((ItemPointer) ((char *) (tup)->x + HnswVectorBytes(dims, vecChunks)))

/* The chunk pointers of an element of a version 2 index */
#define HnswElementChunks(tup)	((ItemPointer) (tup)->x)

/*
 * One piece of an out-of-line vector: x[0 .. count-1] are coordinates
 * start .. start+count-1.  A vector's chunks follow each other in the
 * order they were written, each filling what its page had left (see
 * HnswChunkFloats), so chunks of one vector are on consecutive pages.
 *
 *	+--------+--------+--------+--------+-----------------------+
 *	| type   | unused | count  | start  | x[0 .. count-1]       |
 *	| uint8  | uint8  | uint16 | uint32 | float4                |
 *	+--------+--------+--------+--------+-----------------------+
 */
typedef struct HnswVectorTupleData
{
	uint8		type;			/* HNSW_VECTOR_TUPLE */
	uint8		unused;			/* reserved, zero */
	uint16		count;
	uint32		start;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} HnswVectorTupleData;

typedef HnswVectorTupleData *HnswVectorTuple;

#define HNSW_VECTOR_TUPLE_SIZE(count) \
	(offsetof(HnswVectorTupleData, x) + sizeof(float) * (count))

/*
 * Largest item a data page can hold (PageAddItem rounds sizes up to
 * MAXALIGN, so this is rounded down)
 */
#define HNSW_MAX_ITEM_SIZE \
	MAXALIGN_DOWN(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData)) - sizeof(ItemIdData))

/*
 * Coordinates in a chunk: at most a whole page; a chunk is only started in
 * what a page has left when that holds at least an eighth of a page (or
 * the rest of the vector), so that no vector is cut into slivers
 */
#define HNSW_CHUNK_MAX_FLOATS \
	((int) ((HNSW_MAX_ITEM_SIZE - offsetof(HnswVectorTupleData, x)) / sizeof(float)))
#define HNSW_CHUNK_MIN_FLOATS	(HNSW_CHUNK_MAX_FLOATS / 8)

/*
 * Chunk pointers an element of dims dimensions needs: the first chunk may
 * be short, every other one but the last is full
 */
#define HnswChunksNeeded(dims) \
	(((dims) + HNSW_CHUNK_MAX_FLOATS - 1) / HNSW_CHUNK_MAX_FLOATS + 1)
#define HNSW_MAX_VEC_CHUNKS		HnswChunksNeeded(HNSW_MAX_DIM)

/*
 * Options (amoptions)
 */
typedef struct HnswOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			m;
	int			efConstruction;
} HnswOptions;

/*
 * What an index needs to compute distances: cached per relation
 */
typedef struct HnswDistance
{
	HnswMetric	metric;
	bool		normalize;		/* cosine: vectors are stored unit length */
	FmgrInfo   *distproc;		/* HNSW_METRIC_FMGR only */
	Oid			collation;
} HnswDistance;

/* hnsw.c */
extern int	hnsw_ef_search;
extern int	hnsw_iterative_scan;
extern int	hnsw_max_scan_tuples;
extern double hnsw_scan_mem_multiplier;
extern void HnswInit(void);
extern int	HnswGetM(Relation index);
extern int	HnswGetEfConstruction(Relation index);
extern bool HnswValidateOpclass(Oid opclassoid, const char *amname);

/* An operator class and its family's members, for amvalidate */
typedef struct HnswOpclassLists
{
	HeapTuple	classtup;
	Oid			opfamily;
	Oid			opcintype;
	const char *name;
	CatCList   *procs;			/* pg_amproc rows of the family */
	CatCList   *oprs;			/* pg_amop rows of the family */
} HnswOpclassLists;
extern void HnswOpclassListsOpen(Oid opclassoid, HnswOpclassLists *l);
extern void HnswOpclassListsClose(HnswOpclassLists *l);

/*
 * A graph element found by a search, with its distance to the query
 */
typedef struct HnswCandidate
{
	float		dist;
	ItemPointerData tid;
} HnswCandidate;

/* Binary heap of candidates: nearest on top, or farthest when max */
typedef struct HnswHeap
{
	HnswCandidate *items;
	int			n;
	int			cap;
	bool		max;
} HnswHeap;

/* Visited set: open addressing on (block, offset), reset by generation */
typedef struct HnswVisitedEntry
{
	uint64		key;
	uint32		gen;
	uint16		flags;			/* HNSW_VISITED_* */
	ItemPointerData heaptid;	/* filled in by scans */
} HnswVisitedEntry;

#define HNSW_VISITED_DELETED	0x01	/* element is deleted: walk, never return */
#define HNSW_VISITED_EXPANDED	0x02	/* neighbours already queued */
#define HNSW_VISITED_RETURNED	0x04	/* handed to the executor (or skipped) */

typedef struct HnswVisited
{
	HnswVisitedEntry *entries;
	uint32		mask;
	uint32		n;
	uint32		gen;
} HnswVisited;

/*
 * State of a search over the on-disk graph (insert and scan)
 */
typedef struct HnswSearch
{
	Relation	index;
	HnswDistance *dist;
	int			dims;
	int			m;
	int			vecChunks;		/* metapage vecChunks: 0 for inline vectors */
	const float *q;
	HnswVisited visited;
	Buffer		buf;			/* pinned (not locked) buffer kept between reads */
	int64		ndistances;		/* distance computations, for costing and tests */
	ItemPointerData *nbrs;		/* scratch: one element's neighbour slots */
	float	   *vecBuf;			/* scratch: an out-of-line vector (fmgr metric) */
} HnswSearch;

/*
 * The in-memory graph of a build (hnswgraph.c): an element, the part of a
 * graph that lives in shared memory in parallel builds, and a process's
 * view of a graph
 */
typedef struct HnswGraphElement
{
	ItemPointerData heaptid;
	uint8		level;
	uint32		upper;			/* offset of its levels >= 1 in the upper area */
} HnswGraphElement;

typedef struct HnswGraphShared
{
	slock_t		mutex;			/* guards entry and entryLevel */
	int32		entry;
	int32		entryLevel;
	pg_atomic_uint32 n;			/* elements handed out (may pass capacity) */
	pg_atomic_uint64 upperUsed;
	uint32		capacity;
	uint64		upperCapacity;
	Size		elementsOffset; /* from the start of this struct */
	Size		blocksOffset;
	Size		vectorsOffset;
	Size		locksOffset;
	int			lockTranche;	/* of the element locks */
	Size		upperOffset;
	bool		spilled;		/* vectors in a file of fileset, not here */
	SharedFileSet fileset;
} HnswGraphShared;

/* A mapping of a build's vector file */
typedef struct HnswVecMap
{
	char	   *base;
	Size		len;
} HnswVecMap;

typedef struct HnswGraph
{
	int			dims;
	int			m;
	int			vecChunks;		/* of the index being built (HnswVecChunksFor) */
	int			efConstruction;
	HnswDistance dist;
	Size		blockSize;		/* level-0 block: count, 2m slots */
	Size		vecSize;
	HnswGraphShared *shared;	/* NULL for a local (serial) graph */
	HnswGraphElement *elements;
	char	  **blockChunks;
	int			nBlockChunks;
	int			blockShift;
	char	  **vecArena;		/* vectors, while in memory (chunks) */
	int			nVecArena;
	int			vecShift;
	Size		vecMemUsed;
	char	   *vecMap;			/* vectors, once in a mapped file */
	Size		vecMapLen;
	HnswVecMap *vecMapping;
	File		vecFile;
	int32	   *upper;
	uint64		upperCap;
	uint64		upperUsed;		/* local graphs only */
	LWLock	   *locks;			/* shared graphs only */
	int			n;				/* local graphs only */
	int			cap;
	int			entry;			/* local graphs only */
	int			entryLevel;
	MemoryContext ctx;
	Size		memUsed;		/* local graphs only */

	/* search scratch, per process */
	uint32	   *visitedGen;
	uint32		visitedCap;
	uint32		gen;
	HnswHeap	cand;
	HnswHeap	found;
	HnswCandidate *layer;
	float	   *selDist;
	int		   *sel;
	int32	   *batch;
	int32	   *nbrCopy;
	HnswCandidate *eps;
	HnswCandidate *links;		/* a new element's choice, per level */
	int			nlinks[HNSW_MAX_LEVEL + 1];
} HnswGraph;

/* Distance between candidates i and j of a neighbour selection */
typedef float (*HnswPairDistFunc) (void *ctx, int i, int j);
/* Whether candidates i and j of a neighbour selection have the same vector */
typedef bool (*HnswSameFunc) (void *ctx, int i, int j);

/* hnswutils.c */
extern void HnswInitDistance(Relation index, HnswDistance *d);
extern bool HnswPrepareVector(HnswDistance *d, Relation index, Datum value, float *out, int dims);
extern bool HnswHasDirection(const HnswDistance *d, const Vector *v);
extern double HnswDist(const HnswDistance *d, int dims, const float *a, const float *b);
extern int	HnswElementLevel(ItemPointer heaptid, int m);
extern Buffer HnswNewBuffer(Relation index, ForkNumber forkNum);
extern void HnswInitPage(Page page, uint16 flags);
extern void HnswGetMeta(Relation index, HnswMetaPageData *meta);
extern void HnswInitMeta(HnswMetaPage meta, int dims, int m, int efConstruction);
extern int	HnswVecChunksFor(int dims, int m);
extern int	HnswMaxLevel(int dims, int vecChunks, int m);
extern int	HnswItemLevel(Size len, int dims, int vecChunks, int m);
extern int	HnswPageFreeLevel(Page page);
extern int	HnswChunkFloats(Size freeSpace, int remaining);
extern void HnswCheckPage(Relation index, Page page, BlockNumber blkno);
extern int	HnswSelectNeighbors(int ncands, const float *candDist, int max, bool keepPruned,
								HnswPairDistFunc pairdist, HnswSameFunc same, void *ctx, int *out);

/* hnswsearch.c */
extern void HnswHeapInit(HnswHeap *h, bool max, int cap);
extern void HnswHeapPush(HnswHeap *h, float dist, ItemPointer tid);
extern HnswCandidate HnswHeapPop(HnswHeap *h);
extern void HnswVisitedInit(HnswVisited *v, int cap);
extern void HnswVisitedReset(HnswVisited *v);
extern HnswVisitedEntry *HnswVisitedAdd(HnswVisited *v, ItemPointer tid, bool *found);
extern void HnswVisitedReserve(HnswVisited *v, int extra);
extern bool HnswVisitedContains(HnswVisited *v, ItemPointer tid);
extern int	HnswCandidateCmp(const void *a, const void *b);
extern void HnswSearchBegin(HnswSearch *s, Relation index, HnswDistance *d,
							const HnswMetaPageData *meta, const float *q, int ef);
extern void HnswSearchEnd(HnswSearch *s);
extern Buffer HnswPinBlock(Relation rel, BlockNumber blkno);
extern Buffer HnswRecentBuffer(Relation rel, BlockNumber blkno);
extern bool HnswReadDistance(HnswSearch *s, ItemPointer tid, float *dist, bool *deleted);
extern bool HnswReadDistanceHeap(HnswSearch *s, ItemPointer tid, float *dist, bool *deleted,
								 ItemPointer heaptid);
extern int	HnswReadNeighbors(HnswSearch *s, ItemPointer tid, int level, ItemPointer out);
extern bool HnswReadVector(HnswSearch *s, ItemPointer tid, float *out);
extern void HnswCopyVector(HnswSearch *s, Buffer buf, HnswElementTuple etup, float *out);
extern void HnswReadDistances(HnswSearch *s, const ItemPointerData *tids, int n, float *dist,
							  bool *deleted, ItemPointerData *heaptids, bool *ok);
extern HnswCandidate HnswSearchGreedy(HnswSearch *s, HnswCandidate ep, int fromLevel, int toLevel);
extern int	HnswSearchLayer(HnswSearch *s, HnswCandidate *eps, int neps, bool epsLive, int ef,
							int level, HnswCandidate *out);

/* hnswgraph.c */
extern Size HnswGraphShmemSize(int dims, int m, uint32 capacity, bool spilled);
extern Size HnswGraphElementSize(int dims, int m, bool spilled);
extern void HnswGraphInitShared(HnswGraphShared *sh, int dims, int m, uint32 capacity,
								dsm_segment *seg, bool spilled);
extern void HnswGraphInitLocal(HnswGraph *g, Relation index, int dims, int m, int efConstruction,
							   Size memLimit);
extern void HnswGraphAttach(HnswGraph *g, HnswGraphShared *sh, Relation index, int dims, int m,
							int efConstruction);
extern bool HnswGraphAdd(HnswGraph *g, ItemPointer heaptid, const float *vec);
extern int	HnswGraphSize(HnswGraph *g);
extern void HnswGraphEntry(HnswGraph *g, int *entry, int *level);
extern float *HnswGraphVector(HnswGraph *g, int idx);
extern int32 *HnswGraphCount(HnswGraph *g, int idx, int level);
extern int32 *HnswGraphSlots(HnswGraph *g, int idx, int level);
extern int	HnswGraphRepairReach(HnswGraph *g, int *unreached);
extern bool HnswGraphSpill(HnswGraph *g);
extern void HnswGraphRelease(HnswGraph *g);

/* hnswbuild.c */
extern IndexBuildResult *hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void hnswbuildempty(Relation index);

/* hnswcheck.c */
typedef void (*HnswCheckReport) (void *arg, const char *check, bool ok, const char *detail);
extern void HnswCheckIndex(Relation index, Relation heap, Snapshot snapshot, bool strict,
						   HnswCheckReport report, void *arg);

/* verify.c: the heapallindexed pass, shared by hnsw and ivfflat */
typedef struct VerifyHeapTid
{
	ItemPointerData tid;		/* an index entry's heap row */
	bool		reached;		/* hnsw: its element is reachable */
} VerifyHeapTid;
extern void VerifyHeapAllIndexed(Relation index, Relation heap, Snapshot snapshot,
								 VerifyHeapTid *tids, int64 ntids, bool graph, bool strict,
								 HnswCheckReport report, void *arg);
typedef void (*VerifyRowCallback) (ItemPointer tid, Datum *values, bool *isnull, void *arg);
extern int64 VerifyScanIndexableRows(Relation index, Relation heap, Snapshot snapshot,
									 VerifyRowCallback callback, void *arg);

/* hnswinsert.c */
extern void HnswInsertTuple(Relation index, Datum value, ItemPointer heaptid, bool building);
extern int	HnswSelectOnDisk(HnswSearch *s, HnswCandidate *cands, int n, int max);
extern bool HnswReadSlots(HnswSearch *s, ItemPointer tid, int level, ItemPointer out, float *vec);
extern bool HnswWriteSlots(HnswSearch *s, ItemPointer tid, int level,
						   ItemPointer expect, ItemPointer list, int nslots);
extern bool hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
					   Relation heap, IndexUniqueCheck checkUnique,
					   bool indexUnchanged, IndexInfo *indexInfo);

/* hnswscan.c */
extern IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
extern void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswendscan(IndexScanDesc scan);

/* hnswvacuum.c */
extern IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

#endif							/* VECREC_HNSW_H */
