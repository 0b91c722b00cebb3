// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipumpmon - print the events of infusion-pump cards as they happen, from
 * the "monitor" multicast group of the "ipump" generic netlink family.
 * Documentation/userspace-api/ipump-tools.rst.
 *
 * Nothing is lost silently: the last sequence number of every card is
 * tracked; a socket overrun (ENOBUFS) or a gap in the sequence is filled
 * from the card's log (LOG_GET), and what the log no longer holds is
 * reported as lost for good.
 *
 * Exit status: 0 done (--count reached, --until-alarm saw its alarm, or
 * stopped by a signal without either); 1 error (family missing, permission
 * denied, socket error); 2 bad usage; 3 --timeout expired first, or
 * --count ended an --until-alarm run without the alarm.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "ipump_nl.h"
#include "units.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define EX_OK		0
#define EX_ERROR	1
#define EX_USAGE	2
#define EX_UNMET	3

/* the monitor socket's receive buffer: room for bursts of events */
#define RCVBUF_BYTES	(4 << 20)

static const char *prog = "ipumpmon";

struct card_state {
	uint32_t id;
	int known;		/* last is meaningful */
	uint64_t last;		/* highest seq processed (printed or filtered) */
};

struct mon {
	struct ipn nl;		/* requests and dumps */
	struct nl_sock *msk;	/* the monitor socket */
	int mfd;
	/* options */
	int json;
	int have_card;
	uint32_t card;
	int have_channel;
	uint32_t channel;
	uint64_t types;		/* 0: all */
	uint32_t min_prio;
	uint64_t count;		/* 0: no limit */
	int until_alarm;
	int have_since;
	uint64_t since;
	uint64_t timeout_ms;	/* 0: none */
	/* state */
	struct card_state *cards;
	size_t ncards;
	uint64_t printed;
	int done;
	int status;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipumpmon [--card N] [--channel N] [--type NAME[,NAME...]]\n"
		"                [--min-priority info|low|medium|high] [-j|--json]\n"
		"                [--count N] [--until-alarm] [--since SEQ]\n"
		"                [--timeout DURATION]\n"
		"  One line per event: SEQ TIME ipumpC/CH TYPE PRIORITY key=value...\n"
		"  (TIME: seconds on the card's clock; CH '-' for card-wide events).\n"
		"  -j, --json      one JSON object per line instead\n"
		"  --card, --channel, --type, --min-priority   print only these\n"
		"                  (--channel also shows card-wide events)\n"
		"  --count N       exit 0 after N printed events\n"
		"  --until-alarm   exit 0 on the first high-priority alarm\n"
		"  --since SEQ     first replay each card's log from SEQ, then stream\n"
		"  --timeout D     exit 3 if not done after D (e.g. 30s)\n"
		"  Exit status: 0 done, 1 error, 2 bad usage, 3 timed out or no alarm.\n"
		"  Event types:");
	for (uint32_t t = 1; t < IPUMP_EVENT_TYPE_COUNT; t++)
		fprintf(f, "%s %s", t % 6 == 1 ? "\n   " : "", ipn_event_name(t));
	fprintf(f, "\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ipumpmon --help')\n");
	return EX_USAGE;
}

/* ---- notices: never filtered ---- */

static void notice_overrun(struct mon *m, const char *why)
{
	if (m->json) {
		printf("{\"notice\":\"overrun\",\"why\":\"%s\"}\n", why);
		fprintf(stderr, "%s: overrun: events lost, refilling from the log (%s)\n",
			prog, why);
	} else {
		printf("%s: overrun: events lost, refilling from the log (%s)\n", prog, why);
	}
}

static void notice_gap(struct mon *m, uint32_t card, uint64_t a, uint64_t b)
{
	if (m->json) {
		printf("{\"notice\":\"gap\",\"card\":%u,\"first_seq\":%" PRIu64
		       ",\"last_seq\":%" PRIu64 "}\n", card, a, b);
		fprintf(stderr, "%s: gap in the stream of card %u (seq %" PRIu64 "..%" PRIu64
			"), refilling from the log\n", prog, card, a, b);
	} else {
		printf("%s: gap in the stream of card %u (seq %" PRIu64 "..%" PRIu64
		       "), refilling from the log\n", prog, card, a, b);
	}
}

static void notice_lost(struct mon *m, uint32_t card, uint64_t n, uint64_t a, uint64_t b)
{
	if (m->json) {
		printf("{\"notice\":\"lost\",\"card\":%u,\"count\":%" PRIu64
		       ",\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64 "}\n",
		       card, n, a, b);
		fprintf(stderr, "%s: %" PRIu64 " events lost for good on card %u (seq %"
			PRIu64 "..%" PRIu64 ")\n", prog, n, card, a, b);
	} else {
		printf("%s: %" PRIu64 " events lost for good on card %u (seq %" PRIu64
		       "..%" PRIu64 ")\n", prog, n, card, a, b);
	}
}

static void notice_text(struct mon *m, const char *what, uint32_t card, const char *text)
{
	if (m->json) {
		printf("{\"notice\":\"%s\",\"card\":%u}\n", what, card);
		fprintf(stderr, "%s: card %u: %s\n", prog, card, text);
	} else {
		printf("%s: card %u: %s\n", prog, card, text);
	}
}

/* ---- per-card state ---- */

static struct card_state *card_get(struct mon *m, uint32_t id)
{
	void *p;

	for (size_t i = 0; i < m->ncards; i++)
		if (m->cards[i].id == id)
			return &m->cards[i];
	p = realloc(m->cards, (m->ncards + 1) * sizeof(*m->cards));
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EX_ERROR);
	}
	m->cards = p;
	memset(&m->cards[m->ncards], 0, sizeof(*m->cards));
	m->cards[m->ncards].id = id;
	return &m->cards[m->ncards++];
}

static int wanted_card(struct mon *m, uint32_t id)
{
	return !m->have_card || id == m->card;
}

/* ---- printing ---- */

static int passes(struct mon *m, const struct ipn_event *e)
{
	if (m->have_channel && e->channel != m->channel &&
	    e->channel != IPUMP_CHANNEL_NONE)
		return 0;
	if (m->types && (e->type >= 64 || !(m->types & (1ULL << e->type))))
		return 0;
	if (e->priority < m->min_prio)
		return 0;
	return 1;
}

static int is_high_alarm(const struct ipn_event *e)
{
	return e->type == IPUMP_EVENT_ALARM_RAISED && e->priority == IPUMP_PRIO_HIGH;
}

static void emit(struct mon *m, const struct ipn_event *e)
{
	int alarm_end = m->until_alarm && is_high_alarm(e) &&
			(!m->have_channel || e->channel == m->channel ||
			 e->channel == IPUMP_CHANNEL_NONE);
	char buf[512];

	if (m->done)
		return;
	if (!passes(m, e) && !alarm_end)
		return;
	if (m->json)
		ipn_event_json(e, stdout);
	else
		printf("%s\n", ipn_event_text(e, buf, sizeof(buf)));
	m->printed++;
	if (alarm_end) {
		m->done = 1;
		m->status = EX_OK;
	} else if (m->count && m->printed >= m->count) {
		m->done = 1;
		m->status = m->until_alarm ? EX_UNMET : EX_OK;
	}
}

/* ---- the log ---- */

struct fill {
	struct mon *m;
	struct card_state *cs;
	uint64_t want;		/* next seq expected from the log */
	int replay;		/* --since: older records were never promised */
};

/* records @a..@b of the card are not in its log (any more) */
static void log_gap(struct fill *f, uint64_t n, uint64_t a, uint64_t b)
{
	char t[160];

	if (!f->replay) {
		notice_lost(f->m, f->cs->id, n, a, b);
		return;
	}
	snprintf(t, sizeof(t), "%" PRIu64 " records (seq %" PRIu64 "..%" PRIu64
		 ") are no longer in the log; the replay starts after them", n, a, b);
	notice_text(f->m, "replay-gap", f->cs->id, t);
}

static void process_logged(struct mon *m, struct card_state *cs, const struct ipn_event *e);

static int fill_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct fill *f = arg;
	struct ipn_event e;

	(void)cmd;
	if (!tb[IPUMP_A_EVENT])
		return 0;
	if (ipn_parse_event(tb[IPUMP_A_EVENT], &e))
		return -EBADMSG;
	if (!e.seq) {
		/* the log says these fell off before we could read them */
		if (e.type == IPUMP_EVENT_OVERFLOW) {
			log_gap(f, e.value[0], e.value[1], e.value[2]);
			if (e.value[2] + 1 > f->want)
				f->want = e.value[2] + 1;
		} else {
			emit(f->m, &e);
		}
		return 0;
	}
	if (e.seq < f->want || e.seq <= f->cs->last)
		return 0;	/* already seen */
	if (e.seq > f->want)
		log_gap(f, e.seq - f->want, f->want, e.seq - 1);
	process_logged(f->m, f->cs, &e);
	f->want = e.seq + 1;
	return 0;
}

/* Print @cs's records from its log, from @from on. */
static void fill_from_log(struct mon *m, struct card_state *cs, uint64_t from,
			  int replay)
{
	struct fill f = { .m = m, .cs = cs, .want = from, .replay = replay };
	struct nl_msg *msg;
	char buf[512];

	msg = ipn_msg(&m->nl, IPUMP_CMD_LOG_GET, NLM_F_DUMP);
	if (!msg || nla_put_u32(msg, IPUMP_A_CARD_ID, cs->id) < 0 ||
	    nla_put_u64(msg, IPUMP_A_LOG_FROM_SEQ, from) < 0) {
		nlmsg_free(msg);
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EX_ERROR);
	}
	if (ipn_request(&m->nl, msg, fill_reply, &f) < 0) {
		ipn_refusal(&m->nl, "reading the log", buf, sizeof(buf));
		notice_text(m, "refill-failed", cs->id, buf);
		if (m->nl.st.err == EPERM || m->nl.st.err == EACCES) {
			m->done = 1;
			m->status = EX_ERROR;
		}
	}
	if (!cs->known) {
		cs->known = 1;
		cs->last = f.want ? f.want - 1 : 0;
	}
}

/* a record read from the log (replay or refill) */
static void process_logged(struct mon *m, struct card_state *cs, const struct ipn_event *e)
{
	cs->known = 1;
	cs->last = e->seq;
	emit(m, e);
	if (e->type == IPUMP_EVENT_CARD_REMOVED) {
		cs->known = 0;
		cs->last = 0;
	}
}

/* a record from the monitor group */
static void process_live(struct mon *m, const struct ipn_event *e)
{
	struct card_state *cs;

	if (!wanted_card(m, e->card))
		return;
	cs = card_get(m, e->card);
	if (!e->seq) {
		/* not a log record: an overflow report, or future kinds */
		emit(m, e);
		if (e->type == IPUMP_EVENT_OVERFLOW && cs->known) {
			notice_overrun(m, "overflow record");
			fill_from_log(m, cs, cs->last + 1, 0);
		}
		return;
	}
	if (cs->known && e->seq <= cs->last) {
		if (e->type != IPUMP_EVENT_CARD_ADDED)
			return;		/* printed already (from the log) */
		/* a new card with the same number: its log starts again */
		cs->known = 0;
	}
	if (!cs->known) {
		/*
		 * A card we did not know when we started (or one that was
		 * removed): every record of it is newer than our start.
		 */
		cs->known = 1;
		cs->last = 0;
	}
	if (e->seq > cs->last + 1) {
		notice_gap(m, cs->id, cs->last + 1, e->seq - 1);
		fill_from_log(m, cs, cs->last + 1, 0);
		if (e->seq <= cs->last)
			return;		/* the log had it too */
	}
	cs->last = e->seq;
	emit(m, e);
	if (e->type == IPUMP_EVENT_CARD_REMOVED) {
		cs->known = 0;
		cs->last = 0;
	}
}

/* ---- cards ---- */

struct cards_seen {
	struct mon *m;
	uint32_t *ids;
	uint64_t *next;
	size_t n;
};

static int cards_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct cards_seen *s = arg;
	struct ipn_card c;
	void *p, *q;

	(void)cmd;
	if (!tb[IPUMP_A_CARD] || !tb[IPUMP_A_CARD_ID])
		return 0;
	if (ipn_parse_card(tb[IPUMP_A_CARD], &c))
		return -EBADMSG;
	p = realloc(s->ids, (s->n + 1) * sizeof(*s->ids));
	if (!p)
		return -ENOMEM;
	s->ids = p;
	q = realloc(s->next, (s->n + 1) * sizeof(*s->next));
	if (!q)
		return -ENOMEM;
	s->next = q;
	s->ids[s->n] = nla_get_u32(tb[IPUMP_A_CARD_ID]);
	s->next[s->n] = IPN_HAVE(&c, IPUMP_A_CARD_LOG_NEXT_SEQ) ? c.log_next_seq : 1;
	s->n++;
	return 0;
}

static int list_cards(struct mon *m, struct cards_seen *s)
{
	struct nl_msg *msg = ipn_msg(&m->nl, IPUMP_CMD_CARD_GET, NLM_F_DUMP);
	char buf[512];

	memset(s, 0, sizeof(*s));
	s->m = m;
	if (!msg)
		return -ENOMEM;
	if (ipn_request(&m->nl, msg, cards_reply, s) < 0) {
		free(s->ids);
		free(s->next);
		memset(s, 0, sizeof(*s));
		fprintf(stderr, "%s: %s\n", prog,
			ipn_refusal(&m->nl, "listing the cards", buf, sizeof(buf)));
		if (m->nl.st.err == EPERM)
			fprintf(stderr, "%s: hint: the events carry patient data: reading "
				"needs CAP_NET_ADMIN unless the ipump module allows "
				"unprivileged reads\n", prog);
		return -1;
	}
	return 0;
}

/* after an overrun: refill every card we watch */
static void overrun(struct mon *m, const char *why)
{
	struct cards_seen s;

	notice_overrun(m, why);
	if (list_cards(m, &s) < 0) {
		m->done = 1;
		m->status = EX_ERROR;
		return;
	}
	for (size_t i = 0; i < m->ncards; i++) {
		struct card_state *cs = &m->cards[i];
		int present = 0;

		for (size_t j = 0; j < s.n; j++)
			present |= s.ids[j] == cs->id;
		if (!present && cs->known) {
			char t[128];

			snprintf(t, sizeof(t), "the card is gone; its events after seq %"
				 PRIu64 " may be lost with it", cs->last);
			notice_text(m, "card-gone", cs->id, t);
			cs->known = 0;
			cs->last = 0;
		}
	}
	for (size_t j = 0; j < s.n && !m->done; j++) {
		struct card_state *cs;

		if (!wanted_card(m, s.ids[j]))
			continue;
		cs = card_get(m, s.ids[j]);
		/* a re-created card: its sequence started again */
		if (cs->known && s.next[j] && s.next[j] - 1 < cs->last)
			cs->known = 0;
		if (!cs->known) {
			cs->known = 1;
			cs->last = 0;
		}
		fill_from_log(m, cs, cs->last + 1, 0);
	}
	free(s.ids);
	free(s.next);
}

/* ---- the monitor socket ---- */

static int open_monitor(struct mon *m)
{
	int grp, fd, size = RCVBUF_BYTES, err;

	grp = genl_ctrl_resolve_grp(m->nl.sk, IPUMP_GENL_NAME, IPUMP_GENL_MCGRP_MONITOR);
	if (grp < 0) {
		fprintf(stderr, "%s: the \"%s\" family has no \"%s\" multicast group: %s\n",
			prog, IPUMP_GENL_NAME, IPUMP_GENL_MCGRP_MONITOR, nl_geterror(grp));
		return -1;
	}
	m->msk = nl_socket_alloc();
	if (!m->msk) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	nl_socket_disable_seq_check(m->msk);
	err = genl_connect(m->msk);
	if (err < 0) {
		fprintf(stderr, "%s: cannot open the monitor socket: %s\n", prog,
			nl_geterror(err));
		return -1;
	}
	fd = nl_socket_get_fd(m->msk);
	/* a big buffer; root may exceed net.core.rmem_max */
	err = nl_socket_set_buffer_size(m->msk, RCVBUF_BYTES, 0);
	if (err < 0)
		fprintf(stderr, "%s: warning: receive buffer: %s\n", prog, nl_geterror(err));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		int e = errno;

		fprintf(stderr, "%s: joining the \"%s\" group: %s\n", prog,
			IPUMP_GENL_MCGRP_MONITOR, strerror(e));
		if (e == EPERM || e == EACCES)
			fprintf(stderr, "%s: hint: the events carry patient data: the "
				"monitor needs CAP_NET_ADMIN unless the ipump module "
				"allows unprivileged reads\n", prog);
		return -1;
	}
	m->mfd = fd;
	return 0;
}

static int read_monitor(struct mon *m)
{
	static union {
		struct nlmsghdr h;
		char b[65536];
	} buf;

	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = { .iov_base = buf.b, .iov_len = sizeof(buf.b) };
		struct msghdr mh = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		if (m->done)
			return 0;
		n = recvmsg(m->mfd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {
				overrun(m, "socket receive buffer overrun");
				continue;
			}
			fprintf(stderr, "%s: reading the monitor socket: %s\n", prog,
				strerror(errno));
			return -1;
		}
		if (sa.nl_pid != 0)
			continue;	/* not from the kernel */
		if (mh.msg_flags & MSG_TRUNC) {
			overrun(m, "message truncated");
			continue;
		}
		len = (int)n;
		for (nlh = &buf.h; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
			struct nlattr *tb[IPUMP_A_MAX + 1];
			struct ipn_event e;

			if (ipn_parse_msg(&m->nl, nlh, tb) != IPUMP_CMD_EVENT ||
			    !tb[IPUMP_A_EVENT])
				continue;
			if (ipn_parse_event(tb[IPUMP_A_EVENT], &e)) {
				fprintf(stderr, "%s: malformed event ignored\n", prog);
				continue;
			}
			process_live(m, &e);
		}
	}
}

/* ---- main ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_types(struct mon *m, const char *s)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return bad("--type: too long");
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int t = ipn_event_from_name(tok);

		if (t <= 0 || t >= 64)
			return bad("--type: unknown event type '%s'", tok);
		m->types |= 1ULL << t;
	}
	if (!m->types)
		return bad("--type: no type given");
	return 0;
}

static int parse_args(struct mon *m, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		char name[32];
		size_t len;
		uint64_t x;
		char msg[256];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(EX_OK);
		}
		if (!strcmp(a, "-j")) {
			m->json = 1;
			continue;
		}
		if (strncmp(a, "--", 2))
			return bad("unexpected argument '%s'", a);
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		if (len >= sizeof(name))
			return bad("unknown option --%s", a);
		memcpy(name, a, len);
		name[len] = '\0';
		if (!strcmp(name, "json")) {
			if (eq)
				return bad("--json takes no value");
			m->json = 1;
			continue;
		}
		if (!strcmp(name, "until-alarm")) {
			m->until_alarm = 1;
			continue;
		}
		if (strcmp(name, "card") && strcmp(name, "channel") && strcmp(name, "type") &&
		    strcmp(name, "min-priority") && strcmp(name, "count") &&
		    strcmp(name, "since") && strcmp(name, "timeout"))
			return bad("unknown option --%s", name);
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			return bad("--%s needs a value", name);

		if (!strcmp(name, "card")) {
			if (!strncmp(v, "ipump", 5))
				v += 5;
			if (units_parse_uint(v, UINT32_MAX, &x))
				return bad("--card: '%s' is not a card number", v);
			m->have_card = 1;
			m->card = (uint32_t)x;
		} else if (!strcmp(name, "channel")) {
			if (units_parse_uint(v, 254, &x))
				return bad("--channel: '%s' is not a channel number", v);
			m->have_channel = 1;
			m->channel = (uint32_t)x;
		} else if (!strcmp(name, "type")) {
			int r = parse_types(m, v);

			if (r)
				return r;
		} else if (!strcmp(name, "min-priority")) {
			int p = ipn_prio_from_name(v);

			if (p < 0)
				return bad("--min-priority: '%s' is not info, low, medium or high", v);
			m->min_prio = (uint32_t)p;
		} else if (!strcmp(name, "count")) {
			if (units_parse_uint(v, UINT64_MAX, &x) || !x)
				return bad("--count: '%s' is not a positive whole number", v);
			m->count = x;
		} else if (!strcmp(name, "since")) {
			if (units_parse_uint(v, UINT64_MAX, &x))
				return bad("--since: '%s' is not a sequence number", v);
			m->have_since = 1;
			m->since = x ? x : 1;
		} else if (!strcmp(name, "timeout")) {
			if (units_parse(UNITS_DURATION, v, UINT64_MAX, &x, msg, sizeof(msg)))
				return bad("--timeout: %s", msg);
			m->timeout_ms = x;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cards_seen s;
	struct sigaction sa;
	struct mon m;
	uint64_t deadline = 0;
	int r;

	memset(&m, 0, sizeof(m));
	m.mfd = -1;
	r = parse_args(&m, argc, argv);
	if (r)
		return r;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (m.timeout_ms)
		deadline = now_ms() + m.timeout_ms;

	if (ipn_open(&m.nl, prog) < 0)
		return EX_ERROR;
	/* where each card's log ends before we join: the replay starts there */
	if (list_cards(&m, &s) < 0)
		return EX_ERROR;
	if (open_monitor(&m) < 0)
		return EX_ERROR;
	if (m.have_card) {
		int found = 0;

		for (size_t i = 0; i < s.n; i++)
			found |= s.ids[i] == m.card;
		if (!found)
			fprintf(stderr, "%s: warning: no card %u now; waiting for it\n",
				prog, m.card);
	}
	/*
	 * Replay from --since, or just the records appended between the card
	 * list and the join; the stream then de-duplicates by seq.
	 */
	for (size_t i = 0; i < s.n && !m.done; i++) {
		struct card_state *cs;
		uint64_t from = m.have_since ? m.since : s.next[i];

		if (!wanted_card(&m, s.ids[i]))
			continue;
		cs = card_get(&m, s.ids[i]);
		cs->known = 1;
		cs->last = from - 1;
		fill_from_log(&m, cs, from, m.have_since);
	}
	free(s.ids);
	free(s.next);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!m.done && !got_signal) {
		struct pollfd pfd = { .fd = m.mfd, .events = POLLIN };
		int timeout = -1;

		if (deadline) {
			uint64_t now = now_ms();

			if (now >= deadline) {
				fprintf(stderr, "%s: timed out after %" PRIu64 " ms with %"
					PRIu64 " events printed\n", prog, m.timeout_ms,
					m.printed);
				m.status = EX_UNMET;
				break;
			}
			timeout = deadline - now > 60000 ? 60000 : (int)(deadline - now);
		}
		r = poll(&pfd, 1, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			m.status = EX_ERROR;
			break;
		}
		if (r > 0 && read_monitor(&m) < 0) {
			m.status = EX_ERROR;
			break;
		}
		fflush(stdout);
		if (ferror(stdout))
			break;
	}
	if (got_signal && !m.done && (m.count || m.until_alarm))
		m.status = EX_UNMET;
	nl_socket_free(m.msk);
	ipn_close(&m.nl);
	free(m.cards);
	return m.status;
}
