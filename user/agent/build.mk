# vnfsec-agent
AGENT_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard user/agent/*.c))
$(AGENT_OBJS): $(PROTO_GEN) $(BPF_SKEL)

$(O)/bin/vnfsec-agent: $(AGENT_OBJS) $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

BINS += $(O)/bin/vnfsec-agent
