/*-------------------------------------------------------------------------
 *
 * ivfinsert.c
 *		Insert a row into an ivfflat index: its vector goes to the list
 *		of the nearest centroid.
 *
 * The list's insertBlkno is where the search for room starts; the chain
 * is followed from there, and when its last page is full a new page is
 * added and chained in the same WAL record.  insertBlkno is then moved to
 * the new page in a record of its own, on the list page alone: it is only
 * a hint (inserts always follow the chain to its end), so a crash between
 * the two records leaves a correct index.  See README for the lock order.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfinsert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

/*
 * Point a list's insertBlkno at a block
 */
static void
set_insert_page(Relation index, ItemPointer listTid, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(listTid));
	GenericXLogState *state;
	Page		page;
	IvfListTuple ltup;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	IvfCheckPage(index, page, ItemPointerGetBlockNumber(listTid), IVF_PAGE_LIST);
	ltup = (IvfListTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(listTid)));
	if (ltup->insertBlkno != blkno)
	{
		ltup->insertBlkno = blkno;
		GenericXLogFinish(state);
	}
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Add an entry of sz bytes to a list: on the first page from insertBlkno
 * on with room, or on a new page at the end of the chain
 */
void
IvfAddEntry(Relation index, IvfList *list, void *etup, Size sz)
{
	BlockNumber blkno = list->insertBlkno;

	for (;;)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		GenericXLogState *state;
		Page		page;
		BlockNumber next;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		IvfCheckPage(index, page, blkno, IVF_PAGE_ENTRY);
		if (PageGetFreeSpace(page) >= sz)
		{
			if (PageAddItem(page, (Item) etup, sz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
				elog(ERROR, "ivfflat insert: failed to add entry to index \"%s\"", RelationGetRelationName(index));
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			return;
		}
		next = IvfPageGetOpaque(page)->nextblkno;
		if (BlockNumberIsValid(next))
		{
			GenericXLogAbort(state);
			UnlockReleaseBuffer(buf);
			blkno = next;
			continue;
		}

		/* the end of the chain is full: a new page, chained in one record */
		{
			Buffer		newbuf = HnswNewBuffer(index, MAIN_FORKNUM);
			Page		newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
			BlockNumber newblk = BufferGetBlockNumber(newbuf);

			IvfInitPage(newpage, IVF_PAGE_ENTRY);
			if (PageAddItem(newpage, (Item) etup, sz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
				elog(ERROR, "ivfflat insert: failed to add entry to index \"%s\"", RelationGetRelationName(index));
			IvfPageGetOpaque(page)->nextblkno = newblk;
			GenericXLogFinish(state);
			UnlockReleaseBuffer(newbuf);
			UnlockReleaseBuffer(buf);
			set_insert_page(index, &list->tid, newblk);
			return;
		}
	}
}

/*
 * Insert one vector
 */
static void
insert_tuple(Relation index, Datum value, ItemPointer heaptid)
{
	IvfMetaPageData meta = IvfGetCache(index)->meta;
	HnswDistance dist;
	IvfCache   *cache;
	IvfList		list;
	float	   *x;
	void	   *etup;
	Size		sz;
	int			best;
	Buffer		buf;
	Page		page;

	HnswInitDistance(index, &dist);
	sz = IvfEntrySize(meta.quantizer, meta.dims);
	etup = palloc0(sz);
	x = palloc(sizeof(float) * meta.dims);
	if (!HnswPrepareVector(&dist, index, value, x, meta.dims))
		return;					/* no direction under cosine: not indexed */

	/*
	 * The nearest centroid, by L2 as in the build (ivfkmeans.c), and the
	 * entry in the index's format (codes from the build's parameters).
	 * The cache is fetched again: detoasting may have freed it.
	 */
	cache = IvfGetCache(index);
	best = IvfNearestCenter(x, cache->lists[0].centroid, cache->meta.lists, meta.dims);
	IvfFormEntry(&cache->quant, x, heaptid, etup);
	list = cache->lists[best];
	list.centroid = NULL;

	/* the list's current insert page */
	buf = ReadBuffer(index, ItemPointerGetBlockNumber(&list.tid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	IvfCheckPage(index, page, ItemPointerGetBlockNumber(&list.tid), IVF_PAGE_LIST);
	list.insertBlkno = ((IvfListTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&list.tid))))->insertBlkno;
	UnlockReleaseBuffer(buf);

	IvfAddEntry(index, &list, etup, sz);
}

/*
 * Insert a heap row's vector (aminsert)
 */
bool
ivfflatinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			  Relation heap, IndexUniqueCheck checkUnique,
			  bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext oldCtx;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert", ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(ctx);
	insert_tuple(index, values[0], heap_tid);
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);
	return false;
}
