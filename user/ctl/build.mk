# vnfsecctl: the operator's command (docs/vnfsecctl.md).
CTL_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard user/ctl/*.c))
$(CTL_OBJS): $(PROTO_GEN)

$(O)/bin/vnfsecctl: $(CTL_OBJS) $(POLICY_LIB) $(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LDLIBS) $(LDLIBS)

BINS += $(O)/bin/vnfsecctl
