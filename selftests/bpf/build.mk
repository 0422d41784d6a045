# Fast-path selftests: BPF_PROG_TEST_RUN on crafted frames, bpftool loading.
SELFTEST_BPF := $(O)/tests/bpf/fastpath

$(SELFTEST_BPF): selftests/bpf/fastpath.c $(BPF_SKEL) bpf/vnfsec_abi.h \
		$(EXT)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) $< -o $@ $(LDLIBS)

TESTS += $(SELFTEST_BPF)
