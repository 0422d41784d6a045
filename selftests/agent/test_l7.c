// SPDX-License-Identifier: GPL-2.0-only
/*
 * The application-protocol check on real packets: frames captured with
 * tcpdump -xx from real sockets (a resolver's DNS query, curl's HTTP
 * request, a GTPv2-C echo request, an OpenSSH banner), cut where the
 * fast path's samples are cut (VNFSEC_SAMPLE_BYTES), judged by nDPI
 * against the protocol a VNF pair's policy expects.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bpf/vnfsec_abi.h"
#include "user/agent/l7.h"
#include "user/common/log.h"

/* udp 41000 -> 53: "A? www.example.com." */
static const char dns_query[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"003d 0619 4000 4011 3695 7f00 0001 7f00"
	"0001 a028 0035 0029 fe3c 1a2b 0100 0001"
	"0000 0000 0000 0377 7777 0765 7861 6d70"
	"6c65 0363 6f6d 0000 0100 01";

/* udp 41000 -> 2123: an HTTP request sent to the GTP-C port. */
static const char http_on_udp_2123[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"006f 061a 4000 4011 3662 7f00 0001 7f00"
	"0001 a028 084b 005b fe6e 4745 5420 2f69"
	"6e64 6578 2e68 746d 6c20 4854 5450 2f31"
	"2e31 0d0a 486f 7374 3a20 3130 2e37 372e"
	"302e 320d 0a55 7365 722d 4167 656e 743a"
	"2063 7572 6c2f 372e 3838 2e31 0d0a 4163"
	"6365 7074 3a20 2a2f 2a0d 0a0d 0a";

/* udp 41000 -> 2123: GTPv2-C Echo Request, Recovery IE. */
static const char gtpc_echo[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"0029 061b 4000 4011 36a7 7f00 0001 7f00"
	"0001 a028 084b 0015 fe28 4001 0009 0000"
	"0100 0300 0100 05";

/* tcp 37622 -> 8080, PSH|ACK, curl's GET (149 bytes, sampled: 128). */
static const char http_get[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"0087 64a8 4000 4006 d7c6 7f00 0001 7f00"
	"0001 92f6 1f90 c1c9 28a9 da78 fe94 8018"
	"0040 fe7b 0000 0101 080a dd7e 602f 6239"
	"ed80 4745 5420 2f69 6e64 6578 2e68 746d"
	"6c20 4854 5450 2f31 2e31 0d0a 486f 7374"
	"3a20 3130 2e37 372e 302e 320d 0a55 7365"
	"722d 4167 656e 743a 2063 7572 6c2f 372e"
	"3838 2e31 0d0a 4163 6365 7074 3a20 2a2f"
	"2a0d 0a0d 0a";

/* tcp 59676 -> 3868 (Diameter's port): an OpenSSH banner. */
static const char ssh_on_3868[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"005c 8d12 4000 4006 af87 7f00 0001 7f00"
	"0001 e91c 0f1c 751f ec11 047c 7869 8018"
	"0040 fe50 0000 0101 080a dde3 070b f3fb"
	"53c1 5353 482d 322e 302d 4f70 656e 5353"
	"485f 392e 3270 3120 4465 6269 616e 2d32"
	"2b64 6562 3132 7533 0d0a";

/* Made with scapy (see the commit): each protocol's first datagram or
 * first segment with payload, as a client sends it. */
static const char ntp_client[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"004c 061a 0000 4011 7685 7f00 0001 7f00"
	"0001 a028 007b 0038 86c9 2302 0a00 0000"
	"0000 0000 0000 7f00 0001 0000 0000 0000"
	"0000 eec1 e4f2 7f4f e000 0000 0000 0000"
	"0000 eec1 e4f2 7f50 a800";

static const char radius_request[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"0037 061a 0000 4011 769a 7f00 0001 7f00"
	"0001 a028 0714 0023 9fe7 0107 001b 1111"
	"1111 1111 1111 1111 1111 1111 1111 0107"
	"616c 6963 65";

/* SIP OPTIONS, 234 bytes (sampled: 128). */
static const char sip_options[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"00dc 061a 0000 4011 75f5 7f00 0001 7f00"
	"0001 13c4 13c4 00c8 bf5d 4f50 5449 4f4e"
	"5320 7369 703a 7067 7740 3130 2e37 372e"
	"302e 3220 5349 502f 322e 300d 0a56 6961"
	"3a20 5349 502f 322e 302f 5544 5020 3130"
	"2e37 372e 302e 313a 3530 3630 3b62 7261"
	"6e63 683d 7a39 6847 3462 4b31 0d0a 4672"
	"6f6d 3a20 3c73 6970 3a61 4078 3e3b 7461"
	"673d 310d 0a54 6f3a 203c 7369 703a 6240"
	"793e 0d0a 4361 6c6c 2d49 443a 2031 4078"
	"0d0a 4353 6571 3a20 3120 4f50 5449 4f4e"
	"530d 0a4d 6178 2d46 6f72 7761 7264 733a"
	"2037 300d 0a43 6f6e 7465 6e74 2d4c 656e"
	"6774 683a 2030 0d0a 0d0a";

/* tcp 40100 -> 3868: Diameter Capabilities-Exchange-Request. */
static const char diameter_cer[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"003c 061a 0000 4006 76a0 7f00 0001 7f00"
	"0001 9ca4 0f1c 0000 0001 0000 0001 5018"
	"2000 63dc 0000 0100 0014 8000 0101 0000"
	"0000 0000 0001 0000 0001";

/* tcp 40200 -> 443: a TLS ClientHello with SNI, 150 bytes (sampled: 128). */
static const char tls_client_hello[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"0088 061a 0000 4006 7654 7f00 0001 7f00"
	"0001 9d08 01bb 0000 0001 0000 0001 5018"
	"2000 597b 0000 1603 0300 5b01 0000 5703"
	"0300 0000 00a5 b825 799f e17a 7786 7ab4"
	"eb0a aecd 0355 c2be 5d77 59ce 1ff8 85f9"
	"9000 001a c02b c023 c02f c027 009e 0067"
	"009c 003c c009 c013 0033 002f 000a 0100"
	"0014 0000 0010 000e 0000 0b70 6777 2e65"
	"7861 6d70 6c65";

/* udp 2152 -> 2152: GTPv1-U Echo Request. */
static const char gtpu_echo[] =
	"0000 0000 0000 0000 0000 0000 0800 4500"
	"0028 061a 0000 4011 76a9 7f00 0001 7f00"
	"0001 0868 0868 0014 beed 3201 0004 0000"
	"0000 0001 0000";

/* What a sample holds of the frame: at most VNFSEC_SAMPLE_BYTES. */
static size_t frame(const char *hex, uint8_t *out)
{
	size_t n = 0;
	unsigned int b;

	while (*hex && n < VNFSEC_SAMPLE_BYTES) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(1, sscanf(hex, "%2x", &b));
		out[n++] = b;
		hex += 2;
	}
	return n;
}

static int judge(struct l7 *l, const char *expected, const uint8_t *f,
		 size_t len, char *detected)
{
	return l7_judge(l, expected, f, len, 1000, detected, L7_NAME_MAX);
}

static int setup(void **state)
{
	*state = l7_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	l7_free(*state);
	return 0;
}

static void dns_query_on_a_dns_pair_is_expected(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(dns_query, f);

	assert_int_equal(L7_EXPECTED, judge(*state, "dns", f, n, det));
	assert_string_equal("DNS", det);
}

static void dns_on_a_gtp_c_pair_is_a_violation(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(dns_query, f);

	assert_int_equal(L7_VIOLATION, judge(*state, "gtp-c", f, n, det));
	assert_string_equal("DNS", det);
}

static void http_to_the_gtp_c_port_is_a_violation(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(http_on_udp_2123, f);

	assert_int_equal(L7_VIOLATION, judge(*state, "gtp-c", f, n, det));
	/* Not DNS either: non-DNS on a DNS pair. */
	assert_int_equal(L7_VIOLATION, judge(*state, "dns", f, n, det));
}

static void gtp_c_echo_on_a_gtp_pair_is_expected(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(gtpc_echo, f);

	assert_int_equal(L7_EXPECTED, judge(*state, "gtp-c", f, n, det));
	assert_int_equal(L7_EXPECTED, judge(*state, "gtp", f, n, det));
	assert_int_equal(L7_VIOLATION, judge(*state, "gtp-u", f, n, det));
}

static void http_request_cut_by_the_sample_is_still_http(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(http_get, f);

	assert_int_equal(VNFSEC_SAMPLE_BYTES, n);	/* cut: 149 -> 128 */
	assert_int_equal(L7_EXPECTED, judge(*state, "http", f, n, det));
	assert_int_equal(L7_VIOLATION, judge(*state, "diameter", f, n, det));
	assert_non_null(strstr(det, "HTTP"));
}

static void ssh_on_a_diameter_pair_is_a_violation(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(ssh_on_3868, f);

	assert_int_equal(L7_VIOLATION, judge(*state, "diameter", f, n, det));
	assert_string_equal("SSH", det);
	assert_int_equal(L7_EXPECTED, judge(*state, "ssh", f, n, det));
}

/* The same segment over IPv6 (::1 -> ::1): judged as over IPv4. */
static void ipv6_ssh_on_a_diameter_pair_is_a_violation(void **state)
{
	uint8_t v4[VNFSEC_SAMPLE_BYTES], f[VNFSEC_SAMPLE_BYTES + 20];
	size_t n4 = frame(ssh_on_3868, v4), l4 = n4 - 34, n;
	char det[L7_NAME_MAX];

	memset(f, 0, sizeof(f));
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;			/* version 6 */
	f[18] = l4 >> 8;		/* payload length */
	f[19] = l4 & 0xff;
	f[20] = 6;			/* next header: TCP */
	f[21] = 64;
	f[37] = 1;			/* ::1 */
	f[53] = 1;			/* ::1 */
	memcpy(f + 54, v4 + 34, l4);
	n = 54 + l4;
	if (n > VNFSEC_SAMPLE_BYTES)
		n = VNFSEC_SAMPLE_BYTES;
	assert_int_equal(L7_VIOLATION, judge(*state, "diameter", f, n, det));
	assert_string_equal("SSH", det);
	assert_int_equal(L7_EXPECTED, judge(*state, "ssh", f, n, det));
}

static void tcp_mid_stream_bytes_say_nothing(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(http_get, f);

	/* The same segment carrying the middle of some binary stream. */
	memset(f + 66, 0xa5, n - 66);
	assert_int_equal(L7_UNKNOWN, judge(*state, "http", f, n, det));
	/* And a bare ACK has nothing to judge. */
	assert_int_equal(L7_UNKNOWN, judge(*state, "http", f, 66, det));
}

static void vlan_tagged_sample_is_judged_inside(void **state)
{
	uint8_t plain[VNFSEC_SAMPLE_BYTES], f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(dns_query, plain);

	memcpy(f, plain, 12);
	f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x07;
	memcpy(f + 16, plain + 12, n - 12);
	assert_int_equal(L7_EXPECTED, judge(*state, "dns", f, n + 4, det));
}

static void malformed_and_unjudged_frames(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	size_t n = frame(dns_query, f);

	assert_int_equal(-EINVAL, judge(*state, "dns", f, 10, det));
	assert_int_equal(-EINVAL, judge(*state, "dns", f, 30, det));
	assert_int_equal(-EINVAL, judge(*state, "dns", f, 200, det));
	f[12] = 0x08, f[13] = 0x06;		/* ARP */
	assert_int_equal(-EINVAL, judge(*state, "dns", f, n, det));
	/* Names nDPI cannot tell are never judged. */
	n = frame(http_on_udp_2123, f);
	assert_int_equal(L7_UNKNOWN, judge(*state, "pfcp", f, n, det));
	assert_false(l7_checkable("pfcp"));
	assert_false(l7_checkable("any"));
	assert_false(l7_checkable(""));
	assert_true(l7_checkable("gtp-c"));
}

/* ---- L7 enforcement: a flow judged from its first packets ------------- */

static struct vnfsec_flow_key key_of(uint16_t sport)
{
	struct vnfsec_flow_key k = { .family = VNFSEC_AF_INET, .sport = sport };

	return k;
}

/* The frame's headers alone (a SYN or a bare ACK of the same flow). */
static size_t headers_only(const uint8_t *f)
{
	return 14 + (f[14] & 0x0f) * 4 + (f[14 + 9] == 6 ?
		(f[14 + (f[14] & 0x0f) * 4 + 12] >> 4) * 4 : 8);
}

static int feed(struct l7 *l, const struct vnfsec_flow_key *k,
		const char *expected, const uint8_t *f, size_t n,
		unsigned int index, char *det)
{
	return l7_flow_feed(l, k, expected, f, n, index,
			    1000000000ULL + index, det, L7_NAME_MAX);
}

/*
 * How many packets each supported protocol needs (docs/policy.md): a UDP
 * one is judged at its first datagram; a TCP one at its first packet with
 * payload, the 3rd of the flow after SYN and ACK. Judged expected for its
 * own name, a violation for another.
 */
static void each_protocol_is_judged_at_its_first_payload_packet(void **state)
{
	static const struct {
		const char *hex, *name, *other;
		bool tcp;
	} p[] = {
		{ dns_query, "dns", "gtp-c", false },
		{ gtpc_echo, "gtp-c", "dns", false },
		{ gtpc_echo, "gtp", "dns", false },
		{ gtpu_echo, "gtp-u", "gtp-c", false },
		{ ntp_client, "ntp", "dns", false },
		{ radius_request, "radius", "dns", false },
		{ sip_options, "sip", "dns", false },
		{ http_get, "http", "diameter", true },
		{ ssh_on_3868, "ssh", "diameter", true },
		{ diameter_cer, "diameter", "http", true },
	};
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	char det[L7_NAME_MAX];
	unsigned int i, pass;
	size_t n;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		n = frame(p[i].hex, f);
		for (pass = 0; pass < 2; pass++) {
			const char *want = pass ? p[i].other : p[i].name;
			struct vnfsec_flow_key k = key_of(i * 2 + pass + 1);
			unsigned int idx = 1;
			int ret;

			if (p[i].tcp) {
				assert_int_equal(L7_PENDING,
						 feed(*state, &k, want, f,
						      headers_only(f), idx++,
						      det));
				assert_int_equal(L7_PENDING,
						 feed(*state, &k, want, f,
						      headers_only(f), idx++,
						      det));
			}
			ret = feed(*state, &k, want, f, n, idx, det);
			if (ret != (pass ? L7_VIOLATION : L7_EXPECTED))
				fail_msg("%s judged as %s: %d (detected %s)",
					 p[i].name, want, ret, det);
		}
	}
}

/*
 * A ClientHello is longer than a sample holds (128 bytes) and nDPI waits
 * for it whole: never recognised, so "tls" is not enforced (its rules'
 * flows are not L7 pending), only checkable.
 */
static void tls_cut_by_the_sample_is_not_enforced(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	struct vnfsec_flow_key k = key_of(99);
	char det[L7_NAME_MAX];
	size_t n = frame(tls_client_hello, f);
	unsigned int i;

	assert_int_equal(VNFSEC_SAMPLE_BYTES, n);	/* cut: 150 -> 128 */
	for (i = 3; i < VNFSEC_L7_PACKETS; i++)
		assert_int_equal(L7_PENDING,
				 feed(*state, &k, "tls", f, n, i, det));
	assert_int_equal(L7_UNKNOWN, feed(*state, &k, "tls", f, n, i, det));
	assert_true(l7_checkable("tls"));
	assert_false(l7_enforceable("tls"));
	assert_false(l7_enforceable("pfcp"));
	assert_true(l7_enforceable("dns"));
	assert_true(l7_enforceable("gtp-c"));
	assert_true(l7_enforceable("diameter"));
}

/* HTTP on the DNS and GTP-C ports: recognised as nothing at once. */
static void http_on_udp_is_unknown_at_its_first_datagram(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	struct vnfsec_flow_key k = key_of(100);
	char det[L7_NAME_MAX];
	size_t n = frame(http_on_udp_2123, f);

	assert_int_equal(L7_UNKNOWN, feed(*state, &k, "gtp-c", f, n, 1, det));
	assert_string_equal("Unknown", det);
	k = key_of(101);
	assert_int_equal(L7_UNKNOWN, feed(*state, &k, "dns", f, n, 1, det));
}

/* A TCP flow of nothing nDPI knows: unknown at its 8th packet. */
static void tcp_flow_of_nothing_known_is_unknown_at_its_last_packet(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES];
	struct vnfsec_flow_key k = key_of(102);
	char det[L7_NAME_MAX];
	size_t n = frame(http_get, f);
	unsigned int i;

	memset(f + 66, 0xa5, n - 66);
	for (i = 1; i < VNFSEC_L7_PACKETS; i++)
		assert_int_equal(L7_PENDING,
				 feed(*state, &k, "http", f, n, i, det));
	assert_int_equal(L7_UNKNOWN, feed(*state, &k, "http", f, n, i, det));
	/* Bare ACKs only, to the last: unknown too. */
	k = key_of(103);
	for (i = 1; i < VNFSEC_L7_PACKETS; i++)
		assert_int_equal(L7_PENDING,
				 feed(*state, &k, "http", f, 66, i, det));
	assert_int_equal(L7_UNKNOWN, feed(*state, &k, "http", f, 66, i, det));
}

/* One verdict per flow; the same tuple from packet 1 again is judged anew. */
static void a_flow_is_judged_once_and_anew_when_it_starts_again(void **state)
{
	uint8_t f[VNFSEC_SAMPLE_BYTES], d[VNFSEC_SAMPLE_BYTES];
	struct vnfsec_flow_key k = key_of(104);
	char det[L7_NAME_MAX];
	size_t n = frame(ssh_on_3868, f), nd = frame(dns_query, d);

	assert_int_equal(L7_VIOLATION,
			 feed(*state, &k, "diameter", f, n, 1, det));
	assert_int_equal(L7_PENDING,
			 feed(*state, &k, "diameter", f, n, 2, det));
	assert_int_equal(L7_PENDING,
			 feed(*state, &k, "diameter", f, n, 8, det));
	/* A new flow on the tuple (its packet 1): judged again. */
	assert_int_equal(L7_VIOLATION,
			 feed(*state, &k, "diameter", f, n, 1, det));
	/* Another flow is its own. */
	k = key_of(105);
	assert_int_equal(L7_EXPECTED, feed(*state, &k, "dns", d, nd, 1, det));
	/* Not an L7 sample (index 0) or a name nDPI cannot tell: nothing. */
	k = key_of(106);
	assert_int_equal(L7_PENDING, feed(*state, &k, "dns", d, nd, 0, det));
	assert_int_equal(L7_PENDING, feed(*state, &k, "pfcp", d, nd, 1, det));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(dns_query_on_a_dns_pair_is_expected),
		T(dns_on_a_gtp_c_pair_is_a_violation),
		T(http_to_the_gtp_c_port_is_a_violation),
		T(gtp_c_echo_on_a_gtp_pair_is_expected),
		T(http_request_cut_by_the_sample_is_still_http),
		T(ssh_on_a_diameter_pair_is_a_violation),
		T(ipv6_ssh_on_a_diameter_pair_is_a_violation),
		T(tcp_mid_stream_bytes_say_nothing),
		T(vlan_tagged_sample_is_judged_inside),
		T(malformed_and_unjudged_frames),
		T(each_protocol_is_judged_at_its_first_payload_packet),
		T(tls_cut_by_the_sample_is_not_enforced),
		T(http_on_udp_is_unknown_at_its_first_datagram),
		T(tcp_flow_of_nothing_known_is_unknown_at_its_last_packet),
		T(a_flow_is_judged_once_and_anew_when_it_starts_again),
	};

	log_init("test_l7", LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
