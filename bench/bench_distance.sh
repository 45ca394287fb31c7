#!/usr/bin/env bash
# bench_distance.sh - distance benchmark (make bench-distance).
#
#   bash bench/bench_distance.sh [options]
#
#   --no-kernels       skip part 1 (C kernel microbenchmark)
#   --no-sql           skip part 2 (exact scan in PostgreSQL)
#   --pgvector-only    part 2 without vecrec (for comparison runs only)
#   --queries N        queries timed in part 2 (default 50)
#   --reps N           repetitions of the query set (default 3)
#   --data DIR         GloVe-100 folder (default: get_glove100.sh's default)
#   --kernel-args "..." extra options for bench_kernels (e.g. "-b 256 -r 3")
#
# Part 1 builds bench/bench_kernels from the PostgreSQL-independent kernel
# sources in src/ (each with the same per-file flags as the extension) and
# measures, per kernel the CPU supports and per dimension, the GB/s of
# vectors scanned by the cosine and L2 kernels, out of cache (1 GiB array)
# and in cache (256 KiB), next to the memory bandwidth.
#
# Part 2 starts a throwaway PostgreSQL cluster under /tmp (as root, the server
# runs as the postgres user), loads the 331,479 GloVe-100 base vectors into
# items(id int, embedding vector(100)) in database bench_vecrec
# (CREATE EXTENSION vecrec) and, when pgvector is installed, in bench_pgvector
# (CREATE EXTENSION vector), caches the table (pg_prewarm), then times
#   SELECT id FROM items ORDER BY embedding <=> $q LIMIT 10
# for the first N queries of query.fvecs, REPS times, with no parallel
# workers and then with 2.  Both databases are measured by the same client:
# a PL/pgSQL function timing each query with clock_timestamp() in the
# server.  Reports the median latency per query, queries/s, recall@10
# against the ground truth, and the vecrec/pgvector time ratio.  The cluster
# (bench/lib.sh) is stopped and removed on exit; KEEP_CLUSTER=1 keeps it.
#
# Needs: vecrec installed (make install), a C compiler, libsimde-dev, node
# and npm for the data (see get_glove100.sh); pgvector is optional.
# PG_CONFIG selects the server (default: Debian's PostgreSQL 15).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
LIB_NAME=bench_distance
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

RUN_KERNELS=1
RUN_SQL=1
NEED_VECREC=1
NQ=50
REPS=3
DATA=""
KERNEL_ARGS="${BENCH_KERNEL_ARGS:-}"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-kernels) RUN_KERNELS=0 ;;
        --no-sql) RUN_SQL=0 ;;
        --pgvector-only) NEED_VECREC=0 ;;
        --queries) NQ="${2:?}"; shift ;;
        --reps) REPS="${2:?}"; shift ;;
        --data) DATA="${2:?}"; shift ;;
        --kernel-args) KERNEL_ARGS="${2:?}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[[ "$NQ" =~ ^[0-9]+$ && "$NQ" -ge 1 && "$NQ" -le 10000 ]] || die "--queries must be 1..10000"
[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 ]] || die "--reps must be >= 1"

# ---------------------------------------------------------------------------
# Part 1: kernel microbenchmark
# ---------------------------------------------------------------------------
run_kernels() {
    local cc="${CC:-cc}" build flags objs=() arch
    command -v "$cc" >/dev/null || die "needs a C compiler: apt-get install gcc"
    [[ -f /usr/include/simde/x86/sse2.h ]] || die "needs SIMDe: apt-get install libsimde-dev"
    [[ -f "$REPO/src/kernels.h" ]] || die "no $REPO/src/kernels.h"
    build="$(mktemp -d "${TMPDIR:-/tmp}/vecrec-bench-kernels.XXXXXX")"
    flags=(-O2 -Wall -I"$REPO/src" -I/usr/include)
    arch="$(uname -m)"

    # The same per-file flags as the extension's Makefile.
    compile() {   # compile SOURCE [EXTRA FLAGS...]
        local s="$1"; shift
        local o
        o="$build/$(basename "${s%.c}").o"
        "$cc" "${flags[@]}" "$@" -c "$REPO/src/$s" -o "$o" || { rm -rf "$build"; die "cannot compile src/$s"; }
        objs+=("$o")
    }
    compile kernels.c
    compile kernels_scalar.c
    if [[ "$arch" == x86_64 ]]; then
        compile kernels_avx2.c -mavx2 -mfma
        compile kernels_avx512.c -mavx512f
    elif [[ "$arch" == aarch64 ]]; then
        compile kernels_neon.c
    fi
    "$cc" "${flags[@]}" "$HERE/bench_kernels.c" "${objs[@]}" -o "$HERE/bench_kernels" -lm \
        || { rm -rf "$build"; die "cannot build bench/bench_kernels"; }
    rm -rf "$build"

    echo "=== part 1: distance kernels (bench/bench_kernels $KERNEL_ARGS)"
    # shellcheck disable=SC2086
    "$HERE/bench_kernels" $KERNEL_ARGS || die "bench_kernels failed"
    echo
}

# ---------------------------------------------------------------------------
# Part 2: exact scan in PostgreSQL, vecrec vs pgvector
# ---------------------------------------------------------------------------
# Plan of the timed statement as run inside bench_knn(), with the workers
# actually launched, from auto_explain's entry in the server log.
timed_plan() {
    local db=$1 workers=$2 log="$CLUSTER/server.log"
    "${PSQL[@]}" -d "$db" -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
        -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_analyze = on" \
        -c "SET auto_explain.log_timing = off" -c "SET max_parallel_workers_per_gather = $workers" \
        -c "SELECT count(*) FROM bench_knn(1)" >/dev/null 2>&1 || { echo "(auto_explain not available)"; return 0; }
    awk '/Query Text: SELECT n - 1, NULL::float8/ { grab = 1; plan = ""; next }
         grab && /^\t/ { if (plan == "" && $0 !~ /\(cost=/) next     # rest of the query text
                         if ($0 !~ /Sort Key|Sort Method|Worker [0-9]+:/) plan = plan $0 "\n"; next }
         grab { grab = 0; last = plan }
         END { if (grab) last = plan; printf "%s", last }' "$log" \
        | sed -E 's/^[[:space:]]*(->[[:space:]]+)?//; s/ +\(cost=[^)]*\)//; s/ \(actual rows=[0-9]+ loops=[0-9]+\)//' \
        | paste -sd '|' | sed 's/|/ | /g'
}

run_sql() {
    local dbs=() db results summary
    find_pg
    if [[ -f "$SHAREDIR/extension/vecrec.control" ]]; then
        dbs+=(bench_vecrec)
    elif [[ $NEED_VECREC -eq 1 ]]; then
        die "the vecrec extension is not installed in $SHAREDIR/extension: run 'make install' first"
    else
        say "vecrec not installed: skipped (--pgvector-only)"
    fi
    if [[ -f "$SHAREDIR/extension/vector.control" ]]; then
        dbs+=(bench_pgvector)
    else
        say "pgvector (extension 'vector') is not installed on this server: measuring vecrec alone"
    fi
    [[ ${#dbs[@]} -gt 0 ]] || die "nothing to measure"

    glove_data
    start_cluster "shared_buffers = 2GB
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 8GB
work_mem = 64MB
maintenance_work_mem = 512MB"

    echo "=== part 2: exact scan, GloVe-100 (331,479 x 100), ORDER BY embedding <=> q LIMIT 10"
    say "$(pg_version), shared_buffers=2GB, jit=off, cluster $CLUSTER"

    for db in "${dbs[@]}"; do
        local ext=vecrec
        [[ "$db" == bench_pgvector ]] && ext=vector
        local t0=$SECONDS
        "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" || die "CREATE DATABASE $db failed"
        "${PSQL[@]}" -d "$db" >/dev/null <<SQL || die "setting up $db failed"
CREATE EXTENSION $ext;
CREATE TABLE items (id int, embedding vector(100));
CREATE TABLE queries (id int PRIMARY KEY, embedding vector(100));
CREATE TABLE truth (id int PRIMARY KEY, ids int[]);

-- Times the first nq queries one by one (after one untimed warm-up query).
-- Per query two rows: the 10 ids found (ms NULL), then the time (ids NULL).
-- RETURN QUERY, unlike SELECT INTO (which runs with a row limit), lets the
-- statement use parallel workers when max_parallel_workers_per_gather > 0.
CREATE FUNCTION bench_knn(nq int) RETURNS TABLE (qid int, ms float8, ids int[])
LANGUAGE plpgsql AS \$\$
DECLARE
    qs vector[] := ARRAY(SELECT embedding FROM queries WHERE id < nq ORDER BY id);
    q vector;
    t0 timestamptz;
BEGIN
    IF cardinality(qs) <> nq THEN
        RAISE EXCEPTION 'only % queries loaded', cardinality(qs);
    END IF;
    q := qs[1];
    PERFORM it.id FROM items it ORDER BY it.embedding <=> q LIMIT 10;
    FOR n IN 1 .. nq LOOP
        q := qs[n];
        t0 := clock_timestamp();
        RETURN QUERY SELECT n - 1, NULL::float8, array_agg(s.id)
            FROM (SELECT it.id FROM items it ORDER BY it.embedding <=> q LIMIT 10) s;
        qid := n - 1;
        ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
        ids := NULL;
        RETURN NEXT;
    END LOOP;
END
\$\$;
SQL
        say "$db: loading base vectors ($ext)"
        "${PSQL[@]}" -d "$db" -c '\copy items (id, embedding) FROM pstdin' <"$DATA/base.tsv" \
            || die "loading base.tsv into $db failed"
        "${PSQL[@]}" -d "$db" -c '\copy queries (id, embedding) FROM pstdin' <"$DATA/query.tsv" \
            || die "loading query.tsv into $db failed"
        "${PSQL[@]}" -d "$db" -c '\copy truth (id, ids) FROM pstdin' <"$DATA/groundtruth.tsv" \
            || die "loading groundtruth.tsv into $db failed"
        "${PSQL[@]}" -d "$db" -c 'VACUUM (FREEZE, ANALYZE) items' -c 'VACUUM ANALYZE queries' -c 'VACUUM ANALYZE truth' \
            || die "VACUUM failed in $db"
        local info
        info=$("${PSQL[@]}" -d "$db" -At -F ' ' -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
            -c "SELECT count(*), pg_size_pretty(pg_table_size('items')), pg_prewarm('items') FROM items") \
            || die "pg_prewarm failed in $db"
        say "$db: rows, table size, pages prewarmed: $info ($((SECONDS - t0)) s)"
    done

    results="$CLUSTER/results.csv"
    : >"$results"
    local workers rep order
    for workers in 0 2; do
        for db in "${dbs[@]}"; do
            say "plan, $db, workers=$workers: $(timed_plan "$db" "$workers")"
        done
        for ((rep = 1; rep <= REPS; rep++)); do
            # alternate the order, so drift in the machine's speed hits both alike
            order=("${dbs[@]}")
            if (( rep % 2 == 0 )) && [[ ${#dbs[@]} -eq 2 ]]; then order=("${dbs[1]}" "${dbs[0]}"); fi
            for db in "${order[@]}"; do
                "${PSQL[@]}" -d "$db" -At -F ',' -c "SET max_parallel_workers_per_gather = $workers" \
                    -c "WITH b AS MATERIALIZED (SELECT * FROM bench_knn($NQ))
                        SELECT '$db', $workers, $rep, t.qid, t.ms,
                               (SELECT count(*) FROM unnest(r.ids) g WHERE g = ANY (tr.ids[1:10]))::float8 / 10
                          FROM b t JOIN b r ON r.qid = t.qid AND r.ids IS NOT NULL
                          JOIN truth tr ON tr.id = t.qid
                         WHERE t.ms IS NOT NULL ORDER BY t.qid" >>"$results" \
                    || die "timing run failed in $db"
            done
        done
    done

    # summary (computed by the server from the raw timings)
    "${PSQL[@]}" -d postgres >/dev/null <<SQL || die "summary failed"
CREATE TABLE bench_results (db text, workers int, rep int, qid int, ms float8, recall float8);
SQL
    "${PSQL[@]}" -d postgres -c '\copy bench_results FROM pstdin WITH (FORMAT csv)' <"$results" \
        || die "summary failed"
    local summary_sql
    summary_sql=$(cat <<SQL
WITH per_rep AS (
    SELECT db, workers, rep, sum(ms) AS total_ms FROM bench_results GROUP BY 1, 2, 3),
s AS (
    SELECT r.db, r.workers,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) AS median_ms,
           min(r.ms) AS min_ms,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY r.ms) AS p90_ms,
           avg(r.recall) AS recall,
           count(*) AS samples,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY p.total_ms)
              FROM per_rep p WHERE p.db = r.db AND p.workers = r.workers) AS median_rep_ms
      FROM bench_results r GROUP BY r.db, r.workers)
SELECT s.db, s.workers, round(s.median_ms::numeric, 2), round(s.min_ms::numeric, 2),
       round(s.p90_ms::numeric, 2),
       round((1000.0 * $NQ / s.median_rep_ms)::numeric, 2), round(s.recall::numeric, 4), s.samples,
       coalesce(round((s.median_ms / p.median_ms)::numeric, 3)::text, '-')
  FROM s LEFT JOIN s p ON p.db = 'bench_pgvector' AND p.workers = s.workers AND s.db = 'bench_vecrec'
 ORDER BY s.workers, s.db DESC;
SQL
)
    summary=$("${PSQL[@]}" -d postgres -At -F $'\t' -c "$summary_sql") || die "summary failed"
    echo
    echo "exact scan: $NQ queries x $REPS repetitions; latency measured in the server per query"
    printf '%-15s %7s %10s %8s %8s %10s %11s %8s %16s\n' \
        database workers "median ms" "min ms" "p90 ms" "queries/s" "recall@10" samples "vecrec/pgvector"
    while IFS=$'\t' read -r db workers med mn p90 qps rec n ratio; do
        printf '%-15s %7s %10s %8s %8s %10s %11s %8s %16s\n' "$db" "$workers" "$med" "$mn" "$p90" "$qps" "$rec" "$n" "$ratio"
    done <<<"$summary"
    echo
    echo "csv,database,workers,median_ms,min_ms,p90_ms,queries_per_s,recall_at_10,samples,time_ratio_vecrec_pgvector"
    while IFS=$'\t' read -r db workers med mn p90 qps rec n ratio; do
        echo "csv,$db,$workers,$med,$mn,$p90,$qps,$rec,$n,$ratio"
    done <<<"$summary"

    # recall far from 1 means a wrong distance, not a slow one
    awk -F'\t' '$7 < 0.99 { bad = 1; print "bench_distance: recall@10 of " $1 " (workers=" $2 ") is " $7 " (expected ~1.0)" > "/dev/stderr" }
                END { exit bad }' <<<"$summary" || die "exact scan returned wrong neighbours"
}

[[ $RUN_KERNELS -eq 1 ]] && run_kernels
[[ $RUN_SQL -eq 1 ]] && run_sql
say "done"
