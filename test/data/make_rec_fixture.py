#!/usr/bin/env python3
# make_rec_fixture.py - regenerate rec_glove_apple.tsv, the MMR fixture of
# sql/rec_mmr.sql, from the GloVe-100 data (bench/get_glove100.sh).
#
#   python3 test/data/make_rec_fixture.py [GLOVE_DIR] > test/data/rec_glove_apple.tsv
#
# Output: one line per word, "id<TAB>word<TAB>[x1,...,x100]" (id = base id in
# GloVe-100): the query word "apple" first, then its 120 nearest neighbours
# by cosine similarity among the 50,000 most frequent base words. Not needed
# at test time: the fixture is committed.
import math
import os
import sys

QUERY = "apple"
CANDIDATES = 120
VOCAB = 50000

d = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/vecrec-data/glove100")
with open(os.path.join(d, "words.txt"), encoding="utf-8") as f:
    words = [next(f).rstrip("\n") for _ in range(VOCAB)]
vecs = []
texts = []
with open(os.path.join(d, "base.tsv"), encoding="utf-8") as f:
    for _ in range(VOCAB):
        _, text = next(f).rstrip("\n").split("\t")
        texts.append(text)
        vecs.append([float(x) for x in text.strip("[]").split(",")])


def norm(v):
    return math.sqrt(sum(x * x for x in v))


q = words.index(QUERY)
qv, qn = vecs[q], norm(vecs[q])
sims = []
for i, v in enumerate(vecs):
    n = norm(v)
    if i == q or n == 0 or not words[i].isalpha():
        continue
    sims.append((sum(a * b for a, b in zip(qv, v)) / (qn * n), i))
sims.sort(reverse=True)
for i in [q] + [i for _, i in sims[:CANDIDATES]]:
    print(f"{i}\t{words[i]}\t{texts[i]}")
