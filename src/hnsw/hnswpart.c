/*-------------------------------------------------------------------------
 *
 * hnswpart.c
 *		Filter key columns of hnsw indexes: key hashing, the partition
 *		pages and their directory, build, insert, VACUUM, verification,
 *		operator class checks and costing.
 *
 * An hnsw index on (vector, key1 [, key2 ...]) keeps, beside its graph, one
 * partition per distinct combination of key values, identified by a 64-bit
 * hash of the key values (HnswPartHashKeys): the heap TIDs and vectors of
 * the partition's rows packed on partition pages.  A directory (a hash
 * table of directory pages, bucket = hash & (buckets - 1)) leads from a
 * hash to its partition.  docs/hnsw.md, "Filter key columns", describes the
 * layout, the lock order and the WAL records; the scan is hnswpartscan.c.
 *
 * Lock order (no path takes them in another order, so none can deadlock):
 *	0. the directory lock (HNSW_DIR_LOCK, heavyweight): share for changes
 *	   of directory entries, exclusive to grow the directory
 *	1. the metapage (only to create or switch a directory, then released)
 *	2. the bucket's first directory page (exclusive: held by whoever adds
 *	   or changes an entry of the bucket, for the whole change)
 *	3. one more directory page of the bucket's chain at a time
 *	4. one partition page, then a new page (the relation extension lock
 *	   is only taken and released inside HnswNewBuffer)
 * Scans hold one share lock at a time.  VACUUM locks one partition page at
 * a time, releases it, then takes the directory locks of 2 and 3.  Inserts
 * take these locks only after the graph insert has released all of its
 * own, so the two never wait for each other while holding a lock.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswpart.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/amvalidate.h"
#include "access/generic_xlog.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/selfuncs.h"
#include "utils/tuplesort.h"

#include "compat.h"
#include "hnswpart.h"

/* Seed of the key hash, and what a NULL key value hashes to */
#define HNSW_KEY_SEED		UINT64CONST(0x5652504B45595331)
#define HNSW_KEY_NULL_HASH	UINT64CONST(0x9E3779B97F4A7C15)

/* Entries a directory page holds */
#define HNSW_DIR_PER_PAGE \
	((int) ((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData))) / \
			(MAXALIGN(sizeof(HnswDirTupleData)) + sizeof(ItemIdData))))

/*
 * The directory lock: a heavyweight lock on this pseudo block number
 * (LockPage; no page has it).  Every change of directory entries (inserts,
 * VACUUM's dead counts) holds it in share mode; growing the directory
 * (grow_directory) holds it exclusively.  Scans do not take it.
 */
#define HNSW_DIR_LOCK		((BlockNumber) 0xFFFFFFFE)

/* A new key that finds its bucket's chain longer than this grows the directory */
#define HNSW_DIR_MAX_CHAIN	3

/*
 * Cost of one partition entry read by a scan, in cpu_operator_cost: a
 * distance over a vector read in order from a page and a heap insertion
 * (see HnswPartCostEstimate)
 */
#define HNSW_PART_ENTRY_COST_OPS	10

/*
 * Does the index have key columns?
 */
bool
HnswIndexHasKeys(Relation index)
{
	return IndexRelationGetNumberOfKeyAttributes(index) > 1;
}

/*
 * Is column attno (1-based) of the index one with a key operator class?
 */
static bool
is_key_column(Relation index, int attno)
{
	return OidIsValid(index_getprocid(index, attno, HNSW_KEY_HASH_PROC));
}

/*
 * Check the columns of a new index: the vector column first, then only key
 * columns
 */
void
HnswPartCheckColumns(Relation index)
{
	int			natts = IndexRelationGetNumberOfKeyAttributes(index);

	if (is_key_column(index, 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("first column of hnsw index \"%s\" must be a vector column",
						RelationGetRelationName(index)),
				 errhint("Put the vector column first and the filter key columns after it.")));
	for (int attno = 2; attno <= natts; attno++)
	{
		if (is_key_column(index, attno))
			continue;
		if (OidIsValid(index_getprocid(index, attno, HNSW_DISTANCE_PROC)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("hnsw index \"%s\" cannot have more than one vector column",
							RelationGetRelationName(index)),
					 errdetail("Column %d is a second vector column.", attno),
					 errhint("Index one vector column, followed by filter key columns of types int2, int4, int8, bool, text or uuid.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("column %d of hnsw index \"%s\" has no hnsw key operator class",
						attno, RelationGetRelationName(index)),
				 errhint("Filter key columns need an operator class with an equality operator as strategy 1 and an extended hash function as support function %d.",
						 HNSW_KEY_HASH_PROC)));
	}
}

/*
 * amvalidate for key operator classes (those with support function
 * HNSW_KEY_HASH_PROC): the equality operator as search strategy 1 and the
 * type's extended hash function.  Returns false when the class is not a
 * key class (the vector checks apply), else sets *result.
 */
bool
HnswPartValidateOpclass(Oid opclassoid, bool *result)
{
	HnswOpclassLists l;
	bool		iskey = false;
	bool		hasop = false;

	HnswOpclassListsOpen(opclassoid, &l);
	for (int i = 0; i < l.procs->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&l.procs->members[i]->tuple);

		if (procform->amprocnum == HNSW_KEY_HASH_PROC)
			iskey = true;
	}
	if (!iskey)
	{
		HnswOpclassListsClose(&l);
		return false;
	}

	*result = true;
	for (int i = 0; i < l.procs->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&l.procs->members[i]->tuple);
		Oid			type = procform->amproclefttype;

		if (procform->amprocnum != HNSW_KEY_HASH_PROC)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw key operator family of \"%s\" contains function %s with invalid support number %d",
							l.name, format_procedure(procform->amproc), procform->amprocnum)));
			*result = false;
			continue;
		}
		/* bool is hashed as "char", as its hash operator class does */
		if (type != procform->amprocrighttype ||
			!(check_amproc_signature(procform->amproc, INT8OID, true, 2, 2, type, INT8OID) ||
			  (type == BOOLOID && procform->amproc == F_HASHCHAREXTENDED)))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw key operator family of \"%s\" contains function %s with wrong signature for support number %d",
							l.name, format_procedure(procform->amproc), procform->amprocnum)));
			*result = false;
		}
	}

	/* equality operators, between types the family can hash */
	for (int i = 0; i < l.oprs->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&l.oprs->members[i]->tuple);
		bool		lefthash = false,
					righthash = false;

		for (int j = 0; j < l.procs->n_members; j++)
		{
			Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&l.procs->members[j]->tuple);

			lefthash |= procform->amproclefttype == oprform->amoplefttype;
			righthash |= procform->amproclefttype == oprform->amoprighttype;
		}
		if (oprform->amopstrategy != 1 || oprform->amoppurpose != AMOP_SEARCH || !lefthash || !righthash ||
			!check_amop_signature(oprform->amopopr, BOOLOID, oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw key operator family of \"%s\" contains invalid operator %s: only equality operators with strategy 1 between types with a hash function are supported",
							l.name, format_operator(oprform->amopopr))));
			*result = false;
		}
		else if (oprform->amoplefttype == l.opcintype && oprform->amoprighttype == l.opcintype)
			hasop = true;
	}
	if (!hasop)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnsw key operator class \"%s\" is missing its equality operator (strategy 1)",
						l.name)));
		*result = false;
	}

	HnswOpclassListsClose(&l);
	return true;
}

/*
 * The 64-bit hash of key values: values[i], isnull[i] for key column i + 2.
 * Each value is hashed by its column's extended hash function; a NULL has
 * a hash of its own.  Equal keys have equal hashes; different keys almost
 * always have different ones, and a scan's executor rechecks the quals on
 * the heap row for the rare collision.
 */
uint64
HnswPartHashKeys(Relation index, int nkeys, const Datum *values, const bool *isnull, const Oid *types)
{
	uint64		h = HNSW_KEY_SEED;

	for (int i = 0; i < nkeys; i++)
	{
		uint64		ch;

		if (isnull[i])
			ch = HNSW_KEY_NULL_HASH + i;
		else if (types && OidIsValid(types[i]) && types[i] != index->rd_opcintype[i + 1])
		{
			/* a value of another type of the family: hashed alike (integers) */
			Oid			procid = get_opfamily_proc(index->rd_opfamily[i + 1], types[i], types[i],
												   HNSW_KEY_HASH_PROC);

			if (!OidIsValid(procid))
				elog(ERROR, "missing hash function %d(%u,%u) in hnsw key operator family %u",
					 HNSW_KEY_HASH_PROC, types[i], types[i], index->rd_opfamily[i + 1]);
			ch = DatumGetUInt64(OidFunctionCall2Coll(procid, index->rd_indcollation[i + 1], values[i],
													 Int64GetDatum((int64) HNSW_KEY_SEED)));
		}
		else
		{
			FmgrInfo   *proc = index_getprocinfo(index, i + 2, HNSW_KEY_HASH_PROC);

			ch = DatumGetUInt64(FunctionCall2Coll(proc, index->rd_indcollation[i + 1], values[i],
												  Int64GetDatum((int64) HNSW_KEY_SEED)));
		}
		h = hash_combine64(h, ch);
	}
	return h;
}

/*
 * The key hash of an index row (values[0] is the vector)
 */
uint64
HnswPartHashValues(Relation index, Datum *values, bool *isnull)
{
	return HnswPartHashKeys(index, IndexRelationGetNumberOfKeyAttributes(index) - 1,
							values + 1, isnull + 1, NULL);
}

/*
 * The metapage's partition fields, from a locked metapage; false (and
 * zeros) when it has none
 */
static bool
meta_part_from_page(Page page, HnswMetaPartData *pm)
{
	HnswMetaPartData *src = HnswPageGetMetaPart(page);
	Size		end = ((char *) src + sizeof(HnswMetaPartData)) - (char *) page;

	memset(pm, 0, sizeof(*pm));
	if (((PageHeader) page)->pd_lower < end || src->magic != HNSW_PART_MAGIC)
		return false;
	*pm = *src;
	return pm->dirBuckets > 0 && (pm->dirBuckets & (pm->dirBuckets - 1)) == 0;
}

/*
 * Read the metapage's partition fields; false when the index has no
 * directory (no key columns, an old metapage, or no row inserted yet)
 */
bool
HnswPartGetMeta(Relation index, HnswMetaPartData *pm)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	bool		ok;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	HnswCheckPage(index, BufferGetPage(buf), HNSW_METAPAGE_BLKNO);
	ok = meta_part_from_page(BufferGetPage(buf), pm);
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * Write the partition fields into a metapage (extending pd_lower over them)
 */
static void
meta_part_set(Page page, BlockNumber dirStart, uint32 buckets, int nkeys)
{
	HnswMetaPartData *pm = HnswPageGetMetaPart(page);

	memset(pm, 0, sizeof(*pm));
	pm->magic = HNSW_PART_MAGIC;
	pm->nkeys = nkeys;
	pm->dirStart = dirStart;
	pm->dirBuckets = buckets;
	((PageHeader) page)->pd_lower = ((char *) pm + sizeof(HnswMetaPartData)) - (char *) page;
}

/*
 * Is this a partition or directory page (which graph code skips)?
 */
bool
HnswPartIsPartPage(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(HnswPageOpaqueData)) &&
		HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID &&
		(HnswPageGetOpaque(page)->flags & (HNSW_PAGE_PART | HNSW_PAGE_DIR)) != 0;
}

static void
check_page_kind(Relation index, Page page, BlockNumber blkno, uint16 flag)
{
	HnswCheckPage(index, page, blkno);
	if ((HnswPageGetOpaque(page)->flags & flag) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a %s where a %s page was expected, at block %u",
						RelationGetRelationName(index), "page of another kind",
						flag == HNSW_PAGE_DIR ? "directory" : "partition", blkno),
				 errhint("Please REINDEX it.")));
}

/* The directory entry of hash on a locked directory page, or NULL */
static HnswDirTuple
dir_find(Page page, uint64 hash, OffsetNumber *offp)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		HnswDirTuple d = HnswPageItemOfType(page, off, HNSW_DIR_TUPLE);

		if (d != NULL && d->hash == hash)
		{
			if (offp)
				*offp = off;
			return d;
		}
	}
	return NULL;
}

/*
 * Where the partition of hash is (scans): share locks, one page at a time
 */
void
HnswPartLookup(Relation index, uint64 hash, HnswPartLocation *loc)
{
	HnswMetaPartData pm;
	BlockNumber blkno;

	memset(loc, 0, sizeof(*loc));
	if (!HnswPartGetMeta(index, &pm))
		return;
	blkno = pm.dirStart + (BlockNumber) (hash & (pm.dirBuckets - 1));
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		HnswDirTuple d;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		check_page_kind(index, page, blkno, HNSW_PAGE_DIR);
		d = dir_find(page, hash, NULL);
		if (d)
		{
			loc->found = true;
			loc->first = d->first;
			loc->last = d->last;
			loc->ovfFirst = d->ovfFirst;
			loc->count = d->count;
			UnlockReleaseBuffer(buf);
			return;
		}
		blkno = HnswPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Fill in a partition entry
 */
static void
form_entry(HnswPartTuple t, int dims, uint64 hash, ItemPointer heaptid, const float *vec)
{
	memset(t, 0, offsetof(HnswPartTupleData, x));
	t->type = HNSW_PART_TUPLE;
	t->heaptid = *heaptid;
	t->hash = hash;
	memcpy(t->x, vec, sizeof(float) * dims);
}

static void
form_dir(HnswDirTuple d, uint64 hash)
{
	memset(d, 0, sizeof(*d));
	d->type = HNSW_DIR_TUPLE;
	d->hash = hash;
	d->first = d->last = d->ovfFirst = d->ovfLast = InvalidBlockNumber;
}

static void
add_item(Relation index, Page page, Item item, Size sz)
{
	if (PageAddItem(page, item, sz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add item to index \"%s\"", RelationGetRelationName(index));
}

/* ----------------------------------------------------------------
 * Build
 * ----------------------------------------------------------------
 */

/* Sort tuples: (hash int8, heap tid, vector bytea), sorted by hash, tid */
struct HnswPartBuild
{
	Relation	index;
	int			dims;
	HnswDistance dist;
	TupleDesc	tupdesc;
	Tuplesortstate *sort;
	TupleTableSlot *slot;
	bytea	   *vecbuf;
	MemoryContext ctx;
	int64		n;
};

/* The shared sort of a parallel build (leader: set before launching) */
static Sharedsort *part_sharedsort = NULL;

#define PARALLEL_KEY_HNSW_PARTSORT	UINT64CONST(0xA5A5000000000010)

static TupleDesc
sort_tupdesc(void)
{
	TupleDesc	desc = CreateTemplateTupleDesc(3);

	TupleDescInitEntry(desc, 1, "hash", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 2, "tid", TIDOID, -1, 0);
	TupleDescInitEntry(desc, 3, "vec", BYTEAOID, -1, 0);
	return desc;
}

static Tuplesortstate *
begin_sort(TupleDesc desc, int workMem, SortCoordinate coordinate)
{
	AttrNumber	attNums[2] = {1, 2};
	Oid			ops[2] = {Int8LessOperator, TIDLessOperator};
	Oid			colls[2] = {InvalidOid, InvalidOid};
	bool		nullsFirst[2] = {false, false};

	return tuplesort_begin_heap(desc, 2, attNums, ops, colls, nullsFirst, workMem, coordinate,
								TUPLESORT_NONE);
}

/*
 * Start collecting the partition entries of a build: serially, or as one
 * participant of a parallel build (HnswPartParallelInit or
 * HnswPartParallelAttach ran first)
 */
HnswPartBuild *
HnswPartBuildBegin(Relation index, bool worker)
{
	HnswPartBuild *pb = palloc0(sizeof(HnswPartBuild));
	SortCoordinate coordinate = NULL;
	int			workMem = Max(maintenance_work_mem / 4, 1024);

	pb->index = index;
	pb->dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	HnswInitDistance(index, &pb->dist);
	pb->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw partition build", ALLOCSET_DEFAULT_SIZES);
	pb->tupdesc = sort_tupdesc();
	pb->slot = MakeSingleTupleTableSlot(pb->tupdesc, &TTSOpsVirtual);
	pb->vecbuf = palloc(VARHDRSZ + sizeof(float) * pb->dims);
	SET_VARSIZE(pb->vecbuf, VARHDRSZ + sizeof(float) * pb->dims);
	if (worker)
	{
		if (part_sharedsort == NULL)
			elog(ERROR, "hnsw partition build: no shared sort");
		coordinate = palloc0(sizeof(SortCoordinateData));
		coordinate->isWorker = true;
		coordinate->nParticipants = -1;
		coordinate->sharedsort = part_sharedsort;
		workMem = Max(maintenance_work_mem / 8, 1024);
	}
	pb->sort = begin_sort(pb->tupdesc, workMem, coordinate);
	return pb;
}

/*
 * Collect a row of the build (called for every heap row the build indexes,
 * whether its vector goes to the in-memory graph or through the on-disk
 * insert path)
 */
void
HnswPartBuildAdd(HnswPartBuild *pb, Datum *values, bool *isnull, ItemPointer tid)
{
	MemoryContext old;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(pb->ctx);
	if (HnswPrepareVector(&pb->dist, pb->index, values[0], (float *) VARDATA(pb->vecbuf), pb->dims))
	{
		ExecClearTuple(pb->slot);
		pb->slot->tts_values[0] = Int64GetDatum((int64) HnswPartHashValues(pb->index, values, isnull));
		pb->slot->tts_values[1] = PointerGetDatum(tid);
		pb->slot->tts_values[2] = PointerGetDatum(pb->vecbuf);
		memset(pb->slot->tts_isnull, 0, sizeof(bool) * 3);
		ExecStoreVirtualTuple(pb->slot);
		MemoryContextSwitchTo(old);
		tuplesort_puttupleslot(pb->sort, pb->slot);
		pb->n++;
	}
	else
		MemoryContextSwitchTo(old);
	MemoryContextReset(pb->ctx);
}

/*
 * A parallel participant has seen all its rows: sort them for the leader
 */
void
HnswPartBuildWorkerDone(HnswPartBuild *pb)
{
	tuplesort_performsort(pb->sort);
	tuplesort_end(pb->sort);
	ExecDropSingleTupleTableSlot(pb->slot);
	MemoryContextDelete(pb->ctx);
}

void
HnswPartParallelEstimate(ParallelContext *pcxt, Relation index)
{
	if (!HnswIndexHasKeys(index))
		return;
	shm_toc_estimate_chunk(&pcxt->estimator, tuplesort_estimate_shared(pcxt->nworkers + 1));
	shm_toc_estimate_keys(&pcxt->estimator, 1);
}

void
HnswPartParallelInit(ParallelContext *pcxt, Relation index)
{
	Sharedsort *shared;

	part_sharedsort = NULL;
	if (!HnswIndexHasKeys(index))
		return;
	shared = shm_toc_allocate(pcxt->toc, tuplesort_estimate_shared(pcxt->nworkers + 1));
	tuplesort_initialize_shared(shared, pcxt->nworkers + 1, pcxt->seg);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_HNSW_PARTSORT, shared);
	part_sharedsort = shared;
}

void
HnswPartParallelAttach(shm_toc *toc, dsm_segment *seg)
{
	part_sharedsort = shm_toc_lookup(toc, PARALLEL_KEY_HNSW_PARTSORT, true);
	if (part_sharedsort)
		tuplesort_attach_shared(part_sharedsort, seg);
}

/* Directory entries of a build, in memory until the directory is written */
typedef struct DirList
{
	HnswDirTupleData *items;
	int			n;
	int			cap;
} DirList;

static uint32 dir_sort_mask;

static int
dir_bucket_cmp(const void *a, const void *b)
{
	const HnswDirTupleData *da = a;
	const HnswDirTupleData *db = b;
	uint64		ba = da->hash & dir_sort_mask;
	uint64		bb = db->hash & dir_sort_mask;

	if (ba != bb)
		return ba < bb ? -1 : 1;
	if (da->hash != db->hash)
		return da->hash < db->hash ? -1 : 1;
	return 0;
}

/* A new page at the end of a relation being built (nothing else extends it) */
static Buffer
build_new_page(Relation index, uint16 flags)
{
	Buffer		buf = HnswNewBuffer(index, MAIN_FORKNUM);

	HnswInitPage(BufferGetPage(buf), flags);
	return buf;
}

static void
build_release(Buffer buf)
{
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * Write the directory of a build: buckets first pages consecutive, then
 * the overflow pages of full buckets
 */
static BlockNumber
write_directory(Relation index, DirList *dl, uint32 *bucketsOut)
{
	int			perPage = HNSW_DIR_PER_PAGE;
	uint32		buckets = HNSW_DIR_INSERT_BUCKETS;
	BlockNumber start = InvalidBlockNumber;
	int			pos = 0;
	int		   *rest;			/* per bucket: index of its first entry not yet written */
	int		   *end;

	/* at most half full after the build: room for as many new keys */
	while ((double) buckets * perPage / 2 < dl->n && buckets < (1U << 30))
		buckets <<= 1;
	dir_sort_mask = buckets - 1;
	qsort(dl->items, dl->n, sizeof(HnswDirTupleData), dir_bucket_cmp);

	rest = palloc(sizeof(int) * buckets);
	end = palloc(sizeof(int) * buckets);
	for (uint32 b = 0; b < buckets; b++)
	{
		Buffer		buf = build_new_page(index, HNSW_PAGE_DIR);
		Page		page = BufferGetPage(buf);

		if (b == 0)
			start = BufferGetBlockNumber(buf);
		else if (BufferGetBlockNumber(buf) != start + b)
			elog(ERROR, "hnsw build: directory page %u is not consecutive", BufferGetBlockNumber(buf));
		while (pos < dl->n && (dl->items[pos].hash & dir_sort_mask) == b &&
			   PageGetFreeSpace(page) >= MAXALIGN(sizeof(HnswDirTupleData)))
			add_item(index, page, (Item) &dl->items[pos++], sizeof(HnswDirTupleData));
		rest[b] = pos;
		while (pos < dl->n && (dl->items[pos].hash & dir_sort_mask) == b)
			pos++;
		end[b] = pos;
		build_release(buf);
		CHECK_FOR_INTERRUPTS();
	}

	/* overflow pages, linked from the bucket's last page */
	for (uint32 b = 0; b < buckets; b++)
	{
		BlockNumber prev = start + b;

		while (rest[b] < end[b])
		{
			Buffer		buf = build_new_page(index, HNSW_PAGE_DIR);
			Page		page = BufferGetPage(buf);
			Buffer		pbuf;

			while (rest[b] < end[b] && PageGetFreeSpace(page) >= MAXALIGN(sizeof(HnswDirTupleData)))
				add_item(index, page, (Item) &dl->items[rest[b]++], sizeof(HnswDirTupleData));
			pbuf = ReadBuffer(index, prev);
			LockBuffer(pbuf, BUFFER_LOCK_EXCLUSIVE);
			HnswPageGetOpaque(BufferGetPage(pbuf))->nextblkno = BufferGetBlockNumber(buf);
			build_release(pbuf);
			prev = BufferGetBlockNumber(buf);
			build_release(buf);
		}
	}
	pfree(rest);
	pfree(end);
	*bucketsOut = buckets;
	return start;
}

/*
 * Write the partitions from sorted tuples, then the directory and the
 * metapage's partition fields; WAL-log all of it as full pages
 */
static void
write_partitions(Relation index, TupleDesc desc, Tuplesortstate *sort, int dims)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	BlockNumber firstNew = RelationGetNumberOfBlocks(index);
	Size		entrySize = HNSW_PART_TUPLE_SIZE(dims);
	HnswPartTuple entry = palloc0(entrySize);
	Buffer		buf = InvalidBuffer;
	Page		page = NULL;
	DirList		dl = {NULL, 0, 0};
	HnswDirTuple cur = NULL;
	BlockNumber dirStart;
	uint32		buckets;
	Buffer		metabuf;
	int64		done = 0;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 4);
	dl.cap = 64;
	dl.items = palloc(sizeof(HnswDirTupleData) * dl.cap);
	while (tuplesort_gettupleslot(sort, true, false, slot, NULL))
	{
		bool		isnull;
		uint64		hash = (uint64) DatumGetInt64(slot_getattr(slot, 1, &isnull));
		ItemPointer tid = (ItemPointer) DatumGetPointer(slot_getattr(slot, 2, &isnull));
		bytea	   *vec = DatumGetByteaPP(slot_getattr(slot, 3, &isnull));
		BlockNumber blkno;

		if (VARSIZE_ANY_EXHDR(vec) != sizeof(float) * dims)
			elog(ERROR, "hnsw build: sorted partition entry of wrong size");
		form_entry(entry, dims, hash, tid, (const float *) VARDATA_ANY(vec));

		if (!BufferIsValid(buf) || PageGetFreeSpace(page) < MAXALIGN(entrySize))
		{
			if (BufferIsValid(buf))
				build_release(buf);
			buf = build_new_page(index, HNSW_PAGE_PART);
			page = BufferGetPage(buf);
			CHECK_FOR_INTERRUPTS();
		}
		add_item(index, page, (Item) entry, entrySize);
		blkno = BufferGetBlockNumber(buf);

		if (cur == NULL || cur->hash != hash)
		{
			if (dl.n == dl.cap)
			{
				dl.cap *= 2;
				dl.items = repalloc_huge(dl.items, sizeof(HnswDirTupleData) * dl.cap);
			}
			cur = &dl.items[dl.n++];
			form_dir(cur, hash);
			cur->first = blkno;
		}
		cur->last = blkno;
		cur->count++;
		if (++done % 1024 == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
	}
	if (BufferIsValid(buf))
		build_release(buf);
	ExecDropSingleTupleTableSlot(slot);

	dirStart = write_directory(index, &dl, &buckets);

	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta_part_set(BufferGetPage(metabuf), dirStart, buckets,
				  IndexRelationGetNumberOfKeyAttributes(index) - 1);
	build_release(metabuf);

	if (RelationNeedsWAL(index))
	{
		log_newpage_range(index, MAIN_FORKNUM, HNSW_METAPAGE_BLKNO, HNSW_METAPAGE_BLKNO + 1, true);
		log_newpage_range(index, MAIN_FORKNUM, firstNew, RelationGetNumberOfBlocks(index), true);
	}
	pfree(dl.items);
	pfree(entry);
}

/*
 * End of a build: write the partitions.  Serial builds pass their own
 * collector; the leader of a parallel build passes NULL and the number of
 * participants whose sorts it merges (it must call this before the
 * parallel context goes away).
 */
void
HnswPartBuildFinish(Relation index, HnswPartBuild *pb, int nparticipants)
{
	TupleDesc	desc;
	Tuplesortstate *sort;
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (pb != NULL)
	{
		desc = pb->tupdesc;
		sort = pb->sort;
	}
	else
	{
		SortCoordinate coordinate = palloc0(sizeof(SortCoordinateData));

		if (part_sharedsort == NULL)
			elog(ERROR, "hnsw partition build: no shared sort");
		coordinate->isWorker = false;
		coordinate->nParticipants = nparticipants;
		coordinate->sharedsort = part_sharedsort;
		desc = sort_tupdesc();
		sort = begin_sort(desc, Max(maintenance_work_mem / 4, 1024), coordinate);
	}
	tuplesort_performsort(sort);
	write_partitions(index, desc, sort, dims);
	tuplesort_end(sort);
	if (pb != NULL)
	{
		ExecDropSingleTupleTableSlot(pb->slot);
		MemoryContextDelete(pb->ctx);
	}
	part_sharedsort = NULL;
}

/* ----------------------------------------------------------------
 * Insert
 * ----------------------------------------------------------------
 */

/*
 * Give an index without a directory (built empty, or an unlogged index
 * after a crash reset) one of HNSW_DIR_INSERT_BUCKETS buckets.  The
 * metapage lock serialises creators; the pages are taken under the
 * relation extension lock so that they are consecutive.  A crash before
 * the metapage record leaves empty directory pages nothing points at,
 * which verify_index counts and ignores.
 */
static void
create_directory(Relation index)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPartData pm;
	Buffer		bufs[HNSW_DIR_INSERT_BUCKETS];
	BlockNumber start = InvalidBlockNumber;
	GenericXLogState *state;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	if (meta_part_from_page(BufferGetPage(metabuf), &pm))
	{
		UnlockReleaseBuffer(metabuf);
		return;
	}

	LockRelationForExtension(index, ExclusiveLock);
	for (int b = 0; b < HNSW_DIR_INSERT_BUCKETS; b++)
	{
		bufs[b] = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
		if (b == 0)
			start = BufferGetBlockNumber(bufs[b]);
		else if (BufferGetBlockNumber(bufs[b]) != start + b)
			elog(ERROR, "hnsw directory page %u of index \"%s\" is not consecutive",
				 BufferGetBlockNumber(bufs[b]), RelationGetRelationName(index));
		LockBuffer(bufs[b], BUFFER_LOCK_EXCLUSIVE);
	}
	UnlockRelationForExtension(index, ExclusiveLock);

	for (int b = 0; b < HNSW_DIR_INSERT_BUCKETS; b++)
	{
		state = GenericXLogStart(index);
		HnswInitPage(GenericXLogRegisterBuffer(state, bufs[b], GENERIC_XLOG_FULL_IMAGE), HNSW_PAGE_DIR);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(bufs[b]);
	}

	state = GenericXLogStart(index);
	meta_part_set(GenericXLogRegisterBuffer(state, metabuf, 0), start, HNSW_DIR_INSERT_BUCKETS,
				  IndexRelationGetNumberOfKeyAttributes(index) - 1);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Add a page to a directory being written: a full image, consecutive to
 * the previous one when expect is valid
 */
static Buffer
grow_new_page(Relation index, BlockNumber expect)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);

	if (BlockNumberIsValid(expect) && BufferGetBlockNumber(buf) != expect)
		elog(ERROR, "hnsw directory page %u of index \"%s\" is not consecutive",
			 BufferGetBlockNumber(buf), RelationGetRelationName(index));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/*
 * Give the directory more buckets, when a new key found its bucket's chain
 * longer than HNSW_DIR_MAX_CHAIN pages: under the directory lock
 * (exclusive: no insert or dead count changes an entry meanwhile), copy
 * every entry into a new directory sized as a build sizes it (at most half
 * full, and at least twice the buckets), WAL-logged page by page as full
 * images, then point the metapage at it.  The old directory pages stay as
 * they were: a scan that read the old metapage still finds every entry of
 * the rows its snapshot can see (partition pages are shared, and whatever
 * the new directory gained came later); verify_index counts them as
 * directory pages not linked, and REINDEX drops them.  A crash before the
 * metapage record leaves the new pages unlinked the same way.
 */
static void
grow_directory(Relation index)
{
	HnswMetaPartData pm;
	DirList		dl = {NULL, 0, 0};
	int			perPage = HNSW_DIR_PER_PAGE;
	int			maxchain = 0;
	uint32		buckets;
	BlockNumber start = InvalidBlockNumber;
	int			pos = 0;
	int		   *rest;			/* per bucket: its first entry not yet written */
	int		   *end;
	Buffer		metabuf;
	GenericXLogState *state;

	LockPage(index, HNSW_DIR_LOCK, ExclusiveLock);
	if (!HnswPartGetMeta(index, &pm))
	{
		UnlockPage(index, HNSW_DIR_LOCK, ExclusiveLock);
		return;
	}

	/* every entry, and the longest chain (another backend may have grown it) */
	dl.cap = 256;
	dl.items = palloc(sizeof(HnswDirTupleData) * dl.cap);
	for (uint32 b = 0; b < pm.dirBuckets; b++)
	{
		int			len = 0;

		for (BlockNumber blkno = pm.dirStart + b; BlockNumberIsValid(blkno);)
		{
			Buffer		buf = ReadBuffer(index, blkno);
			Page		page;
			OffsetNumber maxoff;

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			check_page_kind(index, page, blkno, HNSW_PAGE_DIR);
			maxoff = PageGetMaxOffsetNumber(page);
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				HnswDirTuple d = HnswPageItemOfType(page, off, HNSW_DIR_TUPLE);

				if (d == NULL)
					continue;
				if (dl.n == dl.cap)
				{
					dl.cap *= 2;
					dl.items = repalloc_huge(dl.items, sizeof(HnswDirTupleData) * dl.cap);
				}
				dl.items[dl.n++] = *d;
			}
			blkno = HnswPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
			len++;
		}
		maxchain = Max(maxchain, len);
	}
	if (maxchain <= HNSW_DIR_MAX_CHAIN)
	{
		pfree(dl.items);
		UnlockPage(index, HNSW_DIR_LOCK, ExclusiveLock);
		return;
	}

	buckets = pm.dirBuckets * 2;
	while ((double) buckets * perPage / 2 < dl.n && buckets < (1U << 30))
		buckets <<= 1;
	dir_sort_mask = buckets - 1;
	qsort(dl.items, dl.n, sizeof(HnswDirTupleData), dir_bucket_cmp);

	/*
	 * The buckets' first pages, consecutive: the extension lock is held
	 * while they are added (one at a time, each written and released)
	 */
	rest = palloc(sizeof(int) * buckets);
	end = palloc(sizeof(int) * buckets);
	LockRelationForExtension(index, ExclusiveLock);
	for (uint32 b = 0; b < buckets; b++)
	{
		Buffer		buf = grow_new_page(index, b == 0 ? InvalidBlockNumber : start + b);
		Page		page;

		if (b == 0)
			start = BufferGetBlockNumber(buf);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		HnswInitPage(page, HNSW_PAGE_DIR);
		while (pos < dl.n && (dl.items[pos].hash & dir_sort_mask) == b &&
			   PageGetFreeSpace(page) >= MAXALIGN(sizeof(HnswDirTupleData)))
			add_item(index, page, (Item) &dl.items[pos++], sizeof(HnswDirTupleData));
		rest[b] = pos;
		while (pos < dl.n && (dl.items[pos].hash & dir_sort_mask) == b)
			pos++;
		end[b] = pos;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	UnlockRelationForExtension(index, ExclusiveLock);
	if (pos != dl.n)
		elog(ERROR, "hnsw directory of index \"%s\": %d of %d entries placed",
			 RelationGetRelationName(index), pos, dl.n);

	/* buckets fuller than a page: overflow pages, each linked from the one before */
	for (uint32 b = 0; b < buckets; b++)
	{
		BlockNumber prev = start + b;

		while (rest[b] < end[b])
		{
			Buffer		pbuf = ReadBuffer(index, prev);
			Buffer		obuf;
			Page		opage;

			LockBuffer(pbuf, BUFFER_LOCK_EXCLUSIVE);
			obuf = HnswNewBuffer(index, MAIN_FORKNUM);
			state = GenericXLogStart(index);
			HnswPageGetOpaque(GenericXLogRegisterBuffer(state, pbuf, 0))->nextblkno = BufferGetBlockNumber(obuf);
			opage = GenericXLogRegisterBuffer(state, obuf, GENERIC_XLOG_FULL_IMAGE);
			HnswInitPage(opage, HNSW_PAGE_DIR);
			while (rest[b] < end[b] && PageGetFreeSpace(opage) >= MAXALIGN(sizeof(HnswDirTupleData)))
				add_item(index, opage, (Item) &dl.items[rest[b]++], sizeof(HnswDirTupleData));
			GenericXLogFinish(state);
			prev = BufferGetBlockNumber(obuf);
			UnlockReleaseBuffer(obuf);
			UnlockReleaseBuffer(pbuf);
		}
	}
	pfree(rest);
	pfree(end);

	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	meta_part_set(GenericXLogRegisterBuffer(state, metabuf, 0), start, buckets, pm.nkeys);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);
	ereport(DEBUG1,
			(errmsg_internal("hnsw index \"%s\": partition directory grown from %u to %u buckets for %d keys",
							 RelationGetRelationName(index), pm.dirBuckets, buckets, dl.n)));
	pfree(dl.items);
	UnlockPage(index, HNSW_DIR_LOCK, ExclusiveLock);
}

/*
 * Add an index row's partition entry (aminsert, after the graph insert)
 */
void
HnswPartInsert(Relation index, Datum *values, bool *isnull, ItemPointer heaptid)
{
	HnswDistance dist;
	HnswMetaPageData meta;
	HnswMetaPartData pm;
	float	   *vec;
	uint64		hash;
	Size		entrySize;
	HnswPartTuple entry;
	Buffer		primary;
	Buffer		dbuf;			/* directory page holding the entry (or the chain's last) */
	HnswDirTuple d;
	OffsetNumber doff = InvalidOffsetNumber;
	BlockNumber target;
	Buffer		tbuf = InvalidBuffer;
	GenericXLogState *state;
	int			chain = 1;		/* directory pages of the bucket walked */
	bool		newkey;

	if (isnull[0])
		return;
	HnswInitDistance(index, &dist);
	HnswGetMeta(index, &meta);
	vec = palloc(sizeof(float) * meta.dims);
	if (!HnswPrepareVector(&dist, index, values[0], vec, meta.dims))
		return;					/* not in the graph either */
	hash = HnswPartHashValues(index, values, isnull);
	entrySize = HNSW_PART_TUPLE_SIZE(meta.dims);
	entry = palloc(entrySize);
	form_entry(entry, meta.dims, hash, heaptid, vec);

	LockPage(index, HNSW_DIR_LOCK, ShareLock);
	if (!HnswPartGetMeta(index, &pm))
	{
		create_directory(index);
		if (!HnswPartGetMeta(index, &pm))
			elog(ERROR, "hnsw index \"%s\" has no partition directory", RelationGetRelationName(index));
	}

	/* the bucket lock: its first directory page, exclusive */
	primary = ReadBuffer(index, pm.dirStart + (BlockNumber) (hash & (pm.dirBuckets - 1)));
	LockBuffer(primary, BUFFER_LOCK_EXCLUSIVE);
	check_page_kind(index, BufferGetPage(primary), BufferGetBlockNumber(primary), HNSW_PAGE_DIR);
	dbuf = primary;
	for (;;)
	{
		BlockNumber next;
		Buffer		nbuf;

		d = dir_find(BufferGetPage(dbuf), hash, &doff);
		if (d)
			break;
		next = HnswPageGetOpaque(BufferGetPage(dbuf))->nextblkno;
		if (!BlockNumberIsValid(next))
			break;
		nbuf = ReadBuffer(index, next);
		LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
		check_page_kind(index, BufferGetPage(nbuf), next, HNSW_PAGE_DIR);
		if (dbuf != primary)
			UnlockReleaseBuffer(dbuf);
		dbuf = nbuf;
		chain++;
	}

	newkey = d == NULL;
	if (d == NULL)
	{
		/*
		 * A new key: its entry goes on the last page of the key entered last
		 * on this directory page when that has room (a one-page range shared
		 * with that key, as build ranges share their boundary pages), else on
		 * a page of its own; its directory entry at the end of the chain
		 */
		HnswDirTupleData nd;
		Buffer		pbuf = InvalidBuffer;
		Buffer		newdir = InvalidBuffer;
		Page		ppage;
		Page		dpage;
		OffsetNumber dmax = PageGetMaxOffsetNumber(BufferGetPage(dbuf));

		form_dir(&nd, hash);
		nd.count = 1;
		if (dmax >= FirstOffsetNumber)
		{
			HnswDirTuple prev = (HnswDirTuple) PageGetItem(BufferGetPage(dbuf),
														   PageGetItemId(BufferGetPage(dbuf), dmax));
			BlockNumber share = BlockNumberIsValid(prev->ovfLast) ? prev->ovfLast : prev->last;

			if (prev->type == HNSW_DIR_TUPLE && BlockNumberIsValid(share))
			{
				pbuf = ReadBuffer(index, share);
				LockBuffer(pbuf, BUFFER_LOCK_EXCLUSIVE);
				check_page_kind(index, BufferGetPage(pbuf), share, HNSW_PAGE_PART);
				if (PageGetFreeSpace(BufferGetPage(pbuf)) >= MAXALIGN(entrySize))
					nd.first = nd.last = share;
				else
				{
					UnlockReleaseBuffer(pbuf);
					pbuf = InvalidBuffer;
				}
			}
		}
		if (!BufferIsValid(pbuf))
		{
			pbuf = HnswNewBuffer(index, MAIN_FORKNUM);
			nd.ovfFirst = nd.ovfLast = BufferGetBlockNumber(pbuf);
		}
		if (PageGetFreeSpace(BufferGetPage(dbuf)) < MAXALIGN(sizeof(HnswDirTupleData)))
			newdir = HnswNewBuffer(index, MAIN_FORKNUM);

		state = GenericXLogStart(index);
		if (BlockNumberIsValid(nd.first))
			ppage = GenericXLogRegisterBuffer(state, pbuf, 0);
		else
		{
			ppage = GenericXLogRegisterBuffer(state, pbuf, GENERIC_XLOG_FULL_IMAGE);
			HnswInitPage(ppage, HNSW_PAGE_PART);
		}
		add_item(index, ppage, (Item) entry, entrySize);
		dpage = GenericXLogRegisterBuffer(state, dbuf, 0);
		if (BufferIsValid(newdir))
		{
			HnswPageGetOpaque(dpage)->nextblkno = BufferGetBlockNumber(newdir);
			dpage = GenericXLogRegisterBuffer(state, newdir, GENERIC_XLOG_FULL_IMAGE);
			HnswInitPage(dpage, HNSW_PAGE_DIR);
		}
		add_item(index, dpage, (Item) &nd, sizeof(HnswDirTupleData));
		GenericXLogFinish(state);
		UnlockReleaseBuffer(pbuf);
		if (BufferIsValid(newdir))
			UnlockReleaseBuffer(newdir);
	}
	else
	{
		/* the key's last page: its insert chain's, else its build range's */
		Buffer		pbuf = InvalidBuffer;
		Page		dpage;

		target = BlockNumberIsValid(d->ovfLast) ? d->ovfLast : d->last;
		if (BlockNumberIsValid(target))
		{
			tbuf = ReadBuffer(index, target);
			LockBuffer(tbuf, BUFFER_LOCK_EXCLUSIVE);
			check_page_kind(index, BufferGetPage(tbuf), target, HNSW_PAGE_PART);
		}
		state = GenericXLogStart(index);
		dpage = GenericXLogRegisterBuffer(state, dbuf, 0);
		d = (HnswDirTuple) PageGetItem(dpage, PageGetItemId(dpage, doff));
		d->count++;
		if (BufferIsValid(tbuf) && PageGetFreeSpace(BufferGetPage(tbuf)) >= MAXALIGN(entrySize))
			add_item(index, GenericXLogRegisterBuffer(state, tbuf, 0), (Item) entry, entrySize);
		else
		{
			Page		ppage;
			BlockNumber newblk;

			pbuf = HnswNewBuffer(index, MAIN_FORKNUM);
			newblk = BufferGetBlockNumber(pbuf);
			ppage = GenericXLogRegisterBuffer(state, pbuf, GENERIC_XLOG_FULL_IMAGE);
			HnswInitPage(ppage, HNSW_PAGE_PART);
			add_item(index, ppage, (Item) entry, entrySize);
			/* only insert chain pages are linked: a build range is consecutive */
			if (BlockNumberIsValid(d->ovfLast))
				HnswPageGetOpaque(GenericXLogRegisterBuffer(state, tbuf, 0))->nextblkno = newblk;
			else
				d->ovfFirst = newblk;
			d->ovfLast = newblk;
		}
		GenericXLogFinish(state);
		if (BufferIsValid(pbuf))
			UnlockReleaseBuffer(pbuf);
		if (BufferIsValid(tbuf))
			UnlockReleaseBuffer(tbuf);
	}
	if (dbuf != primary)
		UnlockReleaseBuffer(dbuf);
	UnlockReleaseBuffer(primary);
	UnlockPage(index, HNSW_DIR_LOCK, ShareLock);
	pfree(entry);
	pfree(vec);

	/* a new key in a long bucket chain: more buckets */
	if (newkey && chain > HNSW_DIR_MAX_CHAIN)
		grow_directory(index);
}

/* ----------------------------------------------------------------
 * VACUUM
 * ----------------------------------------------------------------
 */

/* A directory entry as VACUUM and verification walk it */
typedef struct PartRef
{
	uint64		hash;
	BlockNumber first;
	BlockNumber last;
	BlockNumber ovfFirst;
	uint32		count;
	uint32		ndead;
} PartRef;

/* Copy the entries of one bucket's directory chain (share locks) */
static PartRef *
bucket_entries(Relation index, BlockNumber blkno, int *n, BufferAccessStrategy strategy,
			   BlockNumber *chainPages, int *nchain, int maxchain)
{
	int			cap = 64;
	PartRef    *refs = palloc(sizeof(PartRef) * cap);

	*n = 0;
	if (nchain)
		*nchain = 0;
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		Page		page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		check_page_kind(index, page, blkno, HNSW_PAGE_DIR);
		if (nchain)
		{
			/* a cycle: stop (verification reports it) */
			for (int i = 0; i < *nchain; i++)
				if (chainPages[i] == blkno)
				{
					*nchain = -1;
					UnlockReleaseBuffer(buf);
					return refs;
				}
			if (*nchain < maxchain)
				chainPages[(*nchain)++] = blkno;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswDirTuple d = HnswPageItemOfType(page, off, HNSW_DIR_TUPLE);

			if (d == NULL)
				continue;
			if (*n == cap)
			{
				cap *= 2;
				refs = repalloc(refs, sizeof(PartRef) * cap);
			}
			refs[*n].hash = d->hash;
			refs[*n].first = d->first;
			refs[*n].last = d->last;
			refs[*n].ovfFirst = d->ovfFirst;
			refs[*n].count = d->count;
			refs[*n].ndead = d->ndead;
			(*n)++;
		}
		blkno = HnswPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	return refs;
}

/*
 * Mark the entries of hash on one partition page whose heap rows are
 * dead; returns how many, and the page's next link
 */
static uint32
vacuum_part_page(Relation index, BlockNumber blkno, uint64 hash, IndexBulkDeleteCallback callback,
				 void *callback_state, BufferAccessStrategy strategy, BlockNumber *next)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	GenericXLogState *state;
	Page		page;
	OffsetNumber maxoff;
	uint32		n = 0;

	vacuum_delay_point();
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	check_page_kind(index, BufferGetPage(buf), blkno, HNSW_PAGE_PART);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		HnswPartTuple t = HnswPageItemOfType(page, off, HNSW_PART_TUPLE);

		if (t == NULL || t->hash != hash || t->deleted)
			continue;
		if (callback(&t->heaptid, callback_state))
		{
			t->deleted = 1;
			n++;
		}
	}
	*next = HnswPageGetOpaque(page)->nextblkno;
	if (n > 0)
		GenericXLogFinish(state);
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * Add to the dead count of hash's directory entry (the bucket lock, then
 * the chain as an insert walks it)
 */
static void
dir_add_dead(Relation index, uint64 hash, uint32 n)
{
	HnswMetaPartData pmd;
	HnswMetaPartData *pm = &pmd;
	Buffer		primary;
	Buffer		dbuf;
	OffsetNumber off;

	/* the directory now (it may have grown since VACUUM read it) */
	LockPage(index, HNSW_DIR_LOCK, ShareLock);
	if (!HnswPartGetMeta(index, pm))
	{
		UnlockPage(index, HNSW_DIR_LOCK, ShareLock);
		return;
	}
	primary = ReadBuffer(index, pm->dirStart + (BlockNumber) (hash & (pm->dirBuckets - 1)));
	LockBuffer(primary, BUFFER_LOCK_EXCLUSIVE);
	dbuf = primary;
	for (;;)
	{
		BlockNumber next;

		if (dir_find(BufferGetPage(dbuf), hash, &off))
		{
			GenericXLogState *state = GenericXLogStart(index);
			Page		page = GenericXLogRegisterBuffer(state, dbuf, 0);
			HnswDirTuple d = (HnswDirTuple) PageGetItem(page, PageGetItemId(page, off));

			d->ndead += n;
			GenericXLogFinish(state);
			break;
		}
		next = HnswPageGetOpaque(BufferGetPage(dbuf))->nextblkno;
		if (!BlockNumberIsValid(next))
			break;
		if (dbuf != primary)
			UnlockReleaseBuffer(dbuf);
		dbuf = ReadBuffer(index, next);
		LockBuffer(dbuf, BUFFER_LOCK_EXCLUSIVE);
	}
	if (dbuf != primary)
		UnlockReleaseBuffer(dbuf);
	UnlockReleaseBuffer(primary);
	UnlockPage(index, HNSW_DIR_LOCK, ShareLock);
}

/*
 * ambulkdelete for the partitions: mark the entries of dead heap rows
 * (they stay on their pages, skipped by scans, until a REINDEX)
 */
void
HnswPartBulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	HnswMetaPartData pm;
	int64		total = 0;

	if (!HnswIndexHasKeys(index) || !HnswPartGetMeta(index, &pm))
		return;
	for (uint32 b = 0; b < pm.dirBuckets; b++)
	{
		int			n;
		PartRef    *refs = bucket_entries(index, pm.dirStart + b, &n, info->strategy, NULL, NULL, 0);

		for (int i = 0; i < n; i++)
		{
			uint32		dead = 0;
			BlockNumber next;

			if (BlockNumberIsValid(refs[i].first))
				for (BlockNumber blk = refs[i].first; blk <= refs[i].last; blk++)
					dead += vacuum_part_page(index, blk, refs[i].hash, callback, callback_state,
											 info->strategy, &next);
			for (BlockNumber blk = refs[i].ovfFirst; BlockNumberIsValid(blk); blk = next)
				dead += vacuum_part_page(index, blk, refs[i].hash, callback, callback_state,
										 info->strategy, &next);
			if (dead > 0)
				dir_add_dead(index, refs[i].hash, dead);
			total += dead;
		}
		pfree(refs);
	}
	ereport(info->message_level,
			(errmsg("index \"%s\": " INT64_FORMAT " partition entries of dead rows marked deleted",
					RelationGetRelationName(index), total)));
}

/* ----------------------------------------------------------------
 * Verification (vecrec.verify_index)
 * ----------------------------------------------------------------
 */

static int
compare_uint64_for_part(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* A live entry, for the heapallindexed pass */
typedef struct PartTid
{
	ItemPointerData tid;
	uint64		hash;
} PartTid;

typedef struct PartCheck
{
	Relation	index;
	bool		strict;
	int			problems;
	StringInfoData first;
	BlockNumber nblocks;
	uint8	   *kind;			/* per block: 0 other, 1 partition, 2 directory */
	uint32	   *nentries;		/* per partition page */
	uint32	   *attributed;		/* ... of them found through the directory */
	int32	   *ovfOwner;		/* per block: insert chain it is in (+1), 0 none */
	PartTid    *tids;
	int64		ntids;
	int			dims;
	/* heap pass */
	int64		nmissing;
	ItemPointerData firstMissing;
} PartCheck;

static void
part_problem(PartCheck *pc, const char *fmt, uint32 a, uint32 b)
{
	if (pc->problems++ == 0)
		appendStringInfo(&pc->first, fmt, a, b);
	if (pc->strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is corrupted: %s", RelationGetRelationName(pc->index), pc->first.data)));
}

static int
part_tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) &((const PartTid *) a)->tid,
							  (ItemPointer) &((const PartTid *) b)->tid);
}

/* Count the entries of hash on a partition page through the directory */
static uint32
attribute_page(PartCheck *pc, BlockNumber blkno, uint64 hash, uint32 *dead, BlockNumber *next)
{
	Buffer		buf;
	Page		page;
	OffsetNumber maxoff;
	uint32		n = 0;

	*next = InvalidBlockNumber;
	if (blkno >= pc->nblocks || pc->kind[blkno] != 1)
	{
		part_problem(pc, "partition of a directory entry at block %u (%u) is not a partition page", blkno, 0);
		return 0;
	}
	buf = ReadBuffer(pc->index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		HnswPartTuple t = HnswPageItemOfType(page, off, HNSW_PART_TUPLE);

		if (t != NULL && t->hash == hash)
		{
			n++;
			if (t->deleted)
				(*dead)++;
		}
	}
	*next = HnswPageGetOpaque(page)->nextblkno;
	UnlockReleaseBuffer(buf);
	pc->attributed[blkno] += n;
	return n;
}

/* VerifyScanIndexableRows callback: is this row in its key's partition? */
static void
check_heap_row(ItemPointer tid, Datum *values, bool *isnull, void *arg)
{
	PartCheck  *pc = arg;
	PartTid		key;
	PartTid    *found;

	key.tid = *tid;
	found = bsearch(&key, pc->tids, pc->ntids, sizeof(PartTid), part_tid_cmp);
	if (found == NULL || found->hash != HnswPartHashValues(pc->index, values, isnull))
	{
		if (pc->nmissing++ == 0)
			pc->firstMissing = *tid;
	}
}

/*
 * Check the partitions of an index with key columns, reporting the rows
 * "partitions", "partition directory" and (with a heap) "partition
 * heapallindexed"
 */
void
HnswPartCheck(Relation index, Relation heap, Snapshot snapshot, bool strict,
			  HnswCheckReport report, void *arg)
{
	PartCheck	pc;
	HnswMetaPageData meta;
	HnswMetaPartData pm;
	bool		hasdir;
	int64		nentries = 0,
				ndeleted = 0,
				npages = 0,
				ndirpages = 0,
				nkeys = 0,
				nunlinked = 0;
	int			ntidcap = 1024;
	uint8	   *dirseen;
	char	   *detail;

	if (!HnswIndexHasKeys(index))
		return;
	memset(&pc, 0, sizeof(pc));
	pc.index = index;
	pc.strict = strict;
	initStringInfo(&pc.first);
	HnswGetMeta(index, &meta);
	pc.dims = meta.dims;
	hasdir = HnswPartGetMeta(index, &pm);
	pc.nblocks = RelationGetNumberOfBlocks(index);
	pc.kind = palloc0(pc.nblocks);
	pc.nentries = palloc0(sizeof(uint32) * pc.nblocks);
	pc.attributed = palloc0(sizeof(uint32) * pc.nblocks);
	pc.ovfOwner = palloc0(sizeof(int32) * pc.nblocks);
	dirseen = palloc0(pc.nblocks);
	pc.tids = palloc(sizeof(PartTid) * ntidcap);

	/* pass 1: partition and directory pages, their items well-formed */
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < pc.nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		OffsetNumber maxoff;
		uint16		flags;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!HnswPartIsPartPage(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		flags = HnswPageGetOpaque(page)->flags;
		maxoff = PageGetMaxOffsetNumber(page);
		if (flags == HNSW_PAGE_PART)
		{
			pc.kind[blkno] = 1;
			npages++;
		}
		else if (flags == HNSW_PAGE_DIR)
		{
			pc.kind[blkno] = 2;
			ndirpages++;
		}
		else
			part_problem(&pc, "block %u has page flags %u", blkno, flags);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && pc.kind[blkno] != 0; off++)
		{
			ItemId		itemid = PageGetItemId(page, off);

			if (!ItemIdIsNormal(itemid))
				continue;
			if (pc.kind[blkno] == 1)
			{
				HnswPartTuple t = (HnswPartTuple) PageGetItem(page, itemid);

				if (t->type != HNSW_PART_TUPLE || ItemIdGetLength(itemid) != HNSW_PART_TUPLE_SIZE(pc.dims) ||
					t->deleted > 1 || !ItemPointerIsValid(&t->heaptid))
				{
					part_problem(&pc, "partition entry (%u,%u) has a bad type, length or heap pointer", blkno, off);
					continue;
				}
				pc.nentries[blkno]++;
				nentries++;
				if (t->deleted)
				{
					ndeleted++;
					continue;
				}
				if (pc.ntids == ntidcap)
				{
					ntidcap *= 2;
					pc.tids = repalloc_huge(pc.tids, sizeof(PartTid) * ntidcap);
				}
				pc.tids[pc.ntids].tid = t->heaptid;
				pc.tids[pc.ntids].hash = t->hash;
				pc.ntids++;
			}
			else
			{
				HnswDirTuple d = (HnswDirTuple) PageGetItem(page, itemid);

				if (d->type != HNSW_DIR_TUPLE || ItemIdGetLength(itemid) != sizeof(HnswDirTupleData))
					part_problem(&pc, "directory entry (%u,%u) has a bad type or length", blkno, off);
			}
		}
		UnlockReleaseBuffer(buf);
	}
	if (hasdir && (pm.dirStart < HNSW_FIRST_DATA_BLKNO || pm.dirStart + pm.dirBuckets > pc.nblocks))
	{
		part_problem(&pc, "directory of %u buckets at block %u is outside the index", pm.dirBuckets, pm.dirStart);
		hasdir = false;
	}

	/* pass 2: the directory, bucket by bucket, and the partitions it leads to */
	if (hasdir)
	{
		BlockNumber *chain = palloc(sizeof(BlockNumber) * pc.nblocks);
		uint64	   *hashes = NULL;
		int64		nhashes = 0;

		for (uint32 b = 0; b < pm.dirBuckets; b++)
		{
			int			n,
						nchain;
			PartRef    *refs;

			if (pc.kind[pm.dirStart + b] != 2)
			{
				part_problem(&pc, "bucket %u starts at block %u, not a directory page", b, pm.dirStart + b);
				continue;
			}
			refs = bucket_entries(index, pm.dirStart + b, &n, NULL, chain, &nchain, pc.nblocks);
			if (nchain < 0)
				part_problem(&pc, "directory chain of bucket %u has a cycle (%u)", b, 0);
			for (int i = 0; i < Max(nchain, 0); i++)
			{
				if (dirseen[chain[i]])
					part_problem(&pc, "directory page %u is in two chains (bucket %u)", chain[i], b);
				dirseen[chain[i]] = 1;
			}
			hashes = hashes ? repalloc_huge(hashes, sizeof(uint64) * (nhashes + n + 1))
				: palloc(sizeof(uint64) * (n + 1));
			for (int i = 0; i < n; i++)
			{
				uint32		counted = 0,
							dead = 0;
				BlockNumber next;
				int			steps = 0;

				nkeys++;
				hashes[nhashes++] = refs[i].hash;
				if ((refs[i].hash & (pm.dirBuckets - 1)) != b)
					part_problem(&pc, "directory entry of bucket %u has a hash of bucket %u", b,
								 (uint32) (refs[i].hash & (pm.dirBuckets - 1)));
				if (BlockNumberIsValid(refs[i].first))
				{
					if (refs[i].last < refs[i].first || refs[i].last >= pc.nblocks)
						part_problem(&pc, "partition range %u .. %u is invalid", refs[i].first, refs[i].last);
					else
						for (BlockNumber blk = refs[i].first; blk <= refs[i].last; blk++)
							counted += attribute_page(&pc, blk, refs[i].hash, &dead, &next);
				}
				for (BlockNumber blk = refs[i].ovfFirst; BlockNumberIsValid(blk); blk = next)
				{
					if (blk >= pc.nblocks || pc.ovfOwner[blk] != 0 || ++steps > (int) pc.nblocks)
					{
						part_problem(&pc, "insert chain page %u is shared, looped or outside the index (%u)", blk, 0);
						break;
					}
					pc.ovfOwner[blk] = 1;
					counted += attribute_page(&pc, blk, refs[i].hash, &dead, &next);
				}
				if (counted != refs[i].count)
					part_problem(&pc, "partition counts %u entries, its directory entry %u", counted, refs[i].count);
				/* the dead count is raised after the entries are marked */
				if (refs[i].ndead > dead)
					part_problem(&pc, "directory entry counts %u dead entries, its partition has %u", refs[i].ndead, dead);
			}
			pfree(refs);
		}
		/* each hash once */
		if (nhashes > 1)
		{
			qsort(hashes, nhashes, sizeof(uint64), compare_uint64_for_part);
			for (int64 i = 1; i < nhashes; i++)
				if (hashes[i] == hashes[i - 1])
					part_problem(&pc, "two directory entries have the same hash (%u,%u)",
								 (uint32) (hashes[i] >> 32), (uint32) hashes[i]);
		}
		for (BlockNumber blk = 0; blk < pc.nblocks; blk++)
		{
			if (pc.kind[blk] == 1 && pc.attributed[blk] != pc.nentries[blk])
				part_problem(&pc, "partition page %u has %u entries outside their key's partition", blk,
							 pc.nentries[blk] - pc.attributed[blk]);
			if (pc.kind[blk] == 2 && !dirseen[blk])
				nunlinked++;
		}
	}
	else if (nentries > 0)
		part_problem(&pc, "index has %u partition entries but no directory (%u)", (uint32) nentries, 0);

	detail = pc.problems == 0
		? psprintf(INT64_FORMAT " keys, " INT64_FORMAT " partition pages, " INT64_FORMAT " entries (" INT64_FORMAT " dead), " INT64_FORMAT " directory pages in %u buckets (" INT64_FORMAT " not linked)",
				   nkeys, npages, nentries, ndeleted, ndirpages, hasdir ? pm.dirBuckets : 0, nunlinked)
		: pc.first.data;
	report(arg, "partitions", pc.problems == 0, detail);

	if (heap)
	{
		int64		nrows;
		bool		ok;

		qsort(pc.tids, pc.ntids, sizeof(PartTid), part_tid_cmp);
		nrows = VerifyScanIndexableRows(index, heap, snapshot, check_heap_row, &pc);
		ok = pc.nmissing == 0;
		if (ok)
			detail = psprintf(INT64_FORMAT " live heap rows, each in the partition of its key", nrows);
		else
			detail = psprintf(INT64_FORMAT " of " INT64_FORMAT " live heap rows are not in the partition of their key, the first at (%u,%u)",
							  pc.nmissing, nrows, ItemPointerGetBlockNumber(&pc.firstMissing),
							  ItemPointerGetOffsetNumber(&pc.firstMissing));
		if (!ok && strict)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" lacks partition entries of rows of table \"%s\"",
							RelationGetRelationName(index), RelationGetRelationName(heap)),
					 errdetail("%s.", detail)));
		report(arg, "partition heapallindexed", ok, detail);
	}
}

/* ----------------------------------------------------------------
 * Costing
 * ----------------------------------------------------------------
 */

/*
 * Cost of a scan with an equality qual on every key column: it reads the
 * key's whole partition before its first row, so the startup cost is the
 * total.  Rows: the selectivity of the index quals times the table's rows;
 * pages at seq_page_cost (a partition's pages are consecutive), and per
 * entry HNSW_PART_ENTRY_COST_OPS * cpu_operator_cost (see docs/hnsw.md for
 * the calibration).  Returns false when the scan would search the graph.
 */
bool
HnswPartCostEstimate(PlannerInfo *root, IndexPath *path, double loop_count,
					 Cost *indexStartupCost, Cost *indexTotalCost,
					 Selectivity *indexSelectivity, double *indexCorrelation,
					 double *indexPages)
{
	IndexOptInfo *info = path->indexinfo;
	bool		covered[INDEX_MAX_KEYS] = {false};
	ListCell   *lc;
	GenericCosts costs;
	double		rows;
	double		pages;
	int			perPage;
	int			dims;
	Relation	index;

	if (info->nkeycolumns < 2 || path->indexorderbys == NIL)
		return false;
	foreach(lc, path->indexclauses)
	{
		IndexClause *ic = lfirst_node(IndexClause, lc);

		if (ic->indexcol >= 1 && ic->indexcol < INDEX_MAX_KEYS)
			covered[ic->indexcol] = true;
	}
	for (int col = 1; col < info->nkeycolumns; col++)
		if (!covered[col])
			return false;

	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	index = index_open(info->indexoid, NoLock);
	dims = Max(TupleDescAttr(RelationGetDescr(index), 0)->atttypmod, 1);
	index_close(index, NoLock);

	rows = clamp_row_est(costs.indexSelectivity * info->rel->tuples);
	perPage = Max(1, (int) ((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData))) /
							(MAXALIGN(HNSW_PART_TUPLE_SIZE(dims)) + sizeof(ItemIdData))));
	pages = ceil(rows / perPage) + 1;
	*indexStartupCost = pages * seq_page_cost + random_page_cost +
		rows * (HNSW_PART_ENTRY_COST_OPS * cpu_operator_cost * Max(dims / 100.0, 0.25));
	*indexTotalCost = *indexStartupCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = pages;
	return true;
}
