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
	};

	log_init("test_l7", LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
