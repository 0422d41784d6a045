# Shared userspace code: wire protocol, signed instructions, TLS, logging.
# Each .proto here becomes $(O)/gen/user/common/NAME.pb-c.{c,h}.
PROTOS := $(wildcard user/common/*.proto)
PROTO_GEN := $(foreach p,$(PROTOS),$(patsubst %.proto,$(O)/gen/%.pb-c.c,$(p)) \
	$(patsubst %.proto,$(O)/gen/%.pb-c.h,$(p)))

$(O)/gen/user/common/%.pb-c.c $(O)/gen/user/common/%.pb-c.h &: user/common/%.proto
	@mkdir -p $(O)/gen
	$(PROTOC_C) --c_out=$(O)/gen $<

$(O)/gen/user/common/%.pb-c.o: $(O)/gen/user/common/%.pb-c.c
	$(CC) $(CFLAGS) -c $< -o $@

COMMON_OBJS += $(patsubst %.proto,$(O)/gen/%.pb-c.o,$(PROTOS)) \
	$(patsubst %.c,$(O)/%.o,$(wildcard user/common/*.c))

$(patsubst %.c,$(O)/%.o,$(wildcard user/common/*.c)): $(PROTO_GEN)
