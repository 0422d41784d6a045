# selftests/agent: unit tests (cmocka) of the agent's parts.
AGENT_TESTS := $(O)/tests/agent/test_spool $(O)/tests/agent/test_heuristics

$(O)/tests/agent/%: selftests/agent/%.c $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a \
		$(POLICY_LDLIBS) $(TPM_LIBS) $(LDLIBS) \
		$(shell pkg-config --libs cmocka)

TESTS += $(AGENT_TESTS)
