# Shared userspace code: wire protocol, TLS, logging.
PROTO := user/common/vnfsec.proto
PROTO_GEN := $(O)/gen/user/common/vnfsec.pb-c.c $(O)/gen/user/common/vnfsec.pb-c.h

$(PROTO_GEN) &: $(PROTO)
	@mkdir -p $(O)/gen
	$(PROTOC_C) --c_out=$(O)/gen $<

COMMON_OBJS += $(O)/gen/user/common/vnfsec.pb-c.o \
	$(patsubst %.c,$(O)/%.o,$(wildcard user/common/*.c))

$(O)/gen/user/common/vnfsec.pb-c.o: $(O)/gen/user/common/vnfsec.pb-c.c
	$(CC) $(CFLAGS) -c $< -o $@

$(patsubst %.c,$(O)/%.o,$(wildcard user/common/*.c)): $(PROTO_GEN)
