// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: debugfs, for tests and diagnostics only (not an ABI).
 *
 *   ipump/objects         live object counters, for leak checks
 *   ipump/<card>/control  channel control commands, see ipump_control_write()
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ipump_priv.h"

static struct dentry *ipump_debugfs_root;

static int ipump_objects_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "cards %d\nchannels %d\nlogs %d\nlog_readers %d\n",
		   atomic_read(&ipump_nr_cards), atomic_read(&ipump_nr_channels),
		   ipump_log_nr_logs(), ipump_log_nr_readers());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ipump_objects);

/*
 * One command per write: "start CH RATE_NL_PER_H", "stop CH", "ack CH" or
 * "ack card". Malformed commands fail with -EINVAL; otherwise the result of
 * the channel operation is returned to the writer.
 */
static ssize_t ipump_control_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct ipump_card *card = file->private_data;
	unsigned int argc = 0, ch, rate;
	char buf[64], *p, *tok, *argv[3];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	p = strim(buf);
	while (argc < ARRAY_SIZE(argv) && (tok = strsep(&p, " \t")))
		if (*tok)
			argv[argc++] = tok;
	if (p || argc < 2)
		return -EINVAL;

	if (argc == 2 && !strcmp(argv[0], "ack") && !strcmp(argv[1], "card")) {
		ret = ipump_card_ack(card);
	} else if (kstrtouint(argv[1], 10, &ch)) {
		return -EINVAL;
	} else if (argc == 3 && !strcmp(argv[0], "start")) {
		if (kstrtouint(argv[2], 10, &rate))
			return -EINVAL;
		ret = ipump_channel_start(card, ch, rate);
	} else if (argc == 2 && !strcmp(argv[0], "stop")) {
		ret = ipump_channel_stop(card, ch);
	} else if (argc == 2 && !strcmp(argv[0], "ack")) {
		ret = ipump_channel_ack(card, ch);
	} else {
		return -EINVAL;
	}
	return ret ?: count;
}

static const struct file_operations ipump_control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = ipump_control_write,
	.llseek = noop_llseek,
};

void ipump_debugfs_card_add(struct ipump_card *card)
{
	card->debugfs = debugfs_create_dir(dev_name(&card->dev),
					   ipump_debugfs_root);
	debugfs_create_file("control", 0200, card->debugfs, card,
			    &ipump_control_fops);
}

/* Waits for operations in progress; later ones fail. */
void ipump_debugfs_card_remove(struct ipump_card *card)
{
	debugfs_remove_recursive(card->debugfs);
}

void ipump_debugfs_init(void)
{
	ipump_debugfs_root = debugfs_create_dir("ipump", NULL);
	debugfs_create_file("objects", 0444, ipump_debugfs_root, NULL,
			    &ipump_objects_fops);
}

void ipump_debugfs_exit(void)
{
	debugfs_remove_recursive(ipump_debugfs_root);
}
