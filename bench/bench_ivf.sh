#!/usr/bin/env bash
# bench_ivf.sh - ivfflat benchmark on GloVe-100 (cosine): vecrec vs pgvector (make bench-ivf).
#
#   bash bench/bench_ivf.sh [options]
#
#   --base N               base rows loaded (the first N of base.tsv; default all 331,479)
#   --queries N            queries (the first N of query.tsv; default 200)
#   --lists "LIST"         lists of the indexes built (default "575 331")
#   --probes "LIST"        ivfflat.probes sweep (default "1 2 4 8 16 32 64")
#   --duration S           seconds per pgbench measurement (default 3)
#   --reps N               repetitions of each measurement, median reported (default 1)
#   --parallel-workers N   max_parallel_maintenance_workers of the builds (default 0)
#   --filters              also WHERE category < c (10%, 1%) LIMIT 10 with
#                          ivfflat.iterative_scan = relaxed_order, the index forced
#   --filter-probes "LIST" probes of the filtered runs (default "8 32")
#   --quantizer Q          also a vecrec index WITH (quantizer = Q) (default sq8; "none": not)
#   --rerank N             vecrec.ivfflat_rerank of the quantized runs (default: the GUC's default)
#   --skip-pgvector        vecrec alone
#   --data DIR             GloVe-100 folder (default: get_glove100.sh's default)
#
# One throwaway cluster (under /tmp, removed on exit) with two databases
# loaded with the same rows: bench_vecrec and bench_pgvector.  The exact top
# 10 of each query (cosine, ties by id) is computed in SQL before any index
# exists.  bench_vecrec also holds items_q, a copy of items, for the
# quantized index ("vecrec-sq8" in the output).  For each lists value, each
# variant builds
#   CREATE INDEX ... ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = L)
# (with quantizer = Q on items_q; wall clock, pg_relation_size), then for
# each probes value: recall@10 over the queries (one pass in the server),
# then queries/s and latency with pgbench -M prepared, 1 client, the
# variants alternating.  qps at recall
# 0.90 and 0.95 are interpolated linearly between sweep points.
# Output: a table and summary lines; a CSV in bench/results/ivf_glove100_<time>.csv
# and a plot of recall vs queries/s beside it (.png, bench/plot.sh).
# PG_CONFIG selects the server.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
LIB_NAME=bench-ivf
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

NBASE=331479
NQ=200
LISTS="575 331"
PROBES="1 2 4 8 16 32 64"
DURATION=3
REPS=1
PW=0
FILTERS=0
FILTER_PROBES="8 32"
SKIP_PGV=0
QUANT=sq8
RERANK=""
DATA=""

while (($#)); do
    case "$1" in
        --base) NBASE="${2:?}"; shift ;;
        --queries) NQ="${2:?}"; shift ;;
        --lists) LISTS="${2:?}"; shift ;;
        --probes) PROBES="${2:?}"; shift ;;
        --duration) DURATION="${2:?}"; shift ;;
        --reps) REPS="${2:?}"; shift ;;
        --parallel-workers) PW="${2:?}"; shift ;;
        --filters) FILTERS=1 ;;
        --filter-probes) FILTER_PROBES="${2:?}"; shift ;;
        --quantizer) QUANT="${2:?}"; shift ;;
        --rerank) RERANK="${2:?}"; shift ;;
        --skip-pgvector) SKIP_PGV=1 ;;
        --data) DATA="${2:?}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
isnum "$NBASE" && ((NBASE >= 100)) || die "--base must be >= 100"
isnum "$NQ" && ((NQ >= 1 && NQ <= 10000)) || die "--queries must be 1..10000"
isnum "$DURATION" && ((DURATION >= 1)) || die "--duration must be >= 1"
isnum "$REPS" && ((REPS >= 1)) || die "--reps must be >= 1"
read -r -a LIST_LIST <<<"$LISTS"
read -r -a PROBE_LIST <<<"$PROBES"
read -r -a FPROBE_LIST <<<"$FILTER_PROBES"
mapfile -t PROBE_LIST < <(printf '%s\n' "${PROBE_LIST[@]}" | sort -n -u)

find_pg
bench_dbs "$SKIP_PGV"
# variants measured: database, table, index options, extra settings
VARIANTS=(vecrec)
declare -A VDB=([vecrec]=bench_vecrec [pgvector]=bench_pgvector [vecrec-$QUANT]=bench_vecrec)
declare -A VTAB=([vecrec]=items [pgvector]=items [vecrec-$QUANT]=items_q)
declare -A VWITH=([vecrec]="" [pgvector]="" [vecrec-$QUANT]=", quantizer = '$QUANT'")
declare -A VOPTS=([vecrec]="" [pgvector]="" [vecrec-$QUANT]="${RERANK:+-c vecrec.ivfflat_rerank=$RERANK}")
[[ $QUANT != none ]] && VARIANTS+=("vecrec-$QUANT")
[[ " ${DBS[*]} " == *" bench_pgvector "* ]] && VARIANTS+=(pgvector)

glove_data >/dev/null
COMMIT="$(git_commit)"

start_cluster "shared_buffers = 2GB
$GLOVE_CONF
max_connections = 20"
cd "$WORK"

say "$("$BINDIR/postgres" --version), $(nproc) CPUs, base rows $NBASE, queries $NQ, lists: ${LIST_LIST[*]}, probes: ${PROBE_LIST[*]}, ${DURATION}s x $REPS per measurement, commit $COMMIT"

for db in "${DBS[@]}"; do
    t0=$SECONDS
    q postgres "" -c "CREATE DATABASE $db"
    q "$db" "" -c "CREATE EXTENSION ${EXTNAME[$db]}"
    glove_tables "$db" ",
    category int GENERATED ALWAYS AS (((id::bigint * 2654435761) % 1000)::int) STORED"
    q "$db" "" -c "CREATE TABLE truth (c int, qid int, ids int[] NOT NULL, PRIMARY KEY (c, qid))"
    glove_load "$db"
    if [[ $db == bench_vecrec && $QUANT != none ]]; then
        q "$db" "" -c "CREATE TABLE items_q (LIKE items INCLUDING ALL)" \
            -c "INSERT INTO items_q (id, embedding) SELECT id, embedding FROM items" \
            -c "VACUUM (FREEZE, ANALYZE) items_q" -c "SELECT pg_prewarm('items_q')" >/dev/null
    fi
    q "$db" "" -c "VACUUM (FREEZE, ANALYZE) items" -c "VACUUM ANALYZE queries" -c "SELECT pg_prewarm('items')" >/dev/null
    # exact answers: c = 1000 unfiltered, 100 (10%), 10 (1%)
    q "$db" "-c max_parallel_workers_per_gather=0" -c "INSERT INTO truth SELECT c, q.qid,
        ARRAY(SELECT id FROM items WHERE category < c ORDER BY embedding <=> q.v, id LIMIT 10)
        FROM queries q, unnest(ARRAY[1000$( ((FILTERS)) && echo ", 100, 10")]) c"
    say "$db: loaded $(q "$db" "" -c "SELECT count(*) FROM items") rows and the exact answers in $((SECONDS - t0)) s"
done

BASE_OPTS="-c jit=off -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_bitmapscan=off"
SQL_KNN="SELECT id FROM %s ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = \$1) LIMIT 10"
SQL_F="SELECT id FROM %s WHERE category < %d ORDER BY embedding <=> (SELECT v FROM queries WHERE qid = \$1) LIMIT 10"

# recall_of DB OPTS SQL C -> "rows_per_query recall"
recall_of() {
    q "$1" "$BASE_OPTS $2" -F ' ' -c "PREPARE bench_q(int) AS $3" -c "
        SELECT round(avg(cardinality(r.ids)), 2),
               round(avg((SELECT count(*) FROM unnest(r.ids) g WHERE g = ANY (t.ids))::numeric / greatest(cardinality(t.ids), 1)), 4)
          FROM bench_ids($NQ) r JOIN truth t ON t.qid = r.qid AND t.c = $4"
}

# qps_of DB OPTS SQL -> "qps p50_ms" (median of REPS pgbench runs)
qps_of() {
    local db=$1 opts=$2 sql=$3 r out all=() p50s=()
    printf '\\set qid random(0, %d)\n%s;\n' "$((NQ - 1))" "${sql//\$1/:qid}" >"$WORK/script.sql"
    for ((r = 0; r < REPS; r++)); do
        out=$(PGOPTIONS="$BASE_OPTS $opts" "$BINDIR/pgbench" -h "$CLUSTER" -p "$PORT" -U postgres -n -M prepared \
            -f "$WORK/script.sql" -c 1 -j 1 -T "$DURATION" "$db" 2>&1) || { echo "$out" >&2; die "pgbench failed in $db"; }
        all+=("$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")")
        p50s+=("$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")")
    done
    echo "$(median "${all[@]}") $(median "${p50s[@]}")"
}

mkdir -p "$REPO/bench/results"
CSV="$REPO/bench/results/ivf_glove100_$(date -u +%Y%m%dT%H%M%SZ).csv"
echo "extension,lists,build_s,size_mb,workers,base_rows,queries,probes,iterative_scan,selectivity,recall_at_10,rows_per_query,qps,latency_ms,commit" >"$CSV"
declare -A BUILD SIZE RECALL QPS

for L in "${LIST_LIST[@]}"; do
    for v in "${VARIANTS[@]}"; do
        db=${VDB[$v]}; tab=${VTAB[$v]}
        q "$db" "" -c "DROP INDEX IF EXISTS ${tab}_ivf" -c "CHECKPOINT"
        t0=$EPOCHREALTIME
        q "$db" "-c max_parallel_maintenance_workers=$PW" -c \
            "CREATE INDEX ${tab}_ivf ON $tab USING ivfflat (embedding vector_cosine_ops) WITH (lists = $L${VWITH[$v]})"
        t1=$EPOCHREALTIME
        BUILD[$v,$L]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        SIZE[$v,$L]=$(q "$db" "" -c "SELECT round(pg_relation_size('${tab}_ivf') / 1048576.0, 1)")
        q "$db" "" -c "SELECT pg_prewarm('${tab}_ivf')" >/dev/null
        say "$v: lists = $L: build ${BUILD[$v,$L]} s, ${SIZE[$v,$L]} MB"
    done
    # the sweep, variants alternating
    for p in "${PROBE_LIST[@]}"; do
        for v in "${VARIANTS[@]}"; do
            db=${VDB[$v]}; sql=$(printf "$SQL_KNN" "${VTAB[$v]}")
            opts="-c ivfflat.probes=$p ${VOPTS[$v]}"
            read -r rows rec <<<"$(recall_of "$db" "$opts" "$sql" 1000)"
            read -r qps lat <<<"$(qps_of "$db" "$opts" "$sql")"
            RECALL[$v,$L,$p]=$rec; QPS[$v,$L,$p]=$qps
            printf '%-10s lists %4d probes %3d: recall@10 %.4f, %8.1f q/s, %.3f ms\n' "$v" "$L" "$p" "$rec" "$qps" "$lat"
            echo "$v,$L,${BUILD[$v,$L]},${SIZE[$v,$L]},$PW,$NBASE,$NQ,$p,off,1,$rec,$rows,$qps,$lat,$COMMIT" >>"$CSV"
        done
    done
    if ((FILTERS)); then
        for c in 100 10; do
            for p in "${FPROBE_LIST[@]}"; do
                for v in "${VARIANTS[@]}"; do
                    db=${VDB[$v]}
                    opts="-c ivfflat.probes=$p -c ivfflat.iterative_scan=relaxed_order ${VOPTS[$v]}"
                    [[ $db == bench_vecrec ]] && opts="$opts -c vecrec.enable_exact_scan=off"
                    sql=$(printf "$SQL_F" "${VTAB[$v]}" "$c")
                    read -r rows rec <<<"$(recall_of "$db" "$opts" "$sql" "$c")"
                    read -r qps lat <<<"$(qps_of "$db" "$opts" "$sql")"
                    printf '%-10s lists %4d category < %3d (%s%%) probes %3d relaxed_order: %.2f rows, recall@10 %.4f, %8.1f q/s\n' \
                        "$v" "$L" "$c" "$((c / 10))" "$p" "$rows" "$rec" "$qps"
                    echo "$v,$L,${BUILD[$v,$L]},${SIZE[$v,$L]},$PW,$NBASE,$NQ,$p,relaxed_order,0.$(printf '%03d' "$c"),$rec,$rows,$qps,$lat,$COMMIT" >>"$CSV"
                done
            done
        done
    fi
done

# queries/s at a recall target: linear interpolation between sweep points
qps_at() {
    local db=$1 L=$2 target=$3 prev="" p
    for p in "${PROBE_LIST[@]}"; do
        if awk -v r="${RECALL[$db,$L,$p]}" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
            if [[ -z "$prev" ]]; then echo "${QPS[$db,$L,$p]}"; return; fi
            awk -v r0="${RECALL[$db,$L,$prev]}" -v r1="${RECALL[$db,$L,$p]}" -v q0="${QPS[$db,$L,$prev]}" \
                -v q1="${QPS[$db,$L,$p]}" -v t="$target" \
                'BEGIN { f = (r1 > r0) ? (t - r0) / (r1 - r0) : 1; printf "%.1f\n", q0 + f * (q1 - q0) }'
            return
        fi
        prev=$p
    done
    echo "-"
}

echo
echo "summary (base rows $NBASE, $NQ queries, 1 client, commit $COMMIT)"
for L in "${LIST_LIST[@]}"; do
    for v in "${VARIANTS[@]}"; do
        pmax="${PROBE_LIST[-1]}"
        printf '%-10s lists %4d: build %6s s, %7s MB, q/s at recall 0.90: %7s, at 0.95: %7s, recall at probes %d: %s\n' \
            "$v" "$L" "${BUILD[$v,$L]}" "${SIZE[$v,$L]}" "$(qps_at "$v" "$L" 0.90)" "$(qps_at "$v" "$L" 0.95)" \
            "$pmax" "${RECALL[$v,$L,$pmax]}"
    done
    if [[ $QUANT != none ]]; then
        # the quantized index against the flat one: size, build, recall at equal probes, q/s at equal recall
        vq="vecrec-$QUANT"
        awk -v s0="${SIZE[vecrec,$L]}" -v s1="${SIZE[$vq,$L]}" -v b0="${BUILD[vecrec,$L]}" -v b1="${BUILD[$vq,$L]}" \
            -v q0="$(qps_at vecrec "$L" 0.95)" -v q1="$(qps_at "$vq" "$L" 0.95)" -v L="$L" -v vq="$vq" \
            'BEGIN { printf "%s vs vecrec, lists %d: size %.2fx, build %.2fx, q/s at recall 0.95 %s\n", vq, L, s1 / s0, b1 / b0,
                     (q0 + 0 > 0 && q1 + 0 > 0) ? sprintf("%.2fx", q1 / q0) : "-" }'
        for p in "${PROBE_LIST[@]}"; do
            printf '  probes %3d: recall %s vs %s (difference %+.4f)\n' "$p" "${RECALL[$vq,$L,$p]}" "${RECALL[vecrec,$L,$p]}" \
                "$(awk -v a="${RECALL[$vq,$L,$p]}" -v b="${RECALL[vecrec,$L,$p]}" 'BEGIN { print a - b }')"
        done
    fi
done
say "CSV: $CSV"
bash "$HERE/plot.sh" "$CSV" || warn "no plot (bench/plot.sh failed; needs gnuplot-nox)"
