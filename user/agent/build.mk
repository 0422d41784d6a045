# vnfsec-agent; everything but main.o also goes into a library the unit
# tests link against.
AGENT_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard user/agent/*.c))
AGENT_LIB := $(O)/lib/libvnfsec-agent.a
$(AGENT_OBJS): $(PROTO_GEN) $(BPF_SKEL)

$(AGENT_LIB): $(filter-out $(O)/user/agent/main.o,$(AGENT_OBJS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(O)/bin/vnfsec-agent: $(O)/user/agent/main.o $(AGENT_LIB) $(POLICY_LIB) \
		$(O)/lib/libvnfsec-tpm.a $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LDLIBS) $(TPM_LIBS) $(LDLIBS)

BINS += $(O)/bin/vnfsec-agent
