// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/vnfsec ABI tests: open permissions, the version ioctl's size/version
 * handshake, and bad input. The features behind the ABI (events,
 * shared-memory watches, cache monitors, the fuzzer) are tested by
 * vnfsec_kmod_features.c, a binary of its own. Needs vnfsec.ko loaded
 * and root; run by selftests/kmod/run inside the test VM. The harness
 * forks every test, so a test that drops capabilities does so in its own
 * child process.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "kmod/uapi/vnfsec_kmod.h"
#include "kselftest_harness.h"

#define VER_SIZE ((__u32)sizeof(struct vnfsec_kmod_version))

static void version_init(struct vnfsec_kmod_version *v)
{
	memset(v, 0, sizeof(*v));
	v->size = VER_SIZE;
}

/* ioctl() result as 0 or -errno, so one ASSERT shows both. */
static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int open_err(int flags)
{
	int fd = open(VNFSEC_KMOD_DEVICE_PATH, flags | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(VNFSEC_KMOD_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s (module loaded? root?)",
		       VNFSEC_KMOD_DEVICE_PATH, strerror(errno));
	}
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST(open_modes)
{
	ASSERT_EQ(0, open_err(O_RDONLY));
	ASSERT_EQ(0, open_err(O_RDWR));
	ASSERT_EQ(0, open_err(O_WRONLY));
}

TEST_F(dev, version)
{
	struct vnfsec_kmod_version v;

	version_init(&v);
	ASSERT_EQ(0, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, &v));
	EXPECT_EQ(VER_SIZE, v.size);
	EXPECT_EQ(VNFSEC_KMOD_VERSION_SIZE_VER0, v.size);
	EXPECT_EQ(2, v.abi_version);
	EXPECT_EQ(VNFSEC_KMOD_ABI_VERSION, v.abi_version);
	EXPECT_EQ(0, v.features & ~VNFSEC_KMOD_FEATURES_ALL);
	EXPECT_EQ(0, v.__pad0);
	EXPECT_EQ(0, v.__reserved[0]);
	EXPECT_EQ(0, v.__reserved[1]);
	TH_LOG("module %u.%u.%u, ABI %u, features 0x%llx", v.version_major,
	       v.version_minor, v.version_patch, v.abi_version,
	       (unsigned long long)v.features);
}

/* Output fields are ignored on input and always overwritten. */
TEST_F(dev, version_overwrites_outputs)
{
	struct vnfsec_kmod_version v;

	version_init(&v);
	v.abi_version = 0xdeadbeef;
	v.version_major = 0xffff;
	v.version_minor = 0xffff;
	v.version_patch = 0xffff;
	v.features = ~0ULL;
	ASSERT_EQ(0, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, &v));
	EXPECT_EQ(VER_SIZE, v.size);
	EXPECT_EQ(VNFSEC_KMOD_ABI_VERSION, v.abi_version);
	EXPECT_EQ(0, v.features & ~VNFSEC_KMOD_FEATURES_ALL);
	EXPECT_NE(0xffff, v.version_major);
}

TEST(version_on_readonly_fd)
{
	struct vnfsec_kmod_version v;
	int fd = open(VNFSEC_KMOD_DEVICE_PATH, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	version_init(&v);
	EXPECT_EQ(0, ioctl_err(fd, VNFSEC_KMOD_IOC_VERSION, &v));
	EXPECT_EQ(VNFSEC_KMOD_ABI_VERSION, v.abi_version);
	close(fd);
}

TEST_F(dev, version_wrong_size)
{
	static const __u32 sizes[] = {
		0, 1, 4, 8, VER_SIZE - 8, VER_SIZE - 1, VER_SIZE + 1,
		VER_SIZE + 8, 4096, 0x7fffffff, 0xffffffff,
	};
	union {
		struct vnfsec_kmod_version v;
		char bytes[8192];
	} buf;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(&buf, 0, sizeof(buf));
		buf.v.size = sizes[i];
		EXPECT_EQ(-EINVAL, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION,
					     &buf)) {
			TH_LOG("size %u", sizes[i]);
		}
		/* Rejected: nothing written back. */
		EXPECT_EQ(sizes[i], buf.v.size);
		EXPECT_EQ(0, buf.v.abi_version);
	}
}

TEST_F(dev, version_reserved_not_zero)
{
	struct vnfsec_kmod_version v;

	version_init(&v);
	v.__pad0 = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, &v));

	version_init(&v);
	v.__reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, &v));

	version_init(&v);
	v.__reserved[1] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, &v));
	EXPECT_EQ(0, v.abi_version);
}

TEST_F(dev, unknown_ioctl)
{
	const unsigned long cmds[] = {
		0,
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xac, struct vnfsec_kmod_version),
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xff, struct vnfsec_kmod_version),
		/* a real command, with another struct's size */
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa1, struct vnfsec_kmod_version),
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa2, struct vnfsec_kmod_version),
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0x9f, struct vnfsec_kmod_version),
		/* right number, wrong direction or size */
		_IO(VNFSEC_KMOD_IOC_MAGIC, 0xa0),
		_IOR(VNFSEC_KMOD_IOC_MAGIC, 0xa0, struct vnfsec_kmod_version),
		_IOW(VNFSEC_KMOD_IOC_MAGIC, 0xa0, struct vnfsec_kmod_version),
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa0, __u32),
		_IOWR(VNFSEC_KMOD_IOC_MAGIC, 0xa0, __u64[6]),
		/* another type byte */
		_IOWR('W', 0xa0, struct vnfsec_kmod_version),
		TCGETS,
		0xffffffffUL,
	};
	struct vnfsec_kmod_version v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		version_init(&v);
		EXPECT_EQ(-ENOTTY, ioctl_err(self->fd, cmds[i], &v)) {
			TH_LOG("cmd 0x%lx", cmds[i]);
		}
		EXPECT_EQ(0, v.abi_version);
	}
}

TEST_F(dev, version_bad_pointer)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vnfsec_kmod_version *v;
	char *map;

	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, NULL));
	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION,
				     (void *)1));
	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION,
				     (void *)-4096L));
	/* A kernel address: the text mapping of x86_64 kernels. */
	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION,
				     (void *)0xffffffff81000000UL));

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);

	/* Unreadable page. */
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION,
				     map + page));

	/* size readable, the rest of the struct past the end of the map. */
	v = (void *)(map + page - 8);
	memset(v, 0, 8);
	v->size = VER_SIZE;
	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, v));

	/* Valid request on a read-only page: the answer cannot be copied. */
	v = (void *)map;
	version_init(v);
	ASSERT_EQ(0, mprotect(map, page, PROT_READ));
	EXPECT_EQ(-EFAULT, ioctl_err(self->fd, VNFSEC_KMOD_IOC_VERSION, v));
	EXPECT_EQ(0, v->abi_version);

	munmap(map, 2 * page);
}

TEST_F(dev, not_seekable)
{
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
}

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, data);
}

static int caps_set(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capset, &hdr, data);
}

#define CAP_BIT(cap) (1U << ((cap) & 31))

/* Set or clear CAPS (a mask of capabilities 0-31) in the effective set. */
static int caps_effective(struct __user_cap_data_struct data[2], __u32 caps,
			  int on)
{
	if (on)
		data[0].effective |= caps & data[0].permitted;
	else
		data[0].effective &= ~caps;
	return caps_set(data);
}

TEST(open_write_needs_net_or_sys_admin)
{
	const __u32 both = CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_SYS_ADMIN);
	struct __user_cap_data_struct data[2];
	struct vnfsec_kmod_version v;
	int fd;

	/* CAP_NET_ADMIN and CAP_SYS_ADMIN are both in word 0. */
	ASSERT_LT(CAP_SYS_ADMIN, 32);
	ASSERT_LT(CAP_NET_ADMIN, 32);
	ASSERT_EQ(0, caps_get(data));
	if ((data[0].effective & both) != both)
		SKIP(return, "needs CAP_NET_ADMIN and CAP_SYS_ADMIN to start");

	/* Either capability alone is enough. */
	ASSERT_EQ(0, caps_effective(data, CAP_BIT(CAP_SYS_ADMIN), 0));
	EXPECT_EQ(0, open_err(O_RDWR));
	ASSERT_EQ(0, caps_effective(data, CAP_BIT(CAP_SYS_ADMIN), 1));
	ASSERT_EQ(0, caps_effective(data, CAP_BIT(CAP_NET_ADMIN), 0));
	EXPECT_EQ(0, open_err(O_RDWR));

	/* Neither: no writer, but a reader still gets the version. */
	ASSERT_EQ(0, caps_effective(data, both, 0));
	EXPECT_EQ(-EPERM, open_err(O_RDWR));
	EXPECT_EQ(-EPERM, open_err(O_WRONLY));
	EXPECT_EQ(0, open_err(O_RDONLY));

	/* And for good: out of the permitted set as well. */
	data[0].permitted &= ~both;
	data[0].inheritable &= ~both;
	ASSERT_EQ(0, caps_set(data));
	data[0].effective |= both;
	EXPECT_EQ(-1, caps_set(data));
	EXPECT_EQ(EPERM, errno);
	data[0].effective &= ~both;
	EXPECT_EQ(-EPERM, open_err(O_RDWR));

	fd = open(VNFSEC_KMOD_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	version_init(&v);
	EXPECT_EQ(0, ioctl_err(fd, VNFSEC_KMOD_IOC_VERSION, &v));
	EXPECT_EQ(VNFSEC_KMOD_ABI_VERSION, v.abi_version);
	close(fd);
}

TEST_HARNESS_MAIN
