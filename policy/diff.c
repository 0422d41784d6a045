// SPDX-License-Identifier: GPL-2.0-only
/*
 * "policy diff": compare two compiled policies item by item. Items are
 * keyed by what they are about (a VNF's name, a rule's pair, protocol and
 * ports, a prefix), so a rule whose expected L7 protocol changed shows as
 * changed, not as one removed and one added.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/items.h"

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static void print_change(void *ctx, char op, const char *key,
			 const char *old_val, const char *new_val)
{
	FILE *f = ctx;
	const char *val = op == '-' ? old_val : new_val;

	if (op == '~')
		fprintf(f, "~ %s: %s -> %s\n", key, old_val, new_val);
	else if (val[0])
		fprintf(f, "%c %s %s\n", op, key, val);
	else
		fprintf(f, "%c %s\n", op, key);
}

int policy_diff(const struct policy_compiled *old,
		const struct policy_compiled *new, FILE *f)
{
	return policy_diff_each(old, new, print_change, f);
}

int policy_diff_each(const struct policy_compiled *old,
		     const struct policy_compiled *new,
		     policy_change_fn fn, void *ctx)
{
	struct item_list a, b;
	size_t i = 0, j = 0;
	int n = 0, err;

	err = policy_items(old, &a);
	if (err)
		return err;
	err = policy_items(new, &b);
	if (err) {
		items_free(&a);
		return err;
	}
	qsort(a.items, a.n, sizeof(*a.items), cmp_item);
	qsort(b.items, b.n, sizeof(*b.items), cmp_item);
	while (i < a.n || j < b.n) {
		int d = i == a.n ? 1 : j == b.n ? -1 :
			strcmp(a.items[i].key, b.items[j].key);

		if (d < 0) {
			fn(ctx, '-', a.items[i].key, a.items[i].val, "");
			i++;
			n++;
		} else if (d > 0) {
			fn(ctx, '+', b.items[j].key, "", b.items[j].val);
			j++;
			n++;
		} else {
			if (strcmp(a.items[i].val, b.items[j].val)) {
				fn(ctx, '~', a.items[i].key, a.items[i].val,
				   b.items[j].val);
				n++;
			}
			i++;
			j++;
		}
	}
	items_free(&a);
	items_free(&b);
	return n;
}
