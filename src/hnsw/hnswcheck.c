/*-------------------------------------------------------------------------
 *
 * hnswcheck.c
 *		Structural verification of an hnsw index (vecrec.verify_index).
 *
 * Reads every page under AccessShareLock and reports one row per check:
 * metapage identity, page ids, element tuples (type, level, an item big
 * enough for the level, neighbour pointers in range, no self links, no
 * duplicates within a list; the lists in use -- of live elements and the
 * entry point -- pointing at elements high enough, never at a free item;
 * slots past an element's level invalid), free items (counted with the
 * pages), out-of-line vectors (every chunk well formed, each element's or
 * free item's chunk pointers leading to chunks that cover its vector in
 * order, no chunk shared; reported with the pages), the entry point, and
 * how many elements the graph cannot reach from the entry point (reported,
 * not an error: concurrent inserts can leave a few), and on request
 * (heapallindexed) that every live heap row has an element that is not
 * marked deleted, counting the rows whose element the graph cannot reach.
 * Problems are
 * reported as rows with ok = false; with strict => true the first one
 * raises ERRCODE_INDEX_CORRUPTED instead.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/hnsw/hnswcheck.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "hnsw.h"
#include "hnswpart.h"

/* Per-item facts gathered by the first pass */
typedef struct CheckElement
{
	uint8		level;			/* 0xFF: not an element */
	uint8		capacity;		/* element or free item: levels its item holds */
	bool		free;			/* a free item (level is 0xFF) */
	bool		deleted;
	bool		reached;
	bool		chunk;			/* a vector chunk */
	uint8		refs;			/* chunk: element pointers to it (saturating) */
	uint16		start;			/* chunk: first coordinate */
	uint16		count;			/* chunk: coordinates */
} CheckElement;

typedef struct CheckState
{
	Relation	index;
	HnswMetaPageData meta;
	BlockNumber nblocks;
	OffsetNumber *maxoff;		/* per block */
	CheckElement **elems;		/* per block, per offset */
	int64		nelements;
	int64		ndeleted;
	int64		nfree;			/* free items */
	int64		nchunks;
	int64		nunreferenced;	/* chunks no element points at */
	int64		nnew;			/* all-zero pages (extension lost in a crash) */
	int64		problems;
	StringInfoData first;		/* first problem, for the report */
	HnswCheckReport report;
	void	   *report_arg;
	bool		strict;
	struct CheckHeapState *heap;	/* heapallindexed pass, while collecting */
} CheckState;

/*
 * Record a problem (or raise it, when strict)
 */
static void
problem(CheckState *cs, const char *fmt, BlockNumber blkno, OffsetNumber off, const char *what)
{
	char		msg[256];

	snprintf(msg, sizeof(msg), fmt, blkno, off, what);
	cs->problems++;
	if (cs->strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\": %s", RelationGetRelationName(cs->index), msg)));
	if (cs->first.len == 0)
		appendStringInfoString(&cs->first, msg);
}

/*
 * The item at a TID, whatever it is, or NULL if there is none
 */
static CheckElement *
item_at(CheckState *cs, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	if (blkno < HNSW_FIRST_DATA_BLKNO || blkno >= cs->nblocks || cs->elems[blkno] == NULL ||
		off < FirstOffsetNumber || off > cs->maxoff[blkno])
		return NULL;
	return &cs->elems[blkno][off];
}

/*
 * The element at a TID, or NULL if there is none
 */
static CheckElement *
element_at(CheckState *cs, ItemPointer tid)
{
	CheckElement *ce = item_at(cs, tid);

	return ce != NULL && ce->level != 0xFF ? ce : NULL;
}

/*
 * Are the lists of an element in use: does a search follow them?  Those of
 * live elements and of the entry point are; a deleted element's lists are
 * left as they were and may point at items VACUUM has freed since.
 */
static bool
lists_in_use(CheckState *cs, BlockNumber blkno, OffsetNumber off)
{
	return !cs->elems[blkno][off].deleted ||
		(blkno == cs->meta.entryBlkno && off == cs->meta.entryOffno);
}

/*
 * Pass 1: page ids and element headers
 */
static void
check_pages(CheckState *cs)
{
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < cs->nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(cs->index, blkno);
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page))
		{
			/* a crash after extending the relation leaves these: harmless */
			cs->nnew++;
			UnlockReleaseBuffer(buf);
			continue;
		}
		if (PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID)
		{
			problem(cs, "block %u (offset %u) %s", blkno, 0, "is not an hnsw page");
			UnlockReleaseBuffer(buf);
			continue;
		}
		/* filter key columns: partition pages are checked by HnswPartCheck */
		if (HnswPartIsPartPage(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		cs->maxoff[blkno] = maxoff;
		cs->elems[blkno] = palloc(sizeof(CheckElement) * (maxoff + 1));
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		itemid = PageGetItemId(page, off);
			HnswElementTuple etup;
			CheckElement *ce = &cs->elems[blkno][off];
			int			capacity;

			memset(ce, 0, sizeof(CheckElement));
			ce->level = 0xFF;
			if (!ItemIdIsNormal(itemid))
				continue;
			etup = (HnswElementTuple) PageGetItem(page, itemid);
			if (etup->type == HNSW_VECTOR_TUPLE && cs->meta.vecChunks > 0)
			{
				HnswVectorTuple ctup = (HnswVectorTuple) etup;

				if (ItemIdGetLength(itemid) < offsetof(HnswVectorTupleData, x) ||
					ctup->count == 0 || ctup->start >= cs->meta.dims ||
					ctup->count > cs->meta.dims - ctup->start ||
					ItemIdGetLength(itemid) != HNSW_VECTOR_TUPLE_SIZE(ctup->count) || ctup->unused != 0)
				{
					problem(cs, "vector chunk (%u,%u) %s", blkno, off, "has a bad range or length");
					continue;
				}
				ce->chunk = true;
				ce->start = ctup->start;
				ce->count = ctup->count;
				cs->nchunks++;
				continue;
			}
			if (etup->type == HNSW_FREE_TUPLE)
			{
				/* its level is the one its size was made for */
				if (etup->level > HNSW_MAX_LEVEL ||
					ItemIdGetLength(itemid) != HNSW_ELEMENT_TUPLE_SIZE(cs->meta.dims, cs->meta.vecChunks,
																	   cs->meta.m, etup->level))
				{
					problem(cs, "free item (%u,%u) %s", blkno, off, "has a level that does not match its size");
					continue;
				}
				ce->free = true;
				ce->capacity = etup->level;
				cs->nfree++;
				continue;
			}
			if (etup->type != HNSW_ELEMENT_TUPLE)
			{
				problem(cs, "element (%u,%u) %s", blkno, off, "has an unknown tuple type");
				continue;
			}
			/* an element may sit in the larger item of a freed one */
			capacity = HnswItemLevel(ItemIdGetLength(itemid), cs->meta.dims, cs->meta.vecChunks, cs->meta.m);
			if (etup->level > HNSW_MAX_LEVEL || capacity < etup->level)
			{
				problem(cs, "element (%u,%u) %s", blkno, off, "has a level that does not match its size");
				continue;
			}
			ce->capacity = capacity;
			ce->level = etup->level;
			ce->deleted = etup->deleted != 0;
			cs->nelements++;
			if (ce->deleted)
				cs->ndeleted++;
		}
		UnlockReleaseBuffer(buf);
	}
}

/* What a walk over the elements does with each one */
typedef void (*CheckElementFunc) (CheckState *cs, BlockNumber blkno, OffsetNumber off,
								  HnswElementTuple etup);

/*
 * Call fn for every element found by pass 1 (and every free item, if
 * withFree), page by page under a share lock
 */
static void
for_each_item(CheckState *cs, CheckElementFunc fn, bool withFree)
{
	for (BlockNumber blkno = HNSW_FIRST_DATA_BLKNO; blkno < cs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		if (cs->elems[blkno] == NULL)
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= cs->maxoff[blkno]; off++)
		{
			if (cs->elems[blkno][off].level == 0xFF && !(withFree && cs->elems[blkno][off].free))
				continue;
			fn(cs, blkno, off, (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off)));
		}
		UnlockReleaseBuffer(buf);
	}
}

static void
for_each_element(CheckState *cs, CheckElementFunc fn)
{
	for_each_item(cs, fn, false);
}

/*
 * Pass 1b, out-of-line vectors only: an element's chunk pointers lead to
 * chunks that follow each other and cover its vector, and no chunk belongs
 * to two elements.  Free items keep their chunks for the next element, so
 * theirs are checked the same way.
 */
static void
check_element_vector(CheckState *cs, BlockNumber blkno, OffsetNumber off, HnswElementTuple etup)
{
	int			nptrs = cs->meta.vecChunks;
	ItemPointer chunks = HnswElementChunks(etup);
	int			pos = 0;
	int			i;

	for (i = 0; i < nptrs && ItemPointerIsValid(&chunks[i]) && pos < cs->meta.dims; i++)
	{
		BlockNumber tblk = ItemPointerGetBlockNumber(&chunks[i]);
		OffsetNumber toff = ItemPointerGetOffsetNumber(&chunks[i]);
		CheckElement *c;

		if (tblk < HNSW_FIRST_DATA_BLKNO || tblk >= cs->nblocks || cs->elems[tblk] == NULL ||
			toff < FirstOffsetNumber || toff > cs->maxoff[tblk] || !cs->elems[tblk][toff].chunk)
		{
			problem(cs, "element (%u,%u) %s", blkno, off, "points at something that is not a vector chunk");
			return;
		}
		c = &cs->elems[tblk][toff];
		if (c->start != pos)
		{
			problem(cs, "element (%u,%u) %s", blkno, off, "has vector chunks out of order");
			return;
		}
		if (c->refs > 0)
			problem(cs, "element (%u,%u) %s", blkno, off, "shares a vector chunk with another element");
		if (c->refs < PG_UINT8_MAX)
			c->refs++;
		pos += c->count;
	}
	if (pos < cs->meta.dims && (i == nptrs || !ItemPointerIsValid(&chunks[i])))
		problem(cs, "element (%u,%u) %s", blkno, off, "has vector chunks that do not cover its vector");
	for (; pos >= cs->meta.dims && i < nptrs; i++)
	{
		if (ItemPointerIsValid(&chunks[i]))
		{
			problem(cs, "element (%u,%u) %s", blkno, off, "has more vector chunks than its vector needs");
			return;
		}
	}
}

/*
 * Pass 1b for the whole index; chunks no element points at are counted (an
 * insert interrupted between writing its chunks and its element leaves them)
 */
static void
check_vectors(CheckState *cs)
{
	for_each_item(cs, check_element_vector, true);
	for (BlockNumber b = HNSW_FIRST_DATA_BLKNO; b < cs->nblocks; b++)
		for (OffsetNumber o = FirstOffsetNumber; cs->elems[b] && o <= cs->maxoff[b]; o++)
			if (cs->elems[b][o].chunk && cs->elems[b][o].refs == 0)
				cs->nunreferenced++;
}

/*
 * Pass 2: every neighbour list of an element
 */
static void
check_element_links(CheckState *cs, BlockNumber blkno, OffsetNumber off, HnswElementTuple etup)
{
	int			m = cs->meta.m;
	ItemPointer nbrs = HnswElementNeighbors(etup, cs->meta.dims, cs->meta.vecChunks);
	bool		inUse = lists_in_use(cs, blkno, off);
	int			capacity = cs->elems[blkno][off].capacity;

	for (int level = 0; level <= etup->level; level++)
	{
		int			start = level == 0 ? 0 : HnswTotalSlots(m, level - 1);
		int			count = HnswLevelSlots(m, level);

		for (int i = 0; i < count; i++)
		{
			ItemPointer t = &nbrs[start + i];
			CheckElement *target;

			if (!ItemPointerIsValid(t))
				continue;
			target = item_at(cs, t);
			if (!inUse)
				;				/* stale links are fine: see lists_in_use */
			else if (target != NULL && target->free)
				problem(cs, "element (%u,%u) %s", blkno, off, "links to a free item");
			else if (target == NULL || target->level == 0xFF)
				problem(cs, "element (%u,%u) %s", blkno, off, "links to something that is not an element");
			else if (target->level < level)
				problem(cs, "element (%u,%u) %s", blkno, off, "links to an element below the link's level");
			if (ItemPointerGetBlockNumber(t) == blkno && ItemPointerGetOffsetNumber(t) == off)
				problem(cs, "element (%u,%u) %s", blkno, off, "links to itself");
			for (int j = 0; j < i; j++)
				if (ItemPointerEquals(t, &nbrs[start + j]))
					problem(cs, "element (%u,%u) %s", blkno, off, "has a duplicate neighbour");
		}
	}

	/* an item made for more levels than its element has: the rest is unused */
	for (int i = HnswTotalSlots(m, etup->level); i < HnswTotalSlots(m, capacity); i++)
		if (ItemPointerIsValid(&nbrs[i]))
			problem(cs, "element (%u,%u) %s", blkno, off, "has a neighbour past its level");
}

static void
check_links(CheckState *cs)
{
	for_each_element(cs, check_element_links);
}

/*
 * Pass 3: mark what the entry point reaches (breadth first, all levels)
 */
static int64
count_reachable(CheckState *cs)
{
	ItemPointerData *queue;
	int64		head = 0;
	int64		tail = 0;
	int64		reached = 0;
	ItemPointerData entry;
	CheckElement *ce;
	int			m = cs->meta.m;

	if (!BlockNumberIsValid(cs->meta.entryBlkno))
		return 0;
	ItemPointerSet(&entry, cs->meta.entryBlkno, cs->meta.entryOffno);
	ce = element_at(cs, &entry);
	if (ce == NULL)
		return 0;
	queue = palloc_extended(sizeof(ItemPointerData) * Max(cs->nelements, 1), MCXT_ALLOC_HUGE);
	ce->reached = true;
	queue[tail++] = entry;
	while (head < tail)
	{
		ItemPointerData cur = queue[head++];
		Buffer		buf = ReadBuffer(cs->index, ItemPointerGetBlockNumber(&cur));
		Page		page;
		HnswElementTuple etup;
		ItemPointer nbrs;
		int			total;

		CHECK_FOR_INTERRUPTS();
		reached++;
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		etup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&cur)));
		nbrs = HnswElementNeighbors(etup, cs->meta.dims, cs->meta.vecChunks);
		total = HnswTotalSlots(m, etup->level);
		for (int i = 0; i < total; i++)
		{
			CheckElement *t;

			if (!ItemPointerIsValid(&nbrs[i]) || (t = element_at(cs, &nbrs[i])) == NULL || t->reached)
				continue;
			t->reached = true;
			queue[tail++] = nbrs[i];
		}
		UnlockReleaseBuffer(buf);
	}
	pfree(queue);
	return reached;
}

/*
 * Check the metapage and entry point; returns false if nothing else can be
 * checked
 */
static bool
check_meta(CheckState *cs)
{
	Buffer		buf = ReadBuffer(cs->index, HNSW_METAPAGE_BLKNO);
	Page		page;
	bool		ok;
	char		detail[256];

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ok = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(HnswPageOpaqueData)) &&
		HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID;
	if (ok)
		cs->meta = *HnswPageGetMeta(page);
	UnlockReleaseBuffer(buf);

	/* version 1 metapages end before vecChunks: it must read as 0 */
	if (ok && cs->meta.version == HNSW_VERSION_INLINE)
		cs->meta.vecChunks = 0;
	ok = ok && cs->meta.magic == HNSW_MAGIC_NUMBER &&
		cs->meta.dims >= 1 && cs->meta.dims <= HNSW_MAX_DIM &&
		cs->meta.m >= HNSW_MIN_M && cs->meta.m <= HNSW_MAX_M &&
		(cs->meta.version == HNSW_VERSION_INLINE ||
		 (cs->meta.version == HNSW_VERSION_CHUNKED &&
		  cs->meta.vecChunks >= HnswChunksNeeded(cs->meta.dims) &&
		  cs->meta.vecChunks <= HNSW_MAX_VEC_CHUNKS));
	if (cs->meta.version == HNSW_VERSION_CHUNKED)
		snprintf(detail, sizeof(detail),
				 "version %u, %u dimensions, m = %u, ef_construction = %u, vectors in chunks (up to %u per element)",
				 cs->meta.version, cs->meta.dims, cs->meta.m, cs->meta.efConstruction, cs->meta.vecChunks);
	else
		snprintf(detail, sizeof(detail), "version %u, %u dimensions, m = %u, ef_construction = %u",
				 cs->meta.version, cs->meta.dims, cs->meta.m, cs->meta.efConstruction);
	if (!ok && cs->strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an invalid hnsw metapage", RelationGetRelationName(cs->index))));
	cs->report(cs->report_arg, "metapage", ok, ok ? detail : "bad magic, version, dimensions, m or chunk count");
	return ok;
}

/* Heap rows of the elements, for the heapallindexed pass */
typedef struct CheckHeapState
{
	VerifyHeapTid *tids;
	int64		ntids;
} CheckHeapState;

/* for_each_element: remember the heap row of an element not marked deleted */
static void
collect_heap_tid(CheckState *cs, BlockNumber blkno, OffsetNumber off, HnswElementTuple etup)
{
	CheckHeapState *hs = cs->heap;

	if (etup->deleted || !ItemPointerIsValid(&etup->heaptid))
		return;
	hs->tids[hs->ntids].tid = etup->heaptid;
	hs->tids[hs->ntids].reached = cs->elems[blkno][off].reached;
	hs->ntids++;
}

/*
 * heapallindexed: every row of the heap the snapshot sees has an element
 * not marked deleted; rows whose element the graph cannot reach (no scan
 * returns them) are counted
 */
static void
check_heap(CheckState *cs, Relation heap, Snapshot snapshot)
{
	CheckHeapState hs;

	hs.tids = palloc_extended(sizeof(VerifyHeapTid) * Max(cs->nelements, 1), MCXT_ALLOC_HUGE);
	hs.ntids = 0;
	cs->heap = &hs;
	for_each_element(cs, collect_heap_tid);
	cs->heap = NULL;
	VerifyHeapAllIndexed(cs->index, heap, snapshot, hs.tids, hs.ntids, true, cs->strict,
						 cs->report, cs->report_arg);
	pfree(hs.tids);
}

/*
 * Run every check on an hnsw index, reporting each through report(); with
 * a heap, the heapallindexed pass too
 */
void
HnswCheckIndex(Relation index, Relation heap, Snapshot snapshot, bool strict,
			   HnswCheckReport report, void *arg)
{
	CheckState	cs;
	int64		reached;
	char		detail[256];
	ItemPointerData entry;
	CheckElement *ce;
	int			maxlevel = -1;

	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	cs.report = report;
	cs.report_arg = arg;
	cs.strict = strict;
	initStringInfo(&cs.first);
	cs.nblocks = RelationGetNumberOfBlocks(index);
	if (cs.nblocks == 0 || !check_meta(&cs))
		return;

	cs.maxoff = palloc0(sizeof(OffsetNumber) * cs.nblocks);
	cs.elems = palloc0(sizeof(CheckElement *) * cs.nblocks);
	check_pages(&cs);
	if (cs.meta.vecChunks > 0)
	{
		check_vectors(&cs);
		report(arg, "pages", cs.problems == 0, cs.problems == 0 ? psprintf("%u pages, " INT64_FORMAT " elements, " INT64_FORMAT " deleted, " INT64_FORMAT " free, " INT64_FORMAT " vector chunks (" INT64_FORMAT " not referenced), " INT64_FORMAT " unused new pages", cs.nblocks, cs.nelements, cs.ndeleted, cs.nfree, cs.nchunks, cs.nunreferenced, cs.nnew) : cs.first.data);
	}
	else
		report(arg, "pages", cs.problems == 0, cs.problems == 0 ? psprintf("%u pages, " INT64_FORMAT " elements, " INT64_FORMAT " deleted, " INT64_FORMAT " free, " INT64_FORMAT " unused new pages", cs.nblocks, cs.nelements, cs.ndeleted, cs.nfree, cs.nnew) : cs.first.data);

	cs.problems = 0;
	resetStringInfo(&cs.first);
	check_links(&cs);
	report(arg, "neighbours", cs.problems == 0, cs.problems == 0 ? "all links point at elements of the right level, no self links or duplicates" : cs.first.data);

	/* the entry point: valid, and at the highest level */
	for (BlockNumber b = HNSW_FIRST_DATA_BLKNO; b < cs.nblocks; b++)
		for (OffsetNumber o = FirstOffsetNumber; cs.elems[b] && o <= cs.maxoff[b]; o++)
			if (cs.elems[b][o].level != 0xFF)
				maxlevel = Max(maxlevel, cs.elems[b][o].level);
	ItemPointerSet(&entry, cs.meta.entryBlkno, cs.meta.entryOffno);
	ce = BlockNumberIsValid(cs.meta.entryBlkno) ? element_at(&cs, &entry) : NULL;
	if (cs.nelements == 0)
		report(arg, "entry point", !BlockNumberIsValid(cs.meta.entryBlkno), "empty index");
	else
	{
		bool		ok = ce != NULL && ce->level == cs.meta.entryLevel && cs.meta.entryLevel == maxlevel;

		snprintf(detail, sizeof(detail), "(%u,%u) at level %d, highest level %d",
				 cs.meta.entryBlkno, cs.meta.entryOffno, cs.meta.entryLevel, maxlevel);
		if (!ok && strict)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has an invalid entry point %s", RelationGetRelationName(index), detail)));
		report(arg, "entry point", ok, detail);
	}

	reached = count_reachable(&cs);
	snprintf(detail, sizeof(detail), INT64_FORMAT " of " INT64_FORMAT " elements reachable from the entry point (" INT64_FORMAT " unreachable)",
			 reached, cs.nelements, cs.nelements - reached);
	report(arg, "reachability", true, detail);

	if (heap)
		check_heap(&cs, heap, snapshot);

	/* filter key columns: partitions and their directory (hnswpart.c) */
	HnswPartCheck(index, heap, snapshot, strict, report, arg);
}
