/*-------------------------------------------------------------------------
 *
 * hnswutils.c
 *		Helpers shared by hnsw build, insert, scan and vacuum: distances,
 *		pages, the metapage, levels and neighbour selection.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswutils.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "common/hashfn.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "compat.h"
#include "distance.h"
#include "hnsw.h"

/*
 * Work out how an index computes distances.  The support functions of our
 * own operator classes are recognised by address and run on the SIMD
 * kernels directly; anything else goes through fmgr.
 */
void
HnswInitDistance(Relation index, HnswDistance *d)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, HNSW_DISTANCE_PROC);

	d->distproc = proc;
	d->collation = index->rd_indcollation[0];
	d->normalize = OidIsValid(index_getprocid(index, 1, HNSW_NORM_PROC));
	if (proc->fn_addr == vector_l2_squared_distance)
		d->metric = HNSW_METRIC_L2SQ;
	else if (proc->fn_addr == vector_negative_inner_product)
		d->metric = HNSW_METRIC_NEG_IP;
	else if (proc->fn_addr == l1_distance)
		d->metric = HNSW_METRIC_L1;
	else
		d->metric = HNSW_METRIC_FMGR;
}

/*
 * Copy an indexed value into out[dims], normalised when the operator class
 * asks for it.  Returns false for a value the index cannot hold (a zero
 * vector under cosine distance has no direction).
 */
bool
HnswPrepareVector(HnswDistance *d, Relation index, Datum value, float *out, int dims)
{
	Vector	   *v = DatumGetVector(value);

	if (v->dim != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", dims, v->dim),
				 errhint("Every vector in index \"%s\" must have the dimensions the index was built with.",
						 RelationGetRelationName(index))));
	memcpy(out, v->x, sizeof(float) * dims);
	if (d->normalize)
	{
		double		norm = VectorNorm(dims, out);

		if (norm == 0)
			return false;
		for (int i = 0; i < dims; i++)
			out[i] = (float) (out[i] / norm);
	}
	return true;
}

/*
 * Would HnswPrepareVector index a vector of the right dimensions?  Under
 * cosine a zero vector has no direction and is not indexed (its norm,
 * summed in double precision, is 0 only when every coordinate is 0).
 */
bool
HnswHasDirection(const HnswDistance *d, const Vector *v)
{
	if (!d->normalize)
		return true;
	for (int i = 0; i < v->dim; i++)
		if (v->x[i] != 0)
			return true;
	return false;
}

/*
 * Distance through the operator class's support function (rare path)
 */
static double
fmgr_distance(const HnswDistance *d, int dims, const float *a, const float *b)
{
	Vector	   *va = InitVector(dims);
	Vector	   *vb = InitVector(dims);
	double		r;

	memcpy(va->x, a, sizeof(float) * dims);
	memcpy(vb->x, b, sizeof(float) * dims);
	r = DatumGetFloat8(FunctionCall2Coll(d->distproc, d->collation,
										 PointerGetDatum(va), PointerGetDatum(vb)));
	pfree(va);
	pfree(vb);
	return r;
}

/*
 * Distance between two prepared vectors; smaller is closer
 */
double
HnswDist(const HnswDistance *d, int dims, const float *a, const float *b)
{
	switch (d->metric)
	{
		case HNSW_METRIC_L2SQ:
			return VecActiveKernels->l2sq(dims, a, b);
		case HNSW_METRIC_NEG_IP:
			return -(double) VecActiveKernels->dot(dims, a, b);
		case HNSW_METRIC_L1:
			return VecActiveKernels->l1(dims, a, b);
		case HNSW_METRIC_FMGR:
			break;
	}
	return fmgr_distance(d, dims, a, b);
}

/*
 * The level of the element of a heap row: floor(-ln(U) * mL) with
 * mL = 1 / ln(m), as in the paper, but U in [0, 1) comes from a hash of the
 * heap TID rather than from a random generator.  The levels are as random
 * as the paper's across rows, and the same for a row whichever way it gets
 * into the index (serial or parallel build, insert), so graphs built from
 * the same rows in the same order are the same, and a recall figure is
 * reproducible.
 */
int
HnswElementLevel(ItemPointer heaptid, int m)
{
	uint64		key = ((uint64) ItemPointerGetBlockNumberNoCheck(heaptid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(heaptid);
	uint64		h = hash_bytes_extended((const unsigned char *) &key, sizeof(key), HNSW_LEVEL_SEED);
	double		u = (double) (h >> 11) * (1.0 / (UINT64CONST(1) << 53));
	double		ml = 1 / log(m);
	int			level;

	/* u is in [0, 1); 1 - u is in (0, 1] */
	level = (int) floor(-log(1 - u) * ml);
	return Min(level, HNSW_MAX_LEVEL);
}

/*
 * Initialise a page with our special space
 */
void
HnswInitPage(Page page, uint16 flags)
{
	HnswPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = HnswPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = HNSW_PAGE_ID;
}

/*
 * Add a page at the end of the index; returned exclusively locked
 */
Buffer
HnswNewBuffer(Relation index, ForkNumber forkNum)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, forkNum, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * Error unless a page is one of ours
 */
void
HnswCheckPage(Relation index, Page page, BlockNumber blkno)
{
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
		HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains unexpected page at block %u",
						RelationGetRelationName(index), blkno),
				 errhint("Please REINDEX it.")));
}

/*
 * Copy the metapage, checking that it is an hnsw index of a version we read
 */
void
HnswGetMeta(Relation index, HnswMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	HnswCheckPage(index, page, HNSW_METAPAGE_BLKNO);
	*meta = *HnswPageGetMeta(page);
	UnlockReleaseBuffer(buf);

	if (meta->magic != HNSW_MAGIC_NUMBER)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an hnsw index", RelationGetRelationName(index))));
	if (meta->version != HNSW_VERSION_INLINE && meta->version != HNSW_VERSION_CHUNKED)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has hnsw format version %u, expected %u or %u",
						RelationGetRelationName(index), meta->version,
						HNSW_VERSION_INLINE, HNSW_VERSION_CHUNKED),
				 errhint("Please REINDEX it.")));
	/* version 1 metapages end before vecChunks */
	if (meta->version == HNSW_VERSION_INLINE)
		meta->vecChunks = 0;
	else if (meta->vecChunks < HnswChunksNeeded(meta->dims) || meta->vecChunks > HNSW_MAX_VEC_CHUNKS)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has %u chunk pointers per element for %u dimensions",
						RelationGetRelationName(index), meta->vecChunks, meta->dims),
				 errhint("Please REINDEX it.")));
}

/*
 * Fill in the metapage of a new, empty index
 */
void
HnswInitMeta(HnswMetaPage meta, int dims, int m, int efConstruction)
{
	memset(meta, 0, sizeof(HnswMetaPageData));
	meta->magic = HNSW_MAGIC_NUMBER;
	meta->vecChunks = HnswVecChunksFor(dims, m);
	meta->version = meta->vecChunks == 0 ? HNSW_VERSION_INLINE : HNSW_VERSION_CHUNKED;
	meta->dims = dims;
	meta->m = m;
	meta->efConstruction = efConstruction;
	meta->entryBlkno = InvalidBlockNumber;
	meta->entryOffno = InvalidOffsetNumber;
	meta->entryLevel = -1;
	meta->lastBlkno = InvalidBlockNumber;
}

/*
 * How a new index of these dimensions and m stores its vectors: 0 for
 * inside the elements (format version 1), otherwise the number of chunk
 * pointers per element (version 2).
 *
 * Vectors stay inline when an element still fits on a page at a level so
 * high that fewer than one element in 10,000 draws a higher one: with
 * HnswRandomLevel, the smallest L with m^(L+1) >= 10,000 (3 for m = 16, 1
 * for m = 100).  Levels above what fits are capped (HnswMaxLevel), and a
 * cap that bites often flattens the top of the graph, which slows searches
 * down; those indexes, and every index whose level-0 element does not fit,
 * get out-of-line vectors instead.  With m = 16 this keeps vectors of up
 * to 1915 dimensions inline.
 */
int
HnswVecChunksFor(int dims, int m)
{
	int			level = 0;
	double		rarity = m;

	while (rarity < 10000 && level < HNSW_MAX_LEVEL)
	{
		rarity *= m;
		level++;
	}
	if (HNSW_ELEMENT_TUPLE_SIZE(dims, 0, m, level) <= HNSW_MAX_ITEM_SIZE)
		return 0;
	return HnswChunksNeeded(dims);
}

/*
 * Highest level whose element tuple still fits on a page
 */
int
HnswMaxLevel(int dims, int vecChunks, int m)
{
	int			level = HNSW_MAX_LEVEL;

	while (level > 0 && HNSW_ELEMENT_TUPLE_SIZE(dims, vecChunks, m, level) > HNSW_MAX_ITEM_SIZE)
		level--;
	return level;
}

/*
 * The level an element item of len bytes was made for (the highest level
 * whose lists it has room for), or -1 if len is no element size
 */
int
HnswItemLevel(Size len, int dims, int vecChunks, int m)
{
	for (int level = 0; level <= HNSW_MAX_LEVEL; level++)
	{
		Size		sz = HNSW_ELEMENT_TUPLE_SIZE(dims, vecChunks, m, level);

		if (sz == len)
			return level;
		if (sz > len)
			break;
	}
	return -1;
}

/*
 * The highest level a free item on a (locked) page has room for, or -1 if
 * the page has no free item: what the free space map says of the page
 * (HnswFreeSpaceValue)
 */
int
HnswPageFreeLevel(Page page)
{
	OffsetNumber maxoff;
	int			level = -1;

	StaticAssertStmt(HnswFreeSpaceValue(HNSW_MAX_LEVEL) <= BLCKSZ / 2,
					 "free space map values must be valid free space amounts");
	if (PageIsNew(page))
		return -1;
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		HnswElementTuple etup = HnswPageItemOfType(page, off, HNSW_FREE_TUPLE);

		if (etup != NULL)
			level = Max(level, etup->level);
	}
	return level;
}

/*
 * How many of the remaining coordinates of a vector to put in a chunk on a
 * page with freeSpace bytes left (PageGetFreeSpace: the line pointer is
 * already counted), or 0 when the chunk should go on a new page instead.
 * Build and insert both lay out vectors with this.
 */
int
HnswChunkFloats(Size freeSpace, int remaining)
{
	Size		room = MAXALIGN_DOWN(Min(freeSpace, HNSW_MAX_ITEM_SIZE));
	int			fit;

	if (room <= offsetof(HnswVectorTupleData, x))
		return 0;
	fit = (int) ((room - offsetof(HnswVectorTupleData, x)) / sizeof(float));
	if (fit >= remaining)
		return remaining;
	return fit >= HNSW_CHUNK_MIN_FLOATS ? fit : 0;
}

/*
 * Choose up to max neighbours from candidates sorted nearest first: keep a
 * candidate if it is closer to the base element than to every one already
 * kept, so that links point in diverse directions.  Algorithm 4 of the paper
 * (Malkov and Yashunin) without extendCandidates; with keepPruned
 * (keepPrunedConnections) the slots left over are filled with the nearest
 * candidates that were pruned.  pairdist(ctx, i, j) is the distance between
 * candidates i and j.  Writes the chosen candidate indexes to out and
 * returns how many.
 *
 * Ties keep a candidate, which lets a list fill up with exact duplicates of
 * the base element: each is as close to the base as to the others.  Such a
 * list has no room left for any other direction, and a search entering a
 * group of duplicates could not get out.  So when same is given, a
 * candidate with the same vector as one already kept is pruned as well
 * (same(ctx, i, j) compares the vectors; it is only asked about candidates
 * at exactly the same distance from the base, as duplicates are).
 */
int
HnswSelectNeighbors(int ncands, const float *candDist, int max, bool keepPruned,
					HnswPairDistFunc pairdist, HnswSameFunc same, void *ctx, int *out)
{
	int			n = 0;
	int			npruned = 0;
	int			pruned[HNSW_MAX_EF_CONSTRUCTION + 1];

	/* callers pass at most ef_construction results, or a full list + 1 */
	Assert(ncands <= HNSW_MAX_EF_CONSTRUCTION + 1);
	if (ncands <= max)
	{
		for (int i = 0; i < ncands; i++)
			out[i] = i;
		return ncands;
	}

	for (int i = 0; i < ncands && n < max; i++)
	{
		bool		good = true;

		for (int j = 0; j < n; j++)
		{
			if (pairdist(ctx, i, out[j]) < candDist[i] ||
				(same && candDist[i] == candDist[out[j]] && same(ctx, i, out[j])))
			{
				good = false;
				break;
			}
		}
		if (good)
			out[n++] = i;
		else
			pruned[npruned++] = i;
	}
	for (int i = 0; keepPruned && i < npruned && n < max; i++)
		out[n++] = pruned[i];
	return n;
}
