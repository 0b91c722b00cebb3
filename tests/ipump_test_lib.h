/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for C tests that drive simulated ipump cards: a card made and
 * removed through configfs, the simulator's debugfs knobs and virtual
 * clock, /dev/ipumpN ioctls and the event stream.
 *
 * Nothing here depends on the kselftest harness: every helper returns 0
 * (or a count) on success and a negative errno on failure, and the test
 * asserts on that. All functions are static inline so that a test which
 * uses only some of them still builds with -Wall -Werror.
 */
#ifndef IPUMP_TEST_LIB_H
#define IPUMP_TEST_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ipump.h>

#define IPT_CFS		"/sys/kernel/config/ipump-sim/"
#define IPT_SIMDBG	"/sys/kernel/debug/ipump_sim/"
#define IPT_MS_NS	1000000ULL

/* A simulated card made by the test. */
struct ipt_card {
	char name[32];		/* configfs and simulator debugfs name */
	char card[32];		/* the core's class device, ipumpN */
	char dev[64];		/* /dev/ipumpN */
	unsigned int num;	/* N */
	int live;
};

/* Writes the string @s to @path in one write(): 0 or -errno. */
static inline int ipt_write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	err = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return err;
}

static inline int ipt_write_ll(const char *path, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld\n", v);
	return ipt_write_str(path, buf);
}

/* Reads the first line of @path, without its newline. */
static inline int ipt_read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline int ipt_read_ull(const char *path, unsigned long long *v)
{
	char buf[64], *end;
	int err;

	err = ipt_read_str(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/*
 * Makes a live simulated card "<prefix><pid>" with @num_channels channels,
 * time_scale 0 (virtual time moves only by ipt_advance()). On failure
 * nothing is left behind.
 */
static inline int ipt_card_create(struct ipt_card *c, const char *prefix,
				  unsigned int num_channels)
{
	char path[160];
	int err;

	memset(c, 0, sizeof(*c));
	if (access(IPT_CFS, F_OK) && system("modprobe ipump_sim") != 0)
		return -ENOENT;
	snprintf(c->name, sizeof(c->name), "%s%d", prefix, (int)getpid());
	snprintf(path, sizeof(path), IPT_CFS "%s", c->name);
	if (mkdir(path, 0755))
		return -errno;
	snprintf(path, sizeof(path), IPT_CFS "%s/num_channels", c->name);
	err = ipt_write_ll(path, num_channels);
	if (!err) {
		snprintf(path, sizeof(path), IPT_CFS "%s/live", c->name);
		err = ipt_write_str(path, "1\n");
	}
	if (!err) {
		c->live = 1;
		snprintf(path, sizeof(path), IPT_CFS "%s/card", c->name);
		err = ipt_read_str(path, c->card, sizeof(c->card));
	}
	if (!err && sscanf(c->card, "ipump%u", &c->num) != 1)
		err = -EINVAL;
	if (!err) {
		snprintf(path, sizeof(path), IPT_SIMDBG "%s/time_scale", c->name);
		err = ipt_write_str(path, "0\n");
	}
	if (err) {
		snprintf(path, sizeof(path), IPT_CFS "%s/live", c->name);
		ipt_write_str(path, "0\n");
		snprintf(path, sizeof(path), IPT_CFS "%s", c->name);
		rmdir(path);
		c->live = 0;
		return err;
	}
	snprintf(c->dev, sizeof(c->dev), "/dev/%s", c->card);
	return 0;
}

/* Removes the card (also while files are open); 0 when it is gone. */
static inline int ipt_card_destroy(struct ipt_card *c)
{
	char path[160];

	if (!c->name[0])
		return 0;
	snprintf(path, sizeof(path), IPT_CFS "%s/live", c->name);
	ipt_write_str(path, "0\n");
	snprintf(path, sizeof(path), IPT_CFS "%s", c->name);
	if (rmdir(path) && errno != ENOENT)
		return -errno;
	c->live = 0;
	return access(path, F_OK) ? 0 : -EEXIST;
}

static inline void ipt_knob_path(const struct ipt_card *c, int ch,
				 const char *knob, char *path, size_t len)
{
	if (ch < 0)
		snprintf(path, len, IPT_SIMDBG "%s/%s", c->name, knob);
	else
		snprintf(path, len, IPT_SIMDBG "%s/ch%d/%s", c->name, ch, knob);
}

/* A simulator knob: @ch < 0 for the card's, else ch<N>/@knob. */
static inline int ipt_knob_set(const struct ipt_card *c, int ch,
			       const char *knob, long long v)
{
	char path[192];

	ipt_knob_path(c, ch, knob, path, sizeof(path));
	return ipt_write_ll(path, v);
}

static inline int ipt_knob_get(const struct ipt_card *c, int ch,
			       const char *knob, unsigned long long *v)
{
	char path[192];

	ipt_knob_path(c, ch, knob, path, sizeof(path));
	return ipt_read_ull(path, v);
}

/* Advances the card's virtual clock by exactly @ms (synchronously). */
static inline int ipt_advance(const struct ipt_card *c, unsigned long long ms)
{
	return ms ? ipt_knob_set(c, -1, "advance_ms", (long long)ms) : 0;
}

/* The card's virtual time, ns. */
static inline int ipt_now_ns(const struct ipt_card *c, unsigned long long *ns)
{
	return ipt_knob_get(c, -1, "time_ns", ns);
}

/* ioctl() as 0 or -errno. */
static inline int ipt_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* A struct ipump_channel_cmd ioctl: 0 or -errno. */
static inline int ipt_chcmd(int fd, unsigned long cmd, unsigned int ch,
			    __u32 value, __u64 gen)
{
	struct ipump_channel_cmd c;

	memset(&c, 0, sizeof(c));
	c.channel = ch;
	c.value = value;
	c.generation = gen;
	return ipt_ioctl(fd, cmd, &c);
}

/* The default hard limits, as Documentation/safety/therapy-rules.rst says. */
static const struct ipump_hard_limits ipt_default_limits __attribute__((unused)) = {
	.min_rate_nl_per_h = 100,
	.max_rate_nl_per_h = 25000000,
	.max_kvo_rate_nl_per_h = 1000000,
	.max_bolus_volume_nl = 5000000,
	.max_bolus_rate_nl_per_h = 100000000,
	.min_lockout_ms = 300000,
	.max_vtbi_nl = 1000000000ULL,
	.max_dose_1h_nl = 30000000,
	.max_dose_4h_nl = 120000000,
	.max_boluses_per_hour = 12,
	.air_bubble_nl = 200000,
	.air_accum_nl = 1000000,
	.over_infusion_pct = 10,
	.under_infusion_pct = 10,
	.stall_ms = 5000,
};

static inline int ipt_status(int fd, unsigned int ch,
			     struct ipump_channel_status *st)
{
	memset(st, 0, sizeof(*st));
	st->channel = ch;
	return ipt_ioctl(fd, IPUMP_IOC_GET_CHANNEL_STATUS, st);
}

/*
 * Reads every record queued on a non-blocking @fd into @ev (at most @max):
 * the count, or -errno for an error other than "nothing queued". Records
 * beyond @max are left queued.
 */
static inline int ipt_read_events(int fd, struct ipump_event *ev, int max)
{
	int n = 0;
	ssize_t r;

	while (n < max) {
		r = read(fd, &ev[n], (size_t)(max - n) * sizeof(*ev));
		if (r < 0)
			return errno == EAGAIN ? n : -errno;
		if (r == 0)
			break;
		n += r / (ssize_t)sizeof(*ev);
	}
	return n;
}

/* Discards every queued record; returns how many there were. */
static inline int ipt_drain_events(int fd)
{
	struct ipump_event ev[64];
	int n, total = 0;

	do {
		n = ipt_read_events(fd, ev, 64);
		if (n > 0)
			total += n;
	} while (n == 64);
	return n < 0 ? n : total;
}

/*
 * The first record of @type (on channel @ch, any channel if < 0) at or
 * after index *@from; *@from is moved past it. NULL when there is none.
 */
static inline const struct ipump_event *
ipt_find_event_from(const struct ipump_event *ev, int n, int *from,
		    unsigned int type, int ch)
{
	int i;

	for (i = *from; i < n; i++) {
		if (ev[i].type != type)
			continue;
		if (ch >= 0 && ev[i].channel != (unsigned int)ch)
			continue;
		*from = i + 1;
		return &ev[i];
	}
	*from = n;
	return NULL;
}

static inline const struct ipump_event *
ipt_find_event(const struct ipump_event *ev, int n, unsigned int type, int ch)
{
	int from = 0;

	return ipt_find_event_from(ev, n, &from, type, ch);
}

static inline int ipt_count_events(const struct ipump_event *ev, int n,
				   unsigned int type, int ch)
{
	int from = 0, count = 0;

	while (ipt_find_event_from(ev, n, &from, type, ch))
		count++;
	return count;
}

/* An ALARM_RAISED record of @alarm on @ch, NULL when there is none. */
static inline const struct ipump_event *
ipt_find_alarm(const struct ipump_event *ev, int n, unsigned int alarm, int ch)
{
	const struct ipump_event *e;
	int from = 0;

	while ((e = ipt_find_event_from(ev, n, &from,
					IPUMP_EVENT_ALARM_RAISED, ch)))
		if (e->value[0] == alarm)
			return e;
	return NULL;
}

#endif /* IPUMP_TEST_LIB_H */
