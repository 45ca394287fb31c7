/*-------------------------------------------------------------------------
 *
 * ivfcheck.c
 *		Structural verification of an ivfflat index (vecrec.verify_index).
 *
 * Reads every page under AccessShareLock and reports one row per check:
 * "metapage" (magic, version, dimensions matching the column, list count),
 * "lists" (as many list tuples as the metapage says, on list pages, each
 * centroid finite and, for cosine, of unit length or zero), "params"
 * (quantized lists only: the parameter pages, finite parameters, steps
 * not negative), "chains"
 * (every list's entry pages are entry pages, the chain ends, no page
 * belongs to two chains, insertBlkno lies on the chain) and "entries"
 * (every entry of the right size for the list format, with a valid heap
 * pointer and finite coordinates, or for sq8 a finite norm; entry pages no chain reaches are reported, not errors:
 * a crash after a relation extension leaves all-zero pages), and on
 * request "heapallindexed" (every live heap row has an entry, verify.c).
 * Problems are
 * reported as rows with ok = false; with strict => true the first one
 * raises ERRCODE_INDEX_CORRUPTED instead.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfcheck.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "compat.h"
#include "distance.h"
#include "ivf.h"

typedef struct IvfCheckState
{
	Relation	index;
	bool		strict;
	int64		problems;
	StringInfoData first;
} IvfCheckState;

/*
 * Record a problem (or raise it, when strict)
 */
static void
problem(IvfCheckState *cs, const char *fmt,...)
{
	char		msg[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cs->problems++;
	if (cs->strict)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\": %s", RelationGetRelationName(cs->index), msg)));
	if (cs->first.len == 0)
		appendStringInfoString(&cs->first, msg);
}

/*
 * Report a check's row: its detail, or the first problem found in it
 */
static void
report_check(IvfCheckState *cs, HnswCheckReport report, void *arg, const char *check,
			 int64 before, char *detail)
{
	bool		ok = cs->problems == before;

	report(arg, check, ok, ok ? detail : cs->first.data);
	resetStringInfo(&cs->first);
}

/*
 * Are dims coordinates finite?
 */
static bool
all_finite(const float *x, int dims)
{
	for (int i = 0; i < dims; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

/*
 * Is an entry (of the right size) sound: a valid heap pointer, the
 * reserved field zero, finite coordinates (or, for sq8, a finite norm)?
 */
static bool
entry_ok(const IvfMetaPageData *meta, const void *item)
{
	if (meta->quantizer == IVF_QUANTIZER_SQ8)
	{
		const IvfSq8EntryData *e = item;

		return ItemPointerIsValid(&e->heaptid) && e->unused == 0 &&
			isfinite(e->norm2) && e->norm2 >= 0;
	}
	else
	{
		const IvfEntryTupleData *e = item;

		return ItemPointerIsValid(&e->heaptid) && e->unused == 0 && all_finite(e->x, meta->dims);
	}
}

/*
 * Check the quantizer's parameter pages: their kind, one item each, 2 *
 * dims finite floats in all, no negative step
 */
static void
check_params(IvfCheckState *cs, const IvfMetaPageData *meta, uint8 *owner)
{
	BlockNumber first = IVF_FIRST_LIST_BLKNO + meta->listPages;
	float	   *params = palloc(sizeof(float) * 2 * meta->dims);
	int			done = 0;

	for (BlockNumber blkno = first; blkno < first + meta->paramPages; blkno++)
	{
		Buffer		buf = ReadBuffer(cs->index, blkno);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		owner[blkno] = 1;
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)) ||
			IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID || IvfPageGetOpaque(page)->flags != IVF_PAGE_PARAMS)
			problem(cs, "block %u is not an ivfflat parameter page", blkno);
		else if (PageGetMaxOffsetNumber(page) != 1 ||
				 !ItemIdIsNormal(PageGetItemId(page, FirstOffsetNumber)) ||
				 done + ItemIdGetLength(PageGetItemId(page, FirstOffsetNumber)) / sizeof(float) > 2 * meta->dims)
			problem(cs, "parameter page %u does not hold one item of parameters", blkno);
		else
		{
			ItemId		itemid = PageGetItemId(page, FirstOffsetNumber);
			int			n = ItemIdGetLength(itemid) / sizeof(float);

			memcpy(params + done, PageGetItem(page, itemid), sizeof(float) * n);
			done += n;
		}
		UnlockReleaseBuffer(buf);
	}
	if (done != 2 * (int) meta->dims)
		problem(cs, "%d quantizer parameters found, expected %u", done, 2 * meta->dims);
	else if (!all_finite(params, 2 * meta->dims))
		problem(cs, "quantizer parameters are not finite");
	else
		for (uint32 i = 0; i < meta->dims; i++)
			if (params[meta->dims + i] < 0)
			{
				problem(cs, "quantizer step of dimension %u is negative", i);
				break;
			}
	pfree(params);
}

/*
 * Run every check on an ivfflat index, reporting each through report()
 */
void
IvfCheckIndex(Relation index, Relation heap, Snapshot snapshot, bool strict,
			  HnswCheckReport report, void *arg)
{
	IvfCheckState cs;
	IvfMetaPageData meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	uint8	   *owner;			/* per block: 0 unseen, 1 list page, 2 in a chain */
	HnswDistance dist;
	int64		before;
	int64		nentries = 0;
	int64		nentryPages = 0;
	int64		orphans = 0;
	int64		nnew = 0;
	uint32		nlists = 0;
	BlockNumber *starts;
	BlockNumber *inserts;
	VerifyHeapTid *tids = NULL;	/* heapallindexed: the entries' heap rows */
	int64		ntids = 0;
	int64		maxtids = 0;

	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	cs.strict = strict;
	initStringInfo(&cs.first);

	/* metapage: IvfGetMeta raises on the fatal problems */
	IvfGetMeta(index, &meta);
	before = cs.problems;
	if ((int) meta.dims != TupleDescAttr(RelationGetDescr(index), 0)->atttypmod &&
		TupleDescAttr(RelationGetDescr(index), 0)->atttypmod >= 0)
		problem(&cs, "metapage has %u dimensions, the column %d", meta.dims,
				TupleDescAttr(RelationGetDescr(index), 0)->atttypmod);
	if (meta.listPages + IVF_FIRST_LIST_BLKNO > nblocks)
		problem(&cs, "metapage has %u list pages, the index %u blocks", meta.listPages, nblocks);
	if (IvfFirstEntryBlkno(&meta) > nblocks)
		problem(&cs, "metapage has %u parameter pages, the index %u blocks", meta.paramPages, nblocks);
	report_check(&cs, report, arg, "metapage", before,
				 psprintf("ivfflat version %u, %u dimensions, %u lists on %u pages%s%s",
						  meta.version, meta.dims, meta.lists, meta.listPages,
						  meta.quantizer != IVF_QUANTIZER_NONE ? ", quantizer " : "",
						  meta.quantizer != IVF_QUANTIZER_NONE ? IvfQuantizerName(meta.quantizer) : ""));
	if (cs.problems > before)
		return;

	HnswInitDistance(index, &dist);
	owner = palloc0(nblocks);
	starts = palloc(sizeof(BlockNumber) * meta.lists);
	inserts = palloc(sizeof(BlockNumber) * meta.lists);

	/* list pages */
	before = cs.problems;
	for (BlockNumber blkno = IVF_FIRST_LIST_BLKNO; blkno <= meta.listPages; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		owner[blkno] = 1;
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)) ||
			IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID || IvfPageGetOpaque(page)->flags != IVF_PAGE_LIST)
			problem(&cs, "block %u is not an ivfflat list page", blkno);
		else
		{
			OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				ItemId		itemid = PageGetItemId(page, off);
				IvfListTuple ltup;

				if (!ItemIdIsNormal(itemid) || ItemIdGetLength(itemid) != IVF_LIST_TUPLE_SIZE(meta.dims))
				{
					problem(&cs, "list item (%u,%u) has the wrong size", blkno, off);
					continue;
				}
				ltup = (IvfListTuple) PageGetItem(page, itemid);
				if (nlists < meta.lists)
				{
					starts[nlists] = ltup->startBlkno;
					inserts[nlists] = ltup->insertBlkno;
				}
				nlists++;
				if (!all_finite(ltup->centroid, meta.dims))
					problem(&cs, "list item (%u,%u) has a centroid that is not finite", blkno, off);
				else if (dist.normalize)
				{
					double		norm = VectorNorm(meta.dims, ltup->centroid);

					if (norm != 0 && fabs(norm - 1) > 1e-3)
						problem(&cs, "list item (%u,%u) has a centroid of norm %g under cosine distance",
								blkno, off, norm);
				}
			}
		}
		UnlockReleaseBuffer(buf);
	}
	if (nlists != meta.lists)
		problem(&cs, "%u lists found, the metapage says %u", nlists, meta.lists);
	report_check(&cs, report, arg, "lists", before, psprintf("%u lists", nlists));
	if (cs.problems > before)
		return;

	/* quantizer parameters */
	if (meta.quantizer != IVF_QUANTIZER_NONE)
	{
		before = cs.problems;
		check_params(&cs, &meta, owner);
		report_check(&cs, report, arg, "params", before,
					 psprintf("%s parameters of %u dimensions on %u pages",
							  IvfQuantizerName(meta.quantizer), meta.dims, meta.paramPages));
		if (cs.problems > before)
			return;
	}

	/* chains and entries */
	before = cs.problems;
	{
		int64		chainProblems = 0;
		int64		entryProblems = 0;
		StringInfoData entryFirst;

		initStringInfo(&entryFirst);
		for (uint32 i = 0; i < meta.lists; i++)
		{
			BlockNumber blkno = starts[i];
			bool		sawInsert = false;

			while (BlockNumberIsValid(blkno))
			{
				Buffer		buf;
				Page		page;
				OffsetNumber maxoff;

				CHECK_FOR_INTERRUPTS();
				if (blkno >= nblocks)
				{
					/* concurrent inserts may have extended the index */
					BlockNumber now = RelationGetNumberOfBlocks(index);

					if (now > nblocks)
					{
						owner = repalloc(owner, now);
						memset(owner + nblocks, 0, now - nblocks);
						nblocks = now;
					}
				}
				if (blkno < IvfFirstEntryBlkno(&meta) || blkno >= nblocks || owner[blkno] != 0)
				{
					problem(&cs, "list %u: chain reaches block %u, %s", i, blkno,
							blkno >= nblocks ? "beyond the end" : "already seen");
					chainProblems++;
					break;
				}
				owner[blkno] = 2;
				if (blkno == inserts[i])
					sawInsert = true;
				buf = ReadBuffer(index, blkno);
				LockBuffer(buf, BUFFER_LOCK_SHARE);
				page = BufferGetPage(buf);
				if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)) ||
					IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID || IvfPageGetOpaque(page)->flags != IVF_PAGE_ENTRY)
				{
					problem(&cs, "list %u: block %u is not an ivfflat entry page", i, blkno);
					chainProblems++;
					UnlockReleaseBuffer(buf);
					break;
				}
				nentryPages++;
				maxoff = PageGetMaxOffsetNumber(page);
				for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
				{
					ItemId		itemid = PageGetItemId(page, off);

					if (!ItemIdIsNormal(itemid) ||
						ItemIdGetLength(itemid) != IvfEntrySize(meta.quantizer, meta.dims))
					{
						if (entryProblems++ == 0)
							appendStringInfo(&entryFirst, "entry (%u,%u) has the wrong size", blkno, off);
						continue;
					}
					nentries++;
					if (heap)
					{
						/* both entry formats start with the heap pointer */
						if (ntids == maxtids)
						{
							maxtids = Max(1024, 2 * maxtids);
							tids = tids ? repalloc_huge(tids, sizeof(VerifyHeapTid) * maxtids)
								: palloc_extended(sizeof(VerifyHeapTid) * maxtids, MCXT_ALLOC_HUGE);
						}
						tids[ntids].tid = *(ItemPointer) PageGetItem(page, itemid);
						tids[ntids].reached = true;
						ntids++;
					}
					if (!entry_ok(&meta, PageGetItem(page, itemid)))
					{
						if (entryProblems++ == 0)
							appendStringInfo(&entryFirst, "entry (%u,%u) has an invalid heap pointer or vector",
											 blkno, off);
					}
				}
				blkno = IvfPageGetOpaque(page)->nextblkno;
				UnlockReleaseBuffer(buf);
			}
			if (!sawInsert && chainProblems == 0)
			{
				problem(&cs, "list %u: insert page %u is not on its chain", i, inserts[i]);
				chainProblems++;
			}
		}

		/* pages no chain reaches */
		for (BlockNumber blkno = IvfFirstEntryBlkno(&meta); blkno < nblocks; blkno++)
		{
			Buffer		buf;

			if (owner[blkno] != 0)
				continue;
			buf = ReadBuffer(index, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			if (PageIsNew(BufferGetPage(buf)))
				nnew++;
			else
				orphans++;
			UnlockReleaseBuffer(buf);
		}
		if (orphans > 0)
		{
			problem(&cs, INT64_FORMAT " entry pages belong to no list", orphans);
			chainProblems++;
		}
		report_check(&cs, report, arg, "chains", before,
					 psprintf(INT64_FORMAT " entry pages in %u chains, " INT64_FORMAT " unused new pages",
							  nentryPages, meta.lists, nnew));

		before = cs.problems;
		if (entryProblems > 0)
			problem(&cs, "%s (" INT64_FORMAT " problems)", entryFirst.data, entryProblems);
		report_check(&cs, report, arg, "entries", before,
					 psprintf(INT64_FORMAT " entries", nentries));
	}

	if (heap)
		VerifyHeapAllIndexed(index, heap, snapshot, tids, ntids, false, strict, report, arg);
}
