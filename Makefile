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
OBJS = src/vecrec.o src/vector.o src/distance.o $(KERNEL_OBJS)
HEADERS = src/vector.h

DATA = sql/$(EXTENSION)--$(EXTVERSION).sql

# pg_regress inputs in sql/, expected outputs in expected/ (one file per feature)
REGRESS = vector_type cast operators functions aggregates btree bad_input copy kernels
REGRESS_OPTS = --inputdir=. --outputdir=. --load-extension=$(EXTENSION)

# Optimise, but never for the build machine's CPU: faster kernels are picked at run time.
OPTFLAGS ?= -O2
PG_CFLAGS += $(OPTFLAGS) -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -fvisibility=hidden
PG_CPPFLAGS += -I$(srcdir)/src -DVECREC_VERSION=\"$(EXTVERSION)\"

EXTRA_CLEAN = results regression.diffs regression.out tmp_check test/kernels/test_kernels bench/bench_kernels

# Debian's PostgreSQL 15 by default; PG_CONFIG=... builds against another server.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(wildcard $(PGXS)),)
# Fresh machine without the server headers: the entry points install them, then start over.
.DEFAULT_GOAL := all
all install installcheck test demo demo-stop bench bench-distance:
	bash scripts/deps.sh
	$(MAKE) $@
else
include $(PGXS)

# Per-ISA objects: the same kernel body compiled for each instruction set.
src/kernels_avx2.o: CFLAGS += -mavx2 -mfma
src/kernels_avx512.o: CFLAGS += -mavx512f
# JIT bitcode too (LLVM never inlines code needing features the CPU lacks)
src/kernels_avx2.bc: BITCODE_CFLAGS += -mavx2 -mfma
src/kernels_avx512.bc: BITCODE_CFLAGS += -mavx512f
src/kernels_avx2.o src/kernels_avx512.o src/kernels_neon.o src/kernels_scalar.o: src/kernels_body.h src/kernels.h

# Test, demo and benchmark targets
include mk/targets.mk
endif
