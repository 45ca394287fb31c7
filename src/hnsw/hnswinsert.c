/*-------------------------------------------------------------------------
 *
 * hnswinsert.c
 *		Insert one vector into an on-disk hnsw graph (aminsert).
 *
 * Steps, each with its own lock and WAL story (see README):
 *	1. take the update lock (share; exclusive if the entry point changes)
 *	2. search the graph for neighbours, page by page under share locks
 *	3. append the new element to the last page (metapage lock first)
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
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"

/* Neighbours chosen for the new element at each level */
typedef struct InsertLinks
{
	int			n[HNSW_MAX_LEVEL + 1];
	HnswCandidate *c[HNSW_MAX_LEVEL + 1];
} InsertLinks;

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

/*
 * Heuristic selection among candidates sorted nearest first: loads their
 * vectors and keeps at most max.  Returns the number kept, compacting
 * cands in place.  Candidates whose element is gone are dropped.
 */
int
HnswSelectOnDisk(HnswSearch *s, HnswCandidate *cands, int n, int max)
{
	PairCtx		ctx;
	float	   *dists = palloc(sizeof(float) * n);
	int		   *sel = palloc(sizeof(int) * n);
	int			live = 0;
	int			nsel;
	HnswCandidate *kept = palloc(sizeof(HnswCandidate) * n);

	ctx.dist = s->dist;
	ctx.dims = s->dims;
	ctx.vecs = palloc(sizeof(float) * s->dims * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (!HnswReadVector(s, &cands[i].tid, ctx.vecs + (Size) live * s->dims))
			continue;
		cands[live] = cands[i];
		dists[live] = cands[i].dist;
		live++;
	}
	nsel = HnswSelectNeighbors(live, dists, max, true, pair_dist, &ctx, sel);
	for (int i = 0; i < nsel; i++)
		kept[i] = cands[sel[i]];
	memcpy(cands, kept, sizeof(HnswCandidate) * nsel);
	return nsel;
}

/*
 * Find the new element's neighbours at every level it has
 */
static void
find_links(HnswSearch *s, HnswMetaPageData *meta, int level, int efc, InsertLinks *links)
{
	HnswCandidate ep;
	HnswCandidate *eps = palloc(sizeof(HnswCandidate) * efc);
	int			neps;
	bool		deleted;

	memset(links, 0, sizeof(*links));
	ItemPointerSet(&ep.tid, meta->entryBlkno, meta->entryOffno);
	if (!HnswReadDistance(s, &ep.tid, &ep.dist, &deleted))
		elog(ERROR, "hnsw entry point (%u,%u) of index \"%s\" is missing",
			 meta->entryBlkno, meta->entryOffno, RelationGetRelationName(s->index));
	if (meta->entryLevel > level)
		ep = HnswSearchGreedy(s, ep, meta->entryLevel, level + 1);

	eps[0] = ep;
	neps = 1;
	for (int lc = Min(level, meta->entryLevel); lc >= 0; lc--)
	{
		HnswCandidate *w = palloc(sizeof(HnswCandidate) * efc);
		int			n = HnswSearchLayer(s, eps, neps, efc, lc, w);

		if (n > 0)
		{
			memcpy(eps, w, sizeof(HnswCandidate) * n);
			neps = n;
		}
		links->n[lc] = HnswSelectOnDisk(s, w, n, HnswNewLinks(s->m));
		links->c[lc] = w;
	}
}

/*
 * Append the element tuple; returns where it went.  Lock order: metapage,
 * then the last page, then a new page.
 */
static ItemPointerData
add_element(Relation index, HnswElementTuple etup, Size sz)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage meta;
	BlockNumber last;
	Buffer		buf = InvalidBuffer;
	GenericXLogState *state;
	Page		page;
	OffsetNumber off;
	ItemPointerData tid;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	last = meta->lastBlkno;

	if (BlockNumberIsValid(last))
	{
		buf = ReadBuffer(index, last);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (PageGetFreeSpace(BufferGetPage(buf)) < MAXALIGN(sz))
		{
			Buffer		newbuf = HnswNewBuffer(index, MAIN_FORKNUM);
			Page		metapage;

			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
			HnswInitPage(page, HNSW_PAGE_DATA);
			HnswPageGetOpaque(GenericXLogRegisterBuffer(state, buf, 0))->nextblkno = BufferGetBlockNumber(newbuf);
			metapage = GenericXLogRegisterBuffer(state, metabuf, 0);
			HnswPageGetMeta(metapage)->lastBlkno = BufferGetBlockNumber(newbuf);
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			buf = newbuf;
		}
	}
	else
	{
		Page		metapage;

		buf = HnswNewBuffer(index, MAIN_FORKNUM);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		HnswInitPage(page, HNSW_PAGE_DATA);
		metapage = GenericXLogRegisterBuffer(state, metabuf, 0);
		HnswPageGetMeta(metapage)->lastBlkno = BufferGetBlockNumber(buf);
		GenericXLogFinish(state);
	}

	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	off = PageAddItem(page, (Item) etup, sz, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "failed to add element to index \"%s\"", RelationGetRelationName(index));
	GenericXLogFinish(state);
	ItemPointerSet(&tid, BufferGetBlockNumber(buf), off);

	UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(metabuf);
	return tid;
}

/*
 * The slots of one level of an element tuple
 */
static inline ItemPointer
level_slots(HnswElementTuple etup, int dims, int m, int level)
{
	return HnswElementNeighbors(etup, dims) + (level == 0 ? 0 : HnswTotalSlots(m, level - 1));
}

/*
 * Overwrite the slots of one level of the element at tid with list, if
 * they still hold expect (nslots items).  Returns false if they changed.
 */
bool
HnswWriteSlots(Relation index, ItemPointer tid, int dims, int m, int level,
			ItemPointer expect, ItemPointer list, int nslots)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(tid));
	GenericXLogState *state;
	Page		page;
	ItemId		itemid;
	HnswElementTuple etup;
	ItemPointer slots;
	bool		ok = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	itemid = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
	etup = (HnswElementTuple) PageGetItem(page, itemid);
	if (ItemIdIsNormal(itemid) && etup->type == HNSW_ELEMENT_TUPLE && etup->level >= level)
	{
		slots = level_slots(etup, dims, m, level);
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
 * or not) and its vector; false if the element is gone
 */
bool
HnswReadSlots(HnswSearch *s, ItemPointer tid, int level, ItemPointer out, float *vec)
{
	Buffer		buf = ReadBuffer(s->index, ItemPointerGetBlockNumber(tid));
	Page		page;
	ItemId		itemid;
	HnswElementTuple etup;
	bool		ok = false;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	itemid = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
	etup = (HnswElementTuple) PageGetItem(page, itemid);
	if (ItemIdIsNormal(itemid) && etup->type == HNSW_ELEMENT_TUPLE && etup->level >= level)
	{
		memcpy(out, level_slots(etup, s->dims, s->m, level),
			   sizeof(ItemPointerData) * HnswLevelSlots(s->m, level));
		memcpy(vec, etup->x, sizeof(float) * s->dims);
		ok = true;
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * Link neighbour nb back to the new element at a level.  With a free slot
 * the new element takes it; otherwise the heuristic chooses among the old
 * neighbours and the new one.  With force, the new element is kept even
 * if the heuristic would drop it, so that it has at least one inbound link.
 * Retried if another backend changes the list meanwhile; after a few tries
 * the link is left out.
 */
static void
link_back(HnswSearch *s, ItemPointer nb, int level, ItemPointer newtid, bool force)
{
	int			nslots = HnswLevelSlots(s->m, level);
	ItemPointerData *old = palloc(sizeof(ItemPointerData) * nslots);
	ItemPointerData *list = palloc(sizeof(ItemPointerData) * nslots);
	HnswCandidate *cands = palloc(sizeof(HnswCandidate) * (nslots + 1));
	float	   *nbvec = palloc(sizeof(float) * s->dims);

	for (int attempt = 0; attempt < 3; attempt++)
	{
		int			free = -1;
		int			n = 0;
		int			nsel;
		HnswSearch	sub;

		if (!HnswReadSlots(s, nb, level, old, nbvec))
			return;
		for (int i = 0; i < nslots && free < 0; i++)
			if (!ItemPointerIsValid(&old[i]))
				free = i;
		memcpy(list, old, sizeof(ItemPointerData) * nslots);
		if (free >= 0)
		{
			list[free] = *newtid;
			if (HnswWriteSlots(s->index, nb, s->dims, s->m, level, old, list, nslots))
				return;
			continue;
		}

		/* full: distances from nb to its neighbours and the new element */
		HnswSearchBegin(&sub, s->index, s->dist, s->dims, s->m, nbvec, 1);
		for (int i = 0; i <= nslots; i++)
		{
			ItemPointer t = i < nslots ? &old[i] : newtid;
			bool		deleted;

			if (HnswReadDistance(&sub, t, &cands[n].dist, &deleted) && !deleted)
				cands[n++].tid = *t;
		}
		qsort(cands, n, sizeof(HnswCandidate), HnswCandidateCmp);
		nsel = HnswSelectOnDisk(&sub, cands, n, nslots);
		HnswSearchEnd(&sub);
		if (force && nsel > 0)
		{
			bool		kept = false;

			for (int i = 0; i < nsel; i++)
				kept = kept || ItemPointerEquals(&cands[i].tid, newtid);
			if (!kept)
				cands[nsel - 1].tid = *newtid;
		}
		for (int i = 0; i < nslots; i++)
		{
			if (i < nsel)
				list[i] = cands[i].tid;
			else
				ItemPointerSetInvalid(&list[i]);
		}
		if (HnswWriteSlots(s->index, nb, s->dims, s->m, level, old, list, nslots))
			return;
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
 * Build the element tuple for a vector and its chosen neighbours
 */
static HnswElementTuple
form_element(int dims, int m, int level, ItemPointer heaptid, const float *vec,
			 InsertLinks *links, Size *sz)
{
	HnswElementTuple etup;

	*sz = HNSW_ELEMENT_TUPLE_SIZE(dims, m, level);
	etup = palloc0(*sz);
	etup->type = HNSW_ELEMENT_TUPLE;
	etup->level = level;
	etup->heaptid = *heaptid;
	memcpy(etup->x, vec, sizeof(float) * dims);
	for (int lc = 0; lc <= level; lc++)
	{
		ItemPointer slots = level_slots(etup, dims, m, lc);

		for (int i = 0; i < HnswLevelSlots(m, lc); i++)
		{
			if (i < links->n[lc])
				slots[i] = links->c[lc][i].tid;
			else
				ItemPointerSetInvalid(&slots[i]);
		}
	}
	return etup;
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
	LOCKMODE	lockmode = ShareLock;
	HnswElementTuple etup;
	ItemPointerData newtid;
	float	   *vec;
	int			level;
	Size		sz;

	HnswInitDistance(index, &dist);
	HnswGetMeta(index, &meta);
	vec = palloc(sizeof(float) * meta.dims);
	if (!HnswPrepareVector(&dist, index, value, vec, meta.dims))
		return;

	level = HnswRandomLevel(meta.m);
	while (level > 0 && HNSW_ELEMENT_TUPLE_SIZE(meta.dims, meta.m, level) > HNSW_MAX_ITEM_SIZE)
		level--;

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

	HnswSearchBegin(&s, index, &dist, meta.dims, meta.m, vec, meta.efConstruction);
	if (BlockNumberIsValid(meta.entryBlkno))
		find_links(&s, &meta, level, meta.efConstruction, &links);
	else
		memset(&links, 0, sizeof(links));

	etup = form_element(meta.dims, meta.m, level, heaptid, vec, &links, &sz);
	newtid = add_element(index, etup, sz);

	/* the nearest neighbour at level 0 always links back */
	for (int lc = 0; lc <= Min(level, meta.entryLevel); lc++)
		for (int i = 0; i < links.n[lc]; i++)
			link_back(&s, &links.c[lc][i].tid, lc, &newtid, lc == 0 && i == 0);
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
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(ctx);
	return false;
}
