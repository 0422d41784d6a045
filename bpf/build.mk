# BPF objects and their libbpf skeletons.
BPF_CFLAGS := -target bpf -g -O2 -Wall -Werror \
	-I/usr/include/$(ARCH_TRIPLET) -I$(SRC)

BPF_OBJ := $(O)/bpf/vnfsec.bpf.o
BPF_SKEL := $(O)/bpf/vnfsec.skel.h

$(BPF_OBJ): bpf/vnfsec.bpf.c bpf/parse.h bpf/vnfsec_abi.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name vnfsec_bpf > $@.tmp && mv $@.tmp $@

.PHONY: bpf
bpf: $(BPF_OBJ) $(BPF_SKEL)
userspace: bpf
