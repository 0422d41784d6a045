// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec: kernel side of the vnfsec sensor.
 *
 * Registers the misc device /dev/vnfsec. ABI 1 offers one ioctl,
 * VNFSEC_KMOD_IOC_VERSION, the size/version handshake every later feature
 * (shared-memory and cache inspection) builds on. See docs/kmod.md and
 * uapi/vnfsec_kmod.h.
 */

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include "uapi/vnfsec_kmod.h"

#define VNFSEC_VERSION_MAJOR	0
#define VNFSEC_VERSION_MINOR	1
#define VNFSEC_VERSION_PATCH	0
#define VNFSEC_VERSION_STRING	__stringify(VNFSEC_VERSION_MAJOR) "." \
				__stringify(VNFSEC_VERSION_MINOR) "." \
				__stringify(VNFSEC_VERSION_PATCH)

static int vnfsec_open(struct inode *inode, struct file *file)
{
	/* Writers will change state: only network or system admins. */
	if ((file->f_mode & FMODE_WRITE) &&
	    !capable(CAP_NET_ADMIN) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	return nonseekable_open(inode, file);
}

static long vnfsec_ioctl_version(struct vnfsec_kmod_version __user *uarg)
{
	struct vnfsec_kmod_version ver;
	u32 size;

	if (get_user(size, &uarg->size))
		return -EFAULT;
	if (size != VNFSEC_KMOD_VERSION_SIZE_VER0)
		return -EINVAL;
	if (copy_from_user(&ver, uarg, sizeof(ver)))
		return -EFAULT;
	/* Re-check: user space may have changed it since get_user(). */
	if (ver.size != size || ver.__pad0 ||
	    memchr_inv(ver.__reserved, 0, sizeof(ver.__reserved)))
		return -EINVAL;

	memset(&ver, 0, sizeof(ver));
	ver.size = sizeof(ver);
	ver.abi_version = VNFSEC_KMOD_ABI_VERSION;
	ver.version_major = VNFSEC_VERSION_MAJOR;
	ver.version_minor = VNFSEC_VERSION_MINOR;
	ver.version_patch = VNFSEC_VERSION_PATCH;
	ver.features = VNFSEC_KMOD_FEATURES_ALL;

	if (copy_to_user(uarg, &ver, sizeof(ver)))
		return -EFAULT;
	return 0;
}

static long vnfsec_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VNFSEC_KMOD_IOC_VERSION:
		return vnfsec_ioctl_version(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vnfsec_fops = {
	.owner = THIS_MODULE,
	.open = vnfsec_open,
	.unlocked_ioctl = vnfsec_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vnfsec_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VNFSEC_KMOD_DEVICE_NAME,
	.fops = &vnfsec_fops,
	.mode = 0600,
};

static int __init vnfsec_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct vnfsec_kmod_version) !=
		     VNFSEC_KMOD_VERSION_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct vnfsec_kmod_version, features) % 8);

	ret = misc_register(&vnfsec_miscdev);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n",
		       VNFSEC_KMOD_DEVICE_NAME, ret);
		return ret;
	}
	pr_info("version %s (ABI %u) loaded, /dev/%s\n", VNFSEC_VERSION_STRING,
		VNFSEC_KMOD_ABI_VERSION, VNFSEC_KMOD_DEVICE_NAME);
	return 0;
}

static void __exit vnfsec_exit(void)
{
	misc_deregister(&vnfsec_miscdev);
	pr_info("unloaded\n");
}

module_init(vnfsec_init);
module_exit(vnfsec_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vnfsec project");
MODULE_DESCRIPTION("vnfsec: inter-VNF security sensor, kernel side");
MODULE_VERSION(VNFSEC_VERSION_STRING);
