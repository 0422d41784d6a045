// SPDX-License-Identifier: GPL-2.0-only
/*
 * Signed instructions: one accepted envelope, and every kind the agent
 * must refuse (unsigned, forged, wrong key, wrong issuer or target,
 * replayed, out of order, expired, garbage).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "kselftest_harness.h"
#include "user/common/signing.h"

#define NOW	1800000000ULL

static const uint8_t block_action[] = "drop src 10.0.0.66";

FIXTURE(signing) {
	EVP_PKEY *server, *intruder;
	struct signing_verifier v;
	struct signed_instruction in;
};

FIXTURE_SETUP(signing)
{
	self->server = EVP_EC_gen("P-256");
	self->intruder = EVP_EC_gen("P-256");
	ASSERT_NE(NULL, self->server);
	ASSERT_NE(NULL, self->intruder);
	self->v = (struct signing_verifier) {
		.trusted = self->server,
		.issuer = "secsrv-1",
		.self = "agent-7",
		.last_sequence = 41,
	};
	self->in = (struct signed_instruction) {
		.issuer = "secsrv-1",
		.target = "agent-7",
		.sequence = 42,
		.not_after = NOW + 60,
		.payload = block_action,
		.payload_len = sizeof(block_action),
	};
}

FIXTURE_TEARDOWN(signing)
{
	EVP_PKEY_free(self->server);
	EVP_PKEY_free(self->intruder);
}

/* Seal @in with @key and verify it; the verdict, with @why set. */
static int round_trip(EVP_PKEY *key, const struct signed_instruction *in,
		      struct signing_verifier *v, uint64_t now,
		      const char **why)
{
	VnfsecSigned__Body *body = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = signing_seal(key, in, &buf, &len);
	if (ret)
		return 1000 + ret;	/* not a verifier verdict */
	ret = signing_verify(v, buf, len, now, &body, why);
	signing_body_free(body);
	free(buf);
	return ret;
}

TEST_F(signing, signed_action_accepted)
{
	VnfsecSigned__Body *body = NULL;
	const char *why = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	ASSERT_EQ(0, signing_seal(self->server, &self->in, &buf, &len));
	ASSERT_EQ(0, signing_verify(&self->v, buf, len, NOW, &body, &why));
	ASSERT_EQ(42, body->sequence);
	ASSERT_EQ(sizeof(block_action), body->payload.len);
	ASSERT_EQ(0, memcmp(block_action, body->payload.data,
			    sizeof(block_action)));
	ASSERT_EQ(42, self->v.last_sequence);
	signing_body_free(body);
	free(buf);
}

TEST_F(signing, unsigned_refused)
{
	VnfsecSigned__Envelope env = VNFSEC_SIGNED__ENVELOPE__INIT;
	VnfsecSigned__Body body = VNFSEC_SIGNED__BODY__INIT;
	VnfsecSigned__Body *got = NULL;
	uint8_t packed[256], buf[512];
	const char *why = NULL;
	size_t len;

	body.issuer = "secsrv-1";
	body.target = "agent-7";
	body.sequence = 42;
	body.not_after = NOW + 60;
	env.body.len = vnfsec_signed__body__pack(&body, packed);
	env.body.data = packed;
	len = vnfsec_signed__envelope__pack(&env, buf);
	ASSERT_EQ(-ENOKEY, signing_verify(&self->v, buf, len, NOW, &got,
					  &why));
	ASSERT_EQ(NULL, got);
	TH_LOG("refused: %s", why);
}

TEST_F(signing, forged_body_refused)
{
	VnfsecSigned__Envelope *env;
	VnfsecSigned__Body *got = NULL;
	uint8_t *buf = NULL, *out;
	const char *why = NULL;
	size_t len = 0, i;

	ASSERT_EQ(0, signing_seal(self->server, &self->in, &buf, &len));
	/* Change the action inside the signed body: "drop" -> "dros". */
	env = vnfsec_signed__envelope__unpack(NULL, len, buf);
	ASSERT_NE(NULL, env);
	for (i = 0; i + 4 <= env->body.len; i++)
		if (!memcmp(env->body.data + i, "drop", 4))
			env->body.data[i + 3] = 's';
	out = malloc(vnfsec_signed__envelope__get_packed_size(env));
	ASSERT_NE(NULL, out);
	len = vnfsec_signed__envelope__pack(env, out);
	ASSERT_EQ(-EKEYREJECTED, signing_verify(&self->v, out, len, NOW, &got,
						&why));
	TH_LOG("refused: %s", why);
	ASSERT_EQ(41, self->v.last_sequence);
	vnfsec_signed__envelope__free_unpacked(env, NULL);
	free(out);
	free(buf);
}

TEST_F(signing, wrong_key_refused)
{
	const char *why = NULL;

	ASSERT_EQ(-EKEYREJECTED, round_trip(self->intruder, &self->in,
					    &self->v, NOW, &why));
	ASSERT_STREQ("signed by a key other than the trusted one", why);
}

TEST_F(signing, replayed_refused)
{
	const char *why = NULL;

	ASSERT_EQ(0, round_trip(self->server, &self->in, &self->v, NOW, &why));
	ASSERT_EQ(-EALREADY, round_trip(self->server, &self->in, &self->v,
					NOW, &why));
}

TEST_F(signing, out_of_order_refused)
{
	const char *why = NULL;

	self->in.sequence = 40;
	ASSERT_EQ(-ESTALE, round_trip(self->server, &self->in, &self->v, NOW,
				      &why));
	/* A gap forward is fine: the server may have skipped numbers. */
	self->in.sequence = 50;
	ASSERT_EQ(0, round_trip(self->server, &self->in, &self->v, NOW, &why));
}

TEST_F(signing, expired_refused)
{
	const char *why = NULL;

	self->in.not_after = NOW - 1;
	ASSERT_EQ(-ETIME, round_trip(self->server, &self->in, &self->v, NOW,
				     &why));
	ASSERT_EQ(41, self->v.last_sequence);
}

TEST_F(signing, other_target_or_issuer_refused)
{
	const char *why = NULL;

	self->in.target = "agent-8";
	ASSERT_EQ(-EPERM, round_trip(self->server, &self->in, &self->v, NOW,
				     &why));
	self->in.target = "agent-7";
	self->in.issuer = "secsrv-2";
	ASSERT_EQ(-EPERM, round_trip(self->server, &self->in, &self->v, NOW,
				     &why));
}

TEST_F(signing, garbage_refused)
{
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01 };
	VnfsecSigned__Body *got = NULL;
	const char *why = NULL;
	uint8_t *big;

	ASSERT_EQ(-EBADMSG, signing_verify(&self->v, junk, sizeof(junk), NOW,
					   &got, &why));
	big = calloc(1, SIGNED_ENVELOPE_MAX + 1);
	ASSERT_NE(NULL, big);
	ASSERT_EQ(-EMSGSIZE, signing_verify(&self->v, big,
					    SIGNED_ENVELOPE_MAX + 1, NOW,
					    &got, &why));
	free(big);
}

TEST_HARNESS_MAIN
