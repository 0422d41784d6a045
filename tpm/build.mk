# tpm/: the TPM trust layer (tpm2-tss ESAPI), archived into
# libvnfsec-tpm.a; users link it with $(TPM_LIBS).
TPM_PKGS := tss2-esys tss2-mu tss2-rc tss2-tctildr
TPM_LIBS := $(shell pkg-config --libs $(TPM_PKGS))
TPM_PROTO_GEN := $(O)/gen/tpm/state.pb-c.c $(O)/gen/tpm/state.pb-c.h
TPM_SRC_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard tpm/*.c))
TPM_OBJS := $(O)/gen/tpm/state.pb-c.o $(TPM_SRC_OBJS)

$(TPM_PROTO_GEN) &: tpm/state.proto
	@mkdir -p $(O)/gen
	$(PROTOC_C) --c_out=$(O)/gen $<

$(O)/gen/tpm/state.pb-c.o: $(O)/gen/tpm/state.pb-c.c
	$(CC) $(CFLAGS) -c $< -o $@

$(TPM_SRC_OBJS): CFLAGS += $(shell pkg-config --cflags $(TPM_PKGS))
$(TPM_SRC_OBJS): $(TPM_PROTO_GEN)

$(O)/lib/libvnfsec-tpm.a: $(TPM_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^


# The agent's sealed state (user/agent/state.c) packs AgentState.
$(O)/user/agent/state.o: $(TPM_PROTO_GEN)
