// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corrective actions in the fast path. A block is a blocklist_v4 entry
 * carrying its own expiry, so the XDP program stops honouring it on time
 * even if this agent is gone; the agent also deletes it so the map does
 * not fill with dead entries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "user/agent/agent.h"
#include "user/agent/fastpath_policy.h"
#include "user/common/clock.h"
#include "user/common/log.h"

struct block {
	struct vnfsec_lpm_v4_key key;
	uint64_t expires_ns;		/* CLOCK_MONOTONIC, 0: never */
	uint64_t seq;
	uint32_t reason;
};

struct enforcer {
	const struct sensor *sensor;
	int blocklist_fd;
	struct block *blocks;
	unsigned int nr_blocks;
};

/*
 * An adopted fast path keeps the blocks of the agent before us: take them
 * over, so they are listed and still lifted on time.
 */
static void take_over(struct enforcer *e)
{
	struct vnfsec_lpm_v4_key key, next;
	struct vnfsec_block_entry val;
	void *prev = NULL;

	while (e->nr_blocks < VNFSEC_BLOCKLIST_V4_ENTRIES &&
	       !bpf_map_get_next_key(e->blocklist_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(e->blocklist_fd, &key, &val))
			continue;
		e->blocks[e->nr_blocks++] = (struct block){
			.key = key, .expires_ns = val.expires_ns,
			.reason = val.reason,
		};
	}
	if (e->nr_blocks)
		log_info("took over %u blocks already in the fast path",
			 e->nr_blocks);
}

struct enforcer *enforcer_new(const struct sensor *s)
{
	struct enforcer *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->blocks = calloc(VNFSEC_BLOCKLIST_V4_ENTRIES, sizeof(*e->blocks));
	if (!e->blocks) {
		free(e);
		return NULL;
	}
	e->sensor = s;
	e->blocklist_fd = s->blocklist_v4_fd;
	take_over(e);
	return e;
}

void enforcer_free(struct enforcer *e)
{
	if (!e)
		return;
	free(e->blocks);
	free(e);
}

static const char *prefix_str(const struct vnfsec_lpm_v4_key *k, char *buf,
			      size_t len)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &k->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, k->prefixlen);
	return buf;
}

static int make_key(uint32_t addr, uint32_t prefix_len,
		    struct vnfsec_lpm_v4_key *key)
{
	uint32_t mask;

	if (prefix_len < 1 || prefix_len > 32)
		return -EINVAL;
	/* Host bits set in a prefix would never match: clear them. */
	mask = htonl(prefix_len == 32 ? 0xffffffffu :
		     ~(0xffffffffu >> prefix_len));
	memset(key, 0, sizeof(*key));
	key->prefixlen = prefix_len;
	key->addr = addr & mask;
	return 0;
}

static struct block *find(const struct enforcer *e,
			  const struct vnfsec_lpm_v4_key *key)
{
	unsigned int i;

	for (i = 0; i < e->nr_blocks; i++)
		if (!memcmp(&e->blocks[i].key, key, sizeof(*key)))
			return &e->blocks[i];
	return NULL;
}

int enforcer_block(struct enforcer *e, uint32_t addr, uint32_t prefix_len,
		   uint32_t ttl_s, uint64_t seq, enum vnfsec_block_reason reason)
{
	struct vnfsec_block_entry val = { .reason = reason };
	struct vnfsec_lpm_v4_key key;
	struct block *b;
	char buf[32];

	if (make_key(addr, prefix_len, &key))
		return -EINVAL;
	if (ttl_s)
		val.expires_ns = clock_mono_ns() + (uint64_t)ttl_s * 1000000000ULL;

	b = find(e, &key);
	/* A shorter order must not cut short a block already in force. */
	if (b && (!b->expires_ns ||
		  (val.expires_ns && b->expires_ns >= val.expires_ns))) {
		log_info("source %s is blocked for longer already (action %llu changes nothing)",
			 prefix_str(&key, buf, sizeof(buf)),
			 (unsigned long long)seq);
		return 0;
	}
	if (!b && e->nr_blocks == VNFSEC_BLOCKLIST_V4_ENTRIES) {
		log_err("cannot block %s: %u blocks already active",
			prefix_str(&key, buf, sizeof(buf)), e->nr_blocks);
		return -ENOSPC;
	}
	if (bpf_map_update_elem(e->blocklist_fd, &key, &val, BPF_ANY)) {
		int err = -errno;

		log_err("cannot write block of %s into blocklist_v4: %s",
			prefix_str(&key, buf, sizeof(buf)), strerror(-err));
		return err;
	}
	/* Flows the fast path already judged are judged again, now. */
	fastpath_bump_generation(e->sensor);
	if (!b)
		b = &e->blocks[e->nr_blocks++];
	b->key = key;
	b->expires_ns = val.expires_ns;
	b->seq = seq;
	b->reason = reason;
	if (ttl_s)
		log_info("blocked source %s for %u s (action %llu)",
			 prefix_str(&key, buf, sizeof(buf)), ttl_s,
			 (unsigned long long)seq);
	else
		log_info("blocked source %s until lifted (action %llu)",
			 prefix_str(&key, buf, sizeof(buf)),
			 (unsigned long long)seq);
	return 0;
}

int enforcer_unblock(struct enforcer *e, uint32_t addr, uint32_t prefix_len)
{
	struct vnfsec_lpm_v4_key key;
	struct block *b;
	char buf[32];

	if (make_key(addr, prefix_len, &key))
		return -EINVAL;
	b = find(e, &key);
	if (bpf_map_delete_elem(e->blocklist_fd, &key)) {
		if (errno != ENOENT || !b)
			return -errno;
	}
	fastpath_bump_generation(e->sensor);
	log_info("block of %s lifted on request",
		 prefix_str(&key, buf, sizeof(buf)));
	if (b)
		*b = e->blocks[--e->nr_blocks];
	return 0;
}

void enforcer_foreach(const struct enforcer *e,
		      void (*fn)(void *ctx, const struct block_info *b),
		      void *ctx)
{
	uint64_t now = clock_mono_ns();
	unsigned int i;

	for (i = 0; i < e->nr_blocks; i++) {
		const struct block *b = &e->blocks[i];
		struct block_info info = {
			.addr = b->key.addr,
			.prefix_len = b->key.prefixlen,
			.expires_in_s = !b->expires_ns ? -1 :
				b->expires_ns > now ?
				(int64_t)((b->expires_ns - now) / 1000000000ULL) :
				0,
			.seq = b->seq,
			.reason = b->reason,
		};

		fn(ctx, &info);
	}
}

unsigned int enforcer_count(const struct enforcer *e)
{
	return e->nr_blocks;
}

void enforcer_tick(struct enforcer *e)
{
	uint64_t now = clock_mono_ns();
	unsigned int i = 0;
	char buf[32];

	while (i < e->nr_blocks) {
		struct block *b = &e->blocks[i];

		if (!b->expires_ns || b->expires_ns > now) {
			i++;
			continue;
		}
		if (bpf_map_delete_elem(e->blocklist_fd, &b->key) &&
		    errno != ENOENT)
			log_warn("cannot delete expired block %s: %s (the fast path ignores it anyway)",
				 prefix_str(&b->key, buf, sizeof(buf)),
				 strerror(errno));
		else
			log_info("block of %s lifted: its time is up (action %llu)",
				 prefix_str(&b->key, buf, sizeof(buf)),
				 (unsigned long long)b->seq);
		*b = e->blocks[--e->nr_blocks];
	}
}
