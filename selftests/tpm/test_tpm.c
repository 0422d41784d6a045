// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TPM trust layer against real swtpm instances: sealed state and its
 * anti-rollback counter, quotes, EK certificates and credential
 * activation, each positive path and the attacks it must stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"
#include "selftests/tpm/swtpm.h"
#include "tpm/vnfsec_tpm.h"
#include "user/common/log.h"

#define PCRS_0_7	((1U << 0) | (1U << 7))
#define QUOTE_PCRS	((1U << 0) | (1U << 1) | (1U << 7) | (1U << 10))
#define STATE_NV	VNFSEC_STATE_NV_DEFAULT

static const uint8_t measurement[VNFSEC_PCR_DIGEST_LEN] = { 0xa5, 0x5a };

static int copy_file(const char *from, const char *to)
{
	char *argv[] = { "cp", (char *)from, (char *)to, NULL };

	return run_quiet(argv);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	       (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One agent TPM. */
FIXTURE(tpm) {
	struct swtpm sw;
	struct vnfsec_tpm *t;
	char path[300];
};

FIXTURE_SETUP(tpm)
{
	ASSERT_EQ(0, swtpm_start(&self->sw));
	if (vnfsec_tpm_open(self->sw.tcti, &self->t)) {
		swtpm_stop(&self->sw);
		ASSERT_TRUE(0);
	}
	snprintf(self->path, sizeof(self->path), "%s/agent.state",
		 self->sw.dir);
}

FIXTURE_TEARDOWN(tpm)
{
	vnfsec_tpm_close(self->t);
	swtpm_stop(&self->sw);
}

TEST_F(tpm, seal_unseal_roundtrip)
{
	const char secret[] = "policy key 0123456789";
	struct vnfsec_blob b = { 0 };
	uint8_t out[VNFSEC_SEAL_MAX];
	size_t len = 0;

	ASSERT_EQ(0, vnfsec_tpm_seal(self->t, PCRS_0_7, secret,
				     sizeof(secret), &b));
	ASSERT_EQ(0, vnfsec_tpm_unseal(self->t, &b, out, sizeof(out), &len));
	ASSERT_EQ(sizeof(secret), len);
	ASSERT_EQ(0, memcmp(secret, out, len));
	/* Unsealing again works: every transient object was flushed. */
	ASSERT_EQ(0, vnfsec_tpm_unseal(self->t, &b, out, sizeof(out), &len));
	vnfsec_blob_free(&b);
}

TEST_F(tpm, unseal_fails_after_pcr7_extend)
{
	const char secret[] = "sealed to boot state";
	struct vnfsec_blob b = { 0 };
	uint8_t out[VNFSEC_SEAL_MAX];
	size_t len = 0;

	ASSERT_EQ(0, vnfsec_tpm_seal(self->t, PCRS_0_7, secret,
				     sizeof(secret), &b));
	ASSERT_EQ(0, vnfsec_tpm_pcr_extend(self->t, 7, measurement));
	ASSERT_EQ(-EACCES, vnfsec_tpm_unseal(self->t, &b, out, sizeof(out),
					     &len));
	vnfsec_blob_free(&b);
}

TEST_F(tpm, unseal_ignores_pcr_outside_the_set)
{
	const char secret[] = "only 0 and 7 matter";
	struct vnfsec_blob b = { 0 };
	uint8_t out[VNFSEC_SEAL_MAX];
	size_t len = 0;

	ASSERT_EQ(0, vnfsec_tpm_seal(self->t, PCRS_0_7, secret,
				     sizeof(secret), &b));
	ASSERT_EQ(0, vnfsec_tpm_pcr_extend(self->t, 16, measurement));
	ASSERT_EQ(0, vnfsec_tpm_unseal(self->t, &b, out, sizeof(out), &len));
	vnfsec_blob_free(&b);
}

TEST_F(tpm, unseal_refuses_tampered_blob)
{
	const char secret[] = "integrity";
	struct vnfsec_blob b = { 0 };
	uint8_t out[VNFSEC_SEAL_MAX];
	size_t len = 0;

	ASSERT_EQ(0, vnfsec_tpm_seal(self->t, PCRS_0_7, secret,
				     sizeof(secret), &b));
	b.data[b.len - 5] ^= 0x01;	/* inside the encrypted private */
	ASSERT_GT(0, vnfsec_tpm_unseal(self->t, &b, out, sizeof(out), &len));
	b.len = 3;			/* and a truncated one */
	ASSERT_EQ(-EBADMSG, vnfsec_tpm_unseal(self->t, &b, out, sizeof(out),
					      &len));
	vnfsec_blob_free(&b);
}

TEST_F(tpm, counter_only_moves_up)
{
	uint64_t a, b, c;

	ASSERT_EQ(0, vnfsec_tpm_counter_define(self->t, STATE_NV));
	ASSERT_EQ(0, vnfsec_tpm_counter_read(self->t, STATE_NV, &a));
	/* Defining again keeps the value. */
	ASSERT_EQ(0, vnfsec_tpm_counter_define(self->t, STATE_NV));
	ASSERT_EQ(0, vnfsec_tpm_counter_read(self->t, STATE_NV, &b));
	ASSERT_EQ(a, b);
	ASSERT_EQ(0, vnfsec_tpm_counter_increment(self->t, STATE_NV, &c));
	ASSERT_EQ(b + 1, c);
	ASSERT_EQ(-ENOENT, vnfsec_tpm_counter_read(self->t, STATE_NV + 1, &a));
}

TEST_F(tpm, state_save_load_roundtrip)
{
	const struct vnfsec_state_cfg cfg = { PCRS_0_7, STATE_NV };
	struct vnfsec_blob got = { 0 };
	uint8_t big[4000];
	int i;

	/* Larger than a sealed object can hold: the key is sealed. */
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = i * 7;
	ASSERT_EQ(0, vnfsec_state_save(self->t, &cfg, self->path, big,
				       sizeof(big)));
	ASSERT_EQ(0, vnfsec_state_load(self->t, &cfg, self->path, &got));
	ASSERT_EQ(sizeof(big), got.len);
	ASSERT_EQ(0, memcmp(big, got.data, got.len));
	vnfsec_blob_free(&got);
	/* And the next save replaces it. */
	ASSERT_EQ(0, vnfsec_state_save(self->t, &cfg, self->path, "v2", 2));
	ASSERT_EQ(0, vnfsec_state_load(self->t, &cfg, self->path, &got));
	ASSERT_EQ(2, got.len);
	vnfsec_blob_free(&got);
}

TEST_F(tpm, state_rollback_refused)
{
	const struct vnfsec_state_cfg cfg = { PCRS_0_7, STATE_NV };
	struct vnfsec_blob got = { 0 };
	char old[320];

	snprintf(old, sizeof(old), "%s.old", self->path);
	ASSERT_EQ(0, vnfsec_state_save(self->t, &cfg, self->path,
				       "allow all", 9));
	ASSERT_EQ(0, copy_file(self->path, old));
	ASSERT_EQ(0, vnfsec_state_save(self->t, &cfg, self->path,
				       "block 10.0.0.66", 15));
	/* The attacker who owns the disk copies the older policy back. */
	ASSERT_EQ(0, copy_file(old, self->path));
	ASSERT_EQ(-ESTALE, vnfsec_state_load(self->t, &cfg, self->path,
					     &got));
	ASSERT_EQ(NULL, got.data);
}

/*
 * A save that died after writing its file but before incrementing the
 * counter leaves a file dated counter + 1. Reproduced with a second
 * counter one step behind the first: the load must accept the file once
 * and move the counter, so the previous state cannot come back.
 */
TEST_F(tpm, state_saved_before_crash_is_committed_on_load)
{
	const struct vnfsec_state_cfg saved = { PCRS_0_7, STATE_NV };
	const struct vnfsec_state_cfg behind = { PCRS_0_7, STATE_NV + 1 };
	struct vnfsec_blob got = { 0 };
	uint64_t a, b;

	ASSERT_EQ(0, vnfsec_tpm_counter_define(self->t, behind.nv_index));
	ASSERT_EQ(0, vnfsec_state_save(self->t, &saved, self->path, "new", 3));
	ASSERT_EQ(0, vnfsec_tpm_counter_read(self->t, saved.nv_index, &a));
	ASSERT_EQ(0, vnfsec_tpm_counter_read(self->t, behind.nv_index, &b));
	ASSERT_EQ(a, b + 1);
	ASSERT_EQ(0, vnfsec_state_load(self->t, &behind, self->path, &got));
	ASSERT_EQ(3, got.len);
	vnfsec_blob_free(&got);
	ASSERT_EQ(0, vnfsec_tpm_counter_read(self->t, behind.nv_index, &b));
	ASSERT_EQ(a, b);
	/* Committed: it still loads, and is now the current state. */
	ASSERT_EQ(0, vnfsec_state_load(self->t, &behind, self->path, &got));
	vnfsec_blob_free(&got);
}

TEST_F(tpm, state_dated_ahead_of_the_counter_refused)
{
	const struct vnfsec_state_cfg saved = { PCRS_0_7, STATE_NV };
	const struct vnfsec_state_cfg fresh = { PCRS_0_7, STATE_NV + 1 };
	struct vnfsec_blob got = { 0 };

	/* Two saves put the file two steps ahead of a fresh counter. */
	ASSERT_EQ(0, vnfsec_state_save(self->t, &saved, self->path, "1", 1));
	ASSERT_EQ(0, vnfsec_state_save(self->t, &saved, self->path, "2", 1));
	ASSERT_EQ(0, vnfsec_tpm_counter_define(self->t, fresh.nv_index));
	ASSERT_EQ(-EBADMSG, vnfsec_state_load(self->t, &fresh, self->path,
					      &got));
}

TEST_F(tpm, state_refused_after_pcr7_extend)
{
	const struct vnfsec_state_cfg cfg = { PCRS_0_7, STATE_NV };
	struct vnfsec_blob got = { 0 };

	ASSERT_EQ(0, vnfsec_state_save(self->t, &cfg, self->path, "s", 1));
	ASSERT_EQ(0, vnfsec_tpm_pcr_extend(self->t, 7, measurement));
	ASSERT_EQ(-EACCES, vnfsec_state_load(self->t, &cfg, self->path,
					     &got));
}

TEST_F(tpm, state_tampered_refused)
{
	const struct vnfsec_state_cfg cfg = { PCRS_0_7, STATE_NV };
	struct vnfsec_blob got = { 0 };
	char payload[64] = "ciphertext to flip";
	FILE *f;
	long size;
	int c;

	ASSERT_EQ(0, vnfsec_state_save(self->t, &cfg, self->path, payload,
				       sizeof(payload)));
	/* The ciphertext is the last field: flip its last byte. */
	f = fopen(self->path, "r+");
	ASSERT_NE(NULL, f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size - 1, SEEK_SET);
	c = fgetc(f);
	fseek(f, size - 1, SEEK_SET);
	fputc(c ^ 0x80, f);
	fclose(f);
	ASSERT_EQ(-EBADMSG, vnfsec_state_load(self->t, &cfg, self->path,
					      &got));
}

TEST_F(tpm, state_garbage_file_refused)
{
	const struct vnfsec_state_cfg cfg = { PCRS_0_7, STATE_NV };
	struct vnfsec_blob got = { 0 };
	FILE *f = fopen(self->path, "w");

	ASSERT_NE(NULL, f);
	fputs("not a sealed state at all\n", f);
	fclose(f);
	ASSERT_EQ(-EBADMSG, vnfsec_state_load(self->t, &cfg, self->path,
					      &got));
}

TEST_F(tpm, quote_verifies)
{
	uint8_t expected[4][VNFSEC_PCR_DIGEST_LEN], nonce[32];
	struct vnfsec_blob ak = { 0 }, attest = { 0 }, sig = { 0 };
	const char *why = NULL;

	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->t, &ak));
	ASSERT_EQ(0, vnfsec_ak_check(&ak, &why));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(self->t, QUOTE_PCRS, expected));
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	ASSERT_EQ(0, vnfsec_tpm_quote(self->t, QUOTE_PCRS, nonce,
				      sizeof(nonce), &attest, &sig));
	ASSERT_EQ(0, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					 sizeof(nonce), QUOTE_PCRS, expected,
					 &why)) TH_LOG("%s", why);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
}

TEST_F(tpm, quote_with_stale_nonce_refused)
{
	uint8_t expected[4][VNFSEC_PCR_DIGEST_LEN], old[32], fresh[32];
	struct vnfsec_blob ak = { 0 }, attest = { 0 }, sig = { 0 };
	const char *why = NULL;

	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->t, &ak));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(self->t, QUOTE_PCRS, expected));
	ASSERT_EQ(1, RAND_bytes(old, sizeof(old)));
	ASSERT_EQ(1, RAND_bytes(fresh, sizeof(fresh)));
	/* A quote recorded for an earlier challenge, replayed now. */
	ASSERT_EQ(0, vnfsec_tpm_quote(self->t, QUOTE_PCRS, old, sizeof(old),
				      &attest, &sig));
	ASSERT_EQ(-EACCES, vnfsec_quote_verify(&ak, &attest, &sig, fresh,
					       sizeof(fresh), QUOTE_PCRS,
					       expected, &why));
	TH_LOG("refused: %s", why);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
}

TEST_F(tpm, quote_pcr_digest_mismatch_refused)
{
	uint8_t expected[4][VNFSEC_PCR_DIGEST_LEN], nonce[32];
	struct vnfsec_blob ak = { 0 }, attest = { 0 }, sig = { 0 };
	const char *why = NULL;

	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->t, &ak));
	/* Enrolled values, then the boot state changes. */
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(self->t, QUOTE_PCRS, expected));
	ASSERT_EQ(0, vnfsec_tpm_pcr_extend(self->t, 10, measurement));
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	ASSERT_EQ(0, vnfsec_tpm_quote(self->t, QUOTE_PCRS, nonce,
				      sizeof(nonce), &attest, &sig));
	ASSERT_EQ(-EACCES, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					       sizeof(nonce), QUOTE_PCRS,
					       expected, &why));
	TH_LOG("refused: %s", why);
	/* Forged bytes in the attest break the signature too. */
	attest.data[attest.len - 1] ^= 1;
	ASSERT_EQ(-EACCES, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					       sizeof(nonce), QUOTE_PCRS,
					       expected, &why));
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
}

TEST_F(tpm, quote_over_other_pcrs_refused)
{
	uint8_t expected[4][VNFSEC_PCR_DIGEST_LEN], nonce[32];
	struct vnfsec_blob ak = { 0 }, attest = { 0 }, sig = { 0 };
	const char *why = NULL;

	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->t, &ak));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(self->t, QUOTE_PCRS, expected));
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	/* The agent quotes an easier set than the server asked for. */
	ASSERT_EQ(0, vnfsec_tpm_quote(self->t, 1U << 16, nonce,
				      sizeof(nonce), &attest, &sig));
	ASSERT_EQ(-EACCES, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					       sizeof(nonce), QUOTE_PCRS,
					       expected, &why));
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
}

TEST_F(tpm, ek_cert_verifies_against_local_ca)
{
	struct vnfsec_blob ek = { 0 }, cert = { 0 };
	const char *why = NULL;
	char ca[320];

	snprintf(ca, sizeof(ca), "%s/ca.pem", self->sw.dir);
	ASSERT_EQ(0, swtpm_localca_file(ca));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->t, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(self->t, &cert));
	ASSERT_EQ(0, vnfsec_ek_cert_verify(&cert, ca, &ek, &why))
		TH_LOG("%s", why);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&cert);
}

/* A CA of our own making: not the manufacturer the server trusts. */
static int write_other_ca(const char *path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *ca = X509_new();
	X509_NAME *name;
	FILE *f = NULL;
	int ret = -EIO;

	if (!key || !ca)
		goto out;
	name = X509_get_subject_name(ca);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"swtpm-localca", -1,
				   -1, 0);
	X509_set_issuer_name(ca, name);
	X509_set_version(ca, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
	X509_gmtime_adj(X509_getm_notBefore(ca), 0);
	X509_gmtime_adj(X509_getm_notAfter(ca), 3600);
	X509_set_pubkey(ca, key);
	if (!X509_sign(ca, key, EVP_sha256()))
		goto out;
	f = fopen(path, "w");
	if (f && PEM_write_X509(f, ca))
		ret = 0;
out:
	if (f)
		fclose(f);
	X509_free(ca);
	EVP_PKEY_free(key);
	return ret;
}

TEST_F(tpm, ek_cert_from_untrusted_ca_refused)
{
	struct vnfsec_blob ek = { 0 }, cert = { 0 };
	const char *why = NULL;
	char ca[320];

	snprintf(ca, sizeof(ca), "%s/other-ca.pem", self->sw.dir);
	ASSERT_EQ(0, write_other_ca(ca));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->t, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(self->t, &cert));
	ASSERT_EQ(-EACCES, vnfsec_ek_cert_verify(&cert, ca, &ek, &why));
	TH_LOG("refused: %s", why);
	/* Garbage where a certificate should be. */
	cert.data[0] ^= 0xff;
	ASSERT_EQ(-EBADMSG, vnfsec_ek_cert_verify(&cert, ca, &ek, &why));
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&cert);
}

/* Two TPMs: the enrolling agent's, and another (also the server's). */
FIXTURE(pair) {
	struct swtpm sw_agent, sw_other;
	struct vnfsec_tpm *agent, *other;
	char ca[300];
};

FIXTURE_SETUP(pair)
{
	ASSERT_EQ(0, swtpm_start(&self->sw_agent));
	if (swtpm_start(&self->sw_other)) {
		swtpm_stop(&self->sw_agent);
		ASSERT_TRUE(0);
	}
	if (vnfsec_tpm_open(self->sw_agent.tcti, &self->agent) ||
	    vnfsec_tpm_open(self->sw_other.tcti, &self->other)) {
		vnfsec_tpm_close(self->agent);
		swtpm_stop(&self->sw_agent);
		swtpm_stop(&self->sw_other);
		ASSERT_TRUE(0);
	}
	snprintf(self->ca, sizeof(self->ca), "%s/ca.pem", self->sw_agent.dir);
	ASSERT_EQ(0, swtpm_localca_file(self->ca));
}

FIXTURE_TEARDOWN(pair)
{
	vnfsec_tpm_close(self->agent);
	vnfsec_tpm_close(self->other);
	swtpm_stop(&self->sw_agent);
	swtpm_stop(&self->sw_other);
}

TEST_F(pair, sealed_blob_useless_on_another_tpm)
{
	const char secret[] = "stays on this host";
	struct vnfsec_blob b = { 0 };
	uint8_t out[VNFSEC_SEAL_MAX];
	size_t len = 0;

	ASSERT_EQ(0, vnfsec_tpm_seal(self->agent, PCRS_0_7, secret,
				     sizeof(secret), &b));
	/* Same PCR values (both fresh), but another storage key. */
	ASSERT_GT(0, vnfsec_tpm_unseal(self->other, &b, out, sizeof(out),
				       &len));
	ASSERT_EQ(0, vnfsec_tpm_unseal(self->agent, &b, out, sizeof(out),
				       &len));
	vnfsec_blob_free(&b);
}

TEST_F(pair, quote_from_another_ak_refused)
{
	uint8_t expected[4][VNFSEC_PCR_DIGEST_LEN], nonce[32];
	struct vnfsec_blob ak = { 0 }, attest = { 0 }, sig = { 0 };
	const char *why = NULL;

	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->agent, &ak));
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(self->agent, QUOTE_PCRS, expected));
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	/* Same PCR values, right nonce, but signed by the other TPM. */
	ASSERT_EQ(0, vnfsec_tpm_quote(self->other, QUOTE_PCRS, nonce,
				      sizeof(nonce), &attest, &sig));
	ASSERT_EQ(-EACCES, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					       sizeof(nonce), QUOTE_PCRS,
					       expected, &why));
	TH_LOG("refused: %s", why);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
}

TEST_F(pair, ek_cert_of_another_tpm_refused)
{
	struct vnfsec_blob ek = { 0 }, cert = { 0 };
	const char *why = NULL;

	/* A genuine certificate, shown with some other TPM's EK. */
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->agent, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(self->other, &cert));
	ASSERT_EQ(-EACCES, vnfsec_ek_cert_verify(&cert, self->ca, &ek, &why));
	TH_LOG("refused: %s", why);
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&cert);
}

TEST_F(pair, credential_activated_by_enrolled_tpm)
{
	struct vnfsec_blob ek = { 0 }, ak = { 0 }, chal = { 0 };
	uint8_t secret[32], got[64];
	size_t len = 0;

	ASSERT_EQ(1, RAND_bytes(secret, sizeof(secret)));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->agent, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->agent, &ak));
	ASSERT_EQ(0, vnfsec_tpm_make_credential(self->other, &ek, &ak, secret,
						sizeof(secret), &chal));
	ASSERT_EQ(0, vnfsec_tpm_activate_credential(self->agent, &chal, got,
						    sizeof(got), &len));
	ASSERT_EQ(sizeof(secret), len);
	ASSERT_EQ(0, memcmp(secret, got, len));
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&chal);
}

TEST_F(pair, credential_refused_by_another_tpm)
{
	struct vnfsec_blob ek = { 0 }, ak = { 0 }, chal = { 0 };
	uint8_t secret[32], got[64];
	size_t len = 0;

	ASSERT_EQ(1, RAND_bytes(secret, sizeof(secret)));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->agent, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->agent, &ak));
	ASSERT_EQ(0, vnfsec_tpm_make_credential(self->agent, &ek, &ak, secret,
						sizeof(secret), &chal));
	/* The challenge leaks to another machine: its TPM cannot open it. */
	ASSERT_GT(0, vnfsec_tpm_activate_credential(self->other, &chal, got,
						    sizeof(got), &len));
	/* A refusal, not a broken TPM: the other one still works. */
	vnfsec_blob_free(&ak);
	ASSERT_EQ(0, vnfsec_tpm_random(self->other, got, 16));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->other, &ak));
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&chal);
}

TEST_F(pair, credential_for_another_ak_refused)
{
	struct vnfsec_blob ek = { 0 }, ak_other = { 0 }, chal = { 0 };
	uint8_t secret[32], got[64];
	size_t len = 0;

	ASSERT_EQ(1, RAND_bytes(secret, sizeof(secret)));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->agent, &ek));
	/* Right EK, but an AK this TPM does not hold. */
	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->other, &ak_other));
	ASSERT_EQ(0, vnfsec_tpm_make_credential(self->other, &ek, &ak_other,
						secret, sizeof(secret), &chal));
	ASSERT_GT(0, vnfsec_tpm_activate_credential(self->agent, &chal, got,
						    sizeof(got), &len));
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&ak_other);
	vnfsec_blob_free(&chal);
}

/*
 * The whole enrollment as library calls, agent (self->agent) and server
 * (OpenSSL plus self->other for MakeCredential), timed for the report.
 */
TEST_F(pair, enrollment_end_to_end)
{
	struct vnfsec_blob ek = { 0 }, cert = { 0 }, ak = { 0 }, chal = { 0 };
	struct vnfsec_blob attest = { 0 }, sig = { 0 };
	uint8_t expected[4][VNFSEC_PCR_DIGEST_LEN], golden[4][32];
	uint8_t secret[32], got[32], nonce[32];
	struct timespec t0, t1;
	const char *why = NULL;
	size_t len = 0;

	/* The operator's reference values for this host's boot state. */
	ASSERT_EQ(0, vnfsec_tpm_pcr_read(self->agent, QUOTE_PCRS, golden));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* agent -> server: EK certificate, EK public, AK public */
	ASSERT_EQ(0, vnfsec_tpm_ek_cert(self->agent, &cert));
	ASSERT_EQ(0, vnfsec_tpm_ek_public(self->agent, &ek));
	ASSERT_EQ(0, vnfsec_tpm_ak_public(self->agent, &ak));
	/* server: check both, challenge */
	ASSERT_EQ(0, vnfsec_ek_cert_verify(&cert, self->ca, &ek, &why));
	ASSERT_EQ(0, vnfsec_ak_check(&ak, &why));
	ASSERT_EQ(1, RAND_bytes(secret, sizeof(secret)));
	ASSERT_EQ(0, vnfsec_tpm_make_credential(self->other, &ek, &ak, secret,
						sizeof(secret), &chal));
	/* agent: activate, answer with the secret */
	ASSERT_EQ(0, vnfsec_tpm_activate_credential(self->agent, &chal, got,
						    sizeof(got), &len));
	ASSERT_EQ(0, CRYPTO_memcmp(secret, got, sizeof(secret)));
	/* server: fresh nonce; agent: quote */
	ASSERT_EQ(1, RAND_bytes(nonce, sizeof(nonce)));
	ASSERT_EQ(0, vnfsec_tpm_quote(self->agent, QUOTE_PCRS, nonce,
				      sizeof(nonce), &attest, &sig));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	memcpy(expected, golden, sizeof(expected));
	ASSERT_EQ(0, vnfsec_quote_verify(&ak, &attest, &sig, nonce,
					 sizeof(nonce), QUOTE_PCRS, expected,
					 &why)) TH_LOG("%s", why);
	fprintf(stderr, "# enrollment (library calls, end to end): %.1f ms\n",
		ms_since(&t0));
	fprintf(stderr, "# of which quote verification: %.3f ms\n",
		ms_since(&t1));
	vnfsec_blob_free(&ek);
	vnfsec_blob_free(&cert);
	vnfsec_blob_free(&ak);
	vnfsec_blob_free(&chal);
	vnfsec_blob_free(&attest);
	vnfsec_blob_free(&sig);
}

TEST_HARNESS_MAIN
