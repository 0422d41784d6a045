# selftests/agent: unit tests (cmocka) of the agent's parts.
AGENT_TESTS := $(O)/tests/agent/test_spool $(O)/tests/agent/test_heuristics \
	$(O)/tests/agent/test_actions $(O)/tests/agent/test_l7 \
	$(O)/tests/agent/test_protect $(O)/tests/agent/test_learn

$(O)/tests/agent/%: selftests/agent/%.c $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a \
		$(POLICY_LDLIBS) $(AGENT_LDLIBS) $(TPM_LIBS) $(LDLIBS) \
		$(shell pkg-config --libs cmocka)

TESTS += $(AGENT_TESTS)

# vnfsec-agent-bench: the agent's ring-buffer handler under load (make
# bench, tools/bench-loop); built with the binaries, not a test.
AGENT_BENCH := $(O)/bin/vnfsec-agent-bench
$(O)/selftests/agent/bench_events.o: $(BPF_SKEL) $(PROTO_GEN)
$(AGENT_BENCH): $(O)/selftests/agent/bench_events.o $(AGENT_LIB) \
		$(POLICY_LIB) $(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LDLIBS) $(AGENT_LDLIBS) $(TPM_LIBS) \
		$(LDLIBS)

BINS += $(AGENT_BENCH)
