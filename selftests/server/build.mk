# selftests/server: the server against real TLS clients on loopback.
SRVTEST_LIB := selftests/server/srvlib.c
# test_state and test_incidents also run on a real PostgreSQL (pglib.c).
PGTEST_LIB := selftests/server/pglib.c

$(O)/tests/server/test_server: selftests/server/test_server.c $(SRVTEST_LIB) selftests/server/srvlib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

$(O)/tests/server/test_incidents: selftests/server/test_incidents.c $(SRVTEST_LIB) $(PGTEST_LIB) selftests/server/pglib.h selftests/server/srvlib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(PGTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

$(O)/tests/server/test_actions: selftests/server/test_actions.c $(SRVTEST_LIB) selftests/server/srvlib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

$(O)/tests/server/test_trust: selftests/server/test_trust.c $(SRVTEST_LIB) selftests/server/srvlib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

$(O)/tests/server/test_faults: selftests/server/test_faults.c $(SRVTEST_LIB) selftests/server/srvlib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

$(O)/tests/server/test_state: selftests/server/test_state.c $(SRVTEST_LIB) $(PGTEST_LIB) selftests/server/srvlib.h selftests/server/pglib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(PGTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

$(O)/tests/server/test_ctlsock: selftests/server/test_ctlsock.c $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/server/test_server $(O)/tests/server/test_incidents \
	$(O)/tests/server/test_actions $(O)/tests/server/test_trust \
	$(O)/tests/server/test_ctlsock $(O)/tests/server/test_faults \
	$(O)/tests/server/test_state

# libFuzzer on the frame decoder, built with clang whatever CC is: the
# decoder and the generated code are compiled in, instrumented.
FUZZ_WIRE := $(O)/tests/server/fuzz_wire
$(FUZZ_WIRE): selftests/server/fuzz_wire.c user/common/wire.c $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -D_GNU_SOURCE -I$(SRC) -I$(O)/gen \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ selftests/server/fuzz_wire.c user/common/wire.c \
		$(O)/gen/user/common/vnfsec.pb-c.c $(shell pkg-config --libs libprotobuf-c)

TESTS += $(FUZZ_WIRE)

# make fuzz: at least a million executions of the decoder.
FUZZ_RUNS ?= 1000000
.PHONY: fuzz
fuzz: $(FUZZ_WIRE)
	@mkdir -p $(O)/fuzz/wire
	$(FUZZ_WIRE) -runs=$(FUZZ_RUNS) -max_len=4096 \
		-artifact_prefix=$(O)/fuzz/ $(O)/fuzz/wire \
		selftests/server/fixtures/wire-seeds

# Two servers on one PostgreSQL (and NATS JetStream): one picture.
NATSTEST_LIB := selftests/server/natslib.c
$(O)/tests/server/test_cluster: selftests/server/test_cluster.c $(SRVTEST_LIB) $(PGTEST_LIB) $(NATSTEST_LIB) selftests/server/srvlib.h selftests/server/pglib.h selftests/server/natslib.h $(O)/lib/libvnfsec.a $(EXT)/.stamp $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $< $(SRVTEST_LIB) $(PGTEST_LIB) $(NATSTEST_LIB) $(O)/lib/libvnfsec.a $(LDLIBS)

TESTS += $(O)/tests/server/test_cluster
