/*-------------------------------------------------------------------------
 *
 * embed.c
 *		vecrec.embed_text(): the in-database text embedder.
 *
 * A text is split into lower-cased words (tokenize.c), the words are looked
 * up in vecrec.word_vectors, and their vectors are summed with SIF weights
 * (Arora, Liang and Ma, "A simple but tough-to-beat baseline for sentence
 * embeddings", ICLR 2017)
 *
 *		w(word) = a / (a + p(word))
 *
 * where p is the word's probability.  The table stores frequency ranks, not
 * counts, so p comes from Zipf's law over the N ranked words:
 *
 *		p(rank) = 1 / (rank * H(N)),	H(N) = 1 + 1/2 + ... + 1/N
 *
 * A word without a rank weighs 1 (as if very rare); a = vecrec.sif_a,
 * default 1e-3, and a = 0 gives every word weight 1.  The sum is scaled to
 * unit length (so averaging would change nothing); a text without a known
 * word gives NULL.
 *
 * Each backend keeps the whole vocabulary in memory (words, a hash table,
 * and the vectors: 4 * dims bytes per word), loaded on first use.  Any
 * change to vecrec.word_vectors bumps vecrec.word_vectors_version by a
 * statement-level trigger, in the same transaction; the cache remembers the
 * (version, xmin) of the row it was loaded with, and rereads that row, with
 * the caller's snapshot, whenever the snapshot may see different data: a
 * new transaction, a new command, or a snapshot with other xmin, xmax or
 * running transactions.  Within one statement that is a few comparisons
 * per call.
 *
 * The tokenizer works on UTF-8.  In a database of another encoding text is
 * converted to UTF-8 first (and the vocabulary too); with SQL_ASCII bytes
 * are taken as UTF-8, and those that are not valid UTF-8 separate words.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/embed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/transam.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "fresh.h"
#include "kernels.h"
#include "tokenize.h"
#include "vector.h"

double		vecrec_sif_a = 1e-3;

#define FETCH_ROWS 10000

/*
 * What decides which rows a snapshot sees: two snapshots with equal keys
 * see the same data.  (PostgreSQL 14's snapXactCompletionCount would be
 * cheaper, but copies of snapshots, such as the active one, have it 0.)
 */
typedef struct SnapshotKey
{
	LocalTransactionId lxid;
	CommandId	curcid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	int			capacity;		/* of xids */
	TransactionId *xids;		/* xip, then subxip */
} SnapshotKey;

static SnapshotKey checked_key;

/* The vocabulary of this backend */
typedef struct WordCacheData
{
	MemoryContext cxt;			/* holds everything below; NULL when not loaded */
	/* what was loaded: the version row's value and xmin */
	int64		version;
	TransactionId version_xmin;
	/* the snapshot the version was last checked with (see SnapshotKey) */
	bool		key_valid;
	/* words */
	int			dim;			/* 0 while there is no word */
	uint32		nwords;
	uint32		capacity;
	char	  **words;			/* lower-cased UTF-8, NUL-terminated */
	bool	   *exact;			/* the row's word was lower-case already */
	uint32	   *lengths;
	uint32	   *hashes;
	int32	   *ranks;			/* 0 when unknown */
	float	   *vectors;		/* nwords * dim */
	double		harmonic;		/* H(N), N the largest rank */
	/* open addressing: word index + 1, 0 for an empty slot */
	uint32	   *slots;
	uint32		mask;
} WordCacheData;

static WordCacheData cache;

PG_FUNCTION_INFO_V1(vecrec_embed_text);
PG_FUNCTION_INFO_V1(vecrec_tokenize);

/*
 * Register the embedder's GUCs
 */
void
EmbedInit(void)
{
	DefineCustomRealVariable("vecrec.sif_a",
							 "SIF weight parameter a of vecrec.embed_text",
							 "A word of probability p weighs a / (a + p); 0 weighs every word 1.",
							 &vecrec_sif_a, 1e-3, 0.0, 1.0, PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * A text in UTF-8 (the input itself when no conversion is needed)
 */
static char *
to_utf8(const char *s, int len, int *outlen)
{
	char	   *r;

	if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII)
	{
		*outlen = len;
		return (char *) s;
	}
	r = pg_server_to_any(s, len, PG_UTF8);
	*outlen = (r == s) ? len : (int) strlen(r);
	return r;
}

/*
 * Does the active snapshot see what the one the version was checked with
 * saw?
 */
static bool
snapshot_unchanged(void)
{
	Snapshot	s;
	const SnapshotKey *k = &checked_key;

	if (!cache.key_valid || !ActiveSnapshotSet())
		return false;
	s = GetActiveSnapshot();
	if (k->lxid != MyProc->lxid || k->curcid != s->curcid || k->xmin != s->xmin ||
		k->xmax != s->xmax || k->xcnt != s->xcnt || k->subxcnt != s->subxcnt ||
		k->suboverflowed != s->suboverflowed)
		return false;
	return (s->xcnt == 0 || memcmp(k->xids, s->xip, sizeof(TransactionId) * s->xcnt) == 0) &&
		(s->subxcnt <= 0 ||
		 memcmp(k->xids + s->xcnt, s->subxip, sizeof(TransactionId) * s->subxcnt) == 0);
}

/*
 * Remember the active snapshot as the one the version was checked with
 */
static void
remember_snapshot(void)
{
	Snapshot	s;
	SnapshotKey *k = &checked_key;
	int			n;

	cache.key_valid = false;
	if (!ActiveSnapshotSet())
		return;
	s = GetActiveSnapshot();
	n = (int) s->xcnt + Max(s->subxcnt, 0);
	if (n > k->capacity)
	{
		TransactionId *x = MemoryContextAlloc(TopMemoryContext, sizeof(TransactionId) * n);

		if (k->xids)
			pfree(k->xids);
		k->xids = x;
		k->capacity = n;
	}
	k->lxid = MyProc->lxid;
	k->curcid = s->curcid;
	k->xmin = s->xmin;
	k->xmax = s->xmax;
	k->xcnt = s->xcnt;
	k->subxcnt = s->subxcnt;
	k->suboverflowed = s->suboverflowed;
	if (s->xcnt > 0)
		memcpy(k->xids, s->xip, sizeof(TransactionId) * s->xcnt);
	if (s->subxcnt > 0)
		memcpy(k->xids + s->xcnt, s->subxip, sizeof(TransactionId) * s->subxcnt);
	cache.key_valid = true;
}

/*
 * Make room for one more word in the cache being built
 */
static void
grow_words(WordCacheData *c)
{
	uint32		cap = c->capacity ? c->capacity * 2 : 1024;

	if (c->capacity == 0)
	{
		c->words = MemoryContextAllocHuge(c->cxt, sizeof(char *) * cap);
		c->exact = MemoryContextAllocHuge(c->cxt, sizeof(bool) * cap);
		c->lengths = MemoryContextAllocHuge(c->cxt, sizeof(uint32) * cap);
		c->hashes = MemoryContextAllocHuge(c->cxt, sizeof(uint32) * cap);
		c->ranks = MemoryContextAllocHuge(c->cxt, sizeof(int32) * cap);
		c->vectors = MemoryContextAllocHuge(c->cxt, sizeof(float) * (Size) cap * c->dim);
	}
	else
	{
		c->words = repalloc_huge(c->words, sizeof(char *) * cap);
		c->exact = repalloc_huge(c->exact, sizeof(bool) * cap);
		c->lengths = repalloc_huge(c->lengths, sizeof(uint32) * cap);
		c->hashes = repalloc_huge(c->hashes, sizeof(uint32) * cap);
		c->ranks = repalloc_huge(c->ranks, sizeof(int32) * cap);
		c->vectors = repalloc_huge(c->vectors, sizeof(float) * (Size) cap * c->dim);
	}
	c->capacity = cap;
}

/*
 * Add one row of vecrec.word_vectors to the cache being built
 */
static void
add_word(WordCacheData *c, const char *word, int len, const Vector *v, int32 rank)
{
	int			ulen;
	char	   *u = to_utf8(word, len, &ulen);
	char	   *key;
	size_t		klen;

	if (c->dim == 0)
		c->dim = v->dim;
	else if (v->dim != c->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("word vectors have different dimensions"),
				 errdetail("Word \"%s\" has %d dimensions, other words %d.",
						   pnstrdup(word, len), v->dim, c->dim),
				 errhint("Every row of vecrec.word_vectors must have the same number of dimensions.")));
	if (c->nwords == c->capacity)
		grow_words(c);
	/* the key is the word lower-cased the way the tokenizer does it */
	key = MemoryContextAlloc(c->cxt, ulen + 1);
	klen = VrLowerUtf8(u, ulen, key);
	key[klen] = '\0';
	c->words[c->nwords] = key;
	c->exact[c->nwords] = (klen == (size_t) ulen && memcmp(key, u, klen) == 0);
	c->lengths[c->nwords] = (uint32) klen;
	c->hashes[c->nwords] = hash_bytes((const unsigned char *) key, (int) klen);
	c->ranks[c->nwords] = rank > 0 ? rank : 0;
	memcpy(c->vectors + (Size) c->nwords * c->dim, v->x, sizeof(float) * c->dim);
	c->nwords++;
}

/*
 * Index of a word in the cache, or -1
 */
static int64
lookup_word(const WordCacheData *c, const char *w, uint32 len, uint32 h)
{
	for (uint32 i = h & c->mask;; i = (i + 1) & c->mask)
	{
		uint32		s = c->slots[i];

		if (s == 0)
			return -1;
		s--;
		if (c->hashes[s] == h && c->lengths[s] == len && memcmp(c->words[s], w, len) == 0)
			return s;
	}
}

/*
 * Should word a rather than word b (same key) stand for their key?  The
 * more frequent one (a known rank first), then the one that was lower-case
 * already, then the first row read
 */
static bool
better_word(const WordCacheData *c, uint32 a, uint32 b)
{
	int64		ra = c->ranks[a] ? c->ranks[a] : PG_INT64_MAX;
	int64		rb = c->ranks[b] ? c->ranks[b] : PG_INT64_MAX;

	if (ra != rb)
		return ra < rb;
	if (c->exact[a] != c->exact[b])
		return c->exact[a];
	return a < b;
}

/*
 * Build the hash table and H(N) once all words are in.  Words that differ
 * only in case ("Apple", "apple") share a key; better_word picks the row
 * used.  Table scan order does not matter.
 */
static void
finish_cache(WordCacheData *c)
{
	uint32		nslots = 16;
	int32		maxrank = 0;

	while (nslots < 2 * (uint64) c->nwords)
		nslots *= 2;
	c->slots = MemoryContextAllocHuge(c->cxt, sizeof(uint32) * nslots);
	memset(c->slots, 0, sizeof(uint32) * nslots);
	c->mask = nslots - 1;
	for (uint32 w = 0; w < c->nwords; w++)
	{
		uint32		i;

		maxrank = Max(maxrank, c->ranks[w]);
		for (i = c->hashes[w] & c->mask; c->slots[i] != 0; i = (i + 1) & c->mask)
		{
			uint32		e = c->slots[i] - 1;

			if (c->hashes[e] == c->hashes[w] && c->lengths[e] == c->lengths[w] &&
				memcmp(c->words[e], c->words[w], c->lengths[w]) == 0)
				break;
		}
		if (c->slots[i] == 0 || better_word(c, w, c->slots[i] - 1))
			c->slots[i] = w + 1;
	}
	c->harmonic = 0;
	for (int32 r = maxrank; r >= 1; r--)
		c->harmonic += 1.0 / r;
}

/*
 * Read vecrec.word_vectors into a new cache (inside SPI); on success the
 * old cache is freed
 */
static void
reload_cache(int64 version, TransactionId version_xmin)
{
	WordCacheData c;
	Portal		portal;

	memset(&c, 0, sizeof(c));
	/* a child of the caller's context until complete, so errors free it */
	c.cxt = AllocSetContextCreate(CurrentMemoryContext, "vecrec word vectors",
								  ALLOCSET_DEFAULT_SIZES);
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT w.word, w.v, w.freq_rank FROM vecrec.word_vectors w",
									   0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			text	   *word = DatumGetTextPP(SPI_getbinval(tup, desc, 1, &isnull));
			Vector	   *v = DatumGetVector(SPI_getbinval(tup, desc, 2, &isnull));
			Datum		rank = SPI_getbinval(tup, desc, 3, &isnull);

			add_word(&c, VARDATA_ANY(word), VARSIZE_ANY_EXHDR(word), v,
					 isnull ? 0 : DatumGetInt32(rank));
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	finish_cache(&c);

	c.version = version;
	c.version_xmin = version_xmin;
	MemoryContextSetParent(c.cxt, TopMemoryContext);
	if (cache.cxt != NULL)
		MemoryContextDelete(cache.cxt);
	cache = c;
}

/*
 * Make the cache match what the active snapshot sees of vecrec.word_vectors
 */
static void
ensure_cache(void)
{
	int64		version;
	TransactionId xmin;
	bool		isnull;

	if (cache.cxt != NULL && snapshot_unchanged())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT version, xmin FROM vecrec.word_vectors_version", true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vecrec.word_vectors_version must hold exactly one row"),
				 errhint("Reinstall the extension, or INSERT INTO vecrec.word_vectors_version VALUES (0).")));
	version = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (cache.cxt == NULL || cache.version != version || cache.version_xmin != xmin)
	{
		cache.key_valid = false;
		reload_cache(version, xmin);
	}
	SPI_finish();
	remember_snapshot();
}

/*
 * SIF weight of word w
 */
static inline float
word_weight(const WordCacheData *c, uint32 w, double a)
{
	double		p;

	if (a <= 0 || c->ranks[w] == 0)
		return 1.0f;
	p = 1.0 / ((double) c->ranks[w] * c->harmonic);
	return (float) (a / (a + p));
}

/*
 * Weighted sum of the vectors of the known words of s into acc (dim
 * floats, zeroed); the number of words found
 */
static int
sum_words(const WordCacheData *c, const char *s, int len, float *acc)
{
	VrTokenizer tk;
	char	   *buf = palloc(len + 1);
	size_t		n;
	int			found = 0;
	double		a = vecrec_sif_a;

	VrTokenizerInit(&tk, s, len);
	while ((n = VrTokenNext(&tk, buf)) > 0)
	{
		int64		w = lookup_word(c, buf, (uint32) n, hash_bytes((unsigned char *) buf, (int) n));
		const float *v;
		float		wt;

		if (w < 0)
			continue;
		v = c->vectors + (Size) w * c->dim;
		wt = word_weight(c, (uint32) w, a);
		for (int i = 0; i < c->dim; i++)
			acc[i] += wt * v[i];
		found++;
	}
	pfree(buf);
	return found;
}

/*
 * vecrec.embed_text(text) -> vector: SIF-weighted, L2-normalised sum of the
 * vectors of the text's words; NULL when no word is known
 */
Datum
vecrec_embed_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			len;
	char	   *s = to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);
	float	   *acc;
	double		norm;
	Vector	   *result;

	ensure_cache();
	if (cache.nwords == 0)
		PG_RETURN_NULL();
	acc = palloc0(sizeof(float) * cache.dim);
	if (sum_words(&cache, s, len, acc) == 0)
		PG_RETURN_NULL();
	norm = sqrt((double) VecActiveKernels->dot(cache.dim, acc, acc));
	if (!(norm > 0) || isinf(norm))
		PG_RETURN_NULL();
	result = InitVector(cache.dim);
	for (int i = 0; i < cache.dim; i++)
		result->x[i] = (float) (acc[i] / norm);
	pfree(acc);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vecrec.tokenize(text) -> text[]: the words embed_text looks up
 */
Datum
vecrec_tokenize(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			len;
	char	   *s = to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);
	char	   *buf = palloc(len + 1);
	ArrayBuildState *astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	VrTokenizer tk;
	size_t		n;

	VrTokenizerInit(&tk, s, len);
	while ((n = VrTokenNext(&tk, buf)) > 0)
	{
		char	   *w = pg_any_to_server(buf, (int) n, PG_UTF8);

		astate = accumArrayResult(astate,
								  PointerGetDatum(cstring_to_text_with_len(w, w == buf ? (int) n : (int) strlen(w))),
								  false, TEXTOID, CurrentMemoryContext);
	}
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}
