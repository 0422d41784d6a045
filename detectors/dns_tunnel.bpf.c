// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS tunnelling and amplification between VNFs (class "dns": UDP/TCP
 * port 53 with a VNF at one end).
 *
 * Tunnelling: data carried in query names makes them long, in long
 * labels (base32/hex chunks of 50-63 bytes) or many labels. A query with
 * a label longer than max_label raises DNS_EV_LONG_LABEL (value: that
 * label's length); else one whose name exceeds max_name bytes (as on the
 * wire, counted up to the 256 payload bytes handed over) raises
 * DNS_EV_LONG_NAME (value: the name's length).
 *
 * Amplification/reflection: a response of at least amp_min bytes to a
 * client that asked nothing of that server, or more than amp_ratio times
 * its query's size, raises DNS_EV_AMPLIFICATION (value: response bytes).
 *
 * With drop set, the packet that raised the event is asked dropped
 * (carried out in protect mode only, by the fast path).
 */
#include "detectors/detector.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 max_label = 52;
const volatile __u32 max_name = 120;
const volatile __u32 amp_ratio = 10;
const volatile __u32 amp_min = 1024;
const volatile __u32 drop = 1;

enum dns_event {
	DNS_EV_LONG_LABEL = 1,
	DNS_EV_LONG_NAME,
	DNS_EV_AMPLIFICATION,
};

#define DNS_PORT	53
#define DNS_HDR_LEN	12
#define DNS_MAX_LABELS	64

struct dns_query_key {
	union vnfsec_addr client;
	union vnfsec_addr server;
	__u16 client_port;
	__u8 family;
	__u8 pad;
};

struct dns_query {
	__u64 ts_ns;
	__u32 len;		/* the query's DNS payload bytes */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dns_query_key);
	__type(value, struct dns_query);
} dns_queries SEC(".maps");

static __always_inline void dns_event(struct vnfsec_det_ctx *dc, __u32 ev,
				      __u64 value)
{
	dc->event = ev;
	dc->value = value;
	if (drop)
		dc->verdict = VNFSEC_DET_VERDICT_DROP;
}

/*
 * The question's name: a label longer than max_label, else a name longer
 * than max_name. One running value (the offset), no "longest so far": on
 * 6.1 every such value multiplies the verifier's states per label.
 */
static __always_inline void dns_query(struct vnfsec_det_ctx *dc, __u32 start)
{
	__u32 off = start, i, l;

	for (i = 0; i < DNS_MAX_LABELS; i++) {
		if (off >= dc->cap_len)
			break;
		l = dc->payload[off & (VNFSEC_DET_PAYLOAD_BYTES - 1)];
		if (l == 0 || l >= 0xc0)
			break;
		if (l > max_label) {
			dns_event(dc, DNS_EV_LONG_LABEL, l);
			return;
		}
		off += l + 1;
	}
	if (off - start > max_name)
		dns_event(dc, DNS_EV_LONG_NAME, off - start);
}

static __always_inline void query_key(struct dns_query_key *k,
				      const struct vnfsec_det_ctx *dc,
				      int response)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = dc->key.family;
	k->client = response ? dc->key.daddr : dc->key.saddr;
	k->server = response ? dc->key.saddr : dc->key.daddr;
	k->client_port = response ? dc->key.dport : dc->key.sport;
}

VNFSEC_DETECTOR(dns_tunnel)

static __noinline int dns_tunnel(struct vnfsec_det_ctx *dc)
{
	struct dns_query_key k;
	struct dns_query q = {}, *seen;
	__u32 off = DNS_HDR_LEN, len;

	if (!dc)
		return 0;
	len = dc->payload_len;
	/* DNS over TCP: a 2-byte length before each message. */
	if (dc->key.proto == IPPROTO_TCP) {
		if (len < 2)
			return 0;
		off += 2;
		len -= 2;
	}
	if (len < DNS_HDR_LEN)
		return 0;
	if (dc->key.dport == bpf_htons(DNS_PORT) &&
	    dc->key.sport != bpf_htons(DNS_PORT)) {
		query_key(&k, dc, 0);
		q.ts_ns = dc->now_ns;
		q.len = len;
		bpf_map_update_elem(&dns_queries, &k, &q, BPF_ANY);
		dns_query(dc, off);
		return 0;
	}
	if (dc->key.sport != bpf_htons(DNS_PORT) || len < amp_min)
		return 0;
	query_key(&k, dc, 1);
	seen = bpf_map_lookup_elem(&dns_queries, &k);
	if (!seen || len > (__u64)amp_ratio * seen->len)
		dns_event(dc, DNS_EV_AMPLIFICATION, len);
	return 0;
}
