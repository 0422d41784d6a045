// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

static const char *validate(const Vnfsec__Frame *f)
{
	const Vnfsec__Assessment *a;
	const Vnfsec__Action *act;

	if (f->version != WIRE_VERSION)
		return "unsupported protocol version";
	switch (f->body_case) {
	case VNFSEC__FRAME__BODY_HELLO:
		if (!agent_id_ok(f->hello->agent_id))
			return "hello: bad agent id";
		return NULL;
	case VNFSEC__FRAME__BODY_ASSESSMENT:
		a = f->assessment;
		if (a->id == 0)
			return "assessment: id 0";
		if (a->heuristic == VNFSEC__HEURISTIC__HEURISTIC_UNSPECIFIED ||
		    !protobuf_c_enum_descriptor_get_value(
			    &vnfsec__heuristic__descriptor, a->heuristic))
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
		return NULL;
	case VNFSEC__FRAME__BODY_ACK:
		return f->ack->assessment_id ? NULL : "ack: id 0";
	case VNFSEC__FRAME__BODY_ACTION:
		act = f->action;
		if (act->seq == 0)
			return "action: sequence 0";
		if (act->type != VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE)
			return "action: unknown type";
		if (act->src_addr.len != 4)
			return "action: only IPv4 sources can be blocked";
		if (act->prefix_len < 1 || act->prefix_len > 32)
			return "action: prefix length out of 1..32";
		return NULL;
	case VNFSEC__FRAME__BODY_ACTION_RESULT:
		if (!f->action_result->seq)
			return "action result: seq 0";
		if (f->action_result->status > 0 ||
		    f->action_result->status < -4095)
			return "action result: status not 0 or -errno";
		return NULL;
	case VNFSEC__FRAME__BODY_HEARTBEAT:
		return NULL;
	default:
		return "no known message in frame";
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
