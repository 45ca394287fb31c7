/*-------------------------------------------------------------------------
 *
 * hnswpart.h
 *		Filter key columns of hnsw indexes: partitions of exact entries.
 *
 * An hnsw index on (vector, key1, key2, ...) keeps, besides the graph of
 * the vector column, a "partition" per distinct combination of key values:
 * the heap TIDs and vectors of its rows, packed on pages of their own.  A
 * scan with an equality qual on every key column reads the whole partition
 * of its key and hands out rows in exact distance order.  See docs/hnsw.md,
 * "Filter key columns", for the layout, the locking order and WAL.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswpart.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_HNSWPART_H
#define VECREC_HNSWPART_H

#include "access/amapi.h"
#include "access/genam.h"
#include "access/parallel.h"
#include "nodes/pathnodes.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "hnsw.h"

/* Support function of a key operator class: the type's extended hash */
#define HNSW_KEY_HASH_PROC		3

/* Page flags (HnswPageOpaque->flags) of partition and directory pages */
#define HNSW_PAGE_PART			4
#define HNSW_PAGE_DIR			8

/*
 * Item types (byte 0 of an item), beside HNSW_ELEMENT_TUPLE,
 * HNSW_VECTOR_TUPLE and HNSW_FREE_TUPLE: code that walks every page tells
 * graph items from these by this byte
 */
#define HNSW_PART_TUPLE			4
#define HNSW_DIR_TUPLE			5

#define HNSW_PART_MAGIC			0x56525054	/* "VRPT" */

/*
 * Metapage fields of an index with key columns, right after
 * HnswMetaPageData (MAXALIGNed).  An index without key columns never
 * writes them and its pd_lower ends before them, so a metapage whose
 * pd_lower does not cover them has no partitions.
 */
typedef struct HnswMetaPartData
{
	uint32		magic;			/* HNSW_PART_MAGIC */
	uint16		nkeys;			/* key columns */
	uint16		unused;			/* reserved, zero */
	BlockNumber dirStart;		/* bucket b's first directory page: dirStart + b */
	uint32		dirBuckets;		/* a power of two */
} HnswMetaPartData;

#define HnswMetaPartOffset		MAXALIGN(sizeof(HnswMetaPageData))
#define HnswPageGetMetaPart(page) \
	((HnswMetaPartData *) (PageGetContents(page) + HnswMetaPartOffset))

/*
 * One entry of a partition: a heap row's vector (normalised for cosine, as
 * in the graph) and the hash of its key values.
 *
 *	+-------+---------+--------+---------+-----+--------+----------------+
 *	| type  | deleted | unused | heaptid | pad | hash   | x[0 .. dims-1] |
 *	| uint8 | uint8   | uint16 | 6 bytes | 6   | uint64 | float4         |
 *	+-------+---------+--------+---------+-----+--------+----------------+
 */
typedef struct HnswPartTupleData
{
	uint8		type;			/* HNSW_PART_TUPLE */
	uint8		deleted;
	uint16		unused;
	ItemPointerData heaptid;
	uint16		pad;
	uint32		pad2;
	uint64		hash;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} HnswPartTupleData;

typedef HnswPartTupleData *HnswPartTuple;

#define HNSW_PART_TUPLE_SIZE(dims)	(offsetof(HnswPartTupleData, x) + sizeof(float) * (dims))

/*
 * One directory entry: where the partition of a key hash is.  A build
 * writes each partition on consecutive pages, first .. last (neighbouring
 * partitions may share their first and last pages: entries carry their
 * hash); pages added by inserts once those are full form a chain of the
 * partition's own, ovfFirst .. ovfLast, linked by nextblkno.
 */
typedef struct HnswDirTupleData
{
	uint8		type;			/* HNSW_DIR_TUPLE */
	uint8		unused;
	uint16		unused2;
	BlockNumber first;			/* build range, or InvalidBlockNumber */
	uint64		hash;
	BlockNumber last;
	BlockNumber ovfFirst;		/* insert chain, or InvalidBlockNumber */
	BlockNumber ovfLast;
	uint32		count;			/* entries written, dead ones included */
	uint32		ndead;			/* entries VACUUM marked dead */
	uint32		unused3;
} HnswDirTupleData;

typedef HnswDirTupleData *HnswDirTuple;

/* Buckets of a directory created by the first insert, and the fewest a build makes */
#define HNSW_DIR_INSERT_BUCKETS	8

/* A key partition's location, as a scan reads it */
typedef struct HnswPartLocation
{
	bool		found;
	BlockNumber first;
	BlockNumber last;
	BlockNumber ovfFirst;
	uint32		count;
} HnswPartLocation;

/* hnswpart.c */
extern bool HnswIndexHasKeys(Relation index);
extern void HnswPartCheckColumns(Relation index);
extern bool HnswPartValidateOpclass(Oid opclassoid, bool *result);
extern uint64 HnswPartHashValues(Relation index, Datum *values, bool *isnull);
extern uint64 HnswPartHashKeys(Relation index, int nkeys, const Datum *values, const bool *isnull,
							   const Oid *types);
extern bool HnswPartGetMeta(Relation index, HnswMetaPartData *pm);
extern bool HnswPartIsPartPage(Page page);
extern void HnswPartLookup(Relation index, uint64 hash, HnswPartLocation *loc);
extern void HnswPartInsert(Relation index, Datum *values, bool *isnull, ItemPointer heaptid);
extern void HnswPartBulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
							   IndexBulkDeleteCallback callback, void *callback_state);
extern void HnswPartCheck(Relation index, Relation heap, Snapshot snapshot, bool strict,
						  HnswCheckReport report, void *arg);
extern bool HnswPartCostEstimate(PlannerInfo *root, IndexPath *path, double loop_count,
								 Cost *indexStartupCost, Cost *indexTotalCost,
								 Selectivity *indexSelectivity, double *indexCorrelation,
								 double *indexPages);

/* Build: entries collected through a tuplesort, written at the end */
typedef struct HnswPartBuild HnswPartBuild;
extern HnswPartBuild *HnswPartBuildBegin(Relation index, bool worker);
extern void HnswPartBuildAdd(HnswPartBuild *pb, Datum *values, bool *isnull, ItemPointer tid);
extern void HnswPartBuildWorkerDone(HnswPartBuild *pb);
extern void HnswPartBuildFinish(Relation index, HnswPartBuild *pb, int nparticipants);
extern void HnswPartParallelEstimate(ParallelContext *pcxt, Relation index);
extern void HnswPartParallelInit(ParallelContext *pcxt, Relation index);
extern void HnswPartParallelAttach(shm_toc *toc, dsm_segment *seg);

/* hnswpartscan.c */
typedef struct HnswPartScan HnswPartScan;
extern HnswPartScan *HnswPartScanPrepare(IndexScanDesc scan, HnswDistance *dist, bool *recheck);
extern bool HnswPartScanNext(IndexScanDesc scan, HnswPartScan *ps);

#endif							/* VECREC_HNSWPART_H */
