# selftests/e2e: a stand-in server that orders every action type.
E2E_PEER := $(O)/tests/e2e/action_peer

$(E2E_PEER): selftests/e2e/action_peer.c $(O)/lib/libvnfsec.a $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(E2E_PEER)
