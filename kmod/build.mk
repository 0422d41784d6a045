# SPDX-License-Identifier: GPL-2.0-only
# kmod build rules, included by the top-level Makefile. The module itself is
# built by kbuild through kmod/Makefile (make -C $(KDIR) M=$(SRC)/kmod), so
# the output is kmod/vnfsec.ko and "insmod kmod/vnfsec.ko" works.
#
#   make kmod          build kmod/vnfsec.ko against $(KDIR)
#   make kmod-clean    remove the module build products
#   make style         checkpatch.pl --strict on the module and its tests
#   make sparse        sparse (C=2) on the module sources

KMOD_MAKE = $(MAKE) -C $(SRC)/kmod KDIR="$(KDIR)" CHECKPATCH="$(CHECKPATCH)"

.PHONY: kmod kmod-clean kmod-style kmod-sparse

kmod:
	@$(KMOD_MAKE) --no-print-directory module

kmod-clean:
	@$(KMOD_MAKE) --no-print-directory clean

kmod-style: $(EXT)/.stamp
	@$(KMOD_MAKE) --no-print-directory style
	$(CHECKPATCH) --strict --no-tree --show-types -f \
		$(wildcard $(SRC)/selftests/kmod/*.c)

kmod-sparse:
	@$(KMOD_MAKE) --no-print-directory check

# Other fragments may add their own prerequisites to these.
style: kmod-style
sparse: kmod-sparse
