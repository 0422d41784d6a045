# selftests/agent: unit tests (cmocka) of the agent's parts.
AGENT_TESTS := $(O)/tests/agent/test_spool $(O)/tests/agent/test_heuristics \
	$(O)/tests/agent/test_actions $(O)/tests/agent/test_l7

$(O)/tests/agent/%: selftests/agent/%.c $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec.a $(POLICY_LDLIBS) $(AGENT_LDLIBS) $(LDLIBS) \
		$(shell pkg-config --libs cmocka)

TESTS += $(AGENT_TESTS)
