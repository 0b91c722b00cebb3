// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_bench: figures, not a pass/fail test (issue 8, "Benchmarks").
 *
 * Runs as root in the test VM (scripts/bench) on simulated cards and prints
 * a Markdown block between the markers IPUMP-BENCH-BEGIN and
 * IPUMP-BENCH-END on stdout; progress goes to stderr.
 *
 * 1. Alarm latency: CLOCK_MONOTONIC just before write(2) of "1" to the
 *    simulator's debugfs ch0/door_open, to the moment a thread blocked in
 *    poll() has the ALARM_RAISED record in userspace: (a) read() on
 *    /dev/ipumpN, (b) recv() on a netlink socket in the "monitor" group;
 *    the floor is an eventfd wake-up (write in one thread, poll+read in
 *    another) in the same run. The card's own timestamps are on its
 *    virtual clock (IPUMP_CLOCK_SIMULATED), useless for wall time, so both
 *    ends are userspace CLOCK_MONOTONIC. Each cycle: door 1 (measured),
 *    door 0, IPUMP_IOC_ACK, and the reader must have consumed every record
 *    of the cycle before the next one starts; the channel is idle, so every
 *    opening raises a fresh alarm.
 * 2. Control path: one ioctl per sample, timed alone: an unknown ioctl
 *    (ENOTTY, the floor), IPUMP_IOC_GET_CHANNEL_STATUS, IPUMP_IOC_TITRATE on
 *    a running channel with the lease held (1 and 2 mL/h alternately);
 *    netlink round trips: an unknown generic netlink command (EOPNOTSUPP
 *    from the genl core, the floor), CHANNEL_GET (do), TITRATE. Interleaved
 *    in rounds so that drift hits every operation alike.
 * 3. Scale: 1, 8, 16, 32, 64 cards of 8 channels, every channel leased by
 *    this process, programmed and running. Per stage: the cost of
 *    advancing a card's virtual clock by 1 s (per channel), an "alarm
 *    storm" (door_open on every channel, the records read back from the
 *    card's /dev/ipumpN while a netlink monitor receives them too): cost
 *    per record; and kernel memory per channel from /proc/meminfo deltas
 *    against the state before the first card (Slab; and the MemFree drop).
 *
 * Netlink is raw (no libnl), on the helpers of tests/ipump_nl_lib.h; the
 * timed round trips use a lean send/recv of their own (below).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/ipump.h>
#include <linux/netlink.h>

#include "ipump_nl_lib.h"
#include "ipump_test_lib.h"

#define NL_PER_ML	1000000U	/* nL per mL, and nL/h per mL/h */
#define LEASE_MS	60000U
#define LAT_BLOCKS	10	/* alarm latency: blocks per path, in turn */
#define LAT_WARMUP	50	/* cycles dropped at the start of each block */
#define MAX_CARDS	64
#define NCH		8

static unsigned int opt_alarms = 10000;
static unsigned int opt_ctl = 20000;
static unsigned int opt_nl = 10000;
static unsigned int opt_adv_reps = 5;
static unsigned int opt_storm_reps = 5;
static unsigned int scale_steps[] = { 1, 8, 16, 32, 64 };
static unsigned int nscale = 5;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ipump_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

#define CHECK(expr) do {						\
	long __r = (long)(expr);					\
	if (__r < 0)							\
		die("%s:%d: %s: %s", __FILE__, __LINE__, #expr,		\
		    strerror(__r == -1 ? errno : (int)-__r));		\
} while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p)
		die("out of memory");
	return p;
}

/* ---- statistics */

struct stats {
	unsigned int n;
	double min, p10, med, p99, max, mean;	/* microseconds */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted v[n] */
static uint64_t pct(const uint64_t *v, unsigned int n, double p)
{
	unsigned int k = (unsigned int)((p / 100.0) * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static struct stats stats_of(uint64_t *v, unsigned int n)
{
	struct stats s = { .n = n };
	double sum = 0;
	unsigned int i;

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	s.min = v[0] / 1e3;
	s.p10 = pct(v, n, 10) / 1e3;
	s.med = pct(v, n, 50) / 1e3;
	s.p99 = pct(v, n, 99) / 1e3;
	s.max = v[n - 1] / 1e3;
	s.mean = sum / n / 1e3;
	return s;
}

/* ---- output, collected and printed at the end */

static char out[64 * 1024];
static size_t outlen;

static void outf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out + outlen, sizeof(out) - outlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(out) - outlen)
		outlen += n;
}

static void row_stats(const char *what, const struct stats *s)
{
	outf("| %s | %u | %.1f | %.1f | %.1f | %.1f | %.1f |\n", what, s->n,
	     s->med, s->p99, s->min, s->mean, s->max);
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ipump_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- small file and ioctl helpers */

static int open_knob(const struct ipt_card *c, int ch, const char *knob)
{
	char path[192];
	int fd;

	ipt_knob_path(c, ch, knob, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

/* debugfs attributes ignore the file position: one open fd, many writes */
static void knob_write(int fd, const char *s)
{
	size_t len = strlen(s);

	if (write(fd, s, len) != (ssize_t)len)
		die("knob write \"%s\": %s", s, strerror(errno));
}

static struct ipump_programme prog_basal(__u32 rate)
{
	struct ipump_programme p;

	memset(&p, 0, sizeof(p));
	p.route = IPUMP_ROUTE_INTRAVENOUS;
	p.flags = IPUMP_PROG_VTBI_UNLIMITED;
	p.basal_rate_nl_per_h = rate;
	p.max_dose_1h_nl = 30ULL * NL_PER_ML;	/* the default hard limits */
	p.max_dose_4h_nl = 120ULL * NL_PER_ML;
	p.lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	return p;
}

static int prog_ioctl(int fd, unsigned long cmd, unsigned int ch, __u64 *gen,
		      __u32 rate)
{
	struct ipump_programme_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.channel = ch;
	req.generation = *gen;
	req.programme = prog_basal(rate);
	err = ipt_ioctl(fd, cmd, &req);
	if (!err)
		*gen = req.generation;
	return err;
}

/* lease, 1 mL/h programme, start: the channel runs, leased by @fd */
static void run_channel(int fd, unsigned int ch, __u64 *gen)
{
	*gen = 0;
	CHECK(ipt_chcmd(fd, IPUMP_IOC_LEASE_ACQUIRE, ch, LEASE_MS, 0));
	CHECK(prog_ioctl(fd, IPUMP_IOC_SET_PROGRAMME, ch, gen, NL_PER_ML));
	CHECK(ipt_chcmd(fd, IPUMP_IOC_START, ch, 0, *gen));
}

static void set_mask(int fd, __u64 types)
{
	struct ipump_event_mask m;

	memset(&m, 0, sizeof(m));
	m.types = types;
	m.min_priority = IPUMP_PRIO_INFO;
	CHECK(ipt_ioctl(fd, IPUMP_IOC_SET_EVENT_MASK, &m));
}

/* reads every queued record of a non-blocking fd; count, highest seq */
static unsigned int drain(int fd, __u64 *max_seq)
{
	struct ipump_event ev[64];
	unsigned int total = 0;
	int n, i;

	do {
		n = ipt_read_events(fd, ev, 64);
		if (n < 0)
			die("read events: %s", strerror(-n));
		for (i = 0; i < n; i++)
			if (max_seq && ev[i].seq > *max_seq)
				*max_seq = ev[i].seq;
		total += n;
	} while (n == 64);
	return total;
}

/* ---- generic netlink, on tests/ipump_nl_lib.h */

struct nl {
	struct inl_sock s;
	__u16 family;
	__u32 mcgrp;
};

static void nl_open_resolved(struct nl *n, bool monitor)
{
	struct inl_family f;
	int bufsz = 8 << 20;

	memset(n, 0, sizeof(*n));
	CHECK(inl_open(&n->s));
	CHECK(inl_get_family(&n->s, IPUMP_GENL_NAME, &f));
	n->family = f.id;
	/* SO_RCVBUFFORCE: root may go past rmem_max */
	if (setsockopt(n->s.fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(n->s.fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (monitor) {
		CHECK(inl_group_id(&f, IPUMP_GENL_MCGRP_MONITOR, &n->mcgrp));
		CHECK(inl_join(&n->s, n->mcgrp));
	}
}

static void nl_msg(struct nl *n, struct inl_msg *m, __u8 cmd, __u16 flags)
{
	inl_msg_init(m, n->family, flags, cmd, IPUMP_GENL_VERSION);
}

/*
 * The timed round trip, as lean as a console can make it: one sendto(),
 * then recv() until the answer to it (no poll(); no NLM_F_ACK unless the
 * request asks for one): 0 with *@reply set, or the ack's error.
 */
static int nl_call(struct nl *n, struct inl_msg *m, const struct nlmsghdr **reply)
{
	static char rx[INL_RX_MAX] __attribute__((aligned(8)));
	const struct nlmsghdr *nlh;
	int err = inl_send(&n->s, m);

	if (err)
		return err;
	for (;;) {
		ssize_t len = recv(n->s.fd, rx, sizeof(rx), 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		inl_for_each_msg(nlh, rx, len) {
			if (nlh->nlmsg_seq != m->nlh.nlmsg_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			if (reply)
				*reply = nlh;
			return 0;
		}
	}
}

/*
 * One monitor datagram (may hold several messages): for each EVENT,
 * calls back with its card, seq, type and value[0].
 */
typedef void (*nl_event_cb)(void *priv, __u32 card, __u64 seq, __u32 type,
			    __u64 v0);

static void nl_monitor_parse(const char *buf, ssize_t len, nl_event_cb cb,
			     void *priv)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1], *ev[IPUMP_A_EV_MAX + 1];
	const struct nlmsghdr *nlh;

	inl_for_each_msg(nlh, buf, len) {
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
		    inl_genlhdr(nlh)->cmd != IPUMP_CMD_EVENT ||
		    inl_genl_parse(nlh, tb, IPUMP_A_MAX) ||
		    !tb[IPUMP_A_EVENT] || !tb[IPUMP_A_CARD_ID] ||
		    inl_parse_nested(tb[IPUMP_A_EVENT], ev, IPUMP_A_EV_MAX) ||
		    !ev[IPUMP_A_EV_SEQ] || !ev[IPUMP_A_EV_TYPE])
			continue;
		cb(priv, inl_get_u32(tb[IPUMP_A_CARD_ID]),
		   inl_get_u64(ev[IPUMP_A_EV_SEQ]), inl_get_u32(ev[IPUMP_A_EV_TYPE]),
		   ev[IPUMP_A_EV_VALUE0] ? inl_get_u64(ev[IPUMP_A_EV_VALUE0]) : 0);
	}
}

static void nl_put_programme(struct inl_msg *m, const struct ipump_programme *p)
{
	int nest = inl_nest_start(m, IPUMP_A_PROGRAMME);

	inl_put_u32(m, IPUMP_A_PROG_ROUTE, p->route);
	inl_put_u32(m, IPUMP_A_PROG_FLAGS, p->flags);
	inl_put_u32(m, IPUMP_A_PROG_BASAL_RATE_NL_PER_H, p->basal_rate_nl_per_h);
	inl_put_u32(m, IPUMP_A_PROG_KVO_RATE_NL_PER_H, p->kvo_rate_nl_per_h);
	inl_put_u64(m, IPUMP_A_PROG_VTBI_NL, p->vtbi_nl);
	inl_put_u32(m, IPUMP_A_PROG_BOLUS_VOLUME_NL, p->bolus_volume_nl);
	inl_put_u32(m, IPUMP_A_PROG_BOLUS_RATE_NL_PER_H, p->bolus_rate_nl_per_h);
	inl_put_u32(m, IPUMP_A_PROG_LOCKOUT_MS, p->lockout_ms);
	inl_put_u32(m, IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR, p->max_boluses_per_hour);
	inl_put_u64(m, IPUMP_A_PROG_MAX_DOSE_1H_NL, p->max_dose_1h_nl);
	inl_put_u64(m, IPUMP_A_PROG_MAX_DOSE_4H_NL, p->max_dose_4h_nl);
	inl_put_u32(m, IPUMP_A_PROG_LEASE_LOSS_MODE, p->lease_loss_mode);
	inl_nest_end(m, nest);
}

/* PROGRAMME_SET / TITRATE over netlink: the new generation in *gen */
static int nl_programme(struct nl *n, __u8 cmd, __u32 card, __u32 ch,
			__u64 *gen, __u32 rate)
{
	static struct inl_msg m;
	const struct nlattr *tb[IPUMP_A_MAX + 1];
	struct ipump_programme p = prog_basal(rate);
	const struct nlmsghdr *reply;
	int err;

	nl_msg(n, &m, cmd, 0);
	inl_put_u32(&m, IPUMP_A_CARD_ID, card);
	inl_put_u32(&m, IPUMP_A_CHANNEL, ch);
	inl_put_u64(&m, IPUMP_A_GENERATION, *gen);
	nl_put_programme(&m, &p);
	err = nl_call(n, &m, &reply);
	if (err)
		return err;
	if (inl_genl_parse(reply, tb, IPUMP_A_MAX) || !tb[IPUMP_A_GENERATION])
		return -EPROTO;
	*gen = inl_get_u64(tb[IPUMP_A_GENERATION]);
	return 0;
}

/* a command answered by an ack (inl_transact(): NLM_F_ACK) */
static int nl_chcmd(struct nl *n, __u8 cmd, __u32 card, __u32 ch,
		    __u16 extra_attr, __u64 extra, bool extra64)
{
	static struct inl_msg m;

	nl_msg(n, &m, cmd, 0);
	inl_put_u32(&m, IPUMP_A_CARD_ID, card);
	inl_put_u32(&m, IPUMP_A_CHANNEL, ch);
	if (extra_attr) {
		if (extra64)
			inl_put_u64(&m, extra_attr, extra);
		else
			inl_put_u32(&m, extra_attr, (__u32)extra);
	}
	return inl_transact(&n->s, &m, NULL, 0, NULL);
}

/* ---- 1. alarm latency */

enum lat_kind { LAT_EVENTFD, LAT_CDEV, LAT_NETLINK };

static const char *const lat_names[] = {
	[LAT_EVENTFD] = "eventfd write -> poll()+read() in another thread (floor)",
	[LAT_CDEV] = "door_open -> ALARM_RAISED via /dev/ipumpN poll()+read()",
	[LAT_NETLINK] = "door_open -> ALARM_RAISED via netlink monitor poll()+recv()",
};

struct lat_ctx {
	enum lat_kind kind;
	int fd;			/* eventfd, /dev/ipumpN (O_NONBLOCK) or netlink */
	int quitfd;		/* eventfd: the reader leaves */
	__u32 card;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	__u64 last_seq;		/* highest record seen */
	__u64 nraised;		/* door-open ALARM_RAISED records (or eventfd reads) */
	uint64_t t_raised;	/* CLOCK_MONOTONIC when the last one was in hand */
	__u64 nrecords;
	__u64 nloss;		/* ENOBUFS, overflow records */
	/* scratch for the netlink callback */
	bool found;
	__u64 seq_max;
};

static void lat_nl_cb(void *priv, __u32 card, __u64 seq, __u32 type, __u64 v0)
{
	struct lat_ctx *x = priv;

	if (card != x->card)
		return;
	x->nrecords++;
	if (seq > x->seq_max)
		x->seq_max = seq;
	if (type == IPUMP_EVENT_ALARM_RAISED && v0 == IPUMP_ALARM_DOOR_OPEN)
		x->found = true;
}

static void lat_publish(struct lat_ctx *x, bool found, uint64_t t, __u64 seq_max)
{
	pthread_mutex_lock(&x->mu);
	if (found) {
		x->nraised++;
		x->t_raised = t;
	}
	if (seq_max > x->last_seq)
		x->last_seq = seq_max;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

static void *lat_reader(void *arg)
{
	static char nlbuf[65536];
	struct lat_ctx *x = arg;
	struct ipump_event ev[64];

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = x->fd, .events = POLLIN | POLLPRI },
			{ .fd = x->quitfd, .events = POLLIN },
		};
		uint64_t t, v;
		ssize_t n;
		int i;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (p[1].revents)
			return NULL;
		switch (x->kind) {
		case LAT_EVENTFD:
			n = read(x->fd, &v, sizeof(v));
			t = now_ns();
			if (n == sizeof(v))
				lat_publish(x, true, t, 0);
			break;
		case LAT_CDEV:
			n = read(x->fd, ev, sizeof(ev));
			t = now_ns();
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				die("read /dev/ipump: %s", strerror(errno));
			}
			x->found = false;
			x->seq_max = 0;
			for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
				x->nrecords++;
				if (ev[i].type == IPUMP_EVENT_OVERFLOW)
					x->nloss++;
				if (ev[i].seq > x->seq_max)
					x->seq_max = ev[i].seq;
				if (ev[i].type == IPUMP_EVENT_ALARM_RAISED &&
				    ev[i].value[0] == IPUMP_ALARM_DOOR_OPEN)
					x->found = true;
			}
			lat_publish(x, x->found, t, x->seq_max);
			break;
		case LAT_NETLINK:
			/* one message per datagram: take every queued one */
			for (;;) {
				n = recv(x->fd, nlbuf, sizeof(nlbuf), MSG_DONTWAIT);
				t = now_ns();
				if (n < 0) {
					if (errno == EAGAIN)
						break;
					if (errno == ENOBUFS) {
						x->nloss++;
						continue;
					}
					die("recv monitor: %s", strerror(errno));
				}
				x->found = false;
				x->seq_max = 0;
				nl_monitor_parse(nlbuf, n, lat_nl_cb, x);
				lat_publish(x, x->found, t, x->seq_max);
			}
			break;
		}
	}
}

/* waits (5 s at most) until @pred holds, under x->mu */
#define LAT_WAIT(x, pred) do {						\
	struct timespec __ts;						\
	clock_gettime(CLOCK_REALTIME, &__ts);				\
	__ts.tv_sec += 5;						\
	pthread_mutex_lock(&(x)->mu);					\
	while (!(pred))							\
		if (pthread_cond_timedwait(&(x)->cv, &(x)->mu, &__ts))	\
			die("reader did not see the record in 5 s (%s)", #pred); \
	pthread_mutex_unlock(&(x)->mu);					\
} while (0)

/* one block: @n samples into @lat after LAT_WARMUP dropped cycles */
static void bench_latency(enum lat_kind kind, struct ipt_card *c,
			  unsigned int n, uint64_t *lat)
{
	struct lat_ctx x;
	pthread_t th;
	struct nl nl;
	int door = -1, fd = -1;
	unsigned int i;
	__u64 target = 0;

	memset(&x, 0, sizeof(x));
	x.kind = kind;
	x.card = c->num;
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	x.quitfd = eventfd(0, EFD_CLOEXEC);
	CHECK(x.quitfd);
	switch (kind) {
	case LAT_EVENTFD:
		x.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		CHECK(x.fd);
		break;
	case LAT_CDEV:
		x.fd = open(c->dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		CHECK(x.fd);
		break;
	case LAT_NETLINK:
		nl_open_resolved(&nl, true);
		x.fd = nl.s.fd;
		break;
	}
	if (kind != LAT_EVENTFD) {
		fd = open(c->dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		CHECK(fd);
		door = open_knob(c, 0, "door_open");
	}
	if (pthread_create(&th, NULL, lat_reader, &x))
		die("pthread_create");

	for (i = 0; i < n + LAT_WARMUP; i++) {
		__u64 base;
		uint64_t t0;

		if (kind != LAT_EVENTFD)
			LAT_WAIT(&x, x.last_seq >= target);
		pthread_mutex_lock(&x.mu);
		base = x.nraised;
		pthread_mutex_unlock(&x.mu);

		if (kind == LAT_EVENTFD) {
			uint64_t one = 1;

			t0 = now_ns();
			if (write(x.fd, &one, sizeof(one)) != sizeof(one))
				die("eventfd write: %s", strerror(errno));
		} else {
			t0 = now_ns();
			knob_write(door, "1\n");
		}
		LAT_WAIT(&x, x.nraised > base);
		if (i >= LAT_WARMUP)
			lat[i - LAT_WARMUP] = x.t_raised - t0;
		if (kind == LAT_EVENTFD)
			continue;
		knob_write(door, "0\n");
		CHECK(ipt_chcmd(fd, IPUMP_IOC_ACK, 0, 0, 0));
		/* every record of the cycle is queued on fd by now */
		drain(fd, &target);
	}
	CHECK(eventfd_write(x.quitfd, 1));
	pthread_join(th, NULL);
	if (x.nloss)
		progress("%s: %llu records lost (overflow/ENOBUFS)", lat_names[kind],
			 (unsigned long long)x.nloss);
	if (kind != LAT_EVENTFD) {
		close(door);
		close(fd);
	}
	close(x.fd);
	close(x.quitfd);
}

/* cost of the two clock reads around every sample */
static struct stats bench_clock(unsigned int n)
{
	uint64_t *v = xcalloc(n, sizeof(*v));
	unsigned int i;
	struct stats s;

	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		v[i] = now_ns() - t0;
	}
	s = stats_of(v, n);
	free(v);
	return s;
}

static void section_latency(void)
{
	unsigned int per = (opt_alarms + LAT_BLOCKS - 1) / LAT_BLOCKS, b;
	uint64_t *lat[3];
	struct stats s[3];
	struct ipt_card c;
	int err, k;

	err = ipt_card_create(&c, "blat", 1);
	if (err)
		die("creating a card: %s", strerror(-err));
	progress("alarm latency: %u blocks of %u samples per path", LAT_BLOCKS, per);
	for (k = LAT_EVENTFD; k <= LAT_NETLINK; k++)
		lat[k] = xcalloc((size_t)per * LAT_BLOCKS, sizeof(uint64_t));
	/* blocks in turn, so that a change of the host's load hits every path */
	for (b = 0; b < LAT_BLOCKS; b++)
		for (k = LAT_EVENTFD; k <= LAT_NETLINK; k++)
			bench_latency(k, &c, per, lat[k] + (size_t)b * per);
	for (k = LAT_EVENTFD; k <= LAT_NETLINK; k++) {
		s[k] = stats_of(lat[k], per * LAT_BLOCKS);
		free(lat[k]);
	}
	CHECK(ipt_card_destroy(&c));

	outf("\n### Alarm latency\n\n");
	outf("From `clock_gettime(CLOCK_MONOTONIC)` just before `write(\"1\")` to the "
	     "simulator's debugfs `ch0/door_open` until a thread blocked in `poll()` "
	     "holds the `ALARM_RAISED` record (CLOCK_MONOTONIC again). The three "
	     "paths are measured in turn in %d blocks (each with its own reader "
	     "thread and %d warm-up cycles dropped), so that a change of the "
	     "host's load hits all three alike. Each cycle: door 1 (measured), door 0, "
	     "`IPUMP_IOC_ACK`, reader drained. The path includes the debugfs write, "
	     "the simulated card's irq_work, the core's threaded IRQ handler, the "
	     "audit log append and the reader's wake-up. The eventfd row is the "
	     "floor: a plain cross-thread wake-up in the same run.\n\n",
	     LAT_BLOCKS, LAT_WARMUP);
	outf("| path | n | median µs | p99 µs | min µs | mean µs | max µs |\n");
	outf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (k = LAT_EVENTFD; k <= LAT_NETLINK; k++)
		row_stats(lat_names[k], &s[k]);
}

/* ---- 2. control path */

enum ctl_op {
	CTL_NULL, CTL_STATUS, CTL_TITRATE, NL_NULL, NL_GET, NL_TITRATE, CTL_NR
};

static const char *const ctl_names[CTL_NR] = {
	[CTL_NULL] = "ioctl: unknown number (ENOTTY), the floor",
	[CTL_STATUS] = "ioctl: IPUMP_IOC_GET_CHANNEL_STATUS",
	[CTL_TITRATE] = "ioctl: IPUMP_IOC_TITRATE (running, lease held, 1 <-> 2 mL/h)",
	[NL_NULL] = "netlink: unknown genl command (EOPNOTSUPP) round trip, the floor",
	[NL_GET] = "netlink: CHANNEL_GET (do) round trip",
	[NL_TITRATE] = "netlink: TITRATE round trip (running, lease held, 1 <-> 2 mL/h)",
};

static void section_control(void)
{
	unsigned int per[CTL_NR], cnt[CTL_NR] = { 0 }, rounds = 20, r, i, op;
	uint64_t *v[CTL_NR];
	struct ipump_channel_status st;
	struct stats s[CTL_NR], clk;
	__u64 gen_io, gen_nl = 0;
	struct ipt_card c;
	struct nl nl;
	static struct inl_msg get, nul;
	const struct nlmsghdr *reply;
	int fd, err;

	err = ipt_card_create(&c, "bctl", 2);
	if (err)
		die("creating a card: %s", strerror(-err));
	fd = open(c.dev, O_RDWR | O_CLOEXEC);
	CHECK(fd);
	set_mask(fd, 0);	/* only high-priority records would queue */
	run_channel(fd, 0, &gen_io);

	/* channel 1: leased, programmed and started over netlink */
	nl_open_resolved(&nl, false);
	CHECK(nl_chcmd(&nl, IPUMP_CMD_LEASE_ACQUIRE, c.num, 1,
		       IPUMP_A_LEASE_PERIOD_MS, LEASE_MS, false));
	CHECK(nl_programme(&nl, IPUMP_CMD_PROGRAMME_SET, c.num, 1, &gen_nl, NL_PER_ML));
	CHECK(nl_chcmd(&nl, IPUMP_CMD_START, c.num, 1, IPUMP_A_GENERATION, gen_nl, true));

	nl_msg(&nl, &get, IPUMP_CMD_CHANNEL_GET, 0);
	inl_put_u32(&get, IPUMP_A_CARD_ID, c.num);
	inl_put_u32(&get, IPUMP_A_CHANNEL, 0);
	nl_msg(&nl, &nul, IPUMP_CMD_MAX + 40, NLM_F_ACK);

	for (op = 0; op < CTL_NR; op++) {
		per[op] = (op >= NL_NULL ? opt_nl : opt_ctl) / rounds;
		v[op] = xcalloc((size_t)per[op] * rounds, sizeof(uint64_t));
	}
	progress("control path: %u rounds", rounds);
	for (r = 0; r < rounds + 1; r++) {	/* round 0: warm-up */
		for (op = 0; op < CTL_NR; op++) {
			for (i = 0; i < per[op]; i++) {
				uint64_t t0, t1;
				int ret = 0;

				switch (op) {
				case CTL_NULL:
					t0 = now_ns();
					ret = ioctl(fd, _IO(IPUMP_IOC_MAGIC, 0x3f), &st);
					t1 = now_ns();
					if (ret != -1 || errno != ENOTTY)
						die("null ioctl: %d %s", ret, strerror(errno));
					ret = 0;
					break;
				case CTL_STATUS:
					memset(&st, 0, sizeof(st));
					t0 = now_ns();
					ret = ioctl(fd, IPUMP_IOC_GET_CHANNEL_STATUS, &st);
					t1 = now_ns();
					break;
				case CTL_TITRATE:
					t0 = now_ns();
					ret = prog_ioctl(fd, IPUMP_IOC_TITRATE, 0, &gen_io,
							 (i & 1) ? NL_PER_ML : 2 * NL_PER_ML);
					t1 = now_ns();
					break;
				case NL_NULL:
					t0 = now_ns();
					ret = nl_call(&nl, &nul, NULL);
					t1 = now_ns();
					if (ret != -EOPNOTSUPP)
						die("netlink null: %s", strerror(-ret));
					ret = 0;
					break;
				case NL_GET:
					t0 = now_ns();
					ret = nl_call(&nl, &get, &reply);
					t1 = now_ns();
					break;
				default: /* NL_TITRATE */
					t0 = now_ns();
					ret = nl_programme(&nl, IPUMP_CMD_TITRATE, c.num, 1,
							   &gen_nl,
							   (i & 1) ? NL_PER_ML : 2 * NL_PER_ML);
					t1 = now_ns();
					break;
				}
				if (ret)
					die("%s: %s", ctl_names[op],
					    strerror(ret < 0 ? (ret == -1 ? errno : -ret) : ret));
				if (r)
					v[op][cnt[op]++] = t1 - t0;
			}
		}
	}
	for (op = 0; op < CTL_NR; op++) {
		s[op] = stats_of(v[op], cnt[op]);
		free(v[op]);
	}
	{
		const struct nlattr *tb[IPUMP_A_MAX + 1];

		/* the timed replies were real status replies */
		CHECK(nl_call(&nl, &get, &reply));
		if (inl_genl_parse(reply, tb, IPUMP_A_MAX) || !tb[IPUMP_A_STATUS])
			die("CHANNEL_GET reply without a STATUS nest");
	}
	clk = bench_clock(100000);
	CHECK(ipt_status(fd, 0, &st));
	if (st.state != IPUMP_STATE_RUNNING)
		die("channel 0 not running after the titrations (state %u)", st.state);
	inl_close(&nl.s);
	close(fd);
	CHECK(ipt_card_destroy(&c));

	outf("\n### Control path\n\n");
	outf("Each call timed alone with CLOCK_MONOTONIC; the operations are "
	     "interleaved in %u rounds (plus one warm-up round). The pair of clock "
	     "reads around each sample costs %.2f µs (median) and is not subtracted. "
	     "TITRATE changes the running channel's rate on the card (register write "
	     "and read-back), logs the change and returns the new generation.\n\n",
	     rounds, clk.med);
	outf("| call | n | median µs | p99 µs | min µs | mean µs | max µs |\n");
	outf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (op = 0; op < CTL_NR; op++)
		row_stats(ctl_names[op], &s[op]);
}

/* ---- 3. scale */

struct meminfo {
	long long memfree_kb, slab_kb, vmalloc_kb;
};

static struct meminfo read_meminfo(void)
{
	struct meminfo m = { 0 };
	char line[256];
	FILE *f;

	/* page cache out of the way: what is left moves with the kernel's own */
	sync();
	ipt_write_str("/proc/sys/vm/drop_caches", "3\n");
	f = fopen("/proc/meminfo", "re");
	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "MemFree: %lld", &m.memfree_kb);
		sscanf(line, "Slab: %lld", &m.slab_kb);
		sscanf(line, "VmallocUsed: %lld", &m.vmalloc_kb);
	}
	fclose(f);
	return m;
}

/* /proc/slabinfo: bytes in use per cache (active objects x object size) */
struct slabent {
	char name[64];
	long long bytes;
};

static int read_slabinfo(struct slabent *e, int max)
{
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		long long active, num, size;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %lld %lld %lld", e[n].name, &active, &num,
			   &size) == 4) {
			e[n].bytes = active * size;
			n++;
		}
	}
	fclose(f);
	return n;
}

struct slabdelta {
	const char *name;
	long long delta;
};

static int cmp_delta(const void *a, const void *b)
{
	long long x = ((const struct slabdelta *)a)->delta;
	long long y = ((const struct slabdelta *)b)->delta;

	return x > y ? -1 : x < y;
}

#define MAX_SLABS 512
static struct slabent slab0[MAX_SLABS], slab1[MAX_SLABS];
static int nslab0, nslab1;

struct scard {
	struct ipt_card c;
	int fd;
	int door[NCH];
	int advance;
	__u64 gen[NCH];
};

struct storm_mon {
	struct nl nl;
	int quitfd;
	__u32 card_lo, card_hi;	/* cards of the bench */
	pthread_mutex_t mu;
	__u64 records, loss;
};

static void storm_cb(void *priv, __u32 card, __u64 seq, __u32 type, __u64 v0)
{
	struct storm_mon *m = priv;

	(void)seq;
	(void)type;
	(void)v0;
	if (card >= m->card_lo && card <= m->card_hi)
		m->records++;
}

static void *storm_reader(void *arg)
{
	static char buf[65536];
	struct storm_mon *m = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = m->nl.s.fd, .events = POLLIN },
			{ .fd = m->quitfd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (p[1].revents)
			return NULL;
		for (;;) {
			n = recv(m->nl.s.fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				if (errno == ENOBUFS) {
					pthread_mutex_lock(&m->mu);
					m->loss++;
					pthread_mutex_unlock(&m->mu);
					continue;
				}
				die("recv: %s", strerror(errno));
			}
			pthread_mutex_lock(&m->mu);
			nl_monitor_parse(buf, n, storm_cb, m);
			pthread_mutex_unlock(&m->mu);
		}
	}
}

static __u64 storm_records(struct storm_mon *m)
{
	__u64 r;

	pthread_mutex_lock(&m->mu);
	r = m->records;
	pthread_mutex_unlock(&m->mu);
	return r;
}

struct scale_row {
	unsigned int cards;
	struct stats adv;		/* per card write, per channel */
	double setup_ms_per_card;
	unsigned int storm_records;
	struct stats storm;		/* per door write + read back, per record */
	double storm_nl_us_per_rec;	/* whole storm, until the monitor had them all */
	__u64 monitor_records;
	double delivered_nl_per_ch_s;	/* proof that the motors ran */
	double memfree_kb_per_ch, slab_kb_per_ch, slab_kb_per_new_ch;
};

/* sum of delivered_nl over every channel of the first @ncards cards */
static __u64 delivered_total(struct scard *sc, unsigned int ncards)
{
	struct ipump_channel_status cs;
	__u64 sum = 0;
	unsigned int i, ch;

	for (i = 0; i < ncards; i++)
		for (ch = 0; ch < NCH; ch++) {
			CHECK(ipt_status(sc[i].fd, ch, &cs));
			sum += cs.delivered_nl;
		}
	return sum;
}

static void section_scale(void)
{
	struct scard *sc = xcalloc(MAX_CARDS, sizeof(*sc));
	struct scale_row rows[8];
	struct meminfo m0, m1, mprev;
	struct storm_mon mon;
	unsigned int ncards = 0, st, i, ch, rep;
	pthread_t th;
	char name[32];

	m0 = read_meminfo();
	mprev = m0;
	nslab0 = read_slabinfo(slab0, MAX_SLABS);
	memset(&mon, 0, sizeof(mon));
	pthread_mutex_init(&mon.mu, NULL);
	mon.card_lo = ~0U;

	for (st = 0; st < nscale; st++) {
		unsigned int want = scale_steps[st], nch, added;
		struct scale_row *row = &rows[st];
		uint64_t t0, t1, t2, *adv, *storm, *storm_nl;
		__u64 lost_before, d0;
		int err;

		memset(row, 0, sizeof(*row));
		row->cards = want;
		progress("scale: %u cards x %u channels", want, NCH);
		t0 = now_ns();
		for (i = ncards; i < want; i++) {
			struct scard *s = &sc[i];

			snprintf(name, sizeof(name), "bsc%02u_", i);
			err = ipt_card_create(&s->c, name, NCH);
			if (err)
				die("creating card %u: %s", i, strerror(-err));
			s->fd = open(s->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			CHECK(s->fd);
			for (ch = 0; ch < NCH; ch++) {
				run_channel(s->fd, ch, &s->gen[ch]);
				s->door[ch] = open_knob(&s->c, ch, "door_open");
			}
			s->advance = open_knob(&s->c, -1, "advance_ms");
			drain(s->fd, NULL);
			if (s->c.num < mon.card_lo)
				mon.card_lo = s->c.num;
			if (s->c.num > mon.card_hi)
				mon.card_hi = s->c.num;
		}
		t1 = now_ns();
		added = want > ncards ? (want - ncards) * NCH : 0;
		if (added)
			row->setup_ms_per_card = (t1 - t0) / 1e6 / (want - ncards);
		ncards = want;
		nch = ncards * NCH;

		m1 = read_meminfo();
		if (st == nscale - 1)
			nslab1 = read_slabinfo(slab1, MAX_SLABS);
		row->memfree_kb_per_ch = (double)(m0.memfree_kb - m1.memfree_kb) / nch;
		row->slab_kb_per_ch = (double)(m1.slab_kb - m0.slab_kb) / nch;
		if (added)
			row->slab_kb_per_new_ch = (double)(m1.slab_kb - mprev.slab_kb) / added;
		mprev = m1;
		d0 = delivered_total(sc, ncards);

		/*
		 * Advancing every card's virtual clock by 1 s, channels
		 * running: one sample per card write, per channel.
		 */
		adv = xcalloc((size_t)opt_adv_reps * ncards, sizeof(*adv));
		for (rep = 0; rep < opt_adv_reps + 1; rep++) {
			for (i = 0; i < ncards; i++) {
				t0 = now_ns();
				knob_write(sc[i].advance, "1000\n");
				t1 = now_ns();
				if (rep)
					adv[(rep - 1) * ncards + i] = (t1 - t0) / NCH;
			}
		}
		row->adv = stats_of(adv, opt_adv_reps * ncards);
		free(adv);
		row->delivered_nl_per_ch_s = (double)(delivered_total(sc, ncards) - d0) /
					     nch / (opt_adv_reps + 1);
		for (i = 0; i < ncards; i++) {
			for (ch = 0; ch < NCH; ch++) {
				struct ipump_channel_status cs;

				CHECK(ipt_chcmd(sc[i].fd, IPUMP_IOC_LEASE_RENEW, ch, 0, 0));
				CHECK(ipt_status(sc[i].fd, ch, &cs));
				if (cs.state != IPUMP_STATE_RUNNING)
					die("card %u channel %u not running (state %u, alarms %#llx)",
					    i, ch, cs.state, (unsigned long long)cs.alarms);
			}
			drain(sc[i].fd, NULL);
		}

		/*
		 * Alarm storm: door open on every channel, every record read
		 * back; then door closed, acknowledged, started again.
		 * Repeated: the median counts.
		 */
		nl_open_resolved(&mon.nl, true);
		mon.quitfd = eventfd(0, EFD_CLOEXEC);
		lost_before = mon.loss;
		if (pthread_create(&th, NULL, storm_reader, &mon))
			die("pthread_create");
		storm = xcalloc((size_t)opt_storm_reps * nch, sizeof(*storm));
		storm_nl = xcalloc(opt_storm_reps, sizeof(*storm_nl));
		for (rep = 0; rep < opt_storm_reps + 1; rep++) {	/* 0: warm-up */
			__u64 rec = 0, mon0 = storm_records(&mon);

			t0 = now_ns();
			for (i = 0; i < ncards; i++) {
				for (ch = 0; ch < NCH; ch++) {
					uint64_t ta = now_ns(), tb;
					unsigned int n;

					knob_write(sc[i].door[ch], "1\n");
					n = drain(sc[i].fd, NULL);
					tb = now_ns();
					if (!n)
						die("alarm storm: no records");
					if (rep)
						storm[(rep - 1) * nch + i * NCH + ch] =
							(tb - ta) / n;
					rec += n;
				}
			}
			t1 = now_ns();
			for (i = 0; i < 5000 && storm_records(&mon) - mon0 < rec; i++)
				usleep(200);
			t2 = now_ns();
			if (rep)
				storm_nl[rep - 1] = (t2 - t0) / rec;
			row->storm_records = rec;
			row->monitor_records = storm_records(&mon) - mon0;
			for (i = 0; i < ncards; i++) {
				for (ch = 0; ch < NCH; ch++) {
					knob_write(sc[i].door[ch], "0\n");
					CHECK(ipt_chcmd(sc[i].fd, IPUMP_IOC_ACK, ch, 0, 0));
					CHECK(ipt_chcmd(sc[i].fd, IPUMP_IOC_START, ch, 0,
						    sc[i].gen[ch]));
				}
				rec += drain(sc[i].fd, NULL);
			}
			/* the monitor has the recovery's records too before the next */
			for (i = 0; i < 5000 && storm_records(&mon) - mon0 < rec; i++)
				usleep(200);
			(void)t1;
		}
		row->storm = stats_of(storm, opt_storm_reps * nch);
		row->storm_nl_us_per_rec = stats_of(storm_nl, opt_storm_reps).med;
		free(storm);
		free(storm_nl);
		CHECK(eventfd_write(mon.quitfd, 1));
		pthread_join(th, NULL);
		close(mon.quitfd);
		inl_close(&mon.nl.s);
		if (mon.loss != lost_before)
			progress("monitor lost records (ENOBUFS) at %u cards", ncards);
	}

	progress("scale: removing %u cards", ncards);
	for (i = 0; i < ncards; i++) {
		for (ch = 0; ch < NCH; ch++)
			close(sc[i].door[ch]);
		close(sc[i].advance);
		close(sc[i].fd);
		CHECK(ipt_card_destroy(&sc[i].c));
	}
	free(sc);

	outf("\n### Scale\n\n");
	outf("Cards of %d channels, every channel leased by the bench (one open "
	     "file per card), programmed at 1 mL/h and running; cards are added "
	     "stage by stage and stay. *Advance*: one write of 1000 to a card's "
	     "`advance_ms` (1 s of virtual time: motor steps, the core's delivery "
	     "tick, the card watchdog) timed alone, divided by its %d channels; "
	     "every card, %u repetitions (plus one dropped). The delivered volume "
	     "per channel and virtual second shows that the motors ran (1 mL/h = "
	     "277.8 nL/s; 25 nL steps). *Alarm storm*: on every channel in turn, "
	     "`door_open` = 1 and the card's `/dev/ipumpN` read until empty (raise, "
	     "stop, state change: 3 records), timed together and divided by the "
	     "records read; %u storms after one warm-up storm, each followed by "
	     "door closed, acknowledged "
	     "and started again, while a netlink monitor thread receives every "
	     "record as well. The whole-storm figure is the wall time from the "
	     "first write until the monitor had every record, per record (median "
	     "of the storms). *Memory*: from `/proc/meminfo` after `drop_caches`, "
	     "against the state before the first card: growth of Slab per channel, "
	     "over all channels and over the channels this stage added (kmalloc: "
	     "each card's 4096-record audit-log ring of 256 KiB, the bench's "
	     "reader queue of 16 KiB per open file, and the simulator's debugfs "
	     "and sysfs objects are in it), and the drop of MemFree per channel "
	     "(every page the kernel took; noisier: per-CPU page lists are not in "
	     "MemFree). Under TCG the vCPUs are host threads that other host "
	     "processes preempt: the p10 columns are the least disturbed by that, "
	     "the p99 columns the most.\n\n",
	     NCH, NCH, opt_adv_reps, opt_storm_reps);
	outf("| cards | channels | setup ms/card | advance µs/channel p10 / median / p99 | "
	     "nL/channel per virtual s | storm records (monitor) | storm µs/record "
	     "p10 / median / p99 | whole storm µs/record incl. monitor | "
	     "Slab KiB/channel | Slab KiB/new channel | MemFree drop KiB/channel |\n");
	outf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (st = 0; st < nscale; st++) {
		struct scale_row *r = &rows[st];

		outf("| %u | %u | %.1f | %.1f / %.1f / %.1f | %.0f | %u (%llu) | "
		     "%.1f / %.1f / %.1f | %.1f | %.1f | %.1f | %.1f |\n",
		     r->cards, r->cards * NCH, r->setup_ms_per_card, r->adv.p10,
		     r->adv.med, r->adv.p99, r->delivered_nl_per_ch_s,
		     r->storm_records, (unsigned long long)r->monitor_records,
		     r->storm.p10, r->storm.med, r->storm.p99, r->storm_nl_us_per_rec,
		     r->slab_kb_per_ch, r->slab_kb_per_new_ch, r->memfree_kb_per_ch);
	}
	if (nslab0 && nslab1) {
		struct slabdelta d[MAX_SLABS];
		long long sum = 0, slab_total;
		int nd = 0, j, k;

		for (j = 0; j < nslab1; j++) {
			long long before = 0;

			for (k = 0; k < nslab0; k++)
				if (!strcmp(slab0[k].name, slab1[j].name)) {
					before = slab0[k].bytes;
					break;
				}
			d[nd].name = slab1[j].name;
			d[nd].delta = slab1[j].bytes - before;
			sum += d[nd].delta;
			nd++;
		}
		qsort(d, nd, sizeof(d[0]), cmp_delta);
		slab_total = (long long)(rows[nscale - 1].slab_kb_per_ch *
					 rows[nscale - 1].cards * NCH) * 1024;
		outf("\nWhere the Slab growth at %u cards goes, per card (`/proc/slabinfo`: "
		     "active objects x object size; caches may be merged under one "
		     "name; kmalloc allocations above 8 KiB, such as the 256 KiB "
		     "log ring and the 16 KiB reader queue, come from the page "
		     "allocator and appear in Slab but in no cache):\n\n",
		     rows[nscale - 1].cards);
		outf("| cache | KiB per card |\n|---|---:|\n");
		for (j = 0; j < nd && j < 10; j++)
			outf("| %s | %.1f |\n", d[j].name,
			     d[j].delta / 1024.0 / rows[nscale - 1].cards);
		outf("| all caches | %.1f |\n", sum / 1024.0 / rows[nscale - 1].cards);
		outf("| Slab (meminfo) minus all caches: large kmalloc | %.1f |\n",
		     (slab_total - sum) / 1024.0 / rows[nscale - 1].cards);
	}
}

/* ---- environment */

static void read_first_line(const char *path, char *buf, size_t len)
{
	if (ipt_read_str(path, buf, len))
		snprintf(buf, len, "?");
}

static void section_env(uint64_t t_start)
{
	char cs[64], model[128] = "?", line[256];
	struct utsname u;
	FILE *f;

	uname(&u);
	read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
			cs, sizeof(cs));
	f = fopen("/proc/cpuinfo", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');

				if (p) {
					snprintf(model, sizeof(model), "%s", p + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	outf("\n### Guest\n\n");
	outf("| | |\n|---|---|\n");
	outf("| kernel | %s %s |\n", u.release, u.version);
	outf("| CPUs online | %ld (%s) |\n", sysconf(_SC_NPROCESSORS_ONLN), model);
	outf("| clocksource | %s |\n", cs);
	outf("| bench wall time | %.1f s |\n", (now_ns() - t_start) / 1e9);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ipump_bench [--alarms N] [--ctl N] [--nl N] [--scale 1,8,...]\n"
		"                   [--quick] [--only latency|control|scale]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	uint64_t t_start = now_ns();
	struct rlimit rl = { 4096, 4096 };
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--alarms") && i + 1 < argc) {
			opt_alarms = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--ctl") && i + 1 < argc) {
			opt_ctl = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--nl") && i + 1 < argc) {
			opt_nl = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
			char *s = argv[++i], *tok;

			nscale = 0;
			for (tok = strtok(s, ","); tok && nscale < 5; tok = strtok(NULL, ",")) {
				unsigned int v = strtoul(tok, NULL, 0);

				if (!v || v > MAX_CARDS)
					usage();
				scale_steps[nscale++] = v;
			}
		} else if (!strcmp(argv[i], "--quick")) {
			opt_alarms = 500;
			opt_ctl = 2000;
			opt_nl = 1000;
			opt_adv_reps = 2;
			opt_storm_reps = 2;
		} else {
			usage();
		}
	}
	if (opt_alarms < 1 || opt_ctl < 20 || opt_nl < 20)
		usage();
	setrlimit(RLIMIT_NOFILE, &rl);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!only || !strcmp(only, "latency"))
		section_latency();
	if (!only || !strcmp(only, "control"))
		section_control();
	if (!only || !strcmp(only, "scale"))
		section_scale();
	section_env(t_start);

	printf("IPUMP-BENCH-BEGIN\n%sIPUMP-BENCH-END\n", out);
	return 0;
}
