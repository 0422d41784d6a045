# SPDX-License-Identifier: GPL-2.0-only
# selftests/kmod: /dev/vnfsec ABI tests (kselftest harness), run inside the
# test VM by selftests/kmod/run. Built with the project CFLAGS, so with
# ASan+UBSan under SANITIZE=1 (verified to run in the 6.1 guest).

KMOD_TEST := $(O)/tests/kmod/vnfsec_kmod_test
TESTS += $(KMOD_TEST)

.PHONY: kmod-test
kmod-test: $(KMOD_TEST)

$(KMOD_TEST): selftests/kmod/vnfsec_kmod_test.c kmod/uapi/vnfsec_kmod.h \
		selftests/kmod/build.mk $(EXT)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARNESS_CFLAGS) $(LDFLAGS) -o $@ $<
