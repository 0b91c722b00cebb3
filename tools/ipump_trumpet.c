// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_trumpet: delivery accuracy of one channel as the IEC 60601-2-24
 * trumpet curve (Documentation/safety/delivery-accuracy.rst).
 *
 * Programmes a channel at a set rate through /dev/ipumpN (lease, programme,
 * start), lets it run for the test period (default 120 min), samples the
 * card's delivered-volume counter (IPUMP_IOC_GET_CHANNEL_STATUS
 * delivered_nl) every sampling interval (default 30 s), stops the channel
 * and computes, over the analysis period (the last 60 min: the second
 * hour):
 *
 *   - the overall percentage flow error A = 100 (Q - r) / r, Q the mean
 *     flow over the analysis period, r the set rate;
 *   - for each observation window P of 2, 5, 11, 19 and 31 min (m = P / S
 *     sampling intervals), the moving windows j = 1 .. k, k = T/S - m + 1,
 *     Ep(j) = 100/m * sum_{i=j}^{j+m-1} (Q_i - r) / r, and their maximum
 *     Ep(max) and minimum Ep(min).
 *
 * Q_i is the flow of sampling interval i: the counter's increase divided by
 * the interval's length. The length is taken from the card's own
 * timestamps (timestamp_ns of the status), so sleeping late on a real card
 * does not count as a flow error; on the simulated card every interval is
 * exactly S. With equal intervals Ep(j) is the window's volume error
 * relative to r * P.
 *
 * On the simulated card (--sim NAME) time moves by writing the interval to
 * the simulator's debugfs advance_ms, so two hours take seconds. On a real
 * card the tool sleeps in real time (2 hours). Needs write access to the
 * device (and debugfs for --sim): root, or the ipump group.
 *
 * Output: PREFIX-samples.csv (every sample), PREFIX-curve.csv (the trumpet
 * curve), and a summary on stdout. Exit status: 0 when every window is
 * within the goal of issue 8 (the larger of one motor step and 0.5 %, the
 * step taken relative to the window's volume), 1 when one is not, 2 on an
 * error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ipump.h>

#define SIM_CFS		"/sys/kernel/config/ipump-sim/"
#define SIM_DBG		"/sys/kernel/debug/ipump_sim/"
#define NS_PER_S	1000000000ULL
#define NS_PER_MS	1000000ULL

static const unsigned int windows_min[] = { 2, 5, 11, 19, 31 };
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NWIN ARRAY_SIZE(windows_min)

struct sample {
	uint64_t t_ns;		/* card clock, since the start */
	uint64_t delivered_nl;	/* since the start */
	uint32_t state;
	uint64_t alarms;
};

struct curve {
	unsigned int p_min, m, k;
	double ep_max, ep_min, tol;
	bool ok;
};

static struct {
	const char *dev, *sim, *prefix, *label;
	unsigned int channel;
	uint64_t rate;		/* nL/h */
	unsigned int duration_min, analysis_min, interval_s;
	bool keep_running;
} opt = {
	.prefix = "trumpet",
	.duration_min = 120,
	.analysis_min = 60,
	.interval_s = 30,
};

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ipump_trumpet: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
"usage: ipump_trumpet --rate RATE [options] (--dev /dev/ipumpN | --sim NAME)\n"
"  --rate RATE        set rate: a number with a unit, nL/h, uL/h or mL/h\n"
"                     (\"1mL/h\", \"0.1mL/h\", \"250uL/h\"); exact, never rounded\n"
"  --dev PATH         the card's character device\n"
"  --sim NAME         simulated card NAME (configfs/debugfs name): advance its\n"
"                     virtual clock instead of sleeping; --dev defaults to its\n"
"                     /dev/ipumpN\n"
"  --channel N        channel (default 0)\n"
"  --duration MIN     test period, minutes (default 120)\n"
"  --analysis MIN     analysis period at its end, minutes (default 60)\n"
"  --interval S       sampling interval, seconds (default 30)\n"
"  --csv PREFIX       write PREFIX-samples.csv and PREFIX-curve.csv\n"
"                     (default \"trumpet\")\n"
"  --label TEXT       a label for the summary\n"
"Exit: 0 every window within max(one motor step, 0.5 %%), 1 not, 2 error.\n");
	exit(2);
}

/* "1mL/h", "0.1 mL/h", "250uL/h", "1000000nL/h", "1000000": exact nL/h */
static int parse_rate(const char *s, uint64_t *out)
{
	static const struct { const char *unit; uint64_t scale; } units[] = {
		{ "nl/h", 1 }, { "ul/h", 1000 }, { "ml/h", 1000000 },
	};
	uint64_t whole = 0, frac = 0, fdiv = 1, scale = 0;
	const char *p = s;
	unsigned int i;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (whole > UINT32_MAX)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (fdiv >= 1000000000ULL)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			fdiv *= 10;
		}
	}
	while (*p == ' ')
		p++;
	if (!*p) {
		scale = 1;
	} else {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (!strcasecmp(p, units[i].unit))
				scale = units[i].scale;
	}
	if (!scale)
		return -EINVAL;
	if ((frac * scale) % fdiv)
		return -EDOM;		/* not a whole number of nL/h */
	*out = whole * scale + frac * scale / fdiv;
	if (!*out || *out > UINT32_MAX)
		return -ERANGE;
	return 0;
}

/* a plain decimal count (minutes, seconds, a channel) */
static unsigned int parse_uint(const char *s, const char *what)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > 100000)
		fail("%s %s: want a whole number", what, s);
	return (unsigned int)v;
}

static int xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg)) {
		int err = errno;

		fprintf(stderr, "ipump_trumpet: %s: %s\n", what, strerror(err));
		return -err;
	}
	return 0;
}

static int chcmd(int fd, unsigned long cmd, uint32_t value, uint64_t gen,
		 const char *what)
{
	struct ipump_channel_cmd c;

	memset(&c, 0, sizeof(c));
	c.channel = opt.channel;
	c.value = value;
	c.generation = gen;
	return xioctl(fd, cmd, &c, what);
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void sim_advance(unsigned int ms)
{
	char path[256], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), SIM_DBG "%s/advance_ms", opt.sim);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("%s: %s", path, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%u\n", ms);
	if (write(fd, buf, n) != n)
		fail("advancing the virtual clock: %s", strerror(errno));
	close(fd);
}

static void get_status(int fd, struct ipump_channel_status *st)
{
	memset(st, 0, sizeof(*st));
	st->channel = opt.channel;
	if (xioctl(fd, IPUMP_IOC_GET_CHANNEL_STATUS, st, "channel status"))
		exit(2);
}

/* lease, programme at opt.rate (continuous, unlimited volume), start */
static void start_channel(int fd)
{
	struct ipump_programme_req pr;
	struct ipump_limits_req lr;
	struct ipump_programme *p = &pr.programme;

	if (chcmd(fd, IPUMP_IOC_LEASE_ACQUIRE, 60000, 0, "taking the lease"))
		exit(2);
	memset(&lr, 0, sizeof(lr));
	lr.channel = opt.channel;
	if (xioctl(fd, IPUMP_IOC_GET_HARD_LIMITS, &lr, "hard limits"))
		exit(2);
	memset(&pr, 0, sizeof(pr));
	pr.channel = opt.channel;
	/* the generation the new programme is based on (ENODATA: none yet) */
	if (ioctl(fd, IPUMP_IOC_GET_PROGRAMME, &pr) && errno != ENODATA)
		fail("reading the programme: %s", strerror(errno));
	memset(p, 0, sizeof(*p));
	p->route = IPUMP_ROUTE_INTRAVENOUS;
	p->flags = IPUMP_PROG_VTBI_UNLIMITED;
	p->basal_rate_nl_per_h = (uint32_t)opt.rate;
	p->max_dose_1h_nl = lr.limits.max_dose_1h_nl;
	p->max_dose_4h_nl = lr.limits.max_dose_4h_nl;
	p->lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	if (xioctl(fd, IPUMP_IOC_SET_PROGRAMME, &pr, "setting the programme"))
		exit(2);
	if (chcmd(fd, IPUMP_IOC_START, 0, pr.generation, "starting"))
		exit(2);
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / NS_PER_S),
		.tv_nsec = (long)(deadline_ns % NS_PER_S),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Ep over samples a..a+m: the window's volume error against r * its time */
static double window_error(const struct sample *s, unsigned int a,
			   unsigned int m)
{
	double vol = (double)(s[a + m].delivered_nl - s[a].delivered_nl);
	double exp = (double)opt.rate * (double)(s[a + m].t_ns - s[a].t_ns) /
		     (3600.0 * NS_PER_S);

	return 100.0 * (vol - exp) / exp;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "dev", required_argument, NULL, 'd' },
		{ "sim", required_argument, NULL, 's' },
		{ "channel", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'T' },
		{ "analysis", required_argument, NULL, 'A' },
		{ "interval", required_argument, NULL, 'S' },
		{ "csv", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct ipump_channel_status st;
	struct ipump_card_info info;
	struct curve cv[NWIN];
	struct sample *smp;
	char path[512], devbuf[80], buf[64];
	unsigned int n, i, a, w, nfail = 0;
	uint64_t t0_ns, d0_nl, mono0;
	double overall, overall_all;
	int fd, c, err;
	FILE *f;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			err = parse_rate(optarg, &opt.rate);
			if (err)
				fail("--rate %s: %s", optarg, err == -EDOM ?
				     "not a whole number of nL/h" :
				     "want a rate above 0 with a unit: nL/h, uL/h or mL/h");
			break;
		case 'd':
			opt.dev = optarg;
			break;
		case 's':
			opt.sim = optarg;
			break;
		case 'c':
			opt.channel = parse_uint(optarg, "--channel");
			break;
		case 'T':
			opt.duration_min = parse_uint(optarg, "--duration");
			break;
		case 'A':
			opt.analysis_min = parse_uint(optarg, "--analysis");
			break;
		case 'S':
			opt.interval_s = parse_uint(optarg, "--interval");
			break;
		case 'o':
			opt.prefix = optarg;
			break;
		case 'l':
			opt.label = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !opt.rate || (!opt.dev && !opt.sim) ||
	    !opt.interval_s || !opt.analysis_min ||
	    opt.analysis_min > opt.duration_min ||
	    (opt.analysis_min * 60) % opt.interval_s ||
	    (opt.duration_min * 60) % opt.interval_s)
		usage();
	for (w = 0; w < NWIN; w++)
		if ((windows_min[w] * 60) % opt.interval_s)
			fail("the interval must divide every observation window (2, 5, 11, 19, 31 min)");

	if (!opt.dev) {
		snprintf(path, sizeof(path), SIM_CFS "%s/card", opt.sim);
		if (read_line(path, buf, sizeof(buf)) || !buf[0])
			fail("%s: no live simulated card %s", path, opt.sim);
		snprintf(devbuf, sizeof(devbuf), "/dev/%s", buf);
		opt.dev = devbuf;
	}
	fd = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("%s: %s", opt.dev, strerror(errno));
	memset(&info, 0, sizeof(info));
	if (xioctl(fd, IPUMP_IOC_GET_CARD_INFO, &info, "card info"))
		exit(2);
	if (opt.channel >= info.num_channels)
		fail("%s has %u channels", opt.dev, info.num_channels);
	if (info.clock == IPUMP_CLOCK_SIMULATED && !opt.sim)
		fail("%s is a simulated card: give --sim NAME (its clock only moves when advanced)",
		     opt.dev);

	n = opt.duration_min * 60 / opt.interval_s;
	smp = calloc(n + 1, sizeof(*smp));
	if (!smp)
		fail("out of memory");

	start_channel(fd);
	get_status(fd, &st);
	t0_ns = st.timestamp_ns;
	d0_nl = st.delivered_nl;
	mono0 = mono_ns();
	smp[0].state = st.state;
	fprintf(stderr, "ipump_trumpet: %s channel %u at %" PRIu64 " nL/h, %u nL/step, "
		"%u min, a sample every %u s (%s)\n", opt.dev, opt.channel, opt.rate,
		info.nl_per_step, opt.duration_min, opt.interval_s,
		opt.sim ? "virtual time" : "real time");

	for (i = 1; i <= n; i++) {
		if (opt.sim)
			sim_advance(opt.interval_s * 1000);
		else
			sleep_until(mono0 + (uint64_t)i * opt.interval_s * NS_PER_S);
		get_status(fd, &st);
		smp[i].t_ns = st.timestamp_ns - t0_ns;
		smp[i].delivered_nl = st.delivered_nl - d0_nl;
		smp[i].state = st.state;
		smp[i].alarms = st.alarms;
		if (st.state != IPUMP_STATE_RUNNING) {
			fprintf(stderr, "ipump_trumpet: the channel left running at %.1f min "
				"(state %u, alarms %#" PRIx64 "): no valid curve\n",
				smp[i].t_ns / 60e9, st.state, (uint64_t)st.alarms);
			chcmd(fd, IPUMP_IOC_STOP, 0, 0, "stopping");
			exit(2);
		}
		if (chcmd(fd, IPUMP_IOC_LEASE_RENEW, 0, 0, "renewing the lease"))
			exit(2);
	}
	chcmd(fd, IPUMP_IOC_STOP, 0, 0, "stopping");
	chcmd(fd, IPUMP_IOC_LEASE_RELEASE, 0, 0, "releasing the lease");
	close(fd);

	/* the analysis period: the last analysis_min minutes */
	a = n - opt.analysis_min * 60 / opt.interval_s;
	{
		unsigned int na = n - a;
		double exp_a = (double)opt.rate * (smp[n].t_ns - smp[a].t_ns) / (3600.0 * NS_PER_S);
		double exp_all = (double)opt.rate * smp[n].t_ns / (3600.0 * NS_PER_S);

		overall = 100.0 * ((double)(smp[n].delivered_nl - smp[a].delivered_nl) - exp_a) / exp_a;
		overall_all = 100.0 * ((double)smp[n].delivered_nl - exp_all) / exp_all;

		for (w = 0; w < NWIN; w++) {
			struct curve *k = &cv[w];
			unsigned int j;
			double step_pct;

			k->p_min = windows_min[w];
			k->m = k->p_min * 60 / opt.interval_s;
			k->ep_max = -INFINITY;
			k->ep_min = INFINITY;
			k->k = k->m <= na ? na - k->m + 1 : 0;
			for (j = 0; j < k->k; j++) {
				double e = window_error(smp, a + j, k->m);

				if (e > k->ep_max)
					k->ep_max = e;
				if (e < k->ep_min)
					k->ep_min = e;
			}
			/* one step relative to the window's volume at the set rate */
			step_pct = 100.0 * info.nl_per_step /
				   ((double)opt.rate * k->p_min / 60.0);
			k->tol = step_pct > 0.5 ? step_pct : 0.5;
			k->ok = k->k && fabs(k->ep_max) <= k->tol + 1e-9 &&
				fabs(k->ep_min) <= k->tol + 1e-9;
			if (!k->ok)
				nfail++;
		}
	}

	snprintf(path, sizeof(path), "%s-samples.csv", opt.prefix);
	f = fopen(path, "we");
	if (!f)
		fail("%s: %s", path, strerror(errno));
	fprintf(f, "t_min,delivered_nl,interval_nl,flow_ml_per_h,state\n");
	for (i = 0; i <= n; i++) {
		double flow = 0;
		uint64_t dv = i ? smp[i].delivered_nl - smp[i - 1].delivered_nl : 0;

		if (i && smp[i].t_ns > smp[i - 1].t_ns)
			flow = (double)dv / 1e6 * 3600.0 * NS_PER_S /
			       (double)(smp[i].t_ns - smp[i - 1].t_ns);
		fprintf(f, "%.3f,%" PRIu64 ",%" PRIu64 ",%.6f,%u\n", smp[i].t_ns / 60e9,
			smp[i].delivered_nl, dv, flow, smp[i].state);
	}
	fclose(f);

	snprintf(path, sizeof(path), "%s-curve.csv", opt.prefix);
	f = fopen(path, "we");
	if (!f)
		fail("%s: %s", path, strerror(errno));
	fprintf(f, "window_min,windows,ep_max_pct,ep_min_pct,overall_pct,goal_pct,within_goal\n");
	for (w = 0; w < NWIN; w++)
		fprintf(f, "%u,%u,%.4f,%.4f,%.4f,%.4f,%s\n", cv[w].p_min, cv[w].k,
			cv[w].ep_max, cv[w].ep_min, overall, cv[w].tol,
			cv[w].ok ? "yes" : "no");
	fclose(f);

	printf("ipump_trumpet: %s%s%s\n", opt.label ? opt.label : "",
	       opt.label ? ": " : "", opt.dev);
	printf("set rate:        %" PRIu64 " nL/h (%.4g mL/h)\n", opt.rate, opt.rate / 1e6);
	printf("motor step:      %u nL\n", info.nl_per_step);
	printf("clock:           %s\n", info.clock == IPUMP_CLOCK_SIMULATED ?
	       "simulated (virtual time)" : "CLOCK_BOOTTIME (real time)");
	printf("test period:     %u min, sampling interval %u s, analysis period: last %u min\n",
	       opt.duration_min, opt.interval_s, opt.analysis_min);
	printf("delivered:       %" PRIu64 " nL in %.3f min\n", smp[n].delivered_nl,
	       smp[n].t_ns / 60e9);
	printf("overall error A: %+.4f %% (analysis period), %+.4f %% (whole test)\n",
	       overall, overall_all);
	printf("| window min | windows | Ep(max) %% | Ep(min) %% | goal %% | within |\n");
	printf("|---:|---:|---:|---:|---:|---|\n");
	for (w = 0; w < NWIN; w++)
		printf("| %u | %u | %+.4f | %+.4f | %.4f | %s |\n", cv[w].p_min,
		       cv[w].k, cv[w].ep_max, cv[w].ep_min, cv[w].tol,
		       cv[w].ok ? "yes" : "NO");
	printf("result: %s\n", nfail ? "some windows outside the goal" :
	       "every window within the goal");
	free(smp);
	return nfail ? 1 : 0;
}
