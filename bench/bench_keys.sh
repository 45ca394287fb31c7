#!/usr/bin/env bash
# bench_keys.sh - the filtered recommendation query through an hnsw index with a
# filter key column (src/hnsw/hnswpart.c) against vecrec's exact scan and
# pgvector's best exact plan, on GloVe-100 (cosine).
#
#   bash bench/bench_keys.sh [--base N] [--queries N] [--duration S] [--reps N] [--data DIR]
#
# One throwaway cluster (scripts/pgcluster.sh; shared_buffers=4GB, jit=off,
# max_parallel_workers_per_gather=0, autovacuum off) with two databases of
# the same rows: items (id, embedding vector(100), category int, in_stock bool)
# from base.tsv, category = (id * 7919) % 100 (1% of the rows each, scattered
# over the heap), in_stock for 9 rows in 10 (independent of the category), and the first N queries of
# query.tsv.  A btree on category in both.
#
# Timed with pgbench -M prepared, 1 client, a random query and category per
# transaction, --duration seconds, --reps times (median):
#   SELECT id FROM items WHERE category = :cat
#     ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 10
# and the recommendation shape (WHERE in_stock AND category = :cat ... LIMIT 12)
#   partition  vecrec, hnsw (embedding vector_cosine_ops, category): the key's partition
#   exact      vecrec, that index dropped, enable_sort = off: vecrec's exact custom scan
#              (Vecrec Exact Scan; the planner may otherwise prefer a bitmap scan + sort)
#   pgvector   pgvector 0.8.6, no vector index: its best plan at 1% (bitmap scan + sort)
# Reported per plan: latency (ms, pgbench's average) and server CPU per query
# (ms: user + system time of the pgbench backends, from the postmaster's
# cutime/cstime once they have exited).  Every plan's answers are compared
# with the exact ones first (recall, untimed).
set -euo pipefail
cd "$(dirname "$0")/.."

NBASE=331479
NQ=200
DURATION=10
REPS=3
DATA=${VECREC_DATA:-$HOME/.cache/vecrec-data/glove100}
while (($#)); do
    case $1 in
        --base) NBASE=$2; shift 2 ;;
        --queries) NQ=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --data) DATA=$2; shift 2 ;;
        *) echo "usage: $0 [--base N] [--queries N] [--duration S] [--reps N] [--data DIR]" >&2; exit 2 ;;
    esac
done
for f in base.tsv query.tsv; do [[ -r "$DATA/$f" ]] || { echo "missing $DATA/$f (bench/get_glove100.sh)" >&2; exit 1; }; done

PGC=scripts/pgcluster.sh
BINDIR=$("${PG_CONFIG:-pg_config}" --bindir)
WORK=$(mktemp -d /tmp/vecrec-bench-keys.XXXXXX)
chmod 755 "$WORK"
CLUSTER=$WORK/cluster
PORT=$(bash $PGC freeport)
trap 'bash $PGC stop "$CLUSTER" --remove >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
bash $PGC start "$CLUSTER" "$PORT" >/dev/null
cat >>"$CLUSTER/data/postgresql.conf" <<EOF
shared_buffers = 4GB
jit = off
max_parallel_workers_per_gather = 0
autovacuum = off
maintenance_work_mem = 4GB
max_parallel_maintenance_workers = 1
EOF
bash $PGC stop "$CLUSTER" >/dev/null
bash $PGC start "$CLUSTER" "$PORT" >/dev/null
PMPID=$(head -1 "$CLUSTER/data/postmaster.pid")

q() { local db=$1; shift; "$BINDIR/psql" -h "$CLUSTER" -p "$PORT" -U postgres -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }
say() { echo "[$(date +%T)] $*" >&2; }

for db in bench_vecrec bench_pgvector; do
    q postgres -c "CREATE DATABASE $db"
    ext=vecrec; [[ $db == bench_pgvector ]] && ext=vector
    q "$db" -c "CREATE EXTENSION $ext" -c "CREATE EXTENSION pg_prewarm" \
        -c "CREATE TABLE items (id int PRIMARY KEY, embedding vector(100), category int, in_stock bool)" \
        -c "CREATE TABLE queries (qid int PRIMARY KEY, v vector(100))"
    head -n "$NBASE" "$DATA/base.tsv" | q "$db" -c '\copy items (id, embedding) FROM pstdin'
    head -n "$NQ" "$DATA/query.tsv" | q "$db" -c '\copy queries (qid, v) FROM pstdin'
    q "$db" -c "UPDATE items SET category = (id::bigint * 7919) % 100, in_stock = (id / 100) % 10 <> 0" \
        -c "VACUUM FULL items" -c "CREATE INDEX items_category ON items (category)" -c "VACUUM ANALYZE items"
    say "$db: loaded $NBASE rows"
done
# vecrec's planner hook (the exact scan) is only there once the library is
# loaded: load it with every session, as a server with vecrec in
# shared_preload_libraries would
q bench_vecrec -c "ALTER DATABASE bench_vecrec SET session_preload_libraries = 'vecrec'"
t0=$(date +%s.%N)
q bench_vecrec -c "CREATE INDEX items_keys ON items USING hnsw (embedding vector_cosine_ops, category)"
say "vecrec: CREATE INDEX items_keys (embedding, category): $(echo "$(date +%s.%N) - $t0" | bc) s, $(q bench_vecrec -c "SELECT pg_size_pretty(pg_relation_size('items_keys'))")"
q bench_vecrec -c "SELECT detail FROM vecrec.verify_index('items_keys') WHERE \"check\" = 'partitions'" >&2

SQL10="SELECT id FROM items WHERE category = :cat ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 10"
SQL12="SELECT id FROM items WHERE in_stock AND category = :cat ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 12"

# exact answers of the first 20 queries x 10 categories (seqscan + sort), and a plan's recall
exact_check() {
    local db=$1 sql=$2 lim=$3 s
    s=${sql//:cat/c}; s=${s//:qid/qq}
    q "$db" -c "
        CREATE TEMP TABLE got AS SELECT qq, c, ARRAY($s) AS ids FROM generate_series(0, 19) qq, generate_series(0, 9) c;
        SET enable_indexscan = off; SET enable_bitmapscan = off;
        $( [[ $db == bench_vecrec ]] && echo 'SET vecrec.enable_exact_scan = off;' )
        SELECT round(avg((SELECT count(*) FROM unnest(g.ids) x WHERE x = ANY (e.ids))::numeric / greatest(cardinality(e.ids), 1)), 4)
        FROM got g JOIN (SELECT qq, c, ARRAY(${s/ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = qq)/ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = qq), id}) AS ids
                         FROM generate_series(0, 19) qq, generate_series(0, 9) c) e USING (qq, c)"
}

pm_child_ticks() { awk '{ print $16 + $17 }' "/proc/$PMPID/stat"; }
pm_nchildren() { wc -w <"/proc/$PMPID/task/$PMPID/children"; }

# timed DB SQL -> "latency_ms cpu_ms_per_query"
timed() {
    local db=$1 sql=$2 dir=$WORK/pgb t0 t1 n lat i nch0
    rm -rf "$dir"; mkdir -p "$dir"
    printf '\\set qid random(0, %d)\n\\set cat random(0, 99)\n%s;\n' "$((NQ - 1))" "$sql" >"$dir/script.sql"
    nch0=$(pm_nchildren); t0=$(pm_child_ticks)
    "$BINDIR/pgbench" -h "$CLUSTER" -p "$PORT" -U postgres -n -M prepared -f "$dir/script.sql" -c 1 -j 1 \
        -T "$DURATION" "$db" >"$dir/out" 2>"$dir/err" || { cat "$dir/out" "$dir/err" >&2; exit 1; }
    for ((i = 0; i < 100; i++)); do (($(pm_nchildren) <= nch0)) && break; sleep 0.05; done
    t1=$(pm_child_ticks)
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/out")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$dir/out")
    awk -v lat="$lat" -v n="$n" -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.4f %.4f\n", lat, 1000 * t / hz / n }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A LAT CPU PLAN RECALL
run_plan() {   # run_plan NAME DB [PGOPTIONS]
    local name=$1 db=$2 shape sql lim r out
    export PGOPTIONS=${3:-}
    for shape in 10 12; do
        if [[ $shape == 10 ]]; then sql=$SQL10; lim=10; else sql=$SQL12; lim=12; fi
        local s=${sql//:cat/7}; s=${s//:qid/1}
        PLAN[$name,$shape]=$(q "$db" -c "EXPLAIN (COSTS OFF) $s" | grep -E 'Scan|Sort' | grep -v queries_pkey | sed 's/^ *//; s/ *-> *//' | paste -sd ';')
        RECALL[$name,$shape]=$(exact_check "$db" "$sql" "$lim")
        DURATION=2 timed "$db" "$sql" >/dev/null   # warm-up
        local lats=() cpus=()
        for ((r = 0; r < REPS; r++)); do
            out=$(timed "$db" "$sql")
            lats+=("${out% *}"); cpus+=("${out#* }")
        done
        LAT[$name,$shape]=$(printf '%s\n' "${lats[@]}" | median)
        CPU[$name,$shape]=$(printf '%s\n' "${cpus[@]}" | median)
        say "$name LIMIT $lim: latency ${LAT[$name,$shape]} ms, server CPU ${CPU[$name,$shape]} ms/query (runs: ${lats[*]} / ${cpus[*]}), recall ${RECALL[$name,$shape]}, plan ${PLAN[$name,$shape]}"
    done
}

for db in bench_vecrec bench_pgvector; do q "$db" -c "SELECT pg_prewarm('items')" -c "SELECT pg_prewarm('items_category')" >/dev/null; done
q bench_vecrec -c "SELECT pg_prewarm('items_keys')" >/dev/null
run_plan partition bench_vecrec
q bench_vecrec -c "DROP INDEX items_keys"
run_plan exact bench_vecrec "-c enable_sort=off"
run_plan pgvector bench_pgvector
export PGOPTIONS=

echo
echo "GloVe-100, $NBASE rows, category 1% each (scattered), $NQ queries, pgbench -M prepared 1 client, ${DURATION}s x $REPS (median)"
printf '%-10s %-8s %12s %14s %8s  %s\n' plan query latency_ms cpu_ms/query recall plan
for name in partition exact pgvector; do
    for shape in 10 12; do
        printf '%-10s %-8s %12s %14s %8s  %s\n' "$name" "LIMIT $shape" "${LAT[$name,$shape]}" "${CPU[$name,$shape]}" "${RECALL[$name,$shape]}" "${PLAN[$name,$shape]}"
    done
done
