// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/vnfsec feature tests, one behaviour each: the event queue,
 * shared-memory watches (mappers, tampering, patterns, snapshots, region
 * lifetime), cache monitors, bad arguments and an ioctl fuzzer. Needs
 * vnfsec.ko loaded (default parameters) and root; run by selftests/kmod/run
 * inside the test VM. Every test makes its own regions and descriptor;
 * the harness forks each, so what a test leaves open ends with it.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "kmod/uapi/vnfsec_kmod.h"
#include "kselftest_harness.h"

#define PAGE		4096UL
#define SCAN_CHUNK	65536UL	/* kmod/shm_watch.c VNFSEC_CHUNK */
#define WAIT_MS		20000	/* for periodic work: generous, not timed */

static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int dev_open(void)
{
	return open(VNFSEC_KMOD_DEVICE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

/* A memfd of @size bytes, mapped shared at *map. */
static int region_new(size_t size, unsigned char **map)
{
	int fd = memfd_create("vnfsec-test", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

static void watch_init(struct vnfsec_kmod_watch_add *a, int fd, __u64 len)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->kind = VNFSEC_KMOD_WATCH_FD;
	a->fd = fd;
	a->len = len;
}

/* Watch @len bytes of @fd; allow only us; returns the id or -errno. */
static int watch_fd(int dev, int fd, __u64 len, __u32 period_ms)
{
	struct vnfsec_kmod_watch_add a;
	int ret;

	watch_init(&a, fd, len);
	a.period_ms = period_ms;
	a.nr_allow_pids = 1;
	a.allow_pids[0] = getpid();
	ret = ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a);
	return ret ? ret : (int)a.watch_id;
}

static int watch_check(int dev, __u32 id, struct vnfsec_kmod_watch_check *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->watch_id = id;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_CHECK, c);
}

static int stats_get(int dev, struct vnfsec_kmod_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl_err(dev, VNFSEC_KMOD_IOC_STATS, st);
}

/* Reads what is queued, without blocking; returns the count or -errno. */
static int events_read(int dev, struct vnfsec_kmod_event *ev, int max)
{
	ssize_t n = read(dev, ev, max * sizeof(*ev));

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n / sizeof(*ev);
}

static int events_count(const struct vnfsec_kmod_event *ev, int n, int type)
{
	int i, count = 0;

	for (i = 0; i < n; i++)
		count += ev[i].type == type;
	return count;
}

/*
 * Waits (poll) until an event of @type for @id arrives; copies it to @out.
 * Returns 0, or -ETIMEDOUT after WAIT_MS: a generous bound for periodic
 * work under TCG, not a timing assertion.
 */
static int event_wait(int dev, int type, __u32 id,
		      struct vnfsec_kmod_event *out)
{
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	struct vnfsec_kmod_event ev[32];
	int waited = 0, n, i;

	while (waited < WAIT_MS) {
		n = events_read(dev, ev, 32);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			if (ev[i].type == type && ev[i].object_id == id) {
				*out = ev[i];
				return 0;
			}
		}
		if (!n) {
			poll(&pfd, 1, 100);
			waited += 100;
		}
	}
	return -ETIMEDOUT;
}

static long param_read(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/vnfsec/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static __u64 netns_ino_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

/* ---- events ---- */

TEST(events_read_rules)
{
	struct vnfsec_kmod_event ev[2];
	struct pollfd pfd;
	char small[8];
	int dev = dev_open();

	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, read(dev, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(dev, ev, sizeof(ev[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(dev, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	pfd.fd = dev;
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	close(dev);
}

/*
 * Fill the queue beyond its capacity with pattern matches: exactly the
 * overflow is lost, counted in STATS and in one LOST record placed after
 * the records that made it, and nothing else goes missing.
 */
TEST(event_queue_overflow_lost_count)
{
	static const char pat[] = "OVERFLOW";
	struct vnfsec_kmod_watch_scan sc;
	struct vnfsec_kmod_event *ev;
	struct vnfsec_kmod_stats st;
	unsigned char *map;
	__u32 cap, extra = 7, i;
	size_t size;
	int dev, fd, id, n;

	dev = dev_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, stats_get(dev, &st));
	cap = st.queue_len;
	ASSERT_LE(16, cap);
	EXPECT_EQ(0, st.lost);
	size = (cap + extra) * 64UL;
	fd = region_new(size, &map);
	ASSERT_LE(0, fd);
	for (i = 0; i < cap + extra; i++)
		memcpy(map + i * 64, pat, sizeof(pat) - 1);
	id = watch_fd(dev, fd, size, 3600000);
	ASSERT_LT(0, id);

	memset(&sc, 0, sizeof(sc));
	sc.size = sizeof(sc);
	sc.watch_id = id;
	sc.algo = VNFSEC_KMOD_SCAN_KMP;
	sc.pattern_len = sizeof(pat) - 1;
	memcpy(sc.pattern, pat, sc.pattern_len);
	sc.len = size;
	sc.max_matches = VNFSEC_KMOD_SCAN_MATCHES_MAX;
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, &sc));
	ASSERT_EQ(cap + extra, sc.matches);

	ASSERT_EQ(0, stats_get(dev, &st));
	EXPECT_EQ(cap, st.queued);
	EXPECT_EQ(extra, st.lost);
	EXPECT_EQ(cap + extra, st.raised);

	ev = calloc(cap + 8, sizeof(*ev));
	ASSERT_NE(NULL, ev);
	n = events_read(dev, ev, cap + 8);
	ASSERT_EQ((int)cap + 1, n);
	for (i = 0; i < cap; i++) {
		EXPECT_EQ(VNFSEC_KMOD_EV_SHM_PATTERN, ev[i].type);
		EXPECT_EQ(i, ev[i].seq);
		EXPECT_EQ(i * 64, ev[i].arg[0]);
	}
	EXPECT_EQ(VNFSEC_KMOD_EV_LOST, ev[cap].type);
	EXPECT_EQ(extra, ev[cap].arg[0]);
	EXPECT_EQ(cap, ev[cap].seq);	/* first lost one */
	EXPECT_EQ(sizeof(*ev), ev[cap].size);
	EXPECT_EQ(0, events_read(dev, ev, cap + 8));

	/* The total stays; a new event after the gap is delivered. */
	ASSERT_EQ(0, stats_get(dev, &st));
	EXPECT_EQ(extra, st.lost);
	EXPECT_EQ(0, st.queued);
	sc.max_matches = 1;
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, &sc));
	ASSERT_EQ(1, events_read(dev, ev, cap + 8));
	EXPECT_EQ(cap + extra, ev[0].seq);
	free(ev);
	close(fd);
	close(dev);
}

/* ---- shared-memory watches ---- */

TEST(authorized_mapper_listed)
{
	struct vnfsec_kmod_mapper m[8];
	struct vnfsec_kmod_watch_mappers wm;
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_event ev[4];
	unsigned char *map;
	char comm[16] = "";
	int dev, fd, id, i, self = -1;

	ASSERT_EQ(0, prctl(PR_SET_NAME, "vnf-authorized"));
	ASSERT_EQ(0, prctl(PR_GET_NAME, comm));
	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(2 * PAGE, &map);
	ASSERT_LE(0, fd);
	map[0] = 1;
	id = watch_fd(dev, fd, 2 * PAGE, 3600000);
	ASSERT_LT(0, id);

	memset(&wm, 0, sizeof(wm));
	wm.size = sizeof(wm);
	wm.watch_id = id;
	wm.capacity = 8;
	wm.mappers = (uintptr_t)m;
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_MAPPERS, &wm));
	ASSERT_EQ(1, wm.total);
	ASSERT_EQ(1, wm.count);
	for (i = 0; i < (int)wm.count; i++)
		if (m[i].pid == (__u32)getpid())
			self = i;
	ASSERT_LE(0, self);
	EXPECT_EQ(VNFSEC_KMOD_MAPPER_AUTHORIZED, m[self].flags);
	EXPECT_STREQ(comm, m[self].comm);
	EXPECT_NE(0, m[self].cgroup_id);
	EXPECT_EQ(netns_ino_self(), m[self].netns_ino);

	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.mappers);
	EXPECT_EQ(0, c.unauthorized);
	EXPECT_EQ(0, events_count(ev, events_read(dev, ev, 4),
				  VNFSEC_KMOD_EV_SHM_MAPPER));

	/* Unmapped (fd still open): no longer a mapper. */
	ASSERT_EQ(0, munmap(map, 2 * PAGE));
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_MAPPERS, &wm));
	EXPECT_EQ(0, wm.total);
	close(fd);
	close(dev);
}

/* A child maps the region it is not allowed to: reported, once. */
TEST(unauthorized_mapper_reported)
{
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_event ev[8];
	int dev, fd, id, n, go[2], done[2], status;
	unsigned char *map;
	char byte;
	pid_t child;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(PAGE, &map);
	ASSERT_LE(0, fd);
	id = watch_fd(dev, fd, PAGE, 3600000);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		void *p;

		prctl(PR_SET_NAME, "vnf-intruder");
		p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		/* Stay mapped until the parent has looked. */
		if (read(done[0], &byte, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(go[0], &byte, 1));

	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(2, c.mappers);	/* us (allowed), the child */
	EXPECT_EQ(1, c.unauthorized);
	n = events_read(dev, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(VNFSEC_KMOD_EV_SHM_MAPPER, ev[0].type);
	EXPECT_EQ((__u32)id, ev[0].object_id);
	EXPECT_EQ((__u32)child, ev[0].pid);
	EXPECT_STREQ("vnf-intruder", ev[0].comm);
	EXPECT_EQ(netns_ino_self(), ev[0].netns_ino);
	EXPECT_NE(0, ev[0].cgroup_id);

	/* Still there at the next check: counted, not reported again. */
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.unauthorized);
	EXPECT_EQ(0, events_read(dev, ev, 8));

	ASSERT_EQ(1, write(done[1], "x", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.mappers);
	EXPECT_EQ(0, c.unauthorized);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	close(fd);
	close(dev);
}

static int protect(int dev, __u32 id, __u64 off, __u64 len,
		   struct vnfsec_kmod_watch_protect *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->watch_id = id;
	p->offset = off;
	p->len = len;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_PROTECT, p);
}

TEST(immutable_range_tampering_reported)
{
	struct vnfsec_kmod_watch_protect p;
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_event ev[8];
	unsigned char *map;
	__u8 zero[VNFSEC_KMOD_DIGEST_LEN] = { 0 };
	int dev, fd, id, n;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(3 * PAGE, &map);
	ASSERT_LE(0, fd);
	memset(map, 0xa5, 3 * PAGE);
	id = watch_fd(dev, fd, 3 * PAGE, 3600000);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, protect(dev, id, 100, 5000, &p));
	EXPECT_EQ(0, p.index);
	EXPECT_NE(0, memcmp(zero, p.digest, sizeof(zero)));

	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.ranges);
	EXPECT_EQ(0, c.tampered);

	/* Outside the protected range: not tampering. */
	map[99] ^= 1;
	map[5100] ^= 1;
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(0, c.tampered);
	EXPECT_EQ(0, events_read(dev, ev, 8));

	/* One bit inside it, across the page boundary from the start. */
	map[4096 + 3] ^= 0x10;
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.tampered);
	n = events_read(dev, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(VNFSEC_KMOD_EV_SHM_TAMPER, ev[0].type);
	EXPECT_EQ((__u32)id, ev[0].object_id);
	EXPECT_EQ(0, ev[0].arg[0]);
	EXPECT_EQ(100, ev[0].arg[1]);
	EXPECT_EQ(5000, ev[0].arg[2]);

	/* Same change: still tampered, reported once. Restored: clean. */
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.tampered);
	EXPECT_EQ(0, events_read(dev, ev, 8));
	map[4096 + 3] ^= 0x10;
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(0, c.tampered);
	close(fd);
	close(dev);
}

/* The periodic check finds tampering without being asked. */
TEST(tampering_found_by_periodic_check)
{
	struct vnfsec_kmod_watch_protect p;
	struct vnfsec_kmod_event ev;
	unsigned char *map;
	int dev, fd, id;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(PAGE, &map);
	ASSERT_LE(0, fd);
	id = watch_fd(dev, fd, PAGE, 20);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, protect(dev, id, 0, PAGE, &p));
	map[PAGE - 1] = 0x42;
	ASSERT_EQ(0, event_wait(dev, VNFSEC_KMOD_EV_SHM_TAMPER, id, &ev));
	EXPECT_EQ(0, ev.arg[1]);
	EXPECT_EQ(PAGE, ev.arg[2]);
	close(fd);
	close(dev);
}

static double median_ms(double *ns, int n)
{
	double tmp;
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (ns[j] < ns[i]) {
				tmp = ns[i];
				ns[i] = ns[j];
				ns[j] = tmp;
			}
	return ns[n / 2] / 1e6;
}

/* Median time of @rounds WATCH_CHECKs of watch @id, in ms. */
static double check_ms(int dev, __u32 id, int rounds, __u32 ranges)
{
	struct vnfsec_kmod_watch_check c;
	struct timespec t0, t1;
	double ns[32];
	int i;

	for (i = 0; i < rounds; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (watch_check(dev, id, &c) || c.ranges != ranges ||
		    c.tampered)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[i] = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	}
	return median_ms(ns, rounds);
}

/*
 * Cost of one integrity check of a 1 MiB protected range, reported (not
 * asserted): a check with the range minus one without, on the same
 * region, so the mapper walk over every process cancels out.
 */
TEST(integrity_check_cost_1mib)
{
	struct vnfsec_kmod_watch_protect p;
	const int rounds = 21;
	double with, without;
	unsigned char *map;
	int dev, fd, id, bare, i;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(1 << 20, &map);
	ASSERT_LE(0, fd);
	for (i = 0; i < 1 << 20; i++)
		map[i] = i * 7;
	id = watch_fd(dev, fd, 1 << 20, 3600000);
	ASSERT_LT(0, id);
	bare = watch_fd(dev, fd, 1 << 20, 3600000);
	ASSERT_LT(0, bare);
	ASSERT_EQ(0, protect(dev, id, 0, 1 << 20, &p));
	with = check_ms(dev, id, rounds, 1);
	without = check_ms(dev, bare, rounds, 0);
	ASSERT_LE(0, with);
	ASSERT_LE(0, without);
	TH_LOG("1 MiB integrity check: %.2f ms (check %.2f - walk %.2f ms, medians of %d)",
	       with - without, with, without, rounds);
	close(fd);
	close(dev);
}

static int scan(int dev, __u32 id, __u32 algo, const char *pat, __u64 off,
		__u64 len, struct vnfsec_kmod_watch_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->size = sizeof(*sc);
	sc->watch_id = id;
	sc->algo = algo;
	sc->pattern_len = strlen(pat);
	memcpy(sc->pattern, pat, sc->pattern_len);
	sc->offset = off;
	sc->len = len;
	sc->max_matches = 100;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, sc);
}

/*
 * The pattern straddles a page boundary and, further on, a boundary of
 * the module's read chunks: both found once, by Boyer-Moore and by KMP.
 */
TEST(pattern_found_across_page_boundary)
{
	static const __u32 algos[] = { VNFSEC_KMOD_SCAN_BM,
				       VNFSEC_KMOD_SCAN_KMP };
	static const char pat[] = "EXFIL-MARKER-1234";
	const __u64 at[] = { PAGE - 7, SCAN_CHUNK - 5, 3 * SCAN_CHUNK - 1 };
	struct vnfsec_kmod_watch_scan sc;
	struct vnfsec_kmod_event ev[8];
	const size_t size = 4 * SCAN_CHUNK;
	unsigned char *map;
	unsigned int a, i;
	int dev, fd, id, n;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(size, &map);
	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		memcpy(map + at[i], pat, strlen(pat));
	id = watch_fd(dev, fd, size, 3600000);
	ASSERT_LT(0, id);

	for (a = 0; a < 2; a++) {
		ASSERT_EQ(0, scan(dev, id, algos[a], pat, 0, size, &sc));
		EXPECT_EQ(3, sc.matches) {
			TH_LOG("algo %u", algos[a]);
		}
		EXPECT_EQ(at[0], sc.first);
		n = events_read(dev, ev, 8);
		ASSERT_EQ(3, n);
		for (i = 0; i < 3; i++) {
			EXPECT_EQ(VNFSEC_KMOD_EV_SHM_PATTERN, ev[i].type);
			EXPECT_EQ(at[i], ev[i].arg[0]);
			EXPECT_EQ(strlen(pat), ev[i].arg[1]);
		}
	}

	/* A sub-range that cuts the first match short: not found. */
	ASSERT_EQ(0, scan(dev, id, VNFSEC_KMOD_SCAN_BM, pat, 0, PAGE, &sc));
	EXPECT_EQ(0, sc.matches);
	EXPECT_EQ(~0ULL, sc.first);
	/* A pattern that is not there. */
	ASSERT_EQ(0, scan(dev, id, VNFSEC_KMOD_SCAN_KMP, "NOT-THERE", 0, size,
			  &sc));
	EXPECT_EQ(0, sc.matches);
	EXPECT_EQ(0, events_read(dev, ev, 8));
	close(fd);
	close(dev);
}

static int snapshot(int dev, __u32 id, __u64 off, __u64 len, void *buf,
		    struct vnfsec_kmod_watch_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->watch_id = id;
	s->offset = off;
	s->len = len;
	s->buf = (uintptr_t)buf;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SNAPSHOT, s);
}

TEST(snapshot_bounded)
{
	struct vnfsec_kmod_watch_snapshot s;
	long max = param_read("snapshot_max");
	unsigned char *map, *buf;
	size_t size;
	int dev, fd, id, i;

	ASSERT_LT(0, max);
	size = max + 2 * PAGE;
	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(size, &map);
	ASSERT_LE(0, fd);
	for (i = 0; i < (int)size; i++)
		map[i] = i * 13 + 1;
	id = watch_fd(dev, fd, size, 3600000);
	ASSERT_LT(0, id);
	buf = calloc(1, size);
	ASSERT_NE(NULL, buf);

	/* Up to the bound: exact bytes. */
	ASSERT_EQ(0, snapshot(dev, id, 100, max, buf, &s));
	EXPECT_EQ((__u64)max, s.copied);
	EXPECT_EQ(0, memcmp(map + 100, buf, max));
	/* One byte more: refused, nothing written. */
	memset(buf, 0, size);
	EXPECT_EQ(-E2BIG, snapshot(dev, id, 0, max + 1, buf, &s));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(-E2BIG, snapshot(dev, id, 0, ~0ULL, buf, &s));
	/* Outside the region, empty, bad buffers. */
	EXPECT_EQ(-EINVAL, snapshot(dev, id, size - 10, 11, buf, &s));
	EXPECT_EQ(-EINVAL, snapshot(dev, id, ~0ULL - 5, 10, buf, &s));
	EXPECT_EQ(-EINVAL, snapshot(dev, id, 0, 0, buf, &s));
	EXPECT_EQ(-EFAULT, snapshot(dev, id, 0, 16, NULL, &s));
	EXPECT_EQ(-EFAULT, snapshot(dev, id, 0, 16,
				    (void *)0xffffffff81000000UL, &s));
	EXPECT_EQ(-ENOENT, snapshot(dev, id + 100, 0, 16, buf, &s));
	/* The last byte of the region. */
	ASSERT_EQ(0, snapshot(dev, id, size - 1, 1, buf, &s));
	EXPECT_EQ(map[size - 1], buf[0]);
	free(buf);
	close(fd);
	close(dev);
}

/* The owner closes and unmaps the memfd: the watch ends by itself. */
TEST(watch_removed_when_region_freed)
{
	struct vnfsec_kmod_watch_ref ref;
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_stats st;
	struct vnfsec_kmod_event ev;
	unsigned char *map;
	int dev, fd, id;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(PAGE, &map);
	ASSERT_LE(0, fd);
	id = watch_fd(dev, fd, PAGE, 20);
	ASSERT_LT(0, id);
	/* Still mapped after close: not gone. */
	close(fd);
	ASSERT_EQ(0, watch_check(dev, id, &c));
	EXPECT_EQ(1, c.mappers);
	ASSERT_EQ(0, munmap(map, PAGE));

	ASSERT_EQ(0, event_wait(dev, VNFSEC_KMOD_EV_SHM_GONE, id, &ev));
	ASSERT_EQ(0, stats_get(dev, &st));
	EXPECT_EQ(0, st.watches);
	ref.size = sizeof(ref);
	ref.id = id;
	EXPECT_EQ(-ENOENT, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_REMOVE, &ref));
	EXPECT_EQ(-ENOENT, watch_check(dev, id, &c));
	close(dev);
}

/*
 * A SysV segment watched by pid + address: listed while attached, gone
 * once removed and detached (the on-demand check notices it).
 */
TEST(sysv_segment_watch_ends_with_segment)
{
	struct vnfsec_kmod_watch_add a;
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_event ev[4];
	struct vnfsec_kmod_stats st;
	int dev, shmid, n;
	void *p;

	dev = dev_open();
	ASSERT_LE(0, dev);
	shmid = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
	ASSERT_LE(0, shmid);
	p = shmat(shmid, NULL, 0);
	ASSERT_NE((void *)-1, p);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.kind = VNFSEC_KMOD_WATCH_PID_RANGE;
	a.fd = -1;
	a.pid = getpid();
	a.addr = (uintptr_t)p + PAGE;
	a.len = PAGE;
	a.period_ms = 3600000;
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	ASSERT_EQ(0, watch_check(dev, a.watch_id, &c));
	EXPECT_EQ(1, c.mappers);
	EXPECT_EQ(1, c.unauthorized);	/* empty allowed set */
	n = events_read(dev, ev, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ((__u32)getpid(), ev[0].pid);

	/* Removed but attached: still there. */
	ASSERT_EQ(0, shmctl(shmid, IPC_RMID, NULL));
	ASSERT_EQ(0, watch_check(dev, a.watch_id, &c));
	ASSERT_EQ(0, shmdt(p));
	EXPECT_EQ(-ENOENT, watch_check(dev, a.watch_id, &c));
	n = events_read(dev, ev, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(VNFSEC_KMOD_EV_SHM_GONE, ev[0].type);
	EXPECT_EQ(a.watch_id, ev[0].object_id);
	ASSERT_EQ(0, stats_get(dev, &st));
	EXPECT_EQ(0, st.watches);
	close(dev);
}

/*
 * Shared anonymous memory (what fork()ed VNF components share), watched by
 * pid + address: its content is read back exactly, and the watch ends
 * once the last mapping goes.
 */
TEST(shared_anonymous_watch_by_pid_range)
{
	struct vnfsec_kmod_watch_snapshot s;
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_watch_add a;
	unsigned char *map, buf[64];
	int dev;

	dev = dev_open();
	ASSERT_LE(0, dev);
	map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	memcpy(map + 2 * PAGE + 10, "anon-shared", 11);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.kind = VNFSEC_KMOD_WATCH_PID_RANGE;
	a.fd = -1;
	a.pid = getpid();
	a.addr = (uintptr_t)map + PAGE;
	a.len = 3 * PAGE;
	a.period_ms = 3600000;
	a.nr_allow_pids = 1;
	a.allow_pids[0] = getpid();
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	/* Region offsets start at addr: the marker is at PAGE + 10. */
	ASSERT_EQ(0, snapshot(dev, a.watch_id, PAGE + 10, 11, buf, &s));
	EXPECT_EQ(0, memcmp("anon-shared", buf, 11));
	ASSERT_EQ(0, watch_check(dev, a.watch_id, &c));
	EXPECT_EQ(1, c.mappers);
	EXPECT_EQ(0, c.unauthorized);

	ASSERT_EQ(0, munmap(map, 4 * PAGE));
	EXPECT_EQ(-ENOENT, watch_check(dev, a.watch_id, &c));
	close(dev);
}

/* A /dev/shm file: lives while linked, ends when unlinked and closed. */
TEST(dev_shm_file_watch_ends_when_unlinked)
{
	char path[] = "/dev/shm/vnfsec-test-XXXXXX";
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_event ev[4];
	int dev, fd, id;

	fd = mkstemp(path);
	if (fd < 0)
		SKIP(return, "no writable /dev/shm in this VM: %s",
		     strerror(errno));
	ASSERT_EQ(0, ftruncate(fd, PAGE));
	dev = dev_open();
	ASSERT_LE(0, dev);
	id = watch_fd(dev, fd, PAGE, 3600000);
	if (id < 0)
		unlink(path);
	ASSERT_LT(0, id);
	close(fd);
	/* Closed but linked: someone may open it again. */
	EXPECT_EQ(0, watch_check(dev, id, &c));
	ASSERT_EQ(0, unlink(path));
	EXPECT_EQ(-ENOENT, watch_check(dev, id, &c));
	ASSERT_EQ(1, events_read(dev, ev, 4));
	EXPECT_EQ(VNFSEC_KMOD_EV_SHM_GONE, ev[0].type);
	close(dev);
}

/* Removing a watch and closing the device both end it. */
TEST(watch_remove_and_close)
{
	struct vnfsec_kmod_watch_ref ref = { .size = sizeof(ref) };
	struct vnfsec_kmod_stats st;
	unsigned char *map;
	int dev, fd, id, i;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(PAGE, &map);
	ASSERT_LE(0, fd);
	for (i = 0; i < 5; i++)
		ASSERT_LT(0, watch_fd(dev, fd, PAGE, 10));
	ASSERT_EQ(0, stats_get(dev, &st));
	EXPECT_EQ(5, st.watches);
	id = watch_fd(dev, fd, PAGE, 10);
	ASSERT_LT(0, id);
	ref.id = id;
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_REMOVE, &ref));
	EXPECT_EQ(-ENOENT, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_REMOVE, &ref));
	ASSERT_EQ(0, stats_get(dev, &st));
	EXPECT_EQ(5, st.watches);
	/* Closing with 5 watches and their works active. */
	close(dev);
	close(fd);
}

/* ---- cache monitors ---- */

static int cache_add(int dev, __u32 source, __u32 pid, int cpu,
		     __u32 period_ms, __u64 threshold)
{
	struct vnfsec_kmod_cache_add a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.source = source;
	a.pid = pid;
	a.cpu = cpu;
	a.period_ms = period_ms;
	a.threshold = threshold;
	ret = ioctl_err(dev, VNFSEC_KMOD_IOC_CACHE_ADD, &a);
	return ret ? ret : (int)a.monitor_id;
}

static int cache_sample(int dev, __u32 id, struct vnfsec_kmod_cache_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->monitor_id = id;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_CACHE_SAMPLE, s);
}

/*
 * Per-task software counter (page faults) on ourselves: touching 1024
 * fresh pages crosses a threshold of 256, an idle interval does not.
 */
TEST(cache_monitor_software_source_fires)
{
	struct vnfsec_kmod_cache_sample s;
	struct vnfsec_kmod_event ev[4];
	const size_t pages = 1024;
	unsigned char *mem;
	size_t i;
	int dev, id, n;

	dev = dev_open();
	ASSERT_LE(0, dev);
	id = cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS, getpid(), -1,
		       3600000, 256);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, cache_sample(dev, id, &s));
	EXPECT_EQ(0, events_read(dev, ev, 4));

	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	/* Small pages: a huge page would take 512 of them in one fault. */
	madvise(mem, pages * PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		mem[i * PAGE] = 1;
	ASSERT_EQ(0, cache_sample(dev, id, &s));
	EXPECT_LE(pages, s.delta);
	TH_LOG("%zu pages touched: %llu page faults counted", pages,
	       (unsigned long long)s.delta);
	n = events_read(dev, ev, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(VNFSEC_KMOD_EV_CACHE_THRESHOLD, ev[0].type);
	EXPECT_EQ((__u32)id, ev[0].object_id);
	EXPECT_EQ(s.delta, ev[0].arg[0]);
	EXPECT_EQ(256, ev[0].arg[1]);
	EXPECT_EQ(s.value, ev[0].arg[3]);

	/* Nothing touched since: under the threshold, no event. */
	ASSERT_EQ(0, cache_sample(dev, id, &s));
	EXPECT_GT(256, s.delta);
	EXPECT_EQ(0, events_read(dev, ev, 4));
	munmap(mem, pages * PAGE);
	close(dev);
}

/* Per-CPU software counter, sampled by the periodic work. */
TEST(cache_monitor_per_cpu_periodic)
{
	struct vnfsec_kmod_watch_ref ref = { .size = sizeof(ref) };
	struct vnfsec_kmod_event ev;
	int dev, id;

	dev = dev_open();
	ASSERT_LE(0, dev);
	id = cache_add(dev, VNFSEC_KMOD_CACHE_SW_CPU_CLOCK, 0, 0, 10, 1);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, event_wait(dev, VNFSEC_KMOD_EV_CACHE_THRESHOLD, id, &ev));
	EXPECT_LE(1, ev.arg[0]);
	EXPECT_LT(0, ev.arg[2]);
	ref.id = id;
	EXPECT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_CACHE_REMOVE, &ref));
	EXPECT_EQ(-ENOENT, ioctl_err(dev, VNFSEC_KMOD_IOC_CACHE_REMOVE, &ref));
	close(dev);
}

TEST(cache_monitor_hardware_source_no_pmu)
{
	static const __u32 sources[] = {
		VNFSEC_KMOD_CACHE_HW_CACHE_MISSES,
		VNFSEC_KMOD_CACHE_HW_LLC_READ_MISSES,
	};
	unsigned int i;
	int dev, ret;

	dev = dev_open();
	ASSERT_LE(0, dev);
	for (i = 0; i < 2; i++) {
		ret = cache_add(dev, sources[i], getpid(), -1, 1000, 1000);
		if (ret > 0) {
			close(dev);
			SKIP(return, "this machine has a PMU: source %u works",
			     sources[i]);
		}
		EXPECT_EQ(-EOPNOTSUPP, ret) {
			TH_LOG("source %u", sources[i]);
		}
		ret = cache_add(dev, sources[i], 0, 0, 1000, 1000);
		EXPECT_EQ(-EOPNOTSUPP, ret) {
			TH_LOG("per-CPU source %u", sources[i]);
		}
	}
	close(dev);
}

/* ---- bad arguments ---- */

/* ---- least privilege ---- */

/*
 * Become uid/gid 65534 with CAP_NET_ADMIN only, keeping the open
 * /dev/vnfsec: an operator tool running as a service user, or an
 * attacker in a container given CAP_NET_ADMIN.
 */
static int drop_to_net_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) ||
	    setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -1;
	memset(d, 0, sizeof(d));
	d[0].effective = 1U << CAP_NET_ADMIN;
	d[0].permitted = 1U << CAP_NET_ADMIN;
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

static int watch_pid_range(int dev, pid_t pid, void *addr, size_t len)
{
	struct vnfsec_kmod_watch_add a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.kind = VNFSEC_KMOD_WATCH_PID_RANGE;
	a.fd = -1;
	a.pid = pid;
	a.addr = (uintptr_t)addr;
	a.len = len;
	a.period_ms = 3600000;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a);
}

static int watch_memfd(int dev, int fd, size_t len)
{
	struct vnfsec_kmod_watch_add a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.kind = VNFSEC_KMOD_WATCH_FD;
	a.fd = fd;
	a.len = len;
	a.period_ms = 3600000;
	return ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a);
}

/*
 * The attack: a process with CAP_NET_ADMIN alone, as another user,
 * watches (and would snapshot) root's shared memory by pid, and puts a
 * counter on a root task. Refused with -EPERM, as /proc/PID/mem would
 * refuse it; the memory it holds an fd of stays watchable; root, and the
 * process on itself, are not refused.
 */
TEST(watch_by_pid_needs_read_access_to_the_task)
{
	int res[2], go[2], dev, memfd, status, out[6], i;
	unsigned char *map, *mine;
	pid_t child;

	map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	memfd = region_new(4 * PAGE, &mine);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, pipe(res));
	ASSERT_EQ(0, pipe(go));
	dev = dev_open();
	ASSERT_LE(0, dev);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		char c;

		out[0] = drop_to_net_admin();
		out[1] = watch_pid_range(dev, getppid(), map, PAGE);
		out[2] = cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				   getppid(), -1, 3600000, 1000);
		/* Its own memory, and what it holds an fd of: allowed. */
		out[3] = watch_pid_range(dev, getpid(), map, PAGE);
		out[4] = watch_memfd(dev, memfd, PAGE);
		out[5] = cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				   getpid(), -1, 3600000, 1000);
		if (write(res[1], out, sizeof(out)) != sizeof(out))
			_exit(2);
		/* Stay alive, as another user, until root has watched us. */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(sizeof(out), read(res[0], out, sizeof(out)));
	EXPECT_EQ(0, out[0]);
	EXPECT_EQ(-EPERM, out[1]);
	EXPECT_EQ(-EPERM, out[2]);
	EXPECT_EQ(0, out[3]);
	EXPECT_EQ(0, out[4]);
	EXPECT_LT(0, out[5]);
	for (i = 0; i < 6; i++)
		TH_LOG("net-admin-only step %d: %d", i, out[i]);
	/* Root, with CAP_SYS_PTRACE, reads the other user's task. */
	EXPECT_EQ(0, watch_pid_range(dev, child, map, PAGE));
	EXPECT_LT(0, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS, child,
			       -1, 3600000, 1000));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(dev);
	close(memfd);
	munmap(map, 4 * PAGE);
	munmap(mine, 4 * PAGE);
}

TEST(bad_watch_arguments)
{
	struct vnfsec_kmod_watch_add a;
	unsigned char *map;
	void *priv;
	int dev, fd, ro, other, pipefd[2];

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(2 * PAGE, &map);
	ASSERT_LE(0, fd);

	watch_init(&a, fd, PAGE);
	a.size--;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, PAGE);
	a.kind = 3;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, 0);
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, 2 * PAGE + 1);	/* past the end of the file */
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, ~0ULL);
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, PAGE);
	a.offset = ~0ULL - 10;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, PAGE);
	a.nr_allow_pids = VNFSEC_KMOD_ALLOW_MAX + 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, PAGE);
	a.period_ms = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, fd, PAGE);
	a.__pad0 = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, 9999, PAGE);
	EXPECT_EQ(-EBADF, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	/* Not a regular file: a pipe, the device itself. */
	ASSERT_EQ(0, pipe(pipefd));
	watch_init(&a, pipefd[0], 1);
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	watch_init(&a, dev, 1);
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	/* Regular files, but not shared memory: procfs, our own binary. */
	other = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, other);
	watch_init(&a, other, 1);
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	close(other);
	other = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, other);
	watch_init(&a, other, 1);
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	close(other);

	/* pid + range: private memory, no mapping, no such process. */
	priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, priv);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.kind = VNFSEC_KMOD_WATCH_PID_RANGE;
	a.fd = -1;
	a.pid = getpid();
	a.addr = (uintptr_t)priv;
	a.len = PAGE;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	a.addr = (uintptr_t)map;
	a.len = 3 * PAGE;	/* longer than the mapping */
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	a.len = PAGE;
	a.addr = 4096;
	EXPECT_EQ(-EFAULT, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	a.addr = (uintptr_t)map;
	a.pid = 0x3ffffff;
	EXPECT_EQ(-ESRCH, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	a.pid = getpid();
	a.fd = 0;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	a.fd = -1;
	ASSERT_EQ(0, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_ADD, &a));

	/* State-changing commands on a read-only descriptor. */
	ro = open(VNFSEC_KMOD_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	watch_init(&a, fd, PAGE);
	EXPECT_EQ(-EPERM, ioctl_err(ro, VNFSEC_KMOD_IOC_WATCH_ADD, &a));
	close(ro);
	munmap(priv, PAGE);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
	close(dev);
}

TEST(bad_object_arguments)
{
	struct vnfsec_kmod_watch_protect p;
	struct vnfsec_kmod_watch_mappers wm;
	struct vnfsec_kmod_watch_scan sc;
	struct vnfsec_kmod_cache_sample cs;
	struct vnfsec_kmod_watch_check c;
	struct vnfsec_kmod_mapper m[2];
	unsigned char *map;
	int dev, fd, id, i;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(PAGE, &map);
	ASSERT_LE(0, fd);
	id = watch_fd(dev, fd, PAGE, 3600000);
	ASSERT_LT(0, id);

	/* Protect: outside the region, empty, too many, no such watch. */
	EXPECT_EQ(-EINVAL, protect(dev, id, 0, PAGE + 1, &p));
	EXPECT_EQ(-EINVAL, protect(dev, id, PAGE, 1, &p));
	EXPECT_EQ(-EINVAL, protect(dev, id, 1, ~0ULL, &p));
	EXPECT_EQ(-EINVAL, protect(dev, id, 0, 0, &p));
	EXPECT_EQ(-ENOENT, protect(dev, 0, 0, 1, &p));
	EXPECT_EQ(-ENOENT, protect(dev, id + 1, 0, 1, &p));
	for (i = 0; i < VNFSEC_KMOD_PROTECT_MAX; i++)
		ASSERT_EQ(0, protect(dev, id, i, 1, &p));
	EXPECT_EQ(-ENOSPC, protect(dev, id, 0, 1, &p));

	/* Mappers: capacity, pointer. */
	memset(&wm, 0, sizeof(wm));
	wm.size = sizeof(wm);
	wm.watch_id = id;
	wm.mappers = (uintptr_t)m;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_MAPPERS, &wm));
	wm.capacity = VNFSEC_KMOD_MAPPERS_MAX + 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_MAPPERS, &wm));
	wm.capacity = 2;
	wm.mappers = 16;
	EXPECT_EQ(-EFAULT, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_MAPPERS, &wm));

	/* Scan: algorithm, pattern length and tail, max_matches, range. */
	EXPECT_EQ(0, scan(dev, id, VNFSEC_KMOD_SCAN_BM, "x", 0, PAGE, &sc));
	EXPECT_EQ(-EINVAL, scan(dev, id, 3, "x", 0, PAGE, &sc));
	EXPECT_EQ(-EINVAL, scan(dev, id, VNFSEC_KMOD_SCAN_BM, "", 0, PAGE,
				&sc));
	EXPECT_EQ(-EINVAL, scan(dev, id, VNFSEC_KMOD_SCAN_BM, "x", 0,
				PAGE + 1, &sc));
	EXPECT_EQ(-EINVAL, scan(dev, id, VNFSEC_KMOD_SCAN_BM, "x", ~0ULL, 2,
				&sc));
	scan(dev, id, VNFSEC_KMOD_SCAN_BM, "x", 0, PAGE, &sc);
	sc.pattern_len = VNFSEC_KMOD_PATTERN_MAX + 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, &sc));
	sc.pattern_len = 1;
	sc.pattern[5] = 'y';	/* garbage after the pattern */
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, &sc));
	sc.pattern[5] = 0;
	sc.max_matches = 0;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, &sc));
	sc.max_matches = VNFSEC_KMOD_SCAN_MATCHES_MAX + 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_SCAN, &sc));

	/* Check: reserved field, no such watch. */
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.watch_id = id;
	c.__reserved = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(dev, VNFSEC_KMOD_IOC_WATCH_CHECK, &c));
	EXPECT_EQ(-ENOENT, watch_check(dev, 12345, &c));

	/* Cache monitors: source, threshold, period, target. */
	EXPECT_EQ(-EINVAL, cache_add(dev, 99, getpid(), -1, 1000, 1));
	EXPECT_EQ(-EINVAL, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				     getpid(), -1, 1000, 0));
	EXPECT_EQ(-EINVAL, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				     getpid(), -1, 1, 1));
	EXPECT_EQ(-EINVAL, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				     getpid(), 0, 1000, 1));
	EXPECT_EQ(-ESRCH, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				    0x3ffffff, -1, 1000, 1));
	EXPECT_EQ(-ENODEV, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				     0, 4096, 1000, 1));
	EXPECT_EQ(-ENODEV, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS,
				     0, -1, 1000, 1));
	EXPECT_EQ(-ENOENT, cache_sample(dev, 1, &cs));
	close(fd);
	close(dev);
}

/* Every command: wrong sizes, bad pointers, unknown sizes refused. */
TEST(bad_sizes_and_pointers_every_command)
{
	static const struct { unsigned long cmd; __u32 size; } cmds[] = {
		{ VNFSEC_KMOD_IOC_STATS, sizeof(struct vnfsec_kmod_stats) },
		{ VNFSEC_KMOD_IOC_WATCH_ADD,
		  sizeof(struct vnfsec_kmod_watch_add) },
		{ VNFSEC_KMOD_IOC_WATCH_REMOVE,
		  sizeof(struct vnfsec_kmod_watch_ref) },
		{ VNFSEC_KMOD_IOC_WATCH_PROTECT,
		  sizeof(struct vnfsec_kmod_watch_protect) },
		{ VNFSEC_KMOD_IOC_WATCH_CHECK,
		  sizeof(struct vnfsec_kmod_watch_check) },
		{ VNFSEC_KMOD_IOC_WATCH_MAPPERS,
		  sizeof(struct vnfsec_kmod_watch_mappers) },
		{ VNFSEC_KMOD_IOC_WATCH_SCAN,
		  sizeof(struct vnfsec_kmod_watch_scan) },
		{ VNFSEC_KMOD_IOC_WATCH_SNAPSHOT,
		  sizeof(struct vnfsec_kmod_watch_snapshot) },
		{ VNFSEC_KMOD_IOC_CACHE_ADD,
		  sizeof(struct vnfsec_kmod_cache_add) },
		{ VNFSEC_KMOD_IOC_CACHE_REMOVE,
		  sizeof(struct vnfsec_kmod_watch_ref) },
		{ VNFSEC_KMOD_IOC_CACHE_SAMPLE,
		  sizeof(struct vnfsec_kmod_cache_sample) },
	};
	const __u32 deltas[] = { 0, 1, 4, 8 };
	union {
		__u32 size;
		char bytes[512];
	} buf;
	unsigned int i, j;
	int dev;

	dev = dev_open();
	ASSERT_LE(0, dev);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < 4; j++) {
			memset(&buf, 0, sizeof(buf));
			buf.size = cmds[i].size + deltas[j] + (j ? 0 : 0x100);
			EXPECT_EQ(-EINVAL, ioctl_err(dev, cmds[i].cmd, &buf)) {
				TH_LOG("cmd 0x%lx size %u", cmds[i].cmd,
				       buf.size);
			}
			buf.size = cmds[i].size - deltas[j] - (j ? 0 : 1);
			EXPECT_EQ(-EINVAL, ioctl_err(dev, cmds[i].cmd, &buf)) {
				TH_LOG("cmd 0x%lx size %u", cmds[i].cmd,
				       buf.size);
			}
		}
		EXPECT_EQ(-EFAULT, ioctl_err(dev, cmds[i].cmd, NULL));
		EXPECT_EQ(-EFAULT, ioctl_err(dev, cmds[i].cmd,
					     (void *)0xffffffff81000000UL));
	}
	close(dev);
}

/*
 * 100k random ioctls: random commands (ours and others), random sizes
 * and contents, half with the right size so they reach the validation of
 * each field, against live watches and a live monitor. The kernel must
 * answer each with 0 or an errno we document, and stay clean (taint and
 * dmesg are checked by the suite afterwards).
 */
FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* 100k calls under TCG take a while: a longer limit than the default. */
TEST_F_TIMEOUT(fuzz, ioctl_fuzzer_100k, 600)
{
	static const struct { unsigned long cmd; __u32 size; } cmds[] = {
		{ VNFSEC_KMOD_IOC_VERSION,
		  sizeof(struct vnfsec_kmod_version) },
		{ VNFSEC_KMOD_IOC_STATS, sizeof(struct vnfsec_kmod_stats) },
		{ VNFSEC_KMOD_IOC_WATCH_ADD,
		  sizeof(struct vnfsec_kmod_watch_add) },
		{ VNFSEC_KMOD_IOC_WATCH_REMOVE,
		  sizeof(struct vnfsec_kmod_watch_ref) },
		{ VNFSEC_KMOD_IOC_WATCH_PROTECT,
		  sizeof(struct vnfsec_kmod_watch_protect) },
		{ VNFSEC_KMOD_IOC_WATCH_CHECK,
		  sizeof(struct vnfsec_kmod_watch_check) },
		{ VNFSEC_KMOD_IOC_WATCH_MAPPERS,
		  sizeof(struct vnfsec_kmod_watch_mappers) },
		{ VNFSEC_KMOD_IOC_WATCH_SCAN,
		  sizeof(struct vnfsec_kmod_watch_scan) },
		{ VNFSEC_KMOD_IOC_WATCH_SNAPSHOT,
		  sizeof(struct vnfsec_kmod_watch_snapshot) },
		{ VNFSEC_KMOD_IOC_CACHE_ADD,
		  sizeof(struct vnfsec_kmod_cache_add) },
		{ VNFSEC_KMOD_IOC_CACHE_REMOVE,
		  sizeof(struct vnfsec_kmod_watch_ref) },
		{ VNFSEC_KMOD_IOC_CACHE_SAMPLE,
		  sizeof(struct vnfsec_kmod_cache_sample) },
	};
	const int ncmds = ARRAY_SIZE(cmds);
	const long calls = 100000;
	static const int documented[] = {
		0, EINVAL, EFAULT, ENOTTY, ENOENT, ENOSPC, EBADF, ESRCH,
		E2BIG, ENODEV, EOPNOTSUPP, EPERM,
	};
	long ok = 0, per_errno[128] = { 0 };
	union {
		__u32 w[128];
		__u64 q[64];
		unsigned char b[512];
	} buf;
	unsigned char *map, *out;
	unsigned long cmd;
	unsigned int seed = 0x5eed1234;
	int dev, fd, i, j, k, ret, known;
	long n;

	dev = dev_open();
	ASSERT_LE(0, dev);
	fd = region_new(16 * PAGE, &map);
	ASSERT_LE(0, fd);
	out = malloc(VNFSEC_KMOD_MAPPERS_MAX * 40 + 65536);
	ASSERT_NE(NULL, out);
	memcpy(map + PAGE - 2, "FUZZ", 4);
	ASSERT_LT(0, watch_fd(dev, fd, 16 * PAGE, 3600000));
	ASSERT_LT(0, watch_fd(dev, fd, PAGE, 3600000));
	ASSERT_LT(0, cache_add(dev, VNFSEC_KMOD_CACHE_SW_PAGE_FAULTS, getpid(),
			       -1, 3600000, 1));
	srand(seed);

	for (n = 0; n < calls; n++) {
		i = rand() % (ncmds + 2);
		if (i < ncmds)
			cmd = cmds[i].cmd;
		else if (i == ncmds)	/* our type, random number/size */
			cmd = _IOC((unsigned int)rand() & 3, VNFSEC_KMOD_IOC_MAGIC,
				   0x9c + rand() % 0x14, rand() % 300);
		else
			cmd = (unsigned long)rand() << 1 ^ (unsigned long)rand();
		for (j = 0; j < 128; j++)
			buf.w[j] = rand();
		k = rand() % 8;
		if (i < ncmds && k < 5) {
			buf.w[0] = cmds[i].size;
			/* Small ids, zeroed tails: reach deeper checks. */
			buf.w[1] = rand() % 4;
			if (k < 3)
				memset(buf.b + 8 + rand() % 64, 0,
				       sizeof(buf) - 72);
			if (k == 0) {	/* plausible counts and pointers */
				buf.w[2] = rand() % 300;
				buf.w[3] = rand() % 8;
				buf.q[1 + rand() % 3] = (uintptr_t)out;
				buf.q[2 + rand() % 3] = rand() % 4096;
				if (rand() & 1)	/* unmapped or kernel */
					buf.q[2 + rand() % 2] = rand() & 1 ?
						4096 : 0xffffffff81000000UL;
			}
		}
		ret = ioctl_err(dev, cmd, &buf);
		if (!ret) {
			ok++;
			continue;
		}
		known = 0;
		for (j = 0; j < (int)(sizeof(documented) / sizeof(int)); j++)
			known |= -ret == documented[j];
		ASSERT_TRUE(known) {
			TH_LOG("cmd 0x%lx: undocumented errno %d", cmd, -ret);
		}
		per_errno[-ret & 127]++;
		/* Drain events now and then: the queue must not matter. */
		if (!(n & 1023) && read(dev, out, 65536) < 0)
			ASSERT_EQ(EAGAIN, errno);
	}
	TH_LOG("%ld calls: %ld ok, EINVAL %ld, ENOTTY %ld, EFAULT %ld, ENOENT %ld, other %ld",
	       calls, ok, per_errno[EINVAL], per_errno[ENOTTY],
	       per_errno[EFAULT], per_errno[ENOENT],
	       calls - ok - per_errno[EINVAL] - per_errno[ENOTTY] -
	       per_errno[EFAULT] - per_errno[ENOENT]);
	EXPECT_LT(0, ok);
	free(out);
	close(fd);
	close(dev);
}

TEST_HARNESS_MAIN
