/*-------------------------------------------------------------------------
 *
 * ivfquant.c
 *		Quantized list formats of ivfflat indexes (option quantizer).
 *
 * sq8 (scalar quantization, 8 bits): every dimension i gets a range
 * [lo[i], lo[i] + 255 * step[i]] trained on the k-means sample (the
 * sample's minimum and maximum), and a coordinate is stored as the nearest
 * of the 256 evenly spaced values of its range (values outside are
 * clamped).  An entry holds the codes and the squared norm of the decoded
 * vector, about a quarter of a flat entry.
 *
 * A scan estimates distances on the codes: for a query q,
 *
 *		q . decoded(c) = q . lo + sum(q[i] * step[i] * c[i])
 *
 * and the sum is an integer dot product (kernels.h dotu8) once the weights
 * q[i] * step[i] are scaled to int16, so it is exact but for that one
 * rounding of the weights.  Squared L2 adds |q|^2 and the stored norm;
 * cosine (unit vectors) and inner product use -q . x.  The estimates only
 * pick the candidates: ivfscan.c re-ranks them by exact distance on the
 * heap's vectors.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/ivf/ivfquant.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "compat.h"
#include "ivf.h"

static const struct
{
	const char *name;
	IvfQuantizerKind kind;
}			quantizer_names[] = {
	{"none", IVF_QUANTIZER_NONE},
	{"sq8", IVF_QUANTIZER_SQ8},
};

/*
 * The quantizer of a name (any case); false if there is none
 */
bool
IvfQuantizerByName(const char *name, IvfQuantizerKind *kind)
{
	for (int i = 0; i < lengthof(quantizer_names); i++)
		if (pg_strcasecmp(name, quantizer_names[i].name) == 0)
		{
			*kind = quantizer_names[i].kind;
			return true;
		}
	return false;
}

/*
 * The name of a quantizer
 */
const char *
IvfQuantizerName(IvfQuantizerKind kind)
{
	for (int i = 0; i < lengthof(quantizer_names); i++)
		if (quantizer_names[i].kind == kind)
			return quantizer_names[i].name;
	return "unknown";
}

/*
 * Size of one entry of a list format
 */
Size
IvfEntrySize(IvfQuantizerKind kind, int dims)
{
	return kind == IVF_QUANTIZER_SQ8 ? IVF_SQ8_ENTRY_SIZE(dims) : IVF_ENTRY_TUPLE_SIZE(dims);
}

/*
 * Train sq8 parameters on n sample vectors (q->dims and q->kind set, lo
 * and step allocated).  Without samples the range is [-1, 1], right for
 * unit vectors (cosine) and a guess otherwise.
 */
void
IvfQuantTrain(IvfQuantizer *q, const float *samples, int n, bool unit)
{
	int			dims = q->dims;
	float	   *hi = palloc(sizeof(float) * dims);

	for (int i = 0; i < dims; i++)
	{
		q->lo[i] = n > 0 ? FLT_MAX : -1;
		hi[i] = n > 0 ? -FLT_MAX : 1;
	}
	for (int j = 0; j < n; j++)
	{
		const float *x = samples + (Size) j * dims;

		for (int i = 0; i < dims; i++)
		{
			q->lo[i] = Min(q->lo[i], x[i]);
			hi[i] = Max(hi[i], x[i]);
		}
	}
	for (int i = 0; i < dims; i++)
	{
		/* under cosine no coordinate leaves [-1, 1] */
		if (unit)
		{
			q->lo[i] = Max(q->lo[i], -1);
			hi[i] = Min(hi[i], 1);
		}
		q->step[i] = hi[i] > q->lo[i] ? (hi[i] - q->lo[i]) / 255 : 0;
	}
	pfree(hi);
}

/*
 * Fill an entry of the quantizer's format (IvfEntrySize bytes, zeroed
 * by the caller) for the prepared vector x
 */
void
IvfFormEntry(const IvfQuantizer *q, const float *x, ItemPointer tid, void *entry)
{
	if (q->kind == IVF_QUANTIZER_SQ8)
	{
		IvfSq8Entry e = entry;
		double		norm2 = 0;

		e->heaptid = *tid;
		for (int i = 0; i < q->dims; i++)
		{
			float		c = 0;
			float		y;

			if (q->step[i] > 0)
			{
				/* clamped to the trained range */
				c = rintf((x[i] - q->lo[i]) / q->step[i]);
				c = c > 0 ? (c < 255 ? c : 255) : 0;
			}
			e->code[i] = (uint8) c;
			y = q->lo[i] + q->step[i] * e->code[i];
			norm2 += (double) y * y;
		}
		e->norm2 = (float) norm2;
	}
	else
	{
		IvfEntryTuple e = entry;

		e->heaptid = *tid;
		memcpy(e->x, x, sizeof(float) * q->dims);
	}
}

/*
 * Number of parameter pages of a format
 */
int
IvfParamPages(IvfQuantizerKind kind, int dims)
{
	if (kind != IVF_QUANTIZER_SQ8)
		return 0;
	return (2 * dims + IVF_PARAMS_PER_PAGE - 1) / IVF_PARAMS_PER_PAGE;
}

/*
 * The float at position i of the parameter array (lo, then step)
 */
static inline float *
param_at(const IvfQuantizer *q, int i)
{
	return i < q->dims ? &q->lo[i] : &q->step[i - q->dims];
}

/*
 * Put parameter page number pageno (0-based) on an initialised page
 */
void
IvfFillParamPage(const IvfQuantizer *q, int pageno, Page page)
{
	int			first = pageno * IVF_PARAMS_PER_PAGE;
	int			n = Min(IVF_PARAMS_PER_PAGE, 2 * q->dims - first);
	float	   *buf = palloc(sizeof(float) * n);

	for (int i = 0; i < n; i++)
		buf[i] = *param_at(q, first + i);
	if (PageAddItem(page, (Item) buf, sizeof(float) * n, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "ivfflat build: failed to add quantizer parameters");
	pfree(buf);
}

/*
 * Read the quantizer of an index into q, its parameters into params
 * (2 * dims floats, or NULL for flat lists)
 */
void
IvfReadQuantizer(Relation index, const IvfMetaPageData *meta, IvfQuantizer *q, float *params)
{
	BlockNumber first = IVF_FIRST_LIST_BLKNO + meta->listPages;
	int			done = 0;

	q->kind = meta->quantizer;
	q->dims = meta->dims;
	q->lo = params;
	q->step = params ? params + meta->dims : NULL;
	if (meta->quantizer == IVF_QUANTIZER_NONE)
		return;

	for (BlockNumber i = 0; i < meta->paramPages; i++)
	{
		Buffer		buf = ReadBuffer(index, first + i);
		Page		page;
		ItemId		itemid;
		int			n;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfCheckPage(index, page, first + i, IVF_PAGE_PARAMS);
		itemid = PageGetItemId(page, FirstOffsetNumber);
		n = ItemIdGetLength(itemid) / sizeof(float);
		if (PageGetMaxOffsetNumber(page) != 1 || done + n > 2 * q->dims)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has invalid quantizer parameters at block %u",
							RelationGetRelationName(index), first + i),
					 errhint("Please REINDEX it.")));
		memcpy(params + done, PageGetItem(page, itemid), sizeof(float) * n);
		done += n;
		UnlockReleaseBuffer(buf);
	}
	if (done != 2 * q->dims)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has %d quantizer parameters, expected %d",
						RelationGetRelationName(index), done, 2 * q->dims),
				 errhint("Please REINDEX it.")));
}

/*
 * Prepare a query for estimates on sq8 codes.  The int16 weights are
 * scaled so that the integer sum cannot overflow: 255 * dims * wmax must
 * stay below 2^31 (wmax 32767 up to 257 dimensions, 4210 at 2,000).
 */
void
IvfQuantPrepareQuery(const IvfQuantizer *q, const float *query, bool l2, IvfQuantQuery *out)
{
	int			dims = q->dims;
	double		base = 0;
	double		qq = 0;
	double		maxw = 0;
	double		wmax = Min(32767.0, floor((double) PG_INT32_MAX / (255.0 * Max(dims, 1))));
	double		f;

	out->w = palloc(sizeof(int16) * dims);
	for (int i = 0; i < dims; i++)
	{
		base += (double) query[i] * q->lo[i];
		qq += (double) query[i] * query[i];
		maxw = Max(maxw, fabs((double) query[i] * q->step[i]));
	}
	f = maxw > 0 ? wmax / maxw : 0;
	for (int i = 0; i < dims; i++)
		out->w[i] = (int16) rint((double) query[i] * q->step[i] * f);
	out->scale = f > 0 ? (float) (1 / f) : 0;
	out->base = (float) base;
	out->qq = (float) qq;
	out->l2 = l2;
}
