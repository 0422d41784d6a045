# selftests/policy: the policy library through its public header.
$(O)/tests/policy/test_policy: selftests/policy/test_policy.c $(POLICY_LIB) $(EXT)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(POLICY_LIB) \
		$(POLICY_LDLIBS) $(LDLIBS)

TESTS += $(O)/tests/policy/test_policy
