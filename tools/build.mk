# tools build rules

# vnfsec-bench: fast-path cost under BPF_PROG_TEST_RUN (make bench).
BENCH := $(O)/bin/vnfsec-bench

$(BENCH): $(O)/tools/bench.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

BINS += $(BENCH)
