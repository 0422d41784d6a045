// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "user/agent/spool.h"
#include "user/common/log.h"

#define SPOOL_MAGIC 0x56535031u		/* "VSP1" */

/* Record header on disk, little-endian as the hosts that write it. */
struct spool_hdr {
	uint32_t magic;
	uint32_t len;
	uint64_t id;
};

struct spool {
	char dir[PATH_MAX - 16];
	int log_fd;
	int dir_fd;
	size_t max_bytes;
	size_t log_bytes;		/* file size, acked records included */
	uint64_t acked;
	uint64_t last_id;
	struct spool_record *recs;	/* pending, oldest first */
	unsigned int nr;
	unsigned int cap;
};

static uint32_t record_crc(const struct spool_hdr *h, const void *data)
{
	uLong crc = crc32(0L, (const Bytef *)h, sizeof(*h));

	return crc32(crc, data, h->len);
}

static int push(struct spool *sp, uint64_t id, const void *data, size_t len)
{
	struct spool_record *r;

	if (sp->nr == sp->cap) {
		unsigned int cap = sp->cap ? sp->cap * 2 : 64;

		r = realloc(sp->recs, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		sp->recs = r;
		sp->cap = cap;
	}
	r = &sp->recs[sp->nr];
	r->data = malloc(len ? len : 1);
	if (!r->data)
		return -ENOMEM;
	memcpy(r->data, data, len);
	r->id = id;
	r->len = len;
	sp->nr++;
	return 0;
}

static int read_acked(struct spool *sp)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = openat(sp->dir_fd, "acked", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	sp->acked = strtoull(buf, NULL, 10);
	return 0;
}

/* Replay the log; cut it at the first record that is torn or corrupt. */
static int load(struct spool *sp)
{
	uint8_t *data = malloc(SPOOL_RECORD_MAX);
	off_t off = 0;
	int ret = 0;

	if (!data)
		return -ENOMEM;
	for (;;) {
		struct spool_hdr h;
		uint32_t crc;
		ssize_t n;

		n = pread(sp->log_fd, &h, sizeof(h), off);
		if (n == 0)
			break;
		if (n != sizeof(h) || h.magic != SPOOL_MAGIC ||
		    h.len > SPOOL_RECORD_MAX)
			goto torn;
		if (pread(sp->log_fd, data, h.len, off + sizeof(h)) !=
			    (ssize_t)h.len ||
		    pread(sp->log_fd, &crc, sizeof(crc),
			  off + sizeof(h) + h.len) != sizeof(crc) ||
		    crc != record_crc(&h, data))
			goto torn;
		off += sizeof(h) + h.len + sizeof(crc);
		if (h.id > sp->last_id)
			sp->last_id = h.id;
		if (h.id <= sp->acked)
			continue;
		ret = push(sp, h.id, data, h.len);
		if (ret)
			goto out;
		continue;
torn:
		log_warn("spool %s: record at byte %lld is torn or corrupt (a crash mid-write); cutting the log there, %u assessments kept",
			 sp->dir, (long long)off, sp->nr);
		if (ftruncate(sp->log_fd, off) || fsync(sp->log_fd))
			ret = -errno;
		break;
	}
	sp->log_bytes = off;
out:
	free(data);
	return ret;
}

int spool_open(const char *dir, size_t max_bytes, struct spool **out)
{
	struct spool *sp;
	int ret;

	*out = NULL;
	if (strlen(dir) >= sizeof(sp->dir))
		return -ENAMETOOLONG;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	snprintf(sp->dir, sizeof(sp->dir), "%s", dir);
	sp->max_bytes = max_bytes;
	sp->log_fd = -1;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd < 0) {
		ret = -errno;
		goto fail;
	}
	sp->log_fd = openat(sp->dir_fd, "spool.log",
			    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->log_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = read_acked(sp);
	if (!ret)
		ret = load(sp);
	if (ret)
		goto fail;
	if (sp->acked > sp->last_id)
		sp->last_id = sp->acked;
	*out = sp;
	return 0;
fail:
	log_err("cannot open assessment spool %s: %s; check --spool-dir",
		dir, strerror(-ret));
	spool_close(sp);
	return ret;
}

void spool_close(struct spool *sp)
{
	unsigned int i;

	if (!sp)
		return;
	for (i = 0; i < sp->nr; i++)
		free(sp->recs[i].data);
	free(sp->recs);
	if (sp->log_fd >= 0)
		close(sp->log_fd);
	if (sp->dir_fd >= 0)
		close(sp->dir_fd);
	free(sp);
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int spool_append(struct spool *sp, uint64_t id, const void *data, size_t len)
{
	struct spool_hdr h = { .magic = SPOOL_MAGIC, .len = len, .id = id };
	size_t rec_len = sizeof(h) + len + sizeof(uint32_t);
	uint32_t crc;
	int ret;

	if (len > SPOOL_RECORD_MAX)
		return -EMSGSIZE;
	if (sp->log_bytes + rec_len > sp->max_bytes)
		return -ENOSPC;
	crc = record_crc(&h, data);
	ret = write_all(sp->log_fd, &h, sizeof(h), sp->log_bytes);
	if (!ret)
		ret = write_all(sp->log_fd, data, len,
				sp->log_bytes + sizeof(h));
	if (!ret)
		ret = write_all(sp->log_fd, &crc, sizeof(crc),
				sp->log_bytes + sizeof(h) + len);
	if (!ret && fdatasync(sp->log_fd))
		ret = -errno;
	if (ret) {
		/* Leave no half record behind for the next append. */
		if (ftruncate(sp->log_fd, sp->log_bytes))
			log_warn("spool %s: cannot cut a failed write: %s",
				 sp->dir, strerror(errno));
		return ret;
	}
	sp->log_bytes += rec_len;
	if (id > sp->last_id)
		sp->last_id = id;
	ret = push(sp, id, data, len);
	return ret;
}

static int write_acked(struct spool *sp, uint64_t id)
{
	char buf[32];
	int fd, len, ret = 0;

	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)id);
	fd = openat(sp->dir_fd, "acked.tmp",
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != len || fsync(fd))
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && renameat(sp->dir_fd, "acked.tmp", sp->dir_fd, "acked"))
		ret = -errno;
	if (!ret && fsync(sp->dir_fd))
		ret = -errno;
	return ret;
}

/*
 * Rewrite the log with the pending records only, so a server that acks
 * steadily but is never fully caught up does not fill the bound.
 */
static int compact(struct spool *sp)
{
	size_t off = 0;
	unsigned int i;
	int fd, ret = 0;

	fd = openat(sp->dir_fd, "spool.log.tmp",
		    O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (i = 0; i < sp->nr && !ret; i++) {
		const struct spool_record *r = &sp->recs[i];
		struct spool_hdr h = {
			.magic = SPOOL_MAGIC, .len = r->len, .id = r->id,
		};
		uint32_t crc = record_crc(&h, r->data);

		ret = write_all(fd, &h, sizeof(h), off);
		if (!ret)
			ret = write_all(fd, r->data, r->len, off + sizeof(h));
		if (!ret)
			ret = write_all(fd, &crc, sizeof(crc),
					off + sizeof(h) + r->len);
		off += sizeof(h) + r->len + sizeof(crc);
	}
	if (!ret && fsync(fd))
		ret = -errno;
	if (!ret && renameat(sp->dir_fd, "spool.log.tmp", sp->dir_fd,
			     "spool.log"))
		ret = -errno;
	if (!ret && fsync(sp->dir_fd))
		ret = -errno;
	if (ret) {
		close(fd);
		unlinkat(sp->dir_fd, "spool.log.tmp", 0);
		return ret;
	}
	close(sp->log_fd);
	sp->log_fd = fd;
	sp->log_bytes = off;
	return 0;
}

int spool_ack(struct spool *sp, uint64_t id)
{
	unsigned int n = 0, i;
	int ret;

	if (id <= sp->acked)
		return 0;
	ret = write_acked(sp, id);
	if (ret) {
		log_err("spool %s: cannot record acknowledgement: %s; assessments may be sent twice (the server drops duplicates)",
			sp->dir, strerror(-ret));
		return ret;
	}
	sp->acked = id;
	while (n < sp->nr && sp->recs[n].id <= id)
		free(sp->recs[n++].data);
	for (i = n; i < sp->nr; i++)
		sp->recs[i - n] = sp->recs[i];
	sp->nr -= n;
	/* Everything sent and acknowledged: start the log afresh. */
	if (!sp->nr && sp->log_bytes) {
		if (ftruncate(sp->log_fd, 0) || fsync(sp->log_fd))
			return -errno;
		sp->log_bytes = 0;
	} else if (sp->log_bytes > sp->max_bytes / 2) {
		ret = compact(sp);
		if (ret)
			log_warn("spool %s: cannot compact: %s", sp->dir,
				 strerror(-ret));
	}
	return 0;
}

unsigned int spool_pending(const struct spool *sp)
{
	return sp->nr;
}

const struct spool_record *spool_get(const struct spool *sp, unsigned int i)
{
	return i < sp->nr ? &sp->recs[i] : NULL;
}

uint64_t spool_last_id(const struct spool *sp)
{
	return sp->last_id;
}

size_t spool_bytes(const struct spool *sp)
{
	return sp->log_bytes;
}
