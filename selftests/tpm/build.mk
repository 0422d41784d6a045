# selftests/tpm: the trust layer against private swtpm instances.
TPM_TEST_HELPERS := $(O)/selftests/tpm/swtpm.o $(O)/selftests/tpm/testcerts.o

$(O)/tests/tpm/test_tpm: selftests/tpm/test_tpm.c $(TPM_TEST_HELPERS) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a $(EXT)/.stamp \
		$(TPM_PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(TPM_TEST_HELPERS) $(O)/lib/libvnfsec-tpm.a \
		$(O)/lib/libvnfsec.a $(TPM_LIBS) $(LDLIBS)

TESTS += $(O)/tests/tpm/test_tpm

$(O)/tests/tpm/test_signing: selftests/tpm/test_signing.c \
		$(O)/lib/libvnfsec.a $(EXT)/.stamp $(SIGNED_PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/tpm/test_signing

$(O)/tests/tpm/test_tls: selftests/tpm/test_tls.c $(TPM_TEST_HELPERS) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a $(EXT)/.stamp \
		$(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(TPM_TEST_HELPERS) $(O)/lib/libvnfsec-tpm.a \
		$(O)/lib/libvnfsec.a $(TPM_LIBS) $(LDLIBS)

TESTS += $(O)/tests/tpm/test_tls

# Enrollment over the wire: the agent's enroll.c against vnfsec-server.
$(O)/tests/tpm/test_enroll: selftests/tpm/test_enroll.c $(TPM_TEST_HELPERS) \
		$(O)/user/agent/enroll.o $(O)/lib/libvnfsec-tpm.a \
		$(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN) \
		$(O)/bin/vnfsec-server
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(TPM_TEST_HELPERS) $(O)/user/agent/enroll.o \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a $(TPM_LIBS) \
		$(LDLIBS)

TESTS += $(O)/tests/tpm/test_enroll

# The enrollment and quote frames through wire_decode (no TPM needed).
$(O)/tests/tpm/test_wire_trust: selftests/tpm/test_wire_trust.c \
		$(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/tpm/test_wire_trust

# Policy bundles on a real testbed (selftests/tpm/policy_bundles): this
# helper makes the unsigned and forged ones an attacker could.
$(O)/tests/tpm/bundle_unsign: selftests/tpm/bundle_unsign.c \
		$(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/tpm/bundle_unsign

# The agent's sealed state (selftests/tpm/sealed_state): a stand-in
# server that replays one recorded signed action to every agent.
$(O)/tests/tpm/action_replay: selftests/tpm/action_replay.c \
		$(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/tpm/action_replay
