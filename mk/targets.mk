# Test, demo and benchmark targets; included by the Makefile after PGXS.
#
#   make test              deps + build + install + regression + TAP tests
#   make installcheck-tmp  regression tests (REGRESS) on a throwaway cluster
#   make tap               TAP tests (test/t/*.pl; PROVE_TESTS=... for some)
#   make deps              install missing Debian packages
#   make bench-fresh       catalog freshness benchmark (bench/bench_fresh.sh)
#
# The throwaway clusters live under /tmp and are removed afterwards; as root
# they run as the postgres user. See scripts/pgcluster.sh.

PGCLUSTER = bash scripts/pgcluster.sh
SUBMAKE = $(MAKE) --no-print-directory

# Helper programs the TAP tests run (built from the Makefile's rules).
TEST_BINS = $(if $(wildcard test/kernels/test_kernels.c),test/kernels/test_kernels) \
	$(if $(wildcard test/tokenize/test_tokenize.c),test/tokenize/test_tokenize)

# Binaries and test support files of the server we build against.
export PG_BINDIR := $(bindir)
TAP_ENV = PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	PG_PERL_LIB='$(top_srcdir)/src/test/perl' \
	PROVE='$(PROVE)' PROVE_FLAGS='$(PROVE_FLAGS)' DEF_PGPORT='$(DEF_PGPORT)'

.PHONY: test deps installcheck-tmp regress tap prove-tmp demo demo-stop bench bench-distance bench-ivf bench-fresh

deps:
	@bash scripts/deps.sh

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
	@$(TAP_ENV) $(PGCLUSTER) tap $(PROVE_TESTS)

demo demo-stop:
	@echo "make $@: coming soon"

bench-distance:
	@if [ -f bench/bench_distance.sh ]; then bash bench/bench_distance.sh; \
	else echo "make $@: bench/bench_distance.sh does not exist yet"; fi

bench-ivf:
	@bash bench/bench_ivf.sh

# catalog freshness: bulk COPY/UPDATE with the queue triggers vs none, embed_text titles/s
bench-fresh:
	@PG_CONFIG='$(PG_CONFIG)' bash bench/bench_fresh.sh

bench:
	@if [ -f bench/bench.sh ]; then bash bench/bench.sh; \
	else echo "make $@: bench/bench.sh does not exist yet"; fi
