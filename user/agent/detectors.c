// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pushed detectors (docs/detectors.md). A detector bundle is an envelope
 * signed offline with the root key whose payload is a
 * vnfsec_signed.Detector: a BPF object built from detectors/, its name,
 * version, ABI version, class and thresholds. It is put in force only
 * when, in order:
 *   - its signature verifies against --bundle-key, issuer "root", target
 *     this agent (or "*", every agent), sequence above every detector
 *     bundle accepted before, not expired (signing_verify());
 *   - it was built for this fast path's ABI, names a known class, and its
 *     version is above every version of that name this agent accepted;
 *   - detector_load.c's limits hold and the verifier accepts it.
 * Then its programs replace the class's slot in one map update each (no
 * gap: the old detector or the new one sees every packet), and the
 * sequence, the version and the SHA-256 of the running and the previous
 * bundle are kept in the agent's state (sealed with --tpm; the bundles
 * themselves, too big for it, are files in <spool>/detectors named by
 * that digest), so a replay or an older version is refused after a
 * restart too, the detectors come back at start, and a rollback finds the
 * previous version. Any refusal leaves the running detector alone.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/sha.h>

#include "bpf/vnfsec_abi.h"
#include <bpf/bpf.h>

#include "user/agent/agent.h"
#include "user/agent/detector_load.h"
#include "user/agent/detectors.h"
#include "user/agent/fastpath_policy.h"
#include "user/agent/state.h"
#include "user/common/clock.h"
#include "user/common/heuristic.h"
#include "user/common/log.h"
#include "user/common/signed.pb-c.h"
#include "user/common/signing.h"
#include "user/common/vnfsec.pb-c.h"
#include "vnfsec.skel.h"

#define DET_MAX		AGENT_DETECTORS_MAX	/* names an agent keeps */

struct det_entry {
	char name[DET_NAME_MAX];
	uint64_t highest;		/* every version <= this is refused */
	struct agent_blob running;	/* packed Detector in force */
	struct agent_blob previous;	/* the one before it */
	/* What runs now (from running). */
	struct det_loaded loaded;
	uint64_t version;
	int cls;
	char digest[2 * SHA256_DIGEST_LENGTH + 1];
	char state[96];
};

struct detectors {
	const struct agent_config *cfg;
	struct agent_store *store;
	char agent_id[WIRE_AGENT_ID_MAX + 1];
	EVP_PKEY *root;			/* NULL: every bundle refused */
	struct det_fastpath fp;
	bool fp_open, ready;
	struct det_entry entry[DET_MAX];
	unsigned int nr;
};

static void hex(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

static struct det_entry *find(struct detectors *d, const char *name)
{
	unsigned int i;

	for (i = 0; i < d->nr; i++)
		if (!strcmp(d->entry[i].name, name))
			return &d->entry[i];
	return NULL;
}

static int blob_set(struct agent_blob *b, const uint8_t *data, size_t len)
{
	uint8_t *copy = NULL;

	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	free(b->data);
	b->data = copy;
	b->len = len;
	return 0;
}

/*
 * Where the bundles' payloads live: the sealed state (at most
 * VNFSEC_BLOB_MAX) holds their SHA-256 only, the payloads are files named
 * by it in <spool>/detectors, checked against it when read back.
 */
static void payload_path(const struct detectors *d, const uint8_t *md,
			 char *path, size_t len)
{
	char h[2 * SHA256_DIGEST_LENGTH + 1];

	hex(md, SHA256_DIGEST_LENGTH, h);
	snprintf(path, len, "%s/detectors/%s", d->cfg->spool_dir, h);
}

/* Written whole and renamed, once (the name is its digest). */
static int payload_write(const struct detectors *d, const struct agent_blob *b,
			 uint8_t *md)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX];
	FILE *f;

	SHA256(b->data, b->len, md);
	payload_path(d, md, path, sizeof(path));
	if (!access(path, F_OK))
		return 0;
	snprintf(dir, sizeof(dir), "%s/detectors", d->cfg->spool_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	if (fwrite(b->data, 1, b->len, f) != b->len || fflush(f) ||
	    fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

/* The payload whose SHA-256 the sealed state holds, or an error. */
static int payload_read(const struct detectors *d, const struct agent_blob *md,
			struct agent_blob *out)
{
	uint8_t got[SHA256_DIGEST_LENGTH], buf[SIGNED_PAYLOAD_MAX + 1];
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	if (md->len != SHA256_DIGEST_LENGTH)
		return -EBADMSG;
	payload_path(d, md->data, path, sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	SHA256(buf, n, got);
	if (n > SIGNED_PAYLOAD_MAX || memcmp(got, md->data, sizeof(got)))
		return -EBADMSG;	/* altered on disk */
	return blob_set(out, buf, n);
}

/* Once the state is saved: the payloads it no longer names go. */
static void payload_sweep(const struct detectors *d,
			  const struct agent_state *st)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], h[2 * SHA256_DIGEST_LENGTH + 1];
	struct dirent *de;
	unsigned int i;
	bool keep;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/detectors", d->cfg->spool_dir);
	dh = opendir(dir);
	if (!dh)
		return;
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		keep = false;
		for (i = 0; i < st->nr_detectors && !keep; i++) {
			const struct agent_detector_state *sd = &st->detectors[i];

			if (sd->running.len == SHA256_DIGEST_LENGTH) {
				hex(sd->running.data, SHA256_DIGEST_LENGTH, h);
				keep = !strcmp(h, de->d_name);
			}
			if (!keep && sd->previous.len == SHA256_DIGEST_LENGTH) {
				hex(sd->previous.data, SHA256_DIGEST_LENGTH, h);
				keep = !strcmp(h, de->d_name);
			}
		}
		if (!keep) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(dh);
}

/* The entries into the agent's state, and the state saved. */
static int save(struct detectors *d)
{
	struct agent_state *st = agent_store_state(d->store);
	uint8_t md[SHA256_DIGEST_LENGTH];
	unsigned int i;
	int ret = 0;

	/* The state owns copies of the digests: it outlives us at exit. */
	for (i = 0; i < d->nr && !ret; i++) {
		const struct det_entry *e = &d->entry[i];
		struct agent_detector_state *sd = &st->detectors[i];

		snprintf(sd->name, sizeof(sd->name), "%s", e->name);
		sd->highest = e->highest;
		ret = e->running.len ? payload_write(d, &e->running, md) : 0;
		if (!ret)
			ret = blob_set(&sd->running, md,
				       e->running.len ? sizeof(md) : 0);
		if (!ret && e->previous.len)
			ret = payload_write(d, &e->previous, md);
		if (!ret)
			ret = blob_set(&sd->previous, md,
				       e->previous.len ? sizeof(md) : 0);
		if (i >= st->nr_detectors)
			st->nr_detectors = i + 1;
	}
	if (ret) {
		log_err("detectors: cannot keep a bundle in %s/detectors: %s",
			d->cfg->spool_dir, strerror(-ret));
		return ret;
	}
	ret = agent_store_save(d->store);
	if (!ret)
		payload_sweep(d, st);
	return ret;
}

/*
 * Loads a packed Detector (already verified once) and puts it in its
 * class's slot. 0, or -errno with why.
 */
static int put_in_force(struct detectors *d, struct det_entry *e,
			const struct agent_blob *b, char *why, size_t why_len)
{
	struct det_threshold th[DET_MAX_THRESHOLDS];
	uint8_t md[SHA256_DIGEST_LENGTH];
	VnfsecSigned__Detector *m;
	struct det_loaded next;
	unsigned int i;
	int cls, ret;

	m = vnfsec_signed__detector__unpack(NULL, b->len, b->data);
	if (!m) {
		snprintf(why, why_len, "not a detector bundle's payload");
		return -EBADMSG;
	}
	cls = det_class_of(m->det_class);
	ret = -EINVAL;
	if (cls < 0) {
		snprintf(why, why_len, "class '%s' is not one of this fast path's (dns, gtpu)",
			 m->det_class);
		goto out;
	}
	if (m->n_thresholds > DET_MAX_THRESHOLDS) {
		snprintf(why, why_len, "%zu thresholds, at most %d",
			 m->n_thresholds, DET_MAX_THRESHOLDS);
		goto out;
	}
	for (i = 0; i < m->n_thresholds; i++) {
		snprintf(th[i].name, sizeof(th[i].name), "%s",
			 m->thresholds[i]->name);
		th[i].value = m->thresholds[i]->value;
	}
	ret = det_load(m->object.data, m->object.len, m->name, cls, th,
		       m->n_thresholds, &d->fp, &next, why, why_len);
	if (ret)
		goto out;
	ret = det_install(&next, &d->fp);
	if (ret) {
		snprintf(why, why_len, "cannot put it in the fast path's slot: %s",
			 strerror(-ret));
		det_unload(&next);
		goto out;
	}
	if (e->loaded.obj)
		det_unload(&e->loaded);
	e->loaded = next;
	e->version = m->version;
	e->cls = cls;
	SHA256(m->object.data, m->object.len, md);
	hex(md, sizeof(md), e->digest);
	snprintf(e->state, sizeof(e->state), "running");
out:
	vnfsec_signed__detector__free_unpacked(m, NULL);
	return ret;
}

/* The class runs another name's detector: that one, else NULL. */
static struct det_entry *class_holder(struct detectors *d, int cls,
				      const struct det_entry *self)
{
	unsigned int i;

	for (i = 0; i < d->nr; i++)
		if (&d->entry[i] != self && d->entry[i].loaded.obj &&
		    d->entry[i].cls == cls)
			return &d->entry[i];
	return NULL;
}

static int verify(struct detectors *d, const uint8_t *env, size_t len,
		  VnfsecSigned__Body **body, const char **why)
{
	struct agent_state *st = agent_store_state(d->store);
	struct signing_verifier v = {
		.trusted = d->root, .issuer = "root", .self = d->agent_id,
		.last_sequence = st->detector_seq,
	};
	int ret;

	ret = signing_verify(&v, env, len, time(NULL), body, why);
	if (ret == -EPERM) {
		/* Signed for every agent ("*")? */
		struct signing_verifier all = v;
		const char *why_all;

		all.self = "*";
		if (!signing_verify(&all, env, len, time(NULL), body,
				    &why_all)) {
			v.last_sequence = all.last_sequence;
			ret = 0;
		}
	}
	if (!ret)
		st->detector_seq = v.last_sequence;
	return ret;
}

int detectors_accept(struct detectors *d, const uint8_t *env, size_t len,
		     char *name, size_t name_len, uint64_t *version,
		     char *digest, size_t digest_len, char *why,
		     size_t why_len)
{
	VnfsecSigned__Detector *m = NULL;
	VnfsecSigned__Body *body = NULL;
	struct det_entry *e, *holder;
	struct agent_blob payload;
	const char *vwhy;
	int ret, cls;

	name[0] = digest[0] = why[0] = 0;
	*version = 0;
	if (!d->root) {
		snprintf(why, why_len, "this agent has no --bundle-key to check it");
		ret = -ENOKEY;
		goto refused;
	}
	ret = verify(d, env, len, &body, &vwhy);
	if (ret) {
		snprintf(why, why_len, "%s", vwhy);
		goto refused;
	}
	/* Its sequence is spent whatever follows: a replay stays refused. */
	save(d);
	m = vnfsec_signed__detector__unpack(NULL, body->payload.len,
					    body->payload.data);
	if (!m || !m->name[0] || strlen(m->name) >= DET_NAME_MAX) {
		snprintf(why, why_len, "signed, but not a detector bundle (a policy bundle? use 'vnfsecctl policy push')");
		ret = -EBADMSG;
		goto refused;
	}
	snprintf(name, name_len, "%s", m->name);
	*version = m->version;
	if (m->abi_version != VNFSEC_ABI_VERSION) {
		snprintf(why, why_len, "built for fast-path ABI %u, this agent's is %d: rebuild it from detectors/ of this release",
			 m->abi_version, VNFSEC_ABI_VERSION);
		ret = -EPROTO;
		goto refused;
	}
	cls = det_class_of(m->det_class);
	if (cls < 0) {
		snprintf(why, why_len, "class '%s' is not one of this fast path's (dns, gtpu)",
			 m->det_class);
		ret = -EINVAL;
		goto refused;
	}
	e = find(d, m->name);
	if (e && m->version <= e->highest) {
		snprintf(why, why_len, "version %llu is not above %llu, the newest of %s this agent accepted (replay or downgrade)",
			 (unsigned long long)m->version,
			 (unsigned long long)e->highest, m->name);
		ret = -ESTALE;
		goto refused;
	}
	holder = class_holder(d, cls, e);
	if (holder) {
		snprintf(why, why_len, "class %s runs detector %s: roll that one back first",
			 m->det_class, holder->name);
		ret = -EBUSY;
		goto refused;
	}
	if (!d->ready) {
		snprintf(why, why_len, "the fast path has no detector slots (pins older than ABI 7): restart the agent with --fresh");
		ret = -ENODEV;
		goto refused;
	}
	if (!e) {
		if (d->nr == DET_MAX) {
			snprintf(why, why_len, "this agent keeps %d detectors; roll one back", DET_MAX);
			ret = -ENOSPC;
			goto refused;
		}
		e = &d->entry[d->nr];
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", m->name);
		e->cls = -1;
	}
	payload.data = body->payload.data;
	payload.len = body->payload.len;
	ret = put_in_force(d, e, &payload, why, why_len);
	if (ret) {
		if (e == &d->entry[d->nr] && !e->running.len)
			memset(e, 0, sizeof(*e));	/* never ran: forget */
		goto refused;
	}
	if (e == &d->entry[d->nr])
		d->nr++;
	e->highest = m->version;
	if (!blob_set(&e->previous, e->running.data, e->running.len))
		blob_set(&e->running, payload.data, payload.len);
	ret = save(d);
	if (ret)
		log_err("detectors: %s version %llu runs, but the state could not record it (%s): a restart will not bring it back",
			e->name, (unsigned long long)e->version,
			strerror(-ret));
	snprintf(digest, digest_len, "%s", e->digest);
	log_info("detectors: %s version %llu signed by the root key runs on class %s (object sha256 %.16s..., %u instructions)",
		 e->name, (unsigned long long)e->version,
		 det_class_name(e->cls), e->digest, e->loaded.insns);
	vnfsec_signed__detector__free_unpacked(m, NULL);
	signing_body_free(body);
	return 0;
refused:
	log_warn("detectors: refused a detector bundle%s%s: %s; the running detectors stay",
		 name[0] ? " for " : "", name, why);
	if (m)
		vnfsec_signed__detector__free_unpacked(m, NULL);
	signing_body_free(body);
	return ret;
}

static int rollback(struct detectors *d, const char *name, const char **why)
{
	static char reason[DET_WHY_MAX];
	struct det_entry *e = find(d, name);
	uint64_t from;
	int ret;

	if (!e || !e->loaded.obj) {
		*why = "no such detector running";
		return -ENOENT;
	}
	from = e->version;
	if (e->previous.len) {
		ret = put_in_force(d, e, &e->previous, reason, sizeof(reason));
		if (ret) {
			*why = reason;
			log_warn("detectors: cannot roll %s back: %s; version %llu stays",
				 name, reason, (unsigned long long)from);
			return ret;
		}
		blob_set(&e->running, e->previous.data, e->previous.len);
		blob_set(&e->previous, NULL, 0);
		snprintf(e->state, sizeof(e->state), "running (rolled back from %llu)",
			 (unsigned long long)from);
		log_info("detectors: %s rolled back from version %llu to %llu",
			 name, (unsigned long long)from,
			 (unsigned long long)e->version);
	} else {
		ret = det_uninstall(e->cls, &d->fp);
		if (ret) {
			*why = "cannot empty its slot";
			return ret;
		}
		det_unload(&e->loaded);
		blob_set(&e->running, NULL, 0);
		e->version = 0;
		snprintf(e->state, sizeof(e->state), "unloaded (rolled back from %llu)",
			 (unsigned long long)from);
		log_info("detectors: %s rolled back from version %llu to none: unloaded",
			 name, (unsigned long long)from);
	}
	ret = save(d);
	if (ret)
		log_err("detectors: the state could not record the rollback of %s (%s)",
			name, strerror(-ret));
	return 0;
}

json_object *detectors_control(struct detectors *d, const char *cmd,
			       json_object *args, int *err, const char **why)
{
	struct det_class_stats cs;
	json_object *arr, *o, *v;
	unsigned int i;

	if (!d) {
		*err = ENODEV;
		*why = "detectors are not available on this agent";
		return NULL;
	}
	if (!strcmp(cmd, "detector.rollback")) {
		if (!json_object_object_get_ex(args, "name", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			*err = EINVAL;
			*why = "name: the detector's name is required";
			return NULL;
		}
		*err = -rollback(d, json_object_get_string(v), why);
		if (*err)
			return NULL;
		o = json_object_new_object();
		json_object_object_add(o, "rolled_back",
				       json_object_new_string(json_object_get_string(v)));
		return o;
	}
	arr = json_object_new_array();
	for (i = 0; i < d->nr; i++) {
		const struct det_entry *e = &d->entry[i];

		memset(&cs, 0, sizeof(cs));
		if (e->loaded.obj)
			det_stats(&d->fp, e->cls, &cs);
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "version",
				       json_object_new_uint64(e->version));
		json_object_object_add(o, "digest",
				       json_object_new_string(e->loaded.obj ?
							      e->digest : "-"));
		json_object_object_add(o, "class", json_object_new_string(
			e->loaded.obj ? det_class_name(e->cls) : "-"));
		json_object_object_add(o, "hits", json_object_new_uint64(cs.hits));
		json_object_object_add(o, "events",
				       json_object_new_uint64(cs.events));
		json_object_object_add(o, "state", json_object_new_string(e->state));
		json_object_array_add(arr, o);
	}
	return arr;
}

void detectors_event(struct event_ctx *ev,
		     const struct vnfsec_ext_detector_record *r)
{
	static const char *const class_names[VNFSEC_DET_CLASS_MAX] =
		VNFSEC_DET_CLASS_NAMES;
	struct assessment a = { 0 };
	const char *cls = r->det_class < VNFSEC_DET_CLASS_MAX ?
			  class_names[r->det_class] : "?";
	char src[INET6_ADDRSTRLEN] = "-";
	bool tunnel = r->outer_family != 0;
	uint8_t fam = tunnel ? r->outer_family : r->key.family;

	a.time_unix_ms = clock_wall_ms();
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_PUSHED_DETECTOR;
	a.severity = 3;
	a.count = r->value;
	a.src_count = 1;
	/* GTP-U: the tunnel's ends are who scans and who is scanned. */
	assessment_set_addrs(&a, fam, tunnel ? &r->outer_saddr : &r->key.saddr,
			     tunnel ? &r->outer_daddr : &r->key.daddr);
	a.dport = tunnel ? 0 : ntohs(r->key.dport);
	a.fast_path_dropped = r->verdict == VNFSEC_VERDICT_DROP;
	snprintf(a.cause, sizeof(a.cause), "%s:%u", cls, r->event);
	if (r->src_vnf && fastpath_vnf_name(r->src_vnf))
		snprintf(a.vnf_src, sizeof(a.vnf_src), "%s",
			 fastpath_vnf_name(r->src_vnf));
	if (r->dst_vnf && fastpath_vnf_name(r->dst_vnf))
		snprintf(a.vnf_dst, sizeof(a.vnf_dst), "%s",
			 fastpath_vnf_name(r->dst_vnf));
	snprintf(a.local_action, sizeof(a.local_action), "%s by the fast path",
		 a.fast_path_dropped ? "dropped" :
		 r->verdict == VNFSEC_VERDICT_WOULD_DROP ?
		 "counted as would-drop" : "passed");
	inet_ntop(a.family ? a.family : AF_INET, a.family == AF_INET6 ?
		  (const void *)a.saddr6 : (const void *)&a.saddr, src,
		  sizeof(src));
	log_warn("pushed detector (class %s) raised event %u, value %llu, on traffic from %s%s: %s",
		 cls, r->event, (unsigned long long)r->value, src,
		 tunnel ? " (GTP-U tunnel)" : "", a.local_action);
	events_submit(ev, &a, r->key.ifindex);
}

static int fastpath_ready(struct detectors *d, const struct sensor *s)
{
	char maps[512];
	int ret;

	snprintf(maps, sizeof(maps), "%s/maps", d->cfg->pin_dir);
	ret = det_fastpath_open(&d->fp, maps);
	if (ret) {
		log_warn("detectors: the fast path pinned in %s has no detector slots (%s): pushed detectors are refused until the agent restarts with --fresh",
			 d->cfg->pin_dir, strerror(-ret));
		return ret;
	}
	d->fp_open = true;
	/* Loaded here: our own finish programs. Adopted: the slots kept. */
	if (s->skel) {
		ret = det_fastpath_set_finish(&d->fp,
			bpf_program__fd(s->skel->progs.vnfsec_det_finish_xdp),
			bpf_program__fd(s->skel->progs.vnfsec_det_finish_tc));
		if (ret) {
			log_warn("detectors: cannot fill the fast path's finish slots: %s; pushed detectors are refused",
				 strerror(-ret));
			return ret;
		}
	}
	if (!det_fastpath_ready(&d->fp)) {
		log_warn("detectors: the adopted fast path's finish slots are empty (pinned by bpftool?): fill them as docs/bpf-maps.md says, or restart with --fresh; pushed detectors are refused");
		return -ENOENT;
	}
	return 0;
}

/*
 * The slots outlive the agent: a class whose slot holds a program no
 * detector of the state put back (not loadable, or no sealed state) is
 * emptied, so what runs is always what `detectors` shows.
 */
static void drop_orphans(struct detectors *d)
{
	__u32 slot, id;
	int cls;

	for (cls = 0; cls < VNFSEC_DET_CLASS_MAX; cls++) {
		slot = cls;
		if (class_holder(d, cls, NULL))
			continue;
		if (bpf_map_lookup_elem(d->fp.progs_xdp_fd, &slot, &id) &&
		    bpf_map_lookup_elem(d->fp.progs_tc_fd, &slot, &id))
			continue;
		if (!det_uninstall(cls, &d->fp))
			log_warn("detectors: class %s ran a detector the agent's state does not put back: removed",
				 det_class_name(cls));
	}
}

struct detectors *detectors_open(const struct agent_config *cfg,
				 const struct sensor *s,
				 struct agent_store *store,
				 const char *agent_id)
{
	struct agent_state *st = agent_store_state(store);
	struct detectors *d = calloc(1, sizeof(*d));
	char why[DET_WHY_MAX];
	unsigned int i;
	int ret;

	if (!d)
		return NULL;
	d->cfg = cfg;
	d->store = store;
	snprintf(d->agent_id, sizeof(d->agent_id), "%s", agent_id);
	if (cfg->bundle_key)
		d->root = signing_key_load(cfg->bundle_key, false);
	d->ready = !fastpath_ready(d, s);
	for (i = 0; i < st->nr_detectors && i < DET_MAX; i++) {
		struct det_entry *e = &d->entry[d->nr++];

		snprintf(e->name, sizeof(e->name), "%s", st->detectors[i].name);
		e->highest = st->detectors[i].highest;
		e->cls = -1;
		snprintf(e->state, sizeof(e->state), "unloaded");
		if (st->detectors[i].previous.len &&
		    payload_read(d, &st->detectors[i].previous, &e->previous))
			log_warn("detectors: the previous version of %s is gone from %s/detectors or altered: no rollback for it",
				 e->name, cfg->spool_dir);
		if (!st->detectors[i].running.len)
			continue;
		ret = payload_read(d, &st->detectors[i].running, &e->running);
		if (ret) {
			snprintf(e->state, sizeof(e->state), "not loaded at start");
			log_err("detectors: the bundle of %s the sealed state names is %s in %s/detectors; push it again",
				e->name, ret == -EBADMSG ? "altered" : "missing",
				cfg->spool_dir);
			continue;
		}
		if (!d->ready || put_in_force(d, e, &e->running, why,
					      sizeof(why))) {
			snprintf(e->state, sizeof(e->state), "not loaded at start");
			log_err("detectors: %s from the agent's state does not load again: %s",
				e->name, d->ready ? why : "no detector slots");
			continue;
		}
		log_info("detectors: %s version %llu from the agent's state runs again on class %s",
			 e->name, (unsigned long long)e->version,
			 det_class_name(e->cls));
	}
	if (d->ready)
		drop_orphans(d);
	return d;
}

void detectors_close(struct detectors *d)
{
	unsigned int i;

	if (!d)
		return;
	/* The slots keep what runs: a restart finds it in force. */
	for (i = 0; i < d->nr; i++) {
		if (d->entry[i].loaded.obj)
			det_unload(&d->entry[i].loaded);
		free(d->entry[i].running.data);
		free(d->entry[i].previous.data);
	}
	if (d->fp_open)
		det_fastpath_close(&d->fp);
	EVP_PKEY_free(d->root);
	free(d);
}
