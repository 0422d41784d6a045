/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Alerts as JSON lines close to Suricata's EVE format, so the tools that
 * read EVE (jq, Filebeat, a SIEM) read ours: every fact is a field. One
 * writer for the server's alert log and the standalone agent's --eve
 * file, so both carry the same fields for the same assessment.
 */
#ifndef VNFSEC_EVE_H
#define VNFSEC_EVE_H

#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include "user/common/wire.h"

/* An event with "timestamp", "event_type" and (when not NULL) "agent_id". */
json_object *eve_event_new(const char *agent_id, const char *type);

/*
 * An assessment as an alert event, in two steps so the server can put
 * its own facts about the agent between them: eve_alert_flow() adds the
 * flow fields (addresses, ports, proto, in_iface); eve_alert_body() the
 * encapsulation, "alert" and "vnfsec" objects, and returns "vnfsec"
 * (owned by @ev) for the caller's additions.
 */
void eve_alert_flow(json_object *ev, const Vnfsec__Assessment *a);
json_object *eve_alert_body(json_object *ev, const Vnfsec__Assessment *a);

/* Field helpers; every @key is a string literal added once per object. */
void eve_put(json_object *o, const char *key, json_object *v);
void eve_add_str(json_object *o, const char *key, const char *v);
void eve_add_u64(json_object *o, const char *key, uint64_t v);
void eve_add_int(json_object *o, const char *key, int64_t v);
/* "YYYY-MM-DDTHH:MM:SS+0000" */
void eve_add_time(json_object *o, const char *key, time_t t);
/* An address of @len bytes (4 or 16) as text. */
void eve_add_raw_addr(json_object *o, const char *key, const uint8_t *addr,
		      size_t len);
/* src_ip, src_port, dest_ip, dest_port, proto (its name, else number). */
void eve_add_flow(json_object *o, const uint8_t *src, size_t src_len,
		  unsigned int src_port, const uint8_t *dst, size_t dst_len,
		  unsigned int dst_port, unsigned int proto);
/* "TCP", "UDP", ... or NULL for a protocol EVE has no name for. */
const char *eve_proto_name(unsigned int proto);

#endif /* VNFSEC_EVE_H */
