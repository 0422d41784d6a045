/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's own state (state.c, docs/trust.md): the last accepted
 * signed action and policy bundle, and the policy of that bundle. With a
 * TPM (--tpm) it is one file sealed to the TPM's PCRs and dated by its NV
 * counter, so a copied-back older file, a changed boot state or an
 * altered file stops the agent at start; without one, the sequences are
 * plain files in the spool directory (the weaker mode).
 */
#ifndef VNFSEC_AGENT_STATE_H
#define VNFSEC_AGENT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/agent/agent.h"

#define AGENT_STATE_FILE	"agent.state"	/* in --spool-dir */
#define AGENT_STATE_PCRS	(1U << 0 | 1U << 7)	/* firmware, Secure Boot */

/* Bytes the state owns (malloc'ed). */
struct agent_blob {
	uint8_t *data;
	size_t len;
};

#define AGENT_DETECTORS_MAX	8

/* A pushed detector (detectors.c): tpm/state.proto's DetectorState. */
struct agent_detector_state {
	char name[32];
	uint64_t highest;		/* every version <= this is refused */
	struct agent_blob running;	/* SHA-256 of the payload in force */
	struct agent_blob previous;	/* of the one before it */
};

struct agent_state {
	uint64_t action_seq;		/* last accepted signed action */
	uint64_t bundle_seq;		/* last accepted policy bundle */
	uint64_t policy_bundle_seq;	/* bundle whose policy is in force */
	char *policy;			/* its YAML text; NULL: none */
	size_t policy_len;
	/* Sealed state only (--tpm): without it a restart forgets them. */
	uint64_t detector_seq;		/* last accepted detector bundle */
	unsigned int nr_detectors;
	struct agent_detector_state detectors[AGENT_DETECTORS_MAX];
};

struct agent_store;

/*
 * Where the state lives for @cfg (sealed with --tpm, else plain files),
 * loaded into agent_store_state(). Any refusal (rollback, changed boot
 * state, altered file, unreachable TPM) has been logged as one line that
 * says what to do; the agent must not start.
 */
int agent_store_open(const struct agent_config *cfg, const char *agent_id,
		     struct agent_store **out);
struct agent_state *agent_store_state(struct agent_store *s);
bool agent_store_sealed(const struct agent_store *s);
/*
 * Record the state now, before what it accepts is carried out, so that
 * a restart never carries out an instruction twice.
 */
int agent_store_save(struct agent_store *s);
/*
 * At start: put the policy of the last signed bundle back in force
 * (with --bundle-key): 1 when it is, 0 when there is none or it does
 * not apply (logged; the caller applies --policy).
 */
int agent_store_apply_policy(struct agent_store *s, struct event_ctx *ev);
/* Replace the bundle policy kept in the state (not saved yet). */
int agent_state_set_policy(struct agent_state *st, uint64_t seq,
			   const void *text, size_t len);
void agent_store_close(struct agent_store *s);

/* --state-pcrs: "0,7" into a PCR mask. */
int agent_state_parse_pcrs(const char *arg, uint32_t *mask);

#endif /* VNFSEC_AGENT_STATE_H */
