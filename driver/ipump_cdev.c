// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: the character device /dev/ipumpN, one per card.
 *
 * Every ioctl is a thin, checked call into the core. Lifetime follows the
 * watchdog core: the cdev is embedded in the card, an open file keeps the
 * card's memory alive, and after ipump_card_unregister() every operation
 * returns -ENODEV because the core refuses a dead card.
 */
#include <linux/cdev.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ipump_priv.h"

static dev_t ipump_devt;

/**
 * struct ipump_file - one open /dev/ipumpN
 * @card: the card; the file holds a reference to its device
 * @reader: this file's queue of audit-log records (read()/poll())
 */
struct ipump_file {
	struct ipump_card *card;
	struct ipump_log_reader reader;
};

/* Every uAPI struct is the same on 32- and 64-bit userspace. */
static_assert(sizeof(struct ipump_card_info) == 72);
static_assert(sizeof(struct ipump_channel_status) == 200);
static_assert(sizeof(struct ipump_event_mask) == 32);
static_assert(sizeof(struct ipump_programme) == 96);
static_assert(sizeof(struct ipump_programme_req) == 128);
static_assert(sizeof(struct ipump_channel_cmd) == 40);
static_assert(sizeof(struct ipump_bolus_req) == 32);
static_assert(sizeof(struct ipump_hard_limits) == 96);
static_assert(sizeof(struct ipump_limits_req) == 120);

static bool ipump_zeroed(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static long ipump_ioctl_card_info(struct ipump_card *card, void __user *arg)
{
	struct ipump_card_info info;

	scoped_guard(mutex, &card->lock) {
		if (card->dead)
			return -ENODEV;
		ipump_card_get_info(card, &info);
	}
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ipump_ioctl_channel_status(struct ipump_file *f,
				       struct ipump_card *card,
				       void __user *arg)
{
	struct ipump_channel_status st;
	int ret;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	if (st.padding || !ipump_zeroed(st.reserved, sizeof(st.reserved)))
		return -EINVAL;
	ret = ipump_channel_get_status(card, &st, f);
	if (ret)
		return ret;
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long ipump_ioctl_event_mask(struct ipump_file *f, void __user *arg)
{
	struct ipump_event_mask m;

	if (copy_from_user(&m, arg, sizeof(m)))
		return -EFAULT;
	if (m.padding || !ipump_zeroed(m.reserved, sizeof(m.reserved)) ||
	    m.types & ~IPUMP_EVENT_MASK_ALL || m.min_priority > IPUMP_PRIO_HIGH)
		return -EINVAL;
	scoped_guard(mutex, &f->card->lock)
		if (f->card->dead)
			return -ENODEV;
	return ipump_log_reader_set_mask(&f->reader, m.types, m.min_priority);
}

static long ipump_ioctl_programme(struct ipump_file *f, unsigned int cmd,
				  void __user *arg)
{
	struct ipump_req req = { .owner = f };
	struct ipump_programme_req pr;
	int ret;

	if (copy_from_user(&pr, arg, sizeof(pr)))
		return -EFAULT;
	if (pr.padding || !ipump_zeroed(pr.reserved, sizeof(pr.reserved)))
		return -EINVAL;
	switch (cmd) {
	case IPUMP_IOC_GET_PROGRAMME:
		ret = ipump_ch_programme_get(f->card, pr.channel, &pr.generation,
					     &pr.programme);
		break;
	case IPUMP_IOC_SET_PROGRAMME:
		ret = ipump_ch_programme_set(f->card, pr.channel, &req,
					     &pr.generation, &pr.programme);
		break;
	default:
		ret = ipump_ch_titrate(f->card, pr.channel, &req,
				       &pr.generation, &pr.programme);
		break;
	}
	/* without a programme the generation still tells what to base one on */
	if (ret && ret != -ENODATA)
		return ret;
	return copy_to_user(arg, &pr, sizeof(pr)) ? -EFAULT : ret;
}

static long ipump_ioctl_cmd(struct ipump_file *f, unsigned int cmd,
			    void __user *arg)
{
	struct ipump_req req = { .owner = f };
	struct ipump_card *card = f->card;
	struct ipump_channel_cmd c;
	u64 result = 0;
	int ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (c.result || !ipump_zeroed(c.reserved, sizeof(c.reserved)))
		return -EINVAL;
	/* fields a command does not use must be 0 */
	switch (cmd) {
	case IPUMP_IOC_START:
	case IPUMP_IOC_RESUME:
	case IPUMP_IOC_CLEAR:
		if (c.value)
			return -EINVAL;
		break;
	case IPUMP_IOC_AUDIO_PAUSE:
	case IPUMP_IOC_LEASE_ACQUIRE:
	case IPUMP_IOC_LEASE_TAKEOVER:
		if (c.generation)
			return -EINVAL;
		break;
	default:
		if (c.value || c.generation)
			return -EINVAL;
		break;
	}

	switch (cmd) {
	case IPUMP_IOC_START:
		return ipump_ch_start(card, c.channel, &req, c.generation);
	case IPUMP_IOC_STOP:
		return ipump_ch_stop(card, c.channel, &req);
	case IPUMP_IOC_PAUSE:
		return ipump_ch_pause(card, c.channel, &req);
	case IPUMP_IOC_RESUME:
		return ipump_ch_resume(card, c.channel, &req, c.generation);
	case IPUMP_IOC_CLEAR:
		return ipump_ch_clear(card, c.channel, &req, c.generation);
	case IPUMP_IOC_ACK:
		return ipump_ch_ack(card, c.channel, &req);
	case IPUMP_IOC_AUDIO_PAUSE:
		return ipump_ch_audio_pause(card, c.channel, &req, c.value);
	case IPUMP_IOC_LEASE_ACQUIRE:
		return ipump_ch_lease(card, c.channel, &req,
				      IPUMP_LEASE_OP_ACQUIRE, c.value);
	case IPUMP_IOC_LEASE_RENEW:
		return ipump_ch_lease(card, c.channel, &req,
				      IPUMP_LEASE_OP_RENEW, 0);
	case IPUMP_IOC_LEASE_RELEASE:
		return ipump_ch_lease(card, c.channel, &req,
				      IPUMP_LEASE_OP_RELEASE, 0);
	case IPUMP_IOC_LEASE_TAKEOVER:
		return ipump_ch_lease(card, c.channel, &req,
				      IPUMP_LEASE_OP_TAKEOVER, c.value);
	default: /* IPUMP_IOC_BOLUS_CANCEL */
		ret = ipump_ch_bolus_cancel(card, c.channel, &req, &result);
		if (ret)
			return ret;
		c.result = result;
		return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
	}
}

static long ipump_ioctl_bolus(struct ipump_file *f, void __user *arg)
{
	struct ipump_req req = { .owner = f };
	struct ipump_bolus_req b;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	/* an unknown kind is the core's refusal: logged like every other */
	if (!ipump_zeroed(b.reserved, sizeof(b.reserved)))
		return -EINVAL;
	return ipump_ch_bolus(f->card, b.channel, &req, b.kind, b.volume_nl,
			      b.rate_nl_per_h);
}

static long ipump_ioctl_limits(struct ipump_file *f, unsigned int cmd,
			       void __user *arg)
{
	struct ipump_req req = { .owner = f };
	struct ipump_limits_req lr;
	int ret;

	if (copy_from_user(&lr, arg, sizeof(lr)))
		return -EFAULT;
	if (lr.padding || !ipump_zeroed(lr.reserved, sizeof(lr.reserved)))
		return -EINVAL;
	if (cmd == IPUMP_IOC_SET_HARD_LIMITS)
		return ipump_ch_limits_set(f->card, lr.channel, &req, &lr.limits);
	ret = ipump_ch_limits_get(f->card, lr.channel, &lr.limits);
	if (ret)
		return ret;
	return copy_to_user(arg, &lr, sizeof(lr)) ? -EFAULT : 0;
}

/*
 * 1 for an ioctl that changes something (needs the file opened for
 * writing, like write(2)), 0 for a query, -ENOTTY for an unknown one.
 */
static int ipump_ioctl_changes(unsigned int cmd)
{
	switch (cmd) {
	case IPUMP_IOC_GET_CARD_INFO:
	case IPUMP_IOC_GET_CHANNEL_STATUS:
	case IPUMP_IOC_SET_EVENT_MASK:
	case IPUMP_IOC_GET_PROGRAMME:
	case IPUMP_IOC_GET_HARD_LIMITS:
		return 0;
	case IPUMP_IOC_SET_PROGRAMME:
	case IPUMP_IOC_TITRATE:
	case IPUMP_IOC_START:
	case IPUMP_IOC_STOP:
	case IPUMP_IOC_PAUSE:
	case IPUMP_IOC_RESUME:
	case IPUMP_IOC_CLEAR:
	case IPUMP_IOC_BOLUS:
	case IPUMP_IOC_BOLUS_CANCEL:
	case IPUMP_IOC_ACK:
	case IPUMP_IOC_AUDIO_PAUSE:
	case IPUMP_IOC_LEASE_ACQUIRE:
	case IPUMP_IOC_LEASE_RENEW:
	case IPUMP_IOC_LEASE_RELEASE:
	case IPUMP_IOC_LEASE_TAKEOVER:
	case IPUMP_IOC_SET_HARD_LIMITS:
		return 1;
	default:
		return -ENOTTY;
	}
}

static long ipump_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ipump_file *f = file->private_data;
	struct ipump_card *card = f->card;
	void __user *uarg = (void __user *)arg;
	int changes = ipump_ioctl_changes(cmd);

	if (changes < 0)
		return changes;
	if (changes && !(file->f_mode & FMODE_WRITE))
		return -EBADF;

	switch (cmd) {
	case IPUMP_IOC_GET_CARD_INFO:
		return ipump_ioctl_card_info(card, uarg);
	case IPUMP_IOC_GET_CHANNEL_STATUS:
		return ipump_ioctl_channel_status(f, card, uarg);
	case IPUMP_IOC_SET_EVENT_MASK:
		return ipump_ioctl_event_mask(f, uarg);
	case IPUMP_IOC_SET_PROGRAMME:
	case IPUMP_IOC_GET_PROGRAMME:
	case IPUMP_IOC_TITRATE:
		return ipump_ioctl_programme(f, cmd, uarg);
	case IPUMP_IOC_START:
	case IPUMP_IOC_STOP:
	case IPUMP_IOC_PAUSE:
	case IPUMP_IOC_RESUME:
	case IPUMP_IOC_CLEAR:
	case IPUMP_IOC_BOLUS_CANCEL:
	case IPUMP_IOC_ACK:
	case IPUMP_IOC_AUDIO_PAUSE:
	case IPUMP_IOC_LEASE_ACQUIRE:
	case IPUMP_IOC_LEASE_RENEW:
	case IPUMP_IOC_LEASE_RELEASE:
	case IPUMP_IOC_LEASE_TAKEOVER:
		return ipump_ioctl_cmd(f, cmd, uarg);
	case IPUMP_IOC_BOLUS:
		return ipump_ioctl_bolus(f, uarg);
	case IPUMP_IOC_SET_HARD_LIMITS:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		fallthrough;
	case IPUMP_IOC_GET_HARD_LIMITS:
		return ipump_ioctl_limits(f, cmd, uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * Whole records only. Blocks until a record is queued unless O_NONBLOCK;
 * after the card is removed, the queued records and CARD_REMOVED come
 * first, then -ENODEV.
 */
static ssize_t ipump_read(struct file *file, char __user *buf, size_t count,
			  loff_t *ppos)
{
	struct ipump_file *f = file->private_data;
	ssize_t ret;

	for (;;) {
		ret = ipump_log_reader_read_user(&f->reader, buf, count);
		if (ret != -EAGAIN || file->f_flags & O_NONBLOCK)
			return ret;
		ret = ipump_log_reader_wait(&f->reader);
		if (ret)
			return ret;
	}
}

/* EPOLLIN for records, EPOLLPRI when a high-priority one is queued. */
static __poll_t ipump_poll(struct file *file, struct poll_table_struct *pt)
{
	struct ipump_file *f = file->private_data;

	poll_wait(file, &f->reader.wait, pt);
	return ipump_log_reader_poll_flags(&f->reader);
}

static int ipump_open(struct inode *inode, struct file *file)
{
	struct ipump_card *card = container_of(inode->i_cdev,
					       struct ipump_card, cdev);
	struct ipump_file *f;
	int ret;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->card = card;
	/* dropped in release: the card's memory outlives the open file */
	get_device(&card->dev);
	scoped_guard(mutex, &card->lock)
		ret = card->dead ? -ENODEV :
		      ipump_log_reader_attach(&card->log, &f->reader, 0);
	if (ret) {
		put_device(&card->dev);
		kfree(f);
		return ret;
	}
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int ipump_release(struct inode *inode, struct file *file)
{
	struct ipump_file *f = file->private_data;
	struct ipump_card *card = f->card;

	/* a lease this file still holds is lost now (CONTRACTS.md) */
	ipump_card_owner_gone(card, f);
	ipump_log_reader_detach(&f->reader);
	kfree(f);
	put_device(&card->dev);
	return 0;
}

static const struct file_operations ipump_fops = {
	.owner = THIS_MODULE,
	.open = ipump_open,
	.release = ipump_release,
	.read = ipump_read,
	.poll = ipump_poll,
	.unlocked_ioctl = ipump_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

void ipump_cdev_card_init(struct ipump_card *card)
{
	cdev_init(&card->cdev, &ipump_fops);
	card->cdev.owner = THIS_MODULE;
	card->dev.devt = MKDEV(MAJOR(ipump_devt), card->id);
}

int ipump_cdev_init(void)
{
	return alloc_chrdev_region(&ipump_devt, 0, IPUMP_MAX_CARDS, "ipump");
}

void ipump_cdev_exit(void)
{
	unregister_chrdev_region(ipump_devt, IPUMP_MAX_CARDS);
}
