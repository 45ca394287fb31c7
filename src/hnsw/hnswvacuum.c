/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *		VACUUM for hnsw indexes.
 *
 * ambulkdelete walks every data page and marks the elements whose heap
 * rows are dead as deleted, clearing their heap pointer.  Deleted elements
 * stay in the graph as stepping stones for a while, so the graph stays
 * connected, but scans never return them and inserts never link to them.
 * A second pass repairs the graph: every live element whose lists point at
 * an element deleted in this pass gets new lists, chosen (Algorithm 4,
 * full lists) among its live neighbours and the deleted neighbours'
 * neighbours, so search quality stays at the level of a fresh build.
 *
 * amvacuumcleanup then frees the deleted elements that no live list
 * points at any more: their items become HNSW_FREE_TUPLE, which inserts
 * reuse, and their pages go into the free space map.  Lists that still
 * point at a deleted element (a concurrent insert changed one while it
 * was repaired) are repaired again, and that element is freed by a later
 * VACUUM.  README, "Vacuum", has the state machine and why a scan that
 * still holds a freed element's item pointer is safe.
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
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"
#include "hnswpart.h"

/* Flag of a deleted element in the set of a vacuum: a live list points at it */
#define HNSW_VACUUM_LINKED	0x01

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
		HnswElementTuple etup = HnswPageItemOfType(page, off, HNSW_ELEMENT_TUPLE);

		if (etup == NULL || etup->deleted)
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
	/*
	 * If a concurrent insert changed the list, it is left as it is: it may
	 * still point at a deleted element, which amvacuumcleanup then finds
	 * and does not free
	 */
	HnswWriteSlots(s, tid, level, old, list, nslots);

done:
	/* a page's elements are repaired in one memory context: free as we go */
	pfree(seen.entries);
	pfree(hop);
	pfree(list);
	pfree(cands);
}

/*
 * Does the element on a locked page hold lists that the graph uses?  Live
 * elements do, and so does the entry point even when it is deleted: every
 * search starts there, so its lists are kept repaired and it is never freed
 * (it stays until an insert draws a higher level).
 */
static inline bool
lists_in_use(HnswElementTuple etup, BlockNumber blkno, OffsetNumber off, HnswMetaPageData *meta)
{
	if (etup->type != HNSW_ELEMENT_TUPLE)
		return false;
	return !etup->deleted || (blkno == meta->entryBlkno && off == meta->entryOffno);
}

/*
 * Which levels of an element's lists point at an element of deleted (a bit
 * per level); each such element is flagged HNSW_VACUUM_LINKED in deleted
 */
static uint32
levels_to_repair(HnswElementTuple etup, HnswMetaPageData *meta, HnswVisited *deleted)
{
	ItemPointer slots = HnswElementNeighbors(etup, meta->dims, meta->vecChunks);
	uint32		mask = 0;

	for (int level = 0; level <= etup->level; level++)
	{
		int			start = level == 0 ? 0 : HnswTotalSlots(meta->m, level - 1);

		for (int i = 0; i < HnswLevelSlots(meta->m, level); i++)
		{
			ItemPointer t = &slots[start + i];
			HnswVisitedEntry *e;
			bool		found;

			if (!ItemPointerIsValid(t) || !HnswVisitedContains(deleted, t))
				continue;
			e = HnswVisitedAdd(deleted, t, &found);
			e->flags |= HNSW_VACUUM_LINKED;
			mask |= (uint32) 1 << level;
		}
	}
	return mask;
}

/*
 * Repair the lists in use on one page (live elements, and the entry point)
 * that point at elements of deleted, which are flagged HNSW_VACUUM_LINKED.
 * Only those lists' elements have their vectors read.
 */
static void
repair_page(Relation index, BlockNumber blkno, HnswMetaPageData *meta, HnswDistance *dist,
			HnswVisited *deleted, BufferAccessStrategy strategy)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	Page		page;
	OffsetNumber maxoff;
	int			nrepair = 0;
	OffsetNumber *offs;
	uint32	   *masks;
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
	masks = palloc(sizeof(uint32) * (maxoff + 1));
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		itemid = PageGetItemId(page, off);
		HnswElementTuple etup;
		uint32		mask;

		if (!ItemIdIsNormal(itemid))
			continue;
		etup = (HnswElementTuple) PageGetItem(page, itemid);
		if (!lists_in_use(etup, blkno, off, meta))
			continue;
		mask = levels_to_repair(etup, meta, deleted);
		if (mask == 0)
			continue;
		masks[nrepair] = mask;
		offs[nrepair++] = off;
	}
	UnlockReleaseBuffer(buf);

	for (int i = 0; i < nrepair; i++)
	{
		ItemPointerData tid;
		HnswSearch	s;

		ItemPointerSet(&tid, blkno, offs[i]);
		HnswSearchBegin(&s, index, dist, meta, vec, 1);
		for (int level = 0; level <= HNSW_MAX_LEVEL; level++)
		{
			if (!(masks[i] & ((uint32) 1 << level)))
				continue;
			if (!HnswReadSlots(&s, &tid, level, old, vec))
				break;
			repair_level(&s, &tid, level, old, deleted);
		}
		HnswSearchEnd(&s);
	}
}

/*
 * Repair, page by page, every list in use that points at an element of
 * deleted
 */
static void
repair_pages(Relation index, BlockNumber nblocks, HnswVisited *deleted,
			 BufferAccessStrategy strategy, MemoryContext ctx)
{
	MemoryContext pageCtx = AllocSetContextCreate(ctx, "hnsw vacuum page", ALLOCSET_DEFAULT_SIZES);
	HnswMetaPageData meta;
	HnswDistance dist;

	HnswGetMeta(index, &meta);
	HnswInitDistance(index, &dist);
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		MemoryContext oldCtx;

		vacuum_delay_point();
		oldCtx = MemoryContextSwitchTo(pageCtx);
		repair_page(index, blkno, &meta, &dist, deleted, strategy);
		MemoryContextSwitchTo(oldCtx);
		MemoryContextReset(pageCtx);
	}
	MemoryContextDelete(pageCtx);
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
		repair_pages(index, nblocks, &deleted, info->strategy, ctx);

	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);

	/* filter key columns: mark partition entries of dead rows (hnswpart.c) */
	HnswPartBulkDelete(info, stats, callback, callback_state);

	stats->num_pages = nblocks;
	stats->num_index_tuples = live;
	return stats;
}

/*
 * What the cleanup scan found: the deleted elements (in block order, and
 * in a set for lookups) and the live elements
 */
typedef struct CleanupScan
{
	ItemPointerData *deleted;
	int64		ndeleted;
	int64		cap;
	HnswVisited set;
	double		live;
	BlockNumber recorded;		/* pages recorded in the free space map */
} CleanupScan;

/*
 * Tell the free space map how big the free items of a page are (see
 * HnswFreeSpaceValue).  The map is only a hint: it is not WAL-logged, a
 * crash may lose it and a promoted standby's is stale, so every VACUUM
 * records every page with free items again.
 */
static void
record_free_level(Relation index, BlockNumber blkno, int level, CleanupScan *cs)
{
	if (level < 0)
		return;
	RecordPageWithFreeSpace(index, blkno, HnswFreeSpaceValue(level));
	cs->recorded++;
}

/*
 * Cleanup pass 1 on a page: collect the deleted elements but the entry
 * point, count the live ones, and record the page's free items in the map
 */
static void
cleanup_scan_page(Relation index, BlockNumber blkno, HnswMetaPageData *meta, CleanupScan *cs,
				  BufferAccessStrategy strategy)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	Page		page;
	OffsetNumber maxoff;
	int			freeLevel;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = PageIsNew(page) ? InvalidOffsetNumber : PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		HnswElementTuple etup = HnswPageItemOfType(page, off, HNSW_ELEMENT_TUPLE);
		ItemPointerData tid;
		bool		found;

		if (etup == NULL)
			continue;
		if (!etup->deleted)
		{
			cs->live++;
			continue;
		}
		if (blkno == meta->entryBlkno && off == meta->entryOffno)
			continue;
		ItemPointerSet(&tid, blkno, off);
		if (cs->ndeleted == cs->cap)
		{
			cs->cap *= 2;
			cs->deleted = repalloc_huge(cs->deleted, sizeof(ItemPointerData) * cs->cap);
		}
		cs->deleted[cs->ndeleted++] = tid;
		HnswVisitedAdd(&cs->set, &tid, &found);
	}
	freeLevel = HnswPageFreeLevel(page);
	UnlockReleaseBuffer(buf);
	record_free_level(index, blkno, freeLevel, cs);
}

/*
 * Turn the deleted elements of one page that no list in use points at into
 * free items (one GenericXLog record).  Returns how many; *freeLevel is
 * what the free space map should say of the page now.
 */
static int
free_elements(Relation index, BlockNumber blkno, ItemPointerData *tids, int n,
			  HnswMetaPageData *meta, HnswVisited *set, BufferAccessStrategy strategy,
			  int *freeLevel)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	GenericXLogState *state;
	Page		page;
	int			nfreed = 0;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	for (int i = 0; i < n; i++)
	{
		OffsetNumber off = ItemPointerGetOffsetNumber(&tids[i]);
		ItemId		itemid = PageGetItemId(page, off);
		HnswElementTuple etup = (HnswElementTuple) PageGetItem(page, itemid);
		bool		found;
		int			level;

		if (HnswVisitedAdd(set, &tids[i], &found)->flags & HNSW_VACUUM_LINKED)
			continue;

		/*
		 * Only VACUUM marks or frees elements, and one VACUUM at a time runs
		 * on a table, so this is still the deleted element of pass 1
		 */
		if (!ItemIdIsNormal(itemid) || etup->type != HNSW_ELEMENT_TUPLE || !etup->deleted)
		{
			Assert(false);
			continue;
		}
		level = HnswItemLevel(ItemIdGetLength(itemid), meta->dims, meta->vecChunks, meta->m);
		if (level < etup->level)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has an element (%u,%u) of level %d in an item of %u bytes",
							RelationGetRelationName(index), blkno, off, etup->level,
							ItemIdGetLength(itemid)),
					 errhint("Please REINDEX it.")));
		etup->type = HNSW_FREE_TUPLE;
		etup->level = level;
		nfreed++;
	}
	*freeLevel = HnswPageFreeLevel(page);
	if (nfreed > 0)
		GenericXLogFinish(state);
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
	return nfreed;
}

/*
 * Cleanup pass 3: free the deleted elements that no list in use points at,
 * a page at a time, and record those pages in the free space map
 */
static int64
free_unlinked(Relation index, CleanupScan *cs, HnswMetaPageData *meta, BufferAccessStrategy strategy)
{
	int64		nfreed = 0;
	int64		i = 0;

	while (i < cs->ndeleted)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&cs->deleted[i]);
		int64		j = i;
		int			n;
		int			freeLevel;

		while (j < cs->ndeleted && ItemPointerGetBlockNumber(&cs->deleted[j]) == blkno)
			j++;
		vacuum_delay_point();
		n = free_elements(index, blkno, &cs->deleted[i], (int) (j - i), meta, &cs->set, strategy,
						  &freeLevel);
		if (n > 0)
			record_free_level(index, blkno, freeLevel, cs);
		nfreed += n;
		i = j;
	}
	return nfreed;
}

/*
 * Free the deleted elements nothing links to any more (see the file
 * header), put every page with free items into the free space map, and
 * count the live elements
 */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;
	HnswMetaPageData meta;
	CleanupScan cs;
	MemoryContext ctx;
	MemoryContext oldCtx;
	int64		nfreed = 0;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	nblocks = RelationGetNumberOfBlocks(index);
	stats->num_pages = nblocks;
	if (nblocks <= HNSW_FIRST_DATA_BLKNO)
		return stats;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum cleanup", ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(ctx);
	memset(&cs, 0, sizeof(cs));
	cs.cap = 1024;
	cs.deleted = palloc(sizeof(ItemPointerData) * cs.cap);
	HnswVisitedInit(&cs.set, 1024);

	/*
	 * Pass 1.  The entry point is read first: it may only move to a new
	 * (live) element meanwhile, so a deleted entry point is never freed.
	 */
	HnswGetMeta(index, &meta);
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		vacuum_delay_point();
		cleanup_scan_page(index, blkno, &meta, &cs, info->strategy);
	}

	if (cs.ndeleted > 0)
	{
		/*
		 * Wait for the inserts under way: one of them may have read an
		 * element of the set before it was marked deleted and be about to
		 * link to it.  Inserts that start later see the mark, and no insert
		 * ever adds a link to a deleted element (but to the entry point,
		 * which is not in the set), so a list in use seen below without a
		 * link to an element of the set never gets one: a link back only
		 * writes a list it read, if it is unchanged.
		 */
		LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);

		/*
		 * Pass 2: flag what lists in use still point at, and repair them.
		 * It reads the pages of the index as it is now: an insert that
		 * linked to an element of the set may have appended its own since
		 * pass 1.
		 */
		nblocks = RelationGetNumberOfBlocks(index);
		repair_pages(index, nblocks, &cs.set, info->strategy, ctx);

		/* pass 3: what no list points at becomes free */
		nfreed = free_unlinked(index, &cs, &meta, info->strategy);
	}

	/* the upper levels of the map, so that searches of it see the pages */
	if (cs.recorded > 0)
		FreeSpaceMapVacuum(index);

	ereport(DEBUG1,
			(errmsg_internal("hnsw vacuum of \"%s\": %.0f live elements, " INT64_FORMAT " deleted, " INT64_FORMAT " freed, %u free space map updates",
							 RelationGetRelationName(index), cs.live, cs.ndeleted, nfreed, cs.recorded)));
	stats->num_index_tuples = cs.live;
	stats->estimated_count = false;
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);
	return stats;
}
