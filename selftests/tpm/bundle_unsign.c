// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper: what an attacker who cannot sign makes of a bundle. Reads
 * a signed envelope on stdin and writes it to stdout with its signature
 * removed ("unsigned") or with one byte of its policy changed ("forged"),
 * both through the generated protobuf-c code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/common/signed.pb-c.h"
#include "user/common/signing.h"

int main(int argc, char **argv)
{
	static uint8_t in[SIGNED_ENVELOPE_MAX + 1];
	VnfsecSigned__Envelope *env;
	VnfsecSigned__Body *body = NULL;
	ProtobufCBinaryData orig;
	uint8_t *out, *packed = NULL;
	size_t n, len;

	if (argc != 2 || (strcmp(argv[1], "unsigned") &&
			  strcmp(argv[1], "forged"))) {
		fprintf(stderr, "usage: bundle_unsign unsigned|forged <in >out\n");
		return 2;
	}
	n = fread(in, 1, sizeof(in), stdin);
	env = vnfsec_signed__envelope__unpack(NULL, n, in);
	if (!env) {
		fprintf(stderr, "bundle_unsign: stdin is not an envelope\n");
		return 1;
	}
	orig = env->body;
	if (!strcmp(argv[1], "unsigned")) {
		env->signature.len = 0;
	} else {
		body = vnfsec_signed__body__unpack(NULL, env->body.len,
						   env->body.data);
		if (!body || !body->payload.len) {
			fprintf(stderr, "bundle_unsign: no policy in the body\n");
			return 1;
		}
		/* The YAML's first byte is a comment's '#': make it a space. */
		body->payload.data[0] ^= '#' ^ ' ';
		len = vnfsec_signed__body__get_packed_size(body);
		packed = malloc(len);
		if (!packed)
			return 1;
		vnfsec_signed__body__pack(body, packed);
		env->body.data = packed;
		env->body.len = len;
	}
	len = vnfsec_signed__envelope__get_packed_size(env);
	out = malloc(len);
	if (!out)
		return 1;
	vnfsec_signed__envelope__pack(env, out);
	fwrite(out, 1, len, stdout);
	free(out);
	free(packed);
	if (body)
		vnfsec_signed__body__free_unpacked(body, NULL);
	/* protobuf-c frees what it allocated, not our repacked body. */
	env->body = orig;
	vnfsec_signed__envelope__free_unpacked(env, NULL);
	return 0;
}
