// client.js - vecrec driven from Node.js the way an application written for
// pgvector drives pgvector: the npm packages pg, pgvector (its pg helpers:
// registerTypes, toSql) and pg-copy-streams.  The only difference from a
// pgvector application is the extension's name in CREATE EXTENSION.
//
//   node test/node/client.js     (connection from PGHOST, PGPORT, PGUSER, PGDATABASE)
//
// Every result is checked against answers computed here in JavaScript; the
// first mismatch prints "not ok - ..." on stderr and exits with status 1.
// Run by test/t/040_node_client.pl on a throwaway cluster.  Works on Node 18
// (Debian bookworm's nodejs).
'use strict';

const pg = require('pg');
const pgvector = require('pgvector/pg');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');
const { pipeline } = require('node:stream/promises');
const { Readable, Writable } = require('node:stream');

const DIM = 3;
const NROWS = 1000;
const K = 10;

let checks = 0;

function fail(msg) {
  throw new Error(msg);
}

function ok(cond, msg) {
  if (!cond) fail(msg);
  checks++;
  console.log(`ok ${checks} - ${msg}`);
}

// ---- data, computed here -------------------------------------------------

// mulberry32: a small seeded generator, so every run sees the same rows
function rng(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Coordinates are float32 values (what a vector stores), never all zero.
const rand = rng(20261122);
function randomVector() {
  return Array.from({ length: DIM }, () => Math.fround(rand() * 2 - 1));
}

// 2% of the rows are 'gloves' (a selective filter), the rest spread over four categories
const CATEGORIES = ['shoes', 'bags', 'hats', 'coats'];
function categoryOf(id) {
  return id % 50 === 7 ? 'gloves' : CATEGORIES[id % 4];
}

const rows = new Map(); // id -> { embedding, category, in_stock }
for (let id = 1; id <= NROWS; id++) {
  rows.set(id, { embedding: randomVector(), category: categoryOf(id), in_stock: id % 3 !== 0 });
}

const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a) => Math.sqrt(dot(a, a));
const DISTANCES = {
  '<->': (a, b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0)),
  '<=>': (a, b) => 1 - dot(a, b) / (norm(a) * norm(b)),
  '<#>': (a, b) => -dot(a, b),
  '<+>': (a, b) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0),
};

// exact top k by brute force, ties by id
function exactTopK(op, q, k, pred = () => true) {
  const d = DISTANCES[op];
  return [...rows.entries()]
    .filter(([, r]) => pred(r))
    .map(([id, r]) => ({ id, distance: d(r.embedding, q) }))
    .sort((x, y) => x.distance - y.distance || x.id - y.id)
    .slice(0, k);
}

// float32 kernels in the server, float64 here
const close = (x, y) => Math.abs(x - y) <= 1e-5 * (1 + Math.abs(y));

// The server's rows must be a correct top k: the same distances position by
// position (so a swap of two rows at equal distance is fine), distances as
// computed here for the returned ids, and the ids themselves in the common case.
function checkKnn(got, op, q, expected, what) {
  if (got.length !== expected.length) fail(`${what}: ${got.length} rows, expected ${expected.length}`);
  const d = DISTANCES[op];
  got.forEach((r, i) => {
    const id = Number(r.id);
    if (!rows.has(id)) fail(`${what}: unknown id ${r.id}`);
    const mine = d(rows.get(id).embedding, q);
    if (!close(r.distance, mine)) fail(`${what}: row ${i + 1} id ${id}: server distance ${r.distance}, computed ${mine}`);
    if (!close(mine, expected[i].distance))
      fail(`${what}: row ${i + 1} is id ${id} at ${mine}, expected id ${expected[i].id} at ${expected[i].distance}`);
  });
  const same = got.filter((r, i) => Number(r.id) === expected[i].id).length;
  ok(same >= expected.length - 2, `${what}: top ${expected.length} correct (${same} ids in the exact order)`);
}

// ---- the test --------------------------------------------------------------

async function plan(client, sql, values) {
  const res = await client.query(`EXPLAIN (COSTS OFF) ${sql}`, values);
  return res.rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  ok(major >= 18, `Node.js ${process.versions.node} (>= 18)`);

  const client = new pg.Client();
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
  await poolCheck();
  console.log(`node client test: all ${checks} checks passed`);
}

async function run(client) {
  // As a pgvector application, with the extension's name changed
  await client.query('CREATE EXTENSION IF NOT EXISTS vecrec');
  await pgvector.registerTypes(client);

  const t = await client.query("SELECT '[1,2.5,-3]'::vector AS v, pg_typeof('[1]'::vector)::text AS type");
  ok(Array.isArray(t.rows[0].v) && JSON.stringify(t.rows[0].v) === '[1,2.5,-3]',
    'registerTypes found the type named vector: a vector comes back as a JS array');
  ok(t.rows[0].type === 'vector', 'the type is called vector');

  await client.query(`CREATE TABLE items (
    id bigint PRIMARY KEY,
    embedding vector(${DIM}),
    category text NOT NULL,
    in_stock boolean NOT NULL)`);

  // 1. one row at a time, parameterised, the vector through pgvector.toSql
  const ids = [...rows.keys()];
  for (const id of ids.slice(0, 10)) {
    const r = rows.get(id);
    const res = await client.query(
      'INSERT INTO items (id, embedding, category, in_stock) VALUES ($1, $2, $3, $4) RETURNING id, embedding',
      [id, pgvector.toSql(r.embedding), r.category, r.in_stock]);
    if (Number(res.rows[0].id) !== id) fail(`insert returned id ${res.rows[0].id}, expected ${id}`);
    if (res.rows[0].embedding.some((x, i) => Math.fround(x) !== r.embedding[i]))
      fail(`insert of id ${id} returned ${JSON.stringify(res.rows[0].embedding)}, sent ${JSON.stringify(r.embedding)}`);
  }
  ok(true, 'parameterised single-row inserts with RETURNING of the vector');

  // 2. multi-row VALUES, 190 rows in one statement
  const bulk = ids.slice(10, 200);
  const values = [];
  const tuples = bulk.map((id, i) => {
    const r = rows.get(id);
    values.push(id, pgvector.toSql(r.embedding), r.category, r.in_stock);
    return `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`;
  });
  const ins = await client.query(
    `INSERT INTO items (id, embedding, category, in_stock) VALUES ${tuples.join(', ')}`, values);
  ok(ins.rowCount === bulk.length, `multi-row INSERT of ${bulk.length} rows`);

  // 3. COPY FROM STDIN (text format) through pg-copy-streams
  const copied = ids.slice(200);
  const lines = copied.map((id) => {
    const r = rows.get(id);
    return `${id}\t${pgvector.toSql(r.embedding)}\t${r.category}\t${r.in_stock ? 't' : 'f'}\n`;
  });
  const copyStream = client.query(copyFrom('COPY items (id, embedding, category, in_stock) FROM STDIN'));
  await pipeline(Readable.from(lines), copyStream);
  ok(copyStream.rowCount === copied.length, `COPY FROM STDIN of ${copied.length} rows`);

  // every vector reads back as the same float32 values, through the client's parser
  const all = await client.query('SELECT id, embedding, vector_dims(embedding) AS dims FROM items ORDER BY id');
  ok(all.rows.length === NROWS, `${NROWS} rows in the table`);
  for (const r of all.rows) {
    const want = rows.get(Number(r.id)).embedding;
    if (r.dims !== DIM || r.embedding.length !== DIM || r.embedding.some((x, i) => Math.fround(x) !== want[i]))
      fail(`id ${r.id} reads back as ${JSON.stringify(r.embedding)}, stored ${JSON.stringify(want)}`);
  }
  ok(true, 'every vector reads back exactly (text output, pgvector.fromSql parsing)');

  // COPY TO STDOUT gives the same text the parser accepts
  let out = '';
  await pipeline(client.query(copyTo('COPY (SELECT id, embedding FROM items WHERE id <= 5 ORDER BY id) TO STDOUT')),
    new Writable({ write(chunk, enc, cb) { out += chunk; cb(); } }));
  const outRows = out.trim().split('\n').map((l) => l.split('\t'));
  ok(outRows.length === 5 && outRows.every(([id, v]) =>
    JSON.stringify(JSON.parse(v).map(Math.fround)) === JSON.stringify(rows.get(Number(id)).embedding)),
  'COPY TO STDOUT writes vectors as [x,y,z]');

  // a dimension mismatch is an error the application sees
  await client.query('INSERT INTO items VALUES (0, $1, $2, true)', [pgvector.toSql([1, 2]), 'x']).then(
    () => fail('a 2-dimensional vector went into vector(3)'),
    (e) => ok(/expected 3 dimensions, not 2/.test(e.message), `dimension mismatch: ${e.message}`));

  // indexes, as in pgvector's documentation
  await client.query('CREATE INDEX items_hnsw_l2 ON items USING hnsw (embedding vector_l2_ops)');
  await client.query('CREATE INDEX items_hnsw_ip ON items USING hnsw (embedding vector_ip_ops) WITH (m = 8, ef_construction = 32)');
  await client.query('CREATE INDEX items_hnsw_l1 ON items USING hnsw (embedding vector_l1_ops)');
  await client.query('CREATE INDEX items_ivf_cos ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10)');
  await client.query('ANALYZE items');
  ok(true, 'CREATE INDEX: hnsw vector_l2_ops, vector_ip_ops (m, ef_construction), vector_l1_ops; ivfflat vector_cosine_ops');

  // nearest neighbours, the query vector as a parameter, each operator through its index
  await client.query('SET enable_seqscan = off');
  await client.query('SET hnsw.ef_search = 200');   // more than enough for an exact answer on 1,000 rows
  await client.query('SET ivfflat.probes = 10');    // all lists: exact
  const INDEX_OF = { '<->': 'items_hnsw_l2', '<#>': 'items_hnsw_ip', '<+>': 'items_hnsw_l1', '<=>': 'items_ivf_cos' };
  const queries = Array.from({ length: 5 }, randomVector);
  for (const op of Object.keys(INDEX_OF)) {
    const sql = `SELECT id, embedding, embedding ${op} $1 AS distance FROM items ORDER BY embedding ${op} $1 LIMIT ${K}`;
    const p = await plan(client, sql, [pgvector.toSql(queries[0])]);
    ok(p.includes(`Index Scan using ${INDEX_OF[op]}`), `${op} uses ${INDEX_OF[op]}`);
    for (const [qi, q] of queries.entries()) {
      const res = await client.query(sql, [pgvector.toSql(q)]);
      checkKnn(res.rows, op, q, exactTopK(op, q, K), `${op} query ${qi}`);
    }
  }

  // a named prepared statement, run past the point where the server switches to a generic plan
  for (let i = 0; i < 8; i++) {
    const q = queries[i % queries.length];
    const res = await client.query({
      name: 'similar',
      text: 'SELECT id, embedding <-> $1 AS distance FROM items WHERE id <> $2 ORDER BY embedding <-> $1 LIMIT $3',
      values: [pgvector.toSql(q), 1, K],
    });
    if (res.rows.length !== K) fail(`prepared statement, execution ${i + 1}: ${res.rows.length} rows`);
    if (i === 7) checkKnn(res.rows, '<->', q, exactTopK('<->', q, K, (r) => r !== rows.get(1)), 'prepared statement, 8th execution (generic plan)');
  }

  // the default ivfflat.probes (1) reads one list: still LIMIT rows
  await client.query('RESET ivfflat.probes');
  const approx = await client.query(`SELECT id FROM items ORDER BY embedding <=> $1 LIMIT ${K}`, [pgvector.toSql(queries[1])]);
  ok(approx.rows.length === K, `ivfflat with probes = 1: ${K} rows`);

  // index maintenance: update a row onto the query point, then delete it
  const target = queries[2];
  await client.query('UPDATE items SET embedding = $1 WHERE id = $2', [pgvector.toSql(target), 500]);
  rows.get(500).embedding = target.slice();
  let res = await client.query('SELECT id, embedding <-> $1 AS distance FROM items ORDER BY embedding <-> $1 LIMIT 1', [pgvector.toSql(target)]);
  ok(Number(res.rows[0].id) === 500 && res.rows[0].distance === 0, 'an updated row is found through the hnsw index at distance 0');
  await client.query('DELETE FROM items WHERE id = 500');
  rows.delete(500);
  res = await client.query(`SELECT id, embedding <-> $1 AS distance FROM items ORDER BY embedding <-> $1 LIMIT ${K}`, [pgvector.toSql(target)]);
  checkKnn(res.rows, '<->', target, exactTopK('<->', target, K), 'after DELETE');

  // filtered queries: 2% of the rows match; a small ef_search alone finds few of them
  const gloves = (r) => r.category === 'gloves';
  const fsql = `SELECT id, embedding <-> $1 AS distance FROM items WHERE category = $2 ORDER BY embedding <-> $1 LIMIT ${K}`;
  const fq = queries[3];
  const fexact = exactTopK('<->', fq, K, gloves);
  await client.query('SET hnsw.ef_search = 10');
  const fp = await plan(client, fsql, [pgvector.toSql(fq), 'gloves']);
  ok(fp.includes('Index Scan using items_hnsw_l2') && fp.includes('Filter'), 'the filtered query scans items_hnsw_l2 with a filter');
  res = await client.query(fsql, [pgvector.toSql(fq), 'gloves']);
  ok(res.rows.length < K, `hnsw.iterative_scan = off, ef_search = 10: ${res.rows.length} of ${K} rows: without an iterative scan the filter leaves fewer than LIMIT`);
  for (const mode of ['relaxed_order', 'strict_order']) {
    await client.query('BEGIN');
    await client.query(`SET LOCAL hnsw.iterative_scan = ${mode}`);
    res = await client.query(fsql, [pgvector.toSql(fq), 'gloves']);
    await client.query('COMMIT');
    ok(res.rows.length === K && res.rows.every((r) => rows.get(Number(r.id)).category === 'gloves'),
      `hnsw.iterative_scan = ${mode}: ${K} rows, all in the category`);
    const found = new Set(fexact.map((e) => e.id));
    const hits = res.rows.filter((r) => found.has(Number(r.id))).length;
    ok(hits >= K - 1, `hnsw.iterative_scan = ${mode}: recall ${hits}/${K} against the exact filtered answer`);
    if (mode === 'strict_order')
      ok(res.rows.every((r, i) => i === 0 || r.distance >= res.rows[i - 1].distance), 'strict_order: distances never decrease');
  }
  const show = await client.query('SHOW hnsw.iterative_scan');
  ok(show.rows[0]['hnsw.iterative_scan'] === 'off', 'SET LOCAL ended with the transaction');

  // ivfflat: iterative scan with a filter, probes = 1
  await client.query('SET ivfflat.iterative_scan = relaxed_order');
  const isql = `SELECT id, embedding <=> $1 AS distance FROM items WHERE category = $2 AND in_stock ORDER BY embedding <=> $1 LIMIT ${K}`;
  res = await client.query(isql, [pgvector.toSql(fq), 'gloves']);
  const nIn = [...rows.values()].filter((r) => r.category === 'gloves' && r.in_stock).length;
  ok(res.rows.length === Math.min(K, nIn) &&
    res.rows.every((r) => rows.get(Number(r.id)).category === 'gloves' && rows.get(Number(r.id)).in_stock),
  `ivfflat.iterative_scan = relaxed_order: ${res.rows.length} rows, all matching`);
  await client.query('RESET ivfflat.iterative_scan');
  await client.query('RESET hnsw.ef_search');

  // vecrec's recommendation primitives, with vector[] parameters as an application sends them
  const parts = [queries[0], queries[1], null];
  res = await client.query('SELECT vecrec.blend($1::vector[], $2::float8[]) AS v',
    [parts.map((v) => (v === null ? null : pgvector.toSql(v))), [0.7, 0.2, 0.1]]);
  const unit = (v) => v.map((x) => x / norm(v));
  const mix = unit(unit(queries[0]).map((x, i) => 0.7 * x + 0.2 * unit(queries[1])[i]));
  ok(res.rows[0].v.every((x, i) => close(x, mix[i])), 'vecrec.blend of vector[] parameters (a NULL part left out)');

  const cand = exactTopK('<=>', fq, 30);
  res = await client.query('SELECT id, rank FROM vecrec.mmr($1, $2::bigint[], $3::vector[], $4, $5) ORDER BY rank',
    [pgvector.toSql(fq), cand.map((c) => c.id), cand.map((c) => pgvector.toSql(rows.get(c.id).embedding)), 5, 0.5]);
  ok(res.rows.length === 5 && Number(res.rows[0].id) === cand[0].id &&
    new Set(res.rows.map((r) => Number(r.id))).size === 5 && res.rows.every((r) => cand.some((c) => c.id === Number(r.id))),
  'vecrec.mmr: 5 distinct candidates, the most similar first');

  // ---- vecrec.recommend() -------------------------------------------------
  // The one-call API: register the table, then ask for k rows under a filter
  // and exclusions, as a shop backend would, with every value a parameter.
  // Row 500 was deleted above, so the rows here are the JS rows minus 500.
  rows.delete(500);
  await client.query("SELECT vecrec.track('items')");
  const rq = queries[3];
  const exclude = exactTopK('<=>', rq, 3, (r) => r.in_stock).map((c) => c.id);
  const inFilter = (r) => r.in_stock && r.category !== 'hats';
  const recSql = `SELECT id, rank, score, reason
                    FROM vecrec.recommend('items', $1, $2, 'app', $3, $4::bigint[], 60, $5) ORDER BY rank`;
  res = await client.query(recSql, [pgvector.toSql(rq), 8, "in_stock AND category <> 'hats'", exclude, 1.0]);
  const recIds = res.rows.map((r) => Number(r.id));
  const excludedRows = new Set(exclude.map((id) => rows.get(id)));
  const want = exactTopK('<=>', rq, 8, (r) => inFilter(r) && !excludedRows.has(r));
  ok(res.rows.length === 8 && new Set(recIds).size === 8, 'recommend(): k = 8 distinct rows');
  ok(recIds.every((id) => rows.has(id) && inFilter(rows.get(id)) && !exclude.includes(id)),
    'recommend(): every row passes the filter, none is excluded');
  ok(res.rows.every((r, i) => r.rank === i + 1 && r.reason === 'similar' &&
    close(r.score, 1 - DISTANCES['<=>'](rows.get(Number(r.id)).embedding, rq))),
  'recommend(): ranks 1..8, reason similar, score = cosine similarity');
  const hits = recIds.filter((id) => want.some((w) => w.id === id)).length;
  ok(hits >= 7, `recommend() with lambda = 1: ${hits} of the exact filtered top 8`);

  // a pin rule a merchandiser adds in psql shows up at its slot
  const pinned = exactTopK('<=>', rq, 40, (r) => inFilter(r)).map((c) => c.id).filter((id) => !recIds.includes(id) && !exclude.includes(id))[0];
  await client.query("INSERT INTO vecrec.rules (catalog, surface, action, item_id, value) VALUES ('items', 'app', 'pin', $1, 2)", [pinned]);
  res = await client.query(recSql, [pgvector.toSql(rq), 8, "in_stock AND category <> 'hats'", exclude, 0.7]);
  ok(Number(res.rows[1].id) === pinned && res.rows[1].reason === 'pinned' && res.rows.length === 8,
    'recommend(): a pin rule puts its item at slot 2');

  // feedback: the request id of the last call, a click on a shown item, CTR
  res = await client.query('SELECT vecrec.last_request_id() AS req');
  const req = res.rows[0].req;
  ok(typeof req === 'string' && req.length === 36, 'vecrec.last_request_id() is a uuid');
  await client.query("SELECT vecrec.log_event('user-1', 'session-1', $1, 'click', 'app', $2)", [pinned, req]);
  res = await client.query("SELECT vecrec.ctr('app', '1 hour') AS ctr, (SELECT count(*) FROM vecrec.impressions WHERE request_id = $1) AS n", [req]);
  ok(Number(res.rows[0].n) === 8 && close(res.rows[0].ctr, 1 / 16),
    `feedback: 8 impressions for the request, CTR ${res.rows[0].ctr} = 1 click / 16 impressions`);
  // --------------------------------------------------------------------------
}

// A pool whose connections register the types before first use, with a GUC
// set per connection.  (pg-pool awaits onConnect; registering in a 'connect'
// event handler instead races the first query and makes pg 8.x warn.)
async function poolCheck() {
  const pool = new pg.Pool({
    max: 4,
    options: '-c hnsw.ef_search=200',
    onConnect: (c) => pgvector.registerTypes(c),
  });
  try {
    const qs = Array.from({ length: 16 }, randomVector);
    const results = await Promise.all(qs.map((q) => pool.query(
      `SELECT id, embedding, embedding <-> $1 AS distance, current_setting('hnsw.ef_search') AS ef
         FROM items ORDER BY embedding <-> $1 LIMIT ${K}`, [pgvector.toSql(q)])));
    results.forEach((res, i) => {
      if (res.rows[0].ef !== '200') fail(`pool connection has hnsw.ef_search ${res.rows[0].ef}`);
      if (!Array.isArray(res.rows[0].embedding)) fail('pool connection: registerTypes did not run');
      checkKnn(res.rows, '<->', qs[i], exactTopK('<->', qs[i], K), `pool query ${i}`);
    });
    ok(pool.totalCount <= 4, `16 concurrent queries over ${pool.totalCount} pooled connections`);
  } finally {
    await pool.end();
  }
}

main().catch((e) => {
  console.error(`not ok - ${e.message}`);
  if (process.env.VECREC_NODE_DEBUG) console.error(e.stack);
  process.exit(1);
});
