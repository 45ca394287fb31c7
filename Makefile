# vecrec: PostgreSQL extension for vector search and recommendations (PGXS)

EXTENSION = vecrec
EXTVERSION = 0.1.0

MODULE_big = vecrec
KERNEL_OBJS = src/kernels.o src/kernels_scalar.o
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
KERNEL_OBJS += src/kernels_avx2.o src/kernels_avx512.o
endif
ifeq ($(ARCH),aarch64)
KERNEL_OBJS += src/kernels_neon.o
endif
HNSW_OBJS = src/hnsw/hnsw.o src/hnsw/hnswbuild.o src/hnsw/hnswinsert.o src/hnsw/hnswscan.o \
	src/hnsw/hnswsearch.o src/hnsw/hnswutils.o src/hnsw/hnswvacuum.o src/hnsw/hnswcheck.o \
	src/hnsw/hnswgraph.o
# filter key columns of hnsw indexes: partitions (hnswpart.c) and their scans
HNSW_OBJS += src/hnsw/hnswpart.o src/hnsw/hnswpartscan.o
IVF_OBJS = src/ivf/ivf.o src/ivf/ivfbuild.o src/ivf/ivfkmeans.o src/ivf/ivfinsert.o src/ivf/ivfscan.o \
	src/ivf/ivfutils.o src/ivf/ivfvacuum.o src/ivf/ivfcheck.o src/ivf/ivfquant.o
REC_OBJS = src/rec/recutils.o src/rec/session.o src/rec/eventweight.o src/rec/blend.o src/rec/mmr.o
OBJS = src/vecrec.o src/vector.o src/vecparse.o src/distance.o src/verify.o src/exactscan.o $(KERNEL_OBJS) $(HNSW_OBJS) $(IVF_OBJS) \
	$(REC_OBJS)
# recommend(): GUCs, filter check, request id
RECO_OBJS = src/rec/reco.o src/rec/compilematch.o src/rec/matchc.o
OBJS += $(RECO_OBJS)
# catalog freshness: tokenizer, embed_text, triggers
FRESH_OBJS = src/rec/tokenize.o src/rec/embed.o src/rec/triggers.o
OBJS += $(FRESH_OBJS)
HEADERS = src/vector.h

DATA = sql/$(EXTENSION)--$(EXTVERSION).sql

# pg_regress inputs in sql/, expected outputs in expected/ (one file per feature)
REGRESS = vector_type cast operators functions aggregates btree bad_input copy kernels \
	hnsw_options hnsw_l2 hnsw_cosine hnsw_highdim hnsw_keys \
	ivf_options ivf_l2 ivf_cosine ivf_quant \
	rec_catalog rec_session rec_blend rec_mmr \
	reco_rules reco_recommend reco_feedback \
	fresh_embed fresh_triggers \
	verify_heap comments
REGRESS_OPTS = --inputdir=. --outputdir=. --load-extension=$(EXTENSION)

# Optimise, but never for the build machine's CPU: faster kernels are picked at run time.
OPTFLAGS ?= -O2
PG_CFLAGS += $(OPTFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -fvisibility=hidden
PG_CPPFLAGS += -I$(srcdir)/src -I$(srcdir)/src/hnsw -I$(srcdir)/src/ivf -I$(srcdir)/src/rec -DVECREC_VERSION=\"$(EXTVERSION)\"

EXTRA_CLEAN = results regression.diffs regression.out tmp_check test/kernels/test_kernels bench/bench_kernels

# Debian's PostgreSQL 15 by default; PG_CONFIG=... builds against another server.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(wildcard $(PGXS)),)
# Fresh machine without the server headers: the entry points install them, then start over.
ifdef VECREC_BOOTSTRAPPED
$(error PGXS not found even after scripts/deps.sh (PG_CONFIG=$(PG_CONFIG)); pass PG_CONFIG=/path/to/pg_config)
endif
.DEFAULT_GOAL := all
BOOTSTRAP_TARGETS = all install installcheck installcheck-tmp tap deps test demo demo-stop bench bench-distance \
	fuzz test-long test-valgrind
.PHONY: $(BOOTSTRAP_TARGETS)
$(BOOTSTRAP_TARGETS):
	bash scripts/deps.sh
	$(MAKE) $@ VECREC_BOOTSTRAPPED=1
else
include $(PGXS)

# Every object depends on the project's headers (PGXS tracks none by itself)
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/hnsw/*.h $(srcdir)/src/ivf/*.h $(srcdir)/src/rec/*.h)

# Per-ISA objects: the same kernel body compiled for each instruction set.
src/kernels_avx2.o: CFLAGS += -mavx2 -mfma
src/kernels_avx512.o: CFLAGS += -mavx512f
# JIT bitcode too (LLVM never inlines code needing features the CPU lacks)
src/kernels_avx2.bc: BITCODE_CFLAGS += -mavx2 -mfma
src/kernels_avx512.bc: BITCODE_CFLAGS += -mavx512f
src/kernels_avx2.o src/kernels_avx512.o src/kernels_neon.o src/kernels_scalar.o: src/kernels_body.h src/kernels.h

# Kernel test: the kernel sources built outside the server, plus the
# AVX-512 body built without -mavx512f and, on x86-64, the NEON body, both
# emulated by SIMDe, so their logic is checked on any CPU.
KT_CFLAGS = -O2 -g -Wall -Wextra -Werror -Wno-psabi -I$(srcdir)/src
KT_SRCS = src/kernels.c src/kernels_scalar.c
ifeq ($(ARCH),x86_64)
KT_ISA = test/kernels/kernels_avx2.o test/kernels/kernels_avx512.o test/kernels/kernels_avx512_emu.o \
	test/kernels/kernels_neon_emu.o
endif
ifeq ($(ARCH),aarch64)
KT_ISA = test/kernels/kernels_neon.o
endif
test/kernels/kernels_avx2.o: src/kernels_avx2.c src/kernels_body.h src/kernels.h
	$(CC) $(KT_CFLAGS) -mavx2 -mfma -c -o $@ $<
test/kernels/kernels_avx512.o: src/kernels_avx512.c src/kernels_body.h src/kernels.h
	$(CC) $(KT_CFLAGS) -mavx512f -c -o $@ $<
test/kernels/kernels_avx512_emu.o: src/kernels_avx512.c src/kernels_body.h src/kernels.h
	$(CC) $(KT_CFLAGS) -DVK_TABLE=VecKernelsAvx512Emu -c -o $@ $<
test/kernels/kernels_neon_emu.o: src/kernels_neon.c src/kernels_body.h src/kernels.h
	$(CC) $(KT_CFLAGS) -DVK_TABLE=VecKernelsNeonEmu -c -o $@ $<
test/kernels/kernels_neon.o: src/kernels_neon.c src/kernels_body.h src/kernels.h
	$(CC) $(KT_CFLAGS) -c -o $@ $<
test/kernels/test_kernels: test/kernels/test_kernels.c $(KT_SRCS) $(KT_ISA)
	$(CC) $(KT_CFLAGS) -o $@ $< $(KT_SRCS) $(KT_ISA) -lm
EXTRA_CLEAN += test/kernels/*.o

# Tokenizer test: src/rec/tokenize.c (libc only) built outside the server,
# exhaustively over all code points plus random bytes (TAP 031 runs it)
test/tokenize/test_tokenize: test/tokenize/test_tokenize.c src/rec/tokenize.c src/rec/tokenize.h
	$(CC) $(KT_CFLAGS) -I$(srcdir)/src/rec -o $@ test/tokenize/test_tokenize.c src/rec/tokenize.c
EXTRA_CLEAN += test/tokenize/test_tokenize

# Fuzz harnesses (test/fuzz): the parsers of src/vecparse.c, the
# tokenizer of src/rec/tokenize.c and the rule match compiler of
# src/rec/matchc.c, built outside the server.  "make fuzz"
# builds them with clang and libFuzzer (test/fuzz/build/fuzz_*, see
# test/fuzz/run.sh); the replay programs run the committed corpus through
# the same harness functions without libFuzzer (TAP 003), with ASan and
# UBSan when the compiler has them.
FUZZ_TARGETS = vector_text vector_binary tokenize match
FUZZ_SRCS = src/vecparse.c src/rec/tokenize.c src/rec/matchc.c
FUZZ_HDRS = src/vecparse.h src/rec/tokenize.h src/rec/matchc.h
FUZZ_CFLAGS = -g -O1 -Wall -Wextra -Werror -I$(srcdir)/src -I$(srcdir)/src/rec
FUZZ_CLANG ?= $(firstword $(shell command -v clang clang-14 2>/dev/null) clang)
REPLAY_SAN := $(shell echo 'int main(void){return 0;}' | \
	$(CC) -fsanitize=address,undefined -x c - -o /dev/null 2>/dev/null && \
	echo -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
FUZZ_REPLAY_BINS = $(addprefix test/fuzz/replay_,$(FUZZ_TARGETS))
test/fuzz/replay_%: test/fuzz/fuzz_%.c test/fuzz/replay.c $(FUZZ_SRCS) $(FUZZ_HDRS)
	$(CC) $(FUZZ_CFLAGS) $(REPLAY_SAN) -o $@ $< test/fuzz/replay.c $(FUZZ_SRCS) -lm
test/fuzz/build/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_SRCS) $(FUZZ_HDRS)
	@mkdir -p test/fuzz/build
	$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(FUZZ_SRCS) -lm
EXTRA_CLEAN += $(FUZZ_REPLAY_BINS) test/fuzz/build test/fuzz/work

# Test, demo and benchmark targets
include mk/targets.mk
tap prove-tmp: test/kernels/test_kernels test/tokenize/test_tokenize $(FUZZ_REPLAY_BINS)
endif
