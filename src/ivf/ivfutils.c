/*-------------------------------------------------------------------------
 *
 * ivfutils.c
 *		Helpers shared by ivfflat build, insert, scan, vacuum and check:
 *		pages, the metapage, the lists.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfutils.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "storage/lmgr.h"
#include "utils/rel.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

/*
 * Dimensions of the indexed column, checked against what an index holds
 */
int
IvfIndexDims(Relation index)
{
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (dims < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with its dimensions, for example vector(384).")));
	if (dims > IVF_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for ivfflat index", IVF_MAX_DIM),
				 errhint("Use an hnsw index for vectors of more dimensions.")));
	return dims;
}

/*
 * Initialise a page with our special space
 */
void
IvfInitPage(Page page, uint16 flags)
{
	IvfPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfPageOpaqueData));
	opaque = IvfPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = IVF_PAGE_ID;
}

/*
 * Error unless a page is one of ours, of the expected kind (0: any)
 */
void
IvfCheckPage(Relation index, Page page, BlockNumber blkno, uint16 flags)
{
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)) ||
		IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID ||
		(flags != 0 && IvfPageGetOpaque(page)->flags != flags))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains unexpected page at block %u",
						RelationGetRelationName(index), blkno),
				 errhint("Please REINDEX it.")));
}

/*
 * Copy the metapage, checking that it is an ivfflat index we can read
 */
void
IvfGetMeta(Relation index, IvfMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	IvfCheckPage(index, page, IVF_METAPAGE_BLKNO, IVF_PAGE_META);
	*meta = *IvfPageGetMeta(page);
	UnlockReleaseBuffer(buf);

	if (meta->magic != IVF_MAGIC_NUMBER)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an ivfflat index", RelationGetRelationName(index))));
	if (meta->version != IVF_VERSION && meta->version != IVF_VERSION_QUANT)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has ivfflat format version %u, expected %u or %u",
						RelationGetRelationName(index), meta->version, IVF_VERSION, IVF_VERSION_QUANT),
				 errhint("Please REINDEX it.")));
	/* version 1: the quantizer field was reserved (zero), no parameter pages */
	if (meta->version == IVF_VERSION)
		meta->paramPages = 0;
	if ((meta->version == IVF_VERSION) != (meta->quantizer == IVF_QUANTIZER_NONE) ||
		meta->quantizer > IVF_QUANTIZER_SQ8 ||
		(int) meta->paramPages != IvfParamPages(meta->quantizer, meta->dims))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an invalid metapage (version %u, quantizer %u, %u parameter pages)",
						RelationGetRelationName(index), meta->version, meta->quantizer, meta->paramPages),
				 errhint("Please REINDEX it.")));
	if (meta->lists < 1 || meta->lists > IVF_MAX_LISTS || meta->dims < 1 || meta->dims > IVF_MAX_DIM ||
		meta->listPages < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an invalid metapage (%u lists of %u dimensions on %u pages)",
						RelationGetRelationName(index), meta->lists, meta->dims, meta->listPages),
				 errhint("Please REINDEX it.")));
}

/*
 * Read every list: centroids and entry page pointers, in list order.  The
 * result (and the centroids) is palloc'd in the current memory context.
 */
IvfList *
IvfReadLists(Relation index, const IvfMetaPageData *meta)
{
	IvfList    *lists = palloc(sizeof(IvfList) * meta->lists);
	float	   *centroids = palloc(sizeof(float) * meta->lists * meta->dims);
	uint32		n = 0;

	for (BlockNumber blkno = IVF_FIRST_LIST_BLKNO; n < meta->lists; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;

		if (blkno > meta->listPages)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has %u lists, expected %u",
							RelationGetRelationName(index), n, meta->lists),
					 errhint("Please REINDEX it.")));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfCheckPage(index, page, blkno, IVF_PAGE_LIST);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && n < meta->lists; off = OffsetNumberNext(off))
		{
			IvfListTuple ltup = (IvfListTuple) PageGetItem(page, PageGetItemId(page, off));
			IvfList    *l = &lists[n];

			ItemPointerSet(&l->tid, blkno, off);
			l->startBlkno = ltup->startBlkno;
			l->insertBlkno = ltup->insertBlkno;
			l->centroid = centroids + (Size) n * meta->dims;
			memcpy(l->centroid, ltup->centroid, sizeof(float) * meta->dims);
			n++;
		}
		UnlockReleaseBuffer(buf);
	}
	return lists;
}

/*
 * The metapage and the lists of an index, cached in its relcache entry
 * (rd_amcache) across scans and inserts: centroids, list tuple positions
 * and first pages never change after a build, and a new build (REINDEX,
 * TRUNCATE) means a new relfilenode, which the cache is checked against
 * (and a relcache invalidation, which frees it)
 */
IvfCache *
IvfGetCache(Relation index)
{
	IvfCache *cache = index->rd_amcache;

	if (cache == NULL || cache->relNode != index->rd_node.relNode)
	{
		IvfMetaPageData meta;
		IvfList    *lists;
		Size		listsOff = MAXALIGN(sizeof(IvfCache));
		Size		centroidsOff;
		Size		paramsOff;
		float	   *centroids;
		float	   *params;
		IvfQuantizer quant;

		IvfGetMeta(index, &meta);
		lists = IvfReadLists(index, &meta);
		params = meta.quantizer != IVF_QUANTIZER_NONE ? palloc(sizeof(float) * 2 * meta.dims) : NULL;
		IvfReadQuantizer(index, &meta, &quant, params);

		/*
		 * One chunk, so that the pfree of rd_amcache by a relcache
		 * invalidation frees it all
		 */
		centroidsOff = listsOff + MAXALIGN(sizeof(IvfList) * meta.lists);
		paramsOff = centroidsOff + MAXALIGN(sizeof(float) * meta.dims * meta.lists);
		if (cache != NULL)
		{
			pfree(cache);
			index->rd_amcache = NULL;
		}
		cache = MemoryContextAlloc(index->rd_indexcxt,
								   paramsOff + (params ? sizeof(float) * 2 * meta.dims : 0));
		cache->relNode = index->rd_node.relNode;
		cache->meta = meta;
		cache->quant = quant;
		if (params)
		{
			cache->quant.lo = (float *) ((char *) cache + paramsOff);
			cache->quant.step = cache->quant.lo + meta.dims;
			memcpy(cache->quant.lo, params, sizeof(float) * 2 * meta.dims);
			pfree(params);
		}
		cache->lists = (IvfList *) ((char *) cache + listsOff);
		centroids = (float *) ((char *) cache + centroidsOff);
		for (uint32 i = 0; i < meta.lists; i++)
		{
			cache->lists[i] = lists[i];
			cache->lists[i].centroid = centroids + (Size) i * meta.dims;
			memcpy(cache->lists[i].centroid, lists[i].centroid, sizeof(float) * meta.dims);
		}
		pfree(lists[0].centroid);
		pfree(lists);
		index->rd_amcache = cache;
	}
	return cache;
}

/*
 * Scale a vector to unit length (a zero vector stays zero)
 */
void
IvfNormalize(float *x, int dims)
{
	double		norm = VectorNorm(dims, x);

	if (norm > 0)
		for (int i = 0; i < dims; i++)
			x[i] = (float) (x[i] / norm);
}
