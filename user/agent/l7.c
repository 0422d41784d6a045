// SPDX-License-Identifier: GPL-2.0-only
/*
 * nDPI on one sampled packet at a time (see l7.h). The module is set up
 * on first use, so an agent whose policy expects no L7 protocol never
 * pays for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ndpi/ndpi_api.h>

#include "bpf/vnfsec_abi.h"
#include "user/agent/l7.h"
#include "user/common/log.h"

#define ETH_HLEN_	14
#define RECENT		256
/* L7-pending flows judged at once; a newer flow takes an older's slot. */
#define FLOWS		1024
#define FLOW_IDLE_NS	(120ULL * 1000000000ULL)
#define QUIET_NS	(60ULL * 1000000000ULL)
#define VLAN_HLEN_	4

/* One L7-pending flow of the fast path, fed its first packets in order. */
struct l7_flow {
	struct vnfsec_flow_key key;
	struct ndpi_flow_struct *flow;	/* NULL once judged */
	uint64_t seen_ns;		/* last sample; 0: a free slot */
	unsigned int index;		/* the last packet's number fed */
	bool judged;
};

struct l7 {
	struct ndpi_detection_module_struct *ndpi;
	struct ndpi_flow_struct *flow;
	struct l7_flow flows[FLOWS];
	bool failed;			/* said once; no more attempts */
	/* The packet's IP part, its lengths made to fit what was captured. */
	uint8_t l3[VNFSEC_SAMPLE_BYTES] __attribute__((aligned(8)));
	struct {
		uint64_t key;
		uint64_t until_ns;
	} recent[RECENT];
};

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* Policy names (docs/policy.md) and the nDPI protocols that are them. */
static const struct {
	const char *name;
	uint16_t ids[4];
} known[] = {
	{ "dns", { NDPI_PROTOCOL_DNS } },
	{ "http", { NDPI_PROTOCOL_HTTP } },
	{ "ntp", { NDPI_PROTOCOL_NTP } },
	{ "tls", { NDPI_PROTOCOL_TLS } },
	{ "ssh", { NDPI_PROTOCOL_SSH } },
	{ "sip", { NDPI_PROTOCOL_SIP } },
	{ "radius", { NDPI_PROTOCOL_RADIUS } },
	{ "diameter", { NDPI_PROTOCOL_DIAMETER } },
	{ "gtp", { NDPI_PROTOCOL_GTP, NDPI_PROTOCOL_GTP_U, NDPI_PROTOCOL_GTP_C,
		   NDPI_PROTOCOL_GTP_PRIME } },
	{ "gtp-c", { NDPI_PROTOCOL_GTP_C } },
	{ "gtp-u", { NDPI_PROTOCOL_GTP_U } },
};

static int find_known(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i].name, name))
			return i;
	return -1;
}

bool l7_checkable(const char *expected)
{
	return expected && find_known(expected) >= 0;
}

/*
 * A TLS ClientHello is longer than a sample (VNFSEC_SAMPLE_BYTES) in all
 * but toy cases, and nDPI waits for it whole: a TLS flow would always be
 * "unknown" from its samples (selftests/agent/test_l7.c).
 */
bool l7_enforceable(const char *expected)
{
	return l7_checkable(expected) && strcmp(expected, "tls");
}

struct l7 *l7_new(void)
{
	return calloc(1, sizeof(struct l7));
}

static void flow_forget(struct l7_flow *f)
{
	if (f->flow)
		ndpi_flow_free(f->flow);
	memset(f, 0, sizeof(*f));
}

void l7_free(struct l7 *l)
{
	unsigned int i;

	if (!l)
		return;
	for (i = 0; i < FLOWS; i++)
		flow_forget(&l->flows[i]);
	/* ndpi_flow_free() frees what the flow holds, then the flow. */
	if (l->flow)
		ndpi_flow_free(l->flow);
	if (l->ndpi)
		ndpi_exit_detection_module(l->ndpi);
	free(l);
}

static int start(struct l7 *l)
{
	NDPI_PROTOCOL_BITMASK all;

	if (l->ndpi)
		return 0;
	if (l->failed)
		return -ENOMEM;
	l->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	l->flow = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
	if (!l->ndpi || !l->flow) {
		log_err("l7: cannot set up nDPI (out of memory); application-protocol checks are off");
		l->failed = true;
		return -ENOMEM;
	}
	/* Uninitialised as it comes: judge() frees what it points to. */
	memset(l->flow, 0, SIZEOF_FLOW_STRUCT);
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(l->ndpi, &all);
	ndpi_finalize_initialization(l->ndpi);
	log_info("l7: nDPI %s checks the application protocols the policy expects",
		 ndpi_revision());
	return 0;
}

/*
 * The IP packet inside @frame, into l->l3, with its length fields cut
 * to what was captured (nDPI refuses a packet shorter than its IP
 * header says). Sets *proto and *payload (bytes after the L4 header).
 */
static int to_l3(struct l7 *l, const uint8_t *frame, size_t cap,
		 size_t *l3_len, uint8_t *proto, size_t *payload)
{
	size_t off = ETH_HLEN_, ihl, l4;
	unsigned int tags = 0;
	uint16_t type;

	if (cap < ETH_HLEN_ || cap > VNFSEC_SAMPLE_BYTES)
		return -EINVAL;
	type = frame[12] << 8 | frame[13];
	while ((type == 0x8100 || type == 0x88a8) &&
	       tags++ < VNFSEC_MAX_VLAN_TAGS) {
		if (cap < off + VLAN_HLEN_)
			return -EINVAL;
		type = frame[off + 2] << 8 | frame[off + 3];
		off += VLAN_HLEN_;
	}
	*l3_len = cap - off;
	memcpy(l->l3, frame + off, *l3_len);
	if (type == 0x0800) {
		if (*l3_len < 20 || (l->l3[0] >> 4) != 4)
			return -EINVAL;
		ihl = (l->l3[0] & 0x0f) * 4;
		/* A fragment but the first has no L4 header to judge. */
		if (ihl < 20 || *l3_len < ihl ||
		    (get16(&l->l3[6]) & 0x1fff))
			return -EINVAL;
		/* Ethernet padding of a short frame is no payload. */
		if (get16(&l->l3[2]) >= ihl && get16(&l->l3[2]) < *l3_len)
			*l3_len = get16(&l->l3[2]);
		put16(&l->l3[2], *l3_len);
		*proto = l->l3[9];
	} else if (type == 0x86dd) {
		if (*l3_len < 40 || (l->l3[0] >> 4) != 6)
			return -EINVAL;
		ihl = 40;
		if (get16(&l->l3[4]) + 40U < *l3_len)
			*l3_len = get16(&l->l3[4]) + 40U;
		put16(&l->l3[4], *l3_len - 40);
		*proto = l->l3[6];	/* extension headers: not judged */
	} else {
		return -EINVAL;
	}
	if (*proto == IPPROTO_UDP)
		l4 = 8;
	else if (*proto == IPPROTO_TCP && *l3_len >= ihl + 13)
		l4 = (l->l3[ihl + 12] >> 4) * 4;
	else
		return -EINVAL;
	if (*l3_len < ihl + l4)
		return -EINVAL;
	*payload = *l3_len - ihl - l4;
	return 0;
}

static bool is_expected(int k, ndpi_protocol p)
{
	unsigned int i;

	for (i = 0; i < 4 && known[k].ids[i]; i++)
		if (p.master_protocol == known[k].ids[i] ||
		    p.app_protocol == known[k].ids[i])
			return true;
	return false;
}

int l7_judge(struct l7 *l, const char *expected, const uint8_t *frame,
	     size_t cap_len, uint64_t ts_ms, char *detected, size_t len)
{
	int k = find_known(expected);
	size_t l3_len, payload;
	ndpi_protocol p;
	uint8_t proto;
	char name[64];
	int ret;

	snprintf(detected, len, "Unknown");
	if (k < 0)
		return L7_UNKNOWN;
	ret = to_l3(l, frame, cap_len, &l3_len, &proto, &payload);
	if (ret)
		return ret;
	if (!payload)
		return L7_UNKNOWN;
	ret = start(l);
	if (ret)
		return ret;
	/* A fresh flow: samples of one flow are not consecutive packets. */
	ndpi_free_flow_data(l->flow);
	memset(l->flow, 0, SIZEOF_FLOW_STRUCT);
	p = ndpi_detection_process_packet(l->ndpi, l->flow, l->l3, l3_len,
					  ts_ms);
	if (p.master_protocol == NDPI_PROTOCOL_UNKNOWN &&
	    p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
		uint8_t guessed = 0;

		/* What it has seen, without guessing from the port. */
		p = ndpi_detection_giveup(l->ndpi, l->flow, 0, &guessed);
	}
	if (p.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
	    p.app_protocol != NDPI_PROTOCOL_UNKNOWN)
		snprintf(detected, len, "%s",
			 ndpi_protocol2name(l->ndpi, p, name, sizeof(name)));
	if (is_expected(k, p))
		return L7_EXPECTED;
	if (p.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
	    p.app_protocol != NDPI_PROTOCOL_UNKNOWN)
		return L7_VIOLATION;
	return proto == IPPROTO_UDP ? L7_VIOLATION : L7_UNKNOWN;
}

bool l7_first_in_a_while(struct l7 *l, uint64_t key, uint64_t now_ns)
{
	unsigned int slot = (key * 0x9e3779b97f4a7c15ULL) >> 56;

	if (l->recent[slot].key == key && now_ns < l->recent[slot].until_ns)
		return false;
	l->recent[slot].key = key;
	l->recent[slot].until_ns = now_ns + QUIET_NS;
	return true;
}

static bool recognised(ndpi_protocol p)
{
	return p.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
	       p.app_protocol != NDPI_PROTOCOL_UNKNOWN;
}

/* The slot of @key: found, or taken (from a flow idle too long, or not). */
static struct l7_flow *flow_slot(struct l7 *l, const struct vnfsec_flow_key *key,
				 unsigned int index, uint64_t now_ns)
{
	struct l7_flow *f = &l->flows[vnfsec_flow_key_hash(key) % FLOWS];

	if (f->seen_ns && !memcmp(&f->key, key, sizeof(*key)) &&
	    now_ns < f->seen_ns + FLOW_IDLE_NS && index > f->index)
		return f;
	/* Another flow's, an old one's, or this tuple anew (index 1). */
	flow_forget(f);
	f->key = *key;
	return f;
}

int l7_flow_feed(struct l7 *l, const struct vnfsec_flow_key *key,
		 const char *expected, const uint8_t *frame, size_t cap_len,
		 unsigned int index, uint64_t now_ns, char *detected,
		 size_t len)
{
	int k = find_known(expected), ret;
	size_t l3_len, payload;
	struct l7_flow *f;
	ndpi_protocol p;
	uint8_t proto;
	char name[64];

	snprintf(detected, len, "Unknown");
	if (k < 0 || !index)
		return L7_PENDING;
	f = flow_slot(l, key, index, now_ns);
	f->seen_ns = now_ns;
	f->index = index;
	if (f->judged)
		return L7_PENDING;
	ret = to_l3(l, frame, cap_len, &l3_len, &proto, &payload);
	if (ret && index < VNFSEC_L7_PACKETS)
		return L7_PENDING;	/* a packet nDPI cannot take */
	if (!ret && payload) {
		ret = start(l);
		if (ret)
			return ret;
		if (!f->flow) {
			f->flow = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
			if (!f->flow) {
				log_err("l7: out of memory for a flow's nDPI state; this flow is not judged");
				return -ENOMEM;
			}
			memset(f->flow, 0, SIZEOF_FLOW_STRUCT);
		}
		p = ndpi_detection_process_packet(l->ndpi, f->flow, l->l3,
						  l3_len, now_ns / 1000000);
		/*
		 * UDP protocols show themselves in their first datagram;
		 * TCP gets the flow's first packets.
		 */
		if (!recognised(p) &&
		    (proto == IPPROTO_UDP || index >= VNFSEC_L7_PACKETS)) {
			uint8_t guessed = 0;

			/* What it has seen, without guessing from the port. */
			p = ndpi_detection_giveup(l->ndpi, f->flow, 0,
						  &guessed);
		}
		if (!recognised(p) && proto != IPPROTO_UDP &&
		    index < VNFSEC_L7_PACKETS)
			return L7_PENDING;
	} else if (index < VNFSEC_L7_PACKETS) {
		return L7_PENDING;	/* no payload yet */
	} else {
		p = (ndpi_protocol){ 0 };
	}
	f->judged = true;
	if (f->flow) {
		ndpi_flow_free(f->flow);
		f->flow = NULL;
	}
	if (!recognised(p))
		return L7_UNKNOWN;
	snprintf(detected, len, "%s",
		 ndpi_protocol2name(l->ndpi, p, name, sizeof(name)));
	return is_expected(k, p) ? L7_EXPECTED : L7_VIOLATION;
}
