#!/usr/bin/env bash
# bench.sh - HNSW benchmark on GloVe-100 (cosine): vecrec vs pgvector (make bench).
#
#   bash bench/bench.sh [options]
#
#   --quick                 development run: 50,000 base rows, 200 queries, 1 repetition
#                           of 2 s per measurement (exact ground truth recomputed in SQL)
#   --queries N             queries used (the first N of query.tsv; default 1000, quick 200)
#   --base N                base rows loaded (the first N of base.tsv; default all 331,479,
#                           quick 50,000); with fewer than all, the ground truth is recomputed
#   --ef "LIST"             hnsw.ef_search sweep (default "10 20 40 80 120 200 400")
#   --m N --efc N           index parameters m and ef_construction (default 16 and 64)
#   --clients "LIST"        pgbench client counts (default "1 2")
#   --reps N                repetitions of each timed measurement, median reported
#                           (default 5, quick 1)
#   --duration S            seconds per pgbench measurement (default 5, quick 2)
#   --maintenance-work-mem X  for CREATE INDEX (default 8GB: both graphs fit in memory)
#   --parallel-workers N    max_parallel_maintenance_workers of the main build (default 0)
#   --low-memory            also time a serial build of each extension with
#                           maintenance_work_mem = a quarter of what vecrec's graph needed
#                           in the main build (which reports it at DEBUG1), reported apart
#                           with its ratio to the main build, then dropped
#   --parallel              also time a second build with 1 worker (0 if the main one had
#                           workers), reported apart, then dropped
#   --skip-pgvector         vecrec alone
#   --filters               filtered workload: WHERE category < c (10%, 1%, 0.1%) LIMIT 10, and
#                           the recommendation shape WHERE in_stock AND shelf = $2 LIMIT 12
#                           (10%, 1%, 0.1% of the rows), with
#                           hnsw.iterative_scan off / relaxed_order / strict_order (the hnsw
#                           index forced) and the planner's free choice (default ef_search,
#                           and the ef_search values of --planner-ef)
#   --planner-ef "LIST"     ef_search values of extra planner runs (default "60")
#   --filter-ef "LIST"      ef_search values of the forced filtered runs (default "40 100")
#   --no-sweep              skip the unfiltered ef sweep (with --filters)
#   --data DIR              GloVe-100 folder (default: get_glove100.sh's default)
#
# One throwaway cluster (under /tmp, server as the postgres user when run as
# root, removed on exit) holds two databases loaded with the same rows:
# bench_vecrec (CREATE EXTENSION vecrec) and bench_pgvector (CREATE EXTENSION
# vector).  Settings are the same for both: shared_buffers=4GB, jit=off,
# max_parallel_workers_per_gather=0, autovacuum off.
#
# Build: CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops)
# WITH (m, ef_construction), one database after the other; seconds (wall clock
# of the statement) and pg_relation_size.
#
# Sweep, per ef_search: recall@10 of the first N queries against the exact top
# 10 (untimed: one pass in the server, a PL/pgSQL loop over a prepared
# statement, generic plan, enable_seqscan=off); then throughput and latency
# with pgbench -M prepared, generic plan, -T duration, one script:
#   \set qid random(0, N-1)
#   SELECT id FROM items ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 10;
# for each client count, repeated --reps times with vecrec and pgvector
# interleaved (their order alternating), medians reported.  p50/p99 come from
# pgbench's per-transaction log.  cpu_ms is the server CPU time per query
# (user + system time of the pgbench backends, read from the postmaster's
# cutime/cstime after they exit): on a loaded machine it moves much less than
# the throughput.  Each database is warmed up first (pg_prewarm of table and
# index, then one untimed pass over the queries).  qps (and queries per server
# CPU second) at recall@10 = 0.90 and 0.95: linear interpolation between the
# two sweep points around the target.
#
# Filters (--filters): items gets category int and in_stock bool, generated
# from id (category = (id * 2654435761) % 1000, uniform), and a btree on
# category; the exact filtered top 10 is computed before the hnsw index
# exists.  For each c in 100, 10, 1 (WHERE category < c LIMIT 10), and for
# the issue's shape (WHERE in_stock AND category = $2 LIMIT 12, query qid
# looking in category qid * 7 % 1000, recall@12 against the exact top 12):
# the forced hnsw plan with each iterative_scan mode and --filter-ef value,
# and the planner's own plan (default ef_search and each --planner-ef);
# rows per query, recall, qps and latency (first --clients value).
#
# The vecrec library is pinned: a copy taken at the start is what
# bench_vecrec loads (dynamic_library_path and the functions' probin), so a
# 'make install' by someone else during the run cannot mix two builds.
#
# Output: a table, summary lines, "csv,..." lines; the CSV (same rows, with a
# header, without the "csv," prefix) in bench/results/hnsw_glove100_<time>.csv,
# and beside it a plot of recall vs queries/s of the sweep (.png, bench/plot.sh).
#
# Needs: vecrec installed (make install), PostgreSQL 15 server and pgbench;
# pgvector optional; the data from bench/get_glove100.sh (run if missing).
# PG_CONFIG selects the server.  KEEP_CLUSTER=1 keeps the cluster directory.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
LIB_NAME=bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

QUICK=0
NQ=""
NBASE=""
EFS="10 20 40 80 120 200 400"
M=16
EFC=64
CLIENTS="1 2"
REPS=""
DURATION=""
MWM=8GB
PW=0
PARALLEL=0
LOWMEM=0
SKIP_PGV=0
FILTERS=0
FILTER_EFS="40 100"
PLANNER_EFS="60"
SWEEP=1
DATA=""
SELS="100 10 1 s10 s1 s01"   # category < c: 10%, 1%, 0.1%; sN: in_stock AND shelf = $2 LIMIT 12 (10%, 1%, 0.1%)
FULL_BASE=331479

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --queries) NQ="${2:?--queries needs a value}"; shift ;;
        --base) NBASE="${2:?--base needs a value}"; shift ;;
        --ef) EFS="${2:?--ef needs a value}"; shift ;;
        --m) M="${2:?--m needs a value}"; shift ;;
        --efc) EFC="${2:?--efc needs a value}"; shift ;;
        --clients) CLIENTS="${2:?--clients needs a value}"; shift ;;
        --reps) REPS="${2:?--reps needs a value}"; shift ;;
        --duration) DURATION="${2:?--duration needs a value}"; shift ;;
        --maintenance-work-mem) MWM="${2:?--maintenance-work-mem needs a value}"; shift ;;
        --parallel-workers) PW="${2:?--parallel-workers needs a value}"; shift ;;
        --parallel) PARALLEL=1 ;;
        --low-memory) LOWMEM=1 ;;
        --skip-pgvector) SKIP_PGV=1 ;;
        --filters) FILTERS=1 ;;
        --filter-ef) FILTER_EFS="${2:?--filter-ef needs a value}"; shift ;;
        --planner-ef) PLANNER_EFS="${2?--planner-ef needs a value}"; shift ;;
        --no-sweep) SWEEP=0 ;;
        --data) DATA="${2:?--data needs a value}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
if [[ $QUICK -eq 1 ]]; then
    : "${NQ:=200}" "${NBASE:=50000}" "${REPS:=1}" "${DURATION:=2}"
else
    : "${NQ:=1000}" "${NBASE:=$FULL_BASE}" "${REPS:=5}" "${DURATION:=5}"
fi
isnum "$NQ" && ((NQ >= 1 && NQ <= 10000)) || die "--queries must be 1..10000"
isnum "$NBASE" && ((NBASE >= 100 && NBASE <= FULL_BASE)) || die "--base must be 100..$FULL_BASE"
isnum "$M" && ((M >= 2 && M <= 100)) || die "--m must be 2..100"
isnum "$EFC" && ((EFC >= 4 && EFC <= 1000)) || die "--efc must be 4..1000"
isnum "$REPS" && ((REPS >= 1)) || die "--reps must be >= 1"
isnum "$DURATION" && ((DURATION >= 1)) || die "--duration must be >= 1 (seconds)"
isnum "$PW" && ((PW <= 64)) || die "--parallel-workers must be 0..64"
[[ "$MWM" =~ ^[0-9]+(kB|MB|GB)$ ]] || die "--maintenance-work-mem: e.g. 8GB or 512MB"
read -r -a EF_LIST <<<"$EFS"
read -r -a CLIENT_LIST <<<"$CLIENTS"
read -r -a FILTER_EF_LIST <<<"$FILTER_EFS"
read -r -a PLANNER_EF_LIST <<<"$PLANNER_EFS"
read -r -a SEL_LIST <<<"$SELS"
((${#EF_LIST[@]} >= 1)) || die "--ef: empty list"
((${#CLIENT_LIST[@]} >= 1)) || die "--clients: empty list"
for v in "${EF_LIST[@]}" "${FILTER_EF_LIST[@]}" "${PLANNER_EF_LIST[@]}"; do isnum "$v" && ((v >= 1 && v <= 1000)) || die "ef_search $v not in 1..1000"; done
for v in "${CLIENT_LIST[@]}"; do isnum "$v" && ((v >= 1 && v <= 64)) || die "client count $v not in 1..64"; done
[[ $SWEEP -eq 1 || $FILTERS -eq 1 ]] || die "--no-sweep without --filters leaves nothing to measure"
# sort the ef list numerically (the interpolation walks it in order)
mapfile -t EF_LIST < <(printf '%s\n' "${EF_LIST[@]}" | sort -n -u)
EF_MAX="${EF_LIST[-1]}"

# ---------------------------------------------------------------------------
# setup
# ---------------------------------------------------------------------------
find_pg
PKGLIBDIR="$("$PG_CONFIG" --pkglibdir)"
bench_dbs "$SKIP_PGV"
declare -A EXT=([bench_vecrec]=vecrec [bench_pgvector]=pgvector)
glove_data >/dev/null

SO="$PKGLIBDIR/vecrec.so"
so_sum() { md5sum "$SO" 2>/dev/null | cut -d' ' -f1; }
COMMIT="$(git_commit)"
T_START=$SECONDS
LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"

start_cluster "shared_buffers = 4GB
$GLOVE_CONF
work_mem = 64MB
max_connections = 50"
PMPID=$(head -n 1 "$CLUSTER/data/postmaster.pid")
mkdir -p "$CLUSTER/lib"
cd "$WORK"   # nothing is written to the caller's directory
# Pin the vecrec library: others may run 'make install' during the run, so
# bench_vecrec uses a copy taken now: its functions' probin becomes the bare
# name 'vecrec' (not '$libdir/vecrec'), found first in $CLUSTER/lib through
# dynamic_library_path.  Parallel workers load the same name, hence the same file.
cp "$SO" "$CLUSTER/lib/vecrec.so" || die "cannot copy $SO"
chmod 755 "$CLUSTER/lib" && chmod 644 "$CLUSTER/lib/vecrec.so"
SO_SUM0="$(md5sum "$CLUSTER/lib/vecrec.so" | cut -d' ' -f1)"
PGOPTIONS="" "${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET dynamic_library_path = '$CLUSTER/lib:\$libdir'" \
    -c "SELECT pg_reload_conf()" >/dev/null || die "cannot set dynamic_library_path"
for ((i = 0; i < 50; i++)); do
    [[ "$(PGOPTIONS="" "${PSQL[@]}" -At -d postgres -c "SHOW dynamic_library_path")" == "$CLUSTER/lib:"* ]] && break
    sleep 0.1
done

PGVER="$(pg_version)"
say "$PGVER, cluster $CLUSTER, shared_buffers=4GB, jit=off, $(nproc) CPUs"
say "base rows $NBASE, queries $NQ, m=$M ef_construction=$EFC, ef_search: ${EF_LIST[*]}, clients: ${CLIENT_LIST[*]}, $REPS x ${DURATION}s per measurement"

# ---------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------
FILTER_COLS=""
if [[ $FILTERS -eq 1 ]]; then
    # deterministic from id: category uniform in 0..999 (2654435761 is odd and
    # coprime with 1000, so each block of 1000 ids covers every category once);
    # in_stock (80%) from id / 1000, independent of category (a function of
    # id % 1000: an earlier in_stock from id % 5 made every category all in
    # stock or all out of it)
    # shelf, for the recommendation shape, groups categories: shelf 1 holds
    # 125 of them (12.5% of the rows, 10% in stock), shelf 2 13 (1.04% in
    # stock), every other category is a shelf of its own (0.08% in stock)
    FILTER_COLS=",
    category int GENERATED ALWAYS AS (((id::bigint * 2654435761) % 1000)::int) STORED,
    in_stock bool GENERATED ALWAYS AS (((id / 1000) % 5) <> 0) STORED,
    shelf int GENERATED ALWAYS AS (CASE WHEN (id::bigint * 2654435761) % 1000 < 125 THEN 1
                                        WHEN (id::bigint * 2654435761) % 1000 < 138 THEN 2
                                        ELSE 3 + ((id::bigint * 2654435761) % 1000)::int END) STORED"
fi

load_db() {
    local db=$1 ext=${EXTNAME[$1]} t0=$SECONDS
    q postgres "" -c "CREATE DATABASE $db"
    q "$db" "" -c "CREATE EXTENSION $ext"
    if [[ $ext == vecrec ]]; then
        local pinned
        pinned=$(q "$db" "" -c "WITH u AS (UPDATE pg_proc SET probin = 'vecrec'
                                  WHERE probin = '\$libdir/vecrec' RETURNING 1) SELECT count(*) FROM u")
        ((pinned > 0)) || die "$db: no function of vecrec has probin \$libdir/vecrec (cannot pin the library)"
        local loaded
        loaded=$(q "$db" "" <<'SQL'
SELECT vecrec.version() IS NOT NULL AS ok \gset
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_BPID :pid
\! grep -o '/[^ ]*vecrec[.]so' /proc/$BENCH_BPID/maps | sort -u
SQL
)
        [[ "$loaded" == "$CLUSTER/lib/vecrec.so" ]] || die "$db: the backend loaded '$loaded', not the pinned $CLUSTER/lib/vecrec.so"
    fi
    [[ "$(q "$db" "" -c "SELECT count(*) FROM pg_am WHERE amname = 'hnsw'")" == 1 ]] \
        || die "$db: CREATE EXTENSION $ext has no hnsw access method (run 'make -C $REPO install')"
    glove_tables "$db" "$FILTER_COLS"
    q "$db" "" -c "CREATE TABLE truth (qid int PRIMARY KEY, ids int[] NOT NULL)" \
        -c "CREATE TABLE truth_f (c int, qid int, ids int[] NOT NULL, PRIMARY KEY (c, qid))"
    glove_load "$db"
    [[ $FILTERS -eq 1 ]] && q "$db" "" -c "CREATE INDEX items_category ON items (category)" \
        -c "CREATE INDEX items_shelf ON items (shelf)"
    q "$db" "" -c "VACUUM (FREEZE, ANALYZE) items" -c "VACUUM ANALYZE queries"
    local n
    n=$(q "$db" "" -c "SELECT count(*) FROM items")
    [[ "$n" == "$NBASE" ]] || die "$db: loaded $n rows, expected $NBASE"
    q "$db" "" -c "SELECT pg_prewarm('items')" >/dev/null
    say "$db: loaded $n rows ($(q "$db" "" -c "SELECT pg_size_pretty(pg_table_size('items'))")), $NQ queries, $((SECONDS - t0)) s"
}
for db in "${DBS[@]}"; do load_db "$db"; done

# ---------------------------------------------------------------------------
# ground truth (before any hnsw index exists, so every plan is exact)
# ---------------------------------------------------------------------------
TRUTH_SQL="INSERT INTO truth SELECT q.qid, ARRAY(SELECT id FROM items ORDER BY embedding <=> q.v, id LIMIT 10) FROM queries q"
NUM_SELS=$(printf '%s\n' "${SEL_LIST[@]}" | grep -E '^[0-9]+$' | paste -sd, -)
# the recommendation shape: level sN looks in shelf SHELF_EXPR[sN] (a pgbench
# expression of :qid, sent as parameter $2), truth_f.c = SHELF_C[sN]; the
# exact top 10 (recall@10 of the first 10 of the 12 rows returned)
SHELF_CUR=""
declare -A SHELF_EXPR=([s10]="1" [s1]="2" [s01]="141 + :qid * 7 % 859")
declare -A SHELF_C=([s10]=-1 [s1]=-2 [s01]=-3)
declare -A SHELF_PCT=([s10]="10%" [s1]="1%" [s01]="0.08%")
SHELF_SELS=$(for s in "${SEL_LIST[@]}"; do [[ -n ${SHELF_C[$s]:-} ]] && echo "$s"; done)
filter_label() {   # filter_label SEL -> e.g. "1%" or "shelf 1%"
    if [[ -n ${SHELF_C[$1]:-} ]]; then echo "shelf${SHELF_PCT[$1]}"
    else awk -v c="$1" 'BEGIN { printf "%g%%", c / 10 }'; fi
}
# best_filter_point DB SEL -> "qps (config, recall)" of the fastest configuration
# with recall@10 >= 0.95 and every row, or nothing
best_filter_point() {
    local db=$1 sel=$2 cfg key want best="" bq=0
    want=$([[ -n ${SHELF_C[$sel]:-} ]] && echo 12 || echo 10)
    for cfg in "${F_CONFIGS[@]}"; do
        key="$db,$sel,$cfg"
        [[ "${F_ROWS[$key]}" == "$want.000" ]] || continue
        awk -v r="${F_RECALL[$key]}" 'BEGIN { exit !(r >= 0.95) }' || continue
        if awk -v a="${F_QPS[$key]}" -v b="$bq" 'BEGIN { exit !(a > b) }'; then
            bq=${F_QPS[$key]}; best="$bq ($cfg ${F_KIND[$key]}, recall ${F_RECALL[$key]})"
        fi
    done
    echo "$best"
}
TRUTHF_SQL="INSERT INTO truth_f SELECT c, q.qid, ARRAY(SELECT id FROM items WHERE category < c ORDER BY embedding <=> q.v, id LIMIT 10) FROM queries q, unnest(ARRAY[$NUM_SELS]) c"
TRUTHF_EQ_SQL="INSERT INTO truth_f SELECT l.c, q.qid, ARRAY(SELECT id FROM items WHERE in_stock AND shelf = l.shelf ORDER BY embedding <=> q.v, id LIMIT 10) FROM queries q CROSS JOIN LATERAL (VALUES $(for s in $SHELF_SELS; do e=${SHELF_EXPR[$s]}; printf '(%s, %s),' "${SHELF_C[$s]}" "${e//:qid/q.qid}"; done | sed 's/,$//')) l(c, shelf)"

copy_table() {   # copy_table FROM_DB TO_DB TABLE
    PGOPTIONS="" "${PSQL[@]}" -d "$1" -c "\\copy $3 TO pstdout" >"$WORK/$3.copy" || die "copying $3 out of $1 failed"
    q "$2" "" -c "TRUNCATE $3" -c "\\copy $3 FROM '$WORK/$3.copy'"
}
# compare_truth DB TABLE KEYCOLS: how many rows of TABLE differ from TABLE_check
compare_truth() {
    q "$1" "" -c "SELECT count(*) FILTER (WHERE NOT (a.ids @> b.ids AND b.ids @> a.ids)), count(*)
                    FROM $2 a JOIN ${2}_check b USING ($3)"
}

t0=$SECONDS
if ((NBASE == FULL_BASE)); then
    head -n "$NQ" "$DATA/groundtruth.tsv" | q bench_vecrec "" -c '\copy truth (qid, ids) FROM pstdin'
    q bench_vecrec "" -c "UPDATE truth SET ids = ids[1:10]"
    # sanity: the exact scan of vecrec on the first queries agrees with groundtruth.tsv
    q bench_vecrec "" -c "CREATE TABLE truth_check (LIKE truth)" \
        -c "${TRUTH_SQL/INSERT INTO truth/INSERT INTO truth_check} WHERE q.qid < 20"
    read -r bad tot <<<"$(compare_truth bench_vecrec truth qid)"
    say "ground truth: groundtruth.tsv (top 10 of the first $NQ); exact scan in vecrec differs on $bad of $tot checked queries"
    ((bad <= 1)) || warn "vecrec's exact scan disagrees with groundtruth.tsv on $bad of $tot queries"
else
    say "ground truth: recomputing the exact top 10 for $NBASE rows in SQL (ORDER BY <=>, id on a seq scan)"
    q bench_vecrec "" -c "$TRUTH_SQL"
fi
if [[ $FILTERS -eq 1 ]]; then
    [[ -n $NUM_SELS ]] && q bench_vecrec "" -c "$TRUTHF_SQL"
    [[ -n $SHELF_SELS ]] && q bench_vecrec "" -c "$TRUTHF_EQ_SQL"
    say "filtered ground truth: rows matching category < c: $(q bench_vecrec "" -c "SELECT string_agg(format('c=%s: %s', c, (SELECT count(*) FROM items WHERE category < c)), ', ') FROM unnest(ARRAY[$NUM_SELS]) c"); in_stock AND shelf = 1, 2, other: $(q bench_vecrec "" -c "SELECT string_agg(n::text, ', ' ORDER BY s) FROM (SELECT least(shelf, 3) s, round(count(*)::numeric / count(DISTINCT shelf), 1) n FROM items WHERE in_stock GROUP BY 1) x") rows"
fi
if [[ " ${DBS[*]} " == *" bench_pgvector "* ]]; then
    # pgvector computes the same exact answers as a cross-check, then takes vecrec's
    q bench_pgvector "" -c "CREATE TABLE truth_check (LIKE truth)" -c "CREATE TABLE truth_f_check (LIKE truth_f)"
    if ((NBASE < FULL_BASE)); then
        q bench_pgvector "" -c "${TRUTH_SQL/INSERT INTO truth/INSERT INTO truth_check}"
    else
        q bench_pgvector "" -c "${TRUTH_SQL/INSERT INTO truth/INSERT INTO truth_check} WHERE q.qid < 20"
    fi
    copy_table bench_vecrec bench_pgvector truth
    read -r bad tot <<<"$(compare_truth bench_pgvector truth qid)"
    say "cross-check: pgvector's exact top 10 differs from vecrec's on $bad of $tot queries"
    ((bad * 100 <= tot)) || warn "exact top 10 of vecrec and pgvector differ on $bad of $tot queries"
    if [[ $FILTERS -eq 1 ]]; then
        [[ -n $NUM_SELS ]] && q bench_pgvector "" -c "${TRUTHF_SQL/INSERT INTO truth_f/INSERT INTO truth_f_check} WHERE q.qid < 50"
        [[ -n $SHELF_SELS ]] && q bench_pgvector "" -c "${TRUTHF_EQ_SQL/INSERT INTO truth_f/INSERT INTO truth_f_check} WHERE q.qid < 50"
        copy_table bench_vecrec bench_pgvector truth_f
        read -r bad tot <<<"$(compare_truth bench_pgvector truth_f "c, qid")"
        say "cross-check: pgvector's exact filtered top 10 differs from vecrec's on $bad of $tot (c, query) pairs"
        ((bad * 100 <= tot)) || warn "exact filtered top 10 of vecrec and pgvector differ on $bad of $tot"
    fi
fi
say "ground truth ready ($((SECONDS - t0)) s)"

# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------
declare -A BUILD_S SIZE_MB PBUILD_S PSIZE_MB PWORKERS_SEEN
INDEX_DDL="USING hnsw (embedding vector_cosine_ops) WITH (m = $M, ef_construction = $EFC)"

# build_index DB NAME WORKERS [MWM] -> "seconds size_mb max_parallel_workers_seen"
# (vecrec's DEBUG1 "graph of N elements in X kB" goes to $WORK/need_kb.DB.NAME)
build_index() {
    local db=$1 name=$2 workers=$3 mwm=${4:-$MWM} t0 t1 poller="" seen=0
    q "$db" "" -c "CHECKPOINT"
    if ((workers > 0)); then
        # count the parallel workers the build actually runs
        ( m=0; while :; do
            n=$(PGOPTIONS="" "${PSQL[@]}" -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'" 2>/dev/null || echo 0)
            ((n > m)) && m=$n && echo "$m" >"$WORK/workers.$name"
            sleep 0.5
          done ) >/dev/null 2>&1 &
        poller=$!
        echo 0 >"$WORK/workers.$name"
    fi
    t0=$EPOCHREALTIME
    PGOPTIONS="-c maintenance_work_mem=$mwm -c max_parallel_maintenance_workers=$workers -c client_min_messages=debug1" \
        "${PSQL[@]}" -d "$db" -c "CREATE INDEX $name ON items $INDEX_DDL" >/dev/null 2>"$WORK/build.dbg" || {
        [[ -n "$poller" ]] && kill "$poller" 2>/dev/null
        cat "$WORK/build.err" >&2; server_log_tail; die "CREATE INDEX failed in $db"; }
    t1=$EPOCHREALTIME
    grep -v '^DEBUG:' "$WORK/build.dbg" >"$WORK/build.err" || true
    sed -n 's/.*hnsw build: graph of [0-9]* elements in \([0-9]*\) kB.*/\1/p' "$WORK/build.dbg" >"$WORK/need_kb.$db.$name"
    if [[ -n "$poller" ]]; then kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null || true; seen=$(cat "$WORK/workers.$name"); fi
    if [[ -s "$WORK/build.err" ]]; then sed "s/^/$LIB_NAME: $db build: /" "$WORK/build.err" >&2; fi
    local mb
    mb=$(q "$db" "" -c "SELECT round(pg_relation_size('$name') / 1048576.0, 1)")
    awk -v a="$t0" -v b="$t1" -v mb="$mb" -v w="$seen" 'BEGIN { printf "%.2f %s %s\n", b - a, mb, w }'
}

for db in "${DBS[@]}"; do
    read -r s mb seen <<<"$(build_index "$db" items_hnsw "$PW")"
    BUILD_S[$db]=$s; SIZE_MB[$db]=$mb; PWORKERS_SEEN[$db]=$seen
    say "$db: CREATE INDEX ($INDEX_DDL, maintenance_work_mem=$MWM, workers=$PW): $s s, $mb MB$( ((PW > 0)) && echo ", parallel workers seen: $seen")"
    q "$db" "" -c "VACUUM ANALYZE items" -c "SELECT pg_prewarm('items_hnsw')" >/dev/null
done

# ---------------------------------------------------------------------------
# measurement helpers
# ---------------------------------------------------------------------------
BASE_OPTS="-c jit=off -c max_parallel_workers_per_gather=0 -c plan_cache_mode=force_generic_plan"

# plan_of DB OPTS SQL -> compact plan (InitPlan on queries left out)
plan_of() {
    local sql="${3//:shelf/($SHELF_CUR)}"
    sql="${sql//:qid/\$1}"
    q "$1" "$BASE_OPTS $2" -c "PREPARE bench_q(int) AS $sql" -c "EXPLAIN (COSTS OFF) EXECUTE bench_q(0)" \
        | awk '/InitPlan/ { skip = 1; ind = match($0, /[^ ]/); next }
               skip && match($0, /[^ ]/) > ind { next }
               { skip = 0; sub(/^ *(-> *)?/, ""); print }' \
        | paste -sd '|' | sed 's/|/ > /g'
}
plan_kind() {
    case "$1" in
        *"Vecrec Exact Scan"*) echo "exact-scan(bitmap)" ;;
        *"using items_hnsw"*) echo hnsw ;;
        *"Bitmap Heap Scan"*) echo "bitmap(btree)+sort" ;;
        *"using items_category"* | *"using items_shelf"*) echo "btree+sort" ;;
        *"Seq Scan on items"*) echo "seqscan+sort" ;;
        *) echo other ;;
    esac
}

# recall_of DB OPTS SQL TRUTH -> "queries rows_per_query recall duplicates"
recall_of() {
    local sql="${3//:shelf/($SHELF_CUR)}"
    sql="${sql//:qid/\$1}"
    q "$1" "$BASE_OPTS $2" -F ' ' -c "PREPARE bench_q(int) AS $sql" -c "
        SELECT count(*), round(avg(cardinality(r.ids)), 3),
               round(avg((SELECT count(DISTINCT g) FROM unnest(r.ids[1:cardinality(t.ids)]) g WHERE g = ANY (t.ids))::numeric / greatest(cardinality(t.ids), 1)), 4),
               sum(cardinality(r.ids) - (SELECT count(DISTINCT g) FROM unnest(r.ids) g))
          FROM bench_ids($NQ) r JOIN $4 t ON t.qid = r.qid"
}

# CPU time (clock ticks) of the postmaster's exited children (backends), and
# how many children it has now
pm_child_ticks() { awk '{ print $16 + $17 }' "/proc/$PMPID/stat"; }
pm_nchildren() { wc -w <"/proc/$PMPID/task/$PMPID/children"; }

# timed DB OPTS SQL CLIENTS TAG -> "qps p50_ms p99_ms transactions server_cpu_ms_per_query"
# The server CPU per query (user + system time of the pgbench backends, from
# the postmaster's cutime/cstime once they have exited) depends much less on
# other load on the machine than the throughput does.
timed() {
    local db=$1 opts=$2 sql=$3 c=$4 tag=$5 dir tps n nch0 ticks0 ticks1 i
    dir="$WORK/pgb.$tag"
    rm -rf "$dir"; mkdir -p "$dir"
    printf '\\set qid random(0, %d)\n' "$((NQ - 1))" >"$dir/script.sql"
    if [[ "$sql" == *:shelf* ]]; then printf '\\set shelf %s\n' "$SHELF_CUR" >>"$dir/script.sql"; fi
    printf '%s;\n' "$sql" >>"$dir/script.sql"
    nch0=$(pm_nchildren); ticks0=$(pm_child_ticks)
    if ! PGOPTIONS="$BASE_OPTS $opts" "$BINDIR/pgbench" -h "$CLUSTER" -p "$PORT" -U postgres -n -M prepared \
            -f "$dir/script.sql" -c "$c" -j "$c" -T "$DURATION" --random-seed=20241122 \
            -l --log-prefix="$dir/lat" "$db" >"$dir/out" 2>"$dir/err"; then
        cat "$dir/out" "$dir/err" >&2; server_log_tail; die "pgbench failed in $db ($tag)"
    fi
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/out")
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/out")
    [[ -n "$tps" && -n "$n" && "$n" -gt 0 ]] || { cat "$dir/out" "$dir/err" >&2; die "pgbench in $db ($tag): no transactions"; }
    grep -q '^number of failed transactions: 0 ' "$dir/out" || { cat "$dir/out" >&2; die "pgbench in $db ($tag): failed transactions"; }
    for ((i = 0; i < 100; i++)); do   # until the backends have exited
        (($(pm_nchildren) <= nch0)) && break
        sleep 0.05
    done
    ticks1=$(pm_child_ticks)
    cat "$dir"/lat.* | awk '{ print $3 }' | sort -n | awk -v tps="$tps" -v n="$n" -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" '
        { a[NR] = $1 }
        END { i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
              printf "%.1f %.3f %.3f %d %.4f\n", tps, a[i50] / 1000, a[i99] / 1000, n, 1000 * t / hz / n }'
    rm -rf "$dir"
}

# the databases in alternating order: order_for K -> the list, reversed when K is odd
order_for() {
    if (($1 % 2 == 1)) && ((${#DBS[@]} == 2)); then echo "${DBS[1]} ${DBS[0]}"; else echo "${DBS[*]}"; fi
}

CSV_HEADER="kind,extension,m,efc,build_s,size_mb,workers,base_rows,queries,ef,iterative_scan,selectivity,clients,recall_at_10,rows_per_query,qps,p50_ms,p99_ms,server_cpu_ms_per_query,reps,plan"
CSV_ROWS=()
# csv key=value ... : one row in CSV_HEADER's column order (missing keys empty)
csv() {
    local -A f=()
    local kv col v cols row=()
    for kv in "$@"; do f[${kv%%=*}]=${kv#*=}; done
    IFS=, read -r -a cols <<<"$CSV_HEADER"
    for col in "${cols[@]}"; do
        v=${f[$col]:-}
        if [[ "$v" == *[,\"]* ]]; then v="\"${v//\"/\"\"}\""; fi
        row+=("$v")
    done
    local IFS=,
    CSV_ROWS+=("${row[*]}")
}

SWEEP_SQL="SELECT id FROM items ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 10"
SWEEP_OPTS="-c enable_seqscan=off"
PROBLEMS=()

# ---------------------------------------------------------------------------
# warm-up and plan check
# ---------------------------------------------------------------------------
for db in "${DBS[@]}"; do
    plan=$(plan_of "$db" "$SWEEP_OPTS -c hnsw.ef_search=$EF_MAX" "$SWEEP_SQL")
    say "$db: plan of the timed query: $plan"
    [[ "$(plan_kind "$plan")" == hnsw && "$plan" == *'Order By: (embedding <=> $0)'* ]] \
        || die "$db: the timed query does not use the hnsw index with the InitPlan's Param: $plan"
    t0=$SECONDS
    read -r nq rows rec dups <<<"$(recall_of "$db" "$SWEEP_OPTS -c hnsw.ef_search=$EF_MAX" "$SWEEP_SQL" truth)"
    say "$db: warm-up pass over $nq queries at ef_search=$EF_MAX: recall@10 $rec, rows/query $rows ($((SECONDS - t0)) s)"
done

# ---------------------------------------------------------------------------
# unfiltered sweep
# ---------------------------------------------------------------------------
declare -A RECALL ROWS QPS P50 P99 CPU
if [[ $SWEEP -eq 1 ]]; then
    say "sweep: ${#EF_LIST[@]} ef values x ${#CLIENT_LIST[@]} client counts x $REPS reps x ${#DBS[@]} databases x ${DURATION}s"
    k=0
    for ef in "${EF_LIST[@]}"; do
        opts="$SWEEP_OPTS -c hnsw.ef_search=$ef"
        for db in $(order_for $k); do
            read -r nq rows rec dups <<<"$(recall_of "$db" "$opts" "$SWEEP_SQL" truth)"
            RECALL[$db,$ef]=$rec; ROWS[$db,$ef]=$rows
            if [[ "$rows" != "10.000" || "$dups" != 0 ]]; then
                PROBLEMS+=("$db ef_search=$ef: $rows rows per query on average (LIMIT 10), $dups duplicate ids")
            fi
        done
        declare -A acc=()
        for ((rep = 1; rep <= REPS; rep++)); do
            for c in "${CLIENT_LIST[@]}"; do
                for db in $(order_for $((k + rep + 1))); do
                    read -r tps p50 p99 n cpu <<<"$(timed "$db" "$opts" "$SWEEP_SQL" "$c" "$db.$ef.$c.$rep")"
                    acc[$db,$c,qps]+=" $tps"; acc[$db,$c,p50]+=" $p50"; acc[$db,$c,p99]+=" $p99"; acc[$db,$c,cpu]+=" $cpu"
                done
            done
        done
        line="ef_search=$ef:"
        for db in "${DBS[@]}"; do
            line+=" ${EXT[$db]} recall ${RECALL[$db,$ef]}"
            for c in "${CLIENT_LIST[@]}"; do
                # shellcheck disable=SC2086
                QPS[$db,$ef,$c]=$(median ${acc[$db,$c,qps]}); P50[$db,$ef,$c]=$(median ${acc[$db,$c,p50]}); P99[$db,$ef,$c]=$(median ${acc[$db,$c,p99]})
                CPU[$db,$ef,$c]=$(median ${acc[$db,$c,cpu]})
                line+=" ${c}c ${QPS[$db,$ef,$c]}/s (${CPU[$db,$ef,$c]} cpu ms)"
            done
            line+=";"
        done
        say "$line"
        unset acc
        k=$((k + 1))
    done
fi

# ---------------------------------------------------------------------------
# optional second build (parallel vs serial)
# ---------------------------------------------------------------------------
if [[ $PARALLEL -eq 1 ]]; then
    PW2=$(( PW == 0 ? 1 : 0 ))
    for db in "${DBS[@]}"; do
        read -r s mb seen <<<"$(build_index "$db" items_hnsw2 "$PW2")"
        PBUILD_S[$db]=$s; PSIZE_MB[$db]=$mb; PWORKERS_SEEN[$db,2]=$seen
        say "$db: second CREATE INDEX with max_parallel_maintenance_workers=$PW2: $s s, $mb MB$( ((PW2 > 0)) && echo ", parallel workers seen: $seen")"
        q "$db" "" -c "DROP INDEX items_hnsw2"
    done
fi

# ---------------------------------------------------------------------------
# optional low-memory builds: a quarter of the memory vecrec's graph needed
# ---------------------------------------------------------------------------
declare -A LBUILD_S
LOW_MWM=""
if [[ ${LOWMEM:-0} -eq 1 ]]; then
    need_kb=$(cat "$WORK/need_kb.bench_vecrec.items_hnsw" 2>/dev/null || true)
    if [[ -z "$need_kb" ]] || ((PW > 0)); then
        say "low-memory build skipped: the main build must be serial and report its graph memory"
        LOWMEM=0
    else
        LOW_MWM="$(( need_kb / 4 > 1024 ? need_kb / 4 : 1024 ))kB"
        for db in "${DBS[@]}"; do
            read -r s mb seen <<<"$(build_index "$db" items_hnsw3 0 "$LOW_MWM")"
            LBUILD_S[$db]=$s
            say "$db: low-memory CREATE INDEX (maintenance_work_mem=$LOW_MWM, vecrec's graph needed ${need_kb} kB): $s s, $mb MB"
            q "$db" "" -c "DROP INDEX items_hnsw3"
        done
    fi
fi

# ---------------------------------------------------------------------------
# filtered workload
# ---------------------------------------------------------------------------
declare -A F_PLAN F_KIND F_ROWS F_RECALL F_QPS F_P50 F_P99 F_CPU
F_CONFIGS=()
if [[ $FILTERS -eq 1 ]]; then
    for mode in off relaxed_order strict_order; do
        for ef in "${FILTER_EF_LIST[@]}"; do F_CONFIGS+=("$mode:$ef"); done
    done
    F_CONFIGS+=("exact:-" "planner:default")
    for ef in "${PLANNER_EF_LIST[@]}"; do F_CONFIGS+=("planner:$ef"); done
    C1=${CLIENT_LIST[0]}
    say "filters: ${#SEL_LIST[@]} selectivities x ${#F_CONFIGS[@]} configurations x $REPS reps x ${#DBS[@]} databases x ${DURATION}s, $C1 client(s)"
    k=0
    for sel in "${SEL_LIST[@]}"; do
        if [[ -n ${SHELF_C[$sel]:-} ]]; then
            flimit=12
            SHELF_CUR=${SHELF_EXPR[$sel]}
            fsql="SELECT id FROM items WHERE in_stock AND shelf = :shelf ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 12"
            ftruth="(SELECT qid, ids FROM truth_f WHERE c = ${SHELF_C[$sel]})"
        else
            flimit=10
            fsql="SELECT id FROM items WHERE category < $sel ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = :qid) LIMIT 10"
            ftruth="(SELECT qid, ids FROM truth_f WHERE c = $sel)"
        fi
        for cfg in "${F_CONFIGS[@]}"; do
            mode=${cfg%%:*} ef=${cfg#*:}
            if [[ $mode == planner ]]; then
                opts="-c hnsw.iterative_scan=relaxed_order"   # everything else default (ef_search 40)
                [[ $ef == default ]] || opts+=" -c hnsw.ef_search=$ef"
            elif [[ $mode == exact ]]; then
                # no hnsw: the btree on the filter column, then an exact sort
                opts="-c enable_indexscan=off -c enable_seqscan=off"
            else
                # force the hnsw index: no seq scan, no bitmap scan, no sort (btree + sort)
                opts="-c enable_seqscan=off -c enable_bitmapscan=off -c enable_sort=off -c hnsw.ef_search=$ef -c hnsw.iterative_scan=$mode"
            fi
            # the shape is planned for each shelf value (as with the unnamed
            # statements most client libraries send): shelf sizes differ
            [[ -n ${SHELF_C[$sel]:-} ]] && opts+=" -c plan_cache_mode=force_custom_plan"
            for db in $(order_for $k); do
                key="$db,$sel,$cfg"
                F_PLAN[$key]=$(plan_of "$db" "$opts" "$fsql")
                F_KIND[$key]=$(plan_kind "${F_PLAN[$key]}")
                if [[ $mode != planner && $mode != exact && ${F_KIND[$key]} != hnsw ]]; then
                    PROBLEMS+=("$db $(filter_label "$sel") $cfg: the forced plan does not use hnsw: ${F_PLAN[$key]}")
                fi
                read -r nq rows rec dups <<<"$(recall_of "$db" "$opts" "$fsql" "$ftruth")"
                F_ROWS[$key]=$rows; F_RECALL[$key]=$rec
                ((dups == 0)) || PROBLEMS+=("$db $(filter_label "$sel") $cfg: $dups duplicate ids")
                if [[ $mode != off && "$rows" != "$flimit.000" ]]; then
                    PROBLEMS+=("$db $(filter_label "$sel") $cfg: $rows rows per query on average (LIMIT $flimit)")
                fi
            done
            declare -A acc=()
            for ((rep = 1; rep <= REPS; rep++)); do
                for db in $(order_for $((k + rep + 1))); do
                    read -r tps p50 p99 n cpu <<<"$(timed "$db" "$opts" "$fsql" "$C1" "f.$db.$sel.$mode.$ef.$rep")"
                    acc[$db,qps]+=" $tps"; acc[$db,p50]+=" $p50"; acc[$db,p99]+=" $p99"; acc[$db,cpu]+=" $cpu"
                done
            done
            line="$(filter_label "$sel") $cfg:"
            for db in "${DBS[@]}"; do
                key="$db,$sel,$cfg"
                # shellcheck disable=SC2086
                F_QPS[$key]=$(median ${acc[$db,qps]}); F_P50[$key]=$(median ${acc[$db,p50]}); F_P99[$key]=$(median ${acc[$db,p99]})
                F_CPU[$key]=$(median ${acc[$db,cpu]})
                line+=" ${EXT[$db]} [${F_KIND[$key]}] rows ${F_ROWS[$key]} recall ${F_RECALL[$key]} ${F_QPS[$key]}/s;"
            done
            say "$line"
            unset acc
            k=$((k + 1))
        done
    done
fi

# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
SO_NOTE="vecrec.so md5 ${SO_SUM0:0:12}, pinned for the run"
[[ "$SO_SUM0" == "$(so_sum)" ]] || SO_NOTE+="; the installed $SO changed during the run (not used)"
PGV_VERSION=""
[[ " ${DBS[*]} " == *" bench_pgvector "* ]] && PGV_VERSION=$(q bench_pgvector "" -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'")
VR_VERSION=$(q bench_vecrec "" -c "SELECT extversion FROM pg_extension WHERE extname = 'vecrec'")
C0=${CLIENT_LIST[0]}
COMMON=("m=$M" "efc=$EFC" "workers=$PW" "base_rows=$NBASE" "queries=$NQ")

echo
echo "=== HNSW, GloVe-100 cosine: $NBASE base rows, $NQ queries, m=$M ef_construction=$EFC, maintenance_work_mem=$MWM, build workers=$PW"
echo "    $PGVER; vecrec $VR_VERSION (git $COMMIT, $SO_NOTE)${PGV_VERSION:+; pgvector $PGV_VERSION}; $(nproc) CPUs"
echo "    pgbench -M prepared, ${DURATION}s x $REPS reps (median); p50/p99 and cpu_ms (server CPU ms per query) at $C0 client(s)"
csv kind=meta "extension=vecrec $VR_VERSION git $COMMIT so ${SO_SUM0:0:12}" "${COMMON[@]}" "reps=$REPS" \
    "plan=$PGVER; pgvector ${PGV_VERSION:-none}; ${DURATION}s per measurement; $(date -u +%FT%TZ)"

for db in "${DBS[@]}"; do
    csv kind=build "extension=${EXT[$db]}" "${COMMON[@]}" "build_s=${BUILD_S[$db]}" "size_mb=${SIZE_MB[$db]}" reps=1
    if [[ $PARALLEL -eq 1 ]]; then
        csv kind=build "extension=${EXT[$db]}" "${COMMON[@]}" "workers=$PW2" "build_s=${PBUILD_S[$db]}" "size_mb=${PSIZE_MB[$db]}" reps=1 \
            "plan=parallel workers seen: ${PWORKERS_SEEN[$db,2]}"
    fi
done

if [[ ${LOWMEM:-0} -eq 1 ]]; then
    for db in "${DBS[@]}"; do
        csv kind=build "extension=${EXT[$db]}" "${COMMON[@]}" "build_s=${LBUILD_S[$db]}" reps=1 \
            "plan=low memory: maintenance_work_mem=$LOW_MWM; $(awk -v a="${LBUILD_S[$db]}" -v b="${BUILD_S[$db]}" 'BEGIN { printf "%.2f", a / b }') x the main build"
    done
fi

# value at a recall target, interpolated linearly along the ef sweep:
# interp DB TARGET ARRAY CLIENTS -> "x", ">x" (reached at the lowest ef) or "n/a"
# ARRAY is QPS or QPC (queries per server CPU second).
interp() {
    local db=$1 t=$2 arr=$3 c=$4 ef v
    for ef in "${EF_LIST[@]}"; do
        if [[ $arr == QPS ]]; then v=${QPS[$db,$ef,$c]}
        else v=$(awk -v x="${CPU[$db,$ef,$c]}" 'BEGIN { printf "%.1f", (x > 0) ? 1000 / x : 0 }'); fi
        echo "${RECALL[$db,$ef]} $v"
    done |
        awk -v t="$t" '{ r[NR] = $1; q[NR] = $2 }
            END { for (i = 1; i <= NR; i++) if (r[i] >= t) {
                      if (i == 1) { printf ">%.0f\n", q[1]; exit }
                      printf "%.0f\n", q[i-1] + (t - r[i-1]) * (q[i] - q[i-1]) / (r[i] - r[i-1]); exit }
                  print "n/a" }'
}
ratio() {   # ratio A B (either may carry a ">" or be n/a)
    awk -v a="$1" -v b="$2" 'BEGIN { pa = (a ~ /^>/); pb = (b ~ /^>/); sub(/^>/, "", a); sub(/^>/, "", b)
        if (a == "n/a" || b == "n/a" || a == "" || b == "" || b + 0 == 0) { print "n/a"; exit }
        printf "%s%.2f\n", (pa || pb) ? "~" : "", a / b }'
}

if [[ $SWEEP -eq 1 ]]; then
    echo
    hdr=$(printf '%-10s %3s %4s %8s %8s %4s %9s' extension m efc build_s size_MB ef 'recall@10')
    hdr+=$(printf ' %8s %7s %7s' "qps_${C0}c" p50_ms p99_ms)
    for c in "${CLIENT_LIST[@]:1}"; do hdr+=$(printf ' %8s' "qps_${c}c"); done
    hdr+=$(printf ' %7s' cpu_ms)
    echo "$hdr"
    for db in "${DBS[@]}"; do
        for ef in "${EF_LIST[@]}"; do
            line=$(printf '%-10s %3s %4s %8s %8s %4s %9s' "${EXT[$db]}" "$M" "$EFC" "${BUILD_S[$db]}" "${SIZE_MB[$db]}" "$ef" "${RECALL[$db,$ef]}")
            line+=$(printf ' %8s %7s %7s' "${QPS[$db,$ef,$C0]}" "${P50[$db,$ef,$C0]}" "${P99[$db,$ef,$C0]}")
            for c in "${CLIENT_LIST[@]:1}"; do line+=$(printf ' %8s' "${QPS[$db,$ef,$c]}"); done
            line+=$(printf ' %7.3f' "${CPU[$db,$ef,$C0]}")
            echo "$line"
            for c in "${CLIENT_LIST[@]}"; do
                csv kind=sweep "extension=${EXT[$db]}" "${COMMON[@]}" "build_s=${BUILD_S[$db]}" "size_mb=${SIZE_MB[$db]}" \
                    "ef=$ef" iterative_scan=off "clients=$c" "recall_at_10=${RECALL[$db,$ef]}" "rows_per_query=${ROWS[$db,$ef]}" \
                    "qps=${QPS[$db,$ef,$c]}" "p50_ms=${P50[$db,$ef,$c]}" "p99_ms=${P99[$db,$ef,$c]}" \
                    "server_cpu_ms_per_query=${CPU[$db,$ef,$c]}" "reps=$REPS" plan=hnsw
            done
        done
    done

    echo
    echo "summary: interpolated linearly along the ef sweep ('>' = reached at the lowest ef already)"
    for t in 0.90 0.95; do
        for c in "${CLIENT_LIST[@]}" cpu; do
            declare -A at=()
            if [[ $c == cpu ]]; then
                line=$(printf '  recall@10=%s, queries per server CPU second (%s client(s)):' "$t" "$C0")
            else
                line=$(printf '  recall@10=%s, queries/s with %s client(s):' "$t" "$c")
            fi
            for db in "${DBS[@]}"; do
                if [[ $c == cpu ]]; then at[$db]=$(interp "$db" "$t" QPC "$C0"); else at[$db]=$(interp "$db" "$t" QPS "$c"); fi
                line+=$(printf ' %s %s;' "${EXT[$db]}" "${at[$db]}")
                if [[ $c == cpu ]]; then
                    csv kind=at_recall "extension=${EXT[$db]}" "${COMMON[@]}" iterative_scan=off "clients=$C0" "recall_at_10=$t" \
                        "server_cpu_ms_per_query=$(awk -v x="${at[$db]}" 'BEGIN { p = (x ~ /^>/); sub(/^>/, "", x); if (x == "n/a" || x + 0 == 0) print "n/a"; else printf "%s%.4f\n", p ? "<" : "", 1000 / x }')" \
                        "reps=$REPS" "plan=queries per server CPU second ${at[$db]}"
                else
                    csv kind=at_recall "extension=${EXT[$db]}" "${COMMON[@]}" iterative_scan=off "clients=$c" "recall_at_10=$t" \
                        "qps=${at[$db]}" "reps=$REPS"
                fi
            done
            if ((${#DBS[@]} == 2)); then
                r=$(ratio "${at[bench_vecrec]}" "${at[bench_pgvector]}")
                line+=" vecrec/pgvector $r"
                if [[ $c == cpu ]]; then
                    csv kind=ratio extension=vecrec/pgvector "${COMMON[@]}" "clients=$C0" "recall_at_10=$t" "qps=$r" "reps=$REPS" \
                        "plan=queries per server CPU second at recall"
                else
                    csv kind=ratio extension=vecrec/pgvector "${COMMON[@]}" "clients=$c" "recall_at_10=$t" "qps=$r" "reps=$REPS" \
                        "plan=queries/s at recall"
                fi
            fi
            echo "$line"
            unset at
        done
    done
fi
if ((${#DBS[@]} == 2)); then
    rb=$(ratio "${BUILD_S[bench_vecrec]}" "${BUILD_S[bench_pgvector]}")
    rs=$(ratio "${SIZE_MB[bench_vecrec]}" "${SIZE_MB[bench_pgvector]}")
    [[ $SWEEP -eq 1 ]] || { echo; echo "summary:"; }
    echo "  build time vecrec/pgvector: $rb (${BUILD_S[bench_vecrec]} s / ${BUILD_S[bench_pgvector]} s, workers=$PW)"
    echo "  index size vecrec/pgvector: $rs (${SIZE_MB[bench_vecrec]} MB / ${SIZE_MB[bench_pgvector]} MB)"
    csv kind=ratio extension=vecrec/pgvector "${COMMON[@]}" "build_s=$rb" "size_mb=$rs" reps=1 "plan=build time and index size"
    if [[ $PARALLEL -eq 1 ]]; then
        rb2=$(ratio "${PBUILD_S[bench_vecrec]}" "${PBUILD_S[bench_pgvector]}")
        echo "  build with max_parallel_maintenance_workers=$PW2: vecrec ${PBUILD_S[bench_vecrec]} s (parallel workers seen: ${PWORKERS_SEEN[bench_vecrec,2]}), pgvector ${PBUILD_S[bench_pgvector]} s (seen: ${PWORKERS_SEEN[bench_pgvector,2]}), ratio $rb2"
        csv kind=ratio extension=vecrec/pgvector "${COMMON[@]}" "workers=$PW2" "build_s=$rb2" reps=1 "plan=build time"
    fi
elif [[ $PARALLEL -eq 1 ]]; then
    echo "  build with max_parallel_maintenance_workers=$PW2: vecrec ${PBUILD_S[bench_vecrec]} s (parallel workers seen: ${PWORKERS_SEEN[bench_vecrec,2]})"
fi
if [[ ${LOWMEM:-0} -eq 1 ]]; then
    for db in "${DBS[@]}"; do
        echo "  low-memory build (maintenance_work_mem=$LOW_MWM) ${EXT[$db]}: ${LBUILD_S[$db]} s = $(ratio "${LBUILD_S[$db]}" "${BUILD_S[$db]}") x its build with $MWM"
    done
fi

if [[ $FILTERS -eq 1 ]]; then
    echo
    echo "filtered: SELECT id FROM items WHERE category < c ORDER BY embedding <=> q LIMIT 10 ($NQ queries, $C1 client(s), exact filtered top 10)"
    echo "  and (shelf ...): WHERE in_stock AND shelf = \$2 ... LIMIT 12 (planned per shelf value), recall@10: first 10 rows against the exact top 10"
    echo "  exact = no hnsw (enable_indexscan off): btree bitmap on the filter column, exact sort"
    echo "  forced = enable_seqscan/bitmapscan/sort off (hnsw index); planner = default settings, hnsw.iterative_scan=relaxed_order, ef_search default or the ef shown"
    fmt='%-6s %-10s %-16s %7s %-18s %7s %9s %8s %7s %7s %7s\n'
    # shellcheck disable=SC2059
    printf "$fmt" filter extension iterative_scan ef plan rows/q 'recall@10' qps p50_ms p99_ms cpu_ms
    for sel in "${SEL_LIST[@]}"; do
        pct=$(filter_label "$sel")
        for db in "${DBS[@]}"; do
            for cfg in "${F_CONFIGS[@]}"; do
                mode=${cfg%%:*} ef=${cfg#*:}
                key="$db,$sel,$cfg"
                m2=$mode; [[ $mode == planner ]] && m2="planner(relaxed)"
                # shellcheck disable=SC2059
                printf "$fmt" "$pct" "${EXT[$db]}" "$m2" "$ef" "${F_KIND[$key]}" \
                    "${F_ROWS[$key]}" "${F_RECALL[$key]}" "${F_QPS[$key]}" "${F_P50[$key]}" "${F_P99[$key]}" "$(printf '%.3f' "${F_CPU[$key]}")"
                csv kind=filter "extension=${EXT[$db]}" "${COMMON[@]}" "ef=$ef" "iterative_scan=$m2" "selectivity=$pct" "clients=$C1" \
                    "recall_at_10=${F_RECALL[$key]}" "rows_per_query=${F_ROWS[$key]}" "qps=${F_QPS[$key]}" \
                    "p50_ms=${F_P50[$key]}" "p99_ms=${F_P99[$key]}" "server_cpu_ms_per_query=${F_CPU[$key]}" "reps=$REPS" \
                    "plan=${F_PLAN[$key]}"
            done
        done
    done
    echo
    echo "plans chosen by the planner (default settings, iterative_scan=relaxed_order):"
    for sel in "${SEL_LIST[@]}"; do
        for db in "${DBS[@]}"; do
            echo "  $( [[ -n ${SHELF_C[$sel]:-} ]] && echo "in_stock AND shelf = x (${SHELF_PCT[$sel]})" || echo "category < $sel"), ${EXT[$db]}: ${F_PLAN[$db,$sel,planner:default]}"
        done
    done
    echo
    echo "best queries/s at recall@10 >= 0.95 with every row returned (any configuration above):"
    for sel in "${SEL_LIST[@]}"; do
        line="  $(filter_label "$sel"):"
        declare -A best=()
        for db in "${DBS[@]}"; do
            b=$(best_filter_point "$db" "$sel")
            best[$db]=${b%% *}
            line+=" ${EXT[$db]} ${b:-none};"
        done
        if [[ " ${DBS[*]} " == *" bench_pgvector "* && -n ${best[bench_vecrec]} && -n ${best[bench_pgvector]} ]]; then
            line+=" ratio $(ratio "${best[bench_vecrec]}" "${best[bench_pgvector]}")"
            csv kind=filter_best "${COMMON[@]}" "selectivity=$(filter_label "$sel")" "qps=${best[bench_vecrec]}" \
                "plan=pgvector ${best[bench_pgvector]}" "reps=$REPS"
        fi
        echo "$line"
        unset best
    done
fi

echo
echo "csv,$CSV_HEADER"
printf 'csv,%s\n' "${CSV_ROWS[@]}"
mkdir -p "$HERE/results"
suffix=""
[[ $QUICK -eq 1 ]] && suffix+="-quick"
[[ $FILTERS -eq 1 ]] && suffix+="-filters"
OUT="$HERE/results/hnsw_glove100_$(date -u +%Y%m%d-%H%M%S)$suffix.csv"
{ echo "$CSV_HEADER"; printf '%s\n' "${CSV_ROWS[@]}"; } >"$OUT"
echo
say "CSV written to ${OUT#"$REPO"/}"
# recall vs queries/s of the sweep (none with --no-sweep): the CSV's name with .png
if [[ $SWEEP -eq 1 ]]; then
    bash "$HERE/plot.sh" "$OUT" || warn "no plot (bench/plot.sh failed; needs gnuplot-nox)"
fi

if ((${#PROBLEMS[@]} > 0)); then
    echo
    for p in "${PROBLEMS[@]}"; do warn "$p"; done
fi
say "done in $((SECONDS - T_START)) s (load average at the start: $LOAD0, now: $(cut -d' ' -f1-3 /proc/loadavg))"
