// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring-buffer records from the fast path into the heuristics. A record is
 * checked against the ABI before it is read: a sensor of another version
 * must not be misread.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>

#include "user/agent/agent.h"
#include "user/common/log.h"

int events_handle(void *ctx, void *data, size_t len)
{
	const struct vnfsec_record_hdr *hdr = data;
	const struct vnfsec_new_flow_record *rec = data;
	struct event_ctx *ev = ctx;
	struct assessment a;
	char ifname[IF_NAMESIZE];
	char src[16], dst[16];

	ev->records++;
	if (len < sizeof(*hdr) || hdr->version != VNFSEC_ABI_VERSION ||
	    hdr->len > len) {
		if (!ev->bad_records++)
			log_warn("fast path sent a record of ABI %u (agent speaks %u); its sensor and agent do not match: reload with --fresh",
				 len >= sizeof(*hdr) ? hdr->version : 0,
				 VNFSEC_ABI_VERSION);
		return 0;
	}
	if (hdr->type != VNFSEC_REC_NEW_FLOW || len < sizeof(*rec))
		return 0;
	if (!syn_flood_feed(ev->syn_flood, rec, &a))
		return 0;

	if (if_indextoname(rec->key.ifindex, ifname))
		snprintf(a.iface, sizeof(a.iface), "%s", ifname);
	inet_ntop(AF_INET, &a.saddr, src, sizeof(src));
	inet_ntop(AF_INET, &a.daddr, dst, sizeof(dst));
	log_warn("SYN flood towards %s port %u: %llu new flows in %u ms (threshold %u), %llu+ from %s",
		 dst, a.dport, (unsigned long long)a.count, a.window_ms,
		 a.threshold, (unsigned long long)a.src_count, src);
	uplink_submit(ev->uplink, &a);
	return 0;
}
