#!/usr/bin/env bash
# bench_recommend.sh - latency of vecrec.recommend() (make bench-recommend).
#
#   bash bench/bench_recommend.sh [--rows N] [--dims D] [--calls N]
#
# A throwaway cluster (bench/lib.sh) gets a synthetic catalog generated
# deterministically in SQL (setseed): N rows (default 100,000) of unit vectors
# in D dimensions (default 100) around 200 random topics (uniformly random
# vectors in 100 dimensions have no neighbourhoods, unlike product
# embeddings), 10 categories, 50 brands, prices 0-999, 80% in stock; an hnsw
# index (vector_cosine_ops, m 16, ef_construction 64).  Then, for each case,
# the same --calls queries (default 300, after 50 untimed warm-up calls;
# "more like this": a product's embedding, the product excluded) run through
# one server-side PL/pgSQL loop that times every call with clock_timestamp();
# p50 and p95 in milliseconds:
#
#   plain       recommend(catalog, q, 12, candidates => 120)
#   filter      the same with filter => 'category = 3' (10% of the rows)
#   rules       plain, with 5 live rules (block, 2 boosts, cap, pin)
#   filter+rules
#
# each with vecrec.log_impressions off and on.
set -euo pipefail
LIB_NAME=bench_recommend
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ROWS=100000
DIMS=100
CALLS=300
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --dims) DIMS="$2"; shift 2 ;;
        --calls) CALLS="$2"; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done

find_pg
start_cluster "shared_buffers = 1GB
maintenance_work_mem = 1GB
jit = off
autovacuum = off
max_parallel_workers_per_gather = 0"
PSQL+=(-d postgres)

say "catalog: $ROWS rows, $DIMS dimensions"
t0=$EPOCHREALTIME
"${PSQL[@]}" <<SQL
CREATE EXTENSION vecrec;
SELECT setseed(0.42);
CREATE TABLE products (id bigint PRIMARY KEY, category int NOT NULL, brand text NOT NULL,
    price numeric NOT NULL, in_stock boolean NOT NULL, embedding vector($DIMS));
CREATE FUNCTION rand_unit(d int) RETURNS vector LANGUAGE sql VOLATILE AS \$\$
    SELECT l2_normalize(array_agg(random() - 0.5)::vector) FROM generate_series(1, d) \$\$;
-- product embeddings cluster (200 topics, each row its topic plus noise), as
-- real ones do; category, brand and stock vary within a topic (i / 200),
-- and a category holds 25 of the 50 brands
CREATE TABLE topics AS SELECT t, rand_unit($DIMS)::real[] AS c FROM generate_series(0, 199) t;
INSERT INTO products
SELECT i, (i / 200 * 3 + i) % 10, 'brand' || ((i / 200) * 13 + i * 7) % 50, (i * 31) % 1000, (i / 200 + i) % 5 <> 0,
       l2_normalize((SELECT array_agg(x + (random() - 0.5) * 0.12 ORDER BY n) FROM unnest(tp.c) WITH ORDINALITY u(x, n))::vector)
  FROM generate_series(1, $ROWS) i JOIN topics tp ON tp.t = (i * 37) % 200;
CREATE INDEX ON products (category);
CREATE INDEX products_embedding ON products USING hnsw (embedding vector_cosine_ops);
VACUUM ANALYZE products;
SELECT vecrec.track('products');
-- "more like this": the query is a product's embedding, the product itself excluded
CREATE TABLE queries AS SELECT g AS qid, p.id AS pid, p.embedding AS q
  FROM generate_series(1, $CALLS + 50) g JOIN products p ON p.id = (g * 7877) % $ROWS + 1;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT pg_prewarm('products'), pg_prewarm('products_embedding');

-- time every call in the server; returns p50 and p95 in ms
CREATE FUNCTION bench(f text, with_rules boolean, log boolean, OUT p50 numeric, OUT p95 numeric)
LANGUAGE plpgsql AS \$\$
DECLARE
    t timestamptz;
    ms float8[] := '{}';
    r record;
BEGIN
    UPDATE vecrec.rules SET enabled = with_rules;
    PERFORM set_config('vecrec.log_impressions', log::text, true);
    FOR r IN SELECT qid, pid, q FROM queries ORDER BY qid LOOP
        t := clock_timestamp();
        PERFORM * FROM vecrec.recommend('products', r.q, 12, filter => f, exclude => ARRAY[r.pid], candidates => 120);
        IF r.qid > 50 THEN
            ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
        END IF;
    END LOOP;
    SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2),
           round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 2)
      INTO p50, p95 FROM unnest(ms) x;
END \$\$;
INSERT INTO vecrec.rules (catalog, action, match, note) VALUES ('products', 'block', '{"in_stock": false}', 'no out of stock');
INSERT INTO vecrec.rules (catalog, action, match, value) VALUES ('products', 'boost', '{"brand": {"in": ["brand1", "brand2"]}}', 1.3);
INSERT INTO vecrec.rules (catalog, action, match, value) VALUES ('products', 'boost', '{"price": {"<": 100}}', 1.1);
INSERT INTO vecrec.rules (catalog, action, group_by, value) VALUES ('products', 'cap', 'brand', 2);
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('products', 'pin', 10, 3);
SQL
say "load and index: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')"

printf '%-14s %-8s %9s %9s\n' case logging p50_ms p95_ms
for c in "plain|NULL|false" "filter|'category = 3'|false" "rules|NULL|true" "filter+rules|'category = 3'|true"; do
    IFS='|' read -r name f rules <<<"$c"
    for log in off on; do
        res=$("${PSQL[@]}" -At -F ' ' -c "SELECT p50, p95 FROM bench($f, $rules, '$log' = 'on')")
        read -r p50 p95 <<<"$res"
        printf '%-14s %-8s %9s %9s\n' "$name" "$log" "$p50" "$p95"
    done
done
"${PSQL[@]}" -At -c "SELECT 'impressions logged: ' || count(*) FROM vecrec.impressions"
