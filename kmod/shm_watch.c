// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared-memory watches: the memory VNFs and their components exchange
 * data through (memfd, SysV segments, /dev/shm files) is a path packets
 * never take, so the fast path cannot see an intruder there. A watch names
 * a byte range of such a region and, on demand and periodically:
 *  - lists the processes mapping it and reports those outside its allowed
 *    set (a foreign VNF attaching to another's segment);
 *  - hashes sub-ranges declared immutable (tables, code, configuration)
 *    and reports a change (tampering through the shared mapping);
 *  - notices when the region is freed and ends itself.
 * On request it scans the region for byte patterns (textsearch) and
 * snapshots a bounded range to userspace.
 *
 * A watch does not hold the caller's file or mapping: it opens the region
 * again, read-only (dentry_open of the same path), and reads it through
 * the page cache with kernel_read(). So holes read as zeros without being
 * allocated, swapped-out pages come back, and the one reference the watch
 * holds on the region is its own file: when that is the last user of an
 * unlinked region (d_count 1, i_nlink 0), the region is gone.
 *
 * Lifetime and locking: see vnfsec.h. In short, ioctls run under
 * client->lock and then w->lock; the work takes w->lock, drops it, and
 * only then may take client->lock to remove itself.
 */

#include <crypto/hash.h>
#include <linux/cgroup.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/textsearch.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "vnfsec.h"

#define VNFSEC_REGION_MAX	((u64)SZ_1G)
#define VNFSEC_CHUNK		(64 * 1024)
#define VNFSEC_PERIOD_MIN_MS	10
#define VNFSEC_PERIOD_MAX_MS	3600000
#define VNFSEC_SNAPSHOT_CAP	(4U << 20)
#define VNFSEC_REPORTED_MAX	16

struct vnfsec_protected {
	u64 offset;			/* relative to the region */
	u64 len;
	u8 baseline[VNFSEC_KMOD_DIGEST_LEN];
	u8 reported[VNFSEC_KMOD_DIGEST_LEN];	/* last digest reported */
};

struct vnfsec_watch {
	u32 id;
	struct vnfsec_client *client;	/* holds a reference */
	struct file *file;		/* our read-only open of the region */
	struct inode *inode;		/* file_inode(@file): finds mappers */
	u64 offset;			/* region start in the file */
	u64 len;
	unsigned long period;		/* jiffies */
	struct delayed_work work;

	struct mutex lock;		/* everything below */
	u32 nr_allow_pids;
	u32 nr_allow_cgroups;
	u32 nr_allow_netns;
	u32 allow_pids[VNFSEC_KMOD_ALLOW_MAX];
	u64 allow_cgroups[VNFSEC_KMOD_ALLOW_MAX];
	u64 allow_netns[VNFSEC_KMOD_ALLOW_MAX];
	u32 nr_protected;
	struct vnfsec_protected protected[VNFSEC_KMOD_PROTECT_MAX];
	/* Unauthorized mappers already reported, so each is reported once. */
	u32 nr_reported;
	u32 reported[VNFSEC_REPORTED_MAX];
};

/* One SHA-256 transform for every watch: shash tfms are reentrant. */
static struct crypto_shash *vnfsec_sha256;

int vnfsec_shm_init(void)
{
	vnfsec_sha256 = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(vnfsec_sha256)) {
		int ret = PTR_ERR(vnfsec_sha256);

		pr_err("no sha256 in the kernel crypto API (%d): enable CONFIG_CRYPTO_SHA256\n",
		       ret);
		vnfsec_sha256 = NULL;
		return ret;
	}
	return 0;
}

void vnfsec_shm_exit(void)
{
	crypto_free_shash(vnfsec_sha256);
}

/* Is [off, off + len) a non-empty range inside [0, size)? */
static bool vnfsec_range_ok(u64 off, u64 len, u64 size)
{
	return len && off <= size && len <= size - off;
}

/*
 * Reads region bytes [off, off + len). Past the end of the file (the owner
 * truncated it) the region reads as zeros, so a truncation of a protected
 * range shows as a change.
 */
static int vnfsec_region_read(struct vnfsec_watch *w, u64 off, void *buf,
			      size_t len)
{
	loff_t pos = w->offset + off;
	ssize_t n;

	while (len) {
		n = kernel_read(w->file, buf, len, &pos);
		if (n < 0)
			return n;
		if (!n) {
			memset(buf, 0, len);
			break;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static int vnfsec_region_hash(struct vnfsec_watch *w, u64 off, u64 len,
			      u8 *digest, void *buf)
{
	SHASH_DESC_ON_STACK(desc, vnfsec_sha256);
	size_t n;
	int ret;

	desc->tfm = vnfsec_sha256;
	ret = crypto_shash_init(desc);
	while (!ret && len) {
		n = min_t(u64, len, VNFSEC_CHUNK);
		ret = vnfsec_region_read(w, off, buf, n);
		if (!ret)
			ret = crypto_shash_update(desc, buf, n);
		off += n;
		len -= n;
		cond_resched();
	}
	if (!ret)
		ret = crypto_shash_final(desc, digest);
	shash_desc_zero(desc);
	return ret;
}

/*
 * The region is gone when our file is the last reference to its dentry
 * (no descriptor, no mapping, no SysV segment holds it) and no name leads
 * to it (memfds and SysV segments never have one; a /dev/shm file once
 * unlinked). Nobody can reach it again then, so the answer cannot flip
 * back.
 */
static bool vnfsec_region_gone(struct vnfsec_watch *w)
{
	return d_count(w->file->f_path.dentry) == 1 && !w->inode->i_nlink;
}

static bool vnfsec_u32_in(u32 v, const u32 *set, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static bool vnfsec_u64_in(u64 v, const u64 *set, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

/* Does @t map any byte of the watched range? */
static bool vnfsec_task_maps(struct task_struct *t, struct vnfsec_watch *w)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr = 0;
	bool found = false;
	u64 start, end;

	mm = get_task_mm(t);
	if (!mm)
		return false;
	mmap_read_lock(mm);
	while (!found && (vma = find_vma(mm, addr))) {
		addr = vma->vm_end;
		if (!vma->vm_file || file_inode(vma->vm_file) != w->inode)
			continue;
		start = (u64)vma->vm_pgoff << PAGE_SHIFT;
		end = start + (vma->vm_end - vma->vm_start);
		found = start < w->offset + w->len && w->offset < end;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return found;
}

static void vnfsec_task_identity(struct task_struct *t,
				 struct pid_namespace *ns,
				 struct vnfsec_kmod_mapper *m)
{
	memset(m, 0, sizeof(*m));
	m->pid = task_tgid_nr_ns(t, ns);
	__get_task_comm(m->comm, sizeof(m->comm), t);
	rcu_read_lock();
	m->cgroup_id = cgroup_id(task_dfl_cgroup(t));
	rcu_read_unlock();
	task_lock(t);
	if (t->nsproxy)
		m->netns_ino = t->nsproxy->net_ns->ns.inum;
	task_unlock(t);
}

static bool vnfsec_authorized(struct vnfsec_watch *w,
			      const struct vnfsec_kmod_mapper *m)
{
	return (m->pid && vnfsec_u32_in(m->pid, w->allow_pids,
					w->nr_allow_pids)) ||
	       vnfsec_u64_in(m->cgroup_id, w->allow_cgroups,
			     w->nr_allow_cgroups) ||
	       vnfsec_u64_in(m->netns_ino, w->allow_netns, w->nr_allow_netns);
}

static void vnfsec_report_mapper(struct vnfsec_watch *w,
				 const struct vnfsec_kmod_mapper *m)
{
	struct vnfsec_kmod_event ev = {
		.type = VNFSEC_KMOD_EV_SHM_MAPPER,
		.object_id = w->id,
		.pid = m->pid,
		.cgroup_id = m->cgroup_id,
		.netns_ino = m->netns_ino,
	};

	memcpy(ev.comm, m->comm, sizeof(ev.comm));
	vnfsec_event_raise(w->client, &ev);
}

/*
 * Walks every process (as /proc does, by thread group id) and collects
 * those mapping the region: up to @cap into @out, all counted in @total
 * and @unauth. With @report, raises an event for each unauthorized mapper
 * not reported by the previous walk. Cost: one mmap_lock read and a VMA
 * walk per process; the check period bounds how often. Called with
 * w->lock held.
 */
static void vnfsec_mappers_walk(struct vnfsec_watch *w,
				struct vnfsec_kmod_mapper *out, u32 cap,
				u32 *total, u32 *unauth, bool report)
{
	u32 reported[VNFSEC_REPORTED_MAX];
	u32 nr_reported = 0;
	struct vnfsec_kmod_mapper m;
	struct task_struct *t;
	struct pid *pid;
	int nr = 1;

	*total = 0;
	*unauth = 0;
	for (;;) {
		rcu_read_lock();
		pid = find_ge_pid(nr, &init_pid_ns);
		if (!pid) {
			rcu_read_unlock();
			break;
		}
		nr = pid_nr(pid) + 1;
		t = pid_task(pid, PIDTYPE_TGID);
		if (!t || (t->flags & PF_KTHREAD)) {
			rcu_read_unlock();
			continue;
		}
		get_task_struct(t);
		rcu_read_unlock();

		if (vnfsec_task_maps(t, w)) {
			vnfsec_task_identity(t, w->client->pid_ns, &m);
			if (!vnfsec_authorized(w, &m)) {
				(*unauth)++;
				if (report && !vnfsec_u32_in(m.pid, w->reported,
							     w->nr_reported))
					vnfsec_report_mapper(w, &m);
				if (nr_reported < VNFSEC_REPORTED_MAX)
					reported[nr_reported++] = m.pid;
			} else {
				m.flags |= VNFSEC_KMOD_MAPPER_AUTHORIZED;
			}
			if (*total < cap)
				out[*total] = m;
			(*total)++;
		}
		put_task_struct(t);
		cond_resched();
	}
	if (report) {
		memcpy(w->reported, reported, nr_reported * sizeof(u32));
		w->nr_reported = nr_reported;
	}
}

/* Hashes every protected range, reports each new change. w->lock held. */
static int vnfsec_integrity_check(struct vnfsec_watch *w, u32 *tampered)
{
	u8 digest[VNFSEC_KMOD_DIGEST_LEN];
	struct vnfsec_kmod_event ev;
	struct vnfsec_protected *p;
	void *buf;
	u32 i;
	int ret = 0;

	*tampered = 0;
	if (!w->nr_protected)
		return 0;
	buf = kvmalloc(VNFSEC_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < w->nr_protected; i++) {
		p = &w->protected[i];
		ret = vnfsec_region_hash(w, p->offset, p->len, digest, buf);
		if (ret)
			break;
		if (!memcmp(digest, p->baseline, sizeof(digest))) {
			memcpy(p->reported, p->baseline, sizeof(digest));
			continue;
		}
		(*tampered)++;
		if (!memcmp(digest, p->reported, sizeof(digest)))
			continue;
		memcpy(p->reported, digest, sizeof(digest));
		memset(&ev, 0, sizeof(ev));
		ev.type = VNFSEC_KMOD_EV_SHM_TAMPER;
		ev.object_id = w->id;
		ev.arg[0] = i;
		ev.arg[1] = p->offset;
		ev.arg[2] = p->len;
		vnfsec_event_raise(w->client, &ev);
	}
	kvfree(buf);
	return ret;
}

static int vnfsec_watch_check_locked(struct vnfsec_watch *w,
				     struct vnfsec_kmod_watch_check *res)
{
	vnfsec_mappers_walk(w, NULL, 0, &res->mappers, &res->unauthorized,
			    true);
	res->ranges = w->nr_protected;
	return vnfsec_integrity_check(w, &res->tampered);
}

static void vnfsec_watch_free(struct vnfsec_watch *w)
{
	fput(w->file);
	vnfsec_client_put(w->client);
	kfree(w);
}

static void vnfsec_report_gone(struct vnfsec_watch *w)
{
	struct vnfsec_kmod_event ev = {
		.type = VNFSEC_KMOD_EV_SHM_GONE,
		.object_id = w->id,
	};

	vnfsec_event_raise(w->client, &ev);
}

static void vnfsec_watch_work(struct work_struct *work)
{
	struct vnfsec_watch *w = container_of(to_delayed_work(work),
					      struct vnfsec_watch, work);
	struct vnfsec_kmod_watch_check res;
	struct vnfsec_client *c = w->client;
	bool gone, mine = false;
	int ret = 0;

	mutex_lock(&w->lock);
	gone = vnfsec_region_gone(w);
	if (!gone)
		ret = vnfsec_watch_check_locked(w, &res);
	mutex_unlock(&w->lock);
	if (ret)
		pr_warn_ratelimited("watch %u: periodic check failed: %d\n",
				    w->id, ret);

	if (!gone) {
		queue_delayed_work(vnfsec_wq, &w->work, w->period);
		return;
	}

	/* Only the one who takes it out of the idr frees it. */
	mutex_lock(&c->lock);
	if (idr_find(&c->watches, w->id) == w) {
		idr_remove(&c->watches, w->id);
		c->nr_watches--;
		mine = true;
	}
	mutex_unlock(&c->lock);
	if (mine) {
		vnfsec_report_gone(w);
		vnfsec_watch_free(w);	/* last use of w and, maybe, of c */
	}
}

/*
 * Shared memory lives on shmem/tmpfs (memfd, SysV segments, /dev/shm,
 * /run) or hugetlbfs. Other files are refused: reopening a device or
 * socket could have side effects, and reading through an arbitrary
 * filesystem (procfs, a network or FUSE mount) under the watch's lock
 * could have side effects or block for good.
 */
static bool vnfsec_shared_memory_file(const struct inode *inode)
{
	return S_ISREG(inode->i_mode) &&
	       (inode->i_sb->s_magic == TMPFS_MAGIC ||
		inode->i_sb->s_magic == HUGETLBFS_MAGIC);
}

/*
 * May the caller read @t's memory, as /proc/PID/mem readers must?
 * CAP_NET_ADMIN opens /dev/vnfsec; it must not also read any process.
 * This is ptrace_may_access(t, PTRACE_MODE_READ_FSCREDS), which 6.1 does
 * not export to modules: the caller's fs uid and gid equal each of the
 * task's real, effective and saved ids, or it holds CAP_SYS_PTRACE in
 * the task's user namespace; and the task is dumpable, or it holds
 * CAP_SYS_PTRACE in its mm's namespace. The LSM hook behind it is not
 * exported either: an LSM that forbids the read is not asked here
 * (docs/security.md).
 */
bool vnfsec_may_read_task(struct task_struct *t)
{
	const struct cred *cred, *tcred;
	struct mm_struct *mm;
	bool ok;

	if (same_thread_group(t, current))
		return true;
	rcu_read_lock();
	cred = current_cred();
	tcred = __task_cred(t);
	ok = (uid_eq(cred->fsuid, tcred->euid) &&
	      uid_eq(cred->fsuid, tcred->suid) &&
	      uid_eq(cred->fsuid, tcred->uid) &&
	      gid_eq(cred->fsgid, tcred->egid) &&
	      gid_eq(cred->fsgid, tcred->sgid) &&
	      gid_eq(cred->fsgid, tcred->gid)) ||
	     ns_capable(tcred->user_ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
	if (!ok)
		return false;
	task_lock(t);
	mm = t->mm;
	ok = !mm || get_dumpable(mm) == SUID_DUMP_USER ||
	     ns_capable(mm->user_ns, CAP_SYS_PTRACE);
	task_unlock(t);
	return ok;
}

/* Resolves a pid + address to the file and offset of a shared mapping. */
static int vnfsec_resolve_pid_range(const struct vnfsec_kmod_watch_add *a,
				    struct path *path, u64 *offset)
{
	struct vm_area_struct *vma;
	struct task_struct *t;
	struct mm_struct *mm;
	struct pid *pid;
	int ret = 0;

	pid = find_get_pid(a->pid);
	t = pid ? get_pid_task(pid, PIDTYPE_TGID) : NULL;
	put_pid(pid);
	if (!t)
		return -ESRCH;
	if (!vnfsec_may_read_task(t)) {
		put_task_struct(t);
		return -EPERM;
	}
	mm = get_task_mm(t);
	put_task_struct(t);
	if (!mm)
		return -ESRCH;

	mmap_read_lock(mm);
	vma = find_vma(mm, a->addr);
	if (!vma || vma->vm_start > a->addr) {
		ret = -EFAULT;
	} else if (!vma->vm_file || !(vma->vm_flags & VM_SHARED) ||
		   !vnfsec_shared_memory_file(file_inode(vma->vm_file)) ||
		   a->len > vma->vm_end - a->addr) {
		/* Private or anonymous memory is not shared with anyone. */
		ret = -EINVAL;
	} else {
		*offset = ((u64)vma->vm_pgoff << PAGE_SHIFT) +
			  (a->addr - vma->vm_start);
		*path = vma->vm_file->f_path;
		path_get(path);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static int vnfsec_resolve_fd(const struct vnfsec_kmod_watch_add *a,
			     struct path *path, u64 *offset)
{
	struct file *f = fget(a->fd);

	if (!f)
		return -EBADF;
	if (!vnfsec_shared_memory_file(file_inode(f))) {
		fput(f);
		return -EINVAL;
	}
	*path = f->f_path;
	path_get(path);
	*offset = a->offset;
	fput(f);
	return 0;
}

static int vnfsec_watch_add_check(const struct vnfsec_kmod_watch_add *a)
{
	if (a->__pad0 || a->nr_allow_pids > VNFSEC_KMOD_ALLOW_MAX ||
	    a->nr_allow_cgroups > VNFSEC_KMOD_ALLOW_MAX ||
	    a->nr_allow_netns > VNFSEC_KMOD_ALLOW_MAX)
		return -EINVAL;
	if (!a->len || a->len > VNFSEC_REGION_MAX)
		return -EINVAL;
	if (a->period_ms && (a->period_ms < VNFSEC_PERIOD_MIN_MS ||
			     a->period_ms > VNFSEC_PERIOD_MAX_MS))
		return -EINVAL;
	switch (a->kind) {
	case VNFSEC_KMOD_WATCH_FD:
		if (a->pid || a->addr || a->fd < 0 ||
		    a->offset > VNFSEC_REGION_MAX * 1024)
			return -EINVAL;
		return 0;
	case VNFSEC_KMOD_WATCH_PID_RANGE:
		if (a->fd != -1 || a->offset || !a->pid ||
		    a->addr > TASK_SIZE_MAX)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

int vnfsec_watch_add(struct vnfsec_client *c, struct vnfsec_kmod_watch_add *a)
{
	struct vnfsec_watch *w;
	struct path path;
	struct file *file;
	unsigned int period_ms;
	u64 offset;
	int ret;

	ret = vnfsec_watch_add_check(a);
	if (ret)
		return ret;
	if (a->kind == VNFSEC_KMOD_WATCH_FD)
		ret = vnfsec_resolve_fd(a, &path, &offset);
	else
		ret = vnfsec_resolve_pid_range(a, &path, &offset);
	if (ret)
		return ret;

	/* Our own read-only open: see the comment at the top. */
	file = dentry_open(&path, O_RDONLY | O_LARGEFILE, current_cred());
	path_put(&path);
	if (IS_ERR(file))
		return PTR_ERR(file);
	if (!(file->f_mode & FMODE_CAN_READ) ||
	    !vnfsec_range_ok(offset, a->len, i_size_read(file_inode(file)))) {
		ret = -EINVAL;
		goto err_file;
	}

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		ret = -ENOMEM;
		goto err_file;
	}
	w->file = file;
	w->inode = file_inode(file);
	w->offset = offset;
	w->len = a->len;
	period_ms = a->period_ms ? a->period_ms :
		clamp_val(READ_ONCE(vnfsec_check_period_ms),
			  VNFSEC_PERIOD_MIN_MS, VNFSEC_PERIOD_MAX_MS);
	w->period = msecs_to_jiffies(period_ms);
	INIT_DELAYED_WORK(&w->work, vnfsec_watch_work);
	mutex_init(&w->lock);
	w->nr_allow_pids = a->nr_allow_pids;
	w->nr_allow_cgroups = a->nr_allow_cgroups;
	w->nr_allow_netns = a->nr_allow_netns;
	memcpy(w->allow_pids, a->allow_pids, sizeof(w->allow_pids));
	memcpy(w->allow_cgroups, a->allow_cgroups, sizeof(w->allow_cgroups));
	memcpy(w->allow_netns, a->allow_netns, sizeof(w->allow_netns));

	mutex_lock(&c->lock);
	if (c->nr_watches >= READ_ONCE(vnfsec_max_watches)) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = idr_alloc(&c->watches, w, 1, 0, GFP_KERNEL);
	if (ret < 0)
		goto err_unlock;
	w->id = ret;
	c->nr_watches++;
	kref_get(&c->ref);
	w->client = c;
	queue_delayed_work(vnfsec_wq, &w->work, w->period);
	mutex_unlock(&c->lock);

	a->watch_id = w->id;
	return 0;

err_unlock:
	mutex_unlock(&c->lock);
	kfree(w);
err_file:
	fput(file);
	return ret;
}

/* Takes the watch out of the idr. c->lock held. */
static struct vnfsec_watch *vnfsec_watch_unlink(struct vnfsec_client *c,
						u32 id)
{
	struct vnfsec_watch *w = idr_remove(&c->watches, id);

	if (w)
		c->nr_watches--;
	return w;
}

/* Frees a watch taken out of the idr by someone other than its work. */
static void vnfsec_watch_destroy(struct vnfsec_watch *w)
{
	cancel_delayed_work_sync(&w->work);
	vnfsec_watch_free(w);
}

int vnfsec_watch_remove(struct vnfsec_client *c, u32 id)
{
	struct vnfsec_watch *w;

	mutex_lock(&c->lock);
	w = vnfsec_watch_unlink(c, id);
	mutex_unlock(&c->lock);
	if (!w)
		return -ENOENT;
	vnfsec_watch_destroy(w);
	return 0;
}

void vnfsec_watches_release(struct vnfsec_client *c)
{
	struct vnfsec_watch *w;
	int id;

	for (;;) {
		id = 0;
		mutex_lock(&c->lock);
		w = idr_get_next(&c->watches, &id);
		if (w)
			vnfsec_watch_unlink(c, id);
		mutex_unlock(&c->lock);
		if (!w)
			break;
		vnfsec_watch_destroy(w);
	}
}

/*
 * Finds watch @id with c->lock and w->lock held, or returns NULL with
 * neither held.
 */
static struct vnfsec_watch *vnfsec_watch_lock(struct vnfsec_client *c, u32 id)
{
	struct vnfsec_watch *w;

	mutex_lock(&c->lock);
	w = idr_find(&c->watches, id);
	if (!w) {
		mutex_unlock(&c->lock);
		return NULL;
	}
	mutex_lock(&w->lock);
	return w;
}

static void vnfsec_watch_unlock(struct vnfsec_client *c, struct vnfsec_watch *w)
{
	mutex_unlock(&w->lock);
	mutex_unlock(&c->lock);
}

int vnfsec_watch_protect(struct vnfsec_client *c,
			 struct vnfsec_kmod_watch_protect *a)
{
	struct vnfsec_protected *p;
	struct vnfsec_watch *w;
	void *buf;
	int ret;

	if (a->__pad0)
		return -EINVAL;
	buf = kvmalloc(VNFSEC_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	w = vnfsec_watch_lock(c, a->watch_id);
	if (!w) {
		ret = -ENOENT;
		goto out_free;
	}
	if (!vnfsec_range_ok(a->offset, a->len, w->len)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (w->nr_protected >= VNFSEC_KMOD_PROTECT_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	p = &w->protected[w->nr_protected];
	ret = vnfsec_region_hash(w, a->offset, a->len, p->baseline, buf);
	if (ret)
		goto out_unlock;
	p->offset = a->offset;
	p->len = a->len;
	memcpy(p->reported, p->baseline, sizeof(p->reported));
	a->index = w->nr_protected++;
	memcpy(a->digest, p->baseline, sizeof(a->digest));
out_unlock:
	vnfsec_watch_unlock(c, w);
out_free:
	kvfree(buf);
	return ret;
}

int vnfsec_watch_check(struct vnfsec_client *c,
		       struct vnfsec_kmod_watch_check *a)
{
	struct vnfsec_watch *w;
	bool gone;
	int ret = 0;

	if (a->__reserved)
		return -EINVAL;
	w = vnfsec_watch_lock(c, a->watch_id);
	if (!w)
		return -ENOENT;
	gone = vnfsec_region_gone(w);
	if (!gone)
		ret = vnfsec_watch_check_locked(w, a);
	mutex_unlock(&w->lock);
	if (gone)
		vnfsec_watch_unlink(c, w->id);
	mutex_unlock(&c->lock);
	if (gone) {
		vnfsec_report_gone(w);
		vnfsec_watch_destroy(w);
		return -ENOENT;
	}
	return ret;
}

int vnfsec_watch_mappers(struct vnfsec_client *c,
			 struct vnfsec_kmod_watch_mappers *a)
{
	struct vnfsec_kmod_mapper *out;
	struct vnfsec_watch *w;
	u32 unauth;
	int ret = 0;

	if (a->__pad0 || !a->capacity || a->capacity > VNFSEC_KMOD_MAPPERS_MAX)
		return -EINVAL;
	out = kcalloc(a->capacity, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	w = vnfsec_watch_lock(c, a->watch_id);
	if (!w) {
		kfree(out);
		return -ENOENT;
	}
	vnfsec_mappers_walk(w, out, a->capacity, &a->total, &unauth, false);
	vnfsec_watch_unlock(c, w);

	a->count = min(a->total, a->capacity);
	if (copy_to_user(u64_to_user_ptr(a->mappers), out,
			 a->count * sizeof(*out)))
		ret = -EFAULT;
	kfree(out);
	return ret;
}

static void vnfsec_report_match(struct vnfsec_watch *w, u64 offset, u32 plen)
{
	struct vnfsec_kmod_event ev = {
		.type = VNFSEC_KMOD_EV_SHM_PATTERN,
		.object_id = w->id,
		.arg = { offset, plen },
	};

	vnfsec_event_raise(w->client, &ev);
}

/*
 * Scans in chunks of VNFSEC_CHUNK bytes read into one contiguous buffer,
 * each extended by pattern_len - 1 bytes of the next chunk, and counts
 * only matches starting inside the chunk proper. So a pattern across a
 * page or chunk boundary is found exactly once, with either algorithm
 * (matches do not overlap: the search resumes after each one):
 * the kernel's Boyer-Moore cannot match across textsearch blocks
 * (lib/ts_bm.c), so the region is not handed over page by page.
 */
static int vnfsec_scan(struct vnfsec_watch *w, struct ts_config *conf,
		       struct vnfsec_kmod_watch_scan *a, void *buf)
{
	u64 pos = a->offset, end = a->offset + a->len;
	struct ts_state state;
	size_t n, want;
	unsigned int i;
	int ret;

	while (pos < end && a->matches < a->max_matches) {
		n = min_t(u64, VNFSEC_CHUNK, end - pos);
		want = min_t(u64, n + a->pattern_len - 1, end - pos);
		ret = vnfsec_region_read(w, pos, buf, want);
		if (ret)
			return ret;
		for (i = textsearch_find_continuous(conf, &state, buf, want);
		     i != UINT_MAX && i < n && a->matches < a->max_matches;
		     i = textsearch_next(conf, &state)) {
			if (!a->matches)
				a->first = pos + i;
			a->matches++;
			vnfsec_report_match(w, pos + i, a->pattern_len);
			/*
			 * Resume after the match: ts_kmp does so itself,
			 * ts_bm leaves the offset alone and would find the
			 * same match again.
			 */
			state.offset = i + a->pattern_len;
		}
		pos += n;
		cond_resched();
	}
	return 0;
}

int vnfsec_watch_scan(struct vnfsec_client *c, struct vnfsec_kmod_watch_scan *a)
{
	struct ts_config *conf;
	struct vnfsec_watch *w;
	const char *algo;
	void *buf;
	int ret;

	if (a->algo == VNFSEC_KMOD_SCAN_BM)
		algo = "bm";
	else if (a->algo == VNFSEC_KMOD_SCAN_KMP)
		algo = "kmp";
	else
		return -EINVAL;
	if (!a->pattern_len || a->pattern_len > VNFSEC_KMOD_PATTERN_MAX ||
	    memchr_inv(a->pattern + a->pattern_len, 0,
		       VNFSEC_KMOD_PATTERN_MAX - a->pattern_len) ||
	    !a->max_matches || a->max_matches > VNFSEC_KMOD_SCAN_MATCHES_MAX)
		return -EINVAL;

	conf = textsearch_prepare(algo, a->pattern, a->pattern_len, GFP_KERNEL,
				  TS_AUTOLOAD);
	if (IS_ERR(conf)) {
		pr_warn_ratelimited("textsearch '%s' unavailable (%ld): is ts_%s.ko installed?\n",
				    algo, PTR_ERR(conf), algo);
		return PTR_ERR(conf);
	}
	buf = kvmalloc(VNFSEC_CHUNK + VNFSEC_KMOD_PATTERN_MAX, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_conf;
	}
	w = vnfsec_watch_lock(c, a->watch_id);
	if (!w) {
		ret = -ENOENT;
		goto out_buf;
	}
	a->matches = 0;
	a->first = ~0ULL;
	if (vnfsec_range_ok(a->offset, a->len, w->len))
		ret = vnfsec_scan(w, conf, a, buf);
	else
		ret = -EINVAL;
	vnfsec_watch_unlock(c, w);
out_buf:
	kvfree(buf);
out_conf:
	textsearch_destroy(conf);
	return ret;
}

int vnfsec_watch_snapshot(struct vnfsec_client *c,
			  struct vnfsec_kmod_watch_snapshot *a)
{
	u32 max = min(READ_ONCE(vnfsec_snapshot_max), VNFSEC_SNAPSHOT_CAP);
	struct vnfsec_watch *w;
	void *buf;
	int ret;

	if (!a->len)
		return -EINVAL;
	if (a->len > max)
		return -E2BIG;
	buf = kvmalloc(a->len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	w = vnfsec_watch_lock(c, a->watch_id);
	if (!w) {
		ret = -ENOENT;
		goto out_free;
	}
	if (vnfsec_range_ok(a->offset, a->len, w->len))
		ret = vnfsec_region_read(w, a->offset, buf, a->len);
	else
		ret = -EINVAL;
	vnfsec_watch_unlock(c, w);
	if (!ret && copy_to_user(u64_to_user_ptr(a->buf), buf, a->len))
		ret = -EFAULT;
	if (!ret)
		a->copied = a->len;
out_free:
	kvfree(buf);
	return ret;
}
