// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a policy.learn is made of (user/agent/learn.h, issue 15.8): the
 * flows that opened while it ran, as the event loop sees the fast path's
 * new-flow records, so the proposal has a rule for each of them and none
 * for the answers. The records go through events_handle(), as in the
 * agent.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "user/agent/agent.h"
#include "user/agent/learn.h"
#include "user/agent/scan.h"

#define MS 1000000ULL

static struct agent_config cfg = {
	.window_ms = 1000, .syn_threshold = 500, .scan_hosts = 50,
	.scan_ports = 100,
};

static struct event_ctx ev;

static int setup(void **state)
{
	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.cfg = &cfg;
	ev.syn_flood = syn_flood_new(cfg.syn_threshold, cfg.window_ms);
	ev.scan_fast = scan_new(&(struct scan_config){
		.window_ns = 1000 * MS, .horizontal = 50, .vertical = 100 });
	ev.origins = flow_origins_new();
	ev.learn = learn_openings_new();
	if (!ev.syn_flood || !ev.scan_fast || !ev.origins || !ev.learn)
		return -1;
	return learn_openings_watch(ev.learn, 1000000 * MS);
}

static int teardown(void **state)
{
	(void)state;
	syn_flood_free(ev.syn_flood);
	scan_free(ev.scan_fast);
	flow_origins_free(ev.origins);
	learn_openings_free(ev.learn);
	return 0;
}

static struct vnfsec_new_flow_record rec(uint64_t ts, const char *src,
					 uint16_t sport, const char *dst,
					 uint16_t dport, uint8_t proto,
					 uint8_t tcp_flags)
{
	struct vnfsec_new_flow_record r = {
		.hdr = { .type = VNFSEC_REC_NEW_FLOW,
			 .version = VNFSEC_ABI_VERSION,
			 .len = sizeof(r), .ts_ns = ts },
		.tcp_flags = tcp_flags,
	};

	inet_pton(AF_INET, src, &r.key.saddr);
	inet_pton(AF_INET, dst, &r.key.daddr);
	r.key.sport = htons(sport);
	r.key.dport = htons(dport);
	r.key.proto = proto;
	r.key.family = VNFSEC_AF_INET;
	r.key.dir = VNFSEC_DIR_INGRESS;
	return r;
}

static void feed(struct vnfsec_new_flow_record r)
{
	events_handle(&ev, &r, sizeof(r));
}

struct seen {
	struct learn_opening o[16];
	unsigned int n;
};

static void collect(void *ctx, const struct learn_opening *o)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->o[s->n] = *o;
	s->n++;
}

static bool has(const struct seen *s, const char *src, const char *dst,
		uint8_t proto, uint16_t dport)
{
	uint32_t a, b;
	unsigned int i;

	inet_pton(AF_INET, src, &a);
	inet_pton(AF_INET, dst, &b);
	for (i = 0; i < s->n && i < 16; i++)
		if (s->o[i].key.saddr.v4 == a && s->o[i].key.daddr.v4 == b &&
		    s->o[i].key.proto == proto &&
		    ntohs(s->o[i].key.dport) == dport)
			return true;
	return false;
}

/*
 * A DNS client asking from a new port each time, the server answering
 * from 53 (no VNFSEC_FLOW_F_REPLY: learn mode expects no reply): one
 * opening, the question's, however many queries; the answers, each the
 * reverse of a question seen opening, none.
 */
static void dns_questions_open_answers_do_not(void **state)
{
	struct seen s = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		feed(rec(i * MS, "10.77.0.130", 40000 + i, "10.77.0.2", 53,
			 IPPROTO_UDP, 0));
		feed(rec(i * MS + 1000, "10.77.0.2", 53, "10.77.0.130",
			 40000 + i, IPPROTO_UDP, 0));
	}
	learn_openings_each(ev.learn, 0, collect, &s);
	assert_int_equal(1, s.n);
	assert_true(has(&s, "10.77.0.130", "10.77.0.2", IPPROTO_UDP, 53));
	assert_int_equal(0, s.o[0].first_ns);
	assert_int_equal(199 * MS, s.o[0].last_ns);
	assert_int_equal(0, learn_openings_lost(ev.learn));
}

/*
 * Who spoke first decides, not the ports: a client on port 33000 to a
 * server on 50051 opens; the answers (SYN-ACK) do not. A record the fast
 * path marked VNFSEC_FLOW_F_REPLY opens nothing. A bare SYN always opens,
 * even on the reverse of a tuple seen opening before (a new connection).
 * A ping opens, its echo reply does not (the fast path passes it as the
 * reply of the echo request).
 */
static void who_spoke_first_opens(void **state)
{
	struct vnfsec_new_flow_record r;
	struct seen s = { 0 };

	(void)state;
	feed(rec(1 * MS, "10.77.0.1", 33000, "10.77.0.2", 50051, IPPROTO_TCP,
		 VNFSEC_TCP_SYN));
	feed(rec(2 * MS, "10.77.0.2", 50051, "10.77.0.1", 33000, IPPROTO_TCP,
		 VNFSEC_TCP_SYN | VNFSEC_TCP_ACK));
	r = rec(3 * MS, "10.77.0.3", 53, "10.77.0.1", 41000, IPPROTO_UDP, 0);
	r.flags = VNFSEC_FLOW_F_REPLY;
	feed(r);
	feed(rec(4 * MS, "10.77.0.2", 50051, "10.77.0.1", 33000, IPPROTO_TCP,
		 VNFSEC_TCP_SYN));
	/* ICMP: identifier as sport, type << 8 | code as dport. */
	feed(rec(5 * MS, "10.77.0.3", 77, "10.77.0.2", 8 << 8, IPPROTO_ICMP,
		 0));
	feed(rec(6 * MS, "10.77.0.2", 77, "10.77.0.3", 0, IPPROTO_ICMP, 0));
	learn_openings_each(ev.learn, 0, collect, &s);
	assert_int_equal(3, s.n);
	assert_true(has(&s, "10.77.0.3", "10.77.0.2", IPPROTO_ICMP, 8 << 8));
	assert_true(has(&s, "10.77.0.1", "10.77.0.2", IPPROTO_TCP, 50051));
	assert_true(has(&s, "10.77.0.2", "10.77.0.1", IPPROTO_TCP, 33000));
}

/*
 * GTP-U: whatever the subscribers' flows inside, each tunnel end opens
 * the carrier (udp/2152 between the two VNFs), once: the fast path
 * judges the pair on it. The downlink inner flow, the reverse of the
 * uplink one, is no reason to leave out pgw -> sgw.
 */
static void gtpu_is_its_carrier_both_ways(void **state)
{
	struct vnfsec_new_flow_record r;
	struct seen s = { 0 };
	unsigned int i, up = 0, down = 0;

	(void)state;
	for (i = 0; i < 100; i++) {
		r = rec(i * MS, "100.64.0.1", 20000 + i, "198.18.0.1", 443,
			IPPROTO_TCP, VNFSEC_TCP_ACK);
		r.key.encap = VNFSEC_ENCAP_GTPU;
		r.src_vnf = 1;	/* sgw */
		r.dst_vnf = 2;	/* pgw */
		feed(r);
		r = rec(i * MS + 1000, "198.18.0.1", 443, "100.64.0.1",
			20000 + i, IPPROTO_TCP, VNFSEC_TCP_ACK);
		r.key.encap = VNFSEC_ENCAP_GTPU;
		r.src_vnf = 2;
		r.dst_vnf = 1;
		feed(r);
	}
	learn_openings_each(ev.learn, 0, collect, &s);
	assert_int_equal(2, s.n);
	for (i = 0; i < s.n; i++) {
		assert_int_equal(VNFSEC_ENCAP_GTPU, s.o[i].key.encap);
		assert_int_equal(IPPROTO_UDP, s.o[i].key.proto);
		assert_int_equal(VNFSEC_GTPU_PORT, ntohs(s.o[i].key.dport));
		assert_int_equal(0, s.o[i].key.saddr.v4);
		up += s.o[i].src_vnf == 1 && s.o[i].dst_vnf == 2;
		down += s.o[i].src_vnf == 2 && s.o[i].dst_vnf == 1;
	}
	assert_int_equal(1, up);
	assert_int_equal(1, down);
}

/*
 * Only while someone learns, and only what a period asks for: openings
 * before @from are not its; after the watch ends nothing is kept (nor
 * read: learn_openings_seen() stays at the last record of it); a
 * full table counts what it could not keep (the proposal then reads the
 * tables for the period, control.c) and keeps a quarter free.
 */
static void kept_while_watching_and_bounded(void **state)
{
	struct vnfsec_new_flow_record r;
	struct seen s = { 0 };
	unsigned int i, max = LEARN_OPENINGS_MAX / 4 * 3;

	(void)state;
	learn_openings_stop(ev.learn);
	feed(rec(1 * MS, "10.0.0.1", 1000, "10.0.0.2", 80, IPPROTO_UDP, 0));
	learn_openings_each(ev.learn, 0, collect, &s);
	assert_int_equal(0, s.n);

	assert_int_equal(0, learn_openings_watch(ev.learn, 100 * MS));
	feed(rec(10 * MS, "10.0.0.1", 1000, "10.0.0.2", 81, IPPROTO_UDP, 0));
	feed(rec(20 * MS, "10.0.0.1", 1000, "10.0.0.2", 82, IPPROTO_UDP, 0));
	feed(rec(200 * MS, "10.0.0.1", 1000, "10.0.0.2", 83, IPPROTO_UDP, 0));
	learn_openings_each(ev.learn, 15 * MS, collect, &s);
	assert_int_equal(1, s.n);
	assert_true(has(&s, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 82));
	/* The latest record read in the period: flows after it are unread. */
	assert_int_equal(20 * MS, learn_openings_seen(ev.learn));

	/* Straight into the table: a scan this size would be reported. */
	assert_int_equal(0, learn_openings_watch(ev.learn, ~0ULL));
	for (i = 2; i < max + 10; i++) {
		r = rec(300 * MS, "10.0.0.1", 1000, "10.0.0.3", 1, IPPROTO_UDP,
			0);
		r.key.daddr.v4 = htonl(0x0a000000 + i);
		learn_note(ev.learn, &r, true);
	}
	assert_int_equal(10, learn_openings_lost(ev.learn));
	memset(&s, 0, sizeof(s));
	learn_openings_each(ev.learn, 0, collect, &s);
	assert_int_equal(max, s.n);
	/* A new period starts afresh. */
	learn_openings_stop(ev.learn);
	assert_int_equal(0, learn_openings_watch(ev.learn, ~0ULL));
	assert_int_equal(0, learn_openings_lost(ev.learn));
}

static void count_port(void *ctx, const struct learn_port *p)
{
	struct learn_port *seen = ctx;
	unsigned int i;

	for (i = 0; i < 4 && seen[i].ifindex; i++)
		;
	if (i < 4)
		seen[i] = *p;
}

/*
 * The ports new flows came in on, each with the first source seen on
 * it, whether the flow opened or answered: what a proposal made from the
 * posture needs to name its VNFs' ports. Egress sightings and tunnelled
 * flows (an inner source is a subscriber's) say nothing of a port.
 */
static void ports_seen_with_their_first_source(void **state)
{
	struct learn_port seen[4] = { 0 };
	struct vnfsec_new_flow_record r;
	uint32_t a;

	(void)state;
	r = rec(1 * MS, "10.77.0.1", 40000, "10.77.0.2", 53, IPPROTO_UDP, 0);
	r.key.ifindex = 7;
	feed(r);
	r = rec(2 * MS, "10.77.0.2", 53, "10.77.0.1", 40000, IPPROTO_UDP, 0);
	r.key.ifindex = 8;
	feed(r);
	r = rec(3 * MS, "10.77.0.9", 40001, "10.77.0.2", 53, IPPROTO_UDP, 0);
	r.key.ifindex = 7;
	feed(r);
	r = rec(4 * MS, "10.77.0.1", 40002, "10.77.0.3", 80, IPPROTO_UDP, 0);
	r.key.ifindex = 9;
	r.key.dir = VNFSEC_DIR_EGRESS;
	feed(r);
	r = rec(5 * MS, "100.64.0.1", 1, "198.18.0.1", 2, IPPROTO_UDP, 0);
	r.key.ifindex = 10;
	r.key.encap = VNFSEC_ENCAP_GTPU;
	feed(r);
	learn_ports_each(ev.learn, count_port, seen);
	assert_int_equal(7, seen[0].ifindex);
	inet_pton(AF_INET, "10.77.0.1", &a);
	assert_int_equal(a, seen[0].saddr.v4);
	assert_int_equal(8, seen[1].ifindex);
	inet_pton(AF_INET, "10.77.0.2", &a);
	assert_int_equal(a, seen[1].saddr.v4);
	assert_int_equal(0, seen[2].ifindex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(dns_questions_open_answers_do_not,
						setup, teardown),
		cmocka_unit_test_setup_teardown(who_spoke_first_opens, setup,
						teardown),
		cmocka_unit_test_setup_teardown(gtpu_is_its_carrier_both_ways,
						setup, teardown),
		cmocka_unit_test_setup_teardown(kept_while_watching_and_bounded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(ports_seen_with_their_first_source,
						setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("agent_learn", tests, NULL, NULL);
}
