// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/signing.h"
#include "user/common/wire.h"

int wire_encode(const Vnfsec__Frame *f, uint8_t **out, size_t *out_len)
{
	size_t len = vnfsec__frame__get_packed_size(f);
	uint8_t *buf;

	if (len > WIRE_FRAME_MAX)
		return -EMSGSIZE;
	buf = malloc(WIRE_HDR_LEN + len);
	if (!buf)
		return -ENOMEM;
	buf[0] = len >> 24;
	buf[1] = len >> 16;
	buf[2] = len >> 8;
	buf[3] = len;
	vnfsec__frame__pack(f, buf + WIRE_HDR_LEN);
	*out = buf;
	*out_len = WIRE_HDR_LEN + len;
	return 0;
}

static bool addr_ok(const ProtobufCBinaryData *a)
{
	return a->len == 4 || a->len == 16;
}

static bool agent_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > WIRE_AGENT_ID_MAX)
		return false;
	for (; *id; id++)
		if (!isalnum((unsigned char)*id) && !strchr("-_.", *id))
			return false;
	return true;
}

static const char *validate_flow(const Vnfsec__FlowTuple *t)
{
	if (!t)
		return NULL;
	if (!addr_ok(&t->src_addr) || t->dst_addr.len != t->src_addr.len)
		return "flow: addresses not both 4 or both 16 bytes";
	if (t->src_port > 65535 || t->dst_port > 65535 || t->proto > 255)
		return "flow: port or protocol out of range";
	return NULL;
}

/* VLAN tags a walk may report (bpf/ walks 3), and a tunnel's outer flow. */
static const char *validate_encap(const Vnfsec__Assessment *a)
{
	size_t i;

	if (a->n_vlan_ids > WIRE_VLANS_MAX)
		return "assessment: too many VLAN ids";
	for (i = 0; i < a->n_vlan_ids; i++)
		if (a->vlan_ids[i] < 1 || a->vlan_ids[i] > 4094)
			return "assessment: VLAN id out of 1..4094";
	if (a->tunnel && !a->tunnel->outer)
		return "assessment: tunnel without its outer flow";
	return a->tunnel ? validate_flow(a->tunnel->outer) : NULL;
}

static const char *validate_evidence(const Vnfsec__Assessment *a)
{
	size_t i;

	if (a->n_evidence > WIRE_EVIDENCE_MAX)
		return "assessment: too many evidence items";
	for (i = 0; i < a->n_evidence; i++) {
		const Vnfsec__Evidence *e = a->evidence[i];

		if (!*e->name || strlen(e->name) > WIRE_NAME_MAX)
			return "assessment: evidence name empty or too long";
		if (strlen(e->text) > WIRE_TEXT_MAX)
			return "assessment: evidence text too long";
	}
	return NULL;
}

static bool heuristic_ok(Vnfsec__Heuristic h)
{
	return h != VNFSEC__HEURISTIC__HEURISTIC_UNSPECIFIED &&
	       protobuf_c_enum_descriptor_get_value(
			&vnfsec__heuristic__descriptor, h);
}

/*
 * Drop causes become Prometheus label values on the server: only the
 * fast path's counter names ("drop_" and [a-z0-9_]), a bounded number.
 */
static const char *validate_heartbeat(const Vnfsec__Heartbeat *hb)
{
	size_t i, len;

	if (hb->n_drops > WIRE_DROP_CAUSES_MAX)
		return "heartbeat: too many drop causes";
	for (i = 0; i < hb->n_drops; i++) {
		const char *c = hb->drops[i]->cause;

		len = strlen(c);
		if (len <= 5 || len > WIRE_DROP_CAUSE_MAX ||
		    strncmp(c, "drop_", 5) ||
		    strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
			return "heartbeat: a drop cause is not a drop_* counter name";
	}
	return NULL;
}

static const char *validate_summary(const Vnfsec__IncidentSummary *s)
{
	if (!s->id || !s->revision)
		return "incident summary: id or revision 0";
	if (!heuristic_ok(s->heuristic))
		return "incident summary: unknown heuristic";
	if (s->severity < 1 || s->severity > 10)
		return "incident summary: severity out of 1..10";
	if (s->state == VNFSEC__INCIDENT_STATE__INCIDENT_UNSPECIFIED ||
	    !protobuf_c_enum_descriptor_get_value(
		    &vnfsec__incident_state__descriptor, s->state))
		return "incident summary: unknown state";
	if (s->src_addr.len && !addr_ok(&s->src_addr))
		return "incident summary: address not 4 or 16 bytes";
	if (s->dst_port > 65535)
		return "incident summary: port out of range";
	if (s->first_seen_ms > s->last_seen_ms)
		return "incident summary: last seen before first seen";
	if (strlen(s->indicator_source) > WIRE_NAME_MAX)
		return "incident summary: indicator source too long";
	return NULL;
}

/*
 * protobuf-c keeps fields it does not know (a newer peer's additions, as
 * they must be tolerated) but also accepts field number 0, which no
 * encoder may produce and its own decoder refuses when it is sent on:
 * refuse such frames here, in every nested message.
 */
static bool unknown_fields_ok(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i;
	size_t j;

	if (depth > 8)
		return false;
	for (j = 0; j < m->n_unknown_fields; j++)
		if (m->unknown_fields[j].tag == 0)
			return false;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *at = (const char *)m + fd->offset;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m +
						     fd->quantifier_offset);
			ProtobufCMessage *const *v =
				*(ProtobufCMessage *const *const *)at;

			for (j = 0; j < n; j++)
				if (!unknown_fields_ok(v[j], depth + 1))
					return false;
		} else if (*(ProtobufCMessage *const *)at) {
			/* A oneof member not chosen may alias another one. */
			if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)((const char *)m +
						fd->quantifier_offset) !=
			    fd->id)
				continue;
			if (!unknown_fields_ok(*(ProtobufCMessage *const *)at,
					       depth + 1))
				return false;
		}
	}
	return true;
}

/* Each type carries its own target: a prefix, a flow or a VNF name. */
const char *wire_check_action(const Vnfsec__Action *act)
{
	if (act->seq == 0)
		return "action: sequence 0";
	switch (act->type) {
	case VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE:
	case VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE:
		if (!addr_ok(&act->src_addr))
			return "action: source address not 4 or 16 bytes";
		if (act->prefix_len < 1 ||
		    act->prefix_len > act->src_addr.len * 8)
			return "action: prefix length out of 1..32 (IPv4) or 1..128 (IPv6)";
		return NULL;
	case VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE:
		if (!addr_ok(&act->src_addr))
			return "action: source address not 4 or 16 bytes";
		if (act->prefix_len < 1 ||
		    act->prefix_len > act->src_addr.len * 8)
			return "action: prefix length out of 1..32 (IPv4) or 1..128 (IPv6)";
		if (!act->rate_pps)
			return "action: rate limit without a rate";
		return NULL;
	case VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW:
	case VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW:
	case VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW:
		if (!act->flow)
			return "action: flow action without a flow";
		return validate_flow(act->flow);
	case VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF:
	case VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF:
		if (!act->vnf || !act->vnf[0] || strlen(act->vnf) > WIRE_NAME_MAX)
			return "action: VNF name empty or too long";
		return NULL;
	default:
		return "action: unknown type";
	}
}

static bool blob_ok(const ProtobufCBinaryData *b, size_t min, size_t max)
{
	return b->len >= min && b->len <= max;
}

static bool pcr_mask_ok(uint32_t mask)
{
	return mask && mask < (1U << WIRE_PCR_COUNT);
}

static const char *validate_pcrs(size_t n, const ProtobufCBinaryData *v)
{
	size_t i;

	if (n > WIRE_PCR_COUNT)
		return "more PCR values than PCRs";
	for (i = 0; i < n; i++)
		if (v[i].len != WIRE_PCR_LEN)
			return "a PCR value is not 32 bytes";
	return NULL;
}

/* Enrollment and quotes: sizes only; what they prove is tpm/'s to judge. */
static const char *validate_trust(const Vnfsec__Frame *f)
{
	const Vnfsec__EnrollRequest *rq = f->enroll_request;
	const Vnfsec__EnrollChallenge *ch = f->enroll_challenge;
	const Vnfsec__EnrollProof *pr = f->enroll_proof;
	const Vnfsec__EnrollResult *rs = f->enroll_result;
	const Vnfsec__QuoteRequest *qr = f->quote_request;
	const Vnfsec__QuoteResponse *qa = f->quote_response;

	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_ENROLL_REQUEST:
		if (!agent_id_ok(rq->agent_id))
			return "enroll request: bad agent id";
		if (!blob_ok(&rq->ek_cert, 1, WIRE_CERT_MAX) ||
		    !blob_ok(&rq->ek_public, 1, WIRE_TPM_PUBLIC_MAX) ||
		    !blob_ok(&rq->ak_public, 1, WIRE_TPM_PUBLIC_MAX))
			return "enroll request: a key or certificate empty or too long";
		return NULL;
	case VNFSEC__FRAME__BODY_ENROLL_CHALLENGE:
		if (!blob_ok(&ch->credential, 1, WIRE_CREDENTIAL_MAX) ||
		    !blob_ok(&ch->nonce, WIRE_NONCE_MIN, WIRE_NONCE_MAX) ||
		    !pcr_mask_ok(ch->pcr_mask))
			return "enroll challenge: credential, nonce or PCR set out of range";
		return NULL;
	case VNFSEC__FRAME__BODY_ENROLL_PROOF:
		if (!blob_ok(&pr->secret, 1, WIRE_SECRET_MAX) ||
		    !blob_ok(&pr->quote_attest, 1, WIRE_ATTEST_MAX) ||
		    !blob_ok(&pr->quote_signature, 1, WIRE_SIGNATURE_MAX) ||
		    !blob_ok(&pr->csr, 1, WIRE_CERT_MAX))
			return "enroll proof: a field empty or too long";
		/* The TLS key's certification comes whole or not at all. */
		if ((pr->tls_key_public.len || pr->certify_info.len ||
		     pr->certify_signature.len) &&
		    (!blob_ok(&pr->tls_key_public, 1, WIRE_TPM_PUBLIC_MAX) ||
		     !blob_ok(&pr->certify_info, 1, WIRE_ATTEST_MAX) ||
		     !blob_ok(&pr->certify_signature, 1, WIRE_SIGNATURE_MAX)))
			return "enroll proof: TLS key certification incomplete or too long";
		return validate_pcrs(pr->n_pcr_values, pr->pcr_values);
	case VNFSEC__FRAME__BODY_ENROLL_RESULT:
		if (rs->status > 0 || rs->status < -4095)
			return "enroll result: status not 0 or -errno";
		if (strlen(rs->reason) > WIRE_TEXT_MAX ||
		    rs->client_cert.len > WIRE_CERT_MAX)
			return "enroll result: reason or certificate too long";
		if (!rs->status && !rs->client_cert.len)
			return "enroll result: success without a certificate";
		return NULL;
	case VNFSEC__FRAME__BODY_QUOTE_REQUEST:
		if (!blob_ok(&qr->nonce, WIRE_NONCE_MIN, WIRE_NONCE_MAX) ||
		    !pcr_mask_ok(qr->pcr_mask))
			return "quote request: nonce or PCR set out of range";
		return NULL;
	case VNFSEC__FRAME__BODY_QUOTE_RESPONSE:
		if (!blob_ok(&qa->quote_attest, 1, WIRE_ATTEST_MAX) ||
		    !blob_ok(&qa->quote_signature, 1, WIRE_SIGNATURE_MAX))
			return "quote response: quote empty or too long";
		return validate_pcrs(qa->n_pcr_values, qa->pcr_values);
	case VNFSEC__FRAME__BODY_POLICY_BUNDLE:
		/* Its signature and contents are the agent's to judge. */
		if (!blob_ok(&f->policy_bundle->envelope, 1,
			     SIGNED_ENVELOPE_MAX))
			return "policy bundle: envelope empty or too long";
		return NULL;
	case VNFSEC__FRAME__BODY_BUNDLE_RESULT:
		if (f->bundle_result->status > 0 ||
		    f->bundle_result->status < -4095)
			return "bundle result: status not 0 or -errno";
		if (strlen(f->bundle_result->reason) > WIRE_TEXT_MAX)
			return "bundle result: reason too long";
		return NULL;
	case VNFSEC__FRAME__BODY_DETECTOR_BUNDLE:
		/* As a policy bundle: the agent judges it. */
		if (!blob_ok(&f->detector_bundle->envelope, 1,
			     SIGNED_ENVELOPE_MAX))
			return "detector bundle: envelope empty or too long";
		return NULL;
	case VNFSEC__FRAME__BODY_DETECTOR_RESULT:
		if (f->detector_result->status > 0 ||
		    f->detector_result->status < -4095)
			return "detector result: status not 0 or -errno";
		if (strlen(f->detector_result->reason) > WIRE_TEXT_MAX ||
		    strlen(f->detector_result->name) > WIRE_TEXT_MAX ||
		    strlen(f->detector_result->digest) > WIRE_TEXT_MAX)
			return "detector result: text too long";
		return NULL;
	default:
		return "no known message in frame";
	}
}

static const char *validate(const Vnfsec__Frame *f)
{
	const Vnfsec__Assessment *a;

	if (f->version != WIRE_VERSION)
		return "unsupported protocol version";
	if (!unknown_fields_ok(&f->base, 0))
		return "field number 0";
	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_HELLO:
		if (!agent_id_ok(f->hello->agent_id))
			return "hello: bad agent id";
		return NULL;
	case VNFSEC__FRAME__BODY_ASSESSMENT:
		a = f->assessment;
		if (a->id == 0)
			return "assessment: id 0";
		if (!heuristic_ok(a->heuristic))
			return "assessment: unknown heuristic";
		if (a->severity < 1 || a->severity > 10)
			return "assessment: severity out of 1..10";
		if (!addr_ok(&a->src_addr) || !addr_ok(&a->dst_addr))
			return "assessment: address not 4 or 16 bytes";
		if (a->dst_port > 65535)
			return "assessment: port out of range";
		if (a->src_count > a->count)
			return "assessment: src_count above count";
		if (strlen(a->iface) > 15)
			return "assessment: interface name too long";
		if (strlen(a->vnf_src) > WIRE_NAME_MAX ||
		    strlen(a->vnf_dst) > WIRE_NAME_MAX)
			return "assessment: VNF name too long";
		if (validate_flow(a->flow))
			return validate_flow(a->flow);
		if (validate_encap(a))
			return validate_encap(a);
		return validate_evidence(a);
	case VNFSEC__FRAME__BODY_ACK:
		return f->ack->assessment_id ? NULL : "ack: id 0";
	case VNFSEC__FRAME__BODY_ACTION:
		return wire_check_action(f->action);
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
		if (!f->action_result->seq)
			return "action result: seq 0";
		if (f->action_result->status > 0 ||
		    f->action_result->status < -4095)
			return "action result: status not 0 or -errno";
		return NULL;
	case VNFSEC__FRAME__BODY_HEARTBEAT:
		return validate_heartbeat(f->heartbeat);
	case VNFSEC__FRAME__BODY_SIGNED_ACTION:
		/* Its signature and contents are the verifier's to judge. */
		if (!f->signed_action->envelope.len ||
		    f->signed_action->envelope.len > SIGNED_ENVELOPE_MAX)
			return "signed action: envelope empty or too long";
		return NULL;
	case VNFSEC__FRAME__BODY_INCIDENT_SUMMARY:
		return validate_summary(f->incident_summary);
	case VNFSEC__FRAME__BODY_SUMMARY_ACK:
		if (!f->summary_ack->incident_id || !f->summary_ack->revision)
			return "summary ack: id or revision 0";
		return NULL;
	default:
		return validate_trust(f);
	}
}

int wire_decode(const uint8_t *buf, size_t len, Vnfsec__Frame **out,
		const char **why)
{
	Vnfsec__Frame *f;

	*out = NULL;
	if (len > WIRE_FRAME_MAX) {
		*why = "frame longer than the maximum";
		return -EMSGSIZE;
	}
	f = vnfsec__frame__unpack(NULL, len, buf);
	if (!f) {
		*why = "not a vnfsec frame";
		return -EBADMSG;
	}
	*why = validate(f);
	if (*why) {
		vnfsec__frame__free_unpacked(f, NULL);
		return -EPROTO;
	}
	*out = f;
	return 0;
}

void wire_free(Vnfsec__Frame *f)
{
	if (f)
		vnfsec__frame__free_unpacked(f, NULL);
}

const char *wire_addr_str(const ProtobufCBinaryData *addr, char *buf,
			  size_t len)
{
	int af = addr->len == 4 ? AF_INET : AF_INET6;

	if (!addr_ok(addr) || !inet_ntop(af, addr->data, buf, len))
		return "?";
	return buf;
}
