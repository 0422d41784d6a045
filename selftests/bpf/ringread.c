// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringread: the live tests' view of the "events" ring buffer. Reads the
 * pinned ring for SECONDS and prints one line per record, for the shell
 * suite (selftests/bpf/live) to grep:
 *
 *   new_flow SRC SPORT DST DPORT PROTO VERDICT CAUSE
 *   detector SRC DST DETECTOR COUNT DROPPING
 *   sample SRC SPORT DST DPORT PROTO REASON CAP_LEN PKT_LEN
 *
 * Addresses are IPv4 dotted or IPv6 text. A record of a length its type
 * does not have is reported as "bad ..." and makes the exit status 1.
 *
 *   ringread PINNED_EVENTS_MAP SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"

static int bad_records;

static const char *addr_str(const struct vnfsec_flow_key *k,
			    const union vnfsec_addr *a, char *buf, size_t len)
{
	int af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;

	if (!inet_ntop(af, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static int print_record(void *ctx, void *data, size_t len)
{
	const struct vnfsec_record_hdr *hdr = data;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	(void)ctx;
	if (len < sizeof(*hdr) || hdr->len != len) {
		printf("bad length %zu\n", len);
		bad_records++;
		return 0;
	}
	switch (hdr->type) {
	case VNFSEC_REC_NEW_FLOW: {
		const struct vnfsec_new_flow_record *r = data;

		if (len != sizeof(*r))
			break;
		printf("new_flow %s %u %s %u %u %u %u\n",
		       addr_str(&r->key, &r->key.saddr, src, sizeof(src)),
		       ntohs(r->key.sport),
		       addr_str(&r->key, &r->key.daddr, dst, sizeof(dst)),
		       ntohs(r->key.dport), r->key.proto, r->verdict, r->cause);
		goto out;
	}
	case VNFSEC_REC_DETECTOR: {
		const struct vnfsec_detector_record *r = data;

		if (len != sizeof(*r))
			break;
		printf("detector %s %s %u %u %u\n",
		       addr_str(&r->key, &r->key.saddr, src, sizeof(src)),
		       addr_str(&r->key, &r->key.daddr, dst, sizeof(dst)),
		       r->detector, r->count, r->dropping);
		goto out;
	}
	case VNFSEC_REC_SAMPLE: {
		const struct vnfsec_sample_record *r = data;

		if (len != sizeof(*r) || r->cap_len > VNFSEC_SAMPLE_BYTES)
			break;
		printf("sample %s %u %s %u %u %u %u %u\n",
		       addr_str(&r->key, &r->key.saddr, src, sizeof(src)),
		       ntohs(r->key.sport),
		       addr_str(&r->key, &r->key.daddr, dst, sizeof(dst)),
		       ntohs(r->key.dport), r->key.proto, r->reason,
		       r->cap_len, r->pkt_len);
		goto out;
	}
	case VNFSEC_REC_UNPARSED: {
		const struct vnfsec_unparsed_record *r = data;
		struct vnfsec_flow_key k = { .family = r->family };

		if (len != sizeof(*r))
			break;
		printf("unparsed %u %u %s %u %u %u\n", r->ifindex, r->vlan,
		       r->family ? addr_str(&k, &r->saddr, src, sizeof(src)) :
				   "-",
		       r->cause, r->counter, r->verdict);
		goto out;
	}
	}
	printf("bad type %u length %zu\n", hdr->type, len);
	bad_records++;
out:
	fflush(stdout);
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb;
	double end;
	int fd, err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PINNED_EVENTS_MAP SECONDS\n",
			argv[0]);
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "ringread: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(fd, print_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "ringread: ring_buffer__new: %s\n",
			strerror(errno));
		close(fd);
		return 1;
	}
	/* Ready: the caller starts its traffic after this line. */
	printf("ready\n");
	fflush(stdout);
	end = mono_s() + atof(argv[2]);
	while (mono_s() < end) {
		err = ring_buffer__poll(rb, 50);
		if (err < 0 && err != -EINTR)
			break;
		/*
		 * Samples wake the reader only per batch, and poll consumes
		 * only a ring that woke it: collect them after each timeout,
		 * as the agent does on its tick.
		 */
		err = ring_buffer__consume(rb);
		if (err < 0)
			break;
		err = 0;
	}
	ring_buffer__free(rb);
	close(fd);
	if (err)
		fprintf(stderr, "ringread: poll: %s\n", strerror(-err));
	return err || bad_records ? 1 : 0;
}
