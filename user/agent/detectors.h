/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pushed detectors on the agent (detectors.c, docs/detectors.md): signed
 * bundles verified, loaded and put in the fast path's slots; their
 * versions kept in the agent's sealed state; rollback; the control
 * socket's view; their events turned into assessments.
 */
#ifndef VNFSEC_AGENT_DETECTORS_H
#define VNFSEC_AGENT_DETECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "user/agent/agent.h"

struct detectors;
struct agent_store;
struct vnfsec_ext_detector_record;

/*
 * Opens the fast path's detector slots (the pins under --pin-dir), fills
 * the finish slots when this agent loaded the fast path, and puts the
 * detectors of the sealed state back in force. NULL only without memory;
 * a fast path without slots is logged, and every bundle then refused.
 */
struct detectors *detectors_open(const struct agent_config *cfg,
				 const struct sensor *s,
				 struct agent_store *store,
				 const char *agent_id);
void detectors_close(struct detectors *d);

/*
 * A DetectorBundle's envelope: verified, judged, loaded and installed.
 * 0 or -errno; *name, *version, digest (hex) and why (a line, or the
 * verifier log's end) describe it for the answer to the server.
 */
int detectors_accept(struct detectors *d, const uint8_t *env, size_t len,
		     char *name, size_t name_len, uint64_t *version,
		     char *digest, size_t digest_len, char *why,
		     size_t why_len);

/* The control socket's "detectors" and "detector.rollback". */
json_object *detectors_control(struct detectors *d, const char *cmd,
			       json_object *args, int *err, const char **why);

/* A pushed detector's event record: an assessment. */
void detectors_event(struct event_ctx *ev,
		     const struct vnfsec_ext_detector_record *r);

#endif /* VNFSEC_AGENT_DETECTORS_H */
