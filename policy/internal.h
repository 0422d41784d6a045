/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the policy loader: the YAML walk keeps every value together with
 * where it came from (yaml_mark_t) until the cross-reference checks have
 * run, so that each error points at the line and column of the key the
 * operator has to fix. Only the compiled form leaves this directory.
 */
#ifndef VNFSEC_POLICY_INTERNAL_H
#define VNFSEC_POLICY_INTERNAL_H

#include <stdbool.h>
#include <yaml.h>

#include "policy/vnfsec_policy.h"

#define POLICY_PATH_MAX		160	/* "vnfs[3].interfaces[1].vlan" */
#define POLICY_MAX_PORTS	32	/* port items in one rule */

/* Which fields of a struct policy_thresholds a level sets. */
enum {
	THR_SYN_FLOOD = 1 << 0,
	THR_SCAN_PORTS = 1 << 1,
	THR_SCAN_WINDOW = 1 << 2,
	THR_FLOW_CUT = 1 << 3,
	THR_RATE = 1 << 4,
	THR_VOLUME = 1 << 5,
	THR_SCAN_HOSTS = 1 << 6,
	THR_SLOW_SCAN_PORTS = 1 << 7,
	THR_SLOW_SCAN_HOSTS = 1 << 8,
	THR_SLOW_SCAN_WINDOW = 1 << 9,
};

struct thr_set {
	struct policy_thresholds v;
	uint32_t set;
};

struct port_range {
	uint16_t lo;
	uint16_t hi;
};

/* One "accepts" entry of a profile, or the traffic part of a pair. */
struct traffic_spec {
	yaml_mark_t at;
	bool has_proto;
	uint8_t proto;
	uint32_t n_ports;
	struct port_range ports[POLICY_MAX_PORTS];
	char l7[POLICY_L7_LEN];
};

struct raw_profile {
	char name[POLICY_NAME_LEN];
	yaml_mark_t at;
	bool builtin;
	uint32_t n_accepts;
	struct traffic_spec *accepts;
	struct thr_set thr;
};

struct raw_vnf {
	struct policy_vnf v;		/* name, netns, ifaces, addrs, type */
	yaml_mark_t at;			/* the list item */
	yaml_mark_t type_at;
	yaml_mark_t iface_at[POLICY_MAX_IFACES];
	yaml_mark_t addr_at[POLICY_MAX_ADDRS];
	bool has_mode;
	bool has_unparsed;
	bool has_ethertypes;
	bool has_l7_unknown;
	struct thr_set thr;
	uint32_t index;			/* position in the file */
};

struct raw_pair {
	yaml_mark_t at;
	char from[POLICY_NAME_LEN];
	yaml_mark_t from_at;
	char to[POLICY_NAME_LEN];
	yaml_mark_t to_at;
	struct traffic_spec t;
};

struct raw_prefix {
	struct policy_prefix p;
	yaml_mark_t at;
};

struct raw_shm {
	struct policy_shm_region r;
	yaml_mark_t at;
	uint32_t n_mappers;
	char mappers[POLICY_MAX_MAPPERS][POLICY_NAME_LEN];
	yaml_mark_t mapper_at[POLICY_MAX_MAPPERS];
	yaml_mark_t range_at[POLICY_MAX_RANGES];
};

struct raw_playbook {
	struct policy_playbook b;
	yaml_mark_t at;
	yaml_mark_t action_at[POLICY_MAX_ACTIONS];
};

/* Everything the YAML said, with positions. */
struct raw_policy {
	bool has_version;
	uint64_t revision;
	char name[POLICY_NAME_LEN];
	enum policy_mode mode;
	enum policy_unparsed unparsed;
	uint8_t ethertypes;
	enum policy_l7_unknown l7_unknown;
	struct thr_set thr;
	struct policy_cache cache;
	uint32_t n_cache_vnfs;
	char cache_vnfs[POLICY_MAX_CACHE_VNFS][POLICY_NAME_LEN];
	yaml_mark_t cache_vnf_at[POLICY_MAX_CACHE_VNFS];
	uint32_t n_profiles;
	struct raw_profile profiles[POLICY_MAX_PROFILES];
	uint32_t n_vnfs;
	struct raw_vnf *vnfs;
	uint32_t n_pairs;
	struct raw_pair *pairs;
	uint32_t n_block;
	struct raw_prefix *block;
	uint32_t n_allow;
	struct raw_prefix *allow;
	uint32_t n_shm;
	struct raw_shm *shm;
	bool has_playbooks;		/* the key was there, maybe [] */
	uint32_t n_playbooks;
	struct raw_playbook *playbooks;
};

struct pctx {
	const char *file;
	yaml_document_t *doc;
	struct policy_diag *diag;
	uint8_t *visited;		/* one byte per node: aliases are refused */
	size_t n_nodes;
	int err;			/* first hard error (-ENOMEM) */
	uint32_t n_errors;		/* diagnostics recorded */
	struct raw_policy *raw;
	const struct raw_vnf **sorted;	/* VNFs by name, during compile */
};

/* diag.c */
int diag_add(struct policy_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* yamlnode.c: typed access to the YAML tree, every error with its mark */
void perr(struct pctx *c, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
yaml_node_t *node_get(struct pctx *c, int id);
bool node_enter(struct pctx *c, yaml_node_t *n, const char *path);
const char *node_kind(const yaml_node_t *n);
bool node_is_null(const yaml_node_t *n);

struct key_spec {
	const char *key;
	bool required;
	void (*parse)(struct pctx *c, const char *path, yaml_node_t *val,
		      void *obj);
};

/* playbook.c's keys, for policy_schema_each() (parse.c). */
extern const struct key_spec playbook_keys[];
extern const struct key_spec action_keys[];
bool parse_map(struct pctx *c, const char *path, yaml_node_t *n,
	       const struct key_spec *keys, void *obj);
bool expect_seq(struct pctx *c, const char *path, yaml_node_t *n,
		size_t max);
bool get_str(struct pctx *c, const char *path, yaml_node_t *n, char *buf,
	     size_t size);
bool get_name(struct pctx *c, const char *path, yaml_node_t *n, char *buf,
	      size_t size);
bool get_u64(struct pctx *c, const char *path, yaml_node_t *n, uint64_t min,
	     uint64_t max, uint64_t *out);
bool get_u32(struct pctx *c, const char *path, yaml_node_t *n, uint32_t min,
	     uint32_t max, uint32_t *out);
bool get_enum(struct pctx *c, const char *path, yaml_node_t *n,
	      const char *const *names, size_t n_names, int *out);
bool get_prefix(struct pctx *c, const char *path, yaml_node_t *n,
		struct policy_prefix *p);
void path_join(char *out, const char *base, const char *key);
void path_index(char *out, const char *base, size_t i);

/* parse.c */
void parse_root(struct pctx *c, yaml_node_t *root);
void raw_policy_free(struct raw_policy *r);

/* profiles.c */
extern const char *const policy_l7_names[];
extern const size_t policy_n_l7;
extern const char *const policy_mode_names[];
void profiles_add_builtin(struct raw_policy *r);
bool profile_builtin_accept(const char *name, uint32_t i,
			    struct traffic_spec *t);
void thresholds_defaults(struct policy_thresholds *t);
void thresholds_merge(struct policy_thresholds *dst, const struct thr_set *s);

/* playbook.c: the playbooks section, its names and cross-checks */
extern const char *const policy_detector_names[];
extern const size_t policy_n_detectors;
extern const char *const policy_action_names[];	/* index = type - 1 */
extern const size_t policy_n_actions;
void parse_playbooks(struct pctx *c, const char *path, yaml_node_t *n,
		     void *obj);
void check_playbooks(struct pctx *c);

/* compile.c */
int compile_raw(struct pctx *c, struct policy_compiled **out);

/* prefix helpers (dump.c) */
bool prefix_overlaps(const struct policy_prefix *a,
		     const struct policy_prefix *b);
int prefix_cmp(const struct policy_prefix *a, const struct policy_prefix *b);

#endif /* VNFSEC_POLICY_INTERNAL_H */
