#!/usr/bin/env bash
# bench_fresh.sh - catalog freshness benchmark (make bench-fresh).
#
#   bash bench/bench_fresh.sh [--rows N] [--reps N] [--dims N]
#
# Starts a throwaway cluster under /tmp (see bench/lib.sh), generates a
# vocabulary of 5,000 words with random vectors (--dims, default 100) and a
# catalog of --rows products (default 100,000; titles of 4-8 words drawn with
# a Zipf-like skew, a description, a price, an empty vector(dims) embedding),
# then, REPS times each (default 3, medians reported), on a fresh table:
#
#   COPY catalog FROM file                   (100k rows: 100k jobs)
#   UPDATE catalog SET title = title || ' x' (every row, a source column;
#                                             coalesced with the 100k pending jobs)
#   UPDATE catalog SET price = price + 1     (every row, no source column)
#   UPDATE catalog SET title = title || ' y' (after TRUNCATE of the queue:
#                                             100k new jobs)
#
# once without triggers, once tracked with the embedding queue
# (vecrec.track(catalog, '{title,descr}')), and prints time ratios
# (queue / plain).  Then the in-database embedder: embed_text titles/s on
# one core (SELECT over the catalog's titles, vocabulary cached) and COPY
# rows/s into a catalog tracked with embedder => vecrec.embed_text.
#
# No GloVe needed: all data is generated.  PG_CONFIG selects the server.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB_NAME=bench-fresh
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

ROWS=100000
REPS=3
DIMS=100
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --reps) REPS="$2"; shift 2 ;;
        --dims) DIMS="$2"; shift 2 ;;
        *) die "unknown option $1 (see the header of $0)" ;;
    esac
done

find_pg
start_cluster "shared_buffers = 512MB
max_wal_size = 4GB
checkpoint_timeout = 30min
autovacuum = off
synchronous_commit = off
max_parallel_workers_per_gather = 0"

q() { "${PSQL[@]}" -d bench -At -c "SET client_min_messages = warning" -c "$1"; }
# seconds taken by one statement (a psql of its own; the connection is
# opened before the clock starts by a trivial first statement)
timed() {
    "${PSQL[@]}" -d bench -At -c "SET client_min_messages = warning" -c '\timing on' -c "$1" |
        awk '/^Time: / { t = $2 } END { printf "%.4f\n", t / 1000 }'
}

"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
say "generating $ROWS rows and 5,000 words of $DIMS dimensions"
DATA="$CLUSTER/catalog.tsv"
q "CREATE EXTENSION vecrec" >/dev/null
q "SELECT setseed(0.42)" >/dev/null
q "INSERT INTO vecrec.word_vectors (word, v, freq_rank)
   SELECT 'w' || i, (SELECT array_agg(random() - 0.5) FROM generate_series(1, $DIMS) WHERE i > 0)::vector, i
   FROM generate_series(1, 5000) i" >/dev/null
q "COPY (SELECT i, (SELECT string_agg('w' || floor(exp(random() * ln(6000)))::int, ' ')
                      FROM generate_series(1, 4 + (i % 5)) WHERE i > 0),
               'description of product ' || i, (i % 1000) + 0.99
        FROM generate_series(1, $ROWS) i) TO '$DATA'" >/dev/null

setup_table() {  # setup_table MODE (plain | queue | embed)
    local track=""
    case "$1" in
        queue) track="SELECT vecrec.track('catalog', '{title,descr}');" ;;
        embed) track="SELECT vecrec.track('catalog', '{title,descr}', embedder => 'vecrec.embed_text');" ;;
    esac
    q "DROP TABLE IF EXISTS catalog; DELETE FROM vecrec.catalogs; TRUNCATE vecrec.embedding_queue;
       CREATE TABLE catalog (id bigint PRIMARY KEY, title text, descr text, price numeric,
                             embedding vector($DIMS));
       $track CHECKPOINT" >/dev/null
}

declare -A T
for mode in plain queue; do
    for ((r = 1; r <= REPS; r++)); do
        setup_table "$mode"
        T[$mode,copy]+=" $(timed "COPY catalog (id, title, descr, price) FROM '$DATA'")"
        q "VACUUM ANALYZE catalog" >/dev/null; q CHECKPOINT >/dev/null
        T[$mode,upd_src]+=" $(timed "UPDATE catalog SET title = title || ' x'")"
        q "VACUUM ANALYZE catalog" >/dev/null; q CHECKPOINT >/dev/null
        T[$mode,upd_other]+=" $(timed "UPDATE catalog SET price = price + 1")"
        q "TRUNCATE vecrec.embedding_queue" >/dev/null
        q "VACUUM ANALYZE catalog" >/dev/null; q CHECKPOINT >/dev/null
        T[$mode,upd_empty]+=" $(timed "UPDATE catalog SET title = title || ' y'")"
    done
    jobs=$(q "SELECT count(*) FROM vecrec.embedding_queue")
    say "$mode: $jobs jobs queued after the last run"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
printf '%-40s %10s %10s %8s\n' "statement ($ROWS rows, median of $REPS)" "plain s" "queue s" "ratio"
for k in copy upd_src upd_other upd_empty; do
    # shellcheck disable=SC2086
    p=$(median ${T[plain,$k]}); qq=$(median ${T[queue,$k]})
    case $k in
        copy) name="COPY" ;;
        upd_src) name="UPDATE title (100k jobs pending)" ;;
        upd_empty) name="UPDATE title (queue empty)" ;;
        upd_other) name="UPDATE other column (price)" ;;
    esac
    printf '%-40s %10.3f %10.3f %8s\n' "$name" "$p" "$qq" "$(ratio "$qq" "$p")"
done

# the embedder: titles/s on one core, and COPY with the embedder trigger
setup_table plain
q "COPY catalog (id, title, descr, price) FROM '$DATA'" >/dev/null
q "SELECT vecrec.embed_text('w1')" >/dev/null
E=""
for ((r = 1; r <= REPS; r++)); do
    E+=" $(timed "SELECT count(vecrec.embed_text(title)) FROM catalog")"
done
S=""
for ((r = 1; r <= REPS; r++)); do
    S+=" $(timed "SELECT count(title) FROM catalog")"
done
C=""
for ((r = 1; r <= REPS; r++)); do
    setup_table embed
    C+=" $(timed "COPY catalog (id, title, descr, price) FROM '$DATA'")"
done
setup_table plain
P=""
for ((r = 1; r <= REPS; r++)); do
    setup_table plain
    P+=" $(timed "COPY catalog (id, title, descr, price) FROM '$DATA'")"
done
# shellcheck disable=SC2086
e=$(median $E); s=$(median $S); c=$(median $C); p=$(median $P)
echo
awk -v n="$ROWS" -v e="$e" -v s="$s" 'BEGIN {
    printf "embed_text: %.0f titles/s on one core (%.3f s for %d titles; the scan alone %.3f s)\n", n / e, e, n, s }'
awk -v n="$ROWS" -v c="$c" -v p="$p" 'BEGIN {
    printf "COPY with embedder => vecrec.embed_text: %.0f rows/s (%.3f s; %.3f s without triggers, ratio %.2f)\n", n / c, c, p, c / p }'
