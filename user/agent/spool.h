/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The assessment spool: every assessment is written to disk and fsync'd
 * before it is sent, and forgotten only when the server acknowledges it.
 * An agent restart or a server outage loses nothing; the server drops
 * the duplicates a resend creates, by id.
 *
 * On disk, in the spool directory:
 *   spool.log  records: magic, length, id, payload (a packed
 *              vnfsec.Assessment), CRC32 of all before it. A torn tail
 *              (crash mid-write) is cut off at open, with a log line.
 *   acked      the highest id the server acknowledged (written whole and
 *              renamed into place).
 */
#ifndef VNFSEC_SPOOL_H
#define VNFSEC_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_RECORD_MAX 65536		/* one payload, as a wire frame */

struct spool;

struct spool_record {
	uint64_t id;
	uint32_t len;
	uint8_t *data;
};

/* Open (creating) the spool in @dir; at most @max_bytes pending on disk. */
int spool_open(const char *dir, size_t max_bytes, struct spool **out);
void spool_close(struct spool *sp);

/* Append and fsync; -ENOSPC when the bound is reached (nothing written). */
int spool_append(struct spool *sp, uint64_t id, const void *data,
		 size_t len);

/* The server has every id up to @id: forget them, durably. */
int spool_ack(struct spool *sp, uint64_t id);

unsigned int spool_pending(const struct spool *sp);
/* The @i-th pending record, oldest first. */
const struct spool_record *spool_get(const struct spool *sp, unsigned int i);
/* Highest id ever spooled or acknowledged, 0 for a new spool. */
uint64_t spool_last_id(const struct spool *sp);
size_t spool_bytes(const struct spool *sp);

#endif /* VNFSEC_SPOOL_H */
