/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *		VACUUM for hnsw indexes.
 *
 * ambulkdelete walks every data page and marks the elements whose heap
 * rows are dead as deleted, clearing their heap pointer.  Deleted elements
 * stay in the graph as stepping stones, so the graph stays connected, but
 * scans never return them and inserts never link to them.  A second pass
 * repairs the graph: every live element whose lists point at an element
 * deleted in this pass gets new lists, chosen (Algorithm 4, full lists)
 * among its live neighbours and the deleted neighbours' neighbours, so
 * search quality stays at the level of a fresh build.
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
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"
#include "hnswpart.h"

/*
 * Mark the dead elements of one page; returns the number of live ones
 */
static double
vacuum_page(Relation index, Buffer buf, IndexBulkDeleteCallback callback,
			void *callback_state, IndexBulkDeleteResult *stats, HnswVisited *deleted)
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
			ItemPointerData tid;
			bool		found;

			ItemPointerSet(&tid, BufferGetBlockNumber(buf), off);
			HnswVisitedAdd(deleted, &tid, &found);
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
 * New lists at one level for the live element at tid whose current lists
 * point at elements in deleted
 */
static void
repair_level(HnswSearch *s, ItemPointer tid, int level, ItemPointer old, HnswVisited *deleted)
{
	int			nslots = HnswLevelSlots(s->m, level);
	HnswCandidate *cands = palloc(sizeof(HnswCandidate) * (nslots + nslots * nslots));
	ItemPointerData *list = palloc(sizeof(ItemPointerData) * nslots);
	ItemPointerData *hop = palloc(sizeof(ItemPointerData) * nslots);
	HnswVisited seen;
	int			n = 0;
	int			nsel;
	bool		any = false;

	HnswVisitedInit(&seen, nslots * (nslots + 1));
	HnswVisitedAdd(&seen, tid, &any);
	any = false;
	for (int i = 0; i < nslots; i++)
	{
		bool		found;

		if (!ItemPointerIsValid(&old[i]))
			continue;
		if (HnswVisitedContains(deleted, &old[i]))
		{
			/* the deleted neighbour's own neighbours become candidates */
			int			nh = HnswReadNeighbors(s, &old[i], level, hop);

			any = true;
			for (int j = 0; j < nh; j++)
			{
				HnswVisitedAdd(&seen, &hop[j], &found);
				if (!found)
					cands[n++].tid = hop[j];
			}
		}
		else
		{
			HnswVisitedAdd(&seen, &old[i], &found);
			if (!found)
				cands[n++].tid = old[i];
		}
	}
	if (!any)
		goto done;

	/* distances from this element; drop what is gone or deleted */
	{
		int			live = 0;

		for (int i = 0; i < n; i++)
		{
			bool		isdel;

			if (HnswVisitedContains(deleted, &cands[i].tid) || !HnswReadDistance(s, &cands[i].tid, &cands[i].dist, &isdel) || isdel)
				continue;
			cands[live++] = cands[i];
		}
		n = live;
	}
	qsort(cands, n, sizeof(HnswCandidate), HnswCandidateCmp);
	nsel = HnswSelectOnDisk(s, cands, n, nslots);
	for (int i = 0; i < nslots; i++)
	{
		if (i < nsel)
			list[i] = cands[i].tid;
		else
			ItemPointerSetInvalid(&list[i]);
	}
	/* a concurrent insert changed the list: leave it, it holds live links */
	HnswWriteSlots(s, tid, level, old, list, nslots);

done:
	/* a page's elements are repaired in one memory context: free as we go */
	pfree(seen.entries);
	pfree(hop);
	pfree(list);
	pfree(cands);
}

/*
 * Repair the lists of the live elements on one page
 */
static void
repair_page(Relation index, BlockNumber blkno, HnswMetaPageData *meta, HnswDistance *dist,
			HnswVisited *deleted, BufferAccessStrategy strategy)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	Page		page;
	OffsetNumber maxoff;
	int			nlive = 0;
	OffsetNumber *offs;
	uint8	   *levels;
	float	   *vec = palloc(sizeof(float) * meta->dims);
	ItemPointerData *old = palloc(sizeof(ItemPointerData) * 2 * meta->m);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (PageIsNew(page))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	maxoff = PageGetMaxOffsetNumber(page);
	offs = palloc(sizeof(OffsetNumber) * (maxoff + 1));
	levels = palloc(maxoff + 1);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		itemid = PageGetItemId(page, off);
		HnswElementTuple etup;

		if (!ItemIdIsNormal(itemid))
			continue;
		etup = (HnswElementTuple) PageGetItem(page, itemid);
		if (etup->type != HNSW_ELEMENT_TUPLE || etup->deleted)
			continue;
		levels[nlive] = etup->level;
		offs[nlive++] = off;
	}
	UnlockReleaseBuffer(buf);

	for (int i = 0; i < nlive; i++)
	{
		ItemPointerData tid;
		HnswSearch	s;

		ItemPointerSet(&tid, blkno, offs[i]);
		HnswSearchBegin(&s, index, dist, meta, vec, 1);
		for (int level = 0; level <= levels[i]; level++)
		{
			if (!HnswReadSlots(&s, &tid, level, old, vec))
				break;
			repair_level(&s, &tid, level, old, deleted);
		}
		HnswSearchEnd(&s);
	}
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
	HnswVisited deleted;
	MemoryContext ctx;
	MemoryContext oldCtx;
	HnswMetaPageData meta;
	HnswDistance dist;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	if (nblocks <= HNSW_FIRST_DATA_BLKNO)
		return stats;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(ctx);
	HnswVisitedInit(&deleted, 1024);

	/* pass 1: mark */
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		live += vacuum_page(index, buf, callback, callback_state, stats, &deleted);
	}

	/* pass 2: repair the lists that pointed at what was marked */
	if (deleted.n > 0)
	{
		MemoryContext pageCtx = AllocSetContextCreate(ctx, "hnsw vacuum page", ALLOCSET_DEFAULT_SIZES);

		HnswGetMeta(index, &meta);
		HnswInitDistance(index, &dist);
		for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
		{
			vacuum_delay_point();
			MemoryContextSwitchTo(pageCtx);
			repair_page(index, blkno, &meta, &dist, &deleted, info->strategy);
			MemoryContextSwitchTo(ctx);
			MemoryContextReset(pageCtx);
		}
	}

	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);

	/* filter key columns: mark partition entries of dead rows (hnswpart.c) */
	HnswPartBulkDelete(info, stats, callback, callback_state);

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
