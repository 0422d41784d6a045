// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-bench-detectors (make bench, tools/bench-run): what pushed
 * detectors cost the fast path, under BPF_PROG_TEST_RUN, pinned to one
 * CPU, median of 5 runs, in ns per packet above an empty XDP program
 * measured in the same run. Columns: no detector loaded, gtpu_teid_scan
 * loaded, both (dns_tunnel too). Rows:
 *   hit path  repeat=N of one packet of an established flow: a UDP
 *             datagram of no class (the class filter keeps detectors off
 *             it), a G-PDU (class gtpu), a DNS query (class dns)
 *   new flow  repeat=1 per call over distinct 5-tuples: the same three,
 *             each a new flow (wall clock per call, empty's subtracted),
 *             the flow table full first (the LRU's evictions included)
 * The packets raise no event: what is measured is the hand-over.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"
#include "detectors/frames.h"
#include "user/agent/detector_load.h"
#include "vnfsec.skel.h"

#define RUNS		5
#define HIT_REPEAT	200000
#define NEW_FLOWS	20000
#define MAX_FRAME	512

enum kind { K_UDP, K_GTPU, K_DNS, NR_KINDS };
static const char *const kind_names[NR_KINDS] = {
	"UDP datagram (no class)", "G-PDU (class gtpu)", "DNS query (class dns)",
};

static struct vnfsec_bpf *skel;
static struct det_fastpath fp;
static int ifindex;

/*
 * Packet n of a kind: a distinct 5-tuple per n (source address and port;
 * the port lo is VNF 2's, so any source there is VNF 2's, and a DNS
 * packet is in class dns).
 */
static void frame_of(enum kind k, __u32 n, __u8 *frame, __u32 *len)
{
	__u16 sport = 1024 + n % 32768;
	__u32 host = n / 32768;
	char src[16];
	__u8 dns[256];
	__u32 plen;

	snprintf(src, sizeof(src), "10.%u.%u.%u", 100 + (host >> 16) % 100,
		 (host >> 8) & 0xff, host & 0xff);
	switch (k) {
	case K_UDP:
		*len = udp_frame(frame, src, "10.0.0.9", sport, 9000,
				 "payload!", 8);
		break;
	case K_GTPU:
		*len = gtpu_frame(frame, "172.16.0.1", "172.16.0.2", 0x1000);
		/* The inner flow: its source port and the last byte of its
		 * source address (Ethernet 14, IP 20, UDP 8, GTP 8, then the
		 * inner IP header: source at +12, its UDP at +20). */
		frame[50 + 15] = host & 0xff;
		frame[50 + 14] = (host >> 8) & 0xff;
		frame[70] = sport >> 8;
		frame[71] = sport & 0xff;
		break;
	default:
		plen = dns_payload(dns, "www.example.com", 0);
		*len = udp_frame(frame, src, "10.0.0.53", sport, 53, dns, plen);
	}
}

static int empty_load(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_empty", "GPL",
			       insns, 2, NULL);

	return fd < 0 ? -errno : fd;
}

static double run_hit(int prog_fd, const __u8 *frame, __u32 len)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = HIT_REPEAT);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -1;
	return opts.duration;
}

static double run_new(int prog_fd, enum kind k, __u32 base)
{
	__u8 frame[MAX_FRAME];
	struct timespec t0, t1;
	__u32 i, len;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NEW_FLOWS; i++) {
		struct xdp_md ctx = { .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .repeat = 1);

		frame_of(k, base + i, frame, &len);
		ctx.data_end = len;
		opts.data_size_in = len;
		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	       NEW_FLOWS;
}

/* Distinct flows beyond the flow table's entries. */
static void warm_up(int prog_fd)
{
	static __u32 base = 1U << 30;
	__u32 n;

	for (n = 0; n < VNFSEC_FLOW_TABLE_ENTRIES * 2; n += NEW_FLOWS) {
		run_new(prog_fd, K_UDP, base);
		base += NEW_FLOWS;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of RUNS, each the program's figure less the empty one's. */
static double median_above(int prog_fd, int empty_fd, enum kind k, bool hit)
{
	static __u32 base;
	double v[RUNS];
	__u8 frame[MAX_FRAME];
	__u32 len;
	int i;

	frame_of(k, 0, frame, &len);
	for (i = 0; i < RUNS; i++) {
		if (hit) {
			v[i] = run_hit(prog_fd, frame, len) -
			       run_hit(empty_fd, frame, len);
		} else {
			v[i] = run_new(prog_fd, k, base) -
			       run_new(empty_fd, k, base);
			base += NEW_FLOWS;
		}
	}
	qsort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

static int load(const char *dir, const char *obj, int cls,
		struct det_loaded *out)
{
	char path[512], why[DET_WHY_MAX];
	void *elf;
	FILE *f;
	long n;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, obj);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -ENOENT;
	}
	elf = malloc(n);
	if (!elf || fread(elf, 1, n, f) != (size_t)n) {
		fclose(f);
		free(elf);
		return -EIO;
	}
	fclose(f);
	ret = det_load(elf, n, obj, cls, NULL, 0, &fp, out, why, sizeof(why));
	free(elf);
	if (!ret)
		ret = det_install(out, &fp);
	if (ret)
		fprintf(stderr, "%s: %s\n", obj, why);
	return ret;
}

static int setup(void)
{
	struct vnfsec_port_key pk = { .ifindex = ifindex };
	struct vnfsec_lpm_v6_key ak = { .prefixlen = 128 };
	struct vnfsec_vnf_id id = { .vnf = 2 };
	__be32 a = inet_addr("10.0.0.7");

	fp.scratch_fd = bpf_map__fd(skel->maps.scratch);
	fp.progs_xdp_fd = bpf_map__fd(skel->maps.det_progs_xdp);
	fp.progs_tc_fd = bpf_map__fd(skel->maps.det_progs_tc);
	fp.stats_fd = bpf_map__fd(skel->maps.det_ext_stats);
	fp.config_fd = bpf_map__fd(skel->maps.config);
	ak.addr[10] = ak.addr[11] = 0xff;
	memcpy(&ak.addr[12], &a, 4);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.vnf_ports), &pk, &id,
				BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.vnf_addrs), &ak, &id,
				BPF_ANY))
		return -errno;
	return det_fastpath_set_finish(&fp,
		bpf_program__fd(skel->progs.vnfsec_det_finish_xdp),
		bpf_program__fd(skel->progs.vnfsec_det_finish_tc));
}

int main(int argc, char **argv)
{
	double fig[2][NR_KINDS][3];
	struct det_loaded gtpu = { 0 }, dns = { 0 };
	int empty_fd, xdp_fd, col, k, h, cpu = argc > 2 ? atoi(argv[2]) : -1;
	const char *dir = argc > 1 ? argv[1] : DETECTORS_DIR;

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	libbpf_set_print(NULL);
	ifindex = if_nametoindex("lo");
	skel = vnfsec_bpf__open_and_load();
	empty_fd = empty_load();
	if (!skel || empty_fd < 0 || setup()) {
		fprintf(stderr, "vnfsec-bench-detectors: cannot load the fast path (root?): %s\n",
			strerror(errno));
		return 1;
	}
	xdp_fd = bpf_program__fd(skel->progs.vnfsec_xdp);
	for (col = 0; col < 3; col++) {
		if (col == 1 && load(dir, "gtpu_teid_scan.bpf.o",
				     VNFSEC_DET_CLASS_GTPU, &gtpu))
			return 1;
		if (col == 2 && load(dir, "dns_tunnel.bpf.o",
				     VNFSEC_DET_CLASS_DNS, &dns))
			return 1;
		for (h = 0; h < 2; h++) {
			/* Every column's new flows meet a full flow table
			 * (LRU evictions), not the first one an empty one. */
			if (h)
				warm_up(xdp_fd);
			for (k = 0; k < NR_KINDS; k++)
				fig[h][k][col] = median_above(xdp_fd, empty_fd,
							      k, !h);
		}
	}
	printf("\npushed detectors (docs/detectors.md): vnfsec_xdp, ns/pkt above the empty\n"
	       "program, median of %d runs; hit path repeat=%d, new flows %d per run\n",
	       RUNS, HIT_REPEAT, NEW_FLOWS);
	printf("  %-34s %12s %16s %8s\n", "", "no detector", "gtpu_teid_scan",
	       "both");
	for (h = 0; h < 2; h++)
		for (k = 0; k < NR_KINDS; k++)
			printf("  %-9s %-24s %12.1f %16.1f %8.1f\n",
			       h ? "new flow" : "hit", kind_names[k],
			       fig[h][k][0], fig[h][k][1], fig[h][k][2]);
	det_unload(&gtpu);
	det_unload(&dns);
	vnfsec_bpf__destroy(skel);
	close(empty_fd);
	return 0;
}
