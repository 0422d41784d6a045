// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy and detector bundles (docs/trust.md, docs/detectors.md): the
 * operator signs a policy or a detector offline
 * with the root key (`vnfsecctl policy sign`) and hands the bundle to
 * the server, which relays it to its target agent and logs the agent's
 * verdict. The server holds no key that could make or alter a bundle and
 * judges none: the agent verifies it against the root public key it was
 * given, so a compromised server can withhold bundles but never forge,
 * replay or retarget one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/log.h"
#include "user/common/signing.h"
#include "user/server/server.h"

/* Read at most SIGNED_ENVELOPE_MAX bytes of @path into *buf. */
static int read_bundle(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int ret = 0;

	*buf = NULL;
	if (!f)
		return -errno;
	*buf = malloc(SIGNED_ENVELOPE_MAX + 1);
	if (!*buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(*buf, 1, SIGNED_ENVELOPE_MAX + 1, f);
	if (ferror(f))
		ret = -EIO;
	else if (n == 0 || n > SIGNED_ENVELOPE_MAX)
		ret = -EMSGSIZE;
	fclose(f);
	if (ret) {
		free(*buf);
		*buf = NULL;
		return ret;
	}
	*len = n;
	return 0;
}

/* Relays the envelope in @path as a frame of @body_case. */
static int relay(struct server *srv, struct agent_record *agent,
		 const char *path, const char *what, int body_case,
		 const char **why)
{
	Vnfsec__Frame f = VNFSEC__FRAME__INIT;
	Vnfsec__PolicyBundle pb = VNFSEC__POLICY_BUNDLE__INIT;
	Vnfsec__DetectorBundle db = VNFSEC__DETECTOR_BUNDLE__INIT;
	uint8_t *buf;
	size_t len = 0;
	int ret;

	if (!agent->session) {
		*why = "agent not connected";
		return -ENOTCONN;
	}
	ret = read_bundle(path, &buf, &len);
	if (ret) {
		*why = ret == -EMSGSIZE ?
		       "bundle file empty or larger than a signed envelope may be" :
		       "cannot read the bundle file";
		log_warn("%s bundle %s for %s: %s (%s)", what, path, agent->id,
			 *why, strerror(-ret));
		return ret;
	}
	f.version = WIRE_VERSION;
	f.body_case = body_case;
	if (body_case == VNFSEC__FRAME__BODY_DETECTOR_BUNDLE) {
		db.envelope.data = buf;
		db.envelope.len = len;
		f.detector_bundle = &db;
	} else {
		pb.envelope.data = buf;
		pb.envelope.len = len;
		f.policy_bundle = &pb;
	}
	ret = session_send(srv, agent->session, &f);
	free(buf);
	if (ret) {
		*why = "cannot send it on the agent's session";
		return ret;
	}
	log_info("%s bundle %s relayed to agent %s (%zu bytes); the agent checks its signature",
		 what, path, agent->id, len);
	return 0;
}

int bundle_push(struct server *srv, struct agent_record *agent,
		const char *path, const char **why)
{
	return relay(srv, agent, path, "policy",
		     VNFSEC__FRAME__BODY_POLICY_BUNDLE, why);
}

int bundle_push_detector(struct server *srv, struct agent_record *agent,
			 const char *path, const char **why)
{
	return relay(srv, agent, path, "detector",
		     VNFSEC__FRAME__BODY_DETECTOR_BUNDLE, why);
}

void bundle_result(struct server *srv, struct agent_record *agent,
		   const Vnfsec__BundleResult *r)
{
	char which[32] = "";

	(void)srv;
	if (!r->status) {
		log_info("agent %s: policy bundle %llu in force, policy revision %llu",
			 agent->id, (unsigned long long)r->seq,
			 (unsigned long long)r->revision);
		return;
	}
	/* Refused unverified, a bundle has no sequence anyone vouches for. */
	if (r->seq)
		snprintf(which, sizeof(which), " %llu",
			 (unsigned long long)r->seq);
	/* The agent's words, bounded by wire_decode: shown, not trusted. */
	log_warn("agent %s: refused policy bundle%s: %s (%s); its policy revision stays %llu",
		 agent->id, which,
		 r->reason[0] ? r->reason : "no reason given",
		 strerror(-r->status), (unsigned long long)r->revision);
}

void bundle_detector_result(struct server *srv, struct agent_record *agent,
			    const Vnfsec__DetectorResult *r)
{
	(void)srv;
	/* The agent's words, bounded by wire_decode: shown, not trusted. */
	if (!r->status)
		log_info("agent %s: detector %s version %llu running (object sha256 %s)",
			 agent->id, r->name, (unsigned long long)r->version,
			 r->digest);
	else
		log_warn("agent %s: refused detector bundle%s%s: %s (%s); its running detector stays",
			 agent->id, r->name[0] ? " " : "", r->name,
			 r->reason[0] ? r->reason : "no reason given",
			 strerror(-r->status));
}
