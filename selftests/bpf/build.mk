# Fast-path selftests: BPF_PROG_TEST_RUN on crafted frames, bpftool loading;
# ringread, the live tests' reader of the pinned ring buffer.
SELFTEST_BPF := $(O)/tests/bpf/fastpath
SELFTEST_BPF_RINGREAD := $(O)/tests/bpf/ringread

$(SELFTEST_BPF): selftests/bpf/fastpath.c $(BPF_SKEL) bpf/vnfsec_abi.h \
		$(EXT)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) $< -o $@ $(LDLIBS)

$(SELFTEST_BPF_RINGREAD): selftests/bpf/ringread.c bpf/vnfsec_abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@ $(LDLIBS)

TESTS += $(SELFTEST_BPF) $(SELFTEST_BPF_RINGREAD)
