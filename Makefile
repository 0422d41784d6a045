# SPDX-License-Identifier: GPL-2.0-only
#
# vnfsec top-level build. Each component folder adds its own rules in a
# build.mk fragment; this file holds what they share.
#
#   make deps            install every dependency (Debian packages, virtme-ng)
#   make                 build BPF objects, userspace and the kernel module
#   make check           build with ASan+UBSan and run every test suite
#   make check SUITES="bpf kmod"   run a subset
#   make demo            the detection loop on a throw-away testbed
#   make bench           fast path, detection loop and server benchmarks
#   make fuzz            libFuzzer on the wire decoder and the policy loader
#   make soak            30 minutes of a server under 1,000 churning agents
#                        and hostile clients (two minutes of it: make check)
#
# O=DIR puts build output elsewhere (default build/); KDIR=DIR builds the
# module against other kernel headers.

O ?= build
SANITIZE ?= 0
SUITES ?=
SRC := $(CURDIR)
ARCH_TRIPLET := $(shell gcc -dumpmachine)
KDIR ?= $(firstword $(wildcard /usr/src/linux-headers-6.1.*-amd64))
# Files extracted from Debian's linux-source-6.1 (never committed).
EXT := $(SRC)/build/ext
LINUX_SOURCE_TAR = $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))
# The harness itself trips -Wextra; the kernel builds selftests with -Wall.
HARNESS_CFLAGS = -I$(EXT)/tools/testing/selftests -Wno-unused-parameter \
	-Wno-sign-compare
CHECKPATCH = $(EXT)/scripts/checkpatch.pl

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c

PKGS := libbpf libssl libcrypto libprotobuf-c json-c libsystemd
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(SRC) -I$(O)/gen -I$(O)/bpf $(shell pkg-config --cflags $(PKGS))
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lelf -lz -lm
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

.PHONY: all deps check demo bench fuzz soak clean userspace kmod tests style sparse
all: userspace kmod

# Fragments append to these.
BINS :=
TESTS :=
COMMON_OBJS :=

# bpf/ and user/common/ first: the others depend on what they generate.
include bpf/build.mk user/common/build.mk
include $(filter-out bpf/build.mk user/common/build.mk, \
	$(wildcard */build.mk user/*/build.mk selftests/*/build.mk))

userspace: $(BINS)
tests: $(TESTS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(O)/lib/libvnfsec.a: $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# kselftest_harness.h and checkpatch.pl come from the kernel's own tree.
$(EXT)/.stamp:
	@test -n "$(LINUX_SOURCE_TAR)" || { echo "linux-source-6.1 missing: run 'make deps'" >&2; exit 1; }
	@mkdir -p $(EXT)
	tar -xJf $(LINUX_SOURCE_TAR) -C $(EXT) --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch $@

deps:
	tools/deps

check: all
	$(MAKE) O=build/san SANITIZE=1 userspace tests
	VNFSEC_BUILD=$(SRC)/build/san tools/run-suites $(SUITES)

demo: all
	VNFSEC_BUILD=$(SRC)/$(O) tools/demo

bench: all
	VNFSEC_BUILD=$(SRC)/$(O) tools/bench-run
	VNFSEC_BUILD=$(SRC)/$(O) tools/bench-loop
	VNFSEC_BUILD=$(SRC)/$(O) tools/bench-server

soak: all
	VNFSEC_BUILD=$(SRC)/$(O) tools/soak --testbed

# Each fuzz target's rules live beside its suite (selftests/*/build.mk).
fuzz: fuzz-policy

clean: kmod-clean
	rm -rf build

-include $(shell find $(O) -name '*.d' -type f 2>/dev/null)
