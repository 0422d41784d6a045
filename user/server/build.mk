# vnfsec-server
SERVER_PKGS := sqlite3 libpq libmicrohttpd yaml-0.1 libnats
SERVER_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard user/server/*.c))
$(SERVER_OBJS): $(PROTO_GEN)
$(SERVER_OBJS): CFLAGS += $(shell pkg-config --cflags $(SERVER_PKGS))

$(O)/bin/vnfsec-server: $(SERVER_OBJS) $(O)/lib/libvnfsec_policy.a \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TPM_LIBS) \
		$(shell pkg-config --libs $(SERVER_PKGS))

BINS += $(O)/bin/vnfsec-server

# vnfsec-agentsim (tools/agentsim.c): N real TLS agents for the server's
# tests and benchmarks. Built here as the server's companion.
$(O)/bin/vnfsec-agentsim: $(O)/tools/agentsim.o $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(O)/tools/agentsim.o: $(PROTO_GEN)

BINS += $(O)/bin/vnfsec-agentsim
