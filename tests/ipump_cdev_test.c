// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/ipumpN: card info and channel status ioctls, their errors, and a
 * card removed under an open file. Built 64-bit and 32-bit (compat path).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ipump.h>

#include "kselftest_harness.h"

#define CFS "/sys/kernel/config/ipump-sim/"
#define SIMDBG "/sys/kernel/debug/ipump_sim/"

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

FIXTURE(card) {
	char name[32];		/* configfs name */
	char card[32];		/* ipumpN */
	char dev[64];		/* /dev/ipumpN */
	int fd;
};

FIXTURE_SETUP(card)
{
	char path[128];

	ASSERT_EQ(0, sh("modprobe ipump_sim"));
	snprintf(self->name, sizeof(self->name), "cdev%d", getpid());
	ASSERT_EQ(0, sh("mkdir " CFS "%s && echo 2 > " CFS "%s/num_channels && "
			"echo 1 > " CFS "%s/live", self->name, self->name, self->name));
	snprintf(path, sizeof(path), CFS "%s/card", self->name);
	ASSERT_EQ(0, read_line(path, self->card, sizeof(self->card)));
	snprintf(self->dev, sizeof(self->dev), "/dev/%s", self->card);
	self->fd = open(self->dev, O_RDONLY);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->dev, strerror(errno));
}

FIXTURE_TEARDOWN(card)
{
	if (self->fd >= 0)
		close(self->fd);
	sh("echo 0 > " CFS "%s/live 2>/dev/null; rmdir " CFS "%s 2>/dev/null",
	   self->name, self->name);
}

TEST_F(card, info)
{
	struct ipump_card_info info;
	char path[128], serial[32];
	unsigned int n;

	memset(&info, 0xa5, sizeof(info));	/* every byte must be written */
	ASSERT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CARD_INFO, &info));
	EXPECT_EQ(2, info.num_channels);
	ASSERT_EQ(1, sscanf(self->card, "ipump%u", &n));
	EXPECT_EQ(n, info.card);
	EXPECT_EQ(IPUMP_CLOCK_SIMULATED, info.clock);
	EXPECT_EQ(25, info.nl_per_step);
	EXPECT_EQ(0x010200, info.fw_version);
	EXPECT_EQ(0x00010001, info.map_version);
	EXPECT_EQ(1000, info.wdt_period_ms);
	EXPECT_EQ(0, info.padding);
	for (n = 0; n < 4; n++)
		EXPECT_EQ(0, info.reserved[n]);
	snprintf(path, sizeof(path), "/sys/class/ipump/%s/serial_number", self->card);
	ASSERT_EQ(0, read_line(path, serial, sizeof(serial)));
	EXPECT_EQ(strtoull(serial, NULL, 16), info.serial);
}

TEST_F(card, status_follows_delivery)
{
	struct ipump_channel_status st;

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
	EXPECT_EQ(IPUMP_STATE_IDLE, st.state);
	EXPECT_EQ(0, st.delivered_nl);
	EXPECT_EQ(20000000, st.reservoir_nl);
	EXPECT_EQ(0, st.motor);
	EXPECT_EQ(0, st.alarms);

	ASSERT_EQ(0, sh("echo 'start 1 1000000' > /sys/kernel/debug/ipump/%s/control",
			self->card));
	ASSERT_EQ(0, sh("echo 3600000 > " SIMDBG "%s/advance_ms", self->name));
	memset(&st, 0, sizeof(st));
	st.channel = 1;
	ASSERT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
	EXPECT_EQ(1, st.channel);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1000000, st.rate_nl_per_h);
	EXPECT_EQ(1000000, st.delivered_nl);
	EXPECT_EQ(19000000, st.reservoir_nl);
	EXPECT_EQ(40000, st.step_count);
	EXPECT_EQ(IPUMP_MOTOR_RUNNING, st.motor);
	EXPECT_EQ(3600000000000ULL, st.timestamp_ns);
	/* channel 0 was left alone */
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
	EXPECT_EQ(0, st.delivered_nl);
}

TEST_F(card, status_alarm_bits)
{
	struct ipump_channel_status st;

	ASSERT_EQ(0, sh("echo 1 > " SIMDBG "%s/ch0/door_open", self->name));
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
	EXPECT_EQ(1ULL << IPUMP_ALARM_DOOR_OPEN, st.alarms);
}

TEST_F(card, bad_channel)
{
	struct ipump_channel_status st;

	memset(&st, 0, sizeof(st));
	st.channel = 2;		/* a 2-channel card */
	EXPECT_EQ(-1, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.channel = 0xffffffff;
	EXPECT_EQ(-1, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.channel = 1;		/* the same request on a real channel works */
	EXPECT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
}

TEST_F(card, reserved_must_be_zero)
{
	struct ipump_channel_status st;
	unsigned int i;

	for (i = 0; i < sizeof(st.reserved) / sizeof(st.reserved[0]); i++) {
		memset(&st, 0, sizeof(st));
		st.reserved[i] = 1;
		EXPECT_EQ(-1, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
		EXPECT_EQ(EINVAL, errno);
	}
	memset(&st, 0, sizeof(st));
	EXPECT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st));
}

TEST_F(card, unknown_ioctls)
{
	char buf[256] = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, _IOR(IPUMP_IOC_MAGIC, 0x3f, struct ipump_card_info), buf));
	EXPECT_EQ(ENOTTY, errno);
	/* a known number with the wrong size is a different command */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(IPUMP_IOC_MAGIC, 0x00, uint64_t), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 1), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(card, bad_pointers)
{
	void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-1, ioctl(self->fd, IPUMP_IOC_GET_CARD_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IPUMP_IOC_GET_CHANNEL_STATUS, unmapped));
	EXPECT_EQ(EFAULT, errno);
	munmap(unmapped, 4096);
}

TEST_F(card, removed_under_open_file)
{
	struct ipump_card_info info;

	ASSERT_EQ(0, ioctl(self->fd, IPUMP_IOC_GET_CARD_INFO, &info));
	ASSERT_EQ(0, sh("echo 0 > " CFS "%s/live", self->name));
	EXPECT_EQ(-1, ioctl(self->fd, IPUMP_IOC_GET_CARD_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	/* the node went away with the card */
	EXPECT_EQ(-1, open(self->dev, O_RDONLY));
	EXPECT_EQ(ENOENT, errno);
}

/* Reads every queued record (non-blocking); returns how many. */
static int drain(int fd, struct ipump_event *ev, int max)
{
	int n = 0;
	ssize_t r;

	while (n < max) {
		r = read(fd, &ev[n], (max - n) * sizeof(*ev));
		if (r <= 0)
			break;
		n += r / sizeof(*ev);
	}
	return n;
}

static int control(const char *card, const char *cmd)
{
	return sh("echo '%s' > /sys/kernel/debug/ipump/%s/control", cmd, card);
}

TEST_F(card, events_in_order_without_gaps)
{
	struct ipump_event ev[64];
	int fd, n, i, started = 0, stopped = 0;
	unsigned int cardno;

	fd = open(self->dev, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, control(self->card, "start 0 1000000"));
	ASSERT_EQ(0, sh("echo 60000 > " SIMDBG "%s/advance_ms", self->name));
	ASSERT_EQ(0, control(self->card, "stop 0"));
	n = drain(fd, ev, 64);
	ASSERT_LE(4, n);
	ASSERT_EQ(1, sscanf(self->card, "ipump%u", &cardno));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(cardno, ev[i].card);
		EXPECT_EQ(0, ev[i].padding);
		if (i) {
			/* no mask: consecutive card-wide sequence numbers */
			EXPECT_EQ(ev[i - 1].seq + 1, ev[i].seq);
			EXPECT_LE(ev[i - 1].timestamp_ns, ev[i].timestamp_ns);
		}
		if (ev[i].type == IPUMP_EVENT_STARTED) {
			started++;
			EXPECT_EQ(0, ev[i].channel);
			EXPECT_EQ(1000000, ev[i].value[1]);
			EXPECT_EQ(0, ev[i].timestamp_ns);
		}
		if (ev[i].type == IPUMP_EVENT_STOPPED) {
			stopped++;
			/* stopped after exactly one virtual minute */
			EXPECT_EQ(60000000000ULL, ev[i].timestamp_ns);
		}
	}
	EXPECT_EQ(1, started);
	EXPECT_EQ(1, stopped);
	/* nothing more, and a non-blocking read says so */
	EXPECT_EQ(-1, read(fd, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST_F(card, read_needs_a_whole_record)
{
	struct ipump_event ev;
	char small[sizeof(ev) - 1];
	int fd = open(self->dev, O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, control(self->card, "start 0 1000"));
	EXPECT_EQ(-1, read(fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	/* the record was not consumed by the refused read */
	EXPECT_EQ((ssize_t)sizeof(ev), read(fd, &ev, sizeof(ev)));
	close(fd);
}

TEST_F(card, poll_in_and_pri)
{
	struct pollfd p;
	struct ipump_event ev[16];
	int n, i, alarm = 0;

	p.fd = open(self->dev, O_RDONLY | O_NONBLOCK);
	p.events = POLLIN | POLLPRI;
	ASSERT_LE(0, p.fd);
	EXPECT_EQ(0, poll(&p, 1, 0));		/* nothing yet */
	ASSERT_EQ(0, control(self->card, "start 0 1000000"));
	ASSERT_EQ(1, poll(&p, 1, 1000));
	EXPECT_EQ(POLLIN, p.revents);		/* informational only */
	drain(p.fd, ev, 16);
	/* a door opening is a high-priority alarm: POLLPRI */
	ASSERT_EQ(0, sh("echo 1 > " SIMDBG "%s/ch0/door_open", self->name));
	ASSERT_EQ(1, poll(&p, 1, 1000));
	EXPECT_TRUE(p.revents & POLLPRI);
	n = drain(p.fd, ev, 16);
	for (i = 0; i < n; i++)
		if (ev[i].type == IPUMP_EVENT_ALARM_RAISED &&
		    ev[i].value[0] == IPUMP_ALARM_DOOR_OPEN) {
			alarm++;
			EXPECT_EQ(IPUMP_PRIO_HIGH, ev[i].priority);
		}
	EXPECT_EQ(1, alarm);
	close(p.fd);
}

TEST_F(card, mask_filters_but_not_high)
{
	struct ipump_event_mask m;
	struct ipump_event ev[16];
	int fd, n;

	fd = open(self->dev, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	memset(&m, 0, sizeof(m));
	m.types = 1ULL << 63;			/* not an event type */
	EXPECT_EQ(-1, ioctl(fd, IPUMP_IOC_SET_EVENT_MASK, &m));
	EXPECT_EQ(EINVAL, errno);
	m.types = IPUMP_EVENT_BIT(IPUMP_EVENT_STOPPED);
	m.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(fd, IPUMP_IOC_SET_EVENT_MASK, &m));
	EXPECT_EQ(EINVAL, errno);
	m.reserved[1] = 0;
	m.min_priority = IPUMP_PRIO_HIGH + 1;
	EXPECT_EQ(-1, ioctl(fd, IPUMP_IOC_SET_EVENT_MASK, &m));
	EXPECT_EQ(EINVAL, errno);
	m.min_priority = 0;
	ASSERT_EQ(0, ioctl(fd, IPUMP_IOC_SET_EVENT_MASK, &m));

	ASSERT_EQ(0, control(self->card, "start 0 1000000"));
	ASSERT_EQ(0, control(self->card, "stop 0"));
	ASSERT_EQ(0, sh("echo 1 > " SIMDBG "%s/ch0/door_open", self->name));
	n = drain(fd, ev, 16);
	ASSERT_EQ(2, n);
	EXPECT_EQ(IPUMP_EVENT_STOPPED, ev[0].type);
	/* a high-priority alarm cannot be masked */
	EXPECT_EQ(IPUMP_EVENT_ALARM_RAISED, ev[1].type);
	EXPECT_EQ(IPUMP_PRIO_HIGH, ev[1].priority);
	EXPECT_LT(ev[0].seq + 1, ev[1].seq);	/* the mask made a gap */
	close(fd);
}

TEST_F(card, overflow_is_reported_not_silent)
{
	struct ipump_event ev[600];
	int fd, n, i, cycles = 100, overflow = -1;
	uint64_t lost = 0, first = 0, last = 0, prev = 0;

	fd = open(self->dev, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	/* each cycle logs STARTED, STATE_CHANGED, STOPPED, STATE_CHANGED */
	ASSERT_EQ(0, sh("for i in $(seq %d); do echo 'start 0 1000' > "
			"/sys/kernel/debug/ipump/%s/control; echo 'stop 0' > "
			"/sys/kernel/debug/ipump/%s/control; done",
			cycles, self->card, self->card));
	n = drain(fd, ev, 600);
	for (i = 0; i < n; i++) {
		if (ev[i].type == IPUMP_EVENT_OVERFLOW) {
			ASSERT_EQ(-1, overflow) TH_LOG("two overflow records");
			overflow = i;
			lost = ev[i].value[0];
			first = ev[i].value[1];
			last = ev[i].value[2];
			EXPECT_EQ(IPUMP_PRIO_HIGH, ev[i].priority);
			continue;
		}
		/* continuity: the loss record accounts for every gap */
		if (prev)
			EXPECT_EQ(prev + 1 + (overflow == i - 1 ? lost : 0), ev[i].seq);
		prev = ev[i].seq;
	}
	ASSERT_NE(-1, overflow);
	EXPECT_EQ(4 * cycles, n - 1 + lost);
	EXPECT_EQ(last - first + 1, lost);
	EXPECT_EQ(ev[overflow - 1].seq + 1, first);
	close(fd);
}

struct poller {
	int fd;
	short revents;
	int ret;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN | POLLPRI };

	/* wakes on the CARD_REMOVED record */
	p->ret = poll(&pfd, 1, 20000);
	p->revents = pfd.revents;
	return NULL;
}

/* A reader blocked in read(): the removal record wakes it, then ENODEV. */
struct reader {
	int fd;
	ssize_t n;
	int err;
	struct ipump_event ev[64];
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;

	r->n = read(r->fd, r->ev, sizeof(r->ev));
	r->err = r->n < 0 ? errno : 0;
	return NULL;
}

TEST_F(card, unplug_wakes_blocked_read)
{
	struct reader r;
	pthread_t t;
	int n;

	memset(&r, 0, sizeof(r));
	r.fd = open(self->dev, O_RDONLY);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, read_thread, &r));
	usleep(200000);		/* let it block */
	ASSERT_EQ(0, sh("echo 0 > " CFS "%s/live", self->name));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_LT(0, r.n) TH_LOG("blocked read: %s", strerror(r.err));
	n = r.n / sizeof(r.ev[0]);
	EXPECT_EQ(0, r.n % sizeof(r.ev[0]));
	EXPECT_EQ(IPUMP_EVENT_CARD_REMOVED, r.ev[n - 1].type);
	EXPECT_EQ(IPUMP_PRIO_HIGH, r.ev[n - 1].priority);
	EXPECT_EQ(-1, read(r.fd, r.ev, sizeof(r.ev)));
	EXPECT_EQ(ENODEV, errno);
	close(r.fd);
}

/* Two open files, two masks: each receives what its own mask asks for. */
TEST_F(card, masks_are_per_open_file)
{
	struct ipump_event_mask m;
	struct ipump_event a[16], b[16];
	int fa, fb, na, nb;

	fa = open(self->dev, O_RDONLY | O_NONBLOCK);
	fb = open(self->dev, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	memset(&m, 0, sizeof(m));
	m.types = IPUMP_EVENT_BIT(IPUMP_EVENT_STARTED);
	ASSERT_EQ(0, ioctl(fa, IPUMP_IOC_SET_EVENT_MASK, &m));
	m.types = IPUMP_EVENT_BIT(IPUMP_EVENT_STOPPED);
	ASSERT_EQ(0, ioctl(fb, IPUMP_IOC_SET_EVENT_MASK, &m));

	ASSERT_EQ(0, control(self->card, "start 0 1000000"));
	ASSERT_EQ(0, control(self->card, "stop 0"));
	na = drain(fa, a, 16);
	nb = drain(fb, b, 16);
	ASSERT_EQ(1, na);
	ASSERT_EQ(1, nb);
	EXPECT_EQ(IPUMP_EVENT_STARTED, a[0].type);
	EXPECT_EQ(IPUMP_EVENT_STOPPED, b[0].type);
	EXPECT_LT(a[0].seq, b[0].seq);
	/* the high-priority alarm reaches both */
	ASSERT_EQ(0, sh("echo 1 > " SIMDBG "%s/ch0/door_open", self->name));
	na = drain(fa, a, 16);
	nb = drain(fb, b, 16);
	ASSERT_EQ(1, na);
	ASSERT_EQ(1, nb);
	EXPECT_EQ(IPUMP_EVENT_ALARM_RAISED, a[0].type);
	EXPECT_EQ(a[0].seq, b[0].seq);
	close(fa);
	close(fb);
}

TEST_F(card, unplug_wakes_blocked_poll)
{
	struct poller p = { 0 };
	struct ipump_event ev[64];
	pthread_t t;
	int n, fd;

	fd = open(self->dev, O_RDONLY);
	ASSERT_LE(0, fd);
	p.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, &p));
	usleep(200000);		/* let it block */
	ASSERT_EQ(0, sh("echo 0 > " CFS "%s/live", self->name));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, p.ret);
	EXPECT_TRUE(p.revents & (POLLIN | POLLPRI));
	/* the queued records, the card-removed record last ... */
	n = read(fd, ev, sizeof(ev)) / sizeof(ev[0]);
	ASSERT_LT(0, n);
	EXPECT_EQ(IPUMP_EVENT_CARD_REMOVED, ev[n - 1].type);
	/* ... then the end, for read and poll */
	EXPECT_EQ(-1, read(fd, ev, sizeof(ev)));
	EXPECT_EQ(ENODEV, errno);
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		EXPECT_EQ(1, poll(&pfd, 1, 0));
		EXPECT_TRUE(pfd.revents & (POLLHUP | POLLERR));
	}
	close(fd);
}

/* Every ioctl that changes something, with its argument size. */
static const struct {
	const char *name;
	unsigned long cmd;
} mutating_ioctls[] = {
	{ "SET_PROGRAMME", IPUMP_IOC_SET_PROGRAMME },
	{ "TITRATE", IPUMP_IOC_TITRATE },
	{ "START", IPUMP_IOC_START },
	{ "STOP", IPUMP_IOC_STOP },
	{ "PAUSE", IPUMP_IOC_PAUSE },
	{ "RESUME", IPUMP_IOC_RESUME },
	{ "CLEAR", IPUMP_IOC_CLEAR },
	{ "BOLUS", IPUMP_IOC_BOLUS },
	{ "BOLUS_CANCEL", IPUMP_IOC_BOLUS_CANCEL },
	{ "ACK", IPUMP_IOC_ACK },
	{ "AUDIO_PAUSE", IPUMP_IOC_AUDIO_PAUSE },
	{ "LEASE_ACQUIRE", IPUMP_IOC_LEASE_ACQUIRE },
	{ "LEASE_RENEW", IPUMP_IOC_LEASE_RENEW },
	{ "LEASE_RELEASE", IPUMP_IOC_LEASE_RELEASE },
	{ "LEASE_TAKEOVER", IPUMP_IOC_LEASE_TAKEOVER },
	{ "SET_HARD_LIMITS", IPUMP_IOC_SET_HARD_LIMITS },
};

/*
 * A read-only opener can query and read events, nothing else: every
 * mutating ioctl is EBADF before its argument is even looked at (a NULL
 * pointer would otherwise be EFAULT). The same STOP on a writable file
 * works.
 */
TEST_F(card, read_only_opener_refused_every_change)
{
	struct ipump_channel_cmd cmd = { .channel = 0 };
	unsigned int i;
	int wfd;

	for (i = 0; i < sizeof(mutating_ioctls) / sizeof(mutating_ioctls[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, mutating_ioctls[i].cmd, NULL))
			TH_LOG("%s", mutating_ioctls[i].name);
		EXPECT_EQ(EBADF, errno) TH_LOG("%s", mutating_ioctls[i].name);
	}
	wfd = open(self->dev, O_WRONLY);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(0, ioctl(wfd, IPUMP_IOC_STOP, &cmd));
	/* and on a writable file, a bad pointer is EFAULT for every one */
	for (i = 0; i < sizeof(mutating_ioctls) / sizeof(mutating_ioctls[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(wfd, mutating_ioctls[i].cmd, NULL))
			TH_LOG("%s", mutating_ioctls[i].name);
		EXPECT_EQ(EFAULT, errno) TH_LOG("%s", mutating_ioctls[i].name);
	}
	close(wfd);
}

/*
 * Fields a command does not use, reserved words and unknown kinds are
 * EINVAL on every command; the same command with them cleared works.
 */
TEST_F(card, unused_fields_and_unknown_values_refused)
{
	struct ipump_channel_cmd cmd;
	struct ipump_bolus_req b;
	struct ipump_limits_req lr;
	int wfd = open(self->dev, O_RDWR);

	ASSERT_LE(0, wfd);
	memset(&cmd, 0, sizeof(cmd));
	cmd.value = 5;			/* STOP takes no value */
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_STOP, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.value = 0;
	cmd.generation = 1;		/* nor a generation */
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_STOP, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.generation = 0;
	cmd.result = 1;			/* output only */
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_STOP, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.result = 0;
	cmd.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_STOP, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.reserved[1] = 0;
	EXPECT_EQ(0, ioctl(wfd, IPUMP_IOC_STOP, &cmd));

	memset(&b, 0, sizeof(b));
	b.kind = 2;			/* no such kind */
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_BOLUS, &b));
	EXPECT_EQ(EINVAL, errno);
	b.kind = IPUMP_BOLUS_DEMAND;
	b.volume_nl = 1;		/* a demand takes the programme's volume */
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_BOLUS, &b));
	EXPECT_EQ(EINVAL, errno);

	memset(&lr, 0, sizeof(lr));
	EXPECT_EQ(0, ioctl(wfd, IPUMP_IOC_GET_HARD_LIMITS, &lr));
	lr.limits.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_SET_HARD_LIMITS, &lr));
	EXPECT_EQ(EINVAL, errno);
	lr.limits.reserved[0] = 0;
	lr.padding = 1;
	EXPECT_EQ(-1, ioctl(wfd, IPUMP_IOC_SET_HARD_LIMITS, &lr));
	EXPECT_EQ(EINVAL, errno);
	lr.padding = 0;
	EXPECT_EQ(0, ioctl(wfd, IPUMP_IOC_SET_HARD_LIMITS, &lr));
	close(wfd);
}

TEST_HARNESS_MAIN
