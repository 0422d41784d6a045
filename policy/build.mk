# policy/: the policy language, validator and compiler, as a static
# library the agent and vnfsecctl link (with -lyaml and libcrypto).
POLICY_SRCS := $(filter-out policy/fuzz_policy.c,$(wildcard policy/*.c))
POLICY_OBJS := $(patsubst %.c,$(O)/%.o,$(POLICY_SRCS))
POLICY_LIB := $(O)/lib/libvnfsec_policy.a
POLICY_LDLIBS := $(shell pkg-config --libs yaml-0.1)

$(POLICY_OBJS): CFLAGS += $(shell pkg-config --cflags yaml-0.1)

$(POLICY_LIB): $(POLICY_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

userspace: $(POLICY_LIB)

# libFuzzer target on the loader, built with clang whatever CC is.
FUZZ_POLICY := $(O)/tests/policy/fuzz_policy
FUZZ_CFLAGS := -g -O1 -D_GNU_SOURCE -I$(SRC) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(shell pkg-config --cflags yaml-0.1)

$(FUZZ_POLICY): policy/fuzz_policy.c $(POLICY_SRCS) $(wildcard policy/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ policy/fuzz_policy.c $(POLICY_SRCS) \
		$(POLICY_LDLIBS) -lcrypto

TESTS += $(FUZZ_POLICY)

# make fuzz-policy [FUZZ_RUNS=N]: a long run seeded with the examples.
FUZZ_RUNS ?= 1000000
.PHONY: fuzz-policy
fuzz-policy: $(FUZZ_POLICY)
	@mkdir -p $(O)/fuzz/policy-corpus
	cp policy/examples/*.yaml $(O)/fuzz/policy-corpus/
	$(FUZZ_POLICY) -runs=$(FUZZ_RUNS) -max_len=8192 -timeout=10 \
		-dict=selftests/policy/policy.dict $(O)/fuzz/policy-corpus
