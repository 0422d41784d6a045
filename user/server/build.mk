# vnfsec-server
SERVER_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard user/server/*.c))
$(SERVER_OBJS): $(PROTO_GEN)

$(O)/bin/vnfsec-server: $(SERVER_OBJS) $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

BINS += $(O)/bin/vnfsec-server
