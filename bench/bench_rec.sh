#!/usr/bin/env bash
# bench_rec.sh - recommendation primitives benchmark (make bench-rec; also run by make bench).
#
#   bash bench/bench_rec.sh [options]
#
#   --reps N     repetitions of each measurement, median reported (default 7)
#   --iters N    calls per repetition (default 2000)
#
# A throwaway cluster (bench/lib.sh), CREATE EXTENSION vecrec, generated data
# (setseed, no download): 120 candidates of 384 dimensions, a 384-d query,
# and a session of 20 events on 384-d products.  Each measurement is a
# PL/pgSQL loop timing ITERS statements with clock_timestamp() in the server
# and reporting microseconds per statement, so the figures include the
# executor's cost of one SELECT (shown by the "baseline" line):
#
#   mmr 120x384 k=12      SELECT count(*) FROM vecrec.mmr(q, ids, embs, 12)
#   baseline              the same with 1 candidate and k = 1
#   session_vector 20     vecrec.session_vector(v, w, at, '30 minutes') over
#                         20 rows of a vector[] unnested in the statement
#   session_vector 20 + join + event_weight   the README's typical query:
#                         last 20 events of a session joined to products,
#                         vecrec.event_weight(event) per row
#   blend 3x384           vecrec.blend of product, session and profile
#   diversity 12x384      vecrec.diversity of 12 vectors
#
# Needs: vecrec installed (make install), PostgreSQL 15 server binaries.
# PG_CONFIG selects the server (default: Debian's PostgreSQL 15).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB_NAME=bench_rec
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

REPS=7
ITERS=2000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) REPS="${2:?}"; shift ;;
        --iters) ITERS="${2:?}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 ]] || die "--reps must be >= 1"
[[ "$ITERS" =~ ^[0-9]+$ && "$ITERS" -ge 1 ]] || die "--iters must be >= 1"

find_pg
[[ -f "$SHAREDIR/extension/vecrec.control" ]] || die "vecrec is not installed in $SHAREDIR/extension: run 'make install' first"
start_cluster "shared_buffers = 128MB
jit = off
autovacuum = off
fsync = off
max_parallel_workers_per_gather = 0"

"${PSQL[@]}" -d postgres >/dev/null <<'SQL' || die "setup failed"
CREATE EXTENSION vecrec;
SELECT setseed(0.42);
CREATE TABLE cands AS
  SELECT i::bigint AS id, ARRAY(SELECT random() - 0.5 FROM generate_series(1, 384) WHERE i > 0)::vector(384) AS v
    FROM generate_series(1, 120) i;
CREATE TABLE products AS SELECT id::int, v AS embedding FROM cands;
CREATE TABLE events AS
  SELECT 1 + (i * 37) % 120 AS product, (ARRAY['view', 'click', 'add_to_cart', 'purchase'])[1 + i % 4] AS event,
         now() - i * interval '3 minutes' AS at
    FROM generate_series(0, 39) i;

-- microseconds per statement, ITERS statements (after 10 untimed)
CREATE FUNCTION bench(what text, iters int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
  q vector := (SELECT v FROM cands WHERE id = 1);
  ids bigint[] := ARRAY(SELECT id FROM cands ORDER BY id);
  embs vector[] := ARRAY(SELECT v FROM cands ORDER BY id);
  ws float8[] := ARRAY(SELECT (1 + i % 4)::float8 FROM generate_series(1, 20) i);
  ats timestamptz[] := ARRAY(SELECT now() - i * interval '3 minutes' FROM generate_series(1, 20) i);
  t0 timestamptz;
  n int;
  r vector;
  d float8;
BEGIN
  FOR pass IN 1 .. 2 LOOP
    t0 := clock_timestamp();
    FOR i IN 1 .. CASE pass WHEN 1 THEN 10 ELSE iters END LOOP
      CASE what
      WHEN 'mmr' THEN
        SELECT count(*) INTO n FROM vecrec.mmr(q, ids, embs, 12);
      WHEN 'baseline' THEN
        SELECT count(*) INTO n FROM vecrec.mmr(q, ids[1:1], embs[1:1], 1);
      WHEN 'session' THEN
        SELECT vecrec.session_vector(u.v, u.w, u.at, '30 minutes') INTO r
          FROM unnest(embs[1:20], ws, ats) AS u(v, w, at);
      WHEN 'session_join' THEN
        SELECT vecrec.session_vector(p.embedding, vecrec.event_weight(e.event), e.at, '30 minutes') INTO r
          FROM (SELECT * FROM events ORDER BY at DESC LIMIT 20) e JOIN products p ON p.id = e.product;
      WHEN 'blend' THEN
        SELECT vecrec.blend(ARRAY[embs[1], embs[2], embs[3]], ARRAY[0.7, 0.2, 0.1]) INTO r;
      WHEN 'diversity' THEN
        SELECT vecrec.diversity(embs[1:12]) INTO d;
      END CASE;
    END LOOP;
  END LOOP;
  RETURN 1e6 * extract(epoch FROM clock_timestamp() - t0) / iters;
END
$$;
SQL

say "$(pg_version), kernels: $("${PSQL[@]}" -d postgres -At -c "SELECT name FROM vecrec.kernels() WHERE active")"
say "$ITERS calls per repetition, median of $REPS repetitions"
printf '%-44s %12s %12s\n' measurement "median us" "min us"
csv=()
for what in mmr baseline session session_join blend diversity; do
    times=()
    for ((rep = 1; rep <= REPS; rep++)); do
        times+=("$("${PSQL[@]}" -d postgres -At -c "SELECT round(bench('$what', $ITERS)::numeric, 2)")") \
            || die "measurement $what failed"
    done
    case $what in
        mmr) label="mmr 120 x 384, k = 12" ;;
        baseline) label="baseline: mmr 1 x 384, k = 1" ;;
        session) label="session_vector, 20 events x 384" ;;
        session_join) label="session_vector, 20 events + join + weights" ;;
        blend) label="blend, 3 x 384" ;;
        diversity) label="diversity, 12 x 384" ;;
    esac
    med=$(median "${times[@]}")
    mn=$(printf '%s\n' "${times[@]}" | sort -g | head -n 1)
    printf '%-44s %12s %12s\n' "$label" "$med" "$mn"
    csv+=("csv,$what,$med,$mn")
done
echo "csv,measurement,median_us,min_us"
printf '%s\n' "${csv[@]}"
say "done"
