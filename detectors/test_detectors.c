// SPDX-License-Identifier: GPL-2.0-only
/*
 * Detectors' tests: each detector of detectors/ loaded as the agent loads
 * it (user/agent/detector_load.c), put in the fast path's slot, and the
 * fast path run on crafted frames with BPF_PROG_TEST_RUN: verdicts, the
 * detector event records the fast path writes, the per-class counts; and
 * the objects the loader must refuse (detectors/tests/), each leaving the
 * running detector in place.
 *
 * The fast path is loaded once (before the harness forks), every test
 * empties its maps first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"
#include "detectors/frames.h"
#include "user/agent/detector_load.h"
#include "vnfsec.skel.h"

#include "kselftest_harness.h"

#define MAX_FRAME	1500
#define MAX_RECORDS	64

/* ---- fixture ----------------------------------------------------------- */

static struct vnfsec_bpf *shared_skel;
static int shared_skel_err;

__attribute__((constructor)) static void load_shared_skel(void)
{
	if (geteuid() != 0)
		return;
	shared_skel = vnfsec_bpf__open_and_load();
	if (!shared_skel)
		shared_skel_err = errno;
}

FIXTURE(det) {
	struct vnfsec_bpf *skel;
	struct det_fastpath fp;
	struct det_loaded running;
	struct ring_buffer *events;
	struct vnfsec_ext_detector_record records[MAX_RECORDS];
	int nr_records;
	int ifindex;
};

static int on_record(void *ctx, void *data, size_t len)
{
	FIXTURE_DATA(det) *self = ctx;
	const struct vnfsec_record_hdr *hdr = data;

	if (len < sizeof(struct vnfsec_ext_detector_record) ||
	    hdr->type != VNFSEC_REC_EXT_DETECTOR ||
	    self->nr_records >= MAX_RECORDS)
		return 0;
	memcpy(&self->records[self->nr_records++], data,
	       sizeof(self->records[0]));
	return 0;
}

static int discard(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

/*
 * Zeroes every slot of an array: in one batch where the kernel has it (a
 * syscall per slot of the 16k-slot arrays is slow in a TCG VM).
 */
static int array_clear(int fd, __u32 n, size_t zlen)
{
	__u32 i, count = n, *keys;
	void *zero;
	int err = 0;

	zero = calloc(n, zlen);
	keys = calloc(n, sizeof(*keys));
	if (!zero || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		keys[i] = i;
	if (!bpf_map_update_batch(fd, keys, zero, &count, NULL))
		goto out;
	for (i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
out:
	free(keys);
	free(zero);
	return err;
}

/* Deletes every key; zeroes every slot of an array. */
static int map_clear(struct bpf_map *map)
{
	int fd = bpf_map__fd(map), ncpus = libbpf_num_possible_cpus();
	__u32 vsz = (bpf_map__value_size(map) + 7) & ~7U, i;
	__u32 n = bpf_map__max_entries(map);
	char key[64], next[64];

	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_RINGBUF:
		return 0;
	case BPF_MAP_TYPE_PROG_ARRAY:
		for (i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, &i) && errno != ENOENT)
				return -errno;
		return 0;
	case BPF_MAP_TYPE_ARRAY:
		return array_clear(fd, n, vsz);
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return array_clear(fd, n, (size_t)vsz * (ncpus > 0 ? ncpus : 1));
	default:
		while (!bpf_map_get_next_key(fd, NULL, next)) {
			memcpy(key, next, sizeof(key));
			if (bpf_map_delete_elem(fd, key))
				return -errno;
		}
		return 0;
	}
}

/* addr (IPv4) belongs to vnf, as vnf_addrs stores it. */
static void map_addr4(struct __test_metadata *_metadata,
		      FIXTURE_DATA(det) *self, const char *addr, __u16 vnf)
{
	struct vnfsec_lpm_v6_key k = { .prefixlen = 128 };
	struct vnfsec_vnf_id id = { .vnf = vnf };
	__be32 a = inet_addr(addr);

	k.addr[10] = 0xff;
	k.addr[11] = 0xff;
	memcpy(&k.addr[12], &a, 4);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_addrs), &k, &id, BPF_ANY));
}

static void map_port(struct __test_metadata *_metadata,
		     FIXTURE_DATA(det) *self, __u16 vnf)
{
	struct vnfsec_port_key k = { .ifindex = if_nametoindex("lo") };
	struct vnfsec_vnf_id id = { .vnf = vnf };
	int fd = bpf_map__fd(self->skel->maps.vnf_ports);

	if (vnf) {
		ASSERT_EQ(0, bpf_map_update_elem(fd, &k, &id, BPF_ANY));
	} else {
		ASSERT_EQ(0, bpf_map_delete_elem(fd, &k));
	}
}

static void set_mode(struct __test_metadata *_metadata,
		     FIXTURE_DATA(det) *self, __u8 mode)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;
	int fd = bpf_map__fd(self->skel->maps.config);

	ASSERT_EQ(0, bpf_map_lookup_elem(fd, &zero, &cfg));
	cfg.mode = mode;
	cfg.policy_gen++;
	ASSERT_EQ(0, bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY));
}

FIXTURE_SETUP(det)
{
	struct ring_buffer *drain;
	struct bpf_map *map;

	if (geteuid() != 0)
		SKIP(return, "needs root (CAP_BPF)");
	self->skel = shared_skel;
	ASSERT_NE(NULL, self->skel) TH_LOG("vnfsec_bpf__open_and_load: %s",
					   strerror(shared_skel_err));
	bpf_object__for_each_map(map, self->skel->obj)
		ASSERT_EQ(0, map_clear(map)) TH_LOG("clearing %s",
						    bpf_map__name(map));
	drain = ring_buffer__new(bpf_map__fd(self->skel->maps.events),
				 discard, NULL, NULL);
	ASSERT_NE(NULL, drain);
	ring_buffer__consume(drain);
	ring_buffer__free(drain);
	self->events = ring_buffer__new(bpf_map__fd(self->skel->maps.events),
					on_record, self, NULL);
	ASSERT_NE(NULL, self->events);
	self->ifindex = if_nametoindex("lo");

	self->fp.scratch_fd = bpf_map__fd(self->skel->maps.scratch);
	self->fp.progs_xdp_fd = bpf_map__fd(self->skel->maps.det_progs_xdp);
	self->fp.progs_tc_fd = bpf_map__fd(self->skel->maps.det_progs_tc);
	self->fp.stats_fd = bpf_map__fd(self->skel->maps.det_ext_stats);
	self->fp.config_fd = bpf_map__fd(self->skel->maps.config);
	ASSERT_EQ(0, det_fastpath_set_finish(&self->fp,
		bpf_program__fd(self->skel->progs.vnfsec_det_finish_xdp),
		bpf_program__fd(self->skel->progs.vnfsec_det_finish_tc)));
	/* The DNS client is VNF 2, behind port lo; its server is not ours. */
	map_port(_metadata, self, 2);
	map_addr4(_metadata, self, "10.0.0.7", 2);
	self->running.obj = NULL;
}

FIXTURE_TEARDOWN(det)
{
	if (self->running.obj)
		det_unload(&self->running);
	ring_buffer__free(self->events);
}

static void *read_obj(const char *rel, size_t *len)
{
	const char *dir = getenv("VNFSEC_DETECTORS_DIR");
	char path[512];
	void *buf = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : DETECTORS_DIR, rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc(n);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = n;
	}
	fclose(f);
	return buf;
}

/* Loads rel (under the detectors' build dir) as class cls; 0 or -errno. */
static int load(FIXTURE_DATA(det) *self, const char *rel, int cls,
		const struct det_threshold *th, unsigned int nr_th,
		struct det_loaded *out, char *why)
{
	size_t len = 0;
	void *elf = read_obj(rel, &len);
	int ret;

	if (!elf) {
		snprintf(why, DET_WHY_MAX, "cannot read %s", rel);
		return -ENOENT;
	}
	ret = det_load(elf, len, rel, cls, th, nr_th, &self->fp, out, why,
		       DET_WHY_MAX);
	free(elf);
	return ret;
}

static void run_detector(struct __test_metadata *_metadata,
			 FIXTURE_DATA(det) *self, const char *rel, int cls,
			 const struct det_threshold *th, unsigned int nr_th)
{
	char why[DET_WHY_MAX] = "";

	ASSERT_EQ(0, load(self, rel, cls, th, nr_th, &self->running, why))
		TH_LOG("%s", why);
	ASSERT_EQ(0, det_install(&self->running, &self->fp));
}

static int xdp_run(struct __test_metadata *_metadata,
		   FIXTURE_DATA(det) *self, const __u8 *frame, __u32 len)
{
	__u8 buf[MAX_FRAME];
	struct xdp_md ctx = { .data_end = len,
			      .ingress_ifindex = self->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	memcpy(buf, frame, len);
	EXPECT_EQ(0, bpf_prog_test_run_opts(
		bpf_program__fd(self->skel->progs.vnfsec_xdp), &opts));
	return opts.retval;
}

static int tc_run(struct __test_metadata *_metadata, struct bpf_program *prog,
		  const __u8 *frame, __u32 len)
{
	__u8 buf[MAX_FRAME];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);

	memcpy(buf, frame, len);
	EXPECT_EQ(0, bpf_prog_test_run_opts(bpf_program__fd(prog), &opts));
	return opts.retval;
}

static int records(FIXTURE_DATA(det) *self)
{
	ring_buffer__consume(self->events);
	return self->nr_records;
}

static struct det_class_stats stats(struct __test_metadata *_metadata,
				    FIXTURE_DATA(det) *self, int cls)
{
	struct det_class_stats st;

	EXPECT_EQ(0, det_stats(&self->fp, cls, &st));
	return st;
}

static __u64 counter(struct __test_metadata *_metadata,
		     FIXTURE_DATA(det) *self, __u32 idx)
{
	int i, n = libbpf_num_possible_cpus();
	__u64 v[n], sum = 0;

	EXPECT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.counters), &idx, v));
	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

#define TUNNEL_NAME "mzxw6ytboi4dkmzzgq2tmnzygm4dinjwgu3tqojqgezdgnbvgy3tqojx" \
	".t.example.net"	/* one 56-byte base32 label */

static __u32 tunnel_query(__u8 *frame)
{
	__u8 dns[512];
	__u32 n = dns_payload(dns, TUNNEL_NAME, 0);

	return udp_frame(frame, "10.0.0.7", "10.0.0.53", 33000, 53, dns, n);
}

/* ---- tests ------------------------------------------------------------- */

TEST_F_TIMEOUT(det, no_detector_loaded_dns_passes_uncounted, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, stats(_metadata, self, VNFSEC_DET_CLASS_DNS).hits);
	EXPECT_EQ(0, records(self));
}

TEST_F_TIMEOUT(det, dns_long_label_raises_an_event_and_drops_in_protect, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);
	struct det_class_stats st;

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	st = stats(_metadata, self, VNFSEC_DET_CLASS_DNS);
	EXPECT_EQ(1, st.hits);
	EXPECT_EQ(1, st.events);
	EXPECT_EQ(1, st.drops);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_DETECTOR));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_PASS));
	ASSERT_EQ(1, records(self));
	EXPECT_EQ(VNFSEC_DET_CLASS_DNS, self->records[0].det_class);
	EXPECT_EQ(1, self->records[0].event);	/* DNS_EV_LONG_LABEL */
	EXPECT_EQ(56, self->records[0].value);
	EXPECT_EQ(VNFSEC_VERDICT_DROP, self->records[0].verdict);
	EXPECT_EQ(2, self->records[0].src_vnf);
	EXPECT_EQ(0, self->records[0].dst_vnf);
	EXPECT_EQ(htons(53), self->records[0].key.dport);
}

TEST_F_TIMEOUT(det, dns_ordinary_query_passes_without_event, 120)
{
	__u8 frame[MAX_FRAME], dns[512];
	__u32 n = dns_payload(dns, "www.example.com", 0);
	__u32 len = udp_frame(frame, "10.0.0.7", "10.0.0.53", 33000, 53, dns,
			      n);
	struct det_class_stats st;

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	st = stats(_metadata, self, VNFSEC_DET_CLASS_DNS);
	EXPECT_EQ(1, st.hits);
	EXPECT_EQ(0, st.events);
	EXPECT_EQ(0, records(self));
}

TEST_F_TIMEOUT(det, dns_event_in_monitor_mode_only_would_drop, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	ASSERT_EQ(1, records(self));
	EXPECT_EQ(VNFSEC_VERDICT_WOULD_DROP, self->records[0].verdict);
}

TEST_F_TIMEOUT(det, dns_learn_mode_never_calls_the_detector, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	set_mode(_metadata, self, VNFSEC_MODE_LEARN);
	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, stats(_metadata, self, VNFSEC_DET_CLASS_DNS).hits);
}

TEST_F_TIMEOUT(det, dns_threshold_from_the_bundle_raises_the_label_limit, 120)
{
	struct det_threshold th[] = { { "max_label", 60 } };
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, th, 1);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, records(self));
}

TEST_F_TIMEOUT(det, dns_drop_off_raises_the_event_and_passes, 120)
{
	struct det_threshold th[] = { { "drop", 0 } };
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, th, 1);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(1, records(self));
	EXPECT_EQ(VNFSEC_VERDICT_PASS, self->records[0].verdict);
}

TEST_F_TIMEOUT(det, dns_unsolicited_large_response_is_amplification, 120)
{
	__u8 frame[MAX_FRAME], dns[MAX_FRAME];
	__u32 n = dns_payload(dns, NULL, 1200);
	__u32 len = udp_frame(frame, "10.0.0.53", "10.0.0.7", 53, 33000, dns,
			      n);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(1, records(self));
	EXPECT_EQ(3, self->records[0].event);	/* DNS_EV_AMPLIFICATION */
	EXPECT_EQ(1200, self->records[0].value);
}

TEST_F_TIMEOUT(det, dns_response_in_proportion_to_its_query_passes, 120)
{
	__u8 frame[MAX_FRAME], dns[MAX_FRAME];
	__u32 n, len;

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	/* A 200-byte query (a long but ordinary name) then 1200 bytes. */
	n = dns_payload(dns, "a23456789012345678901234567890.b23456789012345678901234567890.c23456789012345678901234567890.example.com", 0);
	len = udp_frame(frame, "10.0.0.7", "10.0.0.53", 33000, 53, dns, n);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	n = dns_payload(dns, NULL, 1200);
	len = udp_frame(frame, "10.0.0.53", "10.0.0.7", 53, 33000, dns, n);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, records(self));
}

TEST_F_TIMEOUT(det, dns_detector_runs_on_the_tc_programs_too, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(TC_ACT_SHOT, tc_run(_metadata,
		  self->skel->progs.vnfsec_egress, frame, len));
	EXPECT_EQ(TC_ACT_SHOT, tc_run(_metadata,
		  self->skel->progs.vnfsec_ingress, frame, len));
	EXPECT_EQ(2, records(self));
}

TEST_F_TIMEOUT(det, dns_class_needs_a_vnf_at_one_end, 120)
{
	__u8 frame[MAX_FRAME], dns[512];
	__u32 n = dns_payload(dns, TUNNEL_NAME, 0);
	__u32 len = udp_frame(frame, "192.0.2.7", "192.0.2.53", 33000, 53,
			      dns, n);

	map_port(_metadata, self, 0);
	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, stats(_metadata, self, VNFSEC_DET_CLASS_DNS).hits);
}

TEST_F_TIMEOUT(det, gtpu_teid_scan_fires_once_at_the_threshold_then_drops, 120)
{
	struct det_threshold th[] = { { "teids", 16 } };
	__u8 frame[MAX_FRAME];
	__u32 teid, len, dropped = 0;

	run_detector(_metadata, self, "gtpu_teid_scan.bpf.o",
		     VNFSEC_DET_CLASS_GTPU, th, 1);
	for (teid = 1; teid <= 40; teid++) {
		len = gtpu_frame(frame, "172.16.0.1", "172.16.0.2", teid);
		if (xdp_run(_metadata, self, frame, len) == XDP_DROP)
			dropped++;
	}
	/* The bitmap counts a lower bound: it fires at 16 or a little after. */
	EXPECT_LE(40 - 20, dropped);
	EXPECT_GE(40 - 15, dropped);
	ASSERT_EQ(1, records(self));
	EXPECT_EQ(VNFSEC_DET_CLASS_GTPU, self->records[0].det_class);
	EXPECT_EQ(1, self->records[0].event);	/* TEID_EV_SCAN */
	EXPECT_EQ(16, self->records[0].value);
	EXPECT_EQ(VNFSEC_AF_INET, self->records[0].outer_family);
	EXPECT_EQ(inet_addr("172.16.0.1"), self->records[0].outer_saddr.v4);
	EXPECT_EQ(40, stats(_metadata, self, VNFSEC_DET_CLASS_GTPU).hits);
}

TEST_F_TIMEOUT(det, gtpu_few_teids_pass_silently, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 i, len;

	run_detector(_metadata, self, "gtpu_teid_scan.bpf.o",
		     VNFSEC_DET_CLASS_GTPU, NULL, 0);
	for (i = 0; i < 100; i++) {
		len = gtpu_frame(frame, "172.16.0.1", "172.16.0.2",
				 0x1000 + i % 4);
		EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	}
	EXPECT_EQ(0, records(self));
}

TEST_F_TIMEOUT(det, replacing_a_detector_takes_effect_at_once, 120)
{
	struct det_threshold th[] = { { "max_label", 60 } };
	struct det_loaded next;
	char why[DET_WHY_MAX] = "";
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, load(self, "dns_tunnel.bpf.o", VNFSEC_DET_CLASS_DNS, th,
			  1, &next, why)) TH_LOG("%s", why);
	ASSERT_EQ(0, det_install(&next, &self->fp));
	det_unload(&self->running);
	self->running = next;
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
}

TEST_F_TIMEOUT(det, uninstalled_detector_no_longer_runs, 120)
{
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	ASSERT_EQ(0, det_uninstall(VNFSEC_DET_CLASS_DNS, &self->fp));
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, stats(_metadata, self, VNFSEC_DET_CLASS_DNS).hits);
}

/* A refused object: the reason, and the running detector still runs. */
static void refused(struct __test_metadata *_metadata,
		    FIXTURE_DATA(det) *self, const char *rel,
		    const struct det_threshold *th, unsigned int nr_th,
		    const char *reason)
{
	struct det_loaded bad = { .obj = NULL };
	char why[DET_WHY_MAX] = "";
	__u8 frame[MAX_FRAME];
	__u32 len = tunnel_query(frame);

	run_detector(_metadata, self, "dns_tunnel.bpf.o",
		     VNFSEC_DET_CLASS_DNS, NULL, 0);
	EXPECT_GT(0, load(self, rel, VNFSEC_DET_CLASS_DNS, th, nr_th, &bad,
			  why));
	EXPECT_NE(NULL, strstr(why, reason)) TH_LOG("why: %s", why);
	EXPECT_EQ(NULL, bad.obj);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, records(self));
}

TEST_F_TIMEOUT(det, refused_a_helper_detectors_may_not_call, 120)
{
	refused(_metadata, self, "tests/bad_helper.bpf.o", NULL, 0,
		"calls helper 23");
}

TEST_F_TIMEOUT(det, refused_more_maps_than_the_limit, 120)
{
	refused(_metadata, self, "tests/bad_maps.bpf.o", NULL, 0,
		"may have 4 maps of its own");
}

TEST_F_TIMEOUT(det, refused_more_instructions_than_the_limit, 120)
{
	refused(_metadata, self, "tests/bad_size.bpf.o", NULL, 0,
		"detectors may have 4096");
}

TEST_F_TIMEOUT(det, refused_by_the_verifier_with_its_log, 120)
{
	/* The reason, not the statistics that end every log. */
	refused(_metadata, self, "tests/bad_verifier.bpf.o", NULL, 0,
		"unbounded memory access");
}

TEST_F_TIMEOUT(det, refused_a_threshold_the_detector_lacks, 120)
{
	struct det_threshold th[] = { { "no_such_knob", 1 } };

	refused(_metadata, self, "dns_tunnel.bpf.o", th, 1,
		"threshold no_such_knob");
}

TEST_F_TIMEOUT(det, refused_what_is_not_a_bpf_object, 120)
{
	refused(_metadata, self, "../bpf/vnfsec.skel.h", NULL, 0,
		"not a BPF object");
}

TEST_HARNESS_MAIN
