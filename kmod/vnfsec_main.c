// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec: kernel side of the vnfsec sensor.
 *
 * Registers the misc device /dev/vnfsec: the ioctl ABI of
 * uapi/vnfsec_kmod.h (size/version handshake on every argument), the
 * per-descriptor event queue behind read()/poll(), and the module
 * parameters. Shared-memory watches live in shm_watch.c, cache monitors in
 * cache_mon.c, the queue in events.c. See docs/kmod.md.
 */

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include "vnfsec.h"

#define VNFSEC_VERSION_MAJOR	0
#define VNFSEC_VERSION_MINOR	2
#define VNFSEC_VERSION_PATCH	0
#define VNFSEC_VERSION_STRING	__stringify(VNFSEC_VERSION_MAJOR) "." \
				__stringify(VNFSEC_VERSION_MINOR) "." \
				__stringify(VNFSEC_VERSION_PATCH)

static unsigned int event_queue_len = 256;
module_param(event_queue_len, uint, 0444);
MODULE_PARM_DESC(event_queue_len,
		 "event records queued per open descriptor (16..65536, default 256)");

unsigned int vnfsec_check_period_ms = 1000;
module_param_named(check_period_ms, vnfsec_check_period_ms, uint, 0644);
MODULE_PARM_DESC(check_period_ms,
		 "default period of a watch's check in ms, when it names none (10..3600000, default 1000)");

unsigned int vnfsec_snapshot_max = 65536;
module_param_named(snapshot_max, vnfsec_snapshot_max, uint, 0644);
MODULE_PARM_DESC(snapshot_max,
		 "largest snapshot in bytes (at most 4 MiB, default 65536)");

unsigned int vnfsec_max_watches = 64;
module_param_named(max_watches, vnfsec_max_watches, uint, 0644);
MODULE_PARM_DESC(max_watches,
		 "watches and monitors per open descriptor, each (default 64)");

struct workqueue_struct *vnfsec_wq;

static void vnfsec_client_free(struct kref *ref)
{
	struct vnfsec_client *c = container_of(ref, struct vnfsec_client, ref);

	idr_destroy(&c->watches);
	idr_destroy(&c->monitors);
	put_pid_ns(c->pid_ns);
	vnfsec_events_free(c);
	kfree(c);
}

void vnfsec_client_put(struct vnfsec_client *c)
{
	kref_put(&c->ref, vnfsec_client_free);
}

static int vnfsec_open(struct inode *inode, struct file *file)
{
	struct vnfsec_client *c;
	int ret;

	/* Writers will change state: only network or system admins. */
	if ((file->f_mode & FMODE_WRITE) &&
	    !capable(CAP_NET_ADMIN) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = vnfsec_events_init(c, clamp_val(event_queue_len, 16, 65536));
	if (ret) {
		kfree(c);
		return ret;
	}
	kref_init(&c->ref);
	mutex_init(&c->lock);
	idr_init_base(&c->watches, 1);
	idr_init_base(&c->monitors, 1);
	c->pid_ns = get_pid_ns(task_active_pid_ns(current));
	file->private_data = c;

	return nonseekable_open(inode, file);
}

static int vnfsec_release(struct inode *inode, struct file *file)
{
	struct vnfsec_client *c = file->private_data;

	vnfsec_cache_release(c);
	vnfsec_watches_release(c);
	vnfsec_client_put(c);
	return 0;
}

static ssize_t vnfsec_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return vnfsec_events_read(file->private_data, buf, count,
				  file->f_flags & O_NONBLOCK);
}

static __poll_t vnfsec_poll(struct file *file, poll_table *wait)
{
	return vnfsec_events_poll(file->private_data, file, wait);
}

/*
 * Copies an extensible argument in: its leading size must be exactly the
 * layout we know (ksize), checked again on the copy against a racing
 * writer.
 */
static int vnfsec_copy_in(void *karg, size_t ksize, const void __user *uarg)
{
	u32 size;

	if (get_user(size, (const u32 __user *)uarg))
		return -EFAULT;
	if (size != ksize)
		return -EINVAL;
	if (copy_from_user(karg, uarg, ksize))
		return -EFAULT;
	if (*(u32 *)karg != size)
		return -EINVAL;
	return 0;
}

static long vnfsec_ioctl_version(struct vnfsec_kmod_version __user *uarg)
{
	struct vnfsec_kmod_version ver;
	int ret;

	ret = vnfsec_copy_in(&ver, sizeof(ver), uarg);
	if (ret)
		return ret;
	if (ver.__pad0 || memchr_inv(ver.__reserved, 0, sizeof(ver.__reserved)))
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

static long vnfsec_ioctl_stats(struct vnfsec_client *c,
			       struct vnfsec_kmod_stats __user *uarg)
{
	struct vnfsec_kmod_stats st;
	int ret;

	ret = vnfsec_copy_in(&st, sizeof(st), uarg);
	if (ret)
		return ret;
	if (st.__pad0 || memchr_inv(st.__reserved, 0, sizeof(st.__reserved)))
		return -EINVAL;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	vnfsec_events_stats(c, &st);
	mutex_lock(&c->lock);
	st.watches = c->nr_watches;
	st.monitors = c->nr_monitors;
	mutex_unlock(&c->lock);

	if (copy_to_user(uarg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

/* Runs one state-changing command: copy in, act, copy the answer out. */
#define VNFSEC_DO(c, uarg, type, fn)					\
	({								\
		void __user *__uarg = (uarg);				\
		type __karg;						\
		long __ret = vnfsec_copy_in(&__karg, sizeof(__karg), __uarg); \
		if (!__ret)						\
			__ret = fn((c), &__karg);			\
		if (!__ret && copy_to_user(__uarg, &__karg, sizeof(__karg))) \
			__ret = -EFAULT;				\
		__ret;							\
	})

static long vnfsec_ioctl_ref(struct vnfsec_client *c, const void __user *uarg,
			     int (*fn)(struct vnfsec_client *c, u32 id))
{
	struct vnfsec_kmod_watch_ref ref;
	int ret;

	ret = vnfsec_copy_in(&ref, sizeof(ref), uarg);
	return ret ? ret : fn(c, ref.id);
}

static long vnfsec_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct vnfsec_client *c = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VNFSEC_KMOD_IOC_VERSION:
		return vnfsec_ioctl_version(argp);
	case VNFSEC_KMOD_IOC_STATS:
		return vnfsec_ioctl_stats(c, argp);
	case VNFSEC_KMOD_IOC_WATCH_ADD:
	case VNFSEC_KMOD_IOC_WATCH_REMOVE:
	case VNFSEC_KMOD_IOC_WATCH_PROTECT:
	case VNFSEC_KMOD_IOC_WATCH_CHECK:
	case VNFSEC_KMOD_IOC_WATCH_MAPPERS:
	case VNFSEC_KMOD_IOC_WATCH_SCAN:
	case VNFSEC_KMOD_IOC_WATCH_SNAPSHOT:
	case VNFSEC_KMOD_IOC_CACHE_ADD:
	case VNFSEC_KMOD_IOC_CACHE_REMOVE:
	case VNFSEC_KMOD_IOC_CACHE_SAMPLE:
		/* Open for writing was checked for CAP_NET/SYS_ADMIN. */
		if (!(file->f_mode & FMODE_WRITE))
			return -EPERM;
		break;
	default:
		return -ENOTTY;
	}

	switch (cmd) {
	case VNFSEC_KMOD_IOC_WATCH_ADD:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_watch_add,
				 vnfsec_watch_add);
	case VNFSEC_KMOD_IOC_WATCH_REMOVE:
		return vnfsec_ioctl_ref(c, argp, vnfsec_watch_remove);
	case VNFSEC_KMOD_IOC_WATCH_PROTECT:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_watch_protect,
				 vnfsec_watch_protect);
	case VNFSEC_KMOD_IOC_WATCH_CHECK:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_watch_check,
				 vnfsec_watch_check);
	case VNFSEC_KMOD_IOC_WATCH_MAPPERS:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_watch_mappers,
				 vnfsec_watch_mappers);
	case VNFSEC_KMOD_IOC_WATCH_SCAN:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_watch_scan,
				 vnfsec_watch_scan);
	case VNFSEC_KMOD_IOC_WATCH_SNAPSHOT:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_watch_snapshot,
				 vnfsec_watch_snapshot);
	case VNFSEC_KMOD_IOC_CACHE_ADD:
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_cache_add,
				 vnfsec_cache_add);
	case VNFSEC_KMOD_IOC_CACHE_REMOVE:
		return vnfsec_ioctl_ref(c, argp, vnfsec_cache_remove);
	default: /* VNFSEC_KMOD_IOC_CACHE_SAMPLE */
		return VNFSEC_DO(c, argp, struct vnfsec_kmod_cache_sample,
				 vnfsec_cache_sample);
	}
}

static const struct file_operations vnfsec_fops = {
	.owner = THIS_MODULE,
	.open = vnfsec_open,
	.release = vnfsec_release,
	.read = vnfsec_read,
	.poll = vnfsec_poll,
	.llseek = no_llseek,
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
	BUILD_BUG_ON(sizeof(struct vnfsec_kmod_event) !=
		     VNFSEC_KMOD_EVENT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct vnfsec_kmod_watch_add) !=
		     VNFSEC_KMOD_WATCH_ADD_SIZE_VER0);

	vnfsec_wq = alloc_workqueue("vnfsec", WQ_UNBOUND | WQ_FREEZABLE, 0);
	if (!vnfsec_wq) {
		pr_err("cannot allocate the workqueue: out of memory\n");
		return -ENOMEM;
	}
	ret = vnfsec_shm_init();
	if (ret)
		goto err_wq;
	ret = misc_register(&vnfsec_miscdev);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n",
		       VNFSEC_KMOD_DEVICE_NAME, ret);
		goto err_shm;
	}
	pr_info("version %s (ABI %u) loaded, /dev/%s\n", VNFSEC_VERSION_STRING,
		VNFSEC_KMOD_ABI_VERSION, VNFSEC_KMOD_DEVICE_NAME);
	return 0;

err_shm:
	vnfsec_shm_exit();
err_wq:
	destroy_workqueue(vnfsec_wq);
	return ret;
}

static void __exit vnfsec_exit(void)
{
	misc_deregister(&vnfsec_miscdev);
	/* Waits for a watch's work that removed itself and still runs. */
	destroy_workqueue(vnfsec_wq);
	vnfsec_shm_exit();
	pr_info("unloaded\n");
}

module_init(vnfsec_init);
module_exit(vnfsec_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vnfsec project");
MODULE_DESCRIPTION("vnfsec: inter-VNF security sensor, kernel side");
MODULE_VERSION(VNFSEC_VERSION_STRING);
