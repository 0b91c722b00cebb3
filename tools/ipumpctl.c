// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipumpctl - control infusion-pump cards over the "ipump" generic netlink
 * family. Documentation/userspace-api/ipump-tools.rst.
 *
 * Exit status: 0 success; 1 the kernel refused or the request failed (the
 * reason, with the kernel's extended-ACK message, on stderr); 2 bad usage
 * (including a value without a unit or one that is not exact).
 *
 * -j/--json (anywhere on a one-shot command line) prints one JSON document
 * on stdout instead of text; errors stay text on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ipump_nl.h"
#include "json.h"
#include "units.h"

#define EX_OK		0
#define EX_REFUSED	1
#define EX_USAGE	2

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *prog = "ipumpctl";

enum target {
	TGT_NONE,	/* no CARD */
	TGT_CARD,	/* CARD */
	TGT_CARD_CH,	/* CARD or CARD/CH */
	TGT_CH,		/* CARD/CH */
};

struct ctx {
	struct ipn nl;
	int open_failed;	/* ipn_open() failed and said why */
	int console;		/* running inside `ipumpctl console` */
	int json;		/* -j/--json: one JSON document on stdout */
	uint32_t card;
	int ch;			/* -1: the card as a whole */
	/* console state */
	int con_card_level;	/* `ack --card` inside the console */
	int holding;		/* we hold (or held, until told otherwise) the lease */
	uint32_t period_ms;
	uint64_t next_renew_ms;
	int quit;
};

struct command {
	const char *name;
	enum target tgt;
	int (*fn)(struct ctx *c, int argc, char **argv);
	const char *args;
	const char *help;
	unsigned int flags;
};

#define CMD_ONESHOT_ONLY	1	/* not inside the console */
#define CMD_CONSOLE_ONLY	2	/* only inside the console */

static const struct command *find_command(const char *name, int console);
static int usage_of(struct ctx *c, const struct command *cmd);

/* ---- output ---- */

/* one informational line; in the console prefixed "| " */
static void out(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->console)
		fputs("| ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* the kernel's note on a successful request (extended ACK warning) */
static const char *note(struct ctx *c)
{
	return !c->nl.st.err && c->nl.st.msg[0] ? c->nl.st.msg : NULL;
}

/*
 * The result of a successful command: one-shot, @fmt (if not empty) on
 * stdout and the kernel's note on stderr; console, "ok @fmt".
 */
static int ok(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int ok(struct ctx *c, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (c->console) {
		printf("ok%s%s", text[0] ? " " : "", text);
		if (note(c))
			printf(" (note: %s)", note(c));
		putchar('\n');
	} else {
		if (text[0])
			printf("%s\n", text);
		if (note(c))
			fprintf(stderr, "%s: note: %s\n", prog, note(c));
	}
	return EX_OK;
}

/*
 * The JSON result of a command that acts: {"ok":true,"card":N,"channel":M,
 * ...}; @j is left open for the command's own fields, json_ok_end() closes it.
 */
static void where_json(struct ctx *c, struct json *j)
{
	json_u64(j, "card", c->card);
	if (c->ch >= 0)
		json_u64(j, "channel", (uint64_t)c->ch);
	else
		json_null(j, "channel");
}

static void json_ok_begin(struct ctx *c, struct json *j)
{
	json_init(j, stdout);
	json_open(j, NULL, '{');
	json_bool(j, "ok", 1);
	where_json(c, j);
}

static int json_ok_end(struct ctx *c, struct json *j)
{
	if (note(c))
		json_str(j, "note", note(c));
	json_close(j);
	if (note(c))
		fprintf(stderr, "%s: note: %s\n", prog, note(c));
	return EX_OK;
}

/* a command that acts and has nothing more to say */
static int acted(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int acted(struct ctx *c, const char *fmt, ...)
{
	char text[512];
	struct json j;
	va_list ap;

	if (c->json) {
		json_ok_begin(c, &j);
		return json_ok_end(c, &j);
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return ok(c, "%s", text);
}

/* a usage error: exit status 2 */
static int bad(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->console)
		fputs("error: ", stdout);
	else
		fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(c->console ? stdout : stderr, fmt, ap);
	va_end(ap);
	fputc('\n', c->console ? stdout : stderr);
	return EX_USAGE;
}

/* a local failure (no connection, no memory): exit status 1 */
static int fail(struct ctx *c, const char *what)
{
	if (c->open_failed)
		return EX_REFUSED;	/* ipn_open() said why */
	if (c->console)
		printf("error: %s failed: %s\n", what, strerror(ENOMEM));
	else
		fprintf(stderr, "%s: %s failed: %s\n", prog, what, strerror(ENOMEM));
	return EX_REFUSED;
}

static int needs_lease(const char *op)
{
	return !strcmp(op, "start") || !strcmp(op, "resume") ||
	       !strcmp(op, "titrate") || !strcmp(op, "bolus");
}

static const char *hint(struct ctx *c, const char *op)
{
	const struct ipn_status *st = &c->nl.st;
	int lease_reason = st->has_reason &&
		(st->reason == IPUMP_REASON_NO_LEASE ||
		 st->reason == IPUMP_REASON_LEASE_EXPIRED);

	if (st->local)
		return NULL;
	if (needs_lease(op) && !c->console &&
	    (lease_reason || (!st->has_reason && (st->err == EPERM || st->err == ETIMEDOUT))))
		return "start, resume, titrate and bolus need the console lease, which a "
		       "one-shot command cannot hold (it would be orphaned when the "
		       "command exits): run them inside 'ipumpctl console CARD/CH'";
	if (st->err == ESTALE)
		return "the programme changed since that generation: read the current "
		       "one with 'ipumpctl status CARD/CH'";
	if (st->err == EOWNERDEAD || (st->has_reason && st->reason == IPUMP_REASON_LEASE_ORPHANED))
		return "the lease is orphaned: 'ipumpctl console CARD/CH --takeover' "
		       "(or 'takeover' inside a console) adopts it";
	if (st->err == EBUSY && (!strcmp(op, "lease acquire") || !strcmp(op, "lease takeover")))
		return "another console holds the lease and renews it";
	if (st->err == EPERM && !strcmp(op, "set-limits") && !st->msg[0])
		return "hard limits need CAP_SYS_ADMIN";
	if (st->err == EPERM && !st->msg[0] && !st->has_reason)
		return "changes need CAP_NET_ADMIN (reading too, unless the module "
		       "allows unprivileged reads)";
	if (st->err == ENODEV || st->err == ENOENT)
		return "no such card or channel? 'ipumpctl list' shows the cards";
	return NULL;
}

/* the kernel refused (or the request failed): exit status 1 */
static int refused(struct ctx *c, const char *op)
{
	char buf[768];
	const char *h;

	if (c->open_failed)
		return EX_REFUSED;	/* ipn_open() said why */
	h = hint(c, op);
	ipn_refusal(&c->nl, op, buf, sizeof(buf));
	if (c->console) {
		printf("error: %s\n", buf);
	} else {
		fprintf(stderr, "%s: %s\n", prog, buf);
		if (h)
			fprintf(stderr, "%s: hint: %s\n", prog, h);
	}
	return EX_REFUSED;
}

/* ---- options ---- */

struct opt {
	const char *name;	/* without "--" */
	int has_arg;
	const char *val;	/* the argument, or "" for a flag */
};

/*
 * Parse argv into @opts (NULL-name terminated) and positionals. "--name
 * value" and "--name=value". Returns 0 or EX_USAGE (after the message).
 */
static int parse_opts(struct ctx *c, const char *cmd, int argc, char **argv,
		      struct opt *opts, char **pos, int maxpos, int *npos)
{
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		struct opt *o = NULL;
		size_t len;

		/* global, so accepted after the command too */
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			if (c->console)
				return bad(c, "%s: %s is for one-shot commands, not inside "
					   "the console", cmd, a);
			c->json = 1;
			continue;
		}
		if (!strncmp(a, "--json=", 7))
			return bad(c, "%s: --json takes no value", cmd);
		if (strncmp(a, "--", 2) || !a[2]) {
			if (*npos >= maxpos)
				return bad(c, "%s: unexpected argument '%s' (see 'ipumpctl help %s')",
					   cmd, a, cmd);
			pos[(*npos)++] = argv[i];
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (struct opt *p = opts; p->name; p++)
			if (strlen(p->name) == len && !strncmp(p->name, a, len))
				o = p;
		if (!o)
			return bad(c, "%s: unknown option --%.*s (see 'ipumpctl help %s')",
				   cmd, (int)len, a, cmd);
		if (o->val)
			return bad(c, "%s: --%s given twice", cmd, o->name);
		if (!o->has_arg) {
			if (eq)
				return bad(c, "%s: --%s takes no value", cmd, o->name);
			o->val = "";
		} else if (eq) {
			o->val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return bad(c, "%s: --%s needs a value", cmd, o->name);
			o->val = argv[++i];
		}
	}
	return 0;
}

static struct opt *optp(struct opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

static const char *optv(struct opt *opts, const char *name)
{
	struct opt *o = optp(opts, name);

	return o ? o->val : NULL;
}

/* value of option @name as @kind in [0, max]; EX_USAGE with a message */
static int opt_units(struct ctx *c, struct opt *opts, const char *name,
		     enum units_kind kind, uint64_t max, uint64_t *out)
{
	const char *v = optv(opts, name);
	char msg[300];

	if (units_parse(kind, v, max, out, msg, sizeof(msg)) != UNITS_OK)
		return bad(c, "--%s: %s", name, msg);
	return 0;
}

static int opt_uint(struct ctx *c, struct opt *opts, const char *name,
		    uint64_t max, uint64_t *out)
{
	const char *v = optv(opts, name);
	int r = units_parse_uint(v, max, out);

	if (r == -ERANGE)
		return bad(c, "--%s: '%s' is above %" PRIu64, name, v, max);
	if (r)
		return bad(c, "--%s: '%s' is not a whole number (digits only)", name, v);
	return 0;
}

/* "10%" or "10" */
static int opt_pct(struct ctx *c, struct opt *opts, const char *name, uint64_t *out)
{
	char buf[32];
	const char *v = optv(opts, name);
	size_t n = strlen(v);

	if (n && n < sizeof(buf) && v[n - 1] == '%') {
		memcpy(buf, v, n - 1);
		buf[n - 1] = '\0';
		v = buf;
	}
	if (units_parse_uint(v, UINT32_MAX, out))
		return bad(c, "--%s: '%s' is not a whole percentage (e.g. 10%%)",
			   name, optv(opts, name));
	return 0;
}

/* ---- targets ---- */

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (units_parse_uint(s, UINT32_MAX, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "N", "ipumpN", "N/CH", "ipumpN/CH" */
static int parse_target_str(const char *s, uint32_t *card, int *ch)
{
	char buf[64], *slash;
	uint32_t v;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (parse_u32(strncmp(buf, "ipump", 5) ? buf : buf + 5, card))
		return -1;
	*ch = -1;
	if (slash) {
		if (parse_u32(slash + 1, &v) || v >= 256)
			return -1;
		*ch = (int)v;
	}
	return 0;
}

/*
 * Resolve the command's target: the first positional argument in one-shot
 * mode, the console's channel inside the console.
 */
static int take_target(struct ctx *c, const struct command *cmd, char **pos,
		       int npos)
{
	int want;

	if (!cmd)
		return bad(c, "internal error: no command");
	want = cmd->tgt != TGT_NONE;
	if (c->console) {
		if (npos)
			return bad(c, "%s: unexpected argument '%s' (the console's "
				   "channel is implied)", cmd->name, pos[0]);
		if (cmd->tgt == TGT_CARD_CH && c->con_card_level)
			c->ch = -1;
		return 0;
	}
	if (npos < want)
		return bad(c, "%s: missing %s (usage: ipumpctl %s %s)", cmd->name,
			   cmd->tgt == TGT_CH ? "CARD/CH" : cmd->tgt == TGT_CARD ?
			   "CARD" : "CARD[/CH]", cmd->name, cmd->args);
	if (npos > want)
		return bad(c, "%s: unexpected argument '%s'", cmd->name, pos[want]);
	if (!want)
		return 0;
	if (parse_target_str(pos[0], &c->card, &c->ch))
		return bad(c, "%s: '%s' is not CARD or CARD/CH (e.g. 0/1 or ipump0/1)",
			   cmd->name, pos[0]);
	if (cmd->tgt == TGT_CH && c->ch < 0)
		return bad(c, "%s: '%s' names no channel: give CARD/CH (e.g. %u/0)",
			   cmd->name, pos[0], c->card);
	if (cmd->tgt == TGT_CARD && c->ch >= 0)
		return bad(c, "%s: give the card only ('%u'), not a channel", cmd->name,
			   c->card);
	return 0;
}

/* ---- request helpers ---- */

/*
 * A request message; the socket is opened on first use, so that bad usage
 * is reported (exit status 2) even where the module is not loaded.
 */
static struct nl_msg *mk(struct ctx *c, uint8_t cmd, int flags)
{
	if (!c->nl.sk) {
		if (c->open_failed || ipn_open(&c->nl, prog) < 0) {
			c->open_failed = 1;
			c->nl.st.err = ENOENT;
			c->nl.st.local = 1;
			return NULL;
		}
	}
	return ipn_msg(&c->nl, cmd, flags);
}

static struct nl_msg *req(struct ctx *c, uint8_t cmd, int flags)
{
	struct nl_msg *msg = mk(c, cmd, flags);

	if (!msg)
		return NULL;
	if (nla_put_u32(msg, IPUMP_A_CARD_ID, c->card) < 0 ||
	    (c->ch >= 0 && nla_put_u32(msg, IPUMP_A_CHANNEL, (uint32_t)c->ch) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static char *where(struct ctx *c, char *buf, size_t len)
{
	if (c->ch >= 0)
		snprintf(buf, len, "ipump%u/%d", c->card, c->ch);
	else
		snprintf(buf, len, "ipump%u", c->card);
	return buf;
}

/* ---- list ---- */

struct card_list {
	struct ipn_card *cards;
	uint32_t *ids;
	size_t n;
};

static int card_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct card_list *l = arg;
	struct ipn_card card;
	uint32_t id = 0;
	void *p;

	(void)cmd;
	if (!tb[IPUMP_A_CARD])
		return 0;
	if (ipn_parse_card(tb[IPUMP_A_CARD], &card))
		return -EBADMSG;
	if (tb[IPUMP_A_CARD_ID])
		id = nla_get_u32(tb[IPUMP_A_CARD_ID]);
	else if (!strncmp(card.name, "ipump", 5))
		id = (uint32_t)strtoul(card.name + 5, NULL, 10);
	card.info.card = id;
	p = realloc(l->cards, (l->n + 1) * sizeof(*l->cards));
	if (!p)
		return -ENOMEM;
	l->cards = p;
	l->cards[l->n++] = card;
	return 0;
}

static int get_cards(struct ctx *c, struct card_list *l, int one)
{
	struct nl_msg *msg;

	memset(l, 0, sizeof(*l));
	msg = one ? req(c, IPUMP_CMD_CARD_GET, 0) :
		    mk(c, IPUMP_CMD_CARD_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	return ipn_request(&c->nl, msg, card_reply, l);
}

/* an array of alarm names */
static void alarms_json(struct json *j, const char *key, uint64_t mask)
{
	json_open(j, key, '[');
	for (uint32_t a = 0; a < 64; a++)
		if (mask & (1ULL << a))
			json_str(j, NULL, ipn_alarm_name(a));
	json_close(j);
}

/* the serial as 16 hex digits: a u64 does not survive a JSON double */
static void card_json(struct json *j, const struct ipn_card *k)
{
	char b[32];

	json_open(j, NULL, '{');
	json_u64(j, "card", k->info.card);
	if (k->name[0])
		json_str(j, "name", k->name);
	else {
		snprintf(b, sizeof(b), "ipump%u", k->info.card);
		json_str(j, "name", b);
	}
#define HAVE(a) IPN_HAVE(k, IPUMP_A_CARD_##a)
	if (HAVE(SERIAL)) {
		snprintf(b, sizeof(b), "%016" PRIx64, (uint64_t)k->info.serial);
		json_str(j, "serial", b);
	}
	if (HAVE(NUM_CHANNELS))
		json_u64(j, "num_channels", k->info.num_channels);
	if (HAVE(FW_VERSION)) {
		json_u64(j, "fw_version", k->info.fw_version);
		json_str(j, "fw", ipn_fw_str(k->info.fw_version, b, sizeof(b)));
	}
	if (HAVE(MAP_VERSION))
		json_u64(j, "map_version", k->info.map_version);
	if (HAVE(NL_PER_STEP))
		json_u64(j, "nl_per_step", k->info.nl_per_step);
	if (HAVE(CLOCK))
		json_str(j, "clock", ipn_clock_name(k->info.clock));
	if (HAVE(WDT_PERIOD_MS))
		json_u64(j, "wdt_period_ms", k->info.wdt_period_ms);
	if (HAVE(ALARMS))
		alarms_json(j, "alarms", k->alarms);
	if (HAVE(LOG_OLDEST_SEQ))
		json_u64(j, "log_oldest_seq", k->log_oldest_seq);
	if (HAVE(LOG_NEXT_SEQ))
		json_u64(j, "log_next_seq", k->log_next_seq);
	if (HAVE(LOG_WRAPPED))
		json_u64(j, "log_wrapped", k->log_wrapped);
#undef HAVE
	json_close(j);
}

static int cmd_list(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct card_list l;
	char *pos[1] = { NULL };
	int npos, r;

	r = parse_opts(c, "list", argc, argv, opts, pos, 0, &npos);
	if (r)
		return r;
	if (get_cards(c, &l, 0) < 0) {
		free(l.cards);
		return refused(c, "list");
	}
	if (c->json) {
		struct json j;

		json_init(&j, stdout);
		json_open(&j, NULL, '[');
		for (size_t i = 0; i < l.n; i++)
			card_json(&j, &l.cards[i]);
		json_close(&j);
		free(l.cards);
		return EX_OK;
	}
	out(c, "%-5s %-8s %-16s %-8s %-8s %-9s %-13s %s", "CARD", "NAME", "SERIAL",
	    "CHANNELS", "FW", "CLOCK", "LOG", "CARD ALARMS");
	for (size_t i = 0; i < l.n; i++) {
		struct ipn_card *k = &l.cards[i];
		char fw[24], log[48], al[256], name[32];

		if (k->name[0])
			snprintf(name, sizeof(name), "%s", k->name);
		else
			snprintf(name, sizeof(name), "ipump%u", k->info.card);
		snprintf(log, sizeof(log), "%" PRIu64 "..%" PRIu64, k->log_oldest_seq,
			 k->log_next_seq ? k->log_next_seq - 1 : 0);
		out(c, "%-5u %-8s %016" PRIx64 " %-8u %-8s %-9s %-13s %s", k->info.card,
		    name, (uint64_t)k->info.serial, k->info.num_channels,
		    ipn_fw_str(k->info.fw_version, fw, sizeof(fw)),
		    ipn_clock_name(k->info.clock), log,
		    ipn_alarms_str(k->alarms, 0, 1, al, sizeof(al)));
	}
	free(l.cards);
	return c->console ? ok(c, "%zu cards", l.n) : EX_OK;
}

/* ---- status ---- */

struct chan_reply {
	struct ipn_chan st;
	int have_st;
	struct ipn_prog prog;
	int have_prog;
	uint64_t generation;
	int have_gen;
};

static int chan_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct chan_reply *r = arg;

	(void)cmd;
	if (tb[IPUMP_A_STATUS]) {
		if (ipn_parse_chan(tb[IPUMP_A_STATUS], &r->st))
			return -EBADMSG;
		r->have_st = 1;
	}
	if (tb[IPUMP_A_PROGRAMME]) {
		if (ipn_parse_prog(tb[IPUMP_A_PROGRAMME], &r->prog))
			return -EBADMSG;
		r->have_prog = 1;
	}
	if (tb[IPUMP_A_GENERATION]) {
		r->generation = nla_get_u64(tb[IPUMP_A_GENERATION]);
		r->have_gen = 1;
	}
	return 0;
}

static int get_chan(struct ctx *c, struct chan_reply *r)
{
	struct nl_msg *msg = req(c, IPUMP_CMD_CHANNEL_GET, 0);

	memset(r, 0, sizeof(*r));
	if (!msg)
		return -ENOMEM;
	return ipn_request(&c->nl, msg, chan_reply, r);
}

static char *motor_str(uint32_t m, char *buf, size_t len)
{
	static const char *const bits[] = { "running", "stalled", "bolus", "backoff" };
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 32 && n < len; i++) {
		if (!(m & (1U << i)))
			continue;
		if (i < ARRAY_SIZE(bits))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", bits[i]);
		else
			n += (size_t)snprintf(buf + n, len - n, "%sbit%u", n ? "," : "", i);
	}
	if (!m)
		snprintf(buf, len, "stopped");
	return buf;
}

static void print_prog(struct ctx *c, const struct ipump_programme *p, const char *ind)
{
	char b[96];
	int pca = !!(p->flags & IPUMP_PROG_PCA);

	out(c, "%sroute: %s", ind, ipn_route_name(p->route));
	out(c, "%sbasal: %s", ind, ipn_rate_str(p->basal_rate_nl_per_h, b, sizeof(b)));
	out(c, "%skvo: %s", ind, ipn_rate_str(p->kvo_rate_nl_per_h, b, sizeof(b)));
	if (p->flags & IPUMP_PROG_VTBI_UNLIMITED)
		out(c, "%svtbi: unlimited", ind);
	else
		out(c, "%svtbi: %s", ind, ipn_vol_str(p->vtbi_nl, b, sizeof(b)));
	out(c, "%spca: %s", ind, pca ? "yes" : "no");
	if (pca) {
		out(c, "%sbolus: %s", ind, ipn_vol_str(p->bolus_volume_nl, b, sizeof(b)));
		out(c, "%sbolus_rate: %s", ind,
		    ipn_rate_str(p->bolus_rate_nl_per_h, b, sizeof(b)));
		out(c, "%slockout: %s", ind, ipn_dur_str(p->lockout_ms, b, sizeof(b)));
		out(c, "%smax_per_hour: %u", ind, p->max_boluses_per_hour);
	}
	out(c, "%sdose_1h: %s", ind, ipn_vol_str(p->max_dose_1h_nl, b, sizeof(b)));
	out(c, "%sdose_4h: %s", ind, ipn_vol_str(p->max_dose_4h_nl, b, sizeof(b)));
	out(c, "%slease_loss: %s", ind, ipn_mode_name(p->lease_loss_mode));
	out(c, "%sspinal_kvo: %s", ind, p->flags & IPUMP_PROG_SPINAL_KVO ? "yes" : "no");
}

static void print_chan(struct ctx *c, const struct chan_reply *r)
{
	const struct ipump_channel_status *s = &r->st.st;
	const struct ipn_chan *h = &r->st;
	char b[512], w[32];

	out(c, "%s:", where(c, w, sizeof(w)));
	if (!r->have_st) {
		out(c, "  (the reply carried no status)");
		return;
	}
#define HAVE(a) IPN_HAVE(h, a)
	if (HAVE(IPUMP_A_ST_STATE))
		out(c, "  state: %s", ipn_state_name(s->state));
	if (HAVE(IPUMP_A_ST_RATE_NL_PER_H))
		out(c, "  rate: %s", ipn_rate_str(s->rate_nl_per_h, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_MOTOR))
		out(c, "  motor: %s", motor_str(s->motor, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_DELIVERED_NL))
		out(c, "  delivered: %s", ipn_vol_str(s->delivered_nl, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_RESERVOIR_NL))
		out(c, "  reservoir: %s", ipn_vol_str(s->reservoir_nl, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_INFUSED_NL))
		out(c, "  infused: %s", ipn_vol_str(s->infused_nl, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_VTBI_REMAINING_NL)) {
		if (s->vtbi_remaining_nl == IPUMP_NONE_U64)
			out(c, "  vtbi_remaining: -");
		else
			out(c, "  vtbi_remaining: %s",
			    ipn_vol_str(s->vtbi_remaining_nl, b, sizeof(b)));
	}
	if (HAVE(IPUMP_A_ST_BOLUS_DELIVERED_NL))
		out(c, "  bolus_delivered: %s",
		    ipn_vol_str(s->bolus_delivered_nl, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_DOSE_1H_NL))
		out(c, "  dose_1h: %s", ipn_vol_str(s->dose_1h_nl, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_DOSE_4H_NL))
		out(c, "  dose_4h: %s", ipn_vol_str(s->dose_4h_nl, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_ALARMS))
		out(c, "  alarms: %s", ipn_alarms_str(s->alarms, s->alarms_unacked, 1,
						       b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_PRIORITY))
		out(c, "  priority: %s", ipn_prio_name(s->priority));
	if (HAVE(IPUMP_A_ST_AUDIO_PAUSED_UNTIL_NS))
		out(c, "  audio_paused_until: %s", s->audio_paused_until_ns ?
		    ipn_time_str(s->audio_paused_until_ns, b, sizeof(b)) : "-");
	if (HAVE(IPUMP_A_ST_PRESSURE_DOWN_MMHG))
		out(c, "  pressure_down: %u mmHg", s->pressure_down_mmhg);
	if (HAVE(IPUMP_A_ST_PRESSURE_UP_MMHG))
		out(c, "  pressure_up: %u mmHg", s->pressure_up_mmhg);
	if (HAVE(IPUMP_A_ST_STEP_COUNT))
		out(c, "  step_count: %u", s->step_count);
	if (HAVE(IPUMP_A_ST_HANDSET_PRESSES))
		out(c, "  handset_presses: %u", s->handset_presses);
	if (HAVE(IPUMP_A_ST_PCA_DELIVERED))
		out(c, "  pca_delivered: %u", s->pca_delivered);
	if (HAVE(IPUMP_A_ST_PCA_DENIED))
		out(c, "  pca_denied: %u", s->pca_denied);
	if (HAVE(IPUMP_A_ST_CLINICIAN_BOLUSES))
		out(c, "  clinician_boluses: %u", s->clinician_boluses);
	if (HAVE(IPUMP_A_ST_LOCKOUT_REMAINING_MS))
		out(c, "  lockout_remaining: %s",
		    ipn_dur_str(s->lockout_remaining_ms, b, sizeof(b)));
	if (HAVE(IPUMP_A_ST_TIME_TO_EMPTY_S)) {
		if (s->time_to_empty_s == IPUMP_NONE_U32)
			out(c, "  time_to_empty: -");
		else
			out(c, "  time_to_empty: %u s", s->time_to_empty_s);
	}
	if (HAVE(IPUMP_A_ST_LEASE))
		out(c, "  lease: %s", ipn_lease_name(s->lease));
	if (HAVE(IPUMP_A_ST_LEASE_EXPIRES_NS))
		out(c, "  lease_expires: %s", s->lease_expires_ns ?
		    ipn_time_str(s->lease_expires_ns, b, sizeof(b)) : "-");
	if (HAVE(IPUMP_A_ST_GENERATION))
		out(c, "  generation: %" PRIu64, (uint64_t)s->generation);
	else if (r->have_gen)
		out(c, "  generation: %" PRIu64, r->generation);
	if (HAVE(IPUMP_A_ST_TIMESTAMP_NS))
		out(c, "  timestamp: %s", ipn_time_str(s->timestamp_ns, b, sizeof(b)));
#undef HAVE
	if (r->have_prog) {
		out(c, "  programme:");
		print_prog(c, &r->prog.p, "    ");
	} else {
		out(c, "  programme: -");
	}
}

static void prog_json(struct json *j, const struct ipump_programme *p)
{
	json_open(j, "programme", '{');
	json_str(j, "route", ipn_route_name(p->route));
	json_u64(j, "flags", p->flags);
	json_bool(j, "pca", !!(p->flags & IPUMP_PROG_PCA));
	json_bool(j, "vtbi_unlimited", !!(p->flags & IPUMP_PROG_VTBI_UNLIMITED));
	json_bool(j, "spinal_kvo", !!(p->flags & IPUMP_PROG_SPINAL_KVO));
	json_u64(j, "basal_rate_nl_per_h", p->basal_rate_nl_per_h);
	json_u64(j, "kvo_rate_nl_per_h", p->kvo_rate_nl_per_h);
	json_u64(j, "vtbi_nl", p->vtbi_nl);
	json_u64(j, "bolus_volume_nl", p->bolus_volume_nl);
	json_u64(j, "bolus_rate_nl_per_h", p->bolus_rate_nl_per_h);
	json_u64(j, "lockout_ms", p->lockout_ms);
	json_u64(j, "max_boluses_per_hour", p->max_boluses_per_hour);
	json_u64(j, "max_dose_1h_nl", p->max_dose_1h_nl);
	json_u64(j, "max_dose_4h_nl", p->max_dose_4h_nl);
	json_str(j, "lease_loss_mode", ipn_mode_name(p->lease_loss_mode));
	json_close(j);
}

/* one channel: the IPUMP_A_ST_* fields present, enums by name */
static void chan_json(struct ctx *c, struct json *j, const struct chan_reply *r)
{
	static const char *const motor_bits[] = { "running", "stalled", "bolus", "backoff" };
	const struct ipump_channel_status *s = &r->st.st;
	const struct ipn_chan *h = &r->st;
	char b[32];

	json_open(j, NULL, '{');
	where_json(c, j);
#define HAVE(a) (r->have_st && IPN_HAVE(h, IPUMP_A_ST_##a))
	if (HAVE(STATE))
		json_str(j, "state", ipn_state_name(s->state));
	if (HAVE(RATE_NL_PER_H))
		json_u64(j, "rate_nl_per_h", s->rate_nl_per_h);
	if (HAVE(MOTOR)) {
		json_open(j, "motor", '[');
		for (unsigned int i = 0; i < 32; i++) {
			if (!(s->motor & (1U << i)))
				continue;
			if (i < ARRAY_SIZE(motor_bits)) {
				json_str(j, NULL, motor_bits[i]);
			} else {
				snprintf(b, sizeof(b), "bit%u", i);
				json_str(j, NULL, b);
			}
		}
		json_close(j);
	}
	if (HAVE(DELIVERED_NL))
		json_u64(j, "delivered_nl", s->delivered_nl);
	if (HAVE(RESERVOIR_NL))
		json_u64(j, "reservoir_nl", s->reservoir_nl);
	if (HAVE(INFUSED_NL))
		json_u64(j, "infused_nl", s->infused_nl);
	if (HAVE(VTBI_REMAINING_NL)) {
		if (s->vtbi_remaining_nl == IPUMP_NONE_U64)
			json_null(j, "vtbi_remaining_nl");
		else
			json_u64(j, "vtbi_remaining_nl", s->vtbi_remaining_nl);
	}
	if (HAVE(BOLUS_DELIVERED_NL))
		json_u64(j, "bolus_delivered_nl", s->bolus_delivered_nl);
	if (HAVE(DOSE_1H_NL))
		json_u64(j, "dose_1h_nl", s->dose_1h_nl);
	if (HAVE(DOSE_4H_NL))
		json_u64(j, "dose_4h_nl", s->dose_4h_nl);
	if (HAVE(ALARMS))
		alarms_json(j, "alarms", s->alarms);
	if (HAVE(ALARMS_UNACKED))
		alarms_json(j, "alarms_unacked", s->alarms_unacked);
	if (HAVE(PRIORITY))
		json_str(j, "priority", ipn_prio_name(s->priority));
	if (HAVE(AUDIO_PAUSED_UNTIL_NS))
		json_u64(j, "audio_paused_until_ns", s->audio_paused_until_ns);
	if (HAVE(PRESSURE_DOWN_MMHG))
		json_u64(j, "pressure_down_mmhg", s->pressure_down_mmhg);
	if (HAVE(PRESSURE_UP_MMHG))
		json_u64(j, "pressure_up_mmhg", s->pressure_up_mmhg);
	if (HAVE(STEP_COUNT))
		json_u64(j, "step_count", s->step_count);
	if (HAVE(HANDSET_PRESSES))
		json_u64(j, "handset_presses", s->handset_presses);
	if (HAVE(PCA_DELIVERED))
		json_u64(j, "pca_delivered", s->pca_delivered);
	if (HAVE(PCA_DENIED))
		json_u64(j, "pca_denied", s->pca_denied);
	if (HAVE(CLINICIAN_BOLUSES))
		json_u64(j, "clinician_boluses", s->clinician_boluses);
	if (HAVE(LOCKOUT_REMAINING_MS))
		json_u64(j, "lockout_remaining_ms", s->lockout_remaining_ms);
	if (HAVE(TIME_TO_EMPTY_S)) {
		if (s->time_to_empty_s == IPUMP_NONE_U32)
			json_null(j, "time_to_empty_s");
		else
			json_u64(j, "time_to_empty_s", s->time_to_empty_s);
	}
	if (HAVE(LEASE))
		json_str(j, "lease", ipn_lease_name(s->lease));
	if (HAVE(LEASE_EXPIRES_NS))
		json_u64(j, "lease_expires_ns", s->lease_expires_ns);
	if (HAVE(GENERATION))
		json_u64(j, "generation", s->generation);
	else if (r->have_gen)
		json_u64(j, "generation", r->generation);
	if (HAVE(TIMESTAMP_NS))
		json_u64(j, "timestamp_ns", s->timestamp_ns);
#undef HAVE
	if (r->have_prog)
		prog_json(j, &r->prog.p);
	else
		json_null(j, "programme");
	json_close(j);
}

static int status_one(struct ctx *c, int last)
{
	struct chan_reply r;

	if (get_chan(c, &r) < 0)
		return refused(c, "status");
	if (c->json) {
		struct json j;

		json_init(&j, stdout);
		chan_json(c, &j, &r);
		return EX_OK;
	}
	print_chan(c, &r);
	if (c->console)
		return ok(c, "state=%s generation=%" PRIu64 " lease=%s",
			  IPN_HAVE(&r.st, IPUMP_A_ST_STATE) ? ipn_state_name(r.st.st.state) : "?",
			  (uint64_t)r.st.st.generation,
			  IPN_HAVE(&r.st, IPUMP_A_ST_LEASE) ? ipn_lease_name(r.st.st.lease) : "?");
	if (!last)
		putchar('\n');
	return EX_OK;
}

/* every channel as one array, printed only once all were read */
static int status_json_card(struct ctx *c, uint32_t n)
{
	struct chan_reply *r = calloc(n ? n : 1, sizeof(*r));
	struct json j;

	if (!r)
		return fail(c, "status");
	for (uint32_t ch = 0; ch < n; ch++) {
		c->ch = (int)ch;
		if (get_chan(c, &r[ch]) < 0) {
			free(r);
			return refused(c, "status");
		}
	}
	json_init(&j, stdout);
	json_open(&j, NULL, '[');
	for (uint32_t ch = 0; ch < n; ch++) {
		c->ch = (int)ch;
		chan_json(c, &j, &r[ch]);
	}
	json_close(&j);
	free(r);
	return EX_OK;
}

static int cmd_status(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct card_list l;
	char *pos[1] = { NULL }, al[256];
	int npos, r, status = EX_OK;

	r = parse_opts(c, "status", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("status", c->console), pos, npos)))
		return r;
	if (c->ch >= 0)
		return status_one(c, 1);
	if (get_cards(c, &l, 1) < 0) {
		free(l.cards);
		return refused(c, "status");
	}
	if (l.n != 1) {
		free(l.cards);
		return bad(c, "status: the kernel returned %zu cards for ipump%u", l.n, c->card);
	}
	if (c->json) {
		r = status_json_card(c, l.cards[0].info.num_channels);
		free(l.cards);
		return r;
	}
	out(c, "ipump%u: card alarms: %s", c->card,
	    ipn_alarms_str(l.cards[0].alarms, 0, 1, al, sizeof(al)));
	for (uint32_t ch = 0; ch < l.cards[0].info.num_channels; ch++) {
		c->ch = (int)ch;
		r = status_one(c, ch + 1 == l.cards[0].info.num_channels);
		if (r > status)
			status = r;
	}
	free(l.cards);
	return status;
}

/* ---- log ---- */

struct log_ctx {
	struct ctx *c;
	int json;
	size_t n;
};

static int log_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct log_ctx *l = arg;
	struct ipn_event e;
	char buf[512];

	(void)cmd;
	if (!tb[IPUMP_A_EVENT])
		return 0;
	if (ipn_parse_event(tb[IPUMP_A_EVENT], &e))
		return -EBADMSG;
	l->n++;
	if (l->json)
		ipn_event_json(&e, stdout);
	else
		out(l->c, "%s", ipn_event_text(&e, buf, sizeof(buf)));
	return 0;
}

static int cmd_log(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { "from", 1, NULL }, { NULL, 0, NULL } };
	struct log_ctx l = { .c = c };
	struct nl_msg *msg;
	uint64_t from = 0;
	char *pos[1] = { NULL };
	int npos, r;

	r = parse_opts(c, "log", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("log", c->console), pos, npos)))
		return r;
	if (optv(opts, "from") && (r = opt_uint(c, opts, "from", UINT64_MAX, &from)))
		return r;
	l.json = c->json;
	c->ch = -1;	/* the log is per card */
	msg = mk(c, IPUMP_CMD_LOG_GET, NLM_F_DUMP);
	if (!msg || nla_put_u32(msg, IPUMP_A_CARD_ID, c->card) < 0 ||
	    (optv(opts, "from") && nla_put_u64(msg, IPUMP_A_LOG_FROM_SEQ, from) < 0)) {
		nlmsg_free(msg);
		return fail(c, "log");
	}
	if (ipn_request(&c->nl, msg, log_reply, &l) < 0)
		return refused(c, "log");
	if (c->nl.st.dump_intr && l.json)
		fprintf(stderr, "%s: warning: the log changed during the dump; run it "
			"again from the last seq shown\n", prog);
	else if (c->nl.st.dump_intr)
		out(c, "%s: warning: the log changed during the dump; run it again "
		    "from the last seq shown", prog);
	return c->console ? ok(c, "%zu records", l.n) : EX_OK;
}

/* ---- programme and titrate ---- */

#define ML	1000000ULL

static int build_prog(struct ctx *c, const char *cmd, struct opt *opts,
		      struct ipump_programme *p, uint64_t *gen, int *kvo_default)
{
	static const char *const required[] = {
		"route", "basal", "vtbi", "dose-1h", "dose-4h", "generation",
	};
	static const char *const pca_opts[] = {
		"bolus", "bolus-rate", "lockout", "max-per-hour",
	};
	char missing[256] = "";
	uint64_t v;
	int r, route, pca = optv(opts, "pca") != NULL;
	const char *s;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!optv(opts, required[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s--%s", missing[0] ? ", " : "", required[i]);
	for (size_t i = 0; pca && i < ARRAY_SIZE(pca_opts); i++)
		if (!optv(opts, pca_opts[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s--%s (with --pca)", missing[0] ? ", " : "", pca_opts[i]);
	if (missing[0])
		return bad(c, "%s: missing %s (see 'ipumpctl help %s')", cmd, missing, cmd);
	for (size_t i = 0; !pca && i < ARRAY_SIZE(pca_opts); i++)
		if (optv(opts, pca_opts[i]))
			return bad(c, "%s: --%s needs --pca (patient-demand boluses)", cmd,
				   pca_opts[i]);

	route = ipn_route_from_name(optv(opts, "route"));
	if (route <= 0)
		return bad(c, "%s: --route: '%s' is not iv, sc, epidural or intrathecal",
			   cmd, optv(opts, "route"));
	p->route = (uint32_t)route;
	if ((r = opt_units(c, opts, "basal", UNITS_RATE, UINT32_MAX, &v)))
		return r;
	p->basal_rate_nl_per_h = (uint32_t)v;

	*kvo_default = !optv(opts, "kvo");
	if (!*kvo_default) {
		if ((r = opt_units(c, opts, "kvo", UNITS_RATE, UINT32_MAX, &v)))
			return r;
		p->kvo_rate_nl_per_h = (uint32_t)v;
	} else if (p->route == IPUMP_ROUTE_INTRAVENOUS) {
		/* the documented route default; spinal and subcutaneous: 0 */
		p->kvo_rate_nl_per_h = (uint32_t)ML;
		if (p->basal_rate_nl_per_h && p->basal_rate_nl_per_h < ML)
			return bad(c, "%s: the intravenous default KVO rate 1ml/h is above "
				   "the basal rate: give --kvo explicitly (e.g. --kvo 0ml/h)",
				   cmd);
	}

	s = optv(opts, "vtbi");
	if (!strcasecmp(s, "unlimited")) {
		p->flags |= IPUMP_PROG_VTBI_UNLIMITED;
	} else {
		if ((r = opt_units(c, opts, "vtbi", UNITS_VOLUME, UINT64_MAX, &v)))
			return r;
		p->vtbi_nl = v;
	}
	if (pca) {
		p->flags |= IPUMP_PROG_PCA;
		if ((r = opt_units(c, opts, "bolus", UNITS_VOLUME, UINT32_MAX, &v)))
			return r;
		p->bolus_volume_nl = (uint32_t)v;
		if ((r = opt_units(c, opts, "bolus-rate", UNITS_RATE, UINT32_MAX, &v)))
			return r;
		p->bolus_rate_nl_per_h = (uint32_t)v;
		if ((r = opt_units(c, opts, "lockout", UNITS_DURATION, UINT32_MAX, &v)))
			return r;
		p->lockout_ms = (uint32_t)v;
		if ((r = opt_uint(c, opts, "max-per-hour", UINT32_MAX, &v)))
			return r;
		p->max_boluses_per_hour = (uint32_t)v;
	}
	if ((r = opt_units(c, opts, "dose-1h", UNITS_VOLUME, UINT64_MAX, &v)))
		return r;
	p->max_dose_1h_nl = v;
	if ((r = opt_units(c, opts, "dose-4h", UNITS_VOLUME, UINT64_MAX, &v)))
		return r;
	p->max_dose_4h_nl = v;
	p->lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	if ((s = optv(opts, "lease-loss"))) {
		int m = ipn_mode_from_name(s);

		if (m < 0)
			return bad(c, "%s: --lease-loss: '%s' is not stop, kvo or basal", cmd, s);
		p->lease_loss_mode = (uint32_t)m;
	}
	if (optv(opts, "spinal-kvo"))
		p->flags |= IPUMP_PROG_SPINAL_KVO;
	return opt_uint(c, opts, "generation", UINT64_MAX, gen);
}

/* the IV default KVO, at most the channel's maximum KVO rate (as the core) */
static void kvo_default_limit(struct ctx *c, struct ipump_programme *p);

static int cmd_programme_common(struct ctx *c, int argc, char **argv, const char *cmd,
				uint8_t nlcmd)
{
	struct opt opts[] = {
		{ "route", 1, NULL }, { "basal", 1, NULL }, { "kvo", 1, NULL },
		{ "vtbi", 1, NULL }, { "pca", 0, NULL }, { "bolus", 1, NULL },
		{ "bolus-rate", 1, NULL }, { "lockout", 1, NULL },
		{ "max-per-hour", 1, NULL }, { "dose-1h", 1, NULL },
		{ "dose-4h", 1, NULL }, { "lease-loss", 1, NULL },
		{ "spinal-kvo", 0, NULL }, { "generation", 1, NULL },
		{ NULL, 0, NULL }
	};
	struct ipump_programme p;
	struct chan_reply rep;
	struct nl_msg *msg;
	uint64_t gen;
	char *pos[1] = { NULL }, w[32], b[96];
	int npos, r, kvo_default = 0;

	r = parse_opts(c, cmd, argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command(cmd, c->console), pos, npos)))
		return r;
	r = build_prog(c, cmd, opts, &p, &gen, &kvo_default);
	if (r)
		return r;
	if (kvo_default && p.route == IPUMP_ROUTE_INTRAVENOUS)
		kvo_default_limit(c, &p);

	msg = req(c, nlcmd, 0);
	if (!msg || nla_put_u64(msg, IPUMP_A_GENERATION, gen) < 0 ||
	    ipn_put_prog(msg, &p) < 0) {
		nlmsg_free(msg);
		return fail(c, cmd);
	}
	memset(&rep, 0, sizeof(rep));
	if (ipn_request(&c->nl, msg, chan_reply, &rep) < 0)
		return refused(c, cmd);
	if (c->json) {
		struct json j;

		json_ok_begin(c, &j);
		if (rep.have_gen)
			json_u64(&j, "generation", rep.generation);
		else
			json_null(&j, "generation");
		json_bool(&j, "kvo_default", kvo_default);
		prog_json(&j, rep.have_prog ? &rep.prog.p : &p);
		if (kvo_default)
			fprintf(stderr, "%s: note: KVO rate %s, the %s route's default "
				"(--kvo sets another)\n", prog,
				ipn_rate_str(p.kvo_rate_nl_per_h, b, sizeof(b)),
				ipn_route_name(p.route));
		return json_ok_end(c, &j);
	}
	if (kvo_default && !c->console)
		fprintf(stderr, "%s: note: KVO rate %s, the %s route's default "
			"(--kvo sets another)\n", prog,
			ipn_rate_str(p.kvo_rate_nl_per_h, b, sizeof(b)),
			ipn_route_name(p.route));
	if (rep.have_prog && memcmp(&rep.prog.p, &p, sizeof(p))) {
		/* the card runs something else than asked: say exactly what */
		out(c, "%s: note: the card runs this programme:", prog);
		print_prog(c, &rep.prog.p, "  ");
	}
	if (c->console) {
		char g[48] = "";

		if (rep.have_gen)
			snprintf(g, sizeof(g), "generation=%" PRIu64, rep.generation);
		if (kvo_default)
			return ok(c, "%s%skvo_nl_per_h=%u (the %s default)", g, g[0] ? " " : "",
				  p.kvo_rate_nl_per_h, ipn_route_name(p.route));
		return ok(c, "%s", g);
	}
	if (rep.have_gen)
		return ok(c, "%s: %s, generation %" PRIu64, where(c, w, sizeof(w)),
			  !strcmp(cmd, "titrate") ? "titrated" : "programmed", rep.generation);
	return ok(c, "%s: %s (the new generation is in 'ipumpctl status')",
		  where(c, w, sizeof(w)), !strcmp(cmd, "titrate") ? "titrated" : "programmed");
}

static int limits_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct ipn_limits *l = arg;

	(void)cmd;
	if (tb[IPUMP_A_LIMITS] && ipn_parse_limits(tb[IPUMP_A_LIMITS], l))
		return -EBADMSG;
	return 0;
}

static int get_limits(struct ctx *c, struct ipn_limits *l)
{
	struct nl_msg *msg = req(c, IPUMP_CMD_LIMITS_GET, 0);

	memset(l, 0, sizeof(*l));
	if (!msg)
		return -ENOMEM;
	return ipn_request(&c->nl, msg, limits_reply, l);
}

static void kvo_default_limit(struct ctx *c, struct ipump_programme *p)
{
	struct ipn_limits l;

	if (get_limits(c, &l) < 0 || !IPN_HAVE(&l, IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H))
		return;		/* the kernel will judge 1 mL/h itself */
	if (l.l.max_kvo_rate_nl_per_h < p->kvo_rate_nl_per_h)
		p->kvo_rate_nl_per_h = l.l.max_kvo_rate_nl_per_h;
}

static int cmd_programme(struct ctx *c, int argc, char **argv)
{
	return cmd_programme_common(c, argc, argv, "programme", IPUMP_CMD_PROGRAMME_SET);
}

static int cmd_titrate(struct ctx *c, int argc, char **argv)
{
	return cmd_programme_common(c, argc, argv, "titrate", IPUMP_CMD_TITRATE);
}

/* ---- simple channel commands ---- */

static int simple(struct ctx *c, int argc, char **argv, const char *cmd,
		  uint8_t nlcmd, int with_gen, const char *done)
{
	struct opt opts[3];
	struct nl_msg *msg;
	uint64_t gen = 0;
	char *pos[1] = { NULL }, w[32];
	int npos, r, n = 0;

	memset(opts, 0, sizeof(opts));
	if (with_gen)
		opts[n++] = (struct opt){ "generation", 1, NULL };
	if (c->console && !strcmp(cmd, "ack"))
		opts[n++] = (struct opt){ "card", 0, NULL };
	r = parse_opts(c, cmd, argc, argv, opts, pos, 1, &npos);
	if (r)
		return r;
	c->con_card_level = optv(opts, "card") != NULL;
	r = take_target(c, find_command(cmd, c->console), pos, npos);
	c->con_card_level = 0;
	if (r)
		return r;
	if (with_gen) {
		if (!optv(opts, "generation"))
			return bad(c, "%s: missing --generation (the programme generation "
				   "shown by 'ipumpctl status')", cmd);
		if ((r = opt_uint(c, opts, "generation", UINT64_MAX, &gen)))
			return r;
	}
	msg = req(c, nlcmd, 0);
	if (!msg || (with_gen && nla_put_u64(msg, IPUMP_A_GENERATION, gen) < 0)) {
		nlmsg_free(msg);
		return fail(c, cmd);
	}
	if (ipn_request(&c->nl, msg, NULL, NULL) < 0)
		return refused(c, cmd);
	return c->console ? ok(c, "%s", "") : acted(c, "%s: %s", where(c, w, sizeof(w)), done);
}

static int cmd_start(struct ctx *c, int argc, char **argv)
{
	return simple(c, argc, argv, "start", IPUMP_CMD_START, 1, "started");
}

static int cmd_resume(struct ctx *c, int argc, char **argv)
{
	return simple(c, argc, argv, "resume", IPUMP_CMD_RESUME, 1, "resumed");
}

static int cmd_clear(struct ctx *c, int argc, char **argv)
{
	return simple(c, argc, argv, "clear", IPUMP_CMD_CLEAR, 1, "programme cleared");
}

static int cmd_stop(struct ctx *c, int argc, char **argv)
{
	return simple(c, argc, argv, "stop", IPUMP_CMD_STOP, 0, "stopped");
}

static int cmd_pause(struct ctx *c, int argc, char **argv)
{
	return simple(c, argc, argv, "pause", IPUMP_CMD_PAUSE, 0, "paused");
}

static int cmd_ack(struct ctx *c, int argc, char **argv)
{
	return simple(c, argc, argv, "ack", IPUMP_CMD_ACK, 0, "alarms acknowledged");
}

static int cmd_bolus(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { "clinician", 0, NULL }, { "demand", 0, NULL },
			      { "volume", 1, NULL }, { "rate", 1, NULL },
			      { NULL, 0, NULL } };
	int clin, dem, npos, r;
	uint64_t vol = 0, rate = 0;
	struct nl_msg *msg;
	char *pos[1] = { NULL }, w[32];

	r = parse_opts(c, "bolus", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("bolus", c->console), pos, npos)))
		return r;
	clin = optv(opts, "clinician") != NULL;
	dem = optv(opts, "demand") != NULL;
	if (clin == dem)
		return bad(c, "bolus: give either --clinician --volume V --rate R, or "
			   "--demand (a PCA demand with the programme's volume and rate)");
	if (dem && (optv(opts, "volume") || optv(opts, "rate")))
		return bad(c, "bolus: --demand takes the programme's bolus volume and "
			   "rate; --volume and --rate are for --clinician");
	if (clin) {
		if (!optv(opts, "volume") || !optv(opts, "rate"))
			return bad(c, "bolus: --clinician needs --volume and --rate");
		if ((r = opt_units(c, opts, "volume", UNITS_VOLUME, UINT32_MAX, &vol)) ||
		    (r = opt_units(c, opts, "rate", UNITS_RATE, UINT32_MAX, &rate)))
			return r;
	}
	msg = req(c, IPUMP_CMD_BOLUS, 0);
	if (!msg || nla_put_u32(msg, IPUMP_A_BOLUS_KIND,
				clin ? IPUMP_BOLUS_CLINICIAN : IPUMP_BOLUS_DEMAND) < 0 ||
	    (clin && (nla_put_u32(msg, IPUMP_A_BOLUS_VOLUME_NL, (uint32_t)vol) < 0 ||
		      nla_put_u32(msg, IPUMP_A_BOLUS_RATE_NL_PER_H, (uint32_t)rate) < 0))) {
		nlmsg_free(msg);
		return fail(c, "bolus");
	}
	if (ipn_request(&c->nl, msg, NULL, NULL) < 0)
		return refused(c, "bolus");
	return c->console ? ok(c, "%s", "") :
			    acted(c, "%s: bolus started", where(c, w, sizeof(w)));
}

static int result_reply(struct nlattr **tb, uint8_t cmd, void *arg)
{
	int64_t *res = arg;

	(void)cmd;
	if (tb[IPUMP_A_RESULT_NL])
		*res = (int64_t)nla_get_u64(tb[IPUMP_A_RESULT_NL]);
	return 0;
}

static int cmd_cancel_bolus(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	int64_t res = -1;
	struct nl_msg *msg;
	char *pos[1] = { NULL }, b[96], w[32];
	int npos, r;

	r = parse_opts(c, "cancel-bolus", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("cancel-bolus", c->console), pos, npos)))
		return r;
	msg = req(c, IPUMP_CMD_BOLUS_CANCEL, 0);
	if (!msg)
		return fail(c, "cancel-bolus");
	if (ipn_request(&c->nl, msg, result_reply, &res) < 0)
		return refused(c, "cancel-bolus");
	if (c->json) {
		struct json j;

		json_ok_begin(c, &j);
		if (res < 0)
			json_null(&j, "delivered_nl");
		else
			json_u64(&j, "delivered_nl", (uint64_t)res);
		return json_ok_end(c, &j);
	}
	if (res < 0)
		return c->console ? ok(c, "delivered=?") :
			ok(c, "%s: bolus cancelled (the reply did not say how much was "
			   "delivered)", where(c, w, sizeof(w)));
	if (c->console)
		return ok(c, "delivered_nl=%" PRIu64, (uint64_t)res);
	return ok(c, "%s: bolus cancelled, delivered %s", where(c, w, sizeof(w)),
		  ipn_vol_str((uint64_t)res, b, sizeof(b)));
}

static int cmd_audio_pause(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { "for", 1, NULL }, { NULL, 0, NULL } };
	struct nl_msg *msg;
	uint64_t ms;
	char *pos[1] = { NULL }, b[64], w[32];
	int npos, r;

	r = parse_opts(c, "audio-pause", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("audio-pause", c->console), pos, npos)))
		return r;
	if (!optv(opts, "for"))
		return bad(c, "audio-pause: missing --for DURATION (e.g. --for 2min)");
	if ((r = opt_units(c, opts, "for", UNITS_DURATION, UINT32_MAX, &ms)))
		return r;
	msg = req(c, IPUMP_CMD_AUDIO_PAUSE, 0);
	if (!msg || nla_put_u32(msg, IPUMP_A_DURATION_MS, (uint32_t)ms) < 0) {
		nlmsg_free(msg);
		return fail(c, "audio-pause");
	}
	if (ipn_request(&c->nl, msg, NULL, NULL) < 0)
		return refused(c, "audio-pause");
	if (c->json) {
		struct json j;

		json_ok_begin(c, &j);
		json_u64(&j, "duration_ms", ms);
		return json_ok_end(c, &j);
	}
	return c->console ? ok(c, "%s", "") :
		ok(c, "%s: alarm audio paused for %s", where(c, w, sizeof(w)),
		   ipn_dur_str(ms, b, sizeof(b)));
}

/* ---- hard limits ---- */

struct lim_opt {
	const char *opt;
	const char *key;	/* the IPUMP_A_LIM_* name, for JSON */
	enum { LK_RATE, LK_VOL32, LK_VOL64, LK_MS, LK_COUNT, LK_PCT } kind;
	size_t off;
	uint16_t attr;
};

#define LO(o, k, f, a) { o, #f, k, offsetof(struct ipump_hard_limits, f), a }
static const struct lim_opt lim_opts[] = {
	LO("min-rate", LK_RATE, min_rate_nl_per_h, IPUMP_A_LIM_MIN_RATE_NL_PER_H),
	LO("max-rate", LK_RATE, max_rate_nl_per_h, IPUMP_A_LIM_MAX_RATE_NL_PER_H),
	LO("max-kvo-rate", LK_RATE, max_kvo_rate_nl_per_h, IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H),
	LO("max-bolus", LK_VOL32, max_bolus_volume_nl, IPUMP_A_LIM_MAX_BOLUS_VOLUME_NL),
	LO("max-bolus-rate", LK_RATE, max_bolus_rate_nl_per_h,
	   IPUMP_A_LIM_MAX_BOLUS_RATE_NL_PER_H),
	LO("min-lockout", LK_MS, min_lockout_ms, IPUMP_A_LIM_MIN_LOCKOUT_MS),
	LO("max-vtbi", LK_VOL64, max_vtbi_nl, IPUMP_A_LIM_MAX_VTBI_NL),
	LO("max-dose-1h", LK_VOL64, max_dose_1h_nl, IPUMP_A_LIM_MAX_DOSE_1H_NL),
	LO("max-dose-4h", LK_VOL64, max_dose_4h_nl, IPUMP_A_LIM_MAX_DOSE_4H_NL),
	LO("max-per-hour", LK_COUNT, max_boluses_per_hour, IPUMP_A_LIM_MAX_BOLUSES_PER_HOUR),
	LO("air-bubble", LK_VOL32, air_bubble_nl, IPUMP_A_LIM_AIR_BUBBLE_NL),
	LO("air-accum", LK_VOL32, air_accum_nl, IPUMP_A_LIM_AIR_ACCUM_NL),
	LO("over-infusion", LK_PCT, over_infusion_pct, IPUMP_A_LIM_OVER_INFUSION_PCT),
	LO("under-infusion", LK_PCT, under_infusion_pct, IPUMP_A_LIM_UNDER_INFUSION_PCT),
	LO("stall", LK_MS, stall_ms, IPUMP_A_LIM_STALL_MS),
};
#undef LO

static uint64_t lim_get(const struct ipump_hard_limits *l, const struct lim_opt *o)
{
	const unsigned char *f = (const unsigned char *)l + o->off;

	if (o->kind == LK_VOL64) {
		uint64_t v;

		memcpy(&v, f, 8);
		return v;
	} else {
		uint32_t v;

		memcpy(&v, f, 4);
		return v;
	}
}

static void lim_set(struct ipump_hard_limits *l, const struct lim_opt *o, uint64_t v)
{
	unsigned char *f = (unsigned char *)l + o->off;

	if (o->kind == LK_VOL64) {
		memcpy(f, &v, 8);
	} else {
		uint32_t x = (uint32_t)v;

		memcpy(f, &x, 4);
	}
}

static char *lim_str(const struct lim_opt *o, uint64_t v, char *b, size_t len)
{
	switch (o->kind) {
	case LK_RATE:
		return ipn_rate_str(v, b, len);
	case LK_VOL32:
	case LK_VOL64:
		return ipn_vol_str(v, b, len);
	case LK_MS:
		return ipn_dur_str(v, b, len);
	case LK_COUNT:
		snprintf(b, len, "%" PRIu64, v);
		return b;
	case LK_PCT:
		snprintf(b, len, "%" PRIu64 "%%", v);
		return b;
	}
	return b;
}

static int cmd_limits(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct ipn_limits l;
	char *pos[1] = { NULL }, b[96], w[32];
	int npos, r;

	r = parse_opts(c, "limits", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("limits", c->console), pos, npos)))
		return r;
	if (get_limits(c, &l) < 0)
		return refused(c, "limits");
	if (c->json) {
		struct json j;

		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		where_json(c, &j);
		for (size_t i = 0; i < ARRAY_SIZE(lim_opts); i++)
			if (IPN_HAVE(&l, lim_opts[i].attr))
				json_u64(&j, lim_opts[i].key, lim_get(&l.l, &lim_opts[i]));
		json_close(&j);
		return EX_OK;
	}
	out(c, "%s hard limits:", where(c, w, sizeof(w)));
	for (size_t i = 0; i < ARRAY_SIZE(lim_opts); i++) {
		const struct lim_opt *o = &lim_opts[i];

		if (IPN_HAVE(&l, o->attr))
			out(c, "  %s: %s", o->opt, lim_str(o, lim_get(&l.l, o), b, sizeof(b)));
		else
			out(c, "  %s: (not reported)", o->opt);
	}
	return c->console ? ok(c, "%s", "") : EX_OK;
}

static int cmd_set_limits(struct ctx *c, int argc, char **argv)
{
	struct opt opts[ARRAY_SIZE(lim_opts) + 2];
	struct ipump_hard_limits lim;
	struct ipn_limits cur;
	char missing[512] = "", *pos[1] = { NULL }, w[32];
	int npos, r, from_current;
	struct nl_msg *msg;

	memset(opts, 0, sizeof(opts));
	for (size_t i = 0; i < ARRAY_SIZE(lim_opts); i++) {
		opts[i].name = lim_opts[i].opt;
		opts[i].has_arg = 1;
	}
	opts[ARRAY_SIZE(lim_opts)].name = "from-current";
	r = parse_opts(c, "set-limits", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("set-limits", c->console), pos, npos)))
		return r;
	from_current = optv(opts, "from-current") != NULL;
	memset(&lim, 0, sizeof(lim));
	if (from_current) {
		if (get_limits(c, &cur) < 0)
			return refused(c, "set-limits (reading the current limits)");
		lim = cur.l;
	}
	for (size_t i = 0; i < ARRAY_SIZE(lim_opts); i++) {
		const struct lim_opt *o = &lim_opts[i];

		if (!optv(opts, o->opt) && !(from_current && IPN_HAVE(&cur, o->attr)))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s--%s", missing[0] ? ", " : "", o->opt);
	}
	if (missing[0])
		return bad(c, "set-limits: every hard limit must be given; missing: %s "
			   "(or --from-current to keep the current values of those not given)",
			   missing);
	for (size_t i = 0; i < ARRAY_SIZE(lim_opts); i++) {
		const struct lim_opt *o = &lim_opts[i];
		uint64_t v;

		if (!optv(opts, o->opt))
			continue;
		switch (o->kind) {
		case LK_RATE:
			r = opt_units(c, opts, o->opt, UNITS_RATE, UINT32_MAX, &v);
			break;
		case LK_VOL32:
			r = opt_units(c, opts, o->opt, UNITS_VOLUME, UINT32_MAX, &v);
			break;
		case LK_VOL64:
			r = opt_units(c, opts, o->opt, UNITS_VOLUME, UINT64_MAX, &v);
			break;
		case LK_MS:
			r = opt_units(c, opts, o->opt, UNITS_DURATION, UINT32_MAX, &v);
			break;
		case LK_COUNT:
			r = opt_uint(c, opts, o->opt, UINT32_MAX, &v);
			break;
		case LK_PCT:
			r = opt_pct(c, opts, o->opt, &v);
			break;
		default:
			r = EX_USAGE;
		}
		if (r)
			return r;
		lim_set(&lim, o, v);
	}
	msg = req(c, IPUMP_CMD_LIMITS_SET, 0);
	if (!msg || ipn_put_limits(msg, &lim) < 0) {
		nlmsg_free(msg);
		return fail(c, "set-limits");
	}
	if (ipn_request(&c->nl, msg, NULL, NULL) < 0)
		return refused(c, "set-limits");
	return c->console ? ok(c, "%s", "") :
		acted(c, "%s: hard limits set", where(c, w, sizeof(w)));
}

/* ---- lease ---- */

static int cmd_lease(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	struct chan_reply r;
	char *pos[1] = { NULL }, t[32], w[32];
	int npos, e;

	e = parse_opts(c, "lease", argc, argv, opts, pos, 1, &npos);
	if (e || (e = take_target(c, find_command("lease", c->console), pos, npos)))
		return e;
	if (get_chan(c, &r) < 0)
		return refused(c, "lease");
	if (!IPN_HAVE(&r.st, IPUMP_A_ST_LEASE))
		return bad(c, "lease: the kernel did not report the lease");
	if (c->json) {
		struct json j;

		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		where_json(c, &j);
		json_str(&j, "lease", ipn_lease_name(r.st.st.lease));
		if (IPN_HAVE(&r.st, IPUMP_A_ST_LEASE_EXPIRES_NS))
			json_u64(&j, "lease_expires_ns", r.st.st.lease_expires_ns);
		json_close(&j);
		return EX_OK;
	}
	if (c->console)
		return ok(c, "lease=%s expires=%s holding=%s period_ms=%u",
			  ipn_lease_name(r.st.st.lease),
			  r.st.st.lease_expires_ns ?
			  ipn_time_str(r.st.st.lease_expires_ns, t, sizeof(t)) : "-",
			  c->holding ? "yes" : "no", c->period_ms);
	return ok(c, "%s: lease %s%s%s", where(c, w, sizeof(w)),
		  ipn_lease_name(r.st.st.lease),
		  r.st.st.lease_expires_ns ? ", period ends at " : "",
		  r.st.st.lease_expires_ns ?
		  ipn_time_str(r.st.st.lease_expires_ns, t, sizeof(t)) : "");
}

/* ---- the console ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int lease_op(struct ctx *c, uint8_t nlcmd, uint32_t period_ms)
{
	struct nl_msg *msg = req(c, nlcmd, 0);

	if (!msg || (period_ms && nla_put_u32(msg, IPUMP_A_LEASE_PERIOD_MS, period_ms) < 0)) {
		nlmsg_free(msg);
		c->nl.st.err = ENOMEM;
		c->nl.st.local = 1;
		return -ENOMEM;
	}
	return ipn_request(&c->nl, msg, NULL, NULL);
}

static void schedule_renew(struct ctx *c)
{
	c->next_renew_ms = now_ms() + (c->period_ms / 2 ? c->period_ms / 2 : 1);
}

static int parse_period(struct ctx *c, struct opt *opts, uint32_t *period)
{
	uint64_t v;
	int r;

	if (!optv(opts, "period"))
		return 0;
	if ((r = opt_units(c, opts, "period", UNITS_DURATION, UINT32_MAX, &v)))
		return r;
	*period = (uint32_t)v;
	return 0;
}

/* acquire / takeover inside the console */
static int con_take(struct ctx *c, int argc, char **argv, int takeover)
{
	const char *cmd = takeover ? "takeover" : "acquire";
	struct opt opts[] = { { "period", 1, NULL }, { NULL, 0, NULL } };
	uint32_t period = c->period_ms;
	char *pos[1] = { NULL }, b[64];
	int npos, r;

	r = parse_opts(c, cmd, argc, argv, opts, pos, 0, &npos);
	if (r || (r = parse_period(c, opts, &period)))
		return r;
	if (lease_op(c, takeover ? IPUMP_CMD_LEASE_TAKEOVER : IPUMP_CMD_LEASE_ACQUIRE,
		     period) < 0)
		return refused(c, takeover ? "lease takeover" : "lease acquire");
	c->holding = 1;
	c->period_ms = period;
	schedule_renew(c);
	return ok(c, "lease %s, period %s", takeover ? "taken over" : "acquired",
		  units_fmt_duration(period, b, sizeof(b)));
}

static int cmd_acquire(struct ctx *c, int argc, char **argv)
{
	return con_take(c, argc, argv, 0);
}

static int cmd_takeover(struct ctx *c, int argc, char **argv)
{
	return con_take(c, argc, argv, 1);
}

static int cmd_renew(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	char *pos[1] = { NULL };
	int npos, r;

	r = parse_opts(c, "renew", argc, argv, opts, pos, 0, &npos);
	if (r)
		return r;
	if (lease_op(c, IPUMP_CMD_LEASE_RENEW, 0) < 0)
		return refused(c, "lease renew");
	c->holding = 1;
	schedule_renew(c);
	return ok(c, "renewed");
}

static int cmd_release(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { NULL, 0, NULL } };
	char *pos[1] = { NULL };
	int npos, r;

	r = parse_opts(c, "release", argc, argv, opts, pos, 0, &npos);
	if (r)
		return r;
	if (lease_op(c, IPUMP_CMD_LEASE_RELEASE, 0) < 0)
		return refused(c, "lease release");
	c->holding = 0;
	return ok(c, "released");
}

static int cmd_quit(struct ctx *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	c->quit = 1;
	return EX_OK;	/* the loop releases the lease and says so */
}

static int cmd_help(struct ctx *c, int argc, char **argv);

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* split @line into words in place; returns the count */
static int split_words(char *line, char **words, int max)
{
	int n = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
	return n;
}

static void con_line(struct ctx *c, char *line, uint32_t card, int ch)
{
	const struct command *cmd;
	char *words[64];
	int n = split_words(line, words, (int)ARRAY_SIZE(words));

	if (n < 0) {
		bad(c, "too many words");
		return;
	}
	if (!n || words[0][0] == '#')
		return;
	c->card = card;
	c->ch = ch;
	memset(&c->nl.st, 0, sizeof(c->nl.st));
	cmd = find_command(words[0], 1);
	if (!cmd) {
		bad(c, "unknown command '%s' (try 'help')", words[0]);
		return;
	}
	cmd->fn(c, n - 1, words + 1);
	c->card = card;
	c->ch = ch;
}

static void con_renew(struct ctx *c)
{
	char buf[768];

	if (lease_op(c, IPUMP_CMD_LEASE_RENEW, 0) == 0) {
		schedule_renew(c);
		return;
	}
	/* asynchronous notice: not the answer to a command */
	ipn_refusal(&c->nl, "lease renew", buf, sizeof(buf));
	printf("! lease lost or not renewable: %s; commands that need the lease "
	       "will be refused until 'acquire' or 'takeover'\n", buf);
	c->holding = 0;
}

static int cmd_console(struct ctx *c, int argc, char **argv)
{
	struct opt opts[] = { { "period", 1, NULL }, { "takeover", 0, NULL },
			      { NULL, 0, NULL } };
	static char buf[8192];
	size_t have = 0;
	uint32_t card;
	int npos, r, ch, eof = 0, status = EX_OK;
	char *pos[1] = { NULL }, b[64], w[32];
	struct sigaction sa;

	c->period_ms = 2000;
	r = parse_opts(c, "console", argc, argv, opts, pos, 1, &npos);
	if (r || (r = take_target(c, find_command("console", 0), pos, npos)) ||
	    (r = parse_period(c, opts, &c->period_ms)))
		return r;
	if (c->json)
		return bad(c, "console: -j/--json is for one-shot commands; the console "
			   "answers one 'ok ...' or 'error: ...' line per command");
	card = c->card;
	ch = c->ch;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (lease_op(c, optv(opts, "takeover") ? IPUMP_CMD_LEASE_TAKEOVER :
		     IPUMP_CMD_LEASE_ACQUIRE, c->period_ms) < 0)
		return refused(c, optv(opts, "takeover") ? "lease takeover" : "lease acquire");
	c->holding = 1;
	schedule_renew(c);
	c->console = 1;
	ok(c, "console on %s: lease %s, period %s, renewed every %s; 'help' lists "
	   "the commands", where(c, w, sizeof(w)),
	   optv(opts, "takeover") ? "taken over" : "acquired",
	   units_fmt_duration(c->period_ms, b, sizeof(b)),
	   units_fmt_duration(c->period_ms / 2, b + 32, sizeof(b) - 32));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!c->quit && !eof && !got_signal) {
		struct pollfd pfd[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = nl_socket_get_fd(c->nl.sk), .events = POLLIN },
		};
		int timeout = -1;

		if (c->holding) {
			uint64_t now = now_ms();

			timeout = c->next_renew_ms > now ? (int)(c->next_renew_ms - now) : 0;
		}
		r = poll(pfd, 2, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			status = EX_REFUSED;
			break;
		}
		if (c->holding && now_ms() >= c->next_renew_ms)
			con_renew(c);
		if (pfd[1].revents & POLLIN) {
			/* nothing is expected here between requests: drop it */
			char junk[4096];

			while (recv(pfd[1].fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
				;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(STDIN_FILENO, buf + have, sizeof(buf) - 1 - have);
			char *nl, *start;

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				eof = 1;
				if (have) {	/* a last line without newline */
					buf[have] = '\0';
					con_line(c, buf, card, ch);
					have = 0;
				}
				break;
			}
			have += (size_t)n;
			buf[have] = '\0';
			start = buf;
			while (!c->quit && (nl = strchr(start, '\n'))) {
				*nl = '\0';
				con_line(c, start, card, ch);
				start = nl + 1;
			}
			have -= (size_t)(start - buf);
			memmove(buf, start, have);
			if (have == sizeof(buf) - 1) {
				bad(c, "line too long");
				have = 0;
			}
			fflush(stdout);
			if (ferror(stdout))	/* the reader went away */
				break;
		}
	}
	c->card = card;
	c->ch = ch;
	if (c->holding) {
		if (lease_op(c, IPUMP_CMD_LEASE_RELEASE, 0) < 0) {
			refused(c, "lease release");
			status = EX_REFUSED;
		} else {
			ok(c, "lease released, console closed");
		}
	} else {
		ok(c, "console closed");
	}
	return status;
}

/* ---- the command table ---- */

static const struct command commands[] = {
	{ "help", TGT_NONE, cmd_help, "[COMMAND]", "this help, or one command's", 0 },
	{ "list", TGT_NONE, cmd_list, "", "the cards: id, name, serial, channels, "
	  "firmware, clock, log range, card alarms", 0 },
	{ "status", TGT_CARD_CH, cmd_status, "",
	  "every channel of a card, or one: state, rates, volumes, alarms, lease, "
	  "generation, programme", 0 },
	{ "log", TGT_CARD, cmd_log, "[--from SEQ]",
	  "the card's audit log (from SEQ), one record a line", 0 },
	{ "programme", TGT_CH, cmd_programme,
	  "--route iv|sc|epidural|intrathecal --basal RATE [--kvo RATE] "
	  "--vtbi VOLUME|unlimited [--pca --bolus VOLUME --bolus-rate RATE "
	  "--lockout DURATION --max-per-hour N] --dose-1h VOLUME --dose-4h VOLUME "
	  "[--lease-loss stop|kvo|basal] [--spinal-kvo] --generation N",
	  "load a programme (N: the generation it replaces, 0 for the first); KVO "
	  "defaults to 1ml/h on iv, 0 on other routes", 0 },
	{ "titrate", TGT_CH, cmd_titrate, "(the options of programme) --generation N",
	  "change the running programme (same route and PCA); needs the lease", 0 },
	{ "start", TGT_CH, cmd_start, "--generation N",
	  "start the loaded programme; needs the lease", 0 },
	{ "resume", TGT_CH, cmd_resume, "--generation N",
	  "resume a paused channel; needs the lease", 0 },
	{ "clear", TGT_CH, cmd_clear, "--generation N", "unload the programme", 0 },
	{ "stop", TGT_CH, cmd_stop, "", "stop (never needs the lease)", 0 },
	{ "pause", TGT_CH, cmd_pause, "", "pause, keeping the programme (no lease)", 0 },
	{ "bolus", TGT_CH, cmd_bolus,
	  "--clinician --volume VOLUME --rate RATE | --demand",
	  "a clinician bolus, or a PCA demand; needs the lease", 0 },
	{ "cancel-bolus", TGT_CH, cmd_cancel_bolus, "",
	  "cancel the bolus in progress; prints the volume delivered", 0 },
	{ "ack", TGT_CARD_CH, cmd_ack, "",
	  "acknowledge the channel's alarms (the card's with CARD alone; --card "
	  "inside the console)", 0 },
	{ "audio-pause", TGT_CH, cmd_audio_pause, "--for DURATION",
	  "silence the alarm audio for up to 2 minutes", 0 },
	{ "limits", TGT_CH, cmd_limits, "", "the channel's hard limits", 0 },
	{ "set-limits", TGT_CH, cmd_set_limits,
	  "--min-rate RATE --max-rate RATE --max-kvo-rate RATE --max-bolus VOLUME "
	  "--max-bolus-rate RATE --min-lockout DURATION --max-vtbi VOLUME "
	  "--max-dose-1h VOLUME --max-dose-4h VOLUME --max-per-hour N "
	  "--air-bubble VOLUME --air-accum VOLUME --over-infusion PCT "
	  "--under-infusion PCT --stall DURATION [--from-current]",
	  "set every hard limit (CAP_SYS_ADMIN, channel not delivering); "
	  "--from-current keeps the current value of those not given", 0 },
	{ "lease", TGT_CH, cmd_lease, "", "who holds the channel's console lease", 0 },
	{ "console", TGT_CH, cmd_console, "[--period DURATION] [--takeover]",
	  "hold the channel's lease and read commands from stdin (default period 2s)",
	  CMD_ONESHOT_ONLY },
	{ "acquire", TGT_NONE, cmd_acquire, "[--period DURATION]",
	  "acquire the lease again", CMD_CONSOLE_ONLY },
	{ "takeover", TGT_NONE, cmd_takeover, "[--period DURATION]",
	  "take an orphaned lease over", CMD_CONSOLE_ONLY },
	{ "renew", TGT_NONE, cmd_renew, "", "renew the lease now (also automatic)",
	  CMD_CONSOLE_ONLY },
	{ "release", TGT_NONE, cmd_release, "", "release the lease", CMD_CONSOLE_ONLY },
	{ "quit", TGT_NONE, cmd_quit, "", "release the lease and leave", CMD_CONSOLE_ONLY },
	{ "exit", TGT_NONE, cmd_quit, "", "the same as quit", CMD_CONSOLE_ONLY },
};

static const struct command *find_command(const char *name, int console)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct command *k = &commands[i];

		if (strcmp(k->name, name))
			continue;
		if (console && (k->flags & CMD_ONESHOT_ONLY))
			return NULL;
		if (!console && (k->flags & CMD_CONSOLE_ONLY))
			return NULL;
		return k;
	}
	return NULL;
}

static void print_usage_line(struct ctx *c, const struct command *k)
{
	const char *t = "";

	if (!c->console)
		t = k->tgt == TGT_CH ? " CARD/CH" : k->tgt == TGT_CARD ? " CARD" :
		    k->tgt == TGT_CARD_CH ? " CARD[/CH]" : "";
	/* help prints text and the console refuses -j */
	int no_json = !strcmp(k->name, "help") || !strcmp(k->name, "console");

	out(c, "  %s%s%s%s%s", c->console ? "" : no_json ? "ipumpctl " : "ipumpctl [-j] ",
	    k->name, t,
	    k->args[0] ? " " : "", k->args);
	out(c, "      %s", k->help);
}

static int usage_of(struct ctx *c, const struct command *k)
{
	print_usage_line(c, k);
	return c->console ? ok(c, "%s", "") : EX_OK;
}

static int cmd_help(struct ctx *c, int argc, char **argv)
{
	const struct command *k;

	if (argc > 1)
		return bad(c, "help: one command at most");
	if (argc == 1) {
		k = find_command(argv[0], c->console);
		if (!k)
			return bad(c, "help: no command '%s'", argv[0]);
		return usage_of(c, k);
	}
	if (!c->console) {
		out(c, "usage: ipumpctl COMMAND [CARD[/CH]] [OPTIONS]");
		out(c, "  CARD is N or ipumpN, CH a channel number (e.g. 0/1).");
		out(c, "  Every volume, rate and duration needs its unit:");
		out(c, "    VOLUME   %s", units_accepted(UNITS_VOLUME));
		out(c, "    RATE     %s", units_accepted(UNITS_RATE));
		out(c, "    DURATION %s", units_accepted(UNITS_DURATION));
		out(c, "  Values are converted exactly to nl, nl/h and ms; an inexact "
		    "value is refused, never rounded.");
		out(c, "  -j, --json (before or after the command): one JSON document on "
		    "stdout: list and");
		out(c, "    status of a card an array, status of a channel, limits and lease "
		    "an object, log");
		out(c, "    one object a line, the other commands {\"ok\":true,...}; "
		    "integer units (nl, nl_per_h, ms, ns).");
		out(c, "  Exit status: 0 done, 1 refused or failed, 2 bad usage.");
		out(c, "%s", "");
	} else {
		out(c, "console commands (the channel is implied); results: 'ok ...' "
		    "or 'error: ...', other lines start with '| ' or '! ':");
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		k = &commands[i];
		if (c->console && (k->flags & CMD_ONESHOT_ONLY))
			continue;
		if (!c->console && (k->flags & CMD_CONSOLE_ONLY))
			continue;
		print_usage_line(c, k);
	}
	if (!c->console) {
		out(c, "%s", "");
		out(c, "Inside 'ipumpctl console' also: acquire, takeover, renew, release, "
		    "quit.");
		out(c, "Start, resume, titrate and bolus need the console lease: a one-shot "
		    "command holds none, so the kernel refuses them; use the console.");
	}
	return c->console ? ok(c, "%s", "") : EX_OK;
}

int main(int argc, char **argv)
{
	const struct command *k;
	struct ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.ch = -1;
	/* -j/--json before the command; after it, parse_opts() takes it */
	while (argc > 1 && (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json"))) {
		c.json = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		cmd_help(&c, 0, NULL);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(&c, 0, NULL);
	k = find_command(argv[1], 0);
	if (!k) {
		if (find_command(argv[1], 1))
			return bad(&c, "'%s' exists only inside 'ipumpctl console CARD/CH'",
				   argv[1]);
		if (argv[1][0] == '-')
			return bad(&c, "unknown option '%s' before the command (only -j, "
				   "--json, -h, --help go there; see 'ipumpctl help')",
				   argv[1]);
		return bad(&c, "unknown command '%s' (see 'ipumpctl help')", argv[1]);
	}
	r = k->fn(&c, argc - 2, argv + 2);
	ipn_close(&c.nl);
	return r;
}
