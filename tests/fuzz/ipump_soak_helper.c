// SPDX-License-Identifier: GPL-2.0-only
/*
 * The small programs tests/fuzz/soak.sh runs in the VM:
 *
 *   ipump_soak_helper console DEV CH MODE BOLUS READYFILE
 *	A console: opens DEV read-write, takes CH's lease (60 s), programmes
 *	1 mL/h intravenous with a 0.5 mL/h KVO rate and lease-loss mode MODE
 *	(0 stop, 1 KVO, 2 continue-basal), starts, with BOLUS = 1 starts a
 *	clinician bolus (1 mL at 10 mL/h, so it is still running), checks the
 *	state, creates READYFILE and blocks in poll() reading its events.
 *	When the card goes it must read CARD_REMOVED last, then ENODEV, and
 *	poll() must say POLLHUP: exit 0, else 1.
 *   ipump_soak_helper reader DEV READYFILE
 *	A read-only reader with an all-pass mask, blocked in poll(); the same
 *	end checks; prints what it saw (records, lease-loss records).
 *   ipump_soak_helper check-lease-loss DEV CH MODE
 *	After the console of CH was killed mid-bolus: the channel must be in
 *	MODE's safe state (stop: alarm-stopped, motor stopped; KVO: kvo at the
 *	KVO rate; continue-basal: running at the basal rate), no bolus, the
 *	lease-lost alarm raised and the lease orphaned. Exit 0 or 1.
 *   ipump_soak_helper nlmon CARD CH READYFILE
 *	A netlink tool attached: joins the monitor group and takes CH's lease
 *	on card CARD over its socket, then blocks until SIGTERM or until the
 *	family goes away; prints the monitor messages it got.
 */
#include "fuzz_common.h"

#define BASAL	1000000U	/* 1 mL/h */
#define KVO	500000U		/* 0.5 mL/h */

static int die(const char *what)
{
	fprintf(stderr, "soak_helper: %s: %s\n", what, strerror(errno));
	return 1;
}

static void ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0)
		close(fd);
}

static int chcmd(int fd, unsigned long cmd, unsigned int ch, uint32_t value,
		 uint64_t gen)
{
	struct ipump_channel_cmd c = { .channel = ch, .value = value,
				       .generation = gen };

	return ioctl(fd, cmd, &c) ? -errno : 0;
}

/* Blocks in poll() until the card is gone; checks how the stream ends. */
static int wait_removed(int fd, const char *who, unsigned int ch)
{
	struct ipump_event ev[64];
	unsigned long records = 0, lease_lost = 0, cancelled = 0;
	bool removed = false, enodev = false, hup = false, after = false;
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLPRI };
	ssize_t n;
	int i;

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return die("poll");
		}
		if (p.revents & (POLLHUP | POLLERR)) {
			hup = true;
			if (!removed)
				fprintf(stderr, "%s: POLLHUP before CARD_REMOVED\n", who);
		}
		n = read(fd, ev, sizeof(ev));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENODEV) {
				enodev = true;
				if (!hup) {	/* one more poll must say HUP */
					p.revents = 0;
					poll(&p, 1, 1000);
					hup = p.revents & (POLLHUP | POLLERR);
				}
				break;
			}
			return die("read");
		}
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			records++;
			if (removed)
				after = true;
			if (ev[i].type == IPUMP_EVENT_CARD_REMOVED)
				removed = ev[i].value[0] == ev[i].seq;
			if (ev[i].type == IPUMP_EVENT_LEASE_LOST && ev[i].channel == ch)
				lease_lost++;
			if (ev[i].type == IPUMP_EVENT_BOLUS_CANCELLED &&
			    ev[i].value[1] == IPUMP_CAUSE_LEASE_LOST)
				cancelled++;
		}
	}
	printf("%s: records %lu card_removed %d enodev %d pollhup %d lease_lost %lu bolus_cancelled_lease_lost %lu\n",
	       who, records, removed, enodev, hup, lease_lost, cancelled);
	if (!removed || after || !enodev || !hup) {
		fprintf(stderr, "%s: the stream did not end with CARD_REMOVED, ENODEV and POLLHUP\n",
			who);
		return 1;
	}
	return 0;
}

static int console(int argc, char **argv)
{
	struct ipump_programme_req req = { 0 };
	struct ipump_bolus_req b = { 0 };
	struct ipump_channel_status st;
	unsigned int ch, mode, bolus;
	int fd, err;

	if (argc != 7)
		return 2;
	ch = (unsigned int)atoi(argv[3]);
	mode = (unsigned int)atoi(argv[4]);
	bolus = (unsigned int)atoi(argv[5]);
	fd = open(argv[2], O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return die(argv[2]);
	err = chcmd(fd, IPUMP_IOC_LEASE_ACQUIRE, ch, 60000, 0);
	if (err == -EOWNERDEAD)
		err = chcmd(fd, IPUMP_IOC_LEASE_TAKEOVER, ch, 60000, 0);
	if (err) {
		errno = -err;
		return die("lease");
	}
	if (ipt_status(fd, ch, &st))
		return die("status");
	req.channel = ch;
	req.generation = st.generation;
	req.programme.route = IPUMP_ROUTE_INTRAVENOUS;
	req.programme.flags = IPUMP_PROG_VTBI_UNLIMITED;
	req.programme.basal_rate_nl_per_h = BASAL;
	req.programme.kvo_rate_nl_per_h = KVO;
	req.programme.max_dose_1h_nl = 30000000;
	req.programme.max_dose_4h_nl = 120000000;
	req.programme.lease_loss_mode = mode;
	if (ioctl(fd, IPUMP_IOC_SET_PROGRAMME, &req))
		return die("programme");
	err = chcmd(fd, IPUMP_IOC_START, ch, 0, req.generation);
	if (err) {
		errno = -err;
		return die("start");
	}
	if (bolus) {
		b.channel = ch;
		b.kind = IPUMP_BOLUS_CLINICIAN;
		b.volume_nl = 1000000;
		b.rate_nl_per_h = 10000000;
		if (ioctl(fd, IPUMP_IOC_BOLUS, &b))
			return die("bolus");
	}
	if (ipt_status(fd, ch, &st))
		return die("status");
	if (st.state != (bolus ? IPUMP_STATE_BOLUS : IPUMP_STATE_RUNNING)) {
		fprintf(stderr, "console: state %u after start%s\n", st.state,
			bolus ? " and bolus" : "");
		return 1;
	}
	ready(argv[6]);
	return wait_removed(fd, "console", ch);
}

static int reader(int argc, char **argv)
{
	struct ipump_event_mask m = { .min_priority = IPUMP_PRIO_INFO };
	int fd, t;

	if (argc != 4)
		return 2;
	for (t = 1; t < IPUMP_EVENT_TYPE_COUNT; t++)
		m.types |= IPUMP_EVENT_BIT(t);
	fd = open(argv[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return die(argv[2]);
	if (ioctl(fd, IPUMP_IOC_SET_EVENT_MASK, &m))
		return die("mask");
	ready(argv[3]);
	return wait_removed(fd, "reader", 1);
}

static const char *const mode_name[] = { "stop", "kvo", "continue-basal" };

static int check_lease_loss(int argc, char **argv)
{
	struct ipump_channel_status st;
	unsigned int ch, mode, want_state, want_rate;
	int fd, bad = 0;

	if (argc != 5)
		return 2;
	ch = (unsigned int)atoi(argv[3]);
	mode = (unsigned int)atoi(argv[4]);
	if (mode > 2)
		return 2;
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return die(argv[2]);
	if (ipt_status(fd, ch, &st))
		return die("status");
	close(fd);
	want_state = mode == IPUMP_LEASE_LOSS_STOP ? IPUMP_STATE_ALARM_STOPPED :
		     mode == IPUMP_LEASE_LOSS_KVO ? IPUMP_STATE_KVO :
		     IPUMP_STATE_RUNNING;
	want_rate = mode == IPUMP_LEASE_LOSS_STOP ? 0 :
		    mode == IPUMP_LEASE_LOSS_KVO ? KVO : BASAL;
	if (st.state != want_state) {
		fprintf(stderr, "lease loss (%s): state %u, expected %u\n",
			mode_name[mode], st.state, want_state);
		bad++;
	}
	if (st.rate_nl_per_h != want_rate) {
		fprintf(stderr, "lease loss (%s): motor rate %u nL/h, expected %u\n",
			mode_name[mode], st.rate_nl_per_h, want_rate);
		bad++;
	}
	if ((mode == IPUMP_LEASE_LOSS_STOP) != !(st.motor & IPUMP_MOTOR_RUNNING) ||
	    (st.motor & IPUMP_MOTOR_BOLUS)) {
		fprintf(stderr, "lease loss (%s): motor bits %#x\n", mode_name[mode],
			st.motor);
		bad++;
	}
	if (!(st.alarms & (1ULL << IPUMP_ALARM_LEASE_LOST)) ||
	    st.priority != IPUMP_PRIO_HIGH) {
		fprintf(stderr, "lease loss (%s): alarms %#llx priority %u: no lease-lost alarm\n",
			mode_name[mode], (unsigned long long)st.alarms, st.priority);
		bad++;
	}
	if (st.lease != IPUMP_LEASE_ORPHANED) {
		fprintf(stderr, "lease loss (%s): lease %u, expected orphaned\n",
			mode_name[mode], st.lease);
		bad++;
	}
	printf("lease-loss %s: state %u rate %u motor %#x alarms %#llx lease %u: %s\n",
	       mode_name[mode], st.state, st.rate_nl_per_h, st.motor,
	       (unsigned long long)st.alarms, st.lease, bad ? "WRONG" : "ok");
	return bad ? 1 : 0;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int nlmon(int argc, char **argv)
{
	static char buf[65536];
	struct fz_nl nl, mon;
	struct fz_nlres res;
	struct fz_msg m;
	unsigned long msgs = 0;
	int grp, err;

	if (argc != 5)
		return 2;
	if (fz_nl_open(&nl) || fz_nl_resolve(&nl) || fz_nl_open(&mon))
		return die("netlink");
	grp = (int)nl.mcgrp;
	if (setsockopt(mon.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)))
		return die("monitor group");
	fz_msg_init(&m, nl.family, 0, IPUMP_CMD_LEASE_ACQUIRE, IPUMP_GENL_VERSION);
	fz_put_u32(&m, IPUMP_A_CARD_ID, (uint32_t)atoi(argv[2]));
	fz_put_u32(&m, IPUMP_A_CHANNEL, (uint32_t)atoi(argv[3]));
	fz_put_u32(&m, IPUMP_A_LEASE_PERIOD_MS, 60000);
	err = fz_nl_do(&nl, &m, &res);
	printf("nlmon: lease on card %s ch %s: %s\n", argv[2], argv[3],
	       err ? strerror(-err) : "held");
	signal(SIGTERM, on_term);
	ready(argv[4]);
	while (!stop) {
		struct pollfd p = { .fd = mon.fd, .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (recv(mon.fd, buf, sizeof(buf), 0) > 0)
			msgs++;
	}
	printf("nlmon: %lu monitor messages\n", msgs);
	fz_nl_close(&mon);
	fz_nl_close(&nl);	/* the lease, on a card long gone, goes too */
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "console"))
		return console(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "reader"))
		return reader(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "check-lease-loss"))
		return check_lease_loss(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "nlmon"))
		return nlmon(argc, argv);
	fprintf(stderr, "usage: ipump_soak_helper console|reader|check-lease-loss|nlmon ...\n");
	return 2;
}
