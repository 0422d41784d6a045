# vnfsec-agent; everything but main.o also goes into a library the unit
# tests link against. nDPI (l7.c) is the agent's alone.
AGENT_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard user/agent/*.c))
AGENT_LIB := $(O)/lib/libvnfsec-agent.a
AGENT_LDLIBS := $(shell pkg-config --libs libndpi)
$(AGENT_OBJS): $(PROTO_GEN) $(BPF_SKEL)
$(O)/user/agent/l7.o: CFLAGS += $(shell pkg-config --cflags libndpi)

$(AGENT_LIB): $(filter-out $(O)/user/agent/main.o,$(AGENT_OBJS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(O)/bin/vnfsec-agent: $(O)/user/agent/main.o $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LDLIBS) $(AGENT_LDLIBS) $(TPM_LIBS) $(LDLIBS)

BINS += $(O)/bin/vnfsec-agent
