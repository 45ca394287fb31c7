/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *		VACUUM for hnsw indexes.
 *
 * ambulkdelete walks every data page and marks the elements whose heap
 * rows are dead as deleted, clearing their heap pointer.  Deleted elements
 * stay in the graph as stepping stones, so the graph stays connected, but
 * scans never return them and inserts never link to them.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswvacuum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"

/*
 * Mark the dead elements of one page; returns the number of live ones
 */
static double
vacuum_page(Relation index, Buffer buf, IndexBulkDeleteCallback callback,
			void *callback_state, IndexBulkDeleteResult *stats)
{
	GenericXLogState *state;
	Page		page;
	OffsetNumber maxoff;
	double		live = 0;
	bool		changed = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		itemid = PageGetItemId(page, off);
		HnswElementTuple etup;

		if (!ItemIdIsNormal(itemid))
			continue;
		etup = (HnswElementTuple) PageGetItem(page, itemid);
		if (etup->type != HNSW_ELEMENT_TUPLE || etup->deleted)
			continue;
		if (callback(&etup->heaptid, callback_state))
		{
			etup->deleted = 1;
			ItemPointerSetInvalid(&etup->heaptid);
			stats->tuples_removed++;
			changed = true;
		}
		else
			live++;
	}
	if (changed)
		GenericXLogFinish(state);
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
	return live;
}

/*
 * Remove index entries of dead heap rows
 */
IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	double		live = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		live += vacuum_page(index, buf, callback, callback_state, stats);
	}
	stats->num_pages = nblocks;
	stats->num_index_tuples = live;
	return stats;
}

/*
 * Report statistics after VACUUM (counting live elements if bulkdelete
 * did not run)
 */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only)
		return stats;
	if (stats != NULL)
		return stats;

	stats = palloc0(sizeof(IndexBulkDeleteResult));
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		Page		page;
		OffsetNumber maxoff;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		itemid = PageGetItemId(page, off);
			HnswElementTuple etup;

			if (!ItemIdIsNormal(itemid))
				continue;
			etup = (HnswElementTuple) PageGetItem(page, itemid);
			if (etup->type == HNSW_ELEMENT_TUPLE && !etup->deleted)
				stats->num_index_tuples++;
		}
		UnlockReleaseBuffer(buf);
	}
	stats->num_pages = nblocks;
	return stats;
}
