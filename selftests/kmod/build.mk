# SPDX-License-Identifier: GPL-2.0-only
# selftests/kmod: /dev/vnfsec tests (kselftest harness), run inside the
# test VM by selftests/kmod/run. Built with the project CFLAGS, so with
# ASan+UBSan under SANITIZE=1 (verified to run in the 6.1 guest).
#   vnfsec_kmod_test      the ABI: open modes, version handshake, bad input
#   vnfsec_kmod_features  events, shared-memory watches, cache monitors,
#                         bad arguments, the ioctl fuzzer
#   vnfsec_kmod_churn     helper for load/unload with watches active and
#                         for the module-absent case, through the client
#                         library (user/common/kmod_client.h)

KMOD_TEST := $(O)/tests/kmod/vnfsec_kmod_test
KMOD_FEATURES := $(O)/tests/kmod/vnfsec_kmod_features
KMOD_CHURN := $(O)/tests/kmod/vnfsec_kmod_churn
TESTS += $(KMOD_TEST) $(KMOD_FEATURES) $(KMOD_CHURN)

.PHONY: kmod-test
kmod-test: $(KMOD_TEST) $(KMOD_FEATURES) $(KMOD_CHURN)

$(KMOD_TEST) $(KMOD_FEATURES): $(O)/tests/kmod/%: selftests/kmod/%.c \
		kmod/uapi/vnfsec_kmod.h selftests/kmod/build.mk $(EXT)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $<

$(KMOD_CHURN): selftests/kmod/vnfsec_kmod_churn.c kmod/uapi/vnfsec_kmod.h \
		user/common/kmod_client.h selftests/kmod/build.mk \
		$(O)/lib/libvnfsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/libvnfsec.a $(LDLIBS)
