// SPDX-License-Identifier: GPL-2.0-only
/*
 * Agent state sealed to PCRs and dated by the NV counter.
 *
 * Save: v = counter + 1; a fresh key K; seal K || v; encrypt the state
 * under K with v in the AAD; write the file atomically; then increment
 * the counter to v. Load: unseal, and accept only v == counter, or
 * v == counter + 1 (a save that crashed before its increment: commit it
 * now). Anything older is a copied-back blob: refused. Because v sits
 * inside the sealed object, an attacker who owns the disk can neither
 * read it nor change it without the TPM noticing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tpm/state.pb-c.h"
#include "tpm/tpm_internal.h"
#include "user/common/log.h"

#define STATE_VERSION	1
#define STATE_KEY_LEN	32
#define STATE_IV_LEN	12
#define STATE_TAG_LEN	16
#define STATE_FILE_MAX	(2 * VNFSEC_BLOB_MAX)
#define STATE_AAD	"vnfsec-state-v1"

static void be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* AES-256-GCM; @enc 1 encrypts @in into @out, 0 decrypts and checks @tag. */
static int gcm(int enc, const uint8_t *key, const uint8_t *iv, uint64_t v,
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	uint8_t aad[sizeof(STATE_AAD) - 1 + 8];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ret = -EIO;

	if (!c)
		return -ENOMEM;
	memcpy(aad, STATE_AAD, sizeof(STATE_AAD) - 1);
	be64(aad + sizeof(STATE_AAD) - 1, v);
	if (len > INT32_MAX ||
	    !EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc) ||
	    !EVP_CipherUpdate(c, NULL, &n, aad, sizeof(aad)) ||
	    (len && !EVP_CipherUpdate(c, out, &n, in, (int)len)))
		goto out;
	if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG,
					 STATE_TAG_LEN, tag))
		goto out;
	if (!EVP_CipherFinal_ex(c, out + len, &n)) {
		ret = -EBADMSG;
		goto out;
	}
	if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG,
					STATE_TAG_LEN, tag))
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return ret;
}

static int write_atomic(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[4096];
	size_t done = 0;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		log_err("tpm: cannot create %s: %s", tmp, strerror(errno));
		return ret;
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += n;
	}
	if (fsync(fd))
		goto fail;
	close(fd);
	if (rename(tmp, path)) {
		ret = -errno;
		log_err("tpm: cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		return ret;
	}
	return 0;
fail:
	ret = errno ? -errno : -EIO;
	log_err("tpm: cannot write %s: %s", tmp, strerror(-ret));
	close(fd);
	unlink(tmp);
	return ret;
}

int vnfsec_state_save(struct vnfsec_tpm *t, const struct vnfsec_state_cfg *cfg,
		      const char *path, const void *data, size_t len)
{
	VnfsecTpm__SealedState msg = VNFSEC_TPM__SEALED_STATE__INIT;
	uint8_t secret[STATE_KEY_LEN + 8], iv[STATE_IV_LEN];
	uint8_t tag[STATE_TAG_LEN];
	struct vnfsec_blob sealed = { 0 };
	uint8_t *ct = NULL, *out = NULL;
	uint64_t c, v, now;
	size_t olen;
	int ret;

	if (len > VNFSEC_BLOB_MAX) {
		log_err("tpm: agent state of %zu bytes exceeds %u", len,
			VNFSEC_BLOB_MAX);
		return -EMSGSIZE;
	}
	ret = vnfsec_tpm_counter_define(t, cfg->nv_index);
	if (ret)
		return ret;
	ret = vnfsec_tpm_counter_read(t, cfg->nv_index, &c);
	if (ret)
		return ret;
	v = c + 1;
	if (RAND_priv_bytes(secret, STATE_KEY_LEN) != 1 ||
	    RAND_bytes(iv, sizeof(iv)) != 1) {
		log_err("tpm: no randomness for the state key");
		return -EIO;
	}
	be64(secret + STATE_KEY_LEN, v);
	ret = vnfsec_tpm_seal(t, cfg->pcr_mask, secret, sizeof(secret),
			      &sealed);
	if (ret)
		goto out;
	ct = malloc(len + 1);
	if (!ct) {
		ret = -ENOMEM;
		goto out;
	}
	ret = gcm(1, secret, iv, v, data, len, ct, tag);
	if (ret) {
		log_err("tpm: cannot encrypt the agent state");
		goto out;
	}
	msg.version = STATE_VERSION;
	msg.counter = v;
	msg.sealed_key.data = sealed.data;
	msg.sealed_key.len = sealed.len;
	msg.iv.data = iv;
	msg.iv.len = sizeof(iv);
	msg.tag.data = tag;
	msg.tag.len = sizeof(tag);
	msg.ciphertext.data = ct;
	msg.ciphertext.len = len;
	olen = vnfsec_tpm__sealed_state__get_packed_size(&msg);
	out = malloc(olen);
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	vnfsec_tpm__sealed_state__pack(&msg, out);
	ret = write_atomic(path, out, olen);
	if (ret)
		goto out;
	/* Only now does the new file become the one the TPM accepts. */
	ret = vnfsec_tpm_counter_increment(t, cfg->nv_index, &now);
	if (!ret && now != v) {
		log_err("tpm: NV counter 0x%x moved under us (%llu, expected %llu); is another agent using it?",
			cfg->nv_index, (unsigned long long)now,
			(unsigned long long)v);
		ret = -EBUSY;
	}
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	vnfsec_blob_free(&sealed);
	free(ct);
	free(out);
	return ret;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err("tpm: cannot open agent state %s: %s", path,
			strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || st.st_size > STATE_FILE_MAX) {
		log_err("tpm: agent state %s is larger than %u bytes: not ours",
			path, STATE_FILE_MAX);
		close(fd);
		return -EFBIG;
	}
	*buf = malloc(st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	close(fd);
	*len = done;
	return 0;
}

int vnfsec_state_load(struct vnfsec_tpm *t, const struct vnfsec_state_cfg *cfg,
		      const char *path, struct vnfsec_blob *data)
{
	VnfsecTpm__SealedState *msg = NULL;
	struct vnfsec_blob sealed;
	uint8_t secret[VNFSEC_SEAL_MAX];
	uint8_t *buf = NULL, *pt = NULL;
	size_t len = 0, slen = 0;
	uint64_t c, v;
	int ret;

	ret = read_file(path, &buf, &len);
	if (ret)
		return ret;
	msg = vnfsec_tpm__sealed_state__unpack(NULL, len, buf);
	if (!msg || msg->version != STATE_VERSION ||
	    msg->iv.len != STATE_IV_LEN || msg->tag.len != STATE_TAG_LEN ||
	    msg->ciphertext.len > VNFSEC_BLOB_MAX) {
		log_err("tpm: %s is not a vnfsec sealed state (version 1)",
			path);
		ret = -EBADMSG;
		goto out;
	}
	sealed.data = msg->sealed_key.data;
	sealed.len = msg->sealed_key.len;
	ret = vnfsec_tpm_unseal(t, &sealed, secret, sizeof(secret), &slen);
	if (ret)
		goto out;
	if (slen != STATE_KEY_LEN + 8) {
		log_err("tpm: %s: sealed key has the wrong size", path);
		ret = -EBADMSG;
		goto out;
	}
	v = get_be64(secret + STATE_KEY_LEN);
	if (v != msg->counter) {
		log_err("tpm: %s: counter in the file (%llu) differs from the sealed one (%llu): tampered",
			path, (unsigned long long)msg->counter,
			(unsigned long long)v);
		ret = -EBADMSG;
		goto out;
	}
	ret = vnfsec_tpm_counter_read(t, cfg->nv_index, &c);
	if (ret)
		goto out;
	if (v < c) {
		log_err("tpm: %s was saved at counter %llu but the TPM is at %llu: an older state was copied back; refusing it",
			path, (unsigned long long)v, (unsigned long long)c);
		ret = -ESTALE;
		goto out;
	}
	if (v > c + 1) {
		log_err("tpm: %s is dated %llu, ahead of the TPM counter %llu: not this TPM's state",
			path, (unsigned long long)v, (unsigned long long)c);
		ret = -EBADMSG;
		goto out;
	}
	pt = malloc(msg->ciphertext.len + 16);
	if (!pt) {
		ret = -ENOMEM;
		goto out;
	}
	ret = gcm(0, secret, msg->iv.data, v, msg->ciphertext.data,
		  msg->ciphertext.len, pt, msg->tag.data);
	if (ret) {
		log_err("tpm: %s: state does not decrypt under its sealed key: tampered",
			path);
		ret = -EBADMSG;
		goto out;
	}
	if (v == c + 1) {
		/* The save that wrote this file died before its increment. */
		ret = vnfsec_tpm_counter_increment(t, cfg->nv_index, NULL);
		if (ret)
			goto out;
	}
	data->data = pt;
	data->len = msg->ciphertext.len;
	pt = NULL;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	if (pt) {
		OPENSSL_cleanse(pt, msg->ciphertext.len + 16);
		free(pt);
	}
	vnfsec_tpm__sealed_state__free_unpacked(msg, NULL);
	free(buf);
	return ret;
}
