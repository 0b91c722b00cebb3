// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic netlink family "ipump" over raw netlink sockets
 * (Documentation/userspace-api/ipump-netlink.rst,
 * Documentation/netlink/specs/ipump.yaml), on simulated cards.
 *
 * Every refusal is paired with the same request succeeding once its
 * condition is gone (CONTRACTS.md, "Tests that cannot pass by accident"),
 * and a refusal is shown to have changed nothing. Extended acks are read
 * byte by byte (ipump_nl_lib.h): message, offset of the offending
 * attribute, the reason cookie, the policy of a range refusal.
 *
 * No libnl: the VM has no shared libraries for kselftest binaries.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/ipump.h>

#include "kselftest_harness.h"
#include "ipump_test_lib.h"
#include "ipump_nl_lib.h"

#define NL_PER_ML	1000000U	/* nL per mL; also nL/h per mL/h */
#define LEASE_MS	60000
#define NCH		3		/* channels of the fixture's card */
#define NO_CARD		0x7ffffff0U	/* a card id nobody has */
#define DUMP_BUF	8192		/* small recv() buffer: many parts */
#define MAX_CARDS	64
#define CONS_CARDS	16		/* cards of the dump-consistency test */
#define BIT64(n)	(1ULL << (n))

/* the parameters a helper needs for ASSERT_*() */
#define MD	struct __test_metadata *_metadata

/* ---- struct <-> nest tables, as the driver's (one attribute per member) */

struct field {
	__u16 attr;
	__u16 off;
	__u8 size;
};

#define FLD(_prefix, _attr, _type, _member) {				\
	.attr = _prefix##_attr,						\
	.off = offsetof(_type, _member),				\
	.size = sizeof(((_type *)0)->_member),				\
}
#define PF(a, m)	FLD(IPUMP_A_PROG_, a, struct ipump_programme, m)
#define LF(a, m)	FLD(IPUMP_A_LIM_, a, struct ipump_hard_limits, m)
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static const struct field prog_fields[] = {
	PF(ROUTE, route),
	PF(FLAGS, flags),
	PF(BASAL_RATE_NL_PER_H, basal_rate_nl_per_h),
	PF(KVO_RATE_NL_PER_H, kvo_rate_nl_per_h),
	PF(VTBI_NL, vtbi_nl),
	PF(BOLUS_VOLUME_NL, bolus_volume_nl),
	PF(BOLUS_RATE_NL_PER_H, bolus_rate_nl_per_h),
	PF(LOCKOUT_MS, lockout_ms),
	PF(MAX_BOLUSES_PER_HOUR, max_boluses_per_hour),
	PF(MAX_DOSE_1H_NL, max_dose_1h_nl),
	PF(MAX_DOSE_4H_NL, max_dose_4h_nl),
	PF(LEASE_LOSS_MODE, lease_loss_mode),
};

static const struct field lim_fields[] = {
	LF(MIN_RATE_NL_PER_H, min_rate_nl_per_h),
	LF(MAX_RATE_NL_PER_H, max_rate_nl_per_h),
	LF(MAX_KVO_RATE_NL_PER_H, max_kvo_rate_nl_per_h),
	LF(MAX_BOLUS_VOLUME_NL, max_bolus_volume_nl),
	LF(MAX_BOLUS_RATE_NL_PER_H, max_bolus_rate_nl_per_h),
	LF(MIN_LOCKOUT_MS, min_lockout_ms),
	LF(MAX_VTBI_NL, max_vtbi_nl),
	LF(MAX_DOSE_1H_NL, max_dose_1h_nl),
	LF(MAX_DOSE_4H_NL, max_dose_4h_nl),
	LF(MAX_BOLUSES_PER_HOUR, max_boluses_per_hour),
	LF(AIR_BUBBLE_NL, air_bubble_nl),
	LF(AIR_ACCUM_NL, air_accum_nl),
	LF(OVER_INFUSION_PCT, over_infusion_pct),
	LF(UNDER_INFUSION_PCT, under_infusion_pct),
	LF(STALL_MS, stall_ms),
};

/* Puts the members of @base as a nest, leaving out attribute @skip (0: none). */
static int put_fields(struct inl_msg *m, __u16 nest_attr,
		      const struct field *f, unsigned int n, const void *base,
		      __u16 skip)
{
	unsigned int i;
	int nest;

	nest = inl_nest_start(m, nest_attr);
	if (nest < 0)
		return nest;
	for (i = 0; i < n; i++) {
		const char *p = (const char *)base + f[i].off;

		if (f[i].attr == skip)
			continue;
		if (inl_put(m, f[i].attr, p, f[i].size) < 0)
			return -ENOSPC;
	}
	inl_nest_end(m, nest);
	return nest;
}

/* A nest into the members of @base (zeroed first): how many were there. */
static int get_fields(const struct nlattr *nest, const struct field *f,
		      unsigned int n, void *base, size_t size)
{
	const struct nlattr *tb[64];
	unsigned int i;
	int found = 0;

	memset(base, 0, size);
	if (inl_parse_nested(nest, tb, 63))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		char *p = (char *)base + f[i].off;

		if (!tb[f[i].attr] || inl_nla_len(tb[f[i].attr]) != f[i].size)
			continue;
		memcpy(p, inl_nla_data(tb[f[i].attr]), f[i].size);
		found++;
	}
	return found;
}

/* ---- what the replies carry */

struct chan {
	__u32 card, channel;
	bool has_status, has_prog, has_gen;
	__u32 state, lease, rate;
	__u64 alarms, st_generation;
	__u64 generation;		/* IPUMP_A_GENERATION */
	struct ipump_programme prog;
	int prog_fields;		/* members found in the PROGRAMME nest */
};

static int parse_chan(const struct nlmsghdr *nlh, struct chan *c)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1], *st[IPUMP_A_ST_MAX + 1];

	memset(c, 0, sizeof(*c));
	if (inl_genl_parse(nlh, tb, IPUMP_A_MAX) || !tb[IPUMP_A_CARD_ID] ||
	    !tb[IPUMP_A_CHANNEL])
		return -EBADMSG;
	c->card = inl_get_u32(tb[IPUMP_A_CARD_ID]);
	c->channel = inl_get_u32(tb[IPUMP_A_CHANNEL]);
	if (tb[IPUMP_A_STATUS]) {
		if (inl_parse_nested(tb[IPUMP_A_STATUS], st, IPUMP_A_ST_MAX) ||
		    !st[IPUMP_A_ST_STATE] || !st[IPUMP_A_ST_LEASE] ||
		    !st[IPUMP_A_ST_ALARMS] || !st[IPUMP_A_ST_GENERATION] ||
		    !st[IPUMP_A_ST_RATE_NL_PER_H])
			return -EBADMSG;
		c->has_status = true;
		c->state = inl_get_u32(st[IPUMP_A_ST_STATE]);
		c->lease = inl_get_u32(st[IPUMP_A_ST_LEASE]);
		c->rate = inl_get_u32(st[IPUMP_A_ST_RATE_NL_PER_H]);
		c->alarms = inl_get_u64(st[IPUMP_A_ST_ALARMS]);
		c->st_generation = inl_get_u64(st[IPUMP_A_ST_GENERATION]);
	}
	if (tb[IPUMP_A_GENERATION]) {
		c->has_gen = true;
		c->generation = inl_get_u64(tb[IPUMP_A_GENERATION]);
	}
	if (tb[IPUMP_A_PROGRAMME]) {
		c->has_prog = true;
		c->prog_fields = get_fields(tb[IPUMP_A_PROGRAMME], prog_fields,
					    ARRAY_LEN(prog_fields), &c->prog,
					    sizeof(c->prog));
	}
	return 0;
}

static int parse_event(const struct nlmsghdr *nlh, __u32 *card_id,
		       struct ipump_event *ev)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1], *e[IPUMP_A_EV_MAX + 1];
	static const int req[] = {
		IPUMP_A_EV_SEQ, IPUMP_A_EV_TIMESTAMP_NS, IPUMP_A_EV_CARD,
		IPUMP_A_EV_TYPE, IPUMP_A_EV_CHANNEL, IPUMP_A_EV_PRIORITY,
		IPUMP_A_EV_VALUE0, IPUMP_A_EV_VALUE1, IPUMP_A_EV_VALUE2,
		IPUMP_A_EV_VALUE3, IPUMP_A_EV_FLAGS,
	};
	unsigned int i;

	memset(ev, 0, sizeof(*ev));
	if (inl_genl_parse(nlh, tb, IPUMP_A_MAX) || !tb[IPUMP_A_CARD_ID] ||
	    !tb[IPUMP_A_EVENT] ||
	    inl_parse_nested(tb[IPUMP_A_EVENT], e, IPUMP_A_EV_MAX))
		return -EBADMSG;
	for (i = 0; i < ARRAY_LEN(req); i++)
		if (!e[req[i]])
			return -EBADMSG;
	*card_id = inl_get_u32(tb[IPUMP_A_CARD_ID]);
	ev->seq = inl_get_u64(e[IPUMP_A_EV_SEQ]);
	ev->timestamp_ns = inl_get_u64(e[IPUMP_A_EV_TIMESTAMP_NS]);
	ev->card = inl_get_u32(e[IPUMP_A_EV_CARD]);
	ev->type = inl_get_u32(e[IPUMP_A_EV_TYPE]);
	ev->channel = inl_get_u32(e[IPUMP_A_EV_CHANNEL]);
	ev->priority = inl_get_u32(e[IPUMP_A_EV_PRIORITY]);
	ev->value[0] = inl_get_u64(e[IPUMP_A_EV_VALUE0]);
	ev->value[1] = inl_get_u64(e[IPUMP_A_EV_VALUE1]);
	ev->value[2] = inl_get_u64(e[IPUMP_A_EV_VALUE2]);
	ev->value[3] = inl_get_u64(e[IPUMP_A_EV_VALUE3]);
	ev->flags = inl_get_u32(e[IPUMP_A_EV_FLAGS]);
	return 0;
}

/* ---- requests */

static char reply[INL_RX_MAX] __attribute__((aligned(8)));

static void req_init(struct inl_msg *m, const struct inl_family *f, __u8 cmd)
{
	inl_msg_init(m, f->id, 0, cmd, IPUMP_GENL_VERSION);
}

/* offsets of the attributes of the last request built by req_ch() & co. */
struct offs {
	int card, channel, generation, nest, extra;
};

static void req_ch(struct inl_msg *m, const struct inl_family *f, __u8 cmd,
		   __u32 card, __u32 ch, struct offs *o)
{
	struct offs local;

	if (!o)
		o = &local;
	memset(o, 0, sizeof(*o));
	req_init(m, f, cmd);
	o->card = inl_put_u32(m, IPUMP_A_CARD_ID, card);
	o->channel = inl_put_u32(m, IPUMP_A_CHANNEL, ch);
}

/* A command on a channel, with GENERATION if @gen >= 0 and one u32 attribute
 * @xattr (if not 0). The errno, extended ack in @e.
 */
static int nl_cmd(struct inl_sock *s, const struct inl_family *f, __u8 cmd,
		  __u32 card, __u32 ch, long long gen, __u16 xattr, __u32 xval,
		  struct inl_ext *e, struct offs *o)
{
	struct offs local;
	struct inl_msg m;

	if (!o)
		o = &local;
	req_ch(&m, f, cmd, card, ch, o);
	if (gen >= 0)
		o->generation = inl_put_u64(&m, IPUMP_A_GENERATION, (__u64)gen);
	if (xattr)
		o->extra = inl_put_u32(&m, xattr, xval);
	return inl_transact(s, &m, NULL, 0, e);
}

#define do_stop(s, f, card, ch, e) \
	nl_cmd(s, f, IPUMP_CMD_STOP, card, ch, -1, 0, 0, e, NULL)
#define do_start(s, f, card, ch, gen, e) \
	nl_cmd(s, f, IPUMP_CMD_START, card, ch, gen, 0, 0, e, NULL)
#define do_acquire(s, f, card, ch, e) \
	nl_cmd(s, f, IPUMP_CMD_LEASE_ACQUIRE, card, ch, -1, \
	       IPUMP_A_LEASE_PERIOD_MS, LEASE_MS, e, NULL)
#define do_takeover(s, f, card, ch, e) \
	nl_cmd(s, f, IPUMP_CMD_LEASE_TAKEOVER, card, ch, -1, \
	       IPUMP_A_LEASE_PERIOD_MS, LEASE_MS, e, NULL)
#define do_renew(s, f, card, ch, e) \
	nl_cmd(s, f, IPUMP_CMD_LEASE_RENEW, card, ch, -1, 0, 0, e, NULL)
#define do_release(s, f, card, ch, e) \
	nl_cmd(s, f, IPUMP_CMD_LEASE_RELEASE, card, ch, -1, 0, 0, e, NULL)

/*
 * PROGRAMME_SET or TITRATE (@cmd) based on *gen; on success the reply's
 * GENERATION in *gen.
 */
static int prog_cmd(struct inl_sock *s, const struct inl_family *f, __u8 cmd,
		    __u32 card, __u32 ch, __u64 *gen,
		    const struct ipump_programme *p, struct inl_ext *e,
		    struct offs *o)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1];
	struct offs local;
	struct inl_msg m;
	int ret;

	if (!o)
		o = &local;
	req_ch(&m, f, cmd, card, ch, o);
	o->generation = inl_put_u64(&m, IPUMP_A_GENERATION, *gen);
	o->nest = put_fields(&m, IPUMP_A_PROGRAMME, prog_fields,
			     ARRAY_LEN(prog_fields), p, 0);
	memset(reply, 0, sizeof(struct nlmsghdr));
	ret = inl_transact(s, &m, reply, sizeof(reply), e);
	if (ret)
		return ret;
	if (inl_genl_parse((struct nlmsghdr *)reply, tb, IPUMP_A_MAX) ||
	    !tb[IPUMP_A_GENERATION] || !tb[IPUMP_A_CARD_ID] ||
	    !tb[IPUMP_A_CHANNEL] || inl_get_u32(tb[IPUMP_A_CARD_ID]) != card ||
	    inl_get_u32(tb[IPUMP_A_CHANNEL]) != ch)
		return -EBADMSG;
	*gen = inl_get_u64(tb[IPUMP_A_GENERATION]);
	return 0;
}

#define prog_set(s, f, card, ch, gen, p, e, o) \
	prog_cmd(s, f, IPUMP_CMD_PROGRAMME_SET, card, ch, gen, p, e, o)
#define titrate(s, f, card, ch, gen, p, e, o) \
	prog_cmd(s, f, IPUMP_CMD_TITRATE, card, ch, gen, p, e, o)

static int chan_get(struct inl_sock *s, const struct inl_family *f, __u32 card,
		    __u32 ch, struct chan *c, struct inl_ext *e)
{
	struct inl_msg m;
	int ret;

	req_ch(&m, f, IPUMP_CMD_CHANNEL_GET, card, ch, NULL);
	ret = inl_transact(s, &m, reply, sizeof(reply), e);
	if (ret)
		return ret;
	return parse_chan((struct nlmsghdr *)reply, c);
}

/* A request whose reply must carry attribute @need: parsed into @tb. */
static int transact_with(struct inl_sock *s, struct inl_msg *m,
			 struct inl_ext *e, const struct nlattr **tb, __u16 need)
{
	int ret = inl_transact(s, m, reply, sizeof(reply), e);

	if (ret)
		return ret;
	if (inl_genl_parse((struct nlmsghdr *)reply, tb, IPUMP_A_MAX) ||
	    !tb[need])
		return -EBADMSG;
	return 0;
}

static int limits_get(struct inl_sock *s, const struct inl_family *f,
		      __u32 card, __u32 ch, struct ipump_hard_limits *l)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1];
	struct inl_msg m;
	int ret;

	req_ch(&m, f, IPUMP_CMD_LIMITS_GET, card, ch, NULL);
	ret = transact_with(s, &m, NULL, tb, IPUMP_A_LIMITS);
	if (ret)
		return ret;
	ret = get_fields(tb[IPUMP_A_LIMITS], lim_fields, ARRAY_LEN(lim_fields),
			 l, sizeof(*l));
	return ret == (int)ARRAY_LEN(lim_fields) ? 0 : -EBADMSG;
}

static int limits_set(struct inl_sock *s, const struct inl_family *f,
		      __u32 card, __u32 ch, const struct ipump_hard_limits *l,
		      struct inl_ext *e)
{
	struct inl_msg m;

	req_ch(&m, f, IPUMP_CMD_LIMITS_SET, card, ch, NULL);
	put_fields(&m, IPUMP_A_LIMITS, lim_fields, ARRAY_LEN(lim_fields), l, 0);
	return inl_transact(s, &m, NULL, 0, e);
}

static struct ipump_programme prog_basal(__u32 route, __u32 basal)
{
	struct ipump_programme p;

	memset(&p, 0, sizeof(p));
	p.route = route;
	p.flags = IPUMP_PROG_VTBI_UNLIMITED;
	p.basal_rate_nl_per_h = basal;
	p.max_dose_1h_nl = 30 * NL_PER_ML;	/* the default hard limits */
	p.max_dose_4h_nl = 120 * NL_PER_ML;
	p.lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	return p;
}

/* the reason in the extended ack's cookie, -1 if there is none */
static long long cookie_reason(const struct inl_ext *e)
{
	__u32 r;

	return inl_cookie_u32(e, IPUMP_A_REASON, &r) ? -1 : (long long)r;
}

/*
 * A refusal's extended ack: errno @err, message @msg (NULL: any, but one),
 * reason cookie @reason (< 0: no cookie) and, if @offs > 0, the offending
 * attribute's offset.
 */
static void expect_refusal(MD, const char *what, int ret, const struct inl_ext *e,
			   int err, const char *msg, int reason, int offs)
{
	EXPECT_EQ(err, ret) TH_LOG("%s: %s (msg \"%s\")", what, strerror(-ret),
				   e->msg);
	if (msg) {
		EXPECT_STREQ(msg, e->msg) TH_LOG("%s: extack message", what);
	} else {
		EXPECT_TRUE(e->has_msg && e->msg[0]) TH_LOG("%s: no extack message", what);
	}
	if (reason >= 0) {
		EXPECT_EQ(reason, cookie_reason(e)) TH_LOG("%s: reason cookie", what);
		EXPECT_EQ(8, e->cookie_len) TH_LOG("%s: cookie length", what);
	} else {
		EXPECT_EQ(0, e->cookie_len) TH_LOG("%s: unexpected cookie", what);
	}
	if (offs > 0) {
		EXPECT_TRUE(e->has_offs) TH_LOG("%s: no NLMSGERR_ATTR_OFFS", what);
		EXPECT_EQ((__u32)offs, e->offs) TH_LOG("%s: offending attribute", what);
	}
}

/* A new socket for @f (its family already resolved): asserts. */
static void open_sock(MD, struct inl_sock *s)
{
	int ret = inl_open(s);

	ASSERT_EQ(0, ret) TH_LOG("netlink socket: %s", strerror(-ret));
}

/* ---- the fixture: one simulated card of NCH channels and a socket */

FIXTURE(nl) {
	struct ipt_card c;
	struct inl_sock s;
	struct inl_family fam;
	__u32 monitor;
	__u32 card;
};

FIXTURE_SETUP(nl)
{
	int err;

	self->s.fd = -1;
	err = ipt_card_create(&self->c, "nlt", NCH);
	ASSERT_EQ(0, err) TH_LOG("creating a simulated card: %s", strerror(-err));
	self->card = self->c.num;
	err = inl_open(&self->s);
	if (!err)
		err = inl_get_family(&self->s, IPUMP_GENL_NAME, &self->fam);
	if (!err)
		err = inl_group_id(&self->fam, IPUMP_GENL_MCGRP_MONITOR,
				   &self->monitor);
	if (err) {
		inl_close(&self->s);
		ipt_card_destroy(&self->c);	/* no teardown after a failed setup */
		ASSERT_EQ(0, err) TH_LOG("family %s: %s", IPUMP_GENL_NAME,
					 strerror(-err));
	}
}

FIXTURE_TEARDOWN(nl)
{
	inl_close(&self->s);
	EXPECT_EQ(0, ipt_card_destroy(&self->c));
}

/* ---- 1. card and channel gets */

struct card_seen {
	__u32 want;
	int count, total, bad, dup_ids;
	__u64 serial;
	__u32 num_channels, clock;
	__u32 ids[1024];
};

static int card_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1], *c[IPUMP_A_CARD_MAX + 1];
	struct card_seen *cs = arg;
	__u32 id;
	int i;

	if (inl_genlhdr(nlh)->cmd != IPUMP_CMD_CARD_GET ||
	    inl_genl_parse(nlh, tb, IPUMP_A_MAX) || !tb[IPUMP_A_CARD_ID] ||
	    !tb[IPUMP_A_CARD] ||
	    inl_parse_nested(tb[IPUMP_A_CARD], c, IPUMP_A_CARD_MAX) ||
	    !c[IPUMP_A_CARD_SERIAL] || !c[IPUMP_A_CARD_NUM_CHANNELS]) {
		cs->bad++;
		return 0;
	}
	id = inl_get_u32(tb[IPUMP_A_CARD_ID]);
	for (i = 0; i < cs->total && i < (int)ARRAY_LEN(cs->ids); i++)
		if (cs->ids[i] == id)
			cs->dup_ids++;
	if (cs->total < (int)ARRAY_LEN(cs->ids))
		cs->ids[cs->total] = id;
	cs->total++;
	if (id != cs->want)
		return 0;
	cs->count++;
	cs->serial = inl_get_u64(c[IPUMP_A_CARD_SERIAL]);
	cs->num_channels = inl_get_u32(c[IPUMP_A_CARD_NUM_CHANNELS]);
	cs->clock = c[IPUMP_A_CARD_CLOCK] ? inl_get_u32(c[IPUMP_A_CARD_CLOCK]) : 99;
	return 0;
}

static unsigned long long cfs_serial(MD, const struct ipt_card *c)
{
	unsigned long long v = 0;
	char path[160];

	snprintf(path, sizeof(path), IPT_CFS "%s/serial", c->name);
	ASSERT_EQ(0, ipt_read_ull(path, &v)) TH_LOG("reading %s", path);
	return v;
}

TEST_F_TIMEOUT(nl, card_get_do_and_dump, 120)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1], *c[IPUMP_A_CARD_MAX + 1];
	unsigned long long serial = cfs_serial(_metadata, &self->c);
	struct card_seen cs;
	struct inl_dump d;
	struct inl_ext e;
	struct inl_msg m;
	int ret, off;

	EXPECT_EQ(IPUMP_GENL_VERSION, self->fam.version);

	/* an unknown card: -ENODEV "no such card", pointing at CARD_ID ... */
	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	off = inl_put_u32(&m, IPUMP_A_CARD_ID, NO_CARD);
	ret = inl_transact(&self->s, &m, reply, sizeof(reply), &e);
	expect_refusal(_metadata, "unknown card", ret, &e, -ENODEV,
		       "no such card", -1, off);

	/* ... the same request for the test's card works */
	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, self->card);
	ret = inl_transact(&self->s, &m, reply, sizeof(reply), &e);
	ASSERT_EQ(0, ret) TH_LOG("CARD_GET: %s %s", strerror(-ret), e.msg);
	ASSERT_EQ(0, inl_genl_parse((struct nlmsghdr *)reply, tb, IPUMP_A_MAX));
	EXPECT_EQ(IPUMP_CMD_CARD_GET, inl_genlhdr((struct nlmsghdr *)reply)->cmd);
	ASSERT_NE(NULL, tb[IPUMP_A_CARD_ID]);
	EXPECT_EQ(self->card, inl_get_u32(tb[IPUMP_A_CARD_ID]));
	ASSERT_NE(NULL, tb[IPUMP_A_CARD]);
	ASSERT_EQ(0, inl_parse_nested(tb[IPUMP_A_CARD], c, IPUMP_A_CARD_MAX));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_SERIAL]);
	EXPECT_EQ(serial, inl_get_u64(c[IPUMP_A_CARD_SERIAL]));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_NUM_CHANNELS]);
	EXPECT_EQ(NCH, inl_get_u32(c[IPUMP_A_CARD_NUM_CHANNELS]));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_CLOCK]);
	EXPECT_EQ(IPUMP_CLOCK_SIMULATED, inl_get_u32(c[IPUMP_A_CARD_CLOCK]));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_NAME]);
	EXPECT_STREQ(self->c.card, inl_get_str(c[IPUMP_A_CARD_NAME]));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_LOG_OLDEST_SEQ]);
	ASSERT_NE(NULL, c[IPUMP_A_CARD_LOG_NEXT_SEQ]);
	EXPECT_EQ(1, inl_get_u64(c[IPUMP_A_CARD_LOG_OLDEST_SEQ]));
	/* CARD_ADDED at least */
	EXPECT_LE(2, inl_get_u64(c[IPUMP_A_CARD_LOG_NEXT_SEQ]));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_FW_VERSION]);
	ASSERT_NE(NULL, c[IPUMP_A_CARD_NL_PER_STEP]);
	ASSERT_NE(NULL, c[IPUMP_A_CARD_WDT_PERIOD_MS]);
	ASSERT_NE(NULL, c[IPUMP_A_CARD_ALARMS]);
	ASSERT_NE(NULL, c[IPUMP_A_CARD_LOG_WRAPPED]);

	/* dump of every card: the test's card exactly once, ids unique */
	memset(&cs, 0, sizeof(cs));
	cs.want = self->card;
	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	ret = inl_dump_all(&self->s, &m, &d, INL_RX_MAX, card_cb, &cs);
	ASSERT_EQ(0, ret) TH_LOG("CARD_GET dump: %s", strerror(-ret));
	EXPECT_EQ(1, cs.count);
	EXPECT_EQ(0, cs.bad);
	EXPECT_EQ(0, cs.dup_ids);
	EXPECT_EQ(serial, cs.serial);
	EXPECT_EQ(NCH, cs.num_channels);
	EXPECT_EQ(IPUMP_CLOCK_SIMULATED, cs.clock);

	/* dump limited by CARD_ID: that card only; an unknown one: empty */
	memset(&cs, 0, sizeof(cs));
	cs.want = self->card;
	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, self->card);
	ASSERT_EQ(0, inl_dump_all(&self->s, &m, &d, INL_RX_MAX, card_cb, &cs));
	EXPECT_EQ(1, cs.total);
	EXPECT_EQ(1, cs.count);
	EXPECT_EQ(serial, cs.serial);
	memset(&cs, 0, sizeof(cs));
	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, NO_CARD);
	ASSERT_EQ(0, inl_dump_all(&self->s, &m, &d, INL_RX_MAX, card_cb, &cs));
	EXPECT_EQ(0, cs.total);
}

struct chan_seen {
	__u32 card;
	int n;
	struct chan c[IPUMP_MAX_CHANNELS];
	int bad, foreign;
};

static int chan_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct chan_seen *cs = arg;
	struct chan c;

	if (inl_genlhdr(nlh)->cmd != IPUMP_CMD_CHANNEL_GET || parse_chan(nlh, &c)) {
		cs->bad++;
		return 0;
	}
	if (c.card != cs->card) {
		cs->foreign++;
		return 0;
	}
	if (cs->n < IPUMP_MAX_CHANNELS)
		cs->c[cs->n] = c;
	cs->n++;
	return 0;
}

TEST_F_TIMEOUT(nl, channel_get_and_programme, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 2 * NL_PER_ML);
	struct chan_seen cs;
	struct inl_dump d;
	struct inl_ext e;
	struct inl_msg m;
	struct offs o;
	struct chan c;
	__u64 gen = 0;
	int ret, i;

	/* a channel the card does not have, then the last one it has */
	req_ch(&m, &self->fam, IPUMP_CMD_CHANNEL_GET, self->card, NCH, &o);
	ret = inl_transact(&self->s, &m, reply, sizeof(reply), &e);
	expect_refusal(_metadata, "channel NCH", ret, &e, -EINVAL,
		       "no such channel on this card", -1, o.channel);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, NCH - 1, &c, &e));
	EXPECT_EQ(NCH - 1, c.channel);

	/* before any programme: a status, no GENERATION nor PROGRAMME */
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(self->card, c.card);
	EXPECT_EQ(0, c.channel);
	ASSERT_TRUE(c.has_status);
	EXPECT_EQ(IPUMP_STATE_IDLE, c.state);
	EXPECT_EQ(0, c.st_generation);
	EXPECT_EQ(IPUMP_LEASE_FREE, c.lease);
	EXPECT_FALSE(c.has_prog);
	EXPECT_FALSE(c.has_gen);

	/* PROGRAMME_SET: the reply carries the new generation */
	ret = prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL);
	ASSERT_EQ(0, ret) TH_LOG("PROGRAMME_SET: %s: %s", strerror(-ret), e.msg);
	EXPECT_EQ(1, gen);

	/* CHANNEL_GET: the programme as set, and its generation */
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	ASSERT_TRUE(c.has_status);
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, c.state);
	EXPECT_EQ(1, c.st_generation);
	ASSERT_TRUE(c.has_gen);
	EXPECT_EQ(1, c.generation);
	ASSERT_TRUE(c.has_prog);
	EXPECT_EQ((int)ARRAY_LEN(prog_fields), c.prog_fields);
	EXPECT_EQ(0, memcmp(&p, &c.prog, sizeof(p)));
	EXPECT_EQ(2 * NL_PER_ML, c.prog.basal_rate_nl_per_h);

	/* the other channels were left alone */
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 1, &c, &e));
	EXPECT_EQ(IPUMP_STATE_IDLE, c.state);
	EXPECT_FALSE(c.has_prog);

	/* a dump limited to the card: its NCH channels, in order */
	memset(&cs, 0, sizeof(cs));
	cs.card = self->card;
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, self->card);
	ret = inl_dump_all(&self->s, &m, &d, INL_RX_MAX, chan_cb, &cs);
	ASSERT_EQ(0, ret) TH_LOG("CHANNEL_GET dump: %s", strerror(-ret));
	ASSERT_EQ(NCH, cs.n);
	EXPECT_EQ(0, cs.bad);
	EXPECT_EQ(0, cs.foreign);
	for (i = 0; i < NCH; i++) {
		EXPECT_EQ((__u32)i, cs.c[i].channel);
		EXPECT_TRUE(cs.c[i].has_status);
		EXPECT_EQ(i == 0, cs.c[i].has_prog);
	}
	EXPECT_EQ(1, cs.c[0].generation);
	EXPECT_EQ(0, memcmp(&p, &cs.c[0].prog, sizeof(p)));

	/* ... and to one channel of it */
	memset(&cs, 0, sizeof(cs));
	cs.card = self->card;
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, self->card);
	inl_put_u32(&m, IPUMP_A_CHANNEL, 1);
	ASSERT_EQ(0, inl_dump_all(&self->s, &m, &d, INL_RX_MAX, chan_cb, &cs));
	ASSERT_EQ(1, cs.n);
	EXPECT_EQ(1, cs.c[0].channel);
}

/* ---- 2. generations, strict validation, policy ranges */

TEST_F_TIMEOUT(nl, stale_generation, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML);
	struct ipump_programme q = p;
	struct inl_ext e;
	struct offs o;
	struct chan c;
	__u64 gen = 0, g;
	int ret;

	ASSERT_EQ(0, prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL));
	ASSERT_EQ(1, gen);

	/* based on generation 0 again, and on one never issued */
	q.basal_rate_nl_per_h = 3 * NL_PER_ML;
	g = 0;
	ret = prog_set(&self->s, &self->fam, self->card, 0, &g, &q, &e, &o);
	expect_refusal(_metadata, "stale generation 0", ret, &e, -ESTALE,
		       "based on a stale programme generation",
		       IPUMP_REASON_GENERATION, o.generation);
	g = 2;
	ret = prog_set(&self->s, &self->fam, self->card, 0, &g, &q, &e, &o);
	expect_refusal(_metadata, "future generation 2", ret, &e, -ESTALE,
		       "based on a stale programme generation",
		       IPUMP_REASON_GENERATION, o.generation);
	/* nothing changed */
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(1, c.generation);
	EXPECT_EQ(0, memcmp(&p, &c.prog, sizeof(p)));

	/* the same change on the current generation: accepted, GENERATION+1 */
	g = 1;
	ret = prog_set(&self->s, &self->fam, self->card, 0, &g, &q, &e, NULL);
	ASSERT_EQ(0, ret) TH_LOG("PROGRAMME_SET: %s: %s", strerror(-ret), e.msg);
	EXPECT_EQ(2, g);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(2, c.generation);
	EXPECT_EQ(0, memcmp(&q, &c.prog, sizeof(q)));

	/* START carries the generation too: stale refused, current accepted */
	ASSERT_EQ(0, do_acquire(&self->s, &self->fam, self->card, 0, &e));
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_START, self->card, 0, 1,
		     0, 0, &e, &o);
	expect_refusal(_metadata, "START on generation 1", ret, &e, -ESTALE,
		       "based on a stale programme generation",
		       IPUMP_REASON_GENERATION, o.generation);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, c.state);
	ASSERT_EQ(0, do_start(&self->s, &self->fam, self->card, 0, 2, &e))
		TH_LOG("START: %s", e.msg);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);
	EXPECT_EQ(3 * NL_PER_ML, c.rate);
	EXPECT_EQ(0, do_stop(&self->s, &self->fam, self->card, 0, &e));
	EXPECT_EQ(0, do_release(&self->s, &self->fam, self->card, 0, &e));
}

/* Offset of member @attr in a nest put_fields() wrote at @nest, or -1. */
static int member_offset(int nest, const struct field *f, unsigned int n,
			 __u16 attr)
{
	int off = nest + NLA_HDRLEN;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (f[i].attr == attr)
			return off;
		off += NLA_ALIGN(NLA_HDRLEN + f[i].size);
	}
	return -1;
}

/* A clinician bolus (@vol, @rate) or, with @vol 0, a PCA demand. */
static int nl_bolus(struct inl_sock *s, const struct inl_family *f, __u32 card,
		    __u32 ch, __u32 vol, __u32 rate, struct inl_ext *e)
{
	struct inl_msg m;

	req_ch(&m, f, IPUMP_CMD_BOLUS, card, ch, NULL);
	inl_put_u32(&m, IPUMP_A_BOLUS_KIND,
		    vol ? IPUMP_BOLUS_CLINICIAN : IPUMP_BOLUS_DEMAND);
	if (vol) {
		inl_put_u32(&m, IPUMP_A_BOLUS_VOLUME_NL, vol);
		inl_put_u32(&m, IPUMP_A_BOLUS_RATE_NL_PER_H, rate);
	}
	return inl_transact(s, &m, NULL, 0, e);
}

/* BOLUS_CANCEL: the volume the card counted in *result_nl. */
static int nl_bolus_cancel(struct inl_sock *s, const struct inl_family *f,
			   __u32 card, __u32 ch, __u64 *result_nl,
			   struct inl_ext *e)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1];
	struct inl_msg m;
	int ret;

	req_ch(&m, f, IPUMP_CMD_BOLUS_CANCEL, card, ch, NULL);
	ret = transact_with(s, &m, e, tb, IPUMP_A_RESULT_NL);
	if (!ret)
		*result_nl = inl_get_u64(tb[IPUMP_A_RESULT_NL]);
	return ret;
}

/* Renews channel 0's lease (period LEASE_MS), then advances @ms <= LEASE_MS. */
static void advance_ms(MD, FIXTURE_DATA(nl) *self, unsigned long long ms)
{
	struct inl_ext e;
	int err;

	ASSERT_EQ(0, do_renew(&self->s, &self->fam, self->card, 0, &e));
	err = ipt_advance(&self->c, ms);
	ASSERT_EQ(0, err) TH_LOG("advance %llu ms: %s", ms, strerror(-err));
}

/*
 * Every therapy command over netlink, good path and a refusal each:
 * titrate, bolus and its cancel, pause, resume, audio pause, ack, clear.
 */
TEST_F_TIMEOUT(nl, therapy_commands, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML);
	struct ipump_programme q = p, bad;
	__u64 gen = 0, g, result = 0;
	struct inl_ext e;
	struct offs o;
	struct chan c;
	int ret;

	ASSERT_EQ(0, prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL));
	ASSERT_EQ(0, do_acquire(&self->s, &self->fam, self->card, 0, &e));
	ASSERT_EQ(0, do_start(&self->s, &self->fam, self->card, 0, gen, &e))
		TH_LOG("START: %s", e.msg);

	/* TITRATE 1 -> 2 mL/h: the reply's generation, the card's rate */
	q.basal_rate_nl_per_h = 2 * NL_PER_ML;
	g = gen;
	ret = titrate(&self->s, &self->fam, self->card, 0, &g, &q, &e, NULL);
	ASSERT_EQ(0, ret) TH_LOG("TITRATE: %s: %s", strerror(-ret), e.msg);
	EXPECT_EQ(gen + 1, g);
	gen = g;
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);
	EXPECT_EQ(2 * NL_PER_ML, c.rate);
	EXPECT_EQ(gen, c.generation);
	EXPECT_EQ(0, memcmp(&q, &c.prog, sizeof(q)));
	/* a titration may not change the route: refused with its reason */
	bad = q;
	bad.route = IPUMP_ROUTE_SUBCUTANEOUS;
	g = gen;
	ret = titrate(&self->s, &self->fam, self->card, 0, &g, &bad, &e, &o);
	expect_refusal(_metadata, "TITRATE changing the route", ret, &e, -EINVAL,
		       NULL, IPUMP_REASON_ROUTE_CHANGE,
		       member_offset(o.nest, prog_fields, ARRAY_LEN(prog_fields),
				     IPUMP_A_PROG_ROUTE));
	/* a value over a hard limit: the extack points at that member */
	bad = q;
	bad.basal_rate_nl_per_h = 25 * NL_PER_ML + 1;
	g = gen;
	ret = titrate(&self->s, &self->fam, self->card, 0, &g, &bad, &e, &o);
	expect_refusal(_metadata, "TITRATE above the maximum rate", ret, &e, -ERANGE,
		       "basal rate above the maximum rate", IPUMP_REASON_RATE_HIGH,
		       member_offset(o.nest, prog_fields, ARRAY_LEN(prog_fields),
				     IPUMP_A_PROG_BASAL_RATE_NL_PER_H));

	/* nor run on a stale generation */
	bad = q;
	bad.basal_rate_nl_per_h = 3 * NL_PER_ML;
	g = gen - 1;
	ret = titrate(&self->s, &self->fam, self->card, 0, &g, &bad, &e, &o);
	expect_refusal(_metadata, "TITRATE on a stale generation", ret, &e, -ESTALE,
		       "based on a stale programme generation",
		       IPUMP_REASON_GENERATION, o.generation);

	/* a PCA demand on a programme without PCA: refused */
	ret = nl_bolus(&self->s, &self->fam, self->card, 0, 0, 0, &e);
	expect_refusal(_metadata, "demand without PCA", ret, &e, -EINVAL, NULL,
		       IPUMP_REASON_PCA_FIELDS, 0);
	/* a clinician bolus of 1 mL at 10 mL/h, cancelled after 60 s */
	ret = nl_bolus(&self->s, &self->fam, self->card, 0, 1 * NL_PER_ML,
		       10 * NL_PER_ML, &e);
	ASSERT_EQ(0, ret) TH_LOG("BOLUS: %s: %s", strerror(-ret), e.msg);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_BOLUS, c.state);
	EXPECT_EQ(10 * NL_PER_ML, c.rate);
	advance_ms(_metadata, self, 60000);
	ASSERT_EQ(0, nl_bolus_cancel(&self->s, &self->fam, self->card, 0, &result, &e));
	EXPECT_EQ(166650, result);	/* 6666 steps of 25 nL */
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);
	EXPECT_EQ(2 * NL_PER_ML, c.rate);
	ret = nl_bolus_cancel(&self->s, &self->fam, self->card, 0, &result, &e);
	expect_refusal(_metadata, "BOLUS_CANCEL without a bolus", ret, &e,
		       -EINVAL, NULL, IPUMP_REASON_STATE, 0);

	/* PAUSE, then RESUME: stale refused, current runs the titrated rate */
	ASSERT_EQ(0, nl_cmd(&self->s, &self->fam, IPUMP_CMD_PAUSE, self->card, 0,
			    -1, 0, 0, &e, NULL));
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_PAUSED, c.state);
	EXPECT_EQ(0, c.rate);
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_RESUME, self->card, 0,
		     (long long)gen - 1, 0, 0, &e, &o);
	expect_refusal(_metadata, "RESUME on a stale generation", ret, &e, -ESTALE,
		       "based on a stale programme generation",
		       IPUMP_REASON_GENERATION, o.generation);
	ASSERT_EQ(0, nl_cmd(&self->s, &self->fam, IPUMP_CMD_RESUME, self->card, 0,
			    (long long)gen, 0, 0, &e, NULL)) TH_LOG("RESUME: %s", e.msg);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);
	EXPECT_EQ(2 * NL_PER_ML, c.rate);
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_RESUME, self->card, 0,
		     (long long)gen, 0, 0, &e, NULL);
	expect_refusal(_metadata, "RESUME when running", ret, &e, -EINVAL, NULL,
		       IPUMP_REASON_STATE, 0);

	/* the door opens: the channel stops on the alarm; audio pause, ack */
	ASSERT_EQ(0, ipt_knob_set(&self->c, 0, "door_open", 1));
	advance_ms(_metadata, self, 1000);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, c.state);
	EXPECT_TRUE(c.alarms & (1ULL << IPUMP_ALARM_DOOR_OPEN));
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_AUDIO_PAUSE, self->card, 0,
		     -1, IPUMP_A_DURATION_MS, 120001, &e, &o);
	EXPECT_EQ(-ERANGE, ret) TH_LOG("audio pause 120001 ms: %s", e.msg);
	EXPECT_TRUE(e.has_offs && e.offs == (__u32)o.extra);
	ASSERT_EQ(0, nl_cmd(&self->s, &self->fam, IPUMP_CMD_AUDIO_PAUSE, self->card,
			    0, -1, IPUMP_A_DURATION_MS, 120000, &e, NULL))
		TH_LOG("AUDIO_PAUSE: %s", e.msg);
	ASSERT_EQ(0, ipt_knob_set(&self->c, 0, "door_open", 0));
	ASSERT_EQ(0, nl_cmd(&self->s, &self->fam, IPUMP_CMD_ACK, self->card, 0,
			    -1, 0, 0, &e, NULL)) TH_LOG("ACK: %s", e.msg);
	advance_ms(_metadata, self, 1000);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_FALSE(c.alarms & (1ULL << IPUMP_ALARM_DOOR_OPEN));
	EXPECT_NE(IPUMP_STATE_RUNNING, c.state);	/* no restart by itself */

	/* CLEAR: stale refused; then no programme, a new generation */
	EXPECT_EQ(0, do_stop(&self->s, &self->fam, self->card, 0, &e));
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_CLEAR, self->card, 0,
		     (long long)gen - 1, 0, 0, &e, &o);
	expect_refusal(_metadata, "CLEAR on a stale generation", ret, &e, -ESTALE,
		       "based on a stale programme generation",
		       IPUMP_REASON_GENERATION, o.generation);
	ASSERT_EQ(0, nl_cmd(&self->s, &self->fam, IPUMP_CMD_CLEAR, self->card, 0,
			    (long long)gen, 0, 0, &e, NULL)) TH_LOG("CLEAR: %s", e.msg);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_IDLE, c.state);
	EXPECT_FALSE(c.has_prog);
	EXPECT_EQ(gen + 1, c.st_generation);
	EXPECT_EQ(0, do_release(&self->s, &self->fam, self->card, 0, &e));
}

/* The generation of channel 0 (the programme must still be the one loaded). */
static __u64 current_gen(MD, FIXTURE_DATA(nl) *self)
{
	struct inl_ext e;
	struct chan c;

	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	return c.has_gen ? c.generation : 0;
}

TEST_F_TIMEOUT(nl, strict_validation_and_policy, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML);
	struct inl_ext e;
	struct inl_msg m;
	struct offs o;
	__u64 gen = 0;
	int ret, nest, off;

	ASSERT_EQ(0, prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL));
	ASSERT_EQ(1, gen);

	/* a member of the PROGRAMME nest missing: -EINVAL, MISS_TYPE/NEST */
	req_ch(&m, &self->fam, IPUMP_CMD_PROGRAMME_SET, self->card, 0, &o);
	inl_put_u64(&m, IPUMP_A_GENERATION, gen);
	nest = put_fields(&m, IPUMP_A_PROGRAMME, prog_fields, ARRAY_LEN(prog_fields),
			  &p, IPUMP_A_PROG_LOCKOUT_MS);
	ret = inl_transact(&self->s, &m, NULL, 0, &e);
	expect_refusal(_metadata, "nest member missing", ret, &e, -EINVAL,
		       "every attribute of this nest is required", -1, nest);
	EXPECT_TRUE(e.has_miss_type);
	EXPECT_EQ(IPUMP_A_PROG_LOCKOUT_MS, e.miss_type);
	EXPECT_TRUE(e.has_miss_nest);
	EXPECT_EQ((__u32)nest, e.miss_nest);

	/* a required top-level attribute missing: GENERATION */
	req_ch(&m, &self->fam, IPUMP_CMD_PROGRAMME_SET, self->card, 0, &o);
	put_fields(&m, IPUMP_A_PROGRAMME, prog_fields, ARRAY_LEN(prog_fields), &p, 0);
	ret = inl_transact(&self->s, &m, NULL, 0, &e);
	expect_refusal(_metadata, "GENERATION missing", ret, &e, -EINVAL,
		       "missing required attribute", -1, 0);
	EXPECT_TRUE(e.has_miss_type);
	EXPECT_EQ(IPUMP_A_GENERATION, e.miss_type);

	/* strict: an attribute type the family does not know ... */
	req_ch(&m, &self->fam, IPUMP_CMD_PROGRAMME_SET, self->card, 0, &o);
	inl_put_u64(&m, IPUMP_A_GENERATION, gen);
	put_fields(&m, IPUMP_A_PROGRAMME, prog_fields, ARRAY_LEN(prog_fields), &p, 0);
	off = inl_put_u32(&m, IPUMP_A_MAX + 1, 0);
	ret = inl_transact(&self->s, &m, NULL, 0, &e);
	expect_refusal(_metadata, "unknown attribute type", ret, &e, -EINVAL,
		       NULL, -1, off);
	/* ... and one this command does not take (BOLUS_KIND) */
	req_ch(&m, &self->fam, IPUMP_CMD_PROGRAMME_SET, self->card, 0, &o);
	inl_put_u64(&m, IPUMP_A_GENERATION, gen);
	put_fields(&m, IPUMP_A_PROGRAMME, prog_fields, ARRAY_LEN(prog_fields), &p, 0);
	off = inl_put_u32(&m, IPUMP_A_BOLUS_KIND, IPUMP_BOLUS_DEMAND);
	ret = inl_transact(&self->s, &m, NULL, 0, &e);
	expect_refusal(_metadata, "attribute not of this command", ret, &e,
		       -EINVAL, NULL, -1, off);
	/* ... and a nest without NLA_F_NESTED */
	req_ch(&m, &self->fam, IPUMP_CMD_PROGRAMME_SET, self->card, 0, &o);
	inl_put_u64(&m, IPUMP_A_GENERATION, gen);
	nest = put_fields(&m, IPUMP_A_PROGRAMME, prog_fields, ARRAY_LEN(prog_fields),
			  &p, 0);
	((struct nlattr *)(m.buf + nest))->nla_type &= ~NLA_F_NESTED;
	ret = inl_transact(&self->s, &m, NULL, 0, &e);
	expect_refusal(_metadata, "nest without NLA_F_NESTED", ret, &e, -EINVAL,
		       NULL, -1, nest);
	EXPECT_EQ(1, current_gen(_metadata, self));

	/* route out of the policy's range 1..4: -ERANGE with the policy */
	p.route = IPUMP_ROUTE_INTRATHECAL + 1;
	req_ch(&m, &self->fam, IPUMP_CMD_PROGRAMME_SET, self->card, 0, &o);
	inl_put_u64(&m, IPUMP_A_GENERATION, gen);
	put_fields(&m, IPUMP_A_PROGRAMME, prog_fields, ARRAY_LEN(prog_fields), &p, 0);
	ret = inl_transact(&self->s, &m, NULL, 0, &e);
	expect_refusal(_metadata, "route 5", ret, &e, -ERANGE, NULL, -1, 0);
	EXPECT_TRUE(e.has_offs);	/* the ROUTE attribute in the nest */
	ASSERT_TRUE(e.has_policy) TH_LOG("no NLMSGERR_ATTR_POLICY");
	EXPECT_EQ(NL_ATTR_TYPE_U32, e.pol_type);
	EXPECT_EQ(1, e.pol_min);
	EXPECT_EQ(4, e.pol_max);
	p.route = 0;
	ret = prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL);
	expect_refusal(_metadata, "route 0", ret, &e, -ERANGE, NULL, -1, 0);
	/* flags outside IPUMP_PROG_FLAGS_ALL: -EINVAL, the policy's mask */
	p.route = IPUMP_ROUTE_INTRATHECAL;
	p.flags |= IPUMP_PROG_SPINAL_KVO << 1;
	ret = prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL);
	/* (6.1's mask check sets no NLMSGERR_ATTR_POLICY, only the attribute) */
	expect_refusal(_metadata, "unknown flag", ret, &e, -EINVAL,
		       "reserved bit set", -1, 0);
	EXPECT_TRUE(e.has_offs);
	p.flags = IPUMP_PROG_VTBI_UNLIMITED;
	/* lease-loss mode above 2 */
	p.lease_loss_mode = IPUMP_LEASE_LOSS_CONTINUE_BASAL + 1;
	ret = prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL);
	expect_refusal(_metadata, "lease-loss mode 3", ret, &e, -ERANGE, NULL, -1, 0);
	p.lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	/* the refusals never reached the core: the generation is unchanged */
	EXPECT_EQ(1, gen);
	EXPECT_EQ(1, current_gen(_metadata, self));

	/* the same request within every check: the last route is accepted */
	ret = prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL);
	ASSERT_EQ(0, ret) TH_LOG("PROGRAMME_SET intrathecal: %s: %s",
				 strerror(-ret), e.msg);
	EXPECT_EQ(2, gen);
	EXPECT_EQ(2, current_gen(_metadata, self));

	/* a channel above the policy's 0..7: -ERANGE; the ACK op takes 255 */
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_STOP, self->card,
		     IPUMP_MAX_CHANNELS, -1, 0, 0, &e, &o);
	expect_refusal(_metadata, "STOP channel 8", ret, &e, -ERANGE, NULL, -1,
		       o.channel);
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_ACK, self->card,
		     IPUMP_CHANNEL_NONE, -1, 0, 0, &e, NULL);
	EXPECT_EQ(0, ret) TH_LOG("ACK card-level: %s: %s", strerror(-ret), e.msg);
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_STOP, self->card, NCH - 1,
		     -1, 0, 0, &e, NULL);
	EXPECT_EQ(0, ret) TH_LOG("STOP: %s: %s", strerror(-ret), e.msg);
	/* lease period below 100 ms: -ERANGE; 100 ms works */
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_LEASE_ACQUIRE, self->card, 0,
		     -1, IPUMP_A_LEASE_PERIOD_MS, 99, &e, &o);
	expect_refusal(_metadata, "lease period 99", ret, &e, -ERANGE, NULL, -1,
		       o.extra);
	ret = nl_cmd(&self->s, &self->fam, IPUMP_CMD_LEASE_ACQUIRE, self->card, 0,
		     -1, IPUMP_A_LEASE_PERIOD_MS, 100, &e, &o);
	EXPECT_EQ(0, ret) TH_LOG("lease period 100: %s: %s", strerror(-ret), e.msg);
	EXPECT_EQ(0, do_release(&self->s, &self->fam, self->card, 0, &e));
}

/* ---- 3. the console lease belongs to the socket */

TEST_F_TIMEOUT(nl, lease_per_socket, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML);
	struct inl_sock s1, s2;
	struct inl_ext e;
	struct offs o;
	struct chan c;
	__u64 gen = 0;
	int ret;

	open_sock(_metadata, &s1);
	open_sock(_metadata, &s2);
	ASSERT_NE(s1.portid, s2.portid);
	ASSERT_EQ(0, prog_set(&s1, &self->fam, self->card, 0, &gen, &p, &e, NULL));

	/* START without the lease: -EPERM, NO_LEASE, pointing at CHANNEL */
	ret = nl_cmd(&s1, &self->fam, IPUMP_CMD_START, self->card, 0, gen, 0, 0,
		     &e, &o);
	expect_refusal(_metadata, "START without lease", ret, &e, -EPERM,
		       "console lease not held", IPUMP_REASON_NO_LEASE, o.channel);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, c.state);
	EXPECT_EQ(IPUMP_LEASE_FREE, c.lease);

	/* with the lease: works */
	ASSERT_EQ(0, do_acquire(&s1, &self->fam, self->card, 0, &e)) TH_LOG("%s", e.msg);
	ASSERT_EQ(0, chan_get(&s1, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_LEASE_MINE, c.lease);
	ASSERT_EQ(0, chan_get(&s2, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_LEASE_HELD, c.lease);
	ret = do_start(&s1, &self->fam, self->card, 0, gen, &e);
	ASSERT_EQ(0, ret) TH_LOG("START with lease: %s: %s", strerror(-ret), e.msg);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);

	/* another socket of the same process is another console */
	ret = do_acquire(&s2, &self->fam, self->card, 0, &e);
	expect_refusal(_metadata, "second ACQUIRE", ret, &e, -EBUSY,
		       "console lease held by another console",
		       IPUMP_REASON_LEASE_HELD, 0);
	ret = do_takeover(&s2, &self->fam, self->card, 0, &e);
	expect_refusal(_metadata, "TAKEOVER of a live lease", ret, &e, -EBUSY,
		       NULL, IPUMP_REASON_LEASE_HELD, 0);
	ret = do_renew(&s2, &self->fam, self->card, 0, &e);
	EXPECT_EQ(-EPERM, ret);
	/* ... but STOP needs no lease */
	ret = do_stop(&s2, &self->fam, self->card, 0, &e);
	ASSERT_EQ(0, ret) TH_LOG("STOP from another socket: %s: %s",
				 strerror(-ret), e.msg);
	ASSERT_EQ(0, chan_get(&s1, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, c.state);
	EXPECT_EQ(IPUMP_LEASE_MINE, c.lease);	/* the lease stays with s1 */

	/* running again, then the lease holder's socket goes away */
	ASSERT_EQ(0, do_start(&s1, &self->fam, self->card, 0, gen, &e));
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	ASSERT_EQ(IPUMP_STATE_RUNNING, c.state);
	inl_close(&s1);		/* NETLINK_URELEASE */
	ASSERT_EQ(0, chan_get(&s2, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_ALARM_STOPPED, c.state);
	EXPECT_TRUE(c.alarms & BIT64(IPUMP_ALARM_LEASE_LOST))
		TH_LOG("alarms 0x%llx", (unsigned long long)c.alarms);
	EXPECT_EQ(IPUMP_LEASE_ORPHANED, c.lease);
	EXPECT_EQ(0, c.rate);

	/* an orphaned lease: acquire refused, takeover adopts it */
	ret = do_acquire(&s2, &self->fam, self->card, 0, &e);
	expect_refusal(_metadata, "ACQUIRE of an orphaned lease", ret, &e,
		       -EOWNERDEAD, "console lease orphaned: take it over",
		       IPUMP_REASON_LEASE_ORPHANED, 0);
	ret = do_takeover(&s2, &self->fam, self->card, 0, &e);
	ASSERT_EQ(0, ret) TH_LOG("TAKEOVER: %s: %s", strerror(-ret), e.msg);
	ASSERT_EQ(0, chan_get(&s2, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_LEASE_MINE, c.lease);
	EXPECT_EQ(0, do_renew(&s2, &self->fam, self->card, 0, &e));
	EXPECT_EQ(0, do_release(&s2, &self->fam, self->card, 0, &e));
	inl_close(&s2);
}

/* ---- 4. the monitor group and the log dump */

#define EVMAX	4096

struct evlist {
	__u32 card;
	int n, foreign, bad;
	struct ipump_event ev[EVMAX];
};

#define ANY_CARD	0xffffffffU	/* struct evlist.card: keep every card's */

static void ev_add(struct evlist *l, __u32 card, const struct ipump_event *ev)
{
	if (l->card != ANY_CARD && card != l->card) {
		l->foreign++;
		return;
	}
	if (l->n < EVMAX)
		l->ev[l->n] = *ev;
	l->n++;
}

static int log_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct evlist *l = arg;
	struct ipump_event ev;
	__u32 card;

	if (inl_genlhdr(nlh)->cmd != IPUMP_CMD_LOG_GET ||
	    parse_event(nlh, &card, &ev)) {
		l->bad++;
		return 0;
	}
	ev_add(l, card, &ev);
	return 0;
}

/* Reads the monitor socket until it has been quiet for @quiet_ms. */
static int read_monitor(struct inl_sock *s, struct evlist *l, int quiet_ms)
{
	static char buf[INL_RX_MAX] __attribute__((aligned(8)));
	const struct nlmsghdr *nlh;
	struct ipump_event ev;
	__u32 card;
	int n;

	for (;;) {
		n = inl_recv(s, buf, sizeof(buf), quiet_ms);
		if (n == -ETIMEDOUT)
			return 0;
		if (n < 0)
			return n;
		inl_for_each_msg(nlh, buf, n) {
			if (inl_genlhdr(nlh)->cmd != IPUMP_CMD_EVENT ||
			    parse_event(nlh, &card, &ev)) {
				l->bad++;
				continue;
			}
			ev_add(l, card, &ev);
		}
	}
}

static int log_dump(struct inl_sock *s, const struct inl_family *f, __u32 card,
		    long long from, struct evlist *l)
{
	struct inl_dump d;
	struct inl_msg m;

	memset(l, 0, sizeof(*l));
	l->card = card;
	req_init(&m, f, IPUMP_CMD_LOG_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, card);
	if (from >= 0)
		inl_put_u64(&m, IPUMP_A_LOG_FROM_SEQ, (__u64)from);
	return inl_dump_all(s, &m, &d, INL_RX_MAX, log_cb, l);
}

static __u64 log_next_seq(MD, FIXTURE_DATA(nl) *self)
{
	const struct nlattr *tb[IPUMP_A_MAX + 1], *c[IPUMP_A_CARD_MAX + 1];
	struct inl_msg m;

	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, self->card);
	ASSERT_EQ(0, inl_transact(&self->s, &m, reply, sizeof(reply), NULL));
	ASSERT_EQ(0, inl_genl_parse((struct nlmsghdr *)reply, tb, IPUMP_A_MAX));
	ASSERT_NE(NULL, tb[IPUMP_A_CARD]);
	ASSERT_EQ(0, inl_parse_nested(tb[IPUMP_A_CARD], c, IPUMP_A_CARD_MAX));
	ASSERT_NE(NULL, c[IPUMP_A_CARD_LOG_NEXT_SEQ]);
	return inl_get_u64(c[IPUMP_A_CARD_LOG_NEXT_SEQ]);
}

/* index of the record of @seq in @l, -1 if absent */
static int ev_find_seq(const struct evlist *l, __u64 seq)
{
	int i;

	for (i = 0; i < l->n && i < EVMAX; i++)
		if (l->ev[i].seq == seq)
			return i;
	return -1;
}

/* The index of the first record of @type on @ch at or after @from, or -1. */
static int ev_find_type(const struct evlist *l, int from, unsigned int type,
			int ch)
{
	int i;

	for (i = from; i < l->n && i < EVMAX; i++)
		if (l->ev[i].type == type && (ch < 0 || l->ev[i].channel == ch))
			return i;
	return -1;
}

TEST_F_TIMEOUT(nl, monitor_and_log_dump, 180)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_SUBCUTANEOUS, 2 * NL_PER_ML);
	static const unsigned int actions[] = {
		IPUMP_EVENT_PROGRAMME_SET, IPUMP_EVENT_LEASE_ACQUIRED,
		IPUMP_EVENT_STARTED, IPUMP_EVENT_STOPPED,
		IPUMP_EVENT_LEASE_RELEASED,
	};
	static struct evlist mon, dump1, dump2, merged;
	struct inl_sock mon_s;
	struct inl_dump d;
	struct inl_ext e;
	struct inl_msg m;
	__u64 gen = 0, first, last;
	int i, j, at, dups = 0, ret;

	memset(&mon, 0, sizeof(mon));
	mon.card = self->card;
	open_sock(_metadata, &mon_s);
	ret = inl_join(&mon_s, self->monitor);
	ASSERT_EQ(0, ret) TH_LOG("joining monitor: %s", strerror(-ret));
	first = log_next_seq(_metadata, self);

	/* LOG_GET needs CARD_ID (the dump's start refuses: errno only) ... */
	req_init(&m, &self->fam, IPUMP_CMD_LOG_GET);
	ret = inl_dump_all(&self->s, &m, &d, INL_RX_MAX, NULL, NULL);
	EXPECT_EQ(-EINVAL, ret);

	/* actions A: before the first dump */
	ASSERT_EQ(0, prog_set(&self->s, &self->fam, self->card, 1, &gen, &p, &e, NULL));
	ASSERT_EQ(0, do_acquire(&self->s, &self->fam, self->card, 1, &e));
	ASSERT_EQ(0, do_start(&self->s, &self->fam, self->card, 1, gen, &e));

	/* ... the same dump with CARD_ID: the whole log so far */
	ret = log_dump(&self->s, &self->fam, self->card, -1, &dump1);
	ASSERT_EQ(0, ret) TH_LOG("LOG_GET: %s", strerror(-ret));
	ASSERT_LT(0, dump1.n);
	ASSERT_GT(EVMAX, dump1.n);
	EXPECT_EQ(0, dump1.bad);
	EXPECT_EQ(0, dump1.foreign);
	EXPECT_EQ(1, dump1.ev[0].seq);
	EXPECT_EQ(IPUMP_EVENT_CARD_ADDED, dump1.ev[0].type);
	for (i = 1; i < dump1.n; i++)
		EXPECT_EQ(dump1.ev[i - 1].seq + 1, dump1.ev[i].seq);

	/* actions B: after the dump, the monitor only */
	ASSERT_EQ(0, do_stop(&self->s, &self->fam, self->card, 1, &e));
	ASSERT_EQ(0, do_release(&self->s, &self->fam, self->card, 1, &e));

	ret = read_monitor(&mon_s, &mon, 500);
	ASSERT_EQ(0, ret) TH_LOG("monitor: %s", strerror(-ret));
	ASSERT_LT(0, mon.n);
	ASSERT_GT(EVMAX, mon.n);
	EXPECT_EQ(0, mon.bad);
	TH_LOG("monitor: %d records of this card (seq %llu..%llu), %d of others",
	       mon.n, (unsigned long long)mon.ev[0].seq,
	       (unsigned long long)mon.ev[mon.n - 1].seq, mon.foreign);

	/* per card, strictly increasing and without gaps (no filter) */
	EXPECT_GE(first, mon.ev[0].seq);
	for (i = 1; i < mon.n; i++) {
		EXPECT_LT(mon.ev[i - 1].seq, mon.ev[i].seq);
		EXPECT_EQ(mon.ev[i - 1].seq + 1, mon.ev[i].seq);
		EXPECT_EQ(self->card, mon.ev[i].card);
	}
	/* the records of the actions, in order */
	at = 0;
	for (i = 0; i < (int)ARRAY_LEN(actions); i++) {
		at = ev_find_type(&mon, at, actions[i], 1);
		ASSERT_LE(0, at) TH_LOG("no record of type %u after the previous action",
					actions[i]);
		if (actions[i] == IPUMP_EVENT_PROGRAMME_SET) {
			EXPECT_EQ(gen, mon.ev[at].value[0]);	/* new generation */
			EXPECT_EQ(p.basal_rate_nl_per_h, mon.ev[at].value[1]);
			EXPECT_EQ(IPUMP_ROUTE_SUBCUTANEOUS, mon.ev[at].value[2]);
		}
		if (actions[i] == IPUMP_EVENT_STARTED) {
			EXPECT_EQ(gen, mon.ev[at].value[0]);
			EXPECT_EQ(p.basal_rate_nl_per_h, mon.ev[at].value[1]);
		}
		at++;
	}

	/* the records both have are the same, field for field */
	for (i = 0; i < mon.n; i++) {
		j = ev_find_seq(&dump1, mon.ev[i].seq);
		if (j < 0)
			continue;
		dups++;
		EXPECT_EQ(0, memcmp(&mon.ev[i], &dump1.ev[j], sizeof(mon.ev[i])))
			TH_LOG("seq %llu differs", (unsigned long long)mon.ev[i].seq);
	}
	/* actions A are in both, actions B only in the monitor */
	EXPECT_LT(0, dups);
	EXPECT_LT(dups, mon.n);

	/* gap-free merge: the dump, then the monitor skipping seen seqs */
	merged = dump1;
	last = dump1.ev[dump1.n - 1].seq;
	for (i = 0; i < mon.n; i++) {
		if (mon.ev[i].seq <= last)
			continue;
		EXPECT_EQ(last + 1, mon.ev[i].seq) TH_LOG("gap in the merge");
		ASSERT_GT(EVMAX, merged.n);
		merged.ev[merged.n++] = mon.ev[i];
		last = mon.ev[i].seq;
	}
	for (i = 0; i < merged.n; i++)
		EXPECT_EQ((__u64)i + 1, merged.ev[i].seq);
	EXPECT_EQ(mon.ev[mon.n - 1].seq, last);

	/* LOG_GET from the first record the monitor saw: the same records */
	ret = log_dump(&self->s, &self->fam, self->card, (long long)mon.ev[0].seq,
		       &dump2);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(mon.n, dump2.n);
	for (i = 0; i < mon.n; i++)
		EXPECT_EQ(0, memcmp(&mon.ev[i], &dump2.ev[i], sizeof(mon.ev[i])))
			TH_LOG("record %d (seq %llu) differs", i,
			       (unsigned long long)mon.ev[i].seq);
	inl_close(&mon_s);
}

/*
 * A monitor whose receive queue overflows: recv() reports ENOBUFS (loss is
 * never silent), and the documented recovery (LOG_GET from the last seen
 * sequence number + 1, then the queued monitor messages skipping those
 * already seen) gives every record exactly once, without a gap.
 */
#define BURST	3000

TEST_F_TIMEOUT(nl, monitor_overflow_recovery, 180)
{
	static char buf[INL_RX_MAX] __attribute__((aligned(8)));
	static struct evlist got, fill;
	const struct nlmsghdr *nlh;
	struct ipump_event ev;
	struct inl_sock mon_s;
	struct inl_ext e;
	__u64 start, end, last;
	int i, n, ret, rcvbuf = 1024, enobufs = 0, skipped = 0, refills = 0;
	__u32 card;

	open_sock(_metadata, &mon_s);
	ASSERT_EQ(0, setsockopt(mon_s.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	ASSERT_EQ(0, inl_join(&mon_s, self->monitor));
	start = log_next_seq(_metadata, self);
	last = start - 1;		/* nothing of this stream seen yet */

	/* a burst no small queue holds (the log, 4096 records, does) */
	for (i = 0; i < BURST; i++)
		ASSERT_EQ(0, do_stop(&self->s, &self->fam, self->card, i % NCH, &e));
	end = log_next_seq(_metadata, self);
	ASSERT_EQ(start + BURST, end);

	memset(&got, 0, sizeof(got));
	got.card = self->card;
	for (;;) {
		n = inl_recv(&mon_s, buf, sizeof(buf), 500);
		if (n == -ETIMEDOUT)
			break;
		if (n == -ENOBUFS) {
			/* lost some: fetch everything after the last seen */
			enobufs++;
			ret = log_dump(&self->s, &self->fam, self->card,
				       (long long)last + 1, &fill);
			ASSERT_EQ(0, ret) TH_LOG("LOG_GET: %s", strerror(-ret));
			refills += fill.n;
			for (i = 0; i < fill.n; i++) {
				ASSERT_EQ(last + 1, fill.ev[i].seq);
				ASSERT_GT(EVMAX, got.n);
				got.ev[got.n++] = fill.ev[i];
				last = fill.ev[i].seq;
			}
			continue;
		}
		ASSERT_LT(0, n) TH_LOG("monitor recv: %s", strerror(-n));
		inl_for_each_msg(nlh, buf, n) {
			ASSERT_EQ(0, parse_event(nlh, &card, &ev));
			if (card != self->card)
				continue;
			if (ev.seq <= last) {	/* the log dump had it */
				skipped++;
				continue;
			}
			ASSERT_EQ(last + 1, ev.seq) TH_LOG("gap: %llu after %llu",
						       (unsigned long long)ev.seq,
						       (unsigned long long)last);
			ASSERT_GT(EVMAX, got.n);
			got.ev[got.n++] = ev;
			last = ev.seq;
		}
	}
	TH_LOG("overflow: burst of %d records, %d ENOBUFS, %d records from LOG_GET, %d monitor messages skipped as seen, %d records in all, %d gaps",
	       BURST, enobufs, refills, skipped, got.n, (int)(end - start) - got.n);
	EXPECT_LT(0, enobufs) TH_LOG("the queue never overflowed: the test proves nothing");
	EXPECT_LT(0, refills);
	/* every record of the burst exactly once, in order */
	ASSERT_EQ(end - start, (__u64)got.n);
	for (i = 0; i < got.n; i++) {
		EXPECT_EQ(start + i, got.ev[i].seq);
		EXPECT_EQ(IPUMP_EVENT_STOPPED, got.ev[i].type);
		EXPECT_EQ((__u32)(i % NCH), got.ev[i].channel);
	}
	inl_close(&mon_s);
}

/* ---- 5. privileges */

/*
 * Runs @fn in a child with the capabilities of @drop removed from its
 * effective, permitted and inheritable sets (raw capset, no libcap). The
 * child's exit status (0: every expectation held; else the failed step,
 * explained on stderr), -1 if it did not exit.
 */
static int in_child_without(__u64 drop, int (*fn)(void *), void *arg)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int st, cap;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		memset(&h, 0, sizeof(h));
		memset(data, 0, sizeof(data));
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (syscall(SYS_capget, &h, data))
			_exit(100);
		for (cap = 0; cap < 64; cap++) {
			if (!(drop & BIT64(cap)))
				continue;
			data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
			data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
			data[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
		}
		if (syscall(SYS_capset, &h, data))
			_exit(101);
		memset(data, 0, sizeof(data));
		if (syscall(SYS_capget, &h, data))
			_exit(102);
		for (cap = 0; cap < 64; cap++)
			if ((drop & BIT64(cap)) &&
			    (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)))
				_exit(103);
		_exit(fn(arg));
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Runs @fn in a child as uid/gid 65534 (no capabilities left): its status. */
static int in_child_as_nobody(int (*fn)(void *), void *arg)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(104);
		if (geteuid() != 65534 || !setuid(0))
			_exit(105);
		_exit(fn(arg));
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

struct priv_arg {
	struct inl_family fam;
	__u32 card, monitor;
	int unix_fd;		/* where to pass an opened socket (or -1) */
	struct ipump_hard_limits lim;
};

#define CHILD_EXPECT(step, cond, fmt, ...)				\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "# child step %d: " fmt "\n",	\
				step, ##__VA_ARGS__);			\
			return step;					\
		}							\
	} while (0)

/* Without CAP_NET_ADMIN and CAP_SYS_ADMIN: no change, no read, no monitor. */
static int unprivileged_child(void *argp)
{
	struct priv_arg *a = argp;
	struct inl_family fam;
	struct inl_sock s;
	struct inl_dump d;
	struct inl_ext e;
	struct inl_msg m;
	struct chan c;
	int ret;

	ret = inl_open(&s);
	CHILD_EXPECT(1, !ret, "socket: %s", strerror(-ret));
	/* resolving the family is not privileged */
	ret = inl_get_family(&s, IPUMP_GENL_NAME, &fam);
	CHILD_EXPECT(2, !ret && fam.id == a->fam.id, "family: %s", strerror(-ret));

	ret = do_stop(&s, &a->fam, a->card, 0, &e);
	CHILD_EXPECT(3, ret == -EPERM, "STOP: %d (%s)", ret, e.msg);
	ret = nl_cmd(&s, &a->fam, IPUMP_CMD_LEASE_ACQUIRE, a->card, 0, -1,
		     IPUMP_A_LEASE_PERIOD_MS, LEASE_MS, &e, NULL);
	CHILD_EXPECT(4, ret == -EPERM, "LEASE_ACQUIRE: %d", ret);
	ret = chan_get(&s, &a->fam, a->card, 0, &c, &e);
	CHILD_EXPECT(5, ret == -EPERM, "CHANNEL_GET: %d", ret);
	CHILD_EXPECT(6, !strcmp(e.msg, "reading patient data needs CAP_NET_ADMIN"),
		     "CHANNEL_GET message \"%s\"", e.msg);
	req_init(&m, &a->fam, IPUMP_CMD_CARD_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, a->card);
	ret = inl_transact(&s, &m, reply, sizeof(reply), &e);
	CHILD_EXPECT(7, ret == -EPERM, "CARD_GET: %d", ret);
	req_init(&m, &a->fam, IPUMP_CMD_LIMITS_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, a->card);
	inl_put_u32(&m, IPUMP_A_CHANNEL, 0);
	ret = inl_transact(&s, &m, reply, sizeof(reply), &e);
	CHILD_EXPECT(8, ret == -EPERM, "LIMITS_GET: %d", ret);
	/* dumps: refused at their start */
	req_init(&m, &a->fam, IPUMP_CMD_CHANNEL_GET);
	ret = inl_dump_all(&s, &m, &d, INL_RX_MAX, NULL, NULL);
	CHILD_EXPECT(9, ret == -EPERM && d.msgs == 0, "CHANNEL_GET dump: %d, %d msgs",
		     ret, d.msgs);
	req_init(&m, &a->fam, IPUMP_CMD_CARD_GET);
	ret = inl_dump_all(&s, &m, &d, INL_RX_MAX, NULL, NULL);
	CHILD_EXPECT(10, ret == -EPERM && d.msgs == 0, "CARD_GET dump: %d", ret);
	req_init(&m, &a->fam, IPUMP_CMD_LOG_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, a->card);
	ret = inl_dump_all(&s, &m, &d, INL_RX_MAX, NULL, NULL);
	CHILD_EXPECT(11, ret == -EPERM && d.msgs == 0, "LOG_GET dump: %d", ret);
	/* the monitor group (GENL_MCAST_CAP_NET_ADMIN, backported to 6.1.0-56) */
	ret = inl_join(&s, a->monitor);
	CHILD_EXPECT(12, ret == -EPERM,
		     "joining monitor: %d (a kernel without GENL_MCAST_CAP_NET_ADMIN?)",
		     ret);
	inl_close(&s);
	return 0;
}

/* Opens a socket without the capabilities and hands it to the parent. */
static int opener_child(void *argp)
{
	struct priv_arg *a = argp;
	char cbuf[CMSG_SPACE(sizeof(int))], byte = 's';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	struct inl_sock s;
	int ret;

	ret = inl_open(&s);
	CHILD_EXPECT(1, !ret, "socket: %s", strerror(-ret));
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s.fd, sizeof(int));
	CHILD_EXPECT(2, sendmsg(a->unix_fd, &mh, 0) == 1, "sendmsg: %s",
		     strerror(errno));
	return 0;
}

static int recv_fd(int ufd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(ufd, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F_TIMEOUT(nl, privileges, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML);
	struct priv_arg a;
	struct inl_sock mon_s, opened;
	struct sockaddr_nl sa;
	socklen_t salen = sizeof(sa);
	struct inl_ext e;
	struct chan c;
	char param[16];
	__u64 gen = 0;
	int ret, sv[2];

	/* reads are privileged by default */
	ASSERT_EQ(0, ipt_read_str("/sys/module/ipump/parameters/allow_unprivileged_read",
				  param, sizeof(param)));
	ASSERT_TRUE(!strcmp(param, "N") || !strcmp(param, "0"))
		TH_LOG("allow_unprivileged_read is %s: this test needs the default", param);

	/* a running channel: a refused STOP must leave it running */
	ASSERT_EQ(0, prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL));
	ASSERT_EQ(0, do_acquire(&self->s, &self->fam, self->card, 0, &e));
	ASSERT_EQ(0, do_start(&self->s, &self->fam, self->card, 0, gen, &e));

	memset(&a, 0, sizeof(a));
	a.fam = self->fam;
	a.card = self->card;
	a.monitor = self->monitor;
	a.unix_fd = -1;
	EXPECT_EQ(0, in_child_without(BIT64(CAP_NET_ADMIN) | BIT64(CAP_SYS_ADMIN),
				      unprivileged_child, &a));
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);
	/* the same as a non-root user (uid 65534) */
	EXPECT_EQ(0, in_child_as_nobody(unprivileged_child, &a));
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);

	/* a socket opened without CAP_NET_ADMIN stays unprivileged for root */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	a.unix_fd = sv[1];
	EXPECT_EQ(0, in_child_without(BIT64(CAP_NET_ADMIN) | BIT64(CAP_SYS_ADMIN),
				      opener_child, &a));
	memset(&opened, 0, sizeof(opened));
	opened.fd = recv_fd(sv[0]);
	close(sv[0]);
	close(sv[1]);
	ASSERT_LE(0, opened.fd);
	ASSERT_EQ(0, getsockname(opened.fd, (struct sockaddr *)&sa, &salen));
	opened.portid = sa.nl_pid;
	/*
	 * A request without an explicit destination (write()): the kernel
	 * checks the socket's opener as well as the sender, so root gains
	 * nothing from a socket opened without CAP_NET_ADMIN. (With sendto()
	 * and an address the kernel sets NETLINK_SKB_DST and checks the sender
	 * only: netlink_capable(), see __netlink_ns_capable().)
	 */
	opened.implicit_dst = true;
	ret = do_stop(&opened, &self->fam, self->card, 0, &e);
	EXPECT_EQ(-EPERM, ret) TH_LOG("STOP by root, write() on a socket opened without the capability");
	ret = chan_get(&opened, &self->fam, self->card, 0, &c, &e);
	EXPECT_EQ(-EPERM, ret) TH_LOG("CHANNEL_GET by root, write() on that socket");
	opened.implicit_dst = false;
	ret = chan_get(&opened, &self->fam, self->card, 0, &c, &e);
	EXPECT_EQ(0, ret) TH_LOG("CHANNEL_GET by root, sendto() on that socket");
	inl_close(&opened);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_RUNNING, c.state);

	/* the same requests with the capabilities: they work */
	open_sock(_metadata, &mon_s);
	EXPECT_EQ(0, inl_join(&mon_s, self->monitor));
	inl_close(&mon_s);
	self->s.implicit_dst = true;	/* as the refused write() above */
	ret = do_stop(&self->s, &self->fam, self->card, 0, &e);
	self->s.implicit_dst = false;
	EXPECT_EQ(0, ret) TH_LOG("STOP as root: %s: %s", strerror(-ret), e.msg);
	ASSERT_EQ(0, chan_get(&self->s, &self->fam, self->card, 0, &c, &e));
	EXPECT_EQ(IPUMP_STATE_PROGRAMMED, c.state);
	EXPECT_EQ(0, do_release(&self->s, &self->fam, self->card, 0, &e));
}

/* With CAP_NET_ADMIN but without CAP_SYS_ADMIN: reads and stop, no limits. */
static int no_sys_admin_child(void *argp)
{
	struct priv_arg *a = argp;
	struct inl_sock s;
	struct inl_ext e;
	struct chan c;
	int ret;

	ret = inl_open(&s);
	CHILD_EXPECT(1, !ret, "socket: %s", strerror(-ret));
	ret = limits_set(&s, &a->fam, a->card, 0, &a->lim, &e);
	CHILD_EXPECT(2, ret == -EPERM, "LIMITS_SET: %d (%s)", ret, e.msg);
	CHILD_EXPECT(3, !strcmp(e.msg, "changing hard limits needs CAP_SYS_ADMIN"),
		     "LIMITS_SET message \"%s\"", e.msg);
	/* CAP_NET_ADMIN is still there */
	ret = chan_get(&s, &a->fam, a->card, 0, &c, &e);
	CHILD_EXPECT(4, ret == 0, "CHANNEL_GET: %d (%s)", ret, e.msg);
	ret = do_stop(&s, &a->fam, a->card, 0, &e);
	CHILD_EXPECT(5, ret == 0, "STOP: %d (%s)", ret, e.msg);
	inl_close(&s);
	return 0;
}

TEST_F_TIMEOUT(nl, limits_need_cap_sys_admin, 120)
{
	struct ipump_programme p = prog_basal(IPUMP_ROUTE_INTRAVENOUS, 1 * NL_PER_ML);
	struct ipump_hard_limits def, got;
	struct priv_arg a;
	struct inl_ext e;
	__u64 gen = 0;
	int ret;

	ASSERT_EQ(0, limits_get(&self->s, &self->fam, self->card, 0, &def));
	ASSERT_LT(5 * NL_PER_ML, def.max_rate_nl_per_h);

	memset(&a, 0, sizeof(a));
	a.fam = self->fam;
	a.card = self->card;
	a.lim = def;
	a.lim.max_rate_nl_per_h = 5 * NL_PER_ML;
	EXPECT_EQ(0, in_child_without(BIT64(CAP_SYS_ADMIN), no_sys_admin_child, &a));
	ASSERT_EQ(0, limits_get(&self->s, &self->fam, self->card, 0, &got));
	EXPECT_EQ(0, memcmp(&def, &got, sizeof(got)));

	/* as full root, idle: works */
	ret = limits_set(&self->s, &self->fam, self->card, 0, &a.lim, &e);
	ASSERT_EQ(0, ret) TH_LOG("LIMITS_SET: %s: %s", strerror(-ret), e.msg);
	ASSERT_EQ(0, limits_get(&self->s, &self->fam, self->card, 0, &got));
	EXPECT_EQ(0, memcmp(&a.lim, &got, sizeof(got)));

	/* not while delivering (-EBUSY); again once stopped */
	ASSERT_EQ(0, prog_set(&self->s, &self->fam, self->card, 0, &gen, &p, &e, NULL));
	ASSERT_EQ(0, do_acquire(&self->s, &self->fam, self->card, 0, &e));
	ASSERT_EQ(0, do_start(&self->s, &self->fam, self->card, 0, gen, &e));
	a.lim.max_rate_nl_per_h = 6 * NL_PER_ML;
	ret = limits_set(&self->s, &self->fam, self->card, 0, &a.lim, &e);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("LIMITS_SET while running: %s", e.msg);
	ASSERT_EQ(0, do_stop(&self->s, &self->fam, self->card, 0, &e));
	ret = limits_set(&self->s, &self->fam, self->card, 0, &a.lim, &e);
	EXPECT_EQ(0, ret) TH_LOG("LIMITS_SET once stopped: %s", e.msg);
	ASSERT_EQ(0, limits_get(&self->s, &self->fam, self->card, 0, &got));
	EXPECT_EQ(6 * NL_PER_ML, got.max_rate_nl_per_h);
	EXPECT_EQ(0, do_release(&self->s, &self->fam, self->card, 0, &e));
}

/* ---- 6. many cards: dumps across many recv() buffers */

FIXTURE(many) {
	struct ipt_card c[MAX_CARDS];
	int n;
	struct inl_sock s;
	struct inl_family fam;
};

FIXTURE_SETUP(many)
{
	self->n = 0;
	self->s.fd = -1;
}

FIXTURE_TEARDOWN(many)
{
	int i, failed = 0;

	inl_close(&self->s);
	/* every card made, also after a failure */
	for (i = 0; i < self->n; i++)
		if (ipt_card_destroy(&self->c[i]))
			failed++;
	EXPECT_EQ(0, failed);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Makes @n cards of 8 channels; resolves the family. */
static void make_cards(MD, FIXTURE_DATA(many) *self, int n)
{
	char prefix[16];
	double t0 = now_ms();
	int err, i;

	for (i = 0; i < n; i++) {
		snprintf(prefix, sizeof(prefix), "nls%02d_", i);
		err = ipt_card_create(&self->c[i], prefix, IPUMP_MAX_CHANNELS);
		ASSERT_EQ(0, err) TH_LOG("card %d: %s", i, strerror(-err));
		self->n = i + 1;
	}
	TH_LOG("created %d cards of %d channels in %.0f ms", n, IPUMP_MAX_CHANNELS,
	       now_ms() - t0);
	open_sock(_metadata, &self->s);
	err = inl_get_family(&self->s, IPUMP_GENL_NAME, &self->fam);
	ASSERT_EQ(0, err) TH_LOG("family: %s", strerror(-err));
}

struct pair {
	__u32 card, ch;
};

static struct {
	int n, bad;
	bool missing_status;
	struct pair e[8192];
} chd;

static int chd_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct chan c;

	(void)arg;
	if (inl_genlhdr(nlh)->cmd != IPUMP_CMD_CHANNEL_GET || parse_chan(nlh, &c)) {
		chd.bad++;
		return 0;
	}
	if (!c.has_status)
		chd.missing_status = true;
	if (chd.n >= (int)ARRAY_LEN(chd.e))
		return -E2BIG;
	chd.e[chd.n].card = c.card;
	chd.e[chd.n].ch = c.channel;
	chd.n++;
	return 0;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->card != y->card)
		return x->card < y->card ? -1 : 1;
	return x->ch < y->ch ? -1 : x->ch > y->ch;
}

/* Duplicated (card, channel) pairs in chd. */
static int chd_dups(void)
{
	static struct pair s[ARRAY_LEN(chd.e)];
	int i, dups = 0;

	memcpy(s, chd.e, sizeof(chd.e[0]) * chd.n);
	qsort(s, chd.n, sizeof(s[0]), pair_cmp);
	for (i = 1; i < chd.n; i++)
		if (!pair_cmp(&s[i - 1], &s[i]))
			dups++;
	return dups;
}

/* How many entries chd has of card @card (each channel at most once). */
static int chd_count(__u32 card)
{
	int i, n = 0;

	for (i = 0; i < chd.n; i++)
		n += chd.e[i].card == card;
	return n;
}

static int my_index(FIXTURE_DATA(many) *self, __u32 card)
{
	int i;

	for (i = 0; i < self->n; i++)
		if (self->c[i].num == card)
			return i;
	return -1;
}

/* A fresh socket for a dump read with DUMP_BUF-sized recv() calls only. */
static void dump_sock(MD, struct inl_sock *d)
{
	open_sock(_metadata, d);
}

TEST_F_TIMEOUT(many, scale_dump_512_channels, 300)
{
	static char buf[DUMP_BUF] __attribute__((aligned(8)));
	struct card_seen *cs;
	struct inl_sock ds;
	struct inl_dump d;
	struct inl_msg m;
	int i, ret, mine = 0, per_card_ok = 0;
	double t0, t;

	make_cards(_metadata, self, MAX_CARDS);

	memset(&chd, 0, sizeof(chd));
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	t0 = now_ms();
	ret = inl_dump_start(&ds, &m, &d);
	ASSERT_EQ(0, ret);
	while ((ret = inl_dump_step(&ds, &d, buf, sizeof(buf), chd_cb, NULL)) > 0)
		;
	t = now_ms() - t0;
	ASSERT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
	ASSERT_EQ(0, d.ext.error) TH_LOG("dump ended with %s", strerror(-d.ext.error));
	inl_close(&ds);
	TH_LOG("CHANNEL_GET dump: %d channels in %d recv() of <= %d bytes, %.1f ms",
	       chd.n, d.recvs, DUMP_BUF, t);

	EXPECT_EQ(0, chd.bad);
	EXPECT_FALSE(chd.missing_status);
	EXPECT_FALSE(d.intr);
	EXPECT_LT(2, d.recvs);		/* several buffers */
	EXPECT_EQ(0, chd_dups());
	for (i = 0; i < chd.n; i++)
		mine += my_index(self, chd.e[i].card) >= 0;
	EXPECT_EQ(MAX_CARDS * IPUMP_MAX_CHANNELS, mine);
	for (i = 0; i < self->n; i++)
		per_card_ok += chd_count(self->c[i].num) == IPUMP_MAX_CHANNELS;
	EXPECT_EQ(MAX_CARDS, per_card_ok);

	/* one channel of every card */
	memset(&chd, 0, sizeof(chd));
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	inl_put_u32(&m, IPUMP_A_CHANNEL, 5);
	ret = inl_dump_start(&ds, &m, &d);
	if (!ret)
		ret = inl_dump_rest(&ds, &d, buf, sizeof(buf), chd_cb, NULL);
	inl_close(&ds);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, chd_dups());
	for (i = 0, mine = 0; i < chd.n; i++) {
		EXPECT_EQ(5, chd.e[i].ch);
		mine += my_index(self, chd.e[i].card) >= 0;
	}
	EXPECT_EQ(MAX_CARDS, mine);

	/* the card dump: every card once */
	cs = calloc(1, sizeof(*cs));
	ASSERT_NE(NULL, cs);
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
	cs->want = self->c[MAX_CARDS - 1].num;
	t0 = now_ms();
	ret = inl_dump_start(&ds, &m, &d);
	if (!ret)
		ret = inl_dump_rest(&ds, &d, buf, sizeof(buf), card_cb, cs);
	inl_close(&ds);
	ASSERT_EQ(0, ret);
	TH_LOG("CARD_GET dump: %d cards in %d recv(), %.1f ms", cs->total, d.recvs,
	       now_ms() - t0);
	EXPECT_LE(MAX_CARDS, cs->total);
	EXPECT_EQ(0, cs->dup_ids);
	EXPECT_EQ(0, cs->bad);
	EXPECT_EQ(1, cs->count);
	EXPECT_EQ(IPUMP_MAX_CHANNELS, cs->num_channels);
	for (i = 0, mine = 0; i < cs->total && i < (int)ARRAY_LEN(cs->ids); i++)
		mine += my_index(self, cs->ids[i]) >= 0;
	EXPECT_EQ(MAX_CARDS, mine);
	free(cs);
}

/*
 * A CHANNEL_GET dump of every card, removing one of the test's cards after
 * the first recv(): one the dump has not reached yet (@passed false) or one
 * it has dumped completely (@passed true). Either NLM_F_DUMP_INTR is set on
 * some message, or the result is consistent: the removed card's channels
 * all there or none, every other card complete. Never a duplicate.
 */
static void dump_removing(MD, FIXTURE_DATA(many) *self, bool passed)
{
	static char buf[DUMP_BUF] __attribute__((aligned(8)));
	struct inl_sock ds;
	struct inl_dump d;
	struct inl_msg m;
	int i, ret, victim = -1, vcount;
	__u32 vnum;

	memset(&chd, 0, sizeof(chd));
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	ASSERT_EQ(0, inl_dump_start(&ds, &m, &d));
	ret = inl_dump_step(&ds, &d, buf, sizeof(buf), chd_cb, NULL);
	ASSERT_EQ(1, ret) TH_LOG("the dump ended in one part: make it larger");
	/* a live card of the test with all (passed) or none of its channels */
	for (i = self->n - 1; i >= 0; i--) {
		if (!self->c[i].live)
			continue;
		if (chd_count(self->c[i].num) == (passed ? IPUMP_MAX_CHANNELS : 0)) {
			victim = i;
			if (!passed)
				break;
		}
	}
	ASSERT_LE(0, victim) TH_LOG("no card to remove after %d channels", chd.n);
	vnum = self->c[victim].num;

	ASSERT_EQ(0, ipt_card_destroy(&self->c[victim]));

	while ((ret = inl_dump_step(&ds, &d, buf, sizeof(buf), chd_cb, NULL)) > 0)
		;
	inl_close(&ds);
	ASSERT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
	EXPECT_EQ(0, d.ext.error);
	vcount = chd_count(vnum);
	TH_LOG("removed card %u %s the dump reached it: %d parts, %d channels, its own %d, NLM_F_DUMP_INTR %s",
	       vnum, passed ? "after" : "before", d.recvs, chd.n, vcount,
	       d.intr ? "set" : "not set");
	EXPECT_EQ(0, chd.bad);
	EXPECT_EQ(0, chd_dups());
	if (!d.intr) {
		EXPECT_TRUE(vcount == 0 || vcount == IPUMP_MAX_CHANNELS);
		for (i = 0; i < self->n; i++) {
			if (i == victim || !self->c[i].live)
				continue;
			EXPECT_EQ(IPUMP_MAX_CHANNELS, chd_count(self->c[i].num))
				TH_LOG("card %u", self->c[i].num);
		}
	}
}

/* Removes the card in a child (the parent keeps reading): its pid. */
static pid_t destroy_in_child(struct ipt_card *c)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(ipt_card_destroy(c) ? 1 : 0);
	return pid;
}

struct logd {
	int n, bad;
	__u64 first, last;
	bool gap, removed;
};

static int logd_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct logd *l = arg;
	struct ipump_event ev;
	__u32 card;

	if (parse_event(nlh, &card, &ev)) {
		l->bad++;
		return 0;
	}
	if (l->n && ev.seq != l->last + 1)
		l->gap = true;
	if (!l->n)
		l->first = ev.seq;
	l->last = ev.seq;
	l->removed |= ev.type == IPUMP_EVENT_CARD_REMOVED;
	l->n++;
	return 0;
}

TEST_F_TIMEOUT(many, dump_consistency_card_removed, 300)
{
	static char buf[DUMP_BUF] __attribute__((aligned(8)));
	struct inl_sock ds;
	struct inl_dump d;
	struct inl_ext e;
	struct inl_msg m;
	static struct evlist mon;
	struct inl_sock mon_s;
	struct logd l;
	int i, ret, st, victim, rcvbuf = 4 << 20;
	__u64 next_seq = 0;
	__u32 grp;
	pid_t pid;

	make_cards(_metadata, self, CONS_CARDS);
	/* a monitor with room for every record of this test (root: FORCE) */
	open_sock(_metadata, &mon_s);
	ASSERT_EQ(0, setsockopt(mon_s.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
				sizeof(rcvbuf)));
	ASSERT_EQ(0, inl_group_id(&self->fam, IPUMP_GENL_MCGRP_MONITOR, &grp));
	ASSERT_EQ(0, inl_join(&mon_s, grp));

	/* 1. remove a card the dump has not reached yet */
	dump_removing(_metadata, self, false);
	/* 2. a dump abandoned half-way (socket closed): no leak, no crash */
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	ASSERT_EQ(0, inl_dump_start(&ds, &m, &d));
	ASSERT_EQ(1, inl_dump_step(&ds, &d, buf, sizeof(buf), NULL, NULL));
	inl_close(&ds);
	/* 3. remove a card the dump has passed */
	dump_removing(_metadata, self, true);

	/* afterwards: a clean dump without the removed cards */
	memset(&chd, 0, sizeof(chd));
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_CHANNEL_GET);
	ret = inl_dump_start(&ds, &m, &d);
	if (!ret)
		ret = inl_dump_rest(&ds, &d, buf, sizeof(buf), chd_cb, NULL);
	inl_close(&ds);
	ASSERT_EQ(0, ret);
	EXPECT_FALSE(d.intr);
	EXPECT_EQ(0, chd_dups());
	for (i = 0; i < self->n; i++)
		EXPECT_EQ(self->c[i].live ? IPUMP_MAX_CHANNELS : 0,
			  chd_count(self->c[i].num)) TH_LOG("card %u", self->c[i].num);

	/* 4. a LOG_GET dump of a card removed while it runs */
	for (victim = 0; victim < self->n && !self->c[victim].live; victim++)
		;
	ASSERT_GT(self->n, victim);
	for (i = 0; i < 150; i++) {	/* 150 STOPPED records */
		ret = do_stop(&self->s, &self->fam, self->c[victim].num, i % 8, &e);
		ASSERT_EQ(0, ret) TH_LOG("STOP: %s", e.msg);
	}
	{
		const struct nlattr *tb[IPUMP_A_MAX + 1], *c[IPUMP_A_CARD_MAX + 1];

		req_init(&m, &self->fam, IPUMP_CMD_CARD_GET);
		inl_put_u32(&m, IPUMP_A_CARD_ID, self->c[victim].num);
		ASSERT_EQ(0, inl_transact(&self->s, &m, reply, sizeof(reply), NULL));
		ASSERT_EQ(0, inl_genl_parse((struct nlmsghdr *)reply, tb, IPUMP_A_MAX));
		ASSERT_NE(NULL, tb[IPUMP_A_CARD]);
		ASSERT_EQ(0, inl_parse_nested(tb[IPUMP_A_CARD], c, IPUMP_A_CARD_MAX));
		next_seq = inl_get_u64(c[IPUMP_A_CARD_LOG_NEXT_SEQ]);
	}
	memset(&l, 0, sizeof(l));
	dump_sock(_metadata, &ds);
	req_init(&m, &self->fam, IPUMP_CMD_LOG_GET);
	inl_put_u32(&m, IPUMP_A_CARD_ID, self->c[victim].num);
	ASSERT_EQ(0, inl_dump_start(&ds, &m, &d));
	ASSERT_EQ(1, inl_dump_step(&ds, &d, buf, sizeof(buf), logd_cb, &l));
	pid = destroy_in_child(&self->c[victim]);
	ASSERT_LT(0, pid);
	while ((ret = inl_dump_step(&ds, &d, buf, sizeof(buf), logd_cb, &l)) > 0)
		;
	inl_close(&ds);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("card removal failed");
	self->c[victim].live = 0;
	ASSERT_EQ(0, ret) TH_LOG("log dump: %s", strerror(-ret));
	EXPECT_EQ(0, d.ext.error);
	TH_LOG("LOG_GET of a card removed meanwhile: %d records (seq %llu..%llu) in %d parts, next_seq at start %llu, CARD_REMOVED %s",
	       l.n, (unsigned long long)l.first, (unsigned long long)l.last,
	       d.recvs, (unsigned long long)next_seq,
	       l.removed ? "included" : "not included");
	EXPECT_EQ(0, l.bad);
	EXPECT_FALSE(l.gap);
	EXPECT_EQ(1, l.first);
	/* "up to the last record that existed when the dump started" */
	EXPECT_LE(next_seq - 1, l.last);
	EXPECT_LT(150, l.n);

	/* the monitor: each removed card's last record is CARD_REMOVED */
	memset(&mon, 0, sizeof(mon));
	mon.card = ANY_CARD;
	ret = read_monitor(&mon_s, &mon, 500);
	ASSERT_EQ(0, ret) TH_LOG("monitor: %s (queue too small?)", strerror(-ret));
	inl_close(&mon_s);
	for (i = 0; i < self->n; i++) {
		int j, lastj = -1, removed = 0;

		for (j = 0; j < mon.n && j < EVMAX; j++) {
			if (mon.ev[j].card != self->c[i].num)
				continue;
			lastj = j;
			removed += mon.ev[j].type == IPUMP_EVENT_CARD_REMOVED;
		}
		if (self->c[i].live) {
			EXPECT_EQ(0, removed) TH_LOG("card %u", self->c[i].num);
			continue;
		}
		EXPECT_EQ(1, removed) TH_LOG("card %u: CARD_REMOVED records", self->c[i].num);
		ASSERT_LE(0, lastj);
		EXPECT_EQ(IPUMP_EVENT_CARD_REMOVED, mon.ev[lastj].type)
			TH_LOG("card %u: the last record is not CARD_REMOVED", self->c[i].num);
	}
}

TEST_HARNESS_MAIN
