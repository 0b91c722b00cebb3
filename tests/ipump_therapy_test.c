// SPDX-License-Identifier: GPL-2.0-only
/*
 * The therapy engine through /dev/ipumpN, on a simulated card in virtual
 * time (Documentation/safety/therapy-engine.rst, therapy-rules.rst,
 * therapy-state-machine.rst).
 *
 * Every test makes its own card with time_scale 0, so virtual time moves
 * only when the test advances it, and every rule happens at an exact
 * virtual time. Every refusal is paired with the same request succeeding
 * once its condition is gone (CONTRACTS.md, "Tests that cannot pass by
 * accident").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/ipump.h>

#include "kselftest_harness.h"
#include "ipump_test_lib.h"

/* not "UL": <linux/const.h> pastes that name into _BITUL() */
#define NL_PER_UL	1000U		/* nL per uL */
#define NL_PER_ML		1000000U	/* nL per mL; also nL/h per mL/h */
#define STEP_NL		25		/* simulator default nl_per_step */
#define MS		IPT_MS_NS	/* ns per ms */
#define LEASE_MS	60000		/* lease period of the tests that renew */
#define CHUNK_MS	30000		/* renew at least this often */
#define EVMAX		512

#define BIT64(n)	(1ULL << (n))

FIXTURE(pump) {
	struct ipt_card c;
	int fd;			/* O_RDWR | O_NONBLOCK: commands and events */
	int lease_fd[2];	/* run_ms() renews channel N's lease on it */
	struct ipump_event ev[EVMAX];
	int nev;
};

FIXTURE_SETUP(pump)
{
	int err;

	self->fd = -1;
	self->lease_fd[0] = -1;
	self->lease_fd[1] = -1;
	err = ipt_card_create(&self->c, "thr", 2);
	ASSERT_EQ(0, err) TH_LOG("creating a simulated card: %s", strerror(-err));
	self->fd = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (self->fd < 0) {
		err = errno;
		ipt_card_destroy(&self->c);	/* no teardown after a failed setup */
		ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->c.dev, strerror(err));
	}
}

FIXTURE_TEARDOWN(pump)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, ipt_card_destroy(&self->c));
}

/* ---- helpers ---- */

/* the parameters a helper needs for ASSERT_*() and the fixture */
#define MD	struct __test_metadata *_metadata
typedef FIXTURE_DATA(pump) pump_t;

static struct ipump_programme prog_basal(__u32 route, __u32 basal, __u32 kvo)
{
	struct ipump_programme p;

	memset(&p, 0, sizeof(p));
	p.route = route;
	p.flags = IPUMP_PROG_VTBI_UNLIMITED;
	p.basal_rate_nl_per_h = basal;
	p.kvo_rate_nl_per_h = kvo;
	p.max_dose_1h_nl = 30 * NL_PER_ML;	/* the default hard limits */
	p.max_dose_4h_nl = 120 * NL_PER_ML;
	p.lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	return p;
}

static struct ipump_programme prog_pca(__u32 basal, __u32 kvo, __u32 bolus_nl,
				       __u32 bolus_rate, __u32 lockout_ms,
				       __u32 per_hour)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, basal, kvo);

	p.flags |= IPUMP_PROG_PCA;
	p.bolus_volume_nl = bolus_nl;
	p.bolus_rate_nl_per_h = bolus_rate;
	p.lockout_ms = lockout_ms;
	p.max_boluses_per_hour = per_hour;
	return p;
}

/* SET_PROGRAMME or TITRATE (@cmd) based on *gen; the new generation in *gen */
static int prog_ioctl(int fd, unsigned long cmd, unsigned int ch, __u64 *gen,
		      const struct ipump_programme *p)
{
	struct ipump_programme_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.channel = ch;
	req.generation = *gen;
	req.programme = *p;
	err = ipt_ioctl(fd, cmd, &req);
	if (!err)
		*gen = req.generation;
	return err;
}

#define set_prog(fd, ch, gen, p)	prog_ioctl(fd, IPUMP_IOC_SET_PROGRAMME, ch, gen, p)
#define titrate(fd, ch, gen, p)		prog_ioctl(fd, IPUMP_IOC_TITRATE, ch, gen, p)

static int get_prog(int fd, unsigned int ch, __u64 *gen,
		    struct ipump_programme *p)
{
	struct ipump_programme_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.channel = ch;
	err = ipt_ioctl(fd, IPUMP_IOC_GET_PROGRAMME, &req);
	*gen = req.generation;
	*p = req.programme;
	return err;
}

#define start_ch(fd, ch, gen)	ipt_chcmd(fd, IPUMP_IOC_START, ch, 0, gen)
#define stop_ch(fd, ch)		ipt_chcmd(fd, IPUMP_IOC_STOP, ch, 0, 0)
#define pause_ch(fd, ch)	ipt_chcmd(fd, IPUMP_IOC_PAUSE, ch, 0, 0)
#define ack_ch(fd, ch)		ipt_chcmd(fd, IPUMP_IOC_ACK, ch, 0, 0)
#define audio_pause(fd, ch, ms)	ipt_chcmd(fd, IPUMP_IOC_AUDIO_PAUSE, ch, ms, 0)
#define acquire(fd, ch, ms)	ipt_chcmd(fd, IPUMP_IOC_LEASE_ACQUIRE, ch, ms, 0)
#define renew(fd, ch)		ipt_chcmd(fd, IPUMP_IOC_LEASE_RENEW, ch, 0, 0)
#define release(fd, ch)		ipt_chcmd(fd, IPUMP_IOC_LEASE_RELEASE, ch, 0, 0)
#define takeover(fd, ch, ms)	ipt_chcmd(fd, IPUMP_IOC_LEASE_TAKEOVER, ch, ms, 0)

static int bolus(int fd, unsigned int ch, __u32 kind, __u32 vol, __u32 rate)
{
	struct ipump_bolus_req b;

	memset(&b, 0, sizeof(b));
	b.channel = ch;
	b.kind = kind;
	b.volume_nl = vol;
	b.rate_nl_per_h = rate;
	return ipt_ioctl(fd, IPUMP_IOC_BOLUS, &b);
}

#define demand(fd, ch)	bolus(fd, ch, IPUMP_BOLUS_DEMAND, 0, 0)

static int bolus_cancel(int fd, unsigned int ch, __u64 *result)
{
	struct ipump_channel_cmd c;
	int err;

	memset(&c, 0, sizeof(c));
	c.channel = ch;
	err = ipt_ioctl(fd, IPUMP_IOC_BOLUS_CANCEL, &c);
	*result = c.result;
	return err;
}

static int get_limits(int fd, unsigned int ch, struct ipump_hard_limits *l)
{
	struct ipump_limits_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.channel = ch;
	err = ipt_ioctl(fd, IPUMP_IOC_GET_HARD_LIMITS, &req);
	*l = req.limits;
	return err;
}

static int set_limits(int fd, unsigned int ch, const struct ipump_hard_limits *l)
{
	struct ipump_limits_req req;

	memset(&req, 0, sizeof(req));
	req.channel = ch;
	req.limits = *l;
	return ipt_ioctl(fd, IPUMP_IOC_SET_HARD_LIMITS, &req);
}

static struct ipump_channel_status status(MD, int fd, unsigned int ch)
{
	struct ipump_channel_status st;
	int err = ipt_status(fd, ch, &st);

	ASSERT_EQ(0, err) TH_LOG("channel status: %s", strerror(-err));
	return st;
}

static unsigned long long now_ns(MD, pump_t *self)
{
	unsigned long long ns = 0;

	ASSERT_EQ(0, ipt_now_ns(&self->c, &ns));
	return ns;
}

static void knob(MD, pump_t *self, int ch, const char *name, long long v)
{
	int err = ipt_knob_set(&self->c, ch, name, v);

	ASSERT_EQ(0, err) TH_LOG("knob %s = %lld: %s", name, v, strerror(-err));
}

static unsigned long long knob_get(MD, pump_t *self, int ch, const char *name)
{
	unsigned long long v = 0;

	ASSERT_EQ(0, ipt_knob_get(&self->c, ch, name, &v)) TH_LOG("knob %s", name);
	return v;
}

/* Advances exactly @ms, without renewing anything. */
static void advance(MD, pump_t *self, unsigned long long ms)
{
	int err = ipt_advance(&self->c, ms);

	ASSERT_EQ(0, err) TH_LOG("advance %llu ms: %s", ms, strerror(-err));
}

/*
 * Advances exactly @ms in chunks of at most CHUNK_MS, renewing the leases
 * registered in self->lease_fd[] before each chunk (the tests' period is
 * LEASE_MS, so a lease is never missed).
 */
static void run_ms(MD, pump_t *self, unsigned long long ms)
{
	unsigned long long chunk;
	unsigned int ch;

	while (ms) {
		chunk = ms < CHUNK_MS ? ms : CHUNK_MS;
		for (ch = 0; ch < 2; ch++)
			if (self->lease_fd[ch] >= 0)
				ASSERT_EQ(0, renew(self->lease_fd[ch], ch));
		advance(_metadata, self, chunk);
		ms -= chunk;
	}
}

/* Runs until virtual time @t_ns (not before it). */
static void run_to(MD, pump_t *self, unsigned long long t_ns)
{
	unsigned long long now = now_ns(_metadata, self);

	ASSERT_LE(now, t_ns);
	ASSERT_EQ(0, (t_ns - now) % MS);
	run_ms(_metadata, self, (t_ns - now) / MS);
}

/*
 * Runs in steps of @step_ms until channel @ch is in @state (if @state >= 0)
 * or has @alarm active (if @alarm >= 0), at most @max_ms. Returns the time
 * run, or -1 when it did not happen.
 */
static long long run_until(MD, pump_t *self, unsigned int ch, int state, int alarm,
			   unsigned long long step_ms, unsigned long long max_ms)
{
	struct ipump_channel_status st;
	unsigned long long t = 0;

	for (;;) {
		st = status(_metadata, self->fd, ch);
		if (state >= 0 && st.state == (__u32)state)
			return t;
		if (alarm >= 0 && (st.alarms & BIT64(alarm)))
			return t;
		if (t >= max_ms)
			return -1;
		run_ms(_metadata, self, step_ms);
		t += step_ms;
	}
}

/* Reads every queued record into self->ev. */
static int events(MD, pump_t *self)
{
	self->nev = ipt_read_events(self->fd, self->ev, EVMAX);
	ASSERT_LE(0, self->nev) TH_LOG("read: %s", strerror(-self->nev));
	if (ipt_find_event(self->ev, self->nev, IPUMP_EVENT_OVERFLOW, -1))
		TH_LOG("records were lost: the test read too late");
	return self->nev;
}

static void drain(MD, pump_t *self)
{
	ASSERT_LE(0, ipt_drain_events(self->fd));
	self->nev = 0;
}

static const struct ipump_event *find_ev(pump_t *self, unsigned int type)
{
	return ipt_find_event(self->ev, self->nev, type, -1);
}

/* Programme, lease (renewed by run_ms()) and start on channel @ch. */
static __u64 program_and_start(MD, pump_t *self, unsigned int ch,
			       const struct ipump_programme *p)
{
	struct ipump_channel_status st;
	__u64 gen = status(_metadata, self->fd, ch).generation;

	ASSERT_EQ(0, set_prog(self->fd, ch, &gen, p));
	ASSERT_EQ(0, acquire(self->fd, ch, LEASE_MS));
	self->lease_fd[ch] = self->fd;
	ASSERT_EQ(0, start_ch(self->fd, ch, gen));
	st = status(_metadata, self->fd, ch);
	ASSERT_EQ(IPUMP_STATE_RUNNING, st.state);
	return gen;
}

/* ---- 1. programme and generations ---- */

TEST_F_TIMEOUT(pump, programme_generation, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_programme q, r, got;
	struct ipump_programme_req req;
	struct ipump_channel_status st;
	__u64 gen = 0, g;
	unsigned int i;

	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(IPUMP_STATE_IDLE, st.state);
	ASSERT_EQ(0, st.generation);

	/* generation 0 -> 1 */
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	EXPECT_EQ(1, gen);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_EQ(1, st.generation);
	ASSERT_EQ(0, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(1, g);
	EXPECT_EQ(0, memcmp(&p, &got, sizeof(p)));

	/* stale (based on 0 again) and never issued (7): -ESTALE, unchanged */
	q = p;
	q.basal_rate_nl_per_h = 2 * NL_PER_ML;
	g = 0;
	EXPECT_EQ(-ESTALE, set_prog(self->fd, 0, &g, &q));
	g = 7;
	EXPECT_EQ(-ESTALE, set_prog(self->fd, 0, &g, &q));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_EQ(1, st.generation);
	ASSERT_EQ(0, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(1, g);
	EXPECT_EQ(0, memcmp(&p, &got, sizeof(p)));
	/* the same change on the right generation */
	g = 1;
	ASSERT_EQ(0, set_prog(self->fd, 0, &g, &q));
	EXPECT_EQ(2, g);
	ASSERT_EQ(0, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(0, memcmp(&q, &got, sizeof(q)));

	/* above the default maximum rate (25 mL/h): -ERANGE, unchanged */
	r = q;
	r.basal_rate_nl_per_h = 25 * NL_PER_ML + 1;
	g = 2;
	EXPECT_EQ(-ERANGE, set_prog(self->fd, 0, &g, &r));
	/* fields are checked before the generation */
	g = 0;
	EXPECT_EQ(-ERANGE, set_prog(self->fd, 0, &g, &r));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_EQ(2, st.generation);
	ASSERT_EQ(0, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(0, memcmp(&q, &got, sizeof(q)));
	/* exactly the maximum is within */
	r.basal_rate_nl_per_h = 25 * NL_PER_ML;
	g = 2;
	ASSERT_EQ(0, set_prog(self->fd, 0, &g, &r));
	EXPECT_EQ(3, g);
	ASSERT_EQ(0, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(3, g);
	EXPECT_EQ(0, memcmp(&r, &got, sizeof(r)));

	/* padding and reserved, in the programme and in the request */
	q = r;
	q.padding = 1;
	g = 3;
	EXPECT_EQ(-EINVAL, set_prog(self->fd, 0, &g, &q));
	for (i = 0; i < 8; i++) {
		q = r;
		q.reserved[i] = 1;
		g = 3;
		EXPECT_EQ(-EINVAL, set_prog(self->fd, 0, &g, &q)) TH_LOG("reserved[%u]", i);
	}
	memset(&req, 0, sizeof(req));
	req.generation = 3;
	req.programme = r;
	req.padding = 1;
	EXPECT_EQ(-EINVAL, ipt_ioctl(self->fd, IPUMP_IOC_SET_PROGRAMME, &req));
	for (i = 0; i < 2; i++) {
		req.padding = 0;
		memset(req.reserved, 0, sizeof(req.reserved));
		req.reserved[i] = 1;
		req.generation = 3;
		EXPECT_EQ(-EINVAL, ipt_ioctl(self->fd, IPUMP_IOC_SET_PROGRAMME, &req));
	}
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(3, st.generation);
	/* all zero again: accepted */
	memset(&req, 0, sizeof(req));
	req.generation = 3;
	req.programme = p;
	ASSERT_EQ(0, ipt_ioctl(self->fd, IPUMP_IOC_SET_PROGRAMME, &req));
	EXPECT_EQ(4, req.generation);
	ASSERT_EQ(0, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(4, g);
	EXPECT_EQ(0, memcmp(&p, &got, sizeof(p)));

	/* the other channel was left alone */
	st = status(_metadata, self->fd, 1);
	EXPECT_EQ(IPUMP_STATE_IDLE, st.state);
	EXPECT_EQ(0, st.generation);
	/* no programme yet: ENODATA, and the generation to base one on */
	g = 99;
	EXPECT_EQ(-ENODATA, get_prog(self->fd, 1, &g, &got));
	EXPECT_EQ(0, g);

	/* CLEAR: on a stale generation refused; then no programme, gen 5 */
	EXPECT_EQ(-ESTALE, ipt_chcmd(self->fd, IPUMP_IOC_CLEAR, 0, 0, 3));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);
	ASSERT_EQ(0, ipt_chcmd(self->fd, IPUMP_IOC_CLEAR, 0, 0, 4));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_IDLE, st.state);
	EXPECT_EQ(5, st.generation);
	g = 0;
	EXPECT_EQ(-ENODATA, get_prog(self->fd, 0, &g, &got));
	EXPECT_EQ(5, g);
	/* a start without a programme is refused */
	ASSERT_EQ(0, acquire(self->fd, 0, LEASE_MS));
	EXPECT_EQ(-EINVAL, start_ch(self->fd, 0, 5));
	/* the generation read back is the one a new programme is based on */
	ASSERT_EQ(0, set_prog(self->fd, 0, &g, &p));
	EXPECT_EQ(6, g);
	/* delivering, the programme cannot be cleared */
	ASSERT_EQ(0, start_ch(self->fd, 0, 6));
	EXPECT_EQ(-EBUSY, ipt_chcmd(self->fd, IPUMP_IOC_CLEAR, 0, 0, 6));
	EXPECT_EQ(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
	ASSERT_EQ(0, stop_ch(self->fd, 0));
}

/* ---- 2. write permission and the console lease ---- */

TEST_F_TIMEOUT(pump, permissions_and_lease, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	__u64 gen = 0;
	int ro, fd2;

	ro = open(self->c.dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ro);
	fd2 = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd2);

	/* read-only: every change is -EBADF, status works */
	EXPECT_EQ(-EBADF, set_prog(ro, 0, &gen, &p));
	st = status(_metadata, ro, 0);
	EXPECT_EQ(IPUMP_STATE_IDLE, st.state);
	EXPECT_EQ(0, st.generation);
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));	/* writable: works */
	EXPECT_EQ(1, gen);
	EXPECT_EQ(-EBADF, acquire(ro, 0, 1000));
	EXPECT_EQ(-EBADF, start_ch(ro, 0, gen));
	EXPECT_EQ(-EBADF, stop_ch(ro, 0));
	EXPECT_EQ(-EBADF, ack_ch(ro, 0));
	EXPECT_EQ(-EBADF, audio_pause(ro, 0, 1000));
	st = status(_metadata, ro, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_EQ(IPUMP_LEASE_FREE, st.lease);

	/* start needs the lease */
	EXPECT_EQ(-EPERM, start_ch(self->fd, 0, gen));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);
	/* lease period: 100..60000 ms */
	EXPECT_EQ(-EINVAL, acquire(self->fd, 0, 0));
	EXPECT_EQ(-ERANGE, acquire(self->fd, 0, 99));
	EXPECT_EQ(-ERANGE, acquire(self->fd, 0, 60001));
	ASSERT_EQ(0, acquire(self->fd, 0, 1000));
	EXPECT_EQ(IPUMP_LEASE_MINE, status(_metadata, self->fd, 0).lease);
	EXPECT_EQ(IPUMP_LEASE_HELD, status(_metadata, ro, 0).lease);
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1 * NL_PER_ML, st.rate_nl_per_h);

	/* another console cannot take a live lease */
	EXPECT_EQ(-EBUSY, acquire(fd2, 0, 1000));
	EXPECT_EQ(-EBUSY, takeover(fd2, 0, 1000));
	EXPECT_EQ(-EPERM, renew(fd2, 0));
	EXPECT_EQ(IPUMP_LEASE_HELD, status(_metadata, fd2, 0).lease);
	/* ... but stop needs no lease */
	EXPECT_EQ(0, stop_ch(fd2, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_EQ(0, st.rate_nl_per_h);
	EXPECT_EQ(IPUMP_LEASE_MINE, st.lease);

	/* released: the other console acquires it, and the first one lost it */
	ASSERT_EQ(0, release(self->fd, 0));
	EXPECT_EQ(0, acquire(fd2, 0, 1000));
	EXPECT_EQ(IPUMP_LEASE_MINE, status(_metadata, fd2, 0).lease);
	EXPECT_EQ(0, start_ch(fd2, 0, gen));
	/* the lease is checked before the state */
	EXPECT_EQ(-EPERM, start_ch(self->fd, 0, gen));
	EXPECT_EQ(0, stop_ch(self->fd, 0));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);
	EXPECT_EQ(0, release(fd2, 0));
	close(fd2);
	close(ro);
}

/* ---- 3. PCA lockout, exact to the millisecond ---- */

TEST_F_TIMEOUT(pump, pca_lockout_exact, 300)
{
	const __u32 lockout = 600000;
	struct ipump_programme p = prog_pca(1 * NL_PER_ML, 0, 100 * NL_PER_UL, 10 * NL_PER_ML, lockout, 4);
	struct ipump_channel_status st;
	const struct ipump_event *e, *req;
	__u64 req_seq;
	unsigned long long t1, t2, t3;
	long long err_ns;
	__u32 presses;

	program_and_start(_metadata, self, 0, &p);

	/* first demand, from the console */
	drain(_metadata, self);
	t1 = now_ns(_metadata, self);
	ASSERT_EQ(0, demand(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(1, st.pca_delivered);
	EXPECT_EQ(0, st.pca_denied);
	EXPECT_TRUE(st.motor & IPUMP_MOTOR_BOLUS);
	EXPECT_EQ(lockout, st.lockout_remaining_ms);
	events(_metadata, self);
	req = find_ev(self, IPUMP_EVENT_BOLUS_REQUESTED);
	ASSERT_NE(NULL, req);
	EXPECT_TRUE(req->flags & IPUMP_EVENT_F_CONSOLE);
	req_seq = req->seq;	/* req points into the buffer events() refills */
	e = find_ev(self, IPUMP_EVENT_BOLUS_STARTED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(req->seq, e->value[0]);
	EXPECT_EQ(100 * NL_PER_UL, e->value[1]);
	EXPECT_EQ(10 * NL_PER_ML, e->value[2]);

	/* 100 uL at 10 mL/h: done after 36 s */
	drain(_metadata, self);
	run_ms(_metadata, self, 60000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(100 * NL_PER_UL, st.bolus_delivered_nl);
	EXPECT_EQ(lockout - 60000, st.lockout_remaining_ms);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_COMPLETED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(req_seq, e->value[0]);
	EXPECT_EQ(100 * NL_PER_UL, e->value[1]);

	/* lockout - 1 ms: denied */
	run_to(_metadata, self, t1 + (lockout - 1) * MS);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(1, st.lockout_remaining_ms);
	drain(_metadata, self);
	EXPECT_EQ(-EAGAIN, demand(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1, st.pca_denied);
	EXPECT_EQ(1, st.pca_delivered);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_DENIED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(EAGAIN, e->value[1]);
	EXPECT_EQ(IPUMP_REASON_LOCKOUT, e->value[2]);
	EXPECT_EQ(1, e->value[3]);	/* ms until a demand can be admitted */

	/* exactly the lockout: admitted */
	run_ms(_metadata, self, 1);
	EXPECT_EQ(0, status(_metadata, self->fd, 0).lockout_remaining_ms);
	t2 = now_ns(_metadata, self);
	ASSERT_EQ(0, demand(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(2, st.pca_delivered);
	err_ns = (long long)(t2 - t1) - (long long)lockout * (long long)MS;
	ksft_print_msg("PCA lockout %u ms: denied at -1 ms, admitted after %.3f s; lockout error %.3f s\n",
		       lockout, (t2 - t1) / 1e9, err_ns / 1e9);
	EXPECT_EQ(0, err_ns);

	/* the patient's handset needs no lease */
	run_ms(_metadata, self, 60000);
	ASSERT_EQ(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
	ASSERT_EQ(0, release(self->fd, 0));
	self->lease_fd[0] = -1;
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_LEASE_FREE, st.lease);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	presses = st.handset_presses;
	drain(_metadata, self);
	knob(_metadata, self, 0, "handset_press", 1);		/* inside the lockout */
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(presses + 1, st.handset_presses);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(2, st.pca_denied);
	EXPECT_EQ(2, st.pca_delivered);
	events(_metadata, self);
	req = find_ev(self, IPUMP_EVENT_BOLUS_REQUESTED);
	ASSERT_NE(NULL, req);
	EXPECT_TRUE(req->flags & IPUMP_EVENT_F_HANDSET);
	e = find_ev(self, IPUMP_EVENT_BOLUS_DENIED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(req->seq, e->value[0]);
	EXPECT_EQ(EAGAIN, e->value[1]);
	EXPECT_EQ(IPUMP_REASON_LOCKOUT, e->value[2]);
	EXPECT_TRUE(e->flags & IPUMP_EVENT_F_HANDSET);
	EXPECT_EQ((t2 + lockout * MS - now_ns(_metadata, self)) / MS, e->value[3]);

	/* at the end of the second lockout the same press is admitted */
	run_to(_metadata, self, t2 + lockout * MS);
	t3 = now_ns(_metadata, self);
	drain(_metadata, self);
	knob(_metadata, self, 0, "handset_press", 1);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(3, st.pca_delivered);
	EXPECT_EQ(2, st.pca_denied);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_STARTED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(t3, e->timestamp_ns);
	/* a console demand without the lease is still refused */
	EXPECT_EQ(-EPERM, demand(self->fd, 0));
}

/* ---- 4. the hourly count ---- */

TEST_F_TIMEOUT(pump, pca_hourly_count, 300)
{
	struct ipump_programme p = prog_pca(1 * NL_PER_ML, 0, 100 * NL_PER_UL, 10 * NL_PER_ML, 300000, 2);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned long long t0;

	program_and_start(_metadata, self, 0, &p);
	t0 = now_ns(_metadata, self);
	ASSERT_EQ(0, demand(self->fd, 0));			/* 1st, at 0 */
	run_ms(_metadata, self, 300000);
	ASSERT_EQ(0, demand(self->fd, 0));			/* 2nd, at 300 s */
	run_ms(_metadata, self, 300000);

	/* 3rd at 600 s: lockout over, but 2 started in the last hour */
	drain(_metadata, self);
	EXPECT_EQ(-EAGAIN, demand(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(2, st.pca_delivered);
	EXPECT_EQ(1, st.pca_denied);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_DENIED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(EAGAIN, e->value[1]);
	EXPECT_EQ(IPUMP_REASON_HOURLY_COUNT, e->value[2]);
	EXPECT_EQ(3000000, e->value[3]);	/* until the 1st is an hour old */

	/* 1 ms before the first start is an hour old: still denied */
	run_to(_metadata, self, t0 + 3599999 * MS);
	drain(_metadata, self);
	EXPECT_EQ(-EAGAIN, demand(self->fd, 0));
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_DENIED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_REASON_HOURLY_COUNT, e->value[2]);
	EXPECT_EQ(1, e->value[3]);
	EXPECT_EQ(2, status(_metadata, self->fd, 0).pca_denied);

	/* exactly an hour: the first no longer counts */
	run_ms(_metadata, self, 1);
	ASSERT_EQ(0, demand(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(3, st.pca_delivered);
	EXPECT_EQ(2, st.pca_denied);
}

/* ---- 5. dose limits ---- */

/*
 * 1-hour limit 2 mL, basal 1 mL/h (61 min of it stays under the limit),
 * PCA bolus 1.9 mL at 100 mL/h. The first demand is admitted; the second
 * one, 300 s later, would exceed the limit (-EDQUOT); the basal rate then
 * reaches the limit about two minutes later.
 */
static void dose_limit_run(MD, pump_t *self, __u32 route, __u32 kvo, __u32 want_state)
{
	struct ipump_programme p = prog_pca(1 * NL_PER_ML, kvo, 1900 * NL_PER_UL, 100 * NL_PER_ML, 300000, 4);
	const __u64 limit = 2 * NL_PER_ML;
	struct ipump_channel_status st;
	const struct ipump_event *e;
	long long t;
	int from;

	p.route = route;
	p.max_dose_1h_nl = limit;
	p.max_dose_4h_nl = 8 * NL_PER_ML;
	program_and_start(_metadata, self, 0, &p);

	ASSERT_EQ(0, demand(self->fd, 0));
	run_ms(_metadata, self, 300000);
	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1900 * NL_PER_UL, st.bolus_delivered_nl);
	/* everything so far is inside the first hour: all of it counts */
	EXPECT_LE(st.dose_1h_nl, st.delivered_nl);
	EXPECT_LE(st.delivered_nl - st.dose_1h_nl, 300);	/* <= 1 s of basal */
	EXPECT_EQ(st.dose_1h_nl, st.dose_4h_nl);
	ASSERT_LT(st.dose_1h_nl, limit);
	ASSERT_GT(st.dose_1h_nl + 1900 * NL_PER_UL, limit);

	/* the same demand now would exceed the 1-hour limit */
	drain(_metadata, self);
	EXPECT_EQ(-EDQUOT, demand(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1, st.pca_delivered);
	EXPECT_EQ(1, st.pca_denied);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_DENIED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(EDQUOT, e->value[1]);
	EXPECT_EQ(IPUMP_REASON_DOSE_LIMIT, e->value[2]);

	/* the basal rate reaches the limit */
	drain(_metadata, self);
	t = run_until(_metadata, self, 0, -1, IPUMP_ALARM_DOSE_LIMIT, 1000, 600000);
	ASSERT_LE(0, t) TH_LOG("no dose-limit alarm");
	st = status(_metadata, self->fd, 0);
	ksft_print_msg("dose limit %llu nL reached %lld s after the denied demand: state %u, delivered %llu nL, 1 h dose %llu nL\n",
		       (unsigned long long)limit, t / 1000, st.state,
		       (unsigned long long)st.delivered_nl,
		       (unsigned long long)st.dose_1h_nl);
	EXPECT_EQ(want_state, st.state);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_DOSE_LIMIT));
	EXPECT_GE(st.dose_1h_nl, limit);
	/* not overshot by more than a step (plus at most 1 s at the KVO rate) */
	EXPECT_LE(st.delivered_nl, limit + STEP_NL + 2 * STEP_NL);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_DOSE_LIMIT, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_MEDIUM, e->priority);
	if (want_state == IPUMP_STATE_KVO) {
		EXPECT_EQ(kvo, st.rate_nl_per_h);
		e = find_ev(self, IPUMP_EVENT_KVO_STARTED);
		ASSERT_NE(NULL, e);
		EXPECT_EQ(IPUMP_CAUSE_DOSE_LIMIT, e->value[0]);
		EXPECT_EQ(kvo, e->value[1]);
		/* no bolus while held at KVO */
		EXPECT_EQ(-EPERM, demand(self->fd, 0));
	} else {
		EXPECT_EQ(0, st.rate_nl_per_h);
		EXPECT_EQ(NULL, find_ev(self, IPUMP_EVENT_KVO_STARTED));
		from = 0;
		while ((e = ipt_find_event_from(self->ev, self->nev, &from,
						IPUMP_EVENT_STATE_CHANGED, 0)))
			EXPECT_NE(IPUMP_STATE_KVO, e->value[0]);
	}
	EXPECT_EQ(0, stop_ch(self->fd, 0));
}

TEST_F_TIMEOUT(pump, dose_limit_iv_kvo, 120)
{
	dose_limit_run(_metadata, self, IPUMP_ROUTE_INTRAVENOUS, 100 * NL_PER_UL,
		       IPUMP_STATE_KVO);
}

TEST_F_TIMEOUT(pump, dose_limit_intrathecal_stops, 120)
{
	dose_limit_run(_metadata, self, IPUMP_ROUTE_INTRATHECAL, 0,
		       IPUMP_STATE_ALARM_STOPPED);
}

/* ---- 6. volume to be infused ---- */

/* 100 uL at 1 mL/h: exactly 6 minutes, 4000 steps */
static void vtbi_run(MD, pump_t *self, __u32 route, __u32 kvo, __u32 want_state)
{
	struct ipump_programme p = prog_basal(route, 1 * NL_PER_ML, kvo);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned long long t0;

	p.flags = 0;
	p.vtbi_nl = 100 * NL_PER_UL;
	program_and_start(_metadata, self, 0, &p);
	t0 = now_ns(_metadata, self);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(100 * NL_PER_UL, st.vtbi_remaining_nl);

	run_ms(_metadata, self, 359000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_VTBI_COMPLETE));
	EXPECT_LT(0, st.vtbi_remaining_nl);

	/* 6 min, plus two step times (90 ms each) of slack for the step */
	drain(_metadata, self);
	run_to(_metadata, self, t0 + 360180 * MS);
	st = status(_metadata, self->fd, 0);
	ksft_print_msg("VTBI 100000 nL: delivered %llu nL, state %u\n",
		       (unsigned long long)st.delivered_nl, st.state);
	EXPECT_EQ(want_state, st.state);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_VTBI_COMPLETE));
	EXPECT_GE(st.delivered_nl, 100 * NL_PER_UL - STEP_NL);
	EXPECT_LE(st.delivered_nl, 100 * NL_PER_UL + STEP_NL);
	EXPECT_EQ(0, st.vtbi_remaining_nl);
	EXPECT_EQ(want_state == IPUMP_STATE_KVO ? kvo : 0, st.rate_nl_per_h);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_VTBI_COMPLETE, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_MEDIUM, e->priority);
	EXPECT_GE(e->timestamp_ns, t0 + 360000 * MS - 90 * MS);
	EXPECT_LE(e->timestamp_ns, t0 + 360090 * MS);
	e = find_ev(self, IPUMP_EVENT_KVO_STARTED);
	if (want_state == IPUMP_STATE_KVO) {
		ASSERT_NE(NULL, e);
		EXPECT_EQ(IPUMP_CAUSE_VOLUME_DONE, e->value[0]);
		EXPECT_EQ(kvo, e->value[1]);
	} else {
		EXPECT_EQ(NULL, e);
		/* VTBI-complete does not stop by itself: ack leaves the stop */
		EXPECT_EQ(0, ack_ch(self->fd, 0));
		EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);
	}
}

TEST_F_TIMEOUT(pump, vtbi_iv_drops_to_kvo, 120)
{
	vtbi_run(_metadata, self, IPUMP_ROUTE_INTRAVENOUS, 100 * NL_PER_UL, IPUMP_STATE_KVO);
}

TEST_F_TIMEOUT(pump, vtbi_epidural_stops, 120)
{
	vtbi_run(_metadata, self, IPUMP_ROUTE_EPIDURAL, 0, IPUMP_STATE_ALARM_STOPPED);
}

/* ---- 7. bolus cancel reports what the card counted ---- */

TEST_F_TIMEOUT(pump, bolus_cancel_reports_counted_volume, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e, *req;
	__u64 result = 0;
	int fd2;

	program_and_start(_metadata, self, 0, &p);
	/* above the maximum bolus volume (5 mL): -ERANGE, then within: ok */
	EXPECT_EQ(-ERANGE, bolus(self->fd, 0, IPUMP_BOLUS_CLINICIAN, 5 * NL_PER_ML + 1, 10 * NL_PER_ML));
	EXPECT_EQ(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
	drain(_metadata, self);
	ASSERT_EQ(0, bolus(self->fd, 0, IPUMP_BOLUS_CLINICIAN, 1 * NL_PER_ML, 10 * NL_PER_ML));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(1, st.clinician_boluses);
	EXPECT_EQ(0, st.pca_delivered);
	EXPECT_EQ(10 * NL_PER_ML, st.rate_nl_per_h);

	/* 60 s at 10 mL/h: 6666 whole steps of 25 nL (a step every 9 ms) */
	run_ms(_metadata, self, 60000);
	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(166650, st.bolus_delivered_nl);

	/* cancel needs no lease */
	fd2 = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, bolus_cancel(fd2, 0, &result));
	st = status(_metadata, self->fd, 0);
	ksft_print_msg("clinician bolus 1000000 nL cancelled after 60 s: card counted %llu nL\n",
		       (unsigned long long)result);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1 * NL_PER_ML, st.rate_nl_per_h);
	EXPECT_EQ(st.bolus_delivered_nl, result);
	EXPECT_EQ(166650, result);
	EXPECT_NE(1 * NL_PER_ML, result);
	events(_metadata, self);
	req = find_ev(self, IPUMP_EVENT_BOLUS_REQUESTED);
	ASSERT_NE(NULL, req);
	e = find_ev(self, IPUMP_EVENT_BOLUS_CANCELLED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(req->seq, e->value[0]);
	EXPECT_EQ(IPUMP_CAUSE_COMMAND, e->value[1]);
	EXPECT_EQ(result, e->value[2]);
	EXPECT_EQ(1 * NL_PER_ML - result, e->value[3]);
	EXPECT_EQ(NULL, find_ev(self, IPUMP_EVENT_BOLUS_COMPLETED));
	/* nothing left to cancel */
	EXPECT_EQ(-EINVAL, bolus_cancel(fd2, 0, &result));
	close(fd2);
}

/*
 * The card stops answering during a bolus: the bolus ends with cause
 * FAULT, the last volume the card counted, and "not delivered" unknown
 * (IPUMP_NONE_U64), never the requested volume assumed delivered.
 */
TEST_F_TIMEOUT(pump, bolus_outcome_uncertain_when_card_mute, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e, *req;

	program_and_start(_metadata, self, 0, &p);
	ASSERT_EQ(0, bolus(self->fd, 0, IPUMP_BOLUS_CLINICIAN, 1 * NL_PER_ML, 10 * NL_PER_ML));
	run_ms(_metadata, self, 60000);
	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(IPUMP_STATE_BOLUS, st.state);
	ASSERT_EQ(166650, st.bolus_delivered_nl);

	self->lease_fd[0] = -1;		/* no renewal while the card is mute */
	knob(_metadata, self, -1, "io_fail_every", 1);
	advance(_metadata, self, 3000);
	knob(_metadata, self, -1, "io_fail_every", 0);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_FAULT, st.state);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_COMMUNICATION));

	events(_metadata, self);
	req = find_ev(self, IPUMP_EVENT_BOLUS_REQUESTED);
	ASSERT_NE(NULL, req);
	e = find_ev(self, IPUMP_EVENT_BOLUS_CANCELLED);
	ASSERT_NE(NULL, e) TH_LOG("no BOLUS_CANCELLED record for the mute card");
	EXPECT_EQ(req->seq, e->value[0]);
	EXPECT_EQ(IPUMP_CAUSE_FAULT, e->value[1]);
	/* the last count read, at most one delivery tick (1 s) old */
	EXPECT_GE(166650, e->value[2]);
	EXPECT_LE(166650 - 2800, e->value[2]);
	EXPECT_EQ(IPUMP_NONE_U64, e->value[3]);	/* unknown, not 1 mL - x */
	EXPECT_EQ(NULL, find_ev(self, IPUMP_EVENT_BOLUS_COMPLETED));
	ksft_print_msg("bolus with the card mute: last counted %llu nL, not delivered %s\n",
		       (unsigned long long)e->value[2],
		       e->value[3] == IPUMP_NONE_U64 ? "unknown" : "a number");
}

/* ---- 8. alarms: door, acknowledgement, explicit restart; reservoir low ---- */

TEST_F_TIMEOUT(pump, door_alarm_ack_and_restart, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	struct pollfd pfd;
	__u64 gen;

	gen = program_and_start(_metadata, self, 0, &p);
	run_ms(_metadata, self, 10000);
	drain(_metadata, self);
	pfd.fd = self->fd;
	pfd.events = POLLIN | POLLPRI;
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	knob(_metadata, self, 0, "door_open", 1);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_DOOR_OPEN));
	EXPECT_TRUE(st.alarms_unacked & BIT64(IPUMP_ALARM_DOOR_OPEN));
	EXPECT_EQ(IPUMP_PRIO_HIGH, st.priority);
	EXPECT_EQ(0, st.rate_nl_per_h);
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLPRI);
	EXPECT_TRUE(pfd.revents & POLLIN);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_DOOR_OPEN, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
	EXPECT_EQ(3, e->priority);
	/* the other channel is not affected */
	st = status(_metadata, self->fd, 1);
	EXPECT_EQ(IPUMP_STATE_IDLE, st.state);
	EXPECT_EQ(0, st.alarms);

	/* no start while alarm-stopped */
	EXPECT_EQ(-EBUSY, start_ch(self->fd, 0, gen));
	/* acknowledged with the door still open: still stopped */
	EXPECT_EQ(0, ack_ch(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_DOOR_OPEN));
	EXPECT_FALSE(st.alarms_unacked & BIT64(IPUMP_ALARM_DOOR_OPEN));
	EXPECT_EQ(-EBUSY, start_ch(self->fd, 0, gen));

	/* closed: latched until acknowledged, and never restarts by itself */
	knob(_metadata, self, 0, "door_open", 0);
	run_ms(_metadata, self, 2000);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, status(_metadata, self->fd, 0).state);
	drain(_metadata, self);
	EXPECT_EQ(0, ack_ch(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_DOOR_OPEN));
	EXPECT_EQ(0, st.rate_nl_per_h);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_ALARM_CLEARED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_ALARM_DOOR_OPEN, e->value[0]);

	/* the refused start, now accepted */
	EXPECT_EQ(0, start_ch(self->fd, 0, gen));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1 * NL_PER_ML, st.rate_nl_per_h);
}

TEST_F_TIMEOUT(pump, reservoir_low_does_not_stop, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;

	program_and_start(_metadata, self, 0, &p);
	/* 10 steps (900 ms at 1 mL/h) above the 1 mL low level */
	knob(_metadata, self, 0, "reservoir_nl", 1 * NL_PER_ML + 10 * STEP_NL);
	drain(_metadata, self);
	run_ms(_metadata, self, 899);
	st = status(_metadata, self->fd, 0);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_RESERVOIR_LOW));
	EXPECT_EQ(1 * NL_PER_ML + STEP_NL, st.reservoir_nl);
	run_ms(_metadata, self, 1);
	st = status(_metadata, self->fd, 0);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_RESERVOIR_LOW));
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(IPUMP_PRIO_LOW, st.priority);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_RESERVOIR_LOW, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_LOW, e->priority);
	/* keeps delivering */
	run_ms(_metadata, self, 60000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1 * NL_PER_ML, st.rate_nl_per_h);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_RESERVOIR_LOW));
}

/* ---- 9. audio pause ---- */

TEST_F_TIMEOUT(pump, audio_pause_exact_expiry, 120)
{
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned long long t0;
	struct pollfd pfd;
	int from;

	/* an active high-priority alarm to silence */
	knob(_metadata, self, 0, "door_open", 1);
	ASSERT_TRUE(status(_metadata, self->fd, 0).alarms & BIT64(IPUMP_ALARM_DOOR_OPEN));
	drain(_metadata, self);

	EXPECT_EQ(-EINVAL, audio_pause(self->fd, 0, 0));
	EXPECT_EQ(-ERANGE, audio_pause(self->fd, 0, 120001));
	EXPECT_EQ(0, status(_metadata, self->fd, 0).audio_paused_until_ns);
	events(_metadata, self);
	EXPECT_EQ(2, ipt_count_events(self->ev, self->nev, IPUMP_EVENT_REQUEST_REFUSED, -1));
	from = 0;
	e = ipt_find_event_from(self->ev, self->nev, &from, IPUMP_EVENT_REQUEST_REFUSED, -1);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(EINVAL, e->value[0]);
	EXPECT_EQ(IPUMP_REASON_AUDIO_PAUSE, e->value[1]);
	e = ipt_find_event_from(self->ev, self->nev, &from, IPUMP_EVENT_REQUEST_REFUSED, -1);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ERANGE, e->value[0]);
	EXPECT_EQ(IPUMP_REASON_AUDIO_PAUSE, e->value[1]);

	/* the maximum is accepted, for exactly that long */
	t0 = now_ns(_metadata, self);
	ASSERT_EQ(0, audio_pause(self->fd, 0, 120000));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(t0 + 120000 * MS, st.audio_paused_until_ns);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_AUDIO_PAUSED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(120000, e->value[0]);
	EXPECT_TRUE(e->value[1] & BIT64(IPUMP_ALARM_DOOR_OPEN));

	advance(_metadata, self, 119999);
	events(_metadata, self);
	EXPECT_EQ(NULL, find_ev(self, IPUMP_EVENT_AUDIO_PAUSE_ENDED));
	EXPECT_EQ(t0 + 120000 * MS, status(_metadata, self->fd, 0).audio_paused_until_ns);

	advance(_metadata, self, 1);
	pfd.fd = self->fd;
	pfd.events = POLLIN | POLLPRI;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLPRI);	/* the door alarm sounds again */
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_AUDIO_PAUSE_ENDED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(t0 + 120000 * MS, e->timestamp_ns);
	EXPECT_TRUE(e->value[0] & BIT64(IPUMP_ALARM_DOOR_OPEN));
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
	EXPECT_EQ(0, status(_metadata, self->fd, 0).audio_paused_until_ns);
}

/* ---- 10. delivery verification: stall and over-infusion ---- */

TEST_F_TIMEOUT(pump, motor_stall_from_counters, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned long long ts;
	long long t, latency_ms;

	program_and_start(_metadata, self, 0, &p);
	/* delivering normally for a minute: no stall */
	run_ms(_metadata, self, 60000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(0, st.alarms);
	EXPECT_EQ(60000 / 90, st.step_count);

	/* the steps stop, the card does not notice */
	drain(_metadata, self);
	ts = now_ns(_metadata, self);
	knob(_metadata, self, 0, "stall_silent", 1);
	/* not before stall_ms (5 s) less one 1 s delivery tick */
	run_ms(_metadata, self, 3000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_MOTOR_STALL));
	t = run_until(_metadata, self, 0, -1, IPUMP_ALARM_MOTOR_STALL, 100, 10000);
	ASSERT_LE(0, t) TH_LOG("no motor-stall alarm 13 s after the steps stopped");
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_EQ(IPUMP_PRIO_HIGH, st.priority);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_MOTOR_STALL, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
	latency_ms = (long long)(e->timestamp_ns - ts) / (long long)MS;
	ksft_print_msg("motor stall detected %lld ms after the steps stopped (stall_ms 5000)\n",
		       latency_ms);
	/* the delivery tick samples every second: up to 1 s each way */
	EXPECT_GE(latency_ms, 5000 - 1000);
	EXPECT_LE(latency_ms, 5000 + 2000 + 90);
	EXPECT_EQ(0, stop_ch(self->fd, 0));
}

TEST_F_TIMEOUT(pump, over_infusion_stops, 300)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	long long t;

	knob(_metadata, self, 0, "speed_error_pct", 20);
	program_and_start(_metadata, self, 0, &p);
	drain(_metadata, self);
	t = run_until(_metadata, self, 0, -1, IPUMP_ALARM_OVER_INFUSION, 10000, 15 * 60000);
	ASSERT_LE(0, t) TH_LOG("no over-infusion alarm within 15 min at +20 %%");
	st = status(_metadata, self->fd, 0);
	ksft_print_msg("over-infusion (+20 %%) detected after at most %lld s: delivered %llu nL\n",
		       t / 1000, (unsigned long long)st.delivered_nl);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_EQ(0, st.rate_nl_per_h);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_OVER_INFUSION, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
}

TEST_F_TIMEOUT(pump, small_speed_error_no_alarm, 300)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;

	knob(_metadata, self, 0, "speed_error_pct", 5);
	program_and_start(_metadata, self, 0, &p);
	run_ms(_metadata, self, 30 * 60000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(0, st.alarms);
	/* 1.05 mL/h for 30 min, exactly */
	EXPECT_EQ(525000, st.delivered_nl);
}

/* ---- 11. occlusion: back-off, no unintended bolus ---- */

TEST_F_TIMEOUT(pump, occlusion_backoff_no_bolus, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 10 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned long long released, trapped, d0;
	__u32 before = 0;
	__u64 gen;
	int i;

	gen = program_and_start(_metadata, self, 0, &p);
	run_ms(_metadata, self, 10000);
	d0 = status(_metadata, self->fd, 0).delivered_nl;
	drain(_metadata, self);
	knob(_metadata, self, 0, "occlusion_down", 1);
	/* 150 uL into a 500 nL/mmHg line reach 300 mmHg after 54 s */
	for (i = 0; i < 120; i++) {
		st = status(_metadata, self->fd, 0);
		if (st.alarms & BIT64(IPUMP_ALARM_OCCLUSION_DOWN))
			break;
		before = st.pressure_down_mmhg;
		run_ms(_metadata, self, 1000);
	}
	ASSERT_TRUE(st.alarms & BIT64(IPUMP_ALARM_OCCLUSION_DOWN))
		TH_LOG("no occlusion alarm after 120 s");
	ksft_print_msg("occlusion alarm after %d s; pressure 1 s before: %u mmHg\n",
		       i, before);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_EQ(IPUMP_PRIO_HIGH, st.priority);
	EXPECT_LT(before, 300);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_OCCLUSION_DOWN, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
	EXPECT_GE(e->value[1], 300);		/* pressure at the alarm */
	ksft_print_msg("pressure at the alarm: %llu mmHg\n",
		       (unsigned long long)e->value[1]);

	/* the back-off draws the trapped volume back */
	run_ms(_metadata, self, 120000);
	st = status(_metadata, self->fd, 0);
	trapped = knob_get(_metadata, self, 0, "trapped_nl");
	ksft_print_msg("after back-off: pressure %u mmHg, trapped %llu nL, delivered %llu nL (at occlusion %llu nL)\n",
		       st.pressure_down_mmhg, trapped,
		       (unsigned long long)st.delivered_nl, d0);
	EXPECT_EQ(0, st.pressure_down_mmhg);
	EXPECT_FALSE(st.motor & IPUMP_MOTOR_BACKOFF);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);

	/* releasing the occlusion pushes (almost) nothing into the patient */
	knob(_metadata, self, 0, "occlusion_down", 0);
	released = knob_get(_metadata, self, 0, "released_nl");
	ksft_print_msg("released after occlusion: %llu nL\n", released);
	EXPECT_LT(released, 500000);

	/* acknowledged: programmed, delivery only by an explicit start */
	EXPECT_EQ(0, ack_ch(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_OCCLUSION_DOWN));
	EXPECT_EQ(0, start_ch(self->fd, 0, gen));
	EXPECT_EQ(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
}

/* ---- 12. lease loss ---- */

/*
 * A second file holds the lease, runs a PCA bolus and is closed without
 * releasing: the bolus is cancelled, LEASE_LOST (high) is raised and the
 * programme's lease-loss mode applies. Then another file takes it over.
 */
static void lease_loss_on_close(MD, pump_t *self, __u32 mode, __u32 want_state,
				__u32 want_rate)
{
	struct ipump_programme p = prog_pca(1 * NL_PER_ML, 200 * NL_PER_UL, 100 * NL_PER_UL, 10 * NL_PER_ML, 300000, 4);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	__u64 gen = 0, bolus_nl;
	int lfd;

	p.lease_loss_mode = mode;
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	lfd = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, acquire(lfd, 0, LEASE_MS));
	ASSERT_EQ(0, start_ch(lfd, 0, gen));
	advance(_metadata, self, 10000);
	ASSERT_EQ(0, demand(lfd, 0));
	advance(_metadata, self, 10000);		/* 36 s bolus in progress */
	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(IPUMP_STATE_BOLUS, st.state);
	EXPECT_EQ(IPUMP_LEASE_HELD, st.lease);
	bolus_nl = st.bolus_delivered_nl;

	drain(_metadata, self);
	close(lfd);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(want_state, st.state);
	EXPECT_EQ(want_rate, st.rate_nl_per_h);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_LEASE_LOST));
	EXPECT_EQ(IPUMP_PRIO_HIGH, st.priority);
	EXPECT_FALSE(st.motor & IPUMP_MOTOR_BOLUS);
	EXPECT_EQ(IPUMP_LEASE_ORPHANED, st.lease);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_LEASE_LOST);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(mode, e->value[1]);
	EXPECT_EQ(0, e->value[2]);		/* console gone */
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_LEASE_LOST, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
	e = find_ev(self, IPUMP_EVENT_BOLUS_CANCELLED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_CAUSE_LEASE_LOST, e->value[1]);
	EXPECT_EQ(bolus_nl, e->value[2]);
	if (want_state == IPUMP_STATE_KVO) {
		e = find_ev(self, IPUMP_EVENT_KVO_STARTED);
		ASSERT_NE(NULL, e);
		EXPECT_EQ(IPUMP_CAUSE_LEASE_LOST, e->value[0]);
	}

	/* orphaned: only a takeover adopts it */
	EXPECT_EQ(-EOWNERDEAD, acquire(self->fd, 0, LEASE_MS));
	ASSERT_EQ(0, takeover(self->fd, 0, LEASE_MS));
	self->lease_fd[0] = self->fd;
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_LEASE_MINE, st.lease);
	EXPECT_EQ(want_state, st.state);
	events(_metadata, self);
	EXPECT_NE(NULL, find_ev(self, IPUMP_EVENT_LEASE_TAKEN_OVER));
	/* a console holds it again: acknowledgement clears the alarm */
	EXPECT_EQ(0, ack_ch(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_LEASE_LOST));
	EXPECT_EQ(want_state == IPUMP_STATE_ALARM_STOPPED ?
		  IPUMP_STATE_PROGRAMMED : want_state, st.state);
	EXPECT_EQ(0, stop_ch(self->fd, 0));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);
}

TEST_F_TIMEOUT(pump, lease_lost_on_close_stop, 120)
{
	lease_loss_on_close(_metadata, self, IPUMP_LEASE_LOSS_STOP,
			    IPUMP_STATE_ALARM_STOPPED, 0);
}

TEST_F_TIMEOUT(pump, lease_lost_on_close_kvo, 120)
{
	lease_loss_on_close(_metadata, self, IPUMP_LEASE_LOSS_KVO,
			    IPUMP_STATE_KVO, 200 * NL_PER_UL);
}

TEST_F_TIMEOUT(pump, lease_lost_on_close_continue_basal, 120)
{
	lease_loss_on_close(_metadata, self, IPUMP_LEASE_LOSS_CONTINUE_BASAL,
			    IPUMP_STATE_RUNNING, 1 * NL_PER_ML);
}

TEST_F_TIMEOUT(pump, lease_heartbeat_missed_exactly, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned long long t0, t1;
	__u64 gen = 0;
	int fd2;

	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	t0 = now_ns(_metadata, self);
	ASSERT_EQ(0, acquire(self->fd, 0, 1000));
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	EXPECT_EQ(t0 + 1000 * MS, status(_metadata, self->fd, 0).lease_expires_ns);

	/* a renewal within period + grace keeps it, and moves the deadline */
	advance(_metadata, self, 1400);
	ASSERT_EQ(0, renew(self->fd, 0));
	t1 = now_ns(_metadata, self);
	EXPECT_EQ(t1 + 1000 * MS, status(_metadata, self->fd, 0).lease_expires_ns);
	advance(_metadata, self, 1499);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_LEASE_MINE, st.lease);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_LEASE_LOST));

	/* lost at exactly period + 500 ms after the last renewal */
	drain(_metadata, self);
	advance(_metadata, self, 1);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_LEASE_ORPHANED, st.lease);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_EQ(0, st.rate_nl_per_h);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_LEASE_LOST));
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_LEASE_LOST);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(t1 + 1500 * MS, e->timestamp_ns);
	EXPECT_EQ(1, e->value[2]);		/* heartbeat missed */
	EXPECT_EQ(IPUMP_LEASE_LOSS_STOP, e->value[1]);

	/* a late heartbeat does not revive it, nor does acquiring it again */
	EXPECT_EQ(-ETIMEDOUT, renew(self->fd, 0));
	EXPECT_EQ(-ETIMEDOUT, start_ch(self->fd, 0, gen));
	EXPECT_EQ(-EOWNERDEAD, acquire(self->fd, 0, 1000));
	fd2 = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EOWNERDEAD, acquire(fd2, 0, LEASE_MS));
	ASSERT_EQ(0, takeover(fd2, 0, LEASE_MS));
	EXPECT_EQ(IPUMP_LEASE_MINE, status(_metadata, fd2, 0).lease);
	EXPECT_EQ(IPUMP_LEASE_HELD, status(_metadata, self->fd, 0).lease);
	/* the new console acknowledges and restarts */
	EXPECT_EQ(0, ack_ch(fd2, 0));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, fd2, 0).state);
	EXPECT_EQ(0, start_ch(fd2, 0, gen));
	EXPECT_EQ(IPUMP_STATE_RUNNING, status(_metadata, fd2, 0).state);
	EXPECT_EQ(0, stop_ch(fd2, 0));
	close(fd2);
}

/* ---- 13. hard limits ---- */

/* In a child without CAP_SYS_ADMIN: 0 if the change was refused with -EPERM */
static int set_limits_without_cap_sys_admin(int fd, const struct ipump_hard_limits *l)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	pid_t pid;
	int st, err;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		memset(&h, 0, sizeof(h));
		memset(d, 0, sizeof(d));
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (syscall(SYS_capget, &h, d))
			_exit(10);
		d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &h, d))
			_exit(11);
		err = set_limits(fd, 0, l);
		_exit(err == -EPERM ? 0 : err == 0 ? 12 : 13);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

TEST_F_TIMEOUT(pump, hard_limits, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 5 * NL_PER_ML, 0);
	struct ipump_hard_limits l, got;
	struct ipump_limits_req req;
	const struct ipump_event *e;
	__u64 gen = 0, g;

	/* documented defaults (the simulated card has no firmware limits) */
	ASSERT_EQ(0, get_limits(self->fd, 0, &got));
	EXPECT_EQ(0, memcmp(&ipt_default_limits, &got, sizeof(got)));

	memset(&req, 0, sizeof(req));
	req.limits = ipt_default_limits;
	req.limits.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ipt_ioctl(self->fd, IPUMP_IOC_SET_HARD_LIMITS, &req));

	/* idle: 5 mL/h maximum */
	l = ipt_default_limits;
	l.max_rate_nl_per_h = 5 * NL_PER_ML;
	drain(_metadata, self);
	ASSERT_EQ(0, set_limits(self->fd, 0, &l));
	ASSERT_EQ(0, get_limits(self->fd, 0, &got));
	EXPECT_EQ(0, memcmp(&l, &got, sizeof(got)));
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_HARD_LIMITS_SET);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(5 * NL_PER_ML, e->value[1]);
	/* the other channel keeps its own */
	ASSERT_EQ(0, get_limits(self->fd, 1, &got));
	EXPECT_EQ(0, memcmp(&ipt_default_limits, &got, sizeof(got)));

	/* a programme above the new maximum: -ERANGE; at it: accepted */
	p.basal_rate_nl_per_h = 5 * NL_PER_ML + 1;
	drain(_metadata, self);
	EXPECT_EQ(-ERANGE, set_prog(self->fd, 0, &gen, &p));
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_REQUEST_REFUSED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ERANGE, e->value[0]);
	EXPECT_EQ(IPUMP_REASON_RATE_HIGH, e->value[1]);
	p.basal_rate_nl_per_h = 5 * NL_PER_ML;
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	p.basal_rate_nl_per_h = 5 * NL_PER_ML + 1;
	g = gen;
	EXPECT_EQ(-ERANGE, set_prog(self->fd, 0, &g, &p));
	g = 0;
	EXPECT_EQ(0, set_prog(self->fd, 1, &g, &p));	/* channel 1: 25 mL/h */

	/* not while delivering */
	ASSERT_EQ(0, acquire(self->fd, 0, LEASE_MS));
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	EXPECT_EQ(-EBUSY, set_limits(self->fd, 0, &l));
	ASSERT_EQ(0, stop_ch(self->fd, 0));
	EXPECT_EQ(0, set_limits(self->fd, 0, &l));	/* programmed: allowed */

	/* limits that would refuse the loaded programme are refused */
	l.max_rate_nl_per_h = 4 * NL_PER_ML;
	EXPECT_EQ(-ERANGE, set_limits(self->fd, 0, &l));
	ASSERT_EQ(0, get_limits(self->fd, 0, &got));
	EXPECT_EQ(5 * NL_PER_ML, got.max_rate_nl_per_h);
	l.max_rate_nl_per_h = 5 * NL_PER_ML;

	/* CAP_SYS_ADMIN is needed: refused in a child without it ... */
	l.max_rate_nl_per_h = 6 * NL_PER_ML;
	EXPECT_EQ(0, set_limits_without_cap_sys_admin(self->fd, &l));
	ASSERT_EQ(0, get_limits(self->fd, 0, &got));
	EXPECT_EQ(5 * NL_PER_ML, got.max_rate_nl_per_h);
	/* ... and the same request works with it */
	EXPECT_EQ(0, set_limits(self->fd, 0, &l));
	ASSERT_EQ(0, get_limits(self->fd, 0, &got));
	EXPECT_EQ(6 * NL_PER_ML, got.max_rate_nl_per_h);
}

/* ---- 14. every refusal is logged ---- */

/* exactly one REQUEST_REFUSED record, for @ch, with @err and @reason */
static void expect_refused(MD, pump_t *self, unsigned int ch, int err, __u32 reason)
{
	const struct ipump_event *e;

	events(_metadata, self);
	EXPECT_EQ(1, ipt_count_events(self->ev, self->nev, IPUMP_EVENT_REQUEST_REFUSED, -1));
	e = find_ev(self, IPUMP_EVENT_REQUEST_REFUSED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ch, e->channel);
	EXPECT_EQ(err, e->value[0]);
	EXPECT_EQ(reason, e->value[1]);
}

TEST_F_TIMEOUT(pump, refusals_are_logged, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	const struct ipump_event *e, *req;
	__u64 gen = 0, g;

	/* nothing to start (channel 1, with its lease) */
	ASSERT_EQ(0, acquire(self->fd, 1, LEASE_MS));
	drain(_metadata, self);
	EXPECT_EQ(-EINVAL, start_ch(self->fd, 1, 0));
	expect_refused(_metadata, self, 1, EINVAL, IPUMP_REASON_STATE);
	EXPECT_EQ(IPUMP_STATE_IDLE, status(_metadata, self->fd, 1).state);
	ASSERT_EQ(0, release(self->fd, 1));

	/* without the lease */
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	drain(_metadata, self);
	EXPECT_EQ(-EPERM, start_ch(self->fd, 0, gen));
	expect_refused(_metadata, self, 0, EPERM, IPUMP_REASON_NO_LEASE);
	ASSERT_EQ(0, acquire(self->fd, 0, LEASE_MS));
	drain(_metadata, self);

	/* on a stale generation */
	EXPECT_EQ(-ESTALE, start_ch(self->fd, 0, gen - 1));
	expect_refused(_metadata, self, 0, ESTALE, IPUMP_REASON_GENERATION);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);

	/* the same start, right: STARTED and no refusal */
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	events(_metadata, self);
	EXPECT_EQ(0, ipt_count_events(self->ev, self->nev, IPUMP_EVENT_REQUEST_REFUSED, -1));
	e = find_ev(self, IPUMP_EVENT_STARTED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(gen, e->value[0]);
	EXPECT_EQ(1 * NL_PER_ML, e->value[1]);

	/* already running */
	EXPECT_EQ(-EBUSY, start_ch(self->fd, 0, gen));
	expect_refused(_metadata, self, 0, EBUSY, IPUMP_REASON_STATE);
	g = gen;
	EXPECT_EQ(-EBUSY, set_prog(self->fd, 0, &g, &p));
	expect_refused(_metadata, self, 0, EBUSY, IPUMP_REASON_STATE);
	EXPECT_EQ(gen, status(_metadata, self->fd, 0).generation);

	/* a demand on a programme without PCA: BOLUS_DENIED, not REQUEST_REFUSED */
	EXPECT_EQ(-EINVAL, demand(self->fd, 0));
	events(_metadata, self);
	req = find_ev(self, IPUMP_EVENT_BOLUS_REQUESTED);
	ASSERT_NE(NULL, req);
	e = find_ev(self, IPUMP_EVENT_BOLUS_DENIED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(req->seq, e->value[0]);
	EXPECT_EQ(EINVAL, e->value[1]);
	EXPECT_EQ(IPUMP_REASON_PCA_FIELDS, e->value[2]);
	EXPECT_EQ(0, ipt_count_events(self->ev, self->nev, IPUMP_EVENT_BOLUS_STARTED, -1));

	/* stopped, the refused programme change goes through */
	ASSERT_EQ(0, stop_ch(self->fd, 0));
	drain(_metadata, self);
	EXPECT_EQ(0, set_prog(self->fd, 0, &g, &p));
	EXPECT_EQ(gen + 1, g);
	events(_metadata, self);
	EXPECT_EQ(0, ipt_count_events(self->ev, self->nev, IPUMP_EVENT_REQUEST_REFUSED, -1));
	e = find_ev(self, IPUMP_EVENT_PROGRAMME_SET);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(g, e->value[0]);
}

/* ---- 15. stop always works ---- */

/* Stops channel 0 from @fd (no lease) and checks the state it leaves. */
static void stop_from(MD, pump_t *self, int fd, __u32 from, __u32 want)
{
	struct ipump_channel_status st;

	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(from, st.state);
	EXPECT_EQ(0, stop_ch(fd, 0)) TH_LOG("stop in state %u", from);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(want, st.state) TH_LOG("stop in state %u", from);
	EXPECT_EQ(0, st.rate_nl_per_h) TH_LOG("stop in state %u", from);
	EXPECT_FALSE(st.motor & IPUMP_MOTOR_RUNNING) TH_LOG("stop in state %u", from);
}

TEST_F_TIMEOUT(pump, stop_always_works, 120)
{
	struct ipump_programme pca = prog_pca(1 * NL_PER_ML, 100 * NL_PER_UL, 100 * NL_PER_UL, 10 * NL_PER_ML, 300000, 12);
	struct ipump_programme vt = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 100 * NL_PER_UL);
	struct ipump_programme plain = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	const struct ipump_event *e;
	__u64 gen = 0;
	int other;

	other = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, acquire(self->fd, 0, LEASE_MS));
	self->lease_fd[0] = self->fd;

	stop_from(_metadata, self, other, IPUMP_STATE_IDLE, IPUMP_STATE_IDLE);

	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &pca));
	stop_from(_metadata, self, other, IPUMP_STATE_PROGRAMMED, IPUMP_STATE_PROGRAMMED);

	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	run_ms(_metadata, self, 5000);
	stop_from(_metadata, self, other, IPUMP_STATE_RUNNING, IPUMP_STATE_PROGRAMMED);

	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	ASSERT_EQ(0, demand(self->fd, 0));
	run_ms(_metadata, self, 5000);
	drain(_metadata, self);
	stop_from(_metadata, self, other, IPUMP_STATE_BOLUS, IPUMP_STATE_PROGRAMMED);
	EXPECT_FALSE(status(_metadata, self->fd, 0).motor & IPUMP_MOTOR_BOLUS);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_BOLUS_CANCELLED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_CAUSE_COMMAND, e->value[1]);

	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	ASSERT_EQ(0, pause_ch(other, 0));			/* pause needs no lease */
	stop_from(_metadata, self, other, IPUMP_STATE_PAUSED, IPUMP_STATE_PROGRAMMED);

	/* KVO: 2.5 uL at 1 mL/h is done after 9 s */
	vt.flags = 0;
	vt.vtbi_nl = 2500;
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &vt));
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	run_ms(_metadata, self, 12000);
	stop_from(_metadata, self, other, IPUMP_STATE_KVO, IPUMP_STATE_PROGRAMMED);
	EXPECT_EQ(0, ack_ch(self->fd, 0));			/* VTBI complete */

	/* alarm-stopped stays so */
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &plain));
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	knob(_metadata, self, 0, "door_open", 1);
	stop_from(_metadata, self, other, IPUMP_STATE_ALARM_STOPPED,
		  IPUMP_STATE_ALARM_STOPPED);
	knob(_metadata, self, 0, "door_open", 0);
	EXPECT_EQ(0, ack_ch(self->fd, 0));
	ASSERT_EQ(IPUMP_STATE_PROGRAMMED, status(_metadata, self->fd, 0).state);

	/* fault: every register access fails for a while */
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	self->lease_fd[0] = -1;		/* no renewal while the card is mute */
	knob(_metadata, self, -1, "io_fail_every", 1);
	advance(_metadata, self, 3000);
	knob(_metadata, self, -1, "io_fail_every", 0);
	ksft_print_msg("register accesses failed: %llu\n",
		       knob_get(_metadata, self, -1, "io_failures"));
	stop_from(_metadata, self, other, IPUMP_STATE_FAULT, IPUMP_STATE_FAULT);
	EXPECT_EQ(0, ack_ch(self->fd, 0));
	ksft_print_msg("after acknowledging the fault: state %u\n",
		       status(_metadata, self->fd, 0).state);
	EXPECT_NE(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
	close(other);
}

/*
 * Each card condition that stops a channel: raised at its priority, the
 * channel alarm-stopped at rate 0, the alarm latched after the condition
 * is gone until acknowledged, and no restart by itself.
 */
static const struct {
	const char *knob;
	long long on, off;
	unsigned int alarm;
} stopping_alarms[] = {
	{ "occlusion_up", 1, 0, IPUMP_ALARM_OCCLUSION_UP },
	{ "stall", 1, 0, IPUMP_ALARM_MOTOR_STALL },
	{ "free_flow_nl_per_h", 100000, 0, IPUMP_ALARM_FREE_FLOW },
	{ "reservoir_nl", 0, 5 * NL_PER_ML, IPUMP_ALARM_RESERVOIR_EMPTY },
	{ "door_open", 1, 0, IPUMP_ALARM_DOOR_OPEN },
};

TEST_F_TIMEOUT(pump, stopping_alarms_priority_latch_no_restart, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	unsigned int i, a;
	long long t;
	__u64 gen;

	gen = program_and_start(_metadata, self, 0, &p);
	ASSERT_EQ(0, stop_ch(self->fd, 0));
	for (i = 0; i < ARRAY_SIZE(stopping_alarms); i++) {
		a = stopping_alarms[i].alarm;
		ASSERT_EQ(0, start_ch(self->fd, 0, gen)) TH_LOG("%s", stopping_alarms[i].knob);
		run_ms(_metadata, self, 1000);
		drain(_metadata, self);
		knob(_metadata, self, 0, stopping_alarms[i].knob, stopping_alarms[i].on);
		t = run_until(_metadata, self, 0, -1, a, 100, 10000);
		ASSERT_LE(0, t) TH_LOG("%s: alarm %u not raised within 10 s",
				       stopping_alarms[i].knob, a);
		run_ms(_metadata, self, 100);
		st = status(_metadata, self->fd, 0);
		EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state) TH_LOG("%s", stopping_alarms[i].knob);
		EXPECT_EQ(0, st.rate_nl_per_h);
		EXPECT_EQ(IPUMP_PRIO_HIGH, st.priority);
		events(_metadata, self);
		e = ipt_find_alarm(self->ev, self->nev, a, 0);
		ASSERT_NE(NULL, e) TH_LOG("%s: no ALARM_RAISED record", stopping_alarms[i].knob);
		EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
		/* the condition goes: the alarm stays until acknowledged */
		knob(_metadata, self, 0, stopping_alarms[i].knob, stopping_alarms[i].off);
		run_ms(_metadata, self, 2000);
		st = status(_metadata, self->fd, 0);
		EXPECT_TRUE(st.alarms & BIT64(a)) TH_LOG("%s: not latched", stopping_alarms[i].knob);
		EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
		ASSERT_EQ(0, ack_ch(self->fd, 0));
		run_ms(_metadata, self, 1000);
		st = status(_metadata, self->fd, 0);
		EXPECT_FALSE(st.alarms & BIT64(a)) TH_LOG("%s: still raised after ack",
							   stopping_alarms[i].knob);
		EXPECT_EQ(IPUMP_STATE_PROGRAMMED, st.state) TH_LOG("%s", stopping_alarms[i].knob);
		EXPECT_EQ(0, st.rate_nl_per_h);
	}
}

/* The motor runs 20 % slow: UNDER_INFUSION, medium, and delivery goes on. */
TEST_F_TIMEOUT(pump, under_infusion_alarms_without_stopping, 300)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	long long t;

	knob(_metadata, self, 0, "speed_error_pct", -20);
	program_and_start(_metadata, self, 0, &p);
	drain(_metadata, self);
	t = run_until(_metadata, self, 0, -1, IPUMP_ALARM_UNDER_INFUSION, 10000, 15 * 60000);
	ASSERT_LE(0, t) TH_LOG("no under-infusion alarm within 15 min at -20 %%");
	st = status(_metadata, self->fd, 0);
	ksft_print_msg("under-infusion (-20 %%) detected after at most %lld s\n", t / 1000);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(IPUMP_PRIO_MEDIUM, st.priority);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_UNDER_INFUSION, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_MEDIUM, e->priority);
	/* latched: the motor back to speed does not clear it */
	knob(_metadata, self, 0, "speed_error_pct", 0);
	run_ms(_metadata, self, 60000);
	st = status(_metadata, self->fd, 0);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_UNDER_INFUSION));
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	ASSERT_EQ(0, ack_ch(self->fd, 0));
	st = status(_metadata, self->fd, 0);
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_UNDER_INFUSION));
}

/*
 * Bubbles each below the single-bubble limit (200 uL) add up: over 1 mL
 * within 15 minutes is AIR_ACCUMULATED, high, and the channel stops; the
 * bubbles below it raise nothing.
 */
TEST_F_TIMEOUT(pump, air_accumulated_stops, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 10 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;
	int i;

	program_and_start(_metadata, self, 0, &p);
	drain(_metadata, self);
	for (i = 0; i < 6; i++) {	/* 6 x 150 uL = 900 uL: below 1 mL */
		knob(_metadata, self, 0, "air_bubble_nl", 150000);
		run_ms(_metadata, self, 2000);
	}
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_FALSE(st.alarms & (BIT64(IPUMP_ALARM_AIR_ACCUMULATED) |
				  BIT64(IPUMP_ALARM_AIR_IN_LINE)));
	knob(_metadata, self, 0, "air_bubble_nl", 150000);	/* 1050 uL */
	run_ms(_metadata, self, 2000);
	st = status(_metadata, self->fd, 0);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_AIR_ACCUMULATED));
	EXPECT_FALSE(st.alarms & BIT64(IPUMP_ALARM_AIR_IN_LINE));
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_EQ(0, st.rate_nl_per_h);
	EXPECT_EQ(IPUMP_PRIO_HIGH, st.priority);
	events(_metadata, self);
	e = ipt_find_alarm(self->ev, self->nev, IPUMP_ALARM_AIR_ACCUMULATED, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_PRIO_HIGH, e->priority);
}

/* ---- titration: a running channel's rate, on its generation ---- */

TEST_F_TIMEOUT(pump, titrate_running_and_paused, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_programme q, bad;
	struct ipump_channel_status st;
	const struct ipump_event *e;
	__u64 gen, g, d0;
	int fd2;

	/* nothing delivering: a titration is refused, the programme stays */
	gen = 0;
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	ASSERT_EQ(0, acquire(self->fd, 0, LEASE_MS));
	q = p;
	q.basal_rate_nl_per_h = 2 * NL_PER_ML;
	g = gen;
	EXPECT_EQ(-EINVAL, titrate(self->fd, 0, &g, &q));
	EXPECT_EQ(gen, status(_metadata, self->fd, 0).generation);

	self->lease_fd[0] = self->fd;
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	drain(_metadata, self);

	/* 1 -> 2 mL/h: a new generation, the card runs it, RATE_CHANGED */
	g = gen;
	ASSERT_EQ(0, titrate(self->fd, 0, &g, &q));
	EXPECT_EQ(gen + 1, g);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(2 * NL_PER_ML, st.rate_nl_per_h);
	EXPECT_EQ(g, st.generation);
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_RATE_CHANGED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(g, e->value[0]);
	EXPECT_EQ(2 * NL_PER_ML, e->value[1]);
	EXPECT_EQ(1 * NL_PER_ML, e->value[2]);
	d0 = st.delivered_nl;
	run_ms(_metadata, self, 36000);		/* 20000 nL at 2 mL/h */
	st = status(_metadata, self->fd, 0);
	EXPECT_LE(d0 + 19975, st.delivered_nl);
	EXPECT_GE(d0 + 20025, st.delivered_nl);
	gen = g;

	/* on the old generation: ESTALE, the rate stays */
	bad = q;
	bad.basal_rate_nl_per_h = 3 * NL_PER_ML;
	g = gen - 1;
	EXPECT_EQ(-ESTALE, titrate(self->fd, 0, &g, &bad));
	/* above the maximum rate: ERANGE, logged with its reason */
	drain(_metadata, self);
	bad.basal_rate_nl_per_h = 25 * NL_PER_ML + 1;
	g = gen;
	EXPECT_EQ(-ERANGE, titrate(self->fd, 0, &g, &bad));
	expect_refused(_metadata, self, 0, ERANGE, IPUMP_REASON_RATE_HIGH);
	/* the route cannot change while delivering */
	drain(_metadata, self);
	bad = q;
	bad.route = IPUMP_ROUTE_SUBCUTANEOUS;
	g = gen;
	EXPECT_EQ(-EINVAL, titrate(self->fd, 0, &g, &bad));
	expect_refused(_metadata, self, 0, EINVAL, IPUMP_REASON_ROUTE_CHANGE);
	/* another console without the lease */
	fd2 = open(self->c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	bad = q;
	bad.basal_rate_nl_per_h = 3 * NL_PER_ML;
	g = gen;
	EXPECT_EQ(-EPERM, titrate(fd2, 0, &g, &bad));
	close(fd2);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(gen, st.generation);
	EXPECT_EQ(2 * NL_PER_ML, st.rate_nl_per_h);

	/* during a bolus: EBUSY */
	ASSERT_EQ(0, bolus(self->fd, 0, IPUMP_BOLUS_CLINICIAN, 100000, 10 * NL_PER_ML));
	g = gen;
	EXPECT_EQ(-EBUSY, titrate(self->fd, 0, &g, &bad));
	EXPECT_EQ(IPUMP_STATE_BOLUS, status(_metadata, self->fd, 0).state);
	run_until(_metadata, self, 0, IPUMP_STATE_RUNNING, -1, 1000, 60000);
	EXPECT_EQ(2 * NL_PER_ML, status(_metadata, self->fd, 0).rate_nl_per_h);

	/* paused: the new rate is taken and runs on resume */
	ASSERT_EQ(0, pause_ch(self->fd, 0));
	g = gen;
	ASSERT_EQ(0, titrate(self->fd, 0, &g, &bad));
	EXPECT_EQ(gen + 1, g);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_PAUSED, st.state);
	EXPECT_EQ(0, st.rate_nl_per_h);
	/* resume on the old generation: ESTALE; on the new one: 3 mL/h */
	EXPECT_EQ(-ESTALE, ipt_chcmd(self->fd, IPUMP_IOC_RESUME, 0, 0, gen));
	ASSERT_EQ(0, ipt_chcmd(self->fd, IPUMP_IOC_RESUME, 0, 0, g));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(3 * NL_PER_ML, st.rate_nl_per_h);
	/* resume when not paused: EINVAL */
	EXPECT_EQ(-EINVAL, ipt_chcmd(self->fd, IPUMP_IOC_RESUME, 0, 0, g));
	ASSERT_EQ(0, stop_ch(self->fd, 0));
}

/* ---- exact delivery ---- */

TEST_F_TIMEOUT(pump, delivery_exact_one_hour, 300)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	const struct ipump_event *e;

	program_and_start(_metadata, self, 0, &p);
	run_ms(_metadata, self, 3600000);
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1 * NL_PER_ML, st.rate_nl_per_h);
	EXPECT_EQ(1000000, st.delivered_nl);
	EXPECT_EQ(40000, st.step_count);
	EXPECT_EQ(19000000, st.reservoir_nl);
	/* counted at the last delivery tick: at most 1 s behind */
	EXPECT_LE(st.infused_nl, 1000000);
	EXPECT_GE(st.infused_nl, 1000000 - 300);
	EXPECT_LE(st.dose_1h_nl, 1000000);
	EXPECT_GE(st.dose_1h_nl, 1000000 - 300);
	EXPECT_EQ(st.dose_1h_nl, st.dose_4h_nl);
	drain(_metadata, self);
	ASSERT_EQ(0, stop_ch(self->fd, 0));
	events(_metadata, self);
	e = find_ev(self, IPUMP_EVENT_STOPPED);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(IPUMP_CAUSE_COMMAND, e->value[0]);
	EXPECT_EQ(1000000, e->value[2]);
}

/* ---- 20. the lease holder killed, not closed ---- */

/*
 * A console process that dies (SIGKILL mid-bolus) loses its lease exactly
 * like one that closes its file: the kernel closes the file for it.
 */
TEST_F_TIMEOUT(pump, lease_lost_when_console_killed, 120)
{
	struct ipump_programme p = prog_pca(1 * NL_PER_ML, 0, 500 * NL_PER_UL,
					    10 * NL_PER_ML, 600000, 4);
	struct ipump_channel_status st;
	int ready[2], status_wait;
	__u64 gen;
	pid_t pid;
	char c;

	gen = status(_metadata, self->fd, 0).generation;
	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* the console: its own open file, lease, start, bolus, wait */
		int fd = open(self->c.dev, O_RDWR | O_CLOEXEC);

		if (fd < 0 || acquire(fd, 0, LEASE_MS) || start_ch(fd, 0, gen) ||
		    demand(fd, 0))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the console did not start");
	close(ready[0]);
	advance(_metadata, self, 10000);
	st = status(_metadata, self->fd, 0);
	ASSERT_EQ(IPUMP_STATE_BOLUS, st.state);
	ASSERT_EQ(IPUMP_LEASE_HELD, st.lease);

	drain(_metadata, self);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status_wait, 0));
	ASSERT_TRUE(WIFSIGNALED(status_wait));

	/* no time has passed on the card clock: the loss is immediate */
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, st.state);
	EXPECT_TRUE(st.alarms & BIT64(IPUMP_ALARM_LEASE_LOST));
	EXPECT_EQ(IPUMP_LEASE_ORPHANED, st.lease);
	EXPECT_EQ(0, st.rate_nl_per_h);
	events(_metadata, self);
	EXPECT_NE(NULL, find_ev(self, IPUMP_EVENT_BOLUS_CANCELLED));
	EXPECT_NE(NULL, find_ev(self, IPUMP_EVENT_LEASE_LOST));

	/* the paired success: a new console takes over and restarts */
	EXPECT_EQ(-EOWNERDEAD, acquire(self->fd, 0, LEASE_MS));
	ASSERT_EQ(0, takeover(self->fd, 0, LEASE_MS));
	self->lease_fd[0] = self->fd;
	ASSERT_EQ(0, ack_ch(self->fd, 0));
	ASSERT_EQ(0, start_ch(self->fd, 0, gen));
	EXPECT_EQ(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
}

/* ---- 21. racing consoles ---- */

#define RACE_THREADS	4
#define RACE_CALLS	400

struct race_arg {
	const char *dev;
	unsigned int seed;
	int accepted;
};

/* Random therapy commands from one thread, each with its own open file. */
static void *race_thread(void *data)
{
	struct race_arg *a = data;
	int fd = open(a->dev, O_RDWR | O_CLOEXEC);
	struct ipump_channel_status st;
	unsigned int i;
	__u64 gen;

	if (fd < 0)
		return NULL;
	for (i = 0; i < RACE_CALLS; i++) {
		int r = rand_r(&a->seed) % 9, err = 0;

		if (ipt_status(fd, 0, &st))
			break;
		gen = st.generation;
		switch (r) {
		case 0: err = acquire(fd, 0, LEASE_MS); break;
		case 1: err = takeover(fd, 0, LEASE_MS); break;
		case 2: err = start_ch(fd, 0, gen); break;
		case 3: err = stop_ch(fd, 0); break;
		case 4: err = pause_ch(fd, 0); break;
		case 5: err = ipt_chcmd(fd, IPUMP_IOC_RESUME, 0, 0, gen); break;
		case 6: err = demand(fd, 0); break;
		case 7: err = ack_ch(fd, 0); break;
		default: err = release(fd, 0); break;
		}
		if (!err)
			a->accepted++;
	}
	close(fd);
	return NULL;
}

struct race_log {
	__u64 next;		/* the seq the next record must have, 0: any */
	__u32 last_state;	/* channel 0's last STATE_CHANGED, or -1 */
	int overflows;
	int bad;
};

/*
 * Sequence numbers without gaps, except a gap an OVERFLOW record names
 * exactly (CONTRACTS.md: loss is never a silent gap).
 */
static void race_log_take(struct race_log *l, const struct ipump_event *ev,
			  int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (ev[i].type == IPUMP_EVENT_OVERFLOW) {
			if (l->next && ev[i].value[1] != l->next)
				l->bad++;
			l->next = ev[i].value[2] + 1;
			l->overflows++;
			l->last_state = -1;	/* may have been lost */
			continue;
		}
		if (l->next && ev[i].seq != l->next)
			l->bad++;
		l->next = ev[i].seq + 1;
		if (ev[i].type == IPUMP_EVENT_STATE_CHANGED && ev[i].channel == 0)
			l->last_state = ev[i].value[0];
	}
}

TEST_F_TIMEOUT(pump, racing_consoles_keep_state_and_log_consistent, 300)
{
	struct ipump_programme p = prog_pca(1 * NL_PER_ML, 0, 10 * NL_PER_UL,
					    10 * NL_PER_ML, 300000, 12);
	struct race_log log = { .last_state = -1 };
	struct race_arg args[RACE_THREADS];
	bool joined[RACE_THREADS] = { false };
	pthread_t th[RACE_THREADS];
	struct ipump_channel_status st;
	int i, n, accepted = 0;
	__u64 gen = 0;

	ASSERT_EQ(0, set_prog(self->fd, 0, &gen, &p));
	drain(_metadata, self);
	for (i = 0; i < RACE_THREADS; i++) {
		args[i] = (struct race_arg){ .dev = self->c.dev, .seed = 7 + i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, race_thread, &args[i]));
	}
	/* read while they race, so the queue rarely overflows */
	for (;;) {
		struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
		bool running = false;

		for (i = 0; i < RACE_THREADS; i++) {
			if (!joined[i])
				joined[i] = !pthread_tryjoin_np(th[i], NULL);
			running |= !joined[i];
		}
		poll(&pfd, 1, 20);
		n = events(_metadata, self);
		race_log_take(&log, self->ev, n);
		if (!running && !n)
			break;
	}
	for (i = 0; i < RACE_THREADS; i++)
		accepted += args[i].accepted;
	ksft_print_msg("racing consoles: %d calls, %d accepted, %d reader overflows\n",
		       RACE_THREADS * RACE_CALLS, accepted, log.overflows);
	EXPECT_LT(RACE_THREADS, accepted);	/* not everything refused */
	EXPECT_EQ(0, log.bad);

	/* every file is closed: nobody holds the lease any more */
	st = status(_metadata, self->fd, 0);
	EXPECT_NE(IPUMP_LEASE_MINE, st.lease);
	EXPECT_NE(IPUMP_LEASE_HELD, st.lease);
	if (log.last_state != (__u32)-1)
		EXPECT_EQ(st.state, log.last_state);
	/* the paired success: the channel still takes commands normally */
	ASSERT_EQ(0, stop_ch(self->fd, 0));
}

/* ---- 22. suspend: a wakeup source while delivering ---- */

/* The card's wakeup source ("ipumpN" in /sys/class/wakeup): its path. */
static int find_wakeup(const char *card, char *path, size_t len)
{
	char name_path[128], name[64];
	int i;

	for (i = 0; i < 4096; i++) {
		snprintf(name_path, sizeof(name_path),
			 "/sys/class/wakeup/wakeup%d/name", i);
		if (ipt_read_str(name_path, name, sizeof(name)))
			continue;
		if (!strcmp(name, card)) {
			snprintf(path, len, "/sys/class/wakeup/wakeup%d", i);
			return 0;
		}
	}
	return -ENOENT;
}

static unsigned long long wakeup_active_ms(MD, const char *dir)
{
	char path[160];
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "%s/active_time_ms", dir);
	ASSERT_EQ(0, ipt_read_ull(path, &v));
	return v;
}

/*
 * While a channel delivers, the card holds a wakeup source, so a system
 * suspend cannot stop therapy behind everyone's back; stopped, it lets go.
 */
TEST_F_TIMEOUT(pump, wakeup_source_held_while_delivering, 60)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS,
					      1 * NL_PER_ML, 0);
	char dir[128];

	ASSERT_EQ(0, find_wakeup(self->c.card, dir, sizeof(dir)))
		TH_LOG("no wakeup source named %s", self->c.card);
	EXPECT_EQ(0, wakeup_active_ms(_metadata, dir));
	program_and_start(_metadata, self, 0, &p);
	usleep(50000);
	EXPECT_LT(0, wakeup_active_ms(_metadata, dir));
	ASSERT_EQ(0, stop_ch(self->fd, 0));
	EXPECT_EQ(0, wakeup_active_ms(_metadata, dir));
}

/*
 * A plain write to /sys/power/state while a channel delivers is refused
 * (EBUSY) and the channel keeps running; a start is not slipped in while
 * the system goes to sleep; stopped, the system may sleep. pm_test
 * "freezer" (CONFIG_PM_DEBUG, on in every kernel the tests run on) goes as
 * far as freezing the tasks and comes back, so the VM does not sleep.
 */
#define PM_TEST		"/sys/power/pm_test"
#define PM_TEST_DELAY	"/sys/module/suspend/parameters/pm_test_delay"

TEST_F_TIMEOUT(pump, system_sleep_refused_while_delivering, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS,
					      1 * NL_PER_ML, 0);
	struct ipump_channel_status st;
	int err;

	ASSERT_EQ(0, ipt_write_str(PM_TEST, "freezer"))
		TH_LOG("%s: the kernel needs CONFIG_PM_DEBUG for this test", PM_TEST);
	ASSERT_EQ(0, ipt_write_ll(PM_TEST_DELAY, 0));
	program_and_start(_metadata, self, 0, &p);
	drain(_metadata, self);

	err = ipt_write_str("/sys/power/state", "freeze");
	EXPECT_EQ(-EBUSY, err) TH_LOG("sleep while delivering: %s", strerror(-err));
	st = status(_metadata, self->fd, 0);
	EXPECT_EQ(IPUMP_STATE_RUNNING, st.state);
	EXPECT_EQ(1 * NL_PER_ML, st.rate_nl_per_h);
	run_ms(_metadata, self, 36000);	/* 10000 nL at 1 mL/h */
	EXPECT_LE(st.delivered_nl + 9975, status(_metadata, self->fd, 0).delivered_nl);

	ASSERT_EQ(0, stop_ch(self->fd, 0));
	err = ipt_write_str("/sys/power/state", "freeze");
	EXPECT_EQ(0, err) TH_LOG("sleep with every channel stopped: %s", strerror(-err));
	/* after the sleep, therapy starts again as before */
	ASSERT_EQ(0, start_ch(self->fd, 0, st.generation));
	EXPECT_EQ(IPUMP_STATE_RUNNING, status(_metadata, self->fd, 0).state);
	ASSERT_EQ(0, stop_ch(self->fd, 0));
	EXPECT_EQ(0, ipt_write_str(PM_TEST, "none"));
}

TEST_HARNESS_MAIN
