// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "user/common/line_file.h"
#include "user/common/log.h"

int line_file_read(const char *path, const char *option, const char *format,
		   int (*fn)(void *ctx, char *line), void *ctx)
{
	unsigned int lineno = 0;
	char line[4096];
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f) {
		ret = -errno;
		log_err("%s %s: %s", option, path, strerror(errno));
		return ret;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *p = line;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			continue;
		ret = fn(ctx, p);
		if (ret == -EINVAL)
			log_err("%s:%u: expected '%s'", path, lineno, format);
	}
	fclose(f);
	return ret;
}
