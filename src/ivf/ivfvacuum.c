/*-------------------------------------------------------------------------
 *
 * ivfvacuum.c
 *		VACUUM for ivfflat indexes.
 *
 * ambulkdelete walks every list's chain of entry pages and removes the
 * entries whose heap rows are dead (PageIndexMultiDelete compacts the
 * page), one GenericXLog record per page changed.  Pages are never
 * removed from a chain; the first page of a chain with room for an entry
 * becomes the list's insertBlkno, so that inserts fill the room again.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfvacuum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "ivf.h"

/*
 * Remove the dead entries of one page; returns the number of live ones.
 * *room says whether an entry fits on the page afterwards.
 */
static double
vacuum_page(Relation index, Buffer buf, IndexBulkDeleteCallback callback,
			void *callback_state, IndexBulkDeleteResult *stats, Size etupSize,
			BlockNumber *next, bool *room)
{
	GenericXLogState *state;
	Page		page;
	OffsetNumber maxoff;
	OffsetNumber dead[MaxIndexTuplesPerPage];
	int			ndead = 0;
	double		live = 0;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	IvfCheckPage(index, page, BufferGetBlockNumber(buf), IVF_PAGE_ENTRY);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		itemid = PageGetItemId(page, off);
		ItemPointer heaptid;

		if (!ItemIdIsNormal(itemid))
			continue;
		/* the heap pointer comes first in every list format */
		heaptid = (ItemPointer) PageGetItem(page, itemid);
		if (callback(heaptid, callback_state))
			dead[ndead++] = off;
		else
			live++;
	}
	if (ndead > 0)
	{
		PageIndexMultiDelete(page, dead, ndead);
		stats->tuples_removed += ndead;
		GenericXLogFinish(state);
	}
	else
		GenericXLogAbort(state);
	page = BufferGetPage(buf);
	*next = IvfPageGetOpaque(page)->nextblkno;
	*room = PageGetFreeSpace(page) >= etupSize;
	UnlockReleaseBuffer(buf);
	return live;
}

/*
 * Point a list's insertBlkno at an earlier page that has room again
 */
static void
update_insert_page(Relation index, IvfList *list, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(&list->tid));
	GenericXLogState *state;
	Page		page;
	IvfListTuple ltup;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	ltup = (IvfListTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&list->tid)));
	/* any page of the chain will do: inserts follow the chain from there */
	ltup->insertBlkno = blkno;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Remove the entries of dead heap rows (ambulkdelete)
 */
IndexBulkDeleteResult *
ivfflatbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	IvfMetaPageData meta;
	IvfList    *lists;
	MemoryContext ctx;
	MemoryContext oldCtx;
	double		live = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat vacuum", ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(ctx);
	IvfGetMeta(index, &meta);
	lists = IvfReadLists(index, &meta);
	for (uint32 i = 0; i < meta.lists; i++)
	{
		BlockNumber blkno = lists[i].startBlkno;
		BlockNumber firstRoom = InvalidBlockNumber;
		bool		pastInsert = false;

		while (BlockNumberIsValid(blkno))
		{
			Buffer		buf;
			BlockNumber next;
			bool		room;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			live += vacuum_page(index, buf, callback, callback_state, stats,
								IvfEntrySize(meta.quantizer, meta.dims), &next, &room);
			if (blkno == lists[i].insertBlkno)
				pastInsert = true;
			else if (room && !pastInsert && !BlockNumberIsValid(firstRoom))
				firstRoom = blkno;
			blkno = next;
		}
		if (BlockNumberIsValid(firstRoom))
			update_insert_page(index, &lists[i], firstRoom);
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->num_index_tuples = live;
	return stats;
}

/*
 * Report statistics after VACUUM (counting entries if bulkdelete did not
 * run)
 */
IndexBulkDeleteResult *
ivfflatvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	IvfMetaPageData meta;
	IvfList    *lists;

	if (info->analyze_only)
		return stats;
	if (stats != NULL)
		return stats;

	stats = palloc0(sizeof(IndexBulkDeleteResult));
	IvfGetMeta(index, &meta);
	lists = IvfReadLists(index, &meta);
	for (uint32 i = 0; i < meta.lists; i++)
	{
		BlockNumber blkno = lists[i].startBlkno;

		while (BlockNumberIsValid(blkno))
		{
			Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			Page		page;

			vacuum_delay_point();
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			IvfCheckPage(index, page, blkno, IVF_PAGE_ENTRY);
			stats->num_index_tuples += PageGetMaxOffsetNumber(page);
			blkno = IvfPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
		}
	}
	pfree(lists);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}
