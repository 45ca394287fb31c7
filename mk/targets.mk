# Test, demo and benchmark targets; included by the Makefile after PGXS.
#
#   make test              deps + build + install + regression + TAP tests
#   make installcheck-tmp  regression tests (REGRESS) on a throwaway cluster
#   make tap               TAP tests (test/t/*.pl; PROVE_TESTS=... for some)
#   make deps              install missing Debian packages
#   make node-deps         npm packages of the Node.js client test (test/node)
#   make bench-fresh       catalog freshness benchmark (bench/bench_fresh.sh)
#   make bench-keys        filter key columns vs exact plans (bench/bench_keys.sh)
#   make test-long         the fuzz and concurrency TAP tests at 10x their size
#   make test-valgrind     a part of the regression suite with the server under
#                          valgrind memcheck (scripts/valgrind.sh); VALGRIND_TESTS=...
#   make fuzz              libFuzzer on the vector parsers, the tokenizer and
#                          the rule match compiler,
#                          FUZZ_SECONDS (60) per target; new coverage is merged
#                          into test/fuzz/corpus/ (commit it); needs clang
#
# The throwaway clusters live under /tmp and are removed afterwards; as root
# they run as the postgres user. See scripts/pgcluster.sh.

PGCLUSTER = bash scripts/pgcluster.sh
SUBMAKE = $(MAKE) --no-print-directory

# Helper programs the TAP tests run (built from the Makefile's rules).
TEST_BINS = $(if $(wildcard test/kernels/test_kernels.c),test/kernels/test_kernels) \
	$(if $(wildcard test/tokenize/test_tokenize.c),test/tokenize/test_tokenize) \
	$(FUZZ_REPLAY_BINS)

# Binaries and test support files of the server we build against.
export PG_BINDIR := $(bindir)
TAP_ENV = PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	PG_PERL_LIB='$(top_srcdir)/src/test/perl' \
	PROVE='$(PROVE)' PROVE_FLAGS='$(PROVE_FLAGS)' DEF_PGPORT='$(DEF_PGPORT)'

.PHONY: fuzz test-long test-valgrind test deps node-deps installcheck-tmp regress tap prove-tmp demo demo-stop bench bench-distance bench-ivf bench-rec bench-recommend bench-fresh bench-keys

deps:
	@bash scripts/deps.sh

# npm packages of test/t/040_node_client.pl, as pinned in test/node/package-lock.json
# (npm ci, cached in ~/.cache/vecrec-npm); reinstalled when the lock file changes.
# VECREC_SKIP_NODE=1 skips them, and the test.
NODE_STAMP = test/node/node_modules/.package-lock.json
node-deps: $(if $(filter-out 0,$(VECREC_SKIP_NODE)),,$(NODE_STAMP))
$(NODE_STAMP): test/node/package.json test/node/package-lock.json
	@bash test/node/setup.sh

# Run node-deps before the TAP tests that need it (all of them, or a list naming 040_node_client).
TAP_NEEDS_NODE = $(if $(PROVE_TESTS),$(findstring node_client,$(PROVE_TESTS)),yes)

# Regression and TAP tests both run; either failing fails the target.
test: deps
	$(SUBMAKE) all $(TEST_BINS)
	$(SUBMAKE) install
	@rc=0; \
	$(SUBMAKE) installcheck-tmp || rc=1; \
	$(SUBMAKE) tap || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED" >&2; fi; \
	exit $$rc

# pg_regress via PGXS installcheck against a fresh cluster on a free port.
installcheck-tmp regress:
	@dir=$$(mktemp -d /tmp/vecrec-regress.XXXXXX) || exit 1; \
	trap '$(PGCLUSTER) stop "$$dir" --remove' EXIT; \
	trap 'exit 130' INT TERM HUP; \
	port=$$($(PGCLUSTER) freeport) || exit 1; \
	$(PGCLUSTER) start "$$dir" "$$port" || exit 1; \
	rm -f regression.diffs regression.out; \
	if PGHOST="$$dir" PGPORT="$$port" PGUSER=postgres $(SUBMAKE) installcheck; then \
		echo "make $@: regression tests passed"; \
	else \
		if [ -f regression.diffs ]; then \
			echo "======== regression.diffs (first 200 lines)"; \
			head -n 200 regression.diffs; \
		fi; \
		echo "make $@: regression tests FAILED" >&2; \
		exit 1; \
	fi

tap prove-tmp: $(TEST_BINS)
	@$(if $(TAP_NEEDS_NODE),$(SUBMAKE) node-deps || \
		echo "make $@: npm packages not installed: test/t/040_node_client.pl will fail" >&2)
	@$(TAP_ENV) $(PGCLUSTER) tap $(PROVE_TESTS)

# make demo: a throwaway cluster with a sample shop (demo/demo.sh says what it does)
demo:
	@bash scripts/deps.sh
	$(SUBMAKE) all
	$(SUBMAKE) install
	@bash demo/demo.sh

demo-stop:
	@bash demo/demo.sh stop

bench-distance:
	@if [ -f bench/bench_distance.sh ]; then bash bench/bench_distance.sh; \
	else echo "make $@: bench/bench_distance.sh does not exist yet"; fi

# gnuplot draws the recall vs queries/s plots (bench/plot.sh); a run without it has no plot.
BENCH_PLOT_DEPS = bash scripts/deps.sh gnuplot-nox || echo "make $@: gnuplot-nox not installed: no plots" >&2

bench-recommend:
	@bash bench/bench_recommend.sh

bench-ivf:
	@$(BENCH_PLOT_DEPS)
	@bash bench/bench_ivf.sh

# catalog freshness: bulk COPY/UPDATE with the queue triggers vs none, embed_text titles/s
bench-fresh:
	@PG_CONFIG='$(PG_CONFIG)' bash bench/bench_fresh.sh

# Recommendation primitives (mmr, session_vector, ...): generated data, no download.
bench-rec:
	@bash bench/bench_rec.sh

# The filtered query through an hnsw filter key column against the exact
# plans of vecrec and pgvector (GloVe-100, 1% categories)
bench-keys:
	@bash bench/bench_keys.sh

# The HNSW benchmark (GloVe-100), the filter key column benchmark, then the
# recommendation primitives, recommend() latency and catalog freshness; each
# runs even if an earlier one fails, and any failing fails the target.
bench:
	@$(BENCH_PLOT_DEPS)
	@rc=0; \
	bash bench/bench.sh || rc=1; \
	bash bench/bench_keys.sh || rc=1; \
	bash bench/bench_rec.sh || rc=1; \
	bash bench/bench_recommend.sh || rc=1; \
	PG_CONFIG='$(PG_CONFIG)' bash bench/bench_fresh.sh || rc=1; \
	exit $$rc

# libFuzzer, FUZZ_SECONDS per target (test/fuzz/run.sh); installs clang and
# the libFuzzer runtime on Debian first.  Fails on a crash, leaving the
# input in test/fuzz/work/.
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/deps.sh clang libclang-rt-14-dev
	$(SUBMAKE) $(addprefix test/fuzz/build/fuzz_,$(FUZZ_TARGETS))
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash test/fuzz/run.sh $(FUZZ_TARGETS)

# Long variants of the TAP tests that take a size (not part of make test):
# 200,000 mutated vector literals (002), 15,000 rule matches and filters
# (004), 40,000 pgbench transactions (051).
LONG_TESTS = test/t/002_input_fuzz.pl test/t/004_rec_sql_fuzz.pl test/t/051_pgbench_mix.pl
test-long: deps
	$(SUBMAKE) all $(TEST_BINS)
	$(SUBMAKE) install
	VECREC_FUZZ_INPUTS=200000 VECREC_SQL_FUZZ_INPUTS=15000 VECREC_MIX_TX=5000 \
		$(SUBMAKE) tap PROVE_TESTS='$(LONG_TESTS)'

# The regression tests of the C code paths (type I/O, kernels, both index
# AMs, quantized lists, the recommendation primitives, recommend(), the
# embedder and triggers, verify_index) against a server under valgrind;
# fails on any error report whose stack passes through vecrec.so.  Not part
# of make test.
VALGRIND_TESTS ?= vector_type bad_input copy cast operators functions aggregates kernels \
	hnsw_l2 hnsw_cosine ivf_l2 ivf_quant rec_session rec_mmr reco_rules reco_recommend \
	reco_feedback fresh_embed fresh_triggers verify_heap
test-valgrind:
	@bash scripts/deps.sh valgrind
	$(SUBMAKE) all
	$(SUBMAKE) install
	@PG_CONFIG='$(PG_CONFIG)' bash scripts/valgrind.sh $(VALGRIND_TESTS)
