// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's own state: what it must remember across restarts so that
 * a restart neither reopens the replay window of signed instructions nor
 * falls back to a policy older than the last signed bundle.
 *
 * With a TPM it is one file written through vnfsec_state_save(): sealed
 * to the PCRs of --state-pcrs and dated by the NV counter --state-nv, so
 * whoever owns the disk can neither read it, alter it, nor put an older
 * copy back, and a host booted into something else cannot unseal it. A
 * refusal stops the agent at start: carrying on with an empty state is
 * exactly what a rollback is after. Without a TPM the two sequences are
 * plain files in the spool directory, as they always were.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tpm/state.pb-c.h"
#include "tpm/vnfsec_tpm.h"
#include "user/agent/apply.h"
#include "user/agent/state.h"
#include "user/common/log.h"
#include "user/common/signing.h"
#include "user/common/wire.h"

#define AGENT_STATE_VERSION	1

struct agent_store {
	const struct agent_config *cfg;
	char agent_id[WIRE_AGENT_ID_MAX + 1];
	bool sealed;
	struct vnfsec_state_cfg tpm;
	char path[PATH_MAX];		/* the sealed file */
	char action_path[PATH_MAX];	/* the plain files */
	char bundle_path[PATH_MAX];
	uint64_t plain_action, plain_bundle;	/* as they are on disk */
	struct agent_state st;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	       (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Written whole and renamed: a crash never leaves half a number. */
static int save_plain(const char *path, uint64_t seq, const char *what)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int ret;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		goto fail;
	if (fprintf(f, "%llu\n", (unsigned long long)seq) < 0 || fflush(f) ||
	    fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		goto fail;
	}
	if (fclose(f) || rename(tmp, path))
		goto fail;
	return 0;
fail:
	ret = errno ? -errno : -EIO;
	log_err("state: cannot record the last signed %s in %s: %s",
		what, path, strerror(-ret));
	return ret;
}

static uint64_t load_plain(const char *path, bool *found)
{
	unsigned long long seq = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &seq) != 1)
		seq = 0;
	fclose(f);
	*found = true;
	return seq;
}

int agent_state_set_policy(struct agent_state *st, uint64_t seq,
			   const void *text, size_t len)
{
	char *copy = NULL;

	if (len > SIGNED_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (text) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	free(st->policy);
	st->policy = copy;
	st->policy_len = copy ? len : 0;
	st->policy_bundle_seq = copy ? seq : 0;
	return 0;
}

static int save_sealed(struct agent_store *s)
{
	VnfsecTpm__DetectorState dm[AGENT_DETECTORS_MAX];
	VnfsecTpm__DetectorState *dp[AGENT_DETECTORS_MAX];
	VnfsecTpm__AgentState m = VNFSEC_TPM__AGENT_STATE__INIT;
	unsigned int i;
	struct vnfsec_tpm *t = NULL;
	struct timespec t0;
	uint8_t *buf;
	size_t len;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	m.version = AGENT_STATE_VERSION;
	m.agent_id = s->agent_id;
	m.action_seq = s->st.action_seq;
	m.bundle_seq = s->st.bundle_seq;
	m.policy_bundle_seq = s->st.policy_bundle_seq;
	m.policy.data = (uint8_t *)s->st.policy;
	m.policy.len = s->st.policy_len;
	m.detector_seq = s->st.detector_seq;
	for (i = 0; i < s->st.nr_detectors && i < AGENT_DETECTORS_MAX; i++) {
		const struct agent_detector_state *d = &s->st.detectors[i];

		vnfsec_tpm__detector_state__init(&dm[i]);
		dm[i].name = (char *)d->name;
		dm[i].highest_version = d->highest;
		dm[i].running_sha256.data = d->running.data;
		dm[i].running_sha256.len = d->running.len;
		dm[i].previous_sha256.data = d->previous.data;
		dm[i].previous_sha256.len = d->previous.len;
		dp[i] = &dm[i];
	}
	m.n_detectors = i;
	m.detectors = dp;
	len = vnfsec_tpm__agent_state__get_packed_size(&m);
	buf = malloc(len ?: 1);
	if (!buf)
		return -ENOMEM;
	vnfsec_tpm__agent_state__pack(&m, buf);
	ret = vnfsec_tpm_open(s->cfg->tpm_tcti, &t);
	if (!ret)
		ret = vnfsec_state_save(t, &s->tpm, s->path, buf, len);
	vnfsec_tpm_close(t);
	free(buf);
	if (ret)
		log_err("state: cannot seal the agent state into %s with the TPM (%s): %s",
			s->path, s->cfg->tpm_tcti, strerror(-ret));
	else
		log_debug("state: sealed %zu bytes into %s in %.1f ms",
			  len, s->path, ms_since(&t0));
	return ret;
}

int agent_store_save(struct agent_store *s)
{
	int ret = 0;

	if (s->sealed)
		return save_sealed(s);
	/* Plain files: only what changed, the policy is not kept. */
	if (s->st.action_seq != s->plain_action) {
		ret = save_plain(s->action_path, s->st.action_seq, "action");
		if (!ret)
			s->plain_action = s->st.action_seq;
	}
	if (!ret && s->st.bundle_seq != s->plain_bundle) {
		ret = save_plain(s->bundle_path, s->st.bundle_seq,
				 "policy bundle");
		if (!ret)
			s->plain_bundle = s->st.bundle_seq;
	}
	return ret;
}

/* One line per refusal: what happened, what the operator does now. */
static void refuse(const struct agent_store *s, int err)
{
	const char *p = s->path;

	switch (err) {
	case -ESTALE:
		log_err("state: %s is older than this TPM's counter: an older copy of the agent state was put back (rollback); refusing to start. Put the newest copy back, or move %s away and start once with --state-reset for fresh state (instructions not yet expired could then be replayed)",
			p, p);
		break;
	case -EACCES:
		log_err("state: the TPM will not unseal %s: this host's boot state (PCR mask 0x%x) changed since it was saved; refusing to start. If the change is legitimate (firmware or bootloader update), move %s away, start once with --state-reset, and accept the new PCR values on the server ('attest' with accept_pcrs); else investigate this host",
			p, s->tpm.pcr_mask, p);
		break;
	case -EBADMSG:
	case -EFBIG:
		log_err("state: %s was altered or is not a state this TPM sealed; refusing to start. Put the newest good copy back, or move %s away and start once with --state-reset for fresh state",
			p, p);
		break;
	default:
		log_err("state: cannot read the sealed agent state %s with the TPM (%s): %s; refusing to start. Check --tpm and that the TPM answers",
			p, s->cfg->tpm_tcti, strerror(-err));
	}
}

static int blob_copy(struct agent_blob *b, const ProtobufCBinaryData *in)
{
	b->data = NULL;
	b->len = 0;
	if (!in->len)
		return 0;
	if (in->len > SIGNED_PAYLOAD_MAX)
		return -EBADMSG;
	b->data = malloc(in->len);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, in->data, in->len);
	b->len = in->len;
	return 0;
}

static void free_detectors(struct agent_state *st)
{
	unsigned int i;

	for (i = 0; i < st->nr_detectors; i++) {
		free(st->detectors[i].running.data);
		free(st->detectors[i].previous.data);
	}
	st->nr_detectors = 0;
}

/* The pushed detectors (detectors.c) kept in a sealed state. */
static int decode_detectors(struct agent_state *st,
			    const VnfsecTpm__AgentState *m)
{
	unsigned int i;
	int ret = 0;

	if (m->n_detectors > AGENT_DETECTORS_MAX)
		return -EBADMSG;
	for (i = 0; i < m->n_detectors && !ret; i++) {
		struct agent_detector_state *d = &st->detectors[i];
		const VnfsecTpm__DetectorState *dm = m->detectors[i];

		if (strlen(dm->name) >= sizeof(d->name))
			return -EBADMSG;
		snprintf(d->name, sizeof(d->name), "%s", dm->name);
		d->highest = dm->highest_version;
		st->nr_detectors = i + 1;
		ret = blob_copy(&d->running, &dm->running_sha256);
		if (!ret)
			ret = blob_copy(&d->previous, &dm->previous_sha256);
	}
	if (ret)
		free_detectors(st);
	return ret;
}

static int decode(struct agent_store *s, const struct vnfsec_blob *b)
{
	VnfsecTpm__AgentState *m;
	int ret = -EBADMSG;

	m = vnfsec_tpm__agent_state__unpack(NULL, b->len, b->data);
	if (!m || m->version != AGENT_STATE_VERSION ||
	    m->policy.len > SIGNED_PAYLOAD_MAX ||
	    (m->policy.len && !m->policy_bundle_seq)) {
		refuse(s, -EBADMSG);
		goto out;
	}
	if (strcmp(m->agent_id, s->agent_id)) {
		log_err("state: %s holds the state of agent '%s', not of '%s'; refusing to start. Give this agent its own --state file, or move %s away",
			s->path, m->agent_id, s->agent_id, s->path);
		ret = -EPERM;
		goto out;
	}
	s->st.action_seq = m->action_seq;
	s->st.bundle_seq = m->bundle_seq;
	s->st.detector_seq = m->detector_seq;
	ret = decode_detectors(&s->st, m);
	if (ret) {
		refuse(s, ret);
		goto out;
	}
	ret = agent_state_set_policy(&s->st, m->policy_bundle_seq,
				     m->policy.len ? m->policy.data : NULL,
				     m->policy.len);
out:
	vnfsec_tpm__agent_state__free_unpacked(m, NULL);
	return ret;
}

/*
 * No sealed file: the first start with this TPM, or an agent that kept
 * its sequences in plain files before; take those once, seal them and
 * remove them, so that only the sealed state counts from now on. A file
 * the counter says was saved is a file removed: starting empty would
 * reopen the replay window, so only the operator may (--state-reset).
 */
static int start_fresh(struct agent_store *s, struct vnfsec_tpm *t)
{
	bool had_action = false, had_bundle = false;
	uint64_t saves = 0;
	int ret;

	s->st.action_seq = load_plain(s->action_path, &had_action);
	s->st.bundle_seq = load_plain(s->bundle_path, &had_bundle);
	/* define() leaves 1; each save adds one. */
	if (!vnfsec_tpm_counter_peek(t, s->tpm.nv_index, &saves) && saves > 1) {
		if (!s->cfg->state_reset) {
			log_err("state: no sealed state at %s, but the TPM's counter 0x%x says one was saved (%llu saves): the file was removed, which would reopen replays of signed instructions; refusing to start. Put the newest copy back, or start once with --state-reset to begin fresh on purpose",
				s->path, s->tpm.nv_index,
				(unsigned long long)saves - 1);
			return -ESTALE;
		}
		log_warn("state: no sealed state at %s though the TPM's counter 0x%x says one was saved (%llu saves): starting fresh as --state-reset asks",
			 s->path, s->tpm.nv_index,
			 (unsigned long long)saves - 1);
	}
	if (had_action || had_bundle)
		log_info("state: no sealed state at %s yet: taking the plain sequence files once (last action %llu, last bundle %llu) and sealing them with the TPM",
			 s->path, (unsigned long long)s->st.action_seq,
			 (unsigned long long)s->st.bundle_seq);
	else
		log_info("state: no sealed state at %s yet: starting fresh (first start with this TPM); it is sealed to PCR mask 0x%x, NV counter 0x%x",
			 s->path, s->tpm.pcr_mask, s->tpm.nv_index);
	ret = save_sealed(s);
	if (ret)
		return ret;
	if (had_action)
		unlink(s->action_path);
	if (had_bundle)
		unlink(s->bundle_path);
	return 0;
}

static int open_sealed(struct agent_store *s)
{
	struct vnfsec_blob b = { 0 };
	struct vnfsec_tpm *t = NULL;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = vnfsec_tpm_open(s->cfg->tpm_tcti, &t);
	if (ret) {
		refuse(s, ret);
		return ret;
	}
	if (access(s->path, F_OK)) {
		if (errno != ENOENT) {
			ret = -errno;
			refuse(s, ret);
		} else {
			ret = start_fresh(s, t);
		}
		goto out;
	}
	ret = vnfsec_state_load(t, &s->tpm, s->path, &b);
	if (ret) {
		refuse(s, ret);
		goto out;
	}
	ret = decode(s, &b);
	if (ret)
		goto out;
	log_info("state: sealed agent state %s loaded in %.1f ms: last action %llu, last bundle %llu, policy of bundle %llu",
		 s->path, ms_since(&t0), (unsigned long long)s->st.action_seq,
		 (unsigned long long)s->st.bundle_seq,
		 (unsigned long long)s->st.policy_bundle_seq);
out:
	vnfsec_blob_free(&b);
	vnfsec_tpm_close(t);
	return ret;
}

int agent_store_open(const struct agent_config *cfg, const char *agent_id,
		     struct agent_store **out)
{
	struct agent_store *s = calloc(1, sizeof(*s));
	bool found = false;
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	snprintf(s->agent_id, sizeof(s->agent_id), "%s", agent_id);
	snprintf(s->action_path, sizeof(s->action_path), "%s/action_seq",
		 cfg->spool_dir);
	snprintf(s->bundle_path, sizeof(s->bundle_path), "%s/bundle_seq",
		 cfg->spool_dir);
	s->sealed = cfg->tpm_tcti != NULL;
	if (!s->sealed && (cfg->state_path || cfg->state_nv || cfg->state_pcrs))
		log_warn("state: --state, --state-nv and --state-pcrs need --tpm; the sequences stay in plain files in %s",
			 cfg->spool_dir);
	if (s->sealed) {
		/* The spool opens later; its directory must be there now. */
		if (!cfg->state_path && mkdir(cfg->spool_dir, 0700) &&
		    errno != EEXIST) {
			ret = -errno;
			log_err("state: cannot create %s: %s", cfg->spool_dir,
				strerror(errno));
			free(s);
			return ret;
		}
		if (cfg->state_path)
			snprintf(s->path, sizeof(s->path), "%s",
				 cfg->state_path);
		else
			snprintf(s->path, sizeof(s->path), "%s/%s",
				 cfg->spool_dir, AGENT_STATE_FILE);
		s->tpm.pcr_mask = cfg->state_pcrs ?: AGENT_STATE_PCRS;
		s->tpm.nv_index = cfg->state_nv ?: VNFSEC_STATE_NV_DEFAULT;
		ret = open_sealed(s);
	} else {
		s->plain_action = load_plain(s->action_path, &found);
		s->plain_bundle = load_plain(s->bundle_path, &found);
		s->st.action_seq = s->plain_action;
		s->st.bundle_seq = s->plain_bundle;
	}
	if (ret) {
		agent_store_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

int agent_store_apply_policy(struct agent_store *s, struct event_ctx *ev)
{
	const struct agent_state *st = &s->st;
	struct policy_diag diag = {};
	char name[64];
	int ret;

	if (!st->policy)
		return 0;
	if (!s->cfg->bundle_key) {
		log_warn("state: the sealed state holds the policy of signed bundle %llu, but this agent has no --bundle-key: not applied%s",
			 (unsigned long long)st->policy_bundle_seq,
			 s->cfg->policy_path ? "; --policy is" : "");
		return 0;
	}
	snprintf(name, sizeof(name), "bundle-%llu",
		 (unsigned long long)st->policy_bundle_seq);
	ret = agent_policy_apply_buf(ev, name, st->policy, st->policy_len,
				     &diag);
	if (ret) {
		log_err("state: the policy of signed bundle %llu in the sealed state does not apply (%s)%s",
			(unsigned long long)st->policy_bundle_seq,
			diag.n ? diag.lines[0] : strerror(-ret),
			s->cfg->policy_path ? "; applying --policy instead" :
			"");
		policy_diag_free(&diag);
		return 0;
	}
	policy_diag_free(&diag);
	log_info("state: the policy of signed bundle %llu is in force again (revision %llu)%s%s",
		 (unsigned long long)st->policy_bundle_seq,
		 (unsigned long long)agent_policy_revision(ev),
		 s->cfg->policy_path ? "; not applying the older --policy " :
		 "", s->cfg->policy_path ?: "");
	return 1;
}

struct agent_state *agent_store_state(struct agent_store *s)
{
	return &s->st;
}

bool agent_store_sealed(const struct agent_store *s)
{
	return s->sealed;
}

void agent_store_close(struct agent_store *s)
{
	if (!s)
		return;
	free(s->st.policy);
	free_detectors(&s->st);
	free(s);
}

int agent_state_parse_pcrs(const char *arg, uint32_t *mask)
{
	int ret = vnfsec_pcr_list_parse(arg, mask);

	if (ret)
		log_err("--state-pcrs: '%s' is not a list of PCR numbers 0..23 such as 0,7",
			arg);
	return ret;
}
