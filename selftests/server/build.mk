# selftests/server: the server against real TLS clients on loopback.
$(O)/tests/server/test_server: selftests/server/test_server.c $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/server/test_server
