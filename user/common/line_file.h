/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VNFSEC_LINE_FILE_H
#define VNFSEC_LINE_FILE_H

/*
 * An operator's list file (--enroll-allow, --expected-pcrs), one entry a
 * line: blank lines and '#' comments are skipped, leading blanks trimmed,
 * lines up to 4095 bytes. @fn gets each entry; a non-zero return stops
 * the read: -EINVAL is logged as "PATH:LINE: expected @format", other
 * errors are passed on. Returns 0 or a negative errno (logged).
 */
int line_file_read(const char *path, const char *option, const char *format,
		   int (*fn)(void *ctx, char *line), void *ctx);

#endif /* VNFSEC_LINE_FILE_H */
