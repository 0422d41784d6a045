// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helper of selftests/kmod/run, through the userspace client library
 * (user/common/kmod_client.h):
 *
 *   vnfsec_kmod_churn busy    open, version check, add watches (memfd by
 *                             fd, the same mapping by pid + address, a
 *                             protected range), a cache monitor and their
 *                             10 ms works, remove one watch, read events,
 *                             then exit with the rest active: the module
 *                             must end them on close, before rmmod.
 *   vnfsec_kmod_churn absent  the module is not loaded: open must give
 *                             -ENOENT (after one log line).
 *   vnfsec_kmod_churn rounds N KO
 *                             N times: load KO (finit_module), run "busy"
 *                             in a child, unload (delete_module, which
 *                             must not find the module busy). One process
 *                             instead of 3N execs: exec is slow under TCG
 *                             with ASan.
 *
 * Exit status 0 when the expectation held; otherwise 1 and one line on
 * stderr saying what failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/common/kmod_client.h"
#include "user/common/log.h"

#define REGION	(64 * 1024)

/*
 * Left open on purpose when "busy" exits: the kernel ends what it holds.
 * A global, so LeakSanitizer sees it still reachable.
 */
static struct vnfsec_kmod *busy_k;

static int fail(const char *what, int err)
{
	fprintf(stderr, "vnfsec_kmod_churn: %s: %s\n", what, strerror(-err));
	return 1;
}

static int busy(void)
{
	struct vnfsec_kmod_watch_protect p = { .size = sizeof(p) };
	struct vnfsec_kmod_cache_add c = { .size = sizeof(c) };
	struct vnfsec_kmod_watch_ref ref = { .size = sizeof(ref) };
	const __u32 me = getpid();
	struct vnfsec_kmod_allow allow = { .pids = &me, .nr_pids = 1 };
	struct vnfsec_kmod_event ev[16];
	struct vnfsec_kmod *k;
	__u32 id1, id2;
	unsigned char *map;
	int ret, fd;

	ret = vnfsec_kmod_open(&busy_k);
	if (ret)
		return fail("vnfsec_kmod_open", ret);
	k = busy_k;
	if (vnfsec_kmod_version(k)->abi_version != VNFSEC_KMOD_ABI_VERSION)
		return fail("ABI version", -EPROTO);
	fd = memfd_create("vnfsec-churn", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, REGION))
		return fail("memfd", -errno);
	map = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap", -errno);
	memset(map, 0x5a, REGION);

	ret = vnfsec_kmod_watch_fd(k, fd, 0, REGION, &allow, 10, &id1);
	if (ret)
		return fail("watch by fd", ret);
	ret = vnfsec_kmod_watch_range(k, me, (uintptr_t)map, REGION, NULL, 10,
				      &id2);
	if (ret)
		return fail("watch by pid + range", ret);
	p.watch_id = id1;
	p.len = REGION;
	if (ioctl(vnfsec_kmod_fd(k), VNFSEC_KMOD_IOC_WATCH_PROTECT, &p))
		return fail("protect", -errno);
	/*
	 * CPU clock, not context switches: the first context-switch (or
	 * page-fault) counter enables a static key and the last one's
	 * release disables it, and the kernel live-patches the jump label
	 * in __schedule() (page-fault path) with an int3 each time. Under
	 * QEMU TCG a vCPU can keep running a stale translation of that int3
	 * after the patch completed: the int3 handler finds no int3 in
	 * memory, returns to re-execute the instruction, hits the stale
	 * int3 again, forever, with interrupts off in __schedule(), and the
	 * whole VM freezes without a message (caught in the act: both
	 * vCPUs at __schedule+0x280, the perf_swevent_enabled[3] site).
	 * Two live patches of the scheduler per round made that likely;
	 * the CPU-clock counter patches nothing and drives the same module
	 * path (create, sampling work, perf read, release at close).
	 */
	c.source = VNFSEC_KMOD_CACHE_SW_CPU_CLOCK;
	c.cpu = 0;
	c.period_ms = 10;
	c.threshold = 1;
	if (ioctl(vnfsec_kmod_fd(k), VNFSEC_KMOD_IOC_CACHE_ADD, &c))
		return fail("cache monitor", -errno);
	map[100] ^= 1;	/* tampering, for the periodic work to find */

	/* Let the works run a few rounds. */
	usleep(30 * 1000);
	ret = vnfsec_kmod_read_events(k, ev, 16);
	if (ret < 0)
		return fail("read events", ret);
	ret = vnfsec_kmod_watch_remove(k, id2);
	if (ret)
		return fail("remove watch", ret);
	ref.id = id2;	/* again, raw: the library would log the ENOENT */
	if (!ioctl(vnfsec_kmod_fd(k), VNFSEC_KMOD_IOC_WATCH_REMOVE, &ref) ||
	    errno != ENOENT)
		return fail("remove watch twice", -EEXIST);
	/* Exit with watch id1, its protected range and the monitor live. */
	return 0;
}

static int absent(void)
{
	struct vnfsec_kmod *k;
	int ret = vnfsec_kmod_open(&k);

	if (ret != -ENOENT) {
		if (!ret)
			vnfsec_kmod_close(k);
		return fail("open without the module should give ENOENT",
			    ret ? ret : -EEXIST);
	}
	return 0;
}

static int rounds(const char *count, const char *ko)
{
	int n = atoi(count), i, kofd, status;
	pid_t child;

	if (n < 1)
		return fail("round count must be >= 1", -EINVAL);
	kofd = open(ko, O_RDONLY | O_CLOEXEC);
	if (kofd < 0)
		return fail(ko, -errno);
	for (i = 1; i <= n; i++) {
		if (syscall(SYS_finit_module, kofd, "", 0))
			return fail("finit_module", -errno);
		child = fork();
		if (child < 0)
			return fail("fork", -errno);
		if (!child)
			exit(busy());
		if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "vnfsec_kmod_churn: round %d: busy failed\n",
				i);
			syscall(SYS_delete_module, "vnfsec", O_NONBLOCK);
			return 1;
		}
		/* O_NONBLOCK: fail rather than wait if still in use. */
		if (syscall(SYS_delete_module, "vnfsec", O_NONBLOCK)) {
			fprintf(stderr, "vnfsec_kmod_churn: round %d: delete_module: %s\n",
				i, strerror(errno));
			return 1;
		}
	}
	close(kofd);
	printf("%d x load, busy, unload\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	log_init("vnfsec_kmod_churn", LOG_INFO);
	if (argc == 2 && !strcmp(argv[1], "busy"))
		return busy();
	if (argc == 2 && !strcmp(argv[1], "absent"))
		return absent();
	if (argc == 4 && !strcmp(argv[1], "rounds"))
		return rounds(argv[2], argv[3]);
	fprintf(stderr, "usage: vnfsec_kmod_churn busy|absent|rounds N KO\n");
	return 2;
}
