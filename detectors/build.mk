# Detectors (docs/detectors.md): BPF objects pushed to agents in signed
# bundles, and their tests (BPF_PROG_TEST_RUN through the fast path, in
# selftests/bpf/run on the host and in the 6.1 VM). detectors/tests/ holds
# objects the loader must refuse.
DETECTOR_OBJS := $(patsubst detectors/%.bpf.c,$(O)/detectors/%.bpf.o, \
	$(wildcard detectors/*.bpf.c detectors/tests/*.bpf.c))
SELFTEST_DETECTORS := $(O)/tests/bpf/detectors

LLVM_STRIP ?= llvm-strip

# DWARF stripped (BTF stays): a bundle carries at most 59 KB of object.
$(O)/detectors/%.bpf.o: detectors/%.bpf.c detectors/detector.h \
		bpf/vnfsec_abi.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(LLVM_STRIP) -g $@.tmp -o $@ && rm -f $@.tmp

$(SELFTEST_DETECTORS): detectors/test_detectors.c detectors/frames.h $(BPF_SKEL) \
		$(O)/user/agent/detector_load.o $(DETECTOR_OBJS) $(EXT)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) \
		-DDETECTORS_DIR='"$(abspath $(O))/detectors"' $< \
		$(O)/user/agent/detector_load.o -o $@ $(LDLIBS)

.PHONY: detectors
detectors: $(DETECTOR_OBJS)
userspace: detectors
TESTS += $(SELFTEST_DETECTORS)

# vnfsec-bench-detectors: the detectors' cost, for make bench.
DETECTOR_BENCH := $(O)/bin/vnfsec-bench-detectors
$(DETECTOR_BENCH): detectors/bench_detectors.c detectors/frames.h \
		$(BPF_SKEL) $(O)/user/agent/detector_load.o $(DETECTOR_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) \
		-DDETECTORS_DIR='"$(abspath $(O))/detectors"' $< \
		$(O)/user/agent/detector_load.o -o $@ $(LDLIBS)
BINS += $(DETECTOR_BENCH)
