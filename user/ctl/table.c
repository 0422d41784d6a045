// SPDX-License-Identifier: GPL-2.0-only
/*
 * Human output: arrays of objects as aligned tables (columns sized to the
 * widest cell), single objects as "key: value" lines. --json output is
 * the daemon's own result, re-serialised on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/ctl/ctl.h"

static struct json_object *lookup_one(struct json_object *row,
				      const char *path)
{
	char part[64];
	const char *dot;

	while (row && *path) {
		size_t len;

		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(part) || !json_object_is_type(row, json_type_object))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		if (!json_object_object_get_ex(row, part, &row))
			return NULL;
		path += len + (dot ? 1 : 0);
	}
	return row;
}

/*
 * "alert.signature|heuristic": the first path present. The agent and the
 * server name some fields differently (their own event vs EVE).
 */
static struct json_object *lookup(struct json_object *row, const char *paths)
{
	char one[128];
	const char *bar;

	while (*paths) {
		struct json_object *v;
		size_t len;

		bar = strchr(paths, '|');
		len = bar ? (size_t)(bar - paths) : strlen(paths);
		if (len >= sizeof(one))
			return NULL;
		memcpy(one, paths, len);
		one[len] = '\0';
		v = lookup_one(row, one);
		if (v)
			return v;
		if (!bar)
			break;
		paths = bar + 1;
	}
	return NULL;
}

/* One cell as text; the caller frees it. */
static char *cell(struct json_object *v)
{
	char *s = NULL;
	size_t i, n, len = 0;
	FILE *f;

	if (!v)
		return strdup("-");
	switch (json_object_get_type(v)) {
	case json_type_null:
		return strdup("-");
	case json_type_boolean:
		return strdup(json_object_get_boolean(v) ? "yes" : "no");
	case json_type_string:
		return strdup(json_object_get_string(v)[0] ?
			      json_object_get_string(v) : "-");
	case json_type_array:
		n = json_object_array_length(v);
		if (!n)
			return strdup("-");
		f = open_memstream(&s, &len);
		if (!f)
			return NULL;
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			struct json_object *name;
			char *c;

			/* A list of objects reads best as their names. */
			if (json_object_is_type(e, json_type_object) &&
			    json_object_object_get_ex(e, "name", &name))
				e = name;
			c = cell(e);

			fprintf(f, "%s%s", i ? "," : "", c ? c : "?");
			free(c);
		}
		fclose(f);
		return s;
	default:
		return strdup(json_object_to_json_string_ext(v,
				JSON_C_TO_STRING_PLAIN));
	}
}

/* Milliseconds since the epoch read best as UTC ISO 8601. */
static char *cell_col(struct json_object *v, const struct ctl_column *col)
{
	char buf[40];
	struct tm tm;
	time_t t;
	int64_t ms;

	if (!col->ms_time || !v || !json_object_is_type(v, json_type_int))
		return cell(v);
	ms = json_object_get_int64(v);
	t = (time_t)(ms / 1000);
	if (ms < 0 || !gmtime_r(&t, &tm))
		return cell(v);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
		 (int)(ms % 1000));
	return strdup(buf);
}

void ctl_print_table(struct json_object *rows, const struct ctl_column *cols)
{
	size_t n_rows, n_cols, r, k, *width;
	char **cells;

	for (n_cols = 0; cols[n_cols].header; n_cols++)
		;
	n_rows = json_object_array_length(rows);
	width = calloc(n_cols, sizeof(*width));
	cells = calloc(n_rows * n_cols + 1, sizeof(*cells));
	if (!width || !cells)
		goto out;
	for (k = 0; k < n_cols; k++)
		width[k] = strlen(cols[k].header);
	for (r = 0; r < n_rows; r++) {
		struct json_object *row = json_object_array_get_idx(rows, r);

		for (k = 0; k < n_cols; k++) {
			char *c = cell_col(lookup(row, cols[k].path), &cols[k]);

			cells[r * n_cols + k] = c;
			if (c && strlen(c) > width[k])
				width[k] = strlen(c);
		}
	}
	for (k = 0; k < n_cols; k++)
		printf("%-*s%s", k + 1 < n_cols ? (int)width[k] : 0,
		       cols[k].header, k + 1 < n_cols ? "  " : "\n");
	for (r = 0; r < n_rows; r++)
		for (k = 0; k < n_cols; k++) {
			const char *c = cells[r * n_cols + k];

			printf("%-*s%s", k + 1 < n_cols ? (int)width[k] : 0,
			       c ? c : "?", k + 1 < n_cols ? "  " : "\n");
		}
out:
	if (cells)
		for (r = 0; r < n_rows * n_cols; r++)
			free(cells[r]);
	free(cells);
	free(width);
}

/* Streams cannot know the widths ahead: fixed columns, cut to fit. */
void ctl_print_row(struct json_object *row, const struct ctl_column *cols,
		   bool header)
{
	size_t k;

	for (k = 0; cols[k].header; k++) {
		bool last = !cols[k + 1].header;
		char *c = header ? strdup(cols[k].header) :
			  cell_col(lookup(row, cols[k].path), &cols[k]);

		if (last)
			printf("%s\n", c ? c : "?");
		else
			printf("%-24.24s  ", c ? c : "?");
		free(c);
	}
	fflush(stdout);
}

static void print_flat(const char *prefix, struct json_object *obj, int width)
{
	json_object_object_foreach(obj, key, val) {
		char name[256];

		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
			 key);
		if (json_object_is_type(val, json_type_object)) {
			print_flat(name, val, width);
		} else {
			char *c = cell(val);

			printf("%s:%*s%s\n", name, width - (int)strlen(name), "",
			       c ? c : "?");
			free(c);
		}
	}
}

static int flat_width(const char *prefix, struct json_object *obj)
{
	int w = 0;

	json_object_object_foreach(obj, key, val) {
		int len = (int)(strlen(prefix) + (*prefix ? 1 : 0) + strlen(key));

		if (json_object_is_type(val, json_type_object)) {
			char name[256];
			int sub;

			snprintf(name, sizeof(name), "%s%s%s", prefix,
				 *prefix ? "." : "", key);
			sub = flat_width(name, val);
			if (sub > w)
				w = sub;
		} else if (len + 1 > w) {
			w = len + 1;
		}
	}
	return w;
}

void ctl_print_object(struct json_object *obj)
{
	char *c;

	if (!obj) {
		printf("ok\n");
		return;
	}
	if (json_object_is_type(obj, json_type_object)) {
		print_flat("", obj, flat_width("", obj) + 1);
		return;
	}
	c = cell(obj);
	printf("%s\n", c ? c : "?");
	free(c);
}

void ctl_print_json(struct json_object *obj)
{
	printf("%s\n", obj ? json_object_to_json_string_ext(obj,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
}
