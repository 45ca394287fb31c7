/*-------------------------------------------------------------------------
 *
 * hnswinsert.c
 *		Insert one vector into an on-disk hnsw graph (aminsert).
 *
 * Steps, each with its own lock and WAL story (see README):
 *	1. take the update lock (share; exclusive if the entry point changes)
 *	2. search the graph for neighbours, page by page under share locks
 *	3. write the new element into a free item that VACUUM left (found
 *	   through the free space map), or else append it to the last page
 *	   (metapage lock first)
 *	4. link each neighbour back, one page at a time
 *	5. move the entry point when the new element is higher
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswinsert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"
#include "hnswpart.h"

/* Neighbours chosen for the new element at each level */
typedef struct InsertLinks
{
	int			n[HNSW_MAX_LEVEL + 1];
	HnswCandidate *c[HNSW_MAX_LEVEL + 1];
} InsertLinks;

/*
 * What the level-0 link backs of one insert saw: the elements they dropped
 * from a full list, and the elements the lists they wrote hold
 */
typedef struct DropLog
{
	int			ndropped;
	int			nkept;
	ItemPointerData *dropped;
	ItemPointerData *kept;
} DropLog;

/* Context for pairwise distances among loaded candidate vectors */
typedef struct PairCtx
{
	HnswDistance *dist;
	int			dims;
	float	   *vecs;			/* ncands x dims */
} PairCtx;

static float
pair_dist(void *ctx, int i, int j)
{
	PairCtx    *p = ctx;

	return (float) HnswDist(p->dist, p->dims, p->vecs + (Size) i * p->dims, p->vecs + (Size) j * p->dims);
}

/* Whether candidates i and j have the same vector */
static bool
pair_same(void *ctx, int i, int j)
{
	PairCtx    *p = ctx;

	return memcmp(p->vecs + (Size) i * p->dims, p->vecs + (Size) j * p->dims, sizeof(float) * p->dims) == 0;
}

/*
 * Heuristic selection among candidates sorted nearest first: loads their
 * vectors and keeps at most max.  Returns the number kept, compacting
 * cands in place.  Candidates whose element is gone are dropped.  Only
 * the nearest candidates whose vectors fit in HNSW_SELECT_MEM take part
 * (always at least max + 1, and at most what HnswSelectNeighbors takes):
 * that bounds an insert's or a vacuum's memory for 16,000-dimension
 * vectors without changing anything for small ones.
 */
int
HnswSelectOnDisk(HnswSearch *s, HnswCandidate *cands, int n, int max)
{
	PairCtx		ctx;
	float	   *dists;
	int		   *sel;
	int			live = 0;
	int			nsel;
	HnswCandidate *kept;
	Size		vecbytes = sizeof(float) * s->dims;
	int			limit = (int) Min((Size) HNSW_MAX_EF_CONSTRUCTION + 1,
								  Max((Size) max + 1, HNSW_SELECT_MEM / vecbytes));

	n = Min(n, limit);
	dists = palloc(sizeof(float) * Max(n, 1));
	sel = palloc(sizeof(int) * Max(n, 1));
	kept = palloc(sizeof(HnswCandidate) * Max(n, 1));
	ctx.dist = s->dist;
	ctx.dims = s->dims;
	ctx.vecs = palloc(vecbytes * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (!HnswReadVector(s, &cands[i].tid, ctx.vecs + (Size) live * s->dims))
			continue;
		cands[live] = cands[i];
		dists[live] = cands[i].dist;
		live++;
	}
	nsel = HnswSelectNeighbors(live, dists, max, true, pair_dist, pair_same, &ctx, sel);
	for (int i = 0; i < nsel; i++)
		kept[i] = cands[sel[i]];
	memcpy(cands, kept, sizeof(HnswCandidate) * nsel);
	pfree(ctx.vecs);
	pfree(kept);
	pfree(sel);
	pfree(dists);
	return nsel;
}

/*
 * Find the new element's neighbours at every level it has.  Only live
 * elements are chosen; at a level where the search finds none (every
 * element around is deleted), the new element links to the entry point,
 * the one deleted element a list may point at (VACUUM never frees it), so
 * that it is reachable.
 */
static void
find_links(HnswSearch *s, HnswMetaPageData *meta, int level, int efc, InsertLinks *links)
{
	HnswCandidate entry;
	HnswCandidate ep;
	HnswCandidate *eps = palloc(sizeof(HnswCandidate) * efc);
	int			neps;
	bool		deleted;
	bool		epsLive;

	memset(links, 0, sizeof(*links));
	ItemPointerSet(&entry.tid, meta->entryBlkno, meta->entryOffno);
	if (!HnswReadDistance(s, &entry.tid, &entry.dist, &deleted))
		elog(ERROR, "hnsw entry point (%u,%u) of index \"%s\" is missing",
			 meta->entryBlkno, meta->entryOffno, RelationGetRelationName(s->index));
	ep = entry;
	if (meta->entryLevel > level)
	{
		float		d;

		ep = HnswSearchGreedy(s, ep, meta->entryLevel, level + 1);
		/* the descent may end on a deleted element: it must not be a result */
		if (!ItemPointerEquals(&ep.tid, &entry.tid) && !HnswReadDistance(s, &ep.tid, &d, &deleted))
			deleted = true;
	}
	epsLive = !deleted;

	eps[0] = ep;
	neps = 1;
	for (int lc = Min(level, meta->entryLevel); lc >= 0; lc--)
	{
		HnswCandidate *w = palloc(sizeof(HnswCandidate) * efc);
		int			n = HnswSearchLayer(s, eps, neps, epsLive, efc, lc, w);

		if (n > 0)
		{
			memcpy(eps, w, sizeof(HnswCandidate) * n);
			neps = n;
			epsLive = true;
		}
		links->n[lc] = HnswSelectOnDisk(s, w, n, HnswNewLinks(s->m));
		if (links->n[lc] == 0)
		{
			w[0] = entry;
			links->n[lc] = 1;
		}
		links->c[lc] = w;
	}
}

/*
 * Appending items to the end of the index.  The metapage and the last page
 * stay exclusively locked from the first item to the last, so a vector's
 * chunks and its element go in one after the other.  Lock order: the
 * metapage, then the last page, then a new page (see README).
 */
typedef struct Appender
{
	Relation	index;
	Buffer		metabuf;
	Buffer		buf;			/* the last page, or InvalidBuffer if none */
} Appender;

/*
 * Lock the metapage and the last data page
 */
static void
appender_begin(Appender *ap, Relation index)
{
	BlockNumber last;

	ap->index = index;
	ap->metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(ap->metabuf, BUFFER_LOCK_EXCLUSIVE);
	last = HnswPageGetMeta(BufferGetPage(ap->metabuf))->lastBlkno;
	ap->buf = InvalidBuffer;
	if (BlockNumberIsValid(last))
	{
		ap->buf = ReadBuffer(index, last);
		LockBuffer(ap->buf, BUFFER_LOCK_EXCLUSIVE);
	}
}

/*
 * Room left on the last page for an item (PageGetFreeSpace), 0 if none
 */
static Size
appender_free(Appender *ap)
{
	return BufferIsValid(ap->buf) ? PageGetFreeSpace(BufferGetPage(ap->buf)) : 0;
}

/*
 * Add an item to the last page, or when it does not fit there to a new
 * page chained after it.  One GenericXLog record either way: a new page is
 * registered as a full image, together with the old page's link and the
 * metapage's lastBlkno.  Returns where the item went.
 */
static ItemPointerData
appender_add(Appender *ap, Item item, Size sz)
{
	GenericXLogState *state = GenericXLogStart(ap->index);
	Buffer		oldbuf = InvalidBuffer;
	Page		page;
	OffsetNumber off;
	ItemPointerData tid;

	if (appender_free(ap) >= MAXALIGN(sz))
		page = GenericXLogRegisterBuffer(state, ap->buf, 0);
	else
	{
		Buffer		newbuf = HnswNewBuffer(ap->index, MAIN_FORKNUM);
		BlockNumber newblk = BufferGetBlockNumber(newbuf);

		page = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
		HnswInitPage(page, HNSW_PAGE_DATA);
		if (BufferIsValid(ap->buf))
			HnswPageGetOpaque(GenericXLogRegisterBuffer(state, ap->buf, 0))->nextblkno = newblk;
		HnswPageGetMeta(GenericXLogRegisterBuffer(state, ap->metabuf, 0))->lastBlkno = newblk;
		oldbuf = ap->buf;
		ap->buf = newbuf;
	}
	off = PageAddItem(page, item, sz, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "failed to add item to index \"%s\"", RelationGetRelationName(ap->index));
	GenericXLogFinish(state);
	if (BufferIsValid(oldbuf))
		UnlockReleaseBuffer(oldbuf);
	ItemPointerSet(&tid, BufferGetBlockNumber(ap->buf), off);
	return tid;
}

/*
 * Release the last page and the metapage
 */
static void
appender_end(Appender *ap)
{
	if (BufferIsValid(ap->buf))
		UnlockReleaseBuffer(ap->buf);
	UnlockReleaseBuffer(ap->metabuf);
}

/*
 * Append a vector as chunks, each filling what the last page has left
 * (HnswChunkFloats) or else a new page, and write their item pointers to
 * chunks[0 .. vecChunks-1] (unused ones invalid).  One GenericXLog record
 * per chunk: a crash in between leaves chunks that no element points at,
 * which are harmless (verify_index counts them).
 */
static void
append_chunks(Appender *ap, const float *vec, int dims, int vecChunks, ItemPointer chunks)
{
	HnswVectorTuple ctup = palloc0(HNSW_MAX_ITEM_SIZE);
	int			pos = 0;
	int			n = 0;

	while (pos < dims)
	{
		int			count = HnswChunkFloats(appender_free(ap), dims - pos);

		/* too little room left: the chunk starts a new page */
		if (count == 0)
			count = HnswChunkFloats(HNSW_MAX_ITEM_SIZE, dims - pos);
		if (n >= vecChunks)
			elog(ERROR, "vector of index \"%s\" needs more than %d chunks",
				 RelationGetRelationName(ap->index), vecChunks);
		ctup->type = HNSW_VECTOR_TUPLE;
		ctup->count = count;
		ctup->start = pos;
		memcpy(ctup->x, vec + pos, sizeof(float) * count);
		chunks[n++] = appender_add(ap, (Item) ctup, HNSW_VECTOR_TUPLE_SIZE(count));
		pos += count;
	}
	for (; n < vecChunks; n++)
		ItemPointerSetInvalid(&chunks[n]);
	pfree(ctup);
}

/*
 * The slots of one level of an element tuple
 */
static inline ItemPointer
level_slots(HnswElementTuple etup, int dims, int vecChunks, int m, int level)
{
	return HnswElementNeighbors(etup, dims, vecChunks) + (level == 0 ? 0 : HnswTotalSlots(m, level - 1));
}

/*
 * Overwrite the slots of one level of the element at tid with list, if
 * they still hold expect (nslots items).  Returns false if they changed.
 */
bool
HnswWriteSlots(HnswSearch *s, ItemPointer tid, int level, ItemPointer expect, ItemPointer list,
			   int nslots)
{
	Buffer		buf = ReadBuffer(s->index, ItemPointerGetBlockNumber(tid));
	GenericXLogState *state;
	Page		page;
	ItemId		itemid;
	HnswElementTuple etup;
	ItemPointer slots;
	bool		ok = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(s->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	itemid = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
	etup = (HnswElementTuple) PageGetItem(page, itemid);
	if (ItemIdIsNormal(itemid) && etup->type == HNSW_ELEMENT_TUPLE && etup->level >= level)
	{
		slots = level_slots(etup, s->dims, s->vecChunks, s->m, level);
		if (memcmp(slots, expect, sizeof(ItemPointerData) * nslots) == 0)
		{
			memcpy(slots, list, sizeof(ItemPointerData) * nslots);
			ok = true;
		}
	}
	if (ok)
		GenericXLogFinish(state);
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * Read the slots of one level of the element at tid (all of them, valid
 * or not) and, unless vec is NULL, its vector; false if the element is gone
 */
bool
HnswReadSlots(HnswSearch *s, ItemPointer tid, int level, ItemPointer out, float *vec)
{
	Buffer		buf = ReadBuffer(s->index, ItemPointerGetBlockNumber(tid));
	Page		page;
	ItemId		itemid;
	HnswElementTuple etup;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (ItemPointerGetOffsetNumber(tid) <= PageGetMaxOffsetNumber(page))
	{
		itemid = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
		etup = (HnswElementTuple) PageGetItem(page, itemid);
		if (ItemIdIsNormal(itemid) && etup->type == HNSW_ELEMENT_TUPLE && etup->level >= level)
		{
			memcpy(out, level_slots(etup, s->dims, s->vecChunks, s->m, level),
				   sizeof(ItemPointerData) * HnswLevelSlots(s->m, level));
			if (vec != NULL)
				HnswCopyVector(s, buf, etup, vec);	/* unlocks */
			else
				LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			ReleaseBuffer(buf);
			return true;
		}
	}
	UnlockReleaseBuffer(buf);
	return false;
}

/*
 * Note in log the list a link back wrote, and which of the live elements
 * it chose among (cands, n of them) the list does not hold
 */
static void
log_link_back(DropLog *log, ItemPointer list, int nslots, HnswCandidate *cands, int n,
			  ItemPointer newtid)
{
	if (log == NULL)
		return;
	for (int i = 0; i < nslots; i++)
		if (ItemPointerIsValid(&list[i]))
			log->kept[log->nkept++] = list[i];
	for (int i = 0; i < n; i++)
	{
		bool		inList = ItemPointerEquals(&cands[i].tid, newtid);

		for (int j = 0; j < nslots && !inList; j++)
			inList = ItemPointerEquals(&cands[i].tid, &list[j]);
		if (!inList)
			log->dropped[log->ndropped++] = cands[i].tid;
	}
}

static bool
tid_in(ItemPointer tid, ItemPointer tids, int n)
{
	for (int i = 0; i < n; i++)
		if (ItemPointerEquals(tid, &tids[i]))
			return true;
	return false;
}

/*
 * Whether one of the level-0 neighbours of the element at tid links back
 * to it (nearest first: most often the first one does), other than
 * exclude.  Links are mostly mutual, so this finds an inbound link of an
 * element that has one for the price of a few pages; an element it finds
 * none for may still have one, from an element that is not its neighbour.
 * A link from an element that is itself at risk (in log as dropped and not
 * kept) does not count, and with depth > 0 nor does one from an element
 * whose only such link is from tid: two elements linked only to each
 * other would be out of reach together.
 */
static bool
has_mutual_link(HnswSearch *s, ItemPointer tid, ItemPointer exclude, int depth, DropLog *log)
{
	int			nslots = HnswLevelSlots(s->m, 0);
	ItemPointerData *out = palloc(sizeof(ItemPointerData) * nslots);
	ItemPointerData *back = palloc(sizeof(ItemPointerData) * nslots);
	bool		found = false;

	if (!HnswReadSlots(s, tid, 0, out, NULL))
		return true;			/* gone: nothing to rescue */
	for (int i = 0; i < nslots && !found; i++)
	{
		ItemPointer y = &out[i];
		bool		kept;

		if (!ItemPointerIsValid(y) || (exclude != NULL && ItemPointerEquals(y, exclude)))
			continue;
		kept = tid_in(y, log->kept, log->nkept);
		if (!kept && tid_in(y, log->dropped, log->ndropped))
			continue;
		if (!HnswReadSlots(s, y, 0, back, NULL) || !tid_in(tid, back, nslots))
			continue;
		found = kept || depth == 0 || has_mutual_link(s, y, tid, depth - 1, log);
	}
	pfree(out);
	pfree(back);
	return found;
}

/*
 * Give elements the link backs dropped a link from the new element, in its
 * free level-0 slots (it takes only m links, of 2m slots).  A dropped
 * element may have had its only inbound link in the list it was dropped
 * from, and then no search could reach it any more: without this, inserts
 * leave such orphans, most under the inner product, whose neighbour
 * selection favours long vectors over short ones.  Taken are the
 * elements that no list written by this insert's link backs still holds
 * and none of whose own neighbours links to (the others still have a
 * link), nearest to the new element first.  Links chosen this way, not by
 * the heuristic, cost a search time, so only elements at risk get one.
 */
static void
rescue_dropped(HnswSearch *s, ItemPointer newtid, DropLog *log)
{
	int			nslots = HnswLevelSlots(s->m, 0);
	ItemPointerData *old = palloc(sizeof(ItemPointerData) * nslots);
	ItemPointerData *list = palloc(sizeof(ItemPointerData) * nslots);
	HnswCandidate *risk = palloc(sizeof(HnswCandidate) * Max(log->ndropped, 1));
	int			nrisk = 0;

	for (int i = 0; i < log->ndropped; i++)
	{
		ItemPointer t = &log->dropped[i];
		bool		deleted;

		if (tid_in(t, log->kept, log->nkept) || tid_in(t, log->dropped, i) ||
			has_mutual_link(s, t, NULL, 1, log))
			continue;
		if (HnswReadDistance(s, t, &risk[nrisk].dist, &deleted) && !deleted)
			risk[nrisk++].tid = *t;
	}
	if (nrisk == 0)
		return;
	qsort(risk, nrisk, sizeof(HnswCandidate), HnswCandidateCmp);

	for (int attempt = 0; attempt < 3; attempt++)
	{
		int			next = 0;
		bool		changed = false;

		if (!HnswReadSlots(s, newtid, 0, old, NULL))
			return;
		memcpy(list, old, sizeof(ItemPointerData) * nslots);
		for (int i = 0; i < nslots && next < nrisk; i++)
		{
			if (ItemPointerIsValid(&list[i]))
				continue;
			while (next < nrisk && tid_in(&risk[next].tid, list, nslots))
				next++;
			if (next < nrisk)
			{
				list[i] = risk[next++].tid;
				changed = true;
			}
		}
		if (!changed || HnswWriteSlots(s, newtid, 0, old, list, nslots))
			return;
	}
}

/*
 * Link neighbour nb back to the new element at a level.  With a free slot
 * the new element takes it; otherwise the heuristic chooses among the old
 * neighbours and the new one.  With force, the new element is kept even
 * if the heuristic would drop it, so that it has at least one inbound link.
 * Retried if another backend changes the list meanwhile; after a few tries
 * the link is left out, unless forced: the forced link is the one that
 * keeps the new element reachable, so it is retried until it is written.
 * With a log, the list written and the elements it no longer holds go
 * into it.
 */
static void
link_back(HnswSearch *s, HnswMetaPageData *meta, ItemPointer nb, int level, ItemPointer newtid,
		  bool force, DropLog *log)
{
	int			nslots = HnswLevelSlots(s->m, level);
	ItemPointerData *old = palloc(sizeof(ItemPointerData) * nslots);
	ItemPointerData *list = palloc(sizeof(ItemPointerData) * nslots);
	HnswCandidate *cands = palloc(sizeof(HnswCandidate) * (nslots + 1));
	HnswCandidate *chosenFrom = palloc(sizeof(HnswCandidate) * (nslots + 1));
	float	   *nbvec = palloc(sizeof(float) * s->dims);

	for (int attempt = 0; force || attempt < 3; attempt++)
	{
		int			free = -1;
		int			n = 0;
		int			nsel;
		HnswSearch	sub;

		CHECK_FOR_INTERRUPTS();
		if (!HnswReadSlots(s, nb, level, old, nbvec))
			return;
		for (int i = 0; i < nslots && free < 0; i++)
			if (!ItemPointerIsValid(&old[i]))
				free = i;
		memcpy(list, old, sizeof(ItemPointerData) * nslots);
		if (free >= 0)
		{
			list[free] = *newtid;
			if (HnswWriteSlots(s, nb, level, old, list, nslots))
			{
				log_link_back(log, list, nslots, NULL, 0, newtid);
				return;
			}
			continue;
		}

		/* full: distances from nb to its neighbours and the new element */
		HnswSearchBegin(&sub, s->index, s->dist, meta, nbvec, 1);
		for (int i = 0; i <= nslots; i++)
		{
			ItemPointer t = i < nslots ? &old[i] : newtid;
			bool		deleted;

			if (HnswReadDistance(&sub, t, &cands[n].dist, &deleted) && !deleted)
				cands[n++].tid = *t;
		}
		qsort(cands, n, sizeof(HnswCandidate), HnswCandidateCmp);
		memcpy(chosenFrom, cands, sizeof(HnswCandidate) * n);
		nsel = HnswSelectOnDisk(&sub, cands, n, nslots);
		HnswSearchEnd(&sub);
		for (int i = 0; i < nslots; i++)
		{
			if (i < nsel)
				list[i] = cands[i].tid;
			else
				ItemPointerSetInvalid(&list[i]);
		}
		if (force && nsel > 0)
		{
			bool		kept = false;

			for (int i = 0; i < nsel; i++)
				kept = kept || ItemPointerEquals(&list[i], newtid);
			if (!kept)
				list[nsel - 1] = *newtid;
		}
		if (HnswWriteSlots(s, nb, level, old, list, nslots))
		{
			log_link_back(log, list, nslots, chosenFrom, n, newtid);
			return;
		}
	}
}

/*
 * Point the metapage at a new entry element
 */
static void
set_entry_point(Relation index, ItemPointer tid, int level)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	meta = HnswPageGetMeta(GenericXLogRegisterBuffer(state, buf, 0));
	if (level > meta->entryLevel || !BlockNumberIsValid(meta->entryBlkno))
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(tid);
		meta->entryOffno = ItemPointerGetOffsetNumber(tid);
		meta->entryLevel = level;
		GenericXLogFinish(state);
	}
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Build the element tuple for a vector (or, out of line, its chunk
 * pointers) and its chosen neighbours, in an item with room for the lists
 * of capacity >= level levels: the slots past its level are invalid
 */
static HnswElementTuple
form_element(HnswMetaPageData *meta, int level, int capacity, ItemPointer heaptid,
			 const float *vec, const ItemPointerData *chunks, InsertLinks *links, Size *sz)
{
	int			m = meta->m;
	HnswElementTuple etup;
	ItemPointer slots;

	Assert(capacity >= level);
	*sz = HNSW_ELEMENT_TUPLE_SIZE(meta->dims, meta->vecChunks, m, capacity);
	etup = palloc0(*sz);
	etup->type = HNSW_ELEMENT_TUPLE;
	etup->level = level;
	etup->heaptid = *heaptid;
	if (meta->vecChunks == 0)
		memcpy(etup->x, vec, sizeof(float) * meta->dims);
	else
		memcpy(HnswElementChunks(etup), chunks, sizeof(ItemPointerData) * meta->vecChunks);
	slots = HnswElementNeighbors(etup, meta->dims, meta->vecChunks);
	for (int i = 0; i < HnswTotalSlots(m, capacity); i++)
		ItemPointerSetInvalid(&slots[i]);
	for (int lc = 0; lc <= level; lc++)
	{
		slots = level_slots(etup, meta->dims, meta->vecChunks, m, lc);
		for (int i = 0; i < links->n[lc]; i++)
			slots[i] = links->c[lc][i].tid;
	}
	return etup;
}

/*
 * Reusing free items.  VACUUM turns deleted elements that nothing links to
 * any more into free items (HNSW_FREE_TUPLE) and records in the free space
 * map how big the biggest free item of each page is (HnswFreeSpaceValue).
 * An insert asks the map for a page with a free item big enough for its
 * level, picks there the free item with room for the fewest levels above
 * its own, and writes the element into it, its vector into the item's
 * chunks when vectors are out of line.  An item bigger than needed is only
 * taken from the last page tried, so that elements of level 0, nearly all
 * of them, leave the bigger items to elements of higher levels.  Levels
 * are never capped to fit an item: when no page tried has one big enough,
 * the element is appended.
 */
#define HNSW_REUSE_PAGES	3		/* pages from the map an insert tries */

/* A free item chosen on a page */
typedef struct FreeItem
{
	OffsetNumber off;
	int			capacity;		/* the highest level the item has room for */
	ItemPointerData chunks[HNSW_MAX_VEC_CHUNKS];
} FreeItem;

/*
 * Choose the free item on a (locked) page that best fits an element of a
 * level; false if none is big enough
 */
static bool
choose_free_item(Relation index, Buffer buf, HnswMetaPageData *meta, int level, FreeItem *fi)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber maxoff;

	fi->off = InvalidOffsetNumber;
	fi->capacity = -1;
	if (PageIsNew(page))
		return false;
	HnswCheckPage(index, page, BufferGetBlockNumber(buf));
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		HnswElementTuple etup = HnswPageItemOfType(page, off, HNSW_FREE_TUPLE);

		if (etup == NULL)
			continue;
		if (etup->level >= level && (fi->off == InvalidOffsetNumber || etup->level < fi->capacity))
		{
			fi->off = off;
			fi->capacity = etup->level;
			if (meta->vecChunks > 0)
				memcpy(fi->chunks, HnswElementChunks(etup), sizeof(ItemPointerData) * meta->vecChunks);
		}
	}
	return fi->off != InvalidOffsetNumber;
}

/*
 * Is the chosen item still free, as it was chosen?  Another insert may have
 * taken it between the two locks.
 */
static bool
still_free(Page page, FreeItem *fi, int vecChunks)
{
	HnswElementTuple etup;

	if (fi->off > PageGetMaxOffsetNumber(page))
		return false;
	etup = HnswPageItemOfType(page, fi->off, HNSW_FREE_TUPLE);
	return etup != NULL && etup->level == fi->capacity &&
		(vecChunks == 0 ||
		 memcmp(HnswElementChunks(etup), fi->chunks, sizeof(ItemPointerData) * vecChunks) == 0);
}

/*
 * The distinct pages a free item's element and chunks are on, in increasing
 * order; returns how many
 */
static int
reuse_pages(BlockNumber eblkno, FreeItem *fi, int vecChunks, BlockNumber *blocks)
{
	int			n = 0;

	blocks[n++] = eblkno;
	for (int i = 0; i < vecChunks; i++)
	{
		BlockNumber b;
		bool		seen = false;

		if (!ItemPointerIsValid(&fi->chunks[i]))
			continue;
		b = ItemPointerGetBlockNumber(&fi->chunks[i]);
		for (int j = 0; j < n && !seen; j++)
			seen = blocks[j] == b;
		if (!seen)
			blocks[n++] = b;
	}
	for (int i = 1; i < n; i++)
	{
		BlockNumber b = blocks[i];
		int			j = i;

		for (; j > 0 && blocks[j - 1] > b; j--)
			blocks[j] = blocks[j - 1];
		blocks[j] = b;
	}
	return n;
}

/*
 * The chunk at ctid, checked to be the piece of a vector that starts at
 * coordinate pos, on its locked page; error if it is not
 */
static HnswVectorTuple
free_item_chunk(Relation index, Page page, ItemPointer ctid, int pos, int dims, BlockNumber eblkno)
{
	OffsetNumber off = ItemPointerGetOffsetNumber(ctid);
	ItemId		itemid;
	HnswVectorTuple ctup = NULL;

	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
	{
		itemid = PageGetItemId(page, off);
		if (ItemIdIsNormal(itemid))
		{
			ctup = (HnswVectorTuple) PageGetItem(page, itemid);
			if (ctup->type != HNSW_VECTOR_TUPLE || ctup->start != (uint32) pos || ctup->count == 0 ||
				ctup->count > dims - pos || ItemIdGetLength(itemid) != HNSW_VECTOR_TUPLE_SIZE(ctup->count))
				ctup = NULL;
		}
	}
	if (ctup == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an invalid vector chunk (%u,%u) for a free item on block %u",
						RelationGetRelationName(index), ItemPointerGetBlockNumberNoCheck(ctid),
						ItemPointerGetOffsetNumberNoCheck(ctid), eblkno),
				 errhint("Please REINDEX it.")));
	return ctup;
}

/*
 * Check that the chunks of a free item cover a vector in order, all their
 * pages being locked (pages[i] holds blocks[i]); error if they do not
 */
static void
check_free_chunks(Relation index, FreeItem *fi, HnswMetaPageData *meta, BlockNumber *blocks,
				  Page *pages, int npages, BlockNumber eblkno)
{
	int			pos = 0;
	int			i;

	for (i = 0; i < meta->vecChunks && pos < (int) meta->dims; i++)
	{
		Page		page = NULL;

		for (int j = 0; j < npages && ItemPointerIsValid(&fi->chunks[i]); j++)
			if (blocks[j] == ItemPointerGetBlockNumber(&fi->chunks[i]))
				page = pages[j];
		if (page == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a free item on block %u whose vector chunks are missing",
							RelationGetRelationName(index), eblkno),
					 errhint("Please REINDEX it.")));
		pos += free_item_chunk(index, page, &fi->chunks[i], pos, meta->dims, eblkno)->count;
	}
	if (pos != (int) meta->dims)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a free item on block %u whose vector chunks do not cover a vector",
						RelationGetRelationName(index), eblkno),
				 errhint("Please REINDEX it.")));
}

/*
 * Copy the new vector into the chunks of a free item that lie on one page
 * (already checked)
 */
static void
fill_chunks(Page page, BlockNumber blkno, FreeItem *fi, int vecChunks, const float *vec)
{
	for (int i = 0; i < vecChunks; i++)
	{
		HnswVectorTuple ctup;

		if (!ItemPointerIsValid(&fi->chunks[i]) || ItemPointerGetBlockNumber(&fi->chunks[i]) != blkno)
			continue;
		ctup = (HnswVectorTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&fi->chunks[i])));
		memcpy(ctup->x, vec + ctup->start, sizeof(float) * ctup->count);
	}
}

/*
 * Write the new element etup (sz bytes: the item's size) into free item fi
 * on the page of ebuf (pinned, unlocked), and its vector into the item's
 * chunks.  Every page involved is locked exclusively, in increasing block
 * order (README: lock order), and the item checked to be still free;
 * returns false if another insert took it meanwhile.  Either way
 * *freeLevel is what the free space map should say of the page now.  The
 * chunk pages are
 * WAL-logged first and the element's page last, one record each: after a
 * crash in between, the item is still free and its chunks, which only a
 * free item points at, hold part of the new vector, which nobody reads.
 * Nobody sees the pages in between either: they stay locked until the end.
 */
static bool
fill_free_item(Relation index, HnswMetaPageData *meta, Buffer ebuf, FreeItem *fi,
			   HnswElementTuple etup, Size sz, const float *vec, int *freeLevel)
{
	BlockNumber eblkno = BufferGetBlockNumber(ebuf);
	BlockNumber blocks[HNSW_MAX_VEC_CHUNKS + 1];
	Buffer		bufs[HNSW_MAX_VEC_CHUNKS + 1];
	Page		pages[HNSW_MAX_VEC_CHUNKS + 1];
	int			npages = reuse_pages(eblkno, fi, meta->vecChunks, blocks);
	int			ei = 0;
	bool		ok;

	for (int i = 0; i < npages; i++)
	{
		if (blocks[i] == eblkno)
		{
			bufs[i] = ebuf;
			ei = i;
		}
		else
			bufs[i] = ReadBuffer(index, blocks[i]);
		LockBuffer(bufs[i], BUFFER_LOCK_EXCLUSIVE);
		pages[i] = BufferGetPage(bufs[i]);
		if (blocks[i] != eblkno)
			HnswCheckPage(index, pages[i], blocks[i]);
	}
	ok = still_free(pages[ei], fi, meta->vecChunks);
	if (ok)
	{
		GenericXLogState *state;
		Page		page;
		ItemId		itemid;

		if (meta->vecChunks > 0)
			check_free_chunks(index, fi, meta, blocks, pages, npages, eblkno);
		for (int i = 0; i < npages; i++)
		{
			if (i == ei)
				continue;
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, bufs[i], 0);
			fill_chunks(page, blocks[i], fi, meta->vecChunks, vec);
			GenericXLogFinish(state);
		}
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, ebuf, 0);
		fill_chunks(page, eblkno, fi, meta->vecChunks, vec);
		itemid = PageGetItemId(page, fi->off);
		Assert(ItemIdGetLength(itemid) == sz);
		memcpy(PageGetItem(page, itemid), etup, sz);
		GenericXLogFinish(state);
	}
	*freeLevel = HnswPageFreeLevel(pages[ei]);
	for (int i = 0; i < npages; i++)
	{
		if (i == ei)
			LockBuffer(bufs[i], BUFFER_LOCK_UNLOCK);
		else
			UnlockReleaseBuffer(bufs[i]);
	}
	return ok;
}

/*
 * Try to write the new element into a free item, from pages the free space
 * map offers; returns false if none fits (the element is then appended).
 * Each page tried is recorded in the map again with what it has left.  No
 * buffer lock is held while the map is searched or updated.
 */
static bool
reuse_free_item(Relation index, HnswMetaPageData *meta, int level, ItemPointer heaptid,
				const float *vec, InsertLinks *links, ItemPointer newtid)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	for (int attempt = 0; attempt < HNSW_REUSE_PAGES; attempt++)
	{
		BlockNumber blkno = GetPageWithFreeSpace(index, HnswFreeSpaceValue(level));
		Buffer		buf;
		FreeItem	fi;
		bool		done = false;
		int			freeLevel;

		if (blkno == InvalidBlockNumber)
			return false;
		/* the map is a hint: forget what is wrong in it */
		if (blkno < HNSW_FIRST_DATA_BLKNO || blkno >= nblocks)
		{
			RecordPageWithFreeSpace(index, blkno, 0);
			continue;
		}
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		freeLevel = HnswPageFreeLevel(BufferGetPage(buf));
		if (choose_free_item(index, buf, meta, level, &fi) &&
			(fi.capacity == level || attempt == HNSW_REUSE_PAGES - 1))
		{
			Size		sz;
			HnswElementTuple etup;

			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			etup = form_element(meta, level, fi.capacity, heaptid, vec, fi.chunks, links, &sz);
			done = fill_free_item(index, meta, buf, &fi, etup, sz, vec, &freeLevel);
			if (done)
				ItemPointerSet(newtid, blkno, fi.off);
			pfree(etup);
		}
		else
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		ReleaseBuffer(buf);
		RecordPageWithFreeSpace(index, blkno, HnswFreeSpaceValue(freeLevel));
		if (done)
			return true;
	}
	return false;
}

/*
 * Insert one vector
 */
void
HnswInsertTuple(Relation index, Datum value, ItemPointer heaptid, bool building)
{
	HnswMetaPageData meta;
	HnswDistance dist;
	HnswSearch	s;
	InsertLinks links;
	DropLog		drops;
	LOCKMODE	lockmode = ShareLock;
	HnswElementTuple etup;
	ItemPointerData newtid;
	ItemPointerData chunks[HNSW_MAX_VEC_CHUNKS];
	Appender	ap;
	MemoryContext linkCtx;
	float	   *vec;
	int			level;
	Size		sz;

	HnswInitDistance(index, &dist);
	HnswGetMeta(index, &meta);
	vec = palloc(sizeof(float) * meta.dims);
	if (!HnswPrepareVector(&dist, index, value, vec, meta.dims))
		return;

	level = Min(HnswElementLevel(heaptid, meta.m), HnswMaxLevel(meta.dims, meta.vecChunks, meta.m));

	/* the entry point only moves under the exclusive lock */
	if (level > meta.entryLevel)
		lockmode = ExclusiveLock;
	LockPage(index, HNSW_UPDATE_LOCK, lockmode);
	HnswGetMeta(index, &meta);
	if (level > meta.entryLevel && lockmode != ExclusiveLock)
	{
		UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
		lockmode = ExclusiveLock;
		LockPage(index, HNSW_UPDATE_LOCK, lockmode);
		HnswGetMeta(index, &meta);
	}

	HnswSearchBegin(&s, index, &dist, &meta, vec, meta.efConstruction);
	if (BlockNumberIsValid(meta.entryBlkno))
		find_links(&s, &meta, level, meta.efConstruction, &links);
	else
		memset(&links, 0, sizeof(links));

	/* a free item, or else at the end: the vector's chunks, then the element */
	if (!reuse_free_item(index, &meta, level, heaptid, vec, &links, &newtid))
	{
		appender_begin(&ap, index);
		if (meta.vecChunks > 0)
			append_chunks(&ap, vec, meta.dims, meta.vecChunks, chunks);
		etup = form_element(&meta, level, level, heaptid, vec, chunks, &links, &sz);
		newtid = appender_add(&ap, (Item) etup, sz);
		appender_end(&ap);
	}

	/*
	 * The nearest neighbour at level 0 always links back.  Each link reads
	 * up to 2m + 1 vectors: their memory goes at once.
	 */
	linkCtx = AllocSetContextCreate(CurrentMemoryContext, "hnsw link back", ALLOCSET_DEFAULT_SIZES);
	drops.ndropped = drops.nkept = 0;
	drops.dropped = palloc(sizeof(ItemPointerData) * Max(links.n[0], 1) * (HnswLevelSlots(meta.m, 0) + 1));
	drops.kept = palloc(sizeof(ItemPointerData) * Max(links.n[0], 1) * HnswLevelSlots(meta.m, 0));
	for (int lc = 0; lc <= Min(level, meta.entryLevel); lc++)
	{
		for (int i = 0; i < links.n[lc]; i++)
		{
			MemoryContext oldCtx = MemoryContextSwitchTo(linkCtx);

			link_back(&s, &meta, &links.c[lc][i].tid, lc, &newtid, lc == 0 && i == 0,
					  lc == 0 ? &drops : NULL);
			MemoryContextSwitchTo(oldCtx);
			MemoryContextReset(linkCtx);
		}
	}
	if (drops.ndropped > 0)
	{
		MemoryContext oldCtx = MemoryContextSwitchTo(linkCtx);

		rescue_dropped(&s, &newtid, &drops);
		MemoryContextSwitchTo(oldCtx);
	}
	MemoryContextDelete(linkCtx);
	HnswSearchEnd(&s);

	if (level > meta.entryLevel)
		set_entry_point(index, &newtid, level);

	UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
}

/*
 * Insert a heap row's vector (aminsert)
 */
bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique,
		   bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext oldCtx;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert", ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(ctx);
	HnswInsertTuple(index, values[0], heap_tid, false);
	/* filter key columns: the row's partition entry, after the graph (hnswpart.c) */
	if (HnswIndexHasKeys(index))
		HnswPartInsert(index, values, isnull, heap_tid);
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);
	return false;
}
