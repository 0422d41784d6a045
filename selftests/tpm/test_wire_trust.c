// SPDX-License-Identifier: GPL-2.0-only
/*
 * The enrollment and quote frames through wire_decode(): each one well
 * formed decodes, and each bound on a field an attacker controls refuses
 * the frame before enroll.c or attest.c sees it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "user/common/signing.h"
#include "user/common/wire.h"

static uint8_t bytes[SIGNED_ENVELOPE_MAX + 16];

static ProtobufCBinaryData blob(size_t len)
{
	return (ProtobufCBinaryData){ len, bytes };
}

/* Encode @f as a peer would, decode it as we do: 0 or the errno. */
static int roundtrip(Vnfsec__Frame *f, const char **why)
{
	Vnfsec__Frame *out = NULL;
	uint8_t *buf;
	size_t len;
	int ret;

	f->version = WIRE_VERSION;
	*why = NULL;
	ret = wire_encode(f, &buf, &len);
	if (ret)
		return ret;
	ret = wire_decode(buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN, &out, why);
	wire_free(out);
	free(buf);
	return ret;
}

FIXTURE(frames) {
	Vnfsec__Frame f;
	Vnfsec__EnrollRequest rq;
	Vnfsec__EnrollChallenge ch;
	Vnfsec__EnrollProof pr;
	Vnfsec__EnrollResult rs;
	Vnfsec__QuoteRequest qr;
	Vnfsec__QuoteResponse qa;
	ProtobufCBinaryData pcrs[25];
	const char *why;
};

/* One well-formed frame of each kind, for the cases to break. */
FIXTURE_SETUP(frames)
{
	unsigned int i;

	memset(bytes, 0xa5, sizeof(bytes));
	vnfsec__frame__init(&self->f);
	vnfsec__enroll_request__init(&self->rq);
	self->rq.agent_id = "agent-1";
	self->rq.ek_cert = blob(900);
	self->rq.ek_public = blob(314);
	self->rq.ak_public = blob(90);
	vnfsec__enroll_challenge__init(&self->ch);
	self->ch.credential = blob(330);
	self->ch.nonce = blob(32);
	self->ch.pcr_mask = 0x81;
	vnfsec__enroll_proof__init(&self->pr);
	for (i = 0; i < 25; i++)
		self->pcrs[i] = blob(32);
	self->pr.secret = blob(32);
	self->pr.quote_attest = blob(145);
	self->pr.quote_signature = blob(72);
	self->pr.pcr_values = self->pcrs;
	self->pr.n_pcr_values = 2;
	self->pr.csr = blob(250);
	vnfsec__enroll_result__init(&self->rs);
	self->rs.client_cert = blob(500);
	vnfsec__quote_request__init(&self->qr);
	self->qr.nonce = blob(32);
	self->qr.pcr_mask = 0x81;
	vnfsec__quote_response__init(&self->qa);
	self->qa.quote_attest = blob(145);
	self->qa.quote_signature = blob(72);
	self->qa.pcr_values = self->pcrs;
	self->qa.n_pcr_values = 2;
}

FIXTURE_TEARDOWN(frames)
{
}

static int req(FIXTURE_DATA(frames) *self)
{
	self->f.body_case = VNFSEC__FRAME__BODY_ENROLL_REQUEST;
	self->f.enroll_request = &self->rq;
	return roundtrip(&self->f, &self->why);
}

static int chal(FIXTURE_DATA(frames) *self)
{
	self->f.body_case = VNFSEC__FRAME__BODY_ENROLL_CHALLENGE;
	self->f.enroll_challenge = &self->ch;
	return roundtrip(&self->f, &self->why);
}

static int proof(FIXTURE_DATA(frames) *self)
{
	self->f.body_case = VNFSEC__FRAME__BODY_ENROLL_PROOF;
	self->f.enroll_proof = &self->pr;
	return roundtrip(&self->f, &self->why);
}

static int result(FIXTURE_DATA(frames) *self)
{
	self->f.body_case = VNFSEC__FRAME__BODY_ENROLL_RESULT;
	self->f.enroll_result = &self->rs;
	return roundtrip(&self->f, &self->why);
}

static int qreq(FIXTURE_DATA(frames) *self)
{
	self->f.body_case = VNFSEC__FRAME__BODY_QUOTE_REQUEST;
	self->f.quote_request = &self->qr;
	return roundtrip(&self->f, &self->why);
}

static int qresp(FIXTURE_DATA(frames) *self)
{
	self->f.body_case = VNFSEC__FRAME__BODY_QUOTE_RESPONSE;
	self->f.quote_response = &self->qa;
	return roundtrip(&self->f, &self->why);
}

TEST_F(frames, well_formed_trust_frames_decode)
{
	ASSERT_EQ(0, req(self));
	ASSERT_EQ(0, chal(self));
	ASSERT_EQ(0, proof(self));
	ASSERT_EQ(0, result(self));
	ASSERT_EQ(0, qreq(self));
	ASSERT_EQ(0, qresp(self));
	/* A refusal carries no certificate. */
	self->rs.status = -EACCES;
	self->rs.reason = "PCR digest differs";
	self->rs.client_cert = blob(0);
	ASSERT_EQ(0, result(self));
}

TEST_F(frames, enroll_request_bounds)
{
	self->rq.agent_id = "agent/../1";
	ASSERT_EQ(-EPROTO, req(self));
	TH_LOG("%s", self->why);
	self->rq.agent_id = "agent-1";
	self->rq.ek_cert = blob(0);
	ASSERT_EQ(-EPROTO, req(self));
	self->rq.ek_cert = blob(WIRE_CERT_MAX + 1);
	ASSERT_EQ(-EPROTO, req(self));
	self->rq.ek_cert = blob(900);
	self->rq.ak_public = blob(WIRE_TPM_PUBLIC_MAX + 1);
	ASSERT_EQ(-EPROTO, req(self));
}

TEST_F(frames, challenge_and_quote_request_bounds)
{
	self->ch.nonce = blob(WIRE_NONCE_MIN - 1);	/* guessable */
	ASSERT_EQ(-EPROTO, chal(self));
	self->ch.nonce = blob(32);
	self->ch.pcr_mask = 0;
	ASSERT_EQ(-EPROTO, chal(self));
	self->ch.pcr_mask = 1U << 24;
	ASSERT_EQ(-EPROTO, chal(self));
	self->ch.pcr_mask = 0x81;
	self->ch.credential = blob(WIRE_CREDENTIAL_MAX + 1);
	ASSERT_EQ(-EPROTO, chal(self));
	self->qr.nonce = blob(WIRE_NONCE_MAX + 1);
	ASSERT_EQ(-EPROTO, qreq(self));
	self->qr.nonce = blob(32);
	self->qr.pcr_mask = 0;
	ASSERT_EQ(-EPROTO, qreq(self));
}

TEST_F(frames, proof_and_quote_response_bounds)
{
	self->pr.secret = blob(WIRE_SECRET_MAX + 1);
	ASSERT_EQ(-EPROTO, proof(self));
	self->pr.secret = blob(32);
	self->pr.csr = blob(0);
	ASSERT_EQ(-EPROTO, proof(self));
	self->pr.csr = blob(250);
	self->pcrs[1] = blob(31);
	ASSERT_EQ(-EPROTO, proof(self));
	ASSERT_EQ(-EPROTO, qresp(self));
	self->pcrs[1] = blob(32);
	self->pr.n_pcr_values = 25;
	ASSERT_EQ(-EPROTO, proof(self));
	self->qa.quote_signature = blob(WIRE_SIGNATURE_MAX + 1);
	ASSERT_EQ(-EPROTO, qresp(self));
	self->qa.quote_signature = blob(72);
	self->qa.quote_attest = blob(0);
	ASSERT_EQ(-EPROTO, qresp(self));
}

TEST_F(frames, proof_tls_key_certification_bounds)
{
	/* None of the three: an uncertified proof still decodes. */
	ASSERT_EQ(0, proof(self));
	self->pr.tls_key_public = blob(90);
	self->pr.certify_info = blob(160);
	self->pr.certify_signature = blob(72);
	ASSERT_EQ(0, proof(self));
	/* Part of it only: refused. */
	self->pr.certify_signature = blob(0);
	ASSERT_EQ(-EPROTO, proof(self));
	ASSERT_NE(NULL, strstr(self->why, "certification"));
	self->pr.certify_signature = blob(72);
	self->pr.tls_key_public = blob(0);
	ASSERT_EQ(-EPROTO, proof(self));
	/* Each one too long: refused. */
	self->pr.tls_key_public = blob(WIRE_TPM_PUBLIC_MAX + 1);
	ASSERT_EQ(-EPROTO, proof(self));
	self->pr.tls_key_public = blob(90);
	self->pr.certify_info = blob(WIRE_ATTEST_MAX + 1);
	ASSERT_EQ(-EPROTO, proof(self));
	self->pr.certify_info = blob(160);
	self->pr.certify_signature = blob(WIRE_SIGNATURE_MAX + 1);
	ASSERT_EQ(-EPROTO, proof(self));
	self->pr.certify_signature = blob(WIRE_SIGNATURE_MAX);
	ASSERT_EQ(0, proof(self));
}

TEST_F(frames, enroll_result_bounds)
{
	self->rs.status = 1;
	ASSERT_EQ(-EPROTO, result(self));
	self->rs.status = -5000;
	ASSERT_EQ(-EPROTO, result(self));
	self->rs.status = 0;
	self->rs.client_cert = blob(0);		/* success, but nothing */
	ASSERT_EQ(-EPROTO, result(self));
	self->rs.client_cert = blob(WIRE_CERT_MAX + 1);
	ASSERT_EQ(-EPROTO, result(self));
}

/* Policy bundles: sizes here, signatures are the agent's to judge. */
TEST_F(frames, policy_bundle_and_result_bounds)
{
	Vnfsec__PolicyBundle pb = VNFSEC__POLICY_BUNDLE__INIT;
	Vnfsec__BundleResult br = VNFSEC__BUNDLE_RESULT__INIT;

	self->f.body_case = VNFSEC__FRAME__BODY_POLICY_BUNDLE;
	self->f.policy_bundle = &pb;
	pb.envelope = blob(700);
	ASSERT_EQ(0, roundtrip(&self->f, &self->why));
	pb.envelope = blob(SIGNED_ENVELOPE_MAX);
	ASSERT_EQ(0, roundtrip(&self->f, &self->why));
	pb.envelope = blob(SIGNED_ENVELOPE_MAX + 1);
	ASSERT_EQ(-EPROTO, roundtrip(&self->f, &self->why));
	pb.envelope = blob(0);
	ASSERT_EQ(-EPROTO, roundtrip(&self->f, &self->why));

	self->f.body_case = VNFSEC__FRAME__BODY_BUNDLE_RESULT;
	self->f.bundle_result = &br;
	br.reason = "expired";
	br.status = -ETIME;
	ASSERT_EQ(0, roundtrip(&self->f, &self->why));
	br.status = 1;
	ASSERT_EQ(-EPROTO, roundtrip(&self->f, &self->why));
	br.status = -5000;
	ASSERT_EQ(-EPROTO, roundtrip(&self->f, &self->why));
	br.status = 0;
	br.reason = (char *)bytes;	/* WIRE_TEXT_MAX + 1 bytes of 0xa5 */
	bytes[WIRE_TEXT_MAX + 1] = '\0';
	ASSERT_EQ(-EPROTO, roundtrip(&self->f, &self->why));
	bytes[WIRE_TEXT_MAX + 1] = 0xa5;
}

TEST_HARNESS_MAIN
