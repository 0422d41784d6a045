// SPDX-License-Identifier: GPL-2.0-only
/*
 * Each heuristic fires on its pattern, once, and stays quiet on benign
 * traffic that looks a little like it.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "user/agent/agent.h"
#include "user/agent/baseline.h"
#include "user/agent/pairvol.h"
#include "user/agent/scan.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

#define MS 1000000ULL

static struct vnfsec_new_flow_record flow(uint64_t ts, const char *src,
					  const char *dst, uint16_t sport,
					  uint16_t dport, uint8_t flags)
{
	struct vnfsec_new_flow_record r = {
		.hdr = { .type = VNFSEC_REC_NEW_FLOW,
			 .version = VNFSEC_ABI_VERSION,
			 .len = sizeof(r), .ts_ns = ts },
		.tcp_flags = flags,
	};

	inet_pton(AF_INET, src, &r.key.saddr);
	inet_pton(AF_INET, dst, &r.key.daddr);
	r.key.sport = htons(sport);
	r.key.dport = htons(dport);
	r.key.proto = 6;
	r.key.family = VNFSEC_AF_INET;
	return r;
}

static void syn_flood_fires_once_at_threshold(void **state)
{
	struct syn_flood *sf = syn_flood_new(100, 1000);
	struct vnfsec_new_flow_record r;
	struct assessment a;
	unsigned int i, fired = 0;
	char src[16];

	(void)state;
	for (i = 0; i < 300; i++) {
		r = flow(i * MS, "10.0.0.66", "10.0.0.1", 1024 + i, 80,
			 VNFSEC_TCP_SYN);
		if (syn_flood_feed(sf, &r, &a)) {
			fired++;
			assert_int_equal(99, i);
		}
	}
	assert_int_equal(1, fired);
	assert_int_equal(VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD, a.heuristic);
	assert_int_equal(100, a.count);
	assert_int_equal(80, a.dport);
	inet_ntop(AF_INET, &a.saddr, src, sizeof(src));
	assert_string_equal("10.0.0.66", src);
	syn_flood_free(sf);
}

static void syn_flood_names_heaviest_source_among_many(void **state)
{
	struct syn_flood *sf = syn_flood_new(200, 1000);
	struct vnfsec_new_flow_record r;
	struct assessment a;
	unsigned int i;
	bool fired = false;
	char src[16], noise[16];

	(void)state;
	for (i = 0; i < 400 && !fired; i++) {
		/* Two of three SYNs from the attacker, the rest spread. */
		snprintf(noise, sizeof(noise), "10.1.%u.%u", i / 250, i % 250);
		r = flow(i * MS, i % 3 ? "10.9.9.9" : noise, "10.0.0.1",
			 2000 + i, 443, VNFSEC_TCP_SYN);
		fired = syn_flood_feed(sf, &r, &a);
	}
	assert_true(fired);
	inet_ntop(AF_INET, &a.saddr, src, sizeof(src));
	assert_string_equal("10.9.9.9", src);
	assert_true(a.src_count > 0 && a.src_count <= a.count);
	syn_flood_free(sf);
}

static void syn_flood_quiet_on_answers_and_slow_rate(void **state)
{
	struct syn_flood *sf = syn_flood_new(100, 1000);
	struct vnfsec_new_flow_record r;
	struct assessment a;
	unsigned int i;

	(void)state;
	/* SYN-ACKs (a busy server answering) are not a flood... */
	for (i = 0; i < 500; i++) {
		r = flow(i * MS, "10.0.0.1", "10.0.0.66", 80, 1024 + i,
			 VNFSEC_TCP_SYN | VNFSEC_TCP_ACK);
		assert_false(syn_flood_feed(sf, &r, &a));
	}
	/* ...nor are 90 connections a second, every second. */
	for (i = 0; i < 900; i++) {
		r = flow(i * (1000 * MS / 90), "10.0.0.7", "10.0.0.2",
			 1024 + i, 80, VNFSEC_TCP_SYN);
		assert_false(syn_flood_feed(sf, &r, &a));
	}
	syn_flood_free(sf);
}

static struct scan_probe probe(uint64_t ts, uint32_t s, uint32_t d,
			       uint16_t port)
{
	struct scan_probe p = {
		.ts_ns = ts, .saddr.v4 = htonl(s), .daddr.v4 = htonl(d),
		.family = VNFSEC_AF_INET, .dport = htons(port), .proto = 6,
	};
	return p;
}

static void horizontal_scan_detected(void **state)
{
	struct scan_config cfg = { .window_ns = 1000 * MS, .horizontal = 50,
				   .vertical = 100 };
	struct scan_detector *sd = scan_new(&cfg);
	struct scan_verdict v;
	unsigned int i, fired = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		struct scan_probe p = probe(i * MS, 0x0a000042,
					    0x0a010000 + i, 22);

		if (scan_feed(sd, &p, &v)) {
			fired++;
			assert_true(v.horizontal);
			assert_true(i >= 45 && i <= 55);
		}
	}
	assert_int_equal(1, fired);
	scan_free(sd);
}

static void vertical_scan_detected(void **state)
{
	struct scan_config cfg = { .window_ns = 1000 * MS, .horizontal = 50,
				   .vertical = 100 };
	struct scan_detector *sd = scan_new(&cfg);
	struct scan_verdict v;
	unsigned int i;
	bool fired = false;

	(void)state;
	for (i = 0; i < 1000 && !fired; i++) {
		struct scan_probe p = probe(i * MS / 4, 0x0a000042, 0x0a000001,
					    1 + i);

		fired = scan_feed(sd, &p, &v);
	}
	assert_true(fired);
	assert_false(v.horizontal);
	assert_true(i >= 90 && i <= 110);
	scan_free(sd);
}

static void slow_scan_caught_by_long_window_only(void **state)
{
	struct scan_config fast = { .window_ns = 1000 * MS, .horizontal = 50,
				    .vertical = 100 };
	struct scan_config slow = { .window_ns = 600000 * MS, .horizontal = 30,
				    .vertical = 60 };
	struct scan_detector *f = scan_new(&fast), *s = scan_new(&slow);
	struct scan_verdict v;
	unsigned int i;
	bool slow_fired = false;

	(void)state;
	/* One new host every 5 s: never 50 in a second, 40 in 200 s. */
	for (i = 0; i < 40; i++) {
		struct scan_probe p = probe(i * 5000 * MS, 0x0a000099,
					    0x0a020000 + i, 3389);

		assert_false(scan_feed(f, &p, &v));
		slow_fired |= scan_feed(s, &p, &v);
	}
	assert_true(slow_fired);
	scan_free(f);
	scan_free(s);
}

static void client_talking_to_few_services_is_no_scan(void **state)
{
	struct scan_config cfg = { .window_ns = 1000 * MS, .horizontal = 50,
				   .vertical = 100 };
	struct scan_detector *sd = scan_new(&cfg);
	struct scan_verdict v;
	unsigned int i;

	(void)state;
	/* Thousands of connections, but to 4 hosts on 3 ports. */
	for (i = 0; i < 5000; i++) {
		struct scan_probe p = probe(i * MS / 10, 0x0a000005,
					    0x0a000001 + i % 4,
					    (uint16_t[]){ 80, 443, 53 }[i % 3]);

		assert_false(scan_feed(sd, &p, &v));
	}
	scan_free(sd);
}

static void baseline_learns_then_flags_a_spike(void **state)
{
	struct baseline b;
	unsigned int i;

	(void)state;
	baseline_init(&b, 1.0 / 60, 4.0, 100.0, 30);
	/* A noisy but steady 1000/s, never flagged... */
	for (i = 0; i < 120; i++)
		assert_false(baseline_anomalous(&b, 1000 + (i % 7) * 20));
	/* ...then ten times that is, once it lasts BASELINE_PERSIST s. */
	assert_false(baseline_anomalous(&b, 10000));
	assert_false(baseline_anomalous(&b, 10000));
	assert_true(baseline_anomalous(&b, 10000));
	/* The attack is not learned: it is still flagged a minute on. */
	for (i = 0; i < 60; i++)
		assert_true(baseline_anomalous(&b, 10000));
	assert_false(baseline_anomalous(&b, 1050));
}

static void baseline_quiet_during_warmup_and_under_floor(void **state)
{
	struct baseline b;
	unsigned int i;

	(void)state;
	baseline_init(&b, 1.0 / 60, 4.0, 100.0, 30);
	/* Nothing is judged before the warm-up ends. */
	for (i = 0; i < 29; i++)
		assert_false(baseline_anomalous(&b, i % 2 ? 100000 : 0));
	baseline_init(&b, 1.0 / 60, 4.0, 100.0, 30);
	for (i = 0; i < 60; i++)
		assert_false(baseline_anomalous(&b, 0));
	/* A silent link going to 90/s is noise below the floor. */
	assert_false(baseline_anomalous(&b, 90));
	assert_false(baseline_anomalous(&b, 500));
	assert_false(baseline_anomalous(&b, 500));
	assert_true(baseline_anomalous(&b, 500));
}

/*
 * A GTP-U pair: 100 kB/s with a 2-second burst of 600 kB/s now and
 * then, the first one long after the warm-up. The bursts are its normal
 * (issue 15: they were reported as volume anomalies); a sustained 3x the
 * burst level is not.
 */
static void baseline_tolerates_the_pairs_bursts(void **state)
{
	struct baseline b;
	unsigned int s, fired = 0;

	(void)state;
	baseline_init(&b, 1.0 / 60, 4.0, 64 << 10, 30);
	for (s = 0; s < 1200; s++) {
		bool burst = s >= 100 && s % 97 < 2;

		fired += baseline_anomalous(&b, (burst ? 600000 : 100000) +
					    (s * 7919) % 5000);
	}
	assert_int_equal(0, fired);
	assert_true(baseline_bar(&b) > 600000);
	for (s = 0; s < 5; s++)
		fired += baseline_anomalous(&b, 2000000);
	assert_int_equal(5 - BASELINE_PERSIST + 1, fired);
	/* An order of magnitude past the bar is an anomaly at once. */
	for (s = 0; s < 60; s++)
		baseline_anomalous(&b, 100000);
	assert_true(baseline_anomalous(&b, 11 * baseline_bar(&b)));
}


struct seen_anomalies {
	unsigned int n;
	struct pair_anomaly last;
};

static void note_anomaly(void *ctx, const struct pair_anomaly *a)
{
	struct seen_anomalies *s = ctx;

	s->n++;
	s->last = *a;
}

/*
 * One second of a pair: its flows, each holding what it carried so far.
 * sgw (1) -> pgw (2) moves ~100 kB/s over two flows, pgw -> billing (3)
 * ~200 kB/s over one; @extra goes to sgw -> pgw on a third flow.
 */
static unsigned int second(struct pairvol *t, unsigned int s,
			   uint64_t extra_total, struct seen_anomalies *seen)
{
	/* A little noise so the baseline has a spread. */
	uint64_t jitter = (s * 7919) % 5000;

	pairvol_begin(t);
	pairvol_add(t, 1, 2, s * 60000ULL + jitter);
	pairvol_add(t, 1, 2, s * 40000ULL);
	pairvol_add(t, 2, 3, s * 200000ULL + jitter);
	pairvol_add(t, 0, 2, s * 9000000ULL);	/* unknown VNF: ignored */
	if (extra_total)
		pairvol_add(t, 1, 2, extra_total);
	return pairvol_end(t, note_anomaly, seen);
}

static void pair_volume_learns_then_flags_one_pair(void **state)
{
	static struct pairvol t;
	struct seen_anomalies seen = {};
	uint64_t extra = 0;
	unsigned int s;

	(void)state;
	pairvol_init(&t, 1.0 / 60, 4.0, 64 << 10, 30);
	for (s = 1; s <= 60; s++)
		assert_int_equal(0, second(&t, s, 0, &seen));
	assert_int_equal(2, t.nr);
	/* sgw -> pgw starts moving 2 MB/s more: the pair, and only it. */
	for (; s <= 65; s++) {
		extra += 2000000;
		second(&t, s, extra, &seen);
	}
	assert_int_equal(1, seen.n);		/* one report per episode */
	assert_int_equal(1, seen.last.src_vnf);
	assert_int_equal(2, seen.last.dst_vnf);
	assert_true(seen.last.bytes > 2000000);
	assert_true(seen.last.mean > 90000 && seen.last.mean < 110000);
	assert_true(seen.last.threshold < 2000000);
}

static void pair_volume_quiet_in_warmup_on_steady_and_eviction(void **state)
{
	static struct pairvol t;
	struct seen_anomalies seen = {};
	unsigned int s;

	(void)state;
	pairvol_init(&t, 1.0 / 60, 4.0, 64 << 10, 30);
	/* A burst in the warm-up is learned, not reported. */
	for (s = 1; s <= 10; s++)
		second(&t, s, s == 5 ? 5000000 : 0, &seen);
	for (; s <= 120; s++)
		second(&t, s, 0, &seen);
	assert_int_equal(0, seen.n);
	/*
	 * The LRU evicts sgw -> pgw's big flow: its sum shrinks; that
	 * second says nothing, and the next is judged from the new sum.
	 */
	pairvol_begin(&t);
	pairvol_add(&t, 1, 2, 40000ULL * s);
	pairvol_add(&t, 2, 3, 200000ULL * s);
	assert_int_equal(0, pairvol_end(&t, note_anomaly, &seen));
	s++;
	pairvol_begin(&t);
	pairvol_add(&t, 1, 2, 40000ULL * s);
	pairvol_add(&t, 2, 3, 200000ULL * s);
	assert_int_equal(0, pairvol_end(&t, note_anomaly, &seen));
	/* A pair whose flows are all gone is forgotten. */
	pairvol_begin(&t);
	pairvol_add(&t, 2, 3, 200000ULL * s);
	pairvol_end(&t, note_anomaly, &seen);
	assert_int_equal(1, t.nr);
	assert_int_equal(0, seen.n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syn_flood_fires_once_at_threshold),
		cmocka_unit_test(syn_flood_names_heaviest_source_among_many),
		cmocka_unit_test(syn_flood_quiet_on_answers_and_slow_rate),
		cmocka_unit_test(horizontal_scan_detected),
		cmocka_unit_test(vertical_scan_detected),
		cmocka_unit_test(slow_scan_caught_by_long_window_only),
		cmocka_unit_test(client_talking_to_few_services_is_no_scan),
		cmocka_unit_test(baseline_learns_then_flags_a_spike),
		cmocka_unit_test(baseline_quiet_during_warmup_and_under_floor),
		cmocka_unit_test(baseline_tolerates_the_pairs_bursts),
		cmocka_unit_test(pair_volume_learns_then_flags_one_pair),
		cmocka_unit_test(pair_volume_quiet_in_warmup_on_steady_and_eviction),
	};

	log_init("test_heuristics", LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
