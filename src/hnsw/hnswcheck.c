/*-------------------------------------------------------------------------
 *
 * hnswcheck.c
 *		Structural verification of an hnsw index (vecrec.verify_index).
 *
 * Reads every page under AccessShareLock and reports one row per check:
 * metapage identity, page ids, element tuples (type, level, neighbour
 * pointers in range, pointing at elements high enough, no self links, no
 * duplicates within a list), the entry point, and how many elements the
 * graph cannot reach from the entry point (reported, not an error:
 * concurrent inserts can leave a few).  Problems are reported as rows with
 * ok = false; with strict => true the first one raises
 * ERRCODE_INDEX_CORRUPTED instead.
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

/* Per-element facts gathered by the first pass */
typedef struct CheckElement
{
	uint8		level;
	bool		deleted;
	bool		reached;
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
	int64		nnew;			/* all-zero pages (extension lost in a crash) */
	int64		problems;
	StringInfoData first;		/* first problem, for the report */
	HnswCheckReport report;
	void	   *report_arg;
	bool		strict;
} CheckState;

/*
 * Record a problem (or raise it, when strict)
 */
static void
problem(CheckState *cs, const char *fmt, BlockNumber blkno, OffsetNumber off, const char *what)
{
	cs->problems++;
	if (cs->strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\": element (%u,%u) %s",
						RelationGetRelationName(cs->index), blkno, off, what)));
	if (cs->first.len == 0)
		appendStringInfo(&cs->first, fmt, blkno, off, what);
}

/*
 * The element at a TID, or NULL if there is none
 */
static CheckElement *
element_at(CheckState *cs, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	if (blkno < HNSW_FIRST_DATA_BLKNO || blkno >= cs->nblocks || cs->elems[blkno] == NULL ||
		off < FirstOffsetNumber || off > cs->maxoff[blkno])
		return NULL;
	if (cs->elems[blkno][off].level == 0xFF)
		return NULL;
	return &cs->elems[blkno][off];
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
		maxoff = PageGetMaxOffsetNumber(page);
		cs->maxoff[blkno] = maxoff;
		cs->elems[blkno] = palloc(sizeof(CheckElement) * (maxoff + 1));
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		itemid = PageGetItemId(page, off);
			HnswElementTuple etup;
			CheckElement *ce = &cs->elems[blkno][off];

			ce->level = 0xFF;
			ce->reached = false;
			if (!ItemIdIsNormal(itemid))
				continue;
			etup = (HnswElementTuple) PageGetItem(page, itemid);
			if (etup->type != HNSW_ELEMENT_TUPLE)
			{
				problem(cs, "element (%u,%u) %s", blkno, off, "has an unknown tuple type");
				continue;
			}
			if (etup->level > HNSW_MAX_LEVEL ||
				ItemIdGetLength(itemid) != HNSW_ELEMENT_TUPLE_SIZE(cs->meta.dims, cs->meta.m, etup->level))
			{
				problem(cs, "element (%u,%u) %s", blkno, off, "has a level that does not match its size");
				continue;
			}
			ce->level = etup->level;
			ce->deleted = etup->deleted != 0;
			cs->nelements++;
			if (ce->deleted)
				cs->ndeleted++;
		}
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Pass 2: every neighbour list
 */
static void
check_links(CheckState *cs)
{
	int			m = cs->meta.m;

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
			HnswElementTuple etup;
			ItemPointer nbrs;

			if (cs->elems[blkno][off].level == 0xFF)
				continue;
			etup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			nbrs = HnswElementNeighbors(etup, cs->meta.dims);
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
					target = element_at(cs, t);
					if (target == NULL)
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
		}
		UnlockReleaseBuffer(buf);
	}
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
		nbrs = HnswElementNeighbors(etup, cs->meta.dims);
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
	char		detail[128];

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ok = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(HnswPageOpaqueData)) &&
		HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID;
	if (ok)
		cs->meta = *HnswPageGetMeta(page);
	UnlockReleaseBuffer(buf);

	ok = ok && cs->meta.magic == HNSW_MAGIC_NUMBER && cs->meta.version == HNSW_VERSION &&
		cs->meta.dims >= 1 && cs->meta.dims <= VECTOR_MAX_DIM &&
		cs->meta.m >= HNSW_MIN_M && cs->meta.m <= HNSW_MAX_M;
	snprintf(detail, sizeof(detail), "version %u, %u dimensions, m = %u, ef_construction = %u",
			 cs->meta.version, cs->meta.dims, cs->meta.m, cs->meta.efConstruction);
	if (!ok && cs->strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an invalid hnsw metapage", RelationGetRelationName(cs->index))));
	cs->report(cs->report_arg, "metapage", ok, ok ? detail : "bad magic, version, dimensions or m");
	return ok;
}

/*
 * Run every check on an hnsw index, reporting each through report()
 */
void
HnswCheckIndex(Relation index, bool strict, HnswCheckReport report, void *arg)
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
	report(arg, "pages", cs.problems == 0, cs.problems == 0 ? psprintf("%u pages, " INT64_FORMAT " elements, " INT64_FORMAT " deleted, " INT64_FORMAT " unused new pages", cs.nblocks, cs.nelements, cs.ndeleted, cs.nnew) : cs.first.data);

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
}
