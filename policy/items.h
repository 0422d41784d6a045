/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A compiled policy as "key value" items: the unit of the canonical dump
 * and of "policy diff" (same key, other value: changed).
 */
#ifndef VNFSEC_POLICY_ITEMS_H
#define VNFSEC_POLICY_ITEMS_H

#include <stddef.h>

#include "policy/vnfsec_policy.h"

struct item {
	char *key;
	char *val;
};

struct item_list {
	size_t n;
	size_t cap;
	struct item *items;
};

int policy_items(const struct policy_compiled *p, struct item_list *l);
void items_free(struct item_list *l);
int policy_set_digest(struct policy_compiled *p);

#endif /* VNFSEC_POLICY_ITEMS_H */
