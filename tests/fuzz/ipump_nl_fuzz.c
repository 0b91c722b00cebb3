// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded, seeded fuzzer for the generic netlink family "ipump"
 * (Documentation/userspace-api/ipump-netlink.rst), with raw netlink
 * sockets (no libnl), run as root on simulated cards in virtual time.
 *
 *   ipump_nl_fuzz [--seed N] [--calls N] [--cards N] [--threads N]
 *                 [--procs N] [--removals N] [--no-io-faults] [-v]
 *
 * Workers (threads and forked processes; one process without
 * CAP_NET_ADMIN and CAP_SYS_ADMIN) send:
 *  - every command, do and dump, with values at and around the policy
 *    ranges (channel 7/8/254/255, duration 0/1/120000/120001, period
 *    99/100/60000/60001, bolus kind, route, flags, lease-loss mode) and the
 *    therapy values around the hard limits;
 *  - malformed requests: attributes dropped, duplicated, of unknown types,
 *    with wrong lengths or lying length fields, nests without
 *    NLA_F_NESTED, garbage nested deeper, byte-order flags, trailing bytes,
 *    truncated messages, wrong family versions, unknown commands, dump
 *    flags on do-only commands;
 *  - random sequences of valid console commands on their sockets;
 *  - sockets closed while holding leases: a reader opened before checks
 *    that the lease taken on the socket is lost (LEASE_LOST with its id)
 *    as soon as the socket is closed;
 *  - virtual time and fault knobs through debugfs;
 * while a monitor socket checks that the "monitor" group delivers each
 * card's records in order, and a remover takes cards away under blocked
 * readers and makes them again. Afterwards every card's audit log is
 * checked against the replies (fuzz_common.h): an accepted change has its
 * record, a refusal that carried a reason in the extended ack has its
 * REQUEST_REFUSED/BOLUS_DENIED with that errno and reason, and one without
 * a reason (policy, permission, unknown card) has none.
 */
#include "fuzz_common.h"

enum {
	OP_CARD_GET, OP_CARD_DUMP, OP_CHANNEL_GET, OP_CHANNEL_DUMP,
	OP_PROGRAMME_SET, OP_TITRATE, OP_START, OP_STOP, OP_PAUSE, OP_RESUME,
	OP_CLEAR, OP_BOLUS, OP_BOLUS_CANCEL, OP_ACK, OP_AUDIO_PAUSE,
	OP_LEASE_ACQUIRE, OP_LEASE_RENEW, OP_LEASE_RELEASE, OP_LEASE_TAKEOVER,
	OP_LIMITS_SET, OP_LIMITS_GET, OP_LOG_DUMP,
	OP_UNKNOWN_CMD, OP_BAD_HEADER, OP_CLOSE_LEASE, OP_CLOSE_SOCKET,
	OP_MONITOR, OP_ADVANCE, OP_FAULT, OP_REMOVE, OP_RECREATE, NOPS
};

static const struct fz_opdef ops[NOPS] = {
	[OP_CARD_GET] = { "CARD_GET", 1 },
	[OP_CARD_DUMP] = { "CARD_GET dump", 1 },
	[OP_CHANNEL_GET] = { "CHANNEL_GET", 1 },
	[OP_CHANNEL_DUMP] = { "CHANNEL_GET dump", 1 },
	[OP_PROGRAMME_SET] = { "PROGRAMME_SET", 1 },
	[OP_TITRATE] = { "TITRATE", 1 },
	[OP_START] = { "START", 1 },
	[OP_STOP] = { "STOP", 1 },
	[OP_PAUSE] = { "PAUSE", 1 },
	[OP_RESUME] = { "RESUME", 1 },
	[OP_CLEAR] = { "CLEAR", 1 },
	[OP_BOLUS] = { "BOLUS", 1 },
	[OP_BOLUS_CANCEL] = { "BOLUS_CANCEL", 1 },
	[OP_ACK] = { "ACK", 1 },
	[OP_AUDIO_PAUSE] = { "AUDIO_PAUSE", 1 },
	[OP_LEASE_ACQUIRE] = { "LEASE_ACQUIRE", 1 },
	[OP_LEASE_RENEW] = { "LEASE_RENEW", 1 },
	[OP_LEASE_RELEASE] = { "LEASE_RELEASE", 1 },
	[OP_LEASE_TAKEOVER] = { "LEASE_TAKEOVER", 1 },
	[OP_LIMITS_SET] = { "LIMITS_SET", 1 },
	[OP_LIMITS_GET] = { "LIMITS_GET", 1 },
	[OP_LOG_DUMP] = { "LOG_GET dump", 1 },
	[OP_UNKNOWN_CMD] = { "unknown-command", -1 },
	[OP_BAD_HEADER] = { "truncated-message", 0 },
	[OP_CLOSE_LEASE] = { "close-socket-holding-lease", 1 },
	[OP_CLOSE_SOCKET] = { "close+reopen-socket", 1 },
	[OP_MONITOR] = { "monitor-group-records", 1 },
	[OP_ADVANCE] = { "debugfs-advance_ms", 1 },
	[OP_FAULT] = { "debugfs-fault-knob", 1 },
	[OP_REMOVE] = { "card-remove-mid-stream", 1 },
	[OP_RECREATE] = { "card-recreate", 1 },
};

/* genl command of each op (dumps share the do's command) */
static const uint8_t cmd_of[] = {
	[OP_CARD_GET] = IPUMP_CMD_CARD_GET,
	[OP_CARD_DUMP] = IPUMP_CMD_CARD_GET,
	[OP_CHANNEL_GET] = IPUMP_CMD_CHANNEL_GET,
	[OP_CHANNEL_DUMP] = IPUMP_CMD_CHANNEL_GET,
	[OP_PROGRAMME_SET] = IPUMP_CMD_PROGRAMME_SET,
	[OP_TITRATE] = IPUMP_CMD_TITRATE,
	[OP_START] = IPUMP_CMD_START,
	[OP_STOP] = IPUMP_CMD_STOP,
	[OP_PAUSE] = IPUMP_CMD_PAUSE,
	[OP_RESUME] = IPUMP_CMD_RESUME,
	[OP_CLEAR] = IPUMP_CMD_CLEAR,
	[OP_BOLUS] = IPUMP_CMD_BOLUS,
	[OP_BOLUS_CANCEL] = IPUMP_CMD_BOLUS_CANCEL,
	[OP_ACK] = IPUMP_CMD_ACK,
	[OP_AUDIO_PAUSE] = IPUMP_CMD_AUDIO_PAUSE,
	[OP_LEASE_ACQUIRE] = IPUMP_CMD_LEASE_ACQUIRE,
	[OP_LEASE_RENEW] = IPUMP_CMD_LEASE_RENEW,
	[OP_LEASE_RELEASE] = IPUMP_CMD_LEASE_RELEASE,
	[OP_LEASE_TAKEOVER] = IPUMP_CMD_LEASE_TAKEOVER,
	[OP_LIMITS_SET] = IPUMP_CMD_LIMITS_SET,
	[OP_LIMITS_GET] = IPUMP_CMD_LIMITS_GET,
	[OP_LOG_DUMP] = IPUMP_CMD_LOG_GET,
};
#define NCMDOPS	(OP_LOG_DUMP + 1)

static unsigned int opt_threads = 3, opt_procs = 2, opt_cards = 2;
static unsigned int opt_removals = ~0U;
static bool opt_io_faults = true;
static uint16_t family;
static uint32_t mcgrp;

/* workers hold it (read) around a request; the remover (write) while it
 * marks a card dying and while it makes a new one */
static pthread_rwlock_t *rmlock;

/* ---- a request: intended values; the message may be mangled ---- */

struct req {
	unsigned int op;
	bool card_set, ch_set, gen_set, prog_set, lim_set, kind_set, vol_set,
	     rate_set, dur_set, period_set, from_set;
	uint32_t card, ch, kind, vol, rate, dur, period;
	uint64_t gen, from;
	struct ipump_programme prog;
	struct ipump_hard_limits lim;
};

/* What the kernel parsed out of a message (last attribute wins). */
struct parsed {
	bool card, ch, gen, kind, vol, rate, dur, period;
	uint32_t card_v, ch_v, kind_v, vol_v, rate_v, dur_v, period_v;
	uint64_t gen_v;
	bool prog, lim;
	struct ipump_programme p;
	struct ipump_hard_limits l;
};

struct nworker {
	unsigned int idx;
	struct fz_rng rng;
	bool admin;
	struct fz_nl sock;
	unsigned int slot, ch;
};

static void put_prog(struct fz_msg *m, const struct ipump_programme *p,
		     bool nested_flag)
{
	size_t n = fz_nest_start(m, IPUMP_A_PROGRAMME | (nested_flag ? NLA_F_NESTED : 0));

	fz_put_u32(m, IPUMP_A_PROG_ROUTE, p->route);
	fz_put_u32(m, IPUMP_A_PROG_FLAGS, p->flags);
	fz_put_u32(m, IPUMP_A_PROG_BASAL_RATE_NL_PER_H, p->basal_rate_nl_per_h);
	fz_put_u32(m, IPUMP_A_PROG_KVO_RATE_NL_PER_H, p->kvo_rate_nl_per_h);
	fz_put_u64(m, IPUMP_A_PROG_VTBI_NL, p->vtbi_nl);
	fz_put_u32(m, IPUMP_A_PROG_BOLUS_VOLUME_NL, p->bolus_volume_nl);
	fz_put_u32(m, IPUMP_A_PROG_BOLUS_RATE_NL_PER_H, p->bolus_rate_nl_per_h);
	fz_put_u32(m, IPUMP_A_PROG_LOCKOUT_MS, p->lockout_ms);
	fz_put_u32(m, IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR, p->max_boluses_per_hour);
	fz_put_u64(m, IPUMP_A_PROG_MAX_DOSE_1H_NL, p->max_dose_1h_nl);
	fz_put_u64(m, IPUMP_A_PROG_MAX_DOSE_4H_NL, p->max_dose_4h_nl);
	fz_put_u32(m, IPUMP_A_PROG_LEASE_LOSS_MODE, p->lease_loss_mode);
	fz_nest_end(m, n);
}

static void put_lim(struct fz_msg *m, const struct ipump_hard_limits *l,
		    bool nested_flag)
{
	size_t n = fz_nest_start(m, IPUMP_A_LIMITS | (nested_flag ? NLA_F_NESTED : 0));

	fz_put_u32(m, IPUMP_A_LIM_MIN_RATE_NL_PER_H, l->min_rate_nl_per_h);
	fz_put_u32(m, IPUMP_A_LIM_MAX_RATE_NL_PER_H, l->max_rate_nl_per_h);
	fz_put_u32(m, IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H, l->max_kvo_rate_nl_per_h);
	fz_put_u32(m, IPUMP_A_LIM_MAX_BOLUS_VOLUME_NL, l->max_bolus_volume_nl);
	fz_put_u32(m, IPUMP_A_LIM_MAX_BOLUS_RATE_NL_PER_H, l->max_bolus_rate_nl_per_h);
	fz_put_u32(m, IPUMP_A_LIM_MIN_LOCKOUT_MS, l->min_lockout_ms);
	fz_put_u64(m, IPUMP_A_LIM_MAX_VTBI_NL, l->max_vtbi_nl);
	fz_put_u64(m, IPUMP_A_LIM_MAX_DOSE_1H_NL, l->max_dose_1h_nl);
	fz_put_u64(m, IPUMP_A_LIM_MAX_DOSE_4H_NL, l->max_dose_4h_nl);
	fz_put_u32(m, IPUMP_A_LIM_MAX_BOLUSES_PER_HOUR, l->max_boluses_per_hour);
	fz_put_u32(m, IPUMP_A_LIM_AIR_BUBBLE_NL, l->air_bubble_nl);
	fz_put_u32(m, IPUMP_A_LIM_AIR_ACCUM_NL, l->air_accum_nl);
	fz_put_u32(m, IPUMP_A_LIM_OVER_INFUSION_PCT, l->over_infusion_pct);
	fz_put_u32(m, IPUMP_A_LIM_UNDER_INFUSION_PCT, l->under_infusion_pct);
	fz_put_u32(m, IPUMP_A_LIM_STALL_MS, l->stall_ms);
	fz_nest_end(m, n);
}

/*
 * Builds the message of @q; with @mangle, damages it in one of many ways.
 * Returns true if the header itself was damaged (the request may not be
 * understood as its command at all).
 */
static bool build(struct fz_rng *r, const struct req *q, struct fz_msg *m,
		  bool mangle)
{
	bool dump = q->op == OP_CARD_DUMP || q->op == OP_CHANNEL_DUMP ||
		    q->op == OP_LOG_DUMP;
	int kind = mangle ? (int)fz_below(r, 14) : -1;
	bool nested = kind != 0;
	size_t at;

	/* the family version is informational: any is served */
	fz_msg_init(m, family, dump ? NLM_F_DUMP : 0, cmd_of[q->op],
		    kind == 1 ? (uint8_t)fz_below(r, 256) : IPUMP_GENL_VERSION);
	if (kind == 2)	/* an unknown attribute first */
		fz_put_u32(m, (uint16_t)fz_range(r, IPUMP_A_MAX + 1, IPUMP_A_MAX + 40),
			   (uint32_t)fz_next(r));
	if (kind == 3)	/* a reply-only attribute */
		fz_put_u32(m, fz_pct(r, 50) ? IPUMP_A_PAD : IPUMP_A_REASON, 0);
	if (q->card_set && kind != 4)
		fz_put_u32(m, IPUMP_A_CARD_ID, q->card);
	if (q->ch_set) {
		if (kind == 5)	/* a u32 as 8 bytes, 2 bytes or none */
			fz_put_raw(m, IPUMP_A_CHANNEL, &q->gen, fz_pct(r, 50) ? 8 : 2, 0);
		else
			fz_put_u32(m, IPUMP_A_CHANNEL, q->ch);
	}
	if (q->gen_set) {
		if (kind == 6)	/* a u64 as a u32 */
			fz_put_u32(m, IPUMP_A_GENERATION, (uint32_t)q->gen);
		else
			fz_put_u64(m, IPUMP_A_GENERATION, q->gen);
	}
	if (q->kind_set)
		fz_put_u32(m, IPUMP_A_BOLUS_KIND, q->kind);
	if (q->vol_set)
		fz_put_u32(m, IPUMP_A_BOLUS_VOLUME_NL, q->vol);
	if (q->rate_set)
		fz_put_u32(m, IPUMP_A_BOLUS_RATE_NL_PER_H, q->rate);
	if (q->dur_set)
		fz_put_u32(m, IPUMP_A_DURATION_MS, q->dur);
	if (q->period_set)
		fz_put_u32(m, IPUMP_A_LEASE_PERIOD_MS, q->period);
	if (q->from_set)
		fz_put_u64(m, IPUMP_A_LOG_FROM_SEQ, q->from);
	if (q->prog_set) {
		at = m->len;
		put_prog(m, &q->prog, nested);
		if (kind == 7) {	/* drop the last member */
			struct nlattr *n = (struct nlattr *)(m->buf + at);

			m->len -= NLA_ALIGN(NLA_HDRLEN + 4);
			n->nla_len = (uint16_t)(m->len - at);
		}
		if (kind == 8) {	/* garbage nested deeper */
			struct nlattr *n = (struct nlattr *)(m->buf + at);
			size_t in = fz_nest_start(m, NLA_F_NESTED |
						  (uint16_t)fz_range(r, 1, 20));

			fz_put_u64(m, (uint16_t)fz_below(r, 30), fz_next(r));
			fz_nest_end(m, in);
			n->nla_len = (uint16_t)(m->len - at);
		}
	}
	if (q->lim_set)
		put_lim(m, &q->lim, nested);
	switch (kind) {
	case 9:		/* the last attribute's length field lies */
		if (m->len > NLMSG_HDRLEN + GENL_HDRLEN) {
			struct nlattr *a = (struct nlattr *)(m->buf + NLMSG_HDRLEN + GENL_HDRLEN);
			int d = fz_pct(r, 50) ? (int)fz_range(r, 1, 64) : -(int)fz_range(r, 1, 3);

			a->nla_len = (uint16_t)(a->nla_len + d);
		}
		break;
	case 10:	/* trailing bytes, not an attribute */
		memset(m->buf + m->len, 0xa5, 3);
		m->len += 3;
		break;
	case 11:	/* the byte-order flag on an attribute */
		fz_put_u32(m, IPUMP_A_CARD_ID | NLA_F_NET_BYTEORDER, q->card);
		break;
	case 12:	/* a duplicate attribute (the last one wins) */
		if (q->ch_set)
			fz_put_u32(m, IPUMP_A_CHANNEL, q->ch);
		break;
	case 13:	/* truncated: the header says less than is there */
		/* shorter than a genl header: EINVAL; just the headers: no
		 * attributes (a header shorter than its own is dropped silently
		 * by netlink: not sent) */
		m->force_len = (uint32_t)fz_range(r, NLMSG_HDRLEN, NLMSG_HDRLEN + GENL_HDRLEN);
		return true;
	default:
		break;
	}
	return false;
}

/* Parses the top-level attributes of a message we sent (the kernel's view). */
static void parse_sent(const struct fz_msg *m, struct parsed *p)
{
	struct nlattr *a, *b;

	memset(p, 0, sizeof(*p));
	fz_for_each_attr(a, m->buf + NLMSG_HDRLEN + GENL_HDRLEN,
			 m->len - NLMSG_HDRLEN - GENL_HDRLEN) {
		uint64_t v = fz_attr_uint(a);

		switch (a->nla_type & NLA_TYPE_MASK) {
		case IPUMP_A_CARD_ID: p->card = true; p->card_v = (uint32_t)v; break;
		case IPUMP_A_CHANNEL: p->ch = true; p->ch_v = (uint32_t)v; break;
		case IPUMP_A_GENERATION: p->gen = true; p->gen_v = v; break;
		case IPUMP_A_BOLUS_KIND: p->kind = true; p->kind_v = (uint32_t)v; break;
		case IPUMP_A_BOLUS_VOLUME_NL: p->vol = true; p->vol_v = (uint32_t)v; break;
		case IPUMP_A_BOLUS_RATE_NL_PER_H: p->rate = true; p->rate_v = (uint32_t)v; break;
		case IPUMP_A_DURATION_MS: p->dur = true; p->dur_v = (uint32_t)v; break;
		case IPUMP_A_LEASE_PERIOD_MS: p->period = true; p->period_v = (uint32_t)v; break;
		case IPUMP_A_PROGRAMME:
			p->prog = true;
			memset(&p->p, 0, sizeof(p->p));
			fz_for_each_attr(b, a + 1, a->nla_len - NLA_HDRLEN) {
				uint64_t w = fz_attr_uint(b);

				switch (b->nla_type & NLA_TYPE_MASK) {
				case IPUMP_A_PROG_ROUTE: p->p.route = (uint32_t)w; break;
				case IPUMP_A_PROG_FLAGS: p->p.flags = (uint32_t)w; break;
				case IPUMP_A_PROG_BASAL_RATE_NL_PER_H: p->p.basal_rate_nl_per_h = (uint32_t)w; break;
				case IPUMP_A_PROG_KVO_RATE_NL_PER_H: p->p.kvo_rate_nl_per_h = (uint32_t)w; break;
				case IPUMP_A_PROG_VTBI_NL: p->p.vtbi_nl = w; break;
				case IPUMP_A_PROG_BOLUS_VOLUME_NL: p->p.bolus_volume_nl = (uint32_t)w; break;
				case IPUMP_A_PROG_BOLUS_RATE_NL_PER_H: p->p.bolus_rate_nl_per_h = (uint32_t)w; break;
				case IPUMP_A_PROG_LOCKOUT_MS: p->p.lockout_ms = (uint32_t)w; break;
				case IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR: p->p.max_boluses_per_hour = (uint32_t)w; break;
				case IPUMP_A_PROG_MAX_DOSE_1H_NL: p->p.max_dose_1h_nl = w; break;
				case IPUMP_A_PROG_MAX_DOSE_4H_NL: p->p.max_dose_4h_nl = w; break;
				case IPUMP_A_PROG_LEASE_LOSS_MODE: p->p.lease_loss_mode = (uint32_t)w; break;
				default: break;
				}
			}
			break;
		case IPUMP_A_LIMITS:
			p->lim = true;
			fz_for_each_attr(b, a + 1, a->nla_len - NLA_HDRLEN)
				if ((b->nla_type & NLA_TYPE_MASK) == IPUMP_A_LIM_MIN_RATE_NL_PER_H)
					p->l.min_rate_nl_per_h = (uint32_t)fz_attr_uint(b);
			break;
		default:
			break;
		}
	}
}

/* The live instance a card number names now (workers hold rmlock). */
static uint32_t inst_of_card(uint32_t num)
{
	uint32_t id = 0;
	unsigned int s;

	pthread_mutex_lock(&fz_sh->lock);
	for (s = 0; s < fz_sh->nslots; s++)
		if (fz_sh->slot[s].live && fz_sh->slot[s].num == num)
			id = fz_sh->slot[s].inst;
	pthread_mutex_unlock(&fz_sh->lock);
	return id;
}

/* ---- one request with its bookkeeping ---- */

struct status_ans {
	bool have;
	uint32_t state, lease;
	uint64_t gen;
	bool have_prog;
	struct ipump_programme prog;
	struct ipump_hard_limits lim;
	bool have_lim;
	unsigned int msgs;
	uint64_t last_seq;
	bool bad;
};

static void reply_cb(void *priv, const struct nlmsghdr *nlh)
{
	struct status_ans *s = priv;
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct nlattr *a, *b;
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	s->msgs++;
	fz_for_each_attr(a, (char *)g + GENL_HDRLEN, len) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case IPUMP_A_STATUS:
			s->have = true;
			fz_for_each_attr(b, a + 1, a->nla_len - NLA_HDRLEN) {
				if ((b->nla_type & NLA_TYPE_MASK) == IPUMP_A_ST_STATE)
					s->state = (uint32_t)fz_attr_uint(b);
				if ((b->nla_type & NLA_TYPE_MASK) == IPUMP_A_ST_GENERATION)
					s->gen = fz_attr_uint(b);
				if ((b->nla_type & NLA_TYPE_MASK) == IPUMP_A_ST_LEASE)
					s->lease = (uint32_t)fz_attr_uint(b);
			}
			break;
		case IPUMP_A_PROGRAMME: {
			struct fz_msg tmp;	/* reuse the request parser */
			struct parsed p;

			tmp.len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(a->nla_len);
			if (tmp.len <= sizeof(tmp.buf)) {
				memcpy(tmp.buf + NLMSG_HDRLEN + GENL_HDRLEN, a, a->nla_len);
				parse_sent(&tmp, &p);
				s->prog = p.p;
				s->have_prog = true;
			}
			break;
		}
		case IPUMP_A_LIMITS:
			s->have_lim = true;
			fz_for_each_attr(b, a + 1, a->nla_len - NLA_HDRLEN) {
				uint64_t v = fz_attr_uint(b);

				switch (b->nla_type & NLA_TYPE_MASK) {
				case IPUMP_A_LIM_MIN_RATE_NL_PER_H: s->lim.min_rate_nl_per_h = (uint32_t)v; break;
				case IPUMP_A_LIM_MAX_RATE_NL_PER_H: s->lim.max_rate_nl_per_h = (uint32_t)v; break;
				case IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H: s->lim.max_kvo_rate_nl_per_h = (uint32_t)v; break;
				case IPUMP_A_LIM_MAX_BOLUS_VOLUME_NL: s->lim.max_bolus_volume_nl = (uint32_t)v; break;
				case IPUMP_A_LIM_MAX_BOLUS_RATE_NL_PER_H: s->lim.max_bolus_rate_nl_per_h = (uint32_t)v; break;
				case IPUMP_A_LIM_MIN_LOCKOUT_MS: s->lim.min_lockout_ms = (uint32_t)v; break;
				case IPUMP_A_LIM_MAX_VTBI_NL: s->lim.max_vtbi_nl = v; break;
				case IPUMP_A_LIM_MAX_DOSE_1H_NL: s->lim.max_dose_1h_nl = v; break;
				case IPUMP_A_LIM_MAX_DOSE_4H_NL: s->lim.max_dose_4h_nl = v; break;
				case IPUMP_A_LIM_MAX_BOLUSES_PER_HOUR: s->lim.max_boluses_per_hour = (uint32_t)v; break;
				default: break;
				}
			}
			break;
		case IPUMP_A_EVENT: {
			struct ipump_event ev;

			fz_parse_event(a, &ev);
			if (ev.seq && ev.seq <= s->last_seq)
				s->bad = true;
			if (ev.seq)
				s->last_seq = ev.seq;
			break;
		}
		default:
			break;
		}
	}
}

/*
 * Sends @q (mangled with @mangle) on the worker's socket and books the
 * answer. Returns 0 or the positive errno; *@ans gets a reply's contents.
 */
static int request(struct nworker *w, uint32_t inst, const struct req *q,
		   bool mangle, struct status_ans *ans)
{
	struct status_ans dummy;
	struct fz_nlres res;
	struct parsed p;
	struct fz_msg m;
	unsigned int op = q->op;
	bool dump = op == OP_CARD_DUMP || op == OP_CHANNEL_DUMP || op == OP_LOG_DUMP;
	bool header;
	uint32_t ch;
	int err;

	if (!ans)
		ans = &dummy;
	memset(ans, 0, sizeof(*ans));
	if (w->sock.fd < 0 && (fz_nl_open(&w->sock) || (w->sock.family = family, 0)))
		return EAGAIN;
	w->sock.family = family;
	header = build(&w->rng, q, &m, mangle);
	if (!dump)
		m.nlh.nlmsg_flags |= NLM_F_ACK;
	err = fz_nl_send(&w->sock, &m);
	if (!err)
		err = fz_nl_recv(&w->sock, &res, reply_cb, ans, header ? 5000 : 30000);
	else
		res.err = -err, res.reason = ~0U;
	if (err == -ETIME) {
		/* a truncated request may get no answer: start afresh */
		fz_nl_close(&w->sock);
		if (header) {
			fz_count(OP_BAD_HEADER, ETIME);
			return ETIME;
		}
		fz_problem("%s: no answer within 30 s", ops[op].name);
		return ETIME;
	}
	err = err < 0 ? -err : 0;
	if (header) {
		fz_count(OP_BAD_HEADER, err);
		return err;
	}
	fz_count(op, err);
	if (ans->bad)
		fz_problem("LOG_GET dump: sequence numbers not increasing");
	if (err && res.reason != ~0U &&
	    (res.reason >= IPUMP_REASON_COUNT || !res.msg[0]))
		fz_problem("%s: refusal %s with reason %u, message '%s'", ops[op].name,
			   strerror(err), res.reason, res.msg);
	if (dump || op == OP_CARD_GET || op == OP_CHANNEL_GET || op == OP_LIMITS_GET)
		return err;

	/* a change: what must the card's log hold? */
	parse_sent(&m, &p);
	if (!p.card)
		return err;
	/* the card the message names (the lookup is stable under rmlock) */
	inst = inst_of_card(p.card_v);
	if (!inst)
		return err;
	ch = p.ch ? p.ch_v : IPUMP_CHANNEL_NONE;
	if (ch >= IPUMP_MAX_CHANNELS)
		return err;
	if (err) {
		if (res.reason != ~0U)
			fz_expect(inst, ch, X_REFUSED, (uint64_t)err * 256 + res.reason);
		if (err == EIO && (op == OP_STOP || op == OP_PAUSE || op == OP_BOLUS_CANCEL))
			fz_expect(inst, ch, X_CANCEL_EXTRA, 0);
		if (!w->admin && err != EPERM)
			fz_problem("%s without CAP_NET_ADMIN answered %s", ops[op].name,
				   strerror(err));
		return err;
	}
	if (!w->admin)
		fz_problem("%s without CAP_NET_ADMIN was accepted", ops[op].name);
	if (mangle && (op == OP_PROGRAMME_SET || op == OP_TITRATE || op == OP_LIMITS_SET) &&
	    (!p.prog && !p.lim))
		return err;
	switch (op) {
	case OP_PROGRAMME_SET:
	case OP_TITRATE:
		if (res.gen != p.gen_v + 1)
			fz_problem("%s ch%u based on generation %llu replied %llu",
				   ops[op].name, ch, (unsigned long long)p.gen_v,
				   (unsigned long long)res.gen);
		fz_expect(inst, ch, op == OP_PROGRAMME_SET ? X_PROG_SET : X_TITRATE, res.gen);
		fz_prog_accepted(inst, ch, res.gen, &p.p);
		break;
	case OP_CLEAR:
		fz_expect(inst, ch, X_CLEAR, 0);
		break;
	case OP_START:
		fz_expect(inst, ch, X_START, p.gen_v);
		break;
	case OP_RESUME:
		fz_expect(inst, ch, X_RESUME, p.gen_v);
		break;
	case OP_STOP:
		fz_expect(inst, ch, X_STOP, 0);
		break;
	case OP_PAUSE:
		fz_expect(inst, ch, X_PAUSE, 0);
		break;
	case OP_BOLUS:
		if (p.kind_v == IPUMP_BOLUS_DEMAND)
			fz_expect(inst, ch, X_DEMAND, 0);
		else
			fz_expect(inst, ch, X_CLIN, (uint64_t)p.vol_v << 32 | p.rate_v);
		break;
	case OP_BOLUS_CANCEL:
		fz_expect(inst, ch, X_CANCEL, 0);
		break;
	case OP_AUDIO_PAUSE:
		fz_expect(inst, ch, X_AUDIO, p.dur_v);
		break;
	case OP_LEASE_ACQUIRE:
		fz_expect(inst, ch, X_ACQUIRE, p.period_v);
		break;
	case OP_LEASE_RELEASE:
		fz_expect(inst, ch, X_RELEASE, 0);
		break;
	case OP_LEASE_TAKEOVER:
		fz_expect(inst, ch, X_TAKEOVER, p.period_v);
		break;
	case OP_LIMITS_SET:
		fz_expect(inst, ch, X_LIMITS, p.l.min_rate_nl_per_h);
		break;
	default:
		break;
	}
	return err;
}

/* ---- request generators ---- */

static uint32_t rnd_ch(struct fz_rng *r, unsigned int nch)
{
	static const uint32_t odd[] = { 7, 8, 254, IPUMP_CHANNEL_NONE, 256, UINT32_MAX };

	if (fz_pct(r, 88))
		return (uint32_t)fz_below(r, nch);
	if (fz_pct(r, 40))
		return nch;
	return odd[fz_below(r, sizeof(odd) / sizeof(odd[0]))];
}

static void fill_req(struct fz_rng *r, struct req *q, unsigned int op,
		     uint32_t card, unsigned int nch)
{
	struct ipump_hard_limits l = ipt_default_limits;

	memset(q, 0, sizeof(*q));
	q->op = op;
	q->card_set = op != OP_CARD_DUMP && op != OP_CHANNEL_DUMP ? !fz_pct(r, 3) : fz_pct(r, 50);
	q->card = fz_pct(r, 95) ? card : (uint32_t)fz_around(r, card, 32);
	q->ch_set = op != OP_CARD_GET && op != OP_CARD_DUMP && op != OP_LOG_DUMP &&
		    (op != OP_CHANNEL_DUMP || fz_pct(r, 50)) && !fz_pct(r, 3);
	if (op == OP_ACK)
		q->ch_set = fz_pct(r, 70);
	q->ch = rnd_ch(r, nch);
	switch (op) {
	case OP_PROGRAMME_SET:
	case OP_TITRATE:
		q->prog_set = !fz_pct(r, 3);
		valid_prog(r, &l, &q->prog);
		if (fz_pct(r, 60))
			mutate_prog(r, &l, &q->prog);
		/* fallthrough */
	case OP_START:
	case OP_RESUME:
	case OP_CLEAR:
		q->gen_set = !fz_pct(r, 3);
		q->gen = fz_pct(r, 70) ? fz_below(r, 8) : fz_around(r, 1, 64);
		break;
	case OP_BOLUS:
		q->kind_set = !fz_pct(r, 3);
		q->kind = fz_pct(r, 90) ? (uint32_t)fz_below(r, 2) : (uint32_t)fz_around(r, 1, 32);
		q->vol_set = q->kind != IPUMP_BOLUS_DEMAND ? !fz_pct(r, 5) : fz_pct(r, 10);
		q->rate_set = q->vol_set && !fz_pct(r, 5);
		q->vol = (uint32_t)fz_around(r, l.max_bolus_volume_nl, 32);
		q->rate = (uint32_t)fz_around(r, fz_pct(r, 50) ? l.max_bolus_rate_nl_per_h :
					      l.min_rate_nl_per_h, 32);
		break;
	case OP_AUDIO_PAUSE:
		q->dur_set = !fz_pct(r, 3);
		q->dur = (uint32_t)fz_around(r, fz_pct(r, 50) ? 120000 : 1, 32);
		break;
	case OP_LEASE_ACQUIRE:
	case OP_LEASE_TAKEOVER:
		q->period_set = !fz_pct(r, 3);
		q->period = (uint32_t)fz_around(r, fz_pct(r, 50) ? 60000 : 100, 32);
		break;
	case OP_LIMITS_SET:
		q->lim_set = !fz_pct(r, 3);
		q->lim = l;
		mutate_limits(r, &q->lim);
		break;
	case OP_LOG_DUMP:
		q->from_set = fz_pct(r, 50);
		q->from = fz_around(r, 50, 64);
		break;
	default:
		break;
	}
	/* an attribute the command does not take */
	if (fz_pct(r, 4))
		q->dur_set = true, q->dur = 1000;
}

/* Snapshot of a slot for a request; holds rmlock (read) when it returns 0. */
static int take_slot(struct nworker *w, unsigned int slot, uint32_t *inst,
		     uint32_t *num, unsigned int *nch, char *name)
{
	struct fz_slot *sl = &fz_sh->slot[slot];
	bool ok;

	pthread_rwlock_rdlock(rmlock);
	pthread_mutex_lock(&fz_sh->lock);
	/* a dying card: mostly left alone, sometimes hit mid-removal */
	ok = sl->live && (!sl->dying || fz_pct(&w->rng, 10));
	*inst = sl->inst;
	*num = sl->num;
	*nch = sl->nch;
	if (name)
		snprintf(name, 32, "%s", sl->name);
	pthread_mutex_unlock(&fz_sh->lock);
	if (!ok) {
		pthread_rwlock_unlock(rmlock);
		return -1;
	}
	return 0;
}

static int knob_name(const char *name, int ch, const char *knob, long long v)
{
	char path[192];

	if (ch < 0)
		snprintf(path, sizeof(path), IPT_SIMDBG "%s/%s", name, knob);
	else
		snprintf(path, sizeof(path), IPT_SIMDBG "%s/ch%d/%s", name, ch, knob);
	return -ipt_write_ll(path, v);
}

/* A request built from the valid values of a console. */
static int simple(struct nworker *w, uint32_t inst, unsigned int op, uint32_t card,
		  uint32_t ch, struct status_ans *ans)
{
	struct req q = { .op = op, .card_set = true, .card = card, .ch_set = true,
			 .ch = ch };

	return request(w, inst, &q, false, ans);
}

/* One step of a valid console sequence on one socket. */
static void console_step(struct nworker *w, unsigned int slot)
{
	struct fz_rng *r = &w->rng;
	struct status_ans st, lim;
	uint32_t inst, card, ch;
	unsigned int nch;
	char name[32];
	struct req q;
	int pick;

	if (take_slot(w, slot, &inst, &card, &nch, name))
		return;
	if (w->slot != slot || w->ch >= nch || fz_pct(r, 25)) {
		w->slot = slot;
		w->ch = (unsigned int)fz_below(r, nch);
	}
	ch = w->ch;
	if (simple(w, inst, OP_CHANNEL_GET, card, ch, &st) || !st.have)
		goto out;
	memset(&q, 0, sizeof(q));
	q.card_set = q.ch_set = true;
	q.card = card;
	q.ch = ch;
	if (st.lease == IPUMP_LEASE_FREE && fz_pct(r, 85)) {
		q.op = OP_LEASE_ACQUIRE;
		q.period_set = true;
		q.period = lease_period(r);
		request(w, inst, &q, false, NULL);
		goto out;
	}
	if (st.lease == IPUMP_LEASE_ORPHANED && fz_pct(r, 85)) {
		q.op = OP_LEASE_TAKEOVER;
		q.period_set = true;
		q.period = lease_period(r);
		request(w, inst, &q, false, NULL);
		goto out;
	}
	if (st.lease == IPUMP_LEASE_MINE && fz_pct(r, 12)) {
		simple(w, inst, fz_pct(r, 80) ? OP_LEASE_RENEW : OP_LEASE_RELEASE, card, ch, NULL);
		goto out;
	}
	pick = (int)fz_below(r, 100);
	switch (st.state) {
	case IPUMP_STATE_IDLE:
	case IPUMP_STATE_PROGRAMMED:
		if (pick < 60 || st.state == IPUMP_STATE_IDLE) {
			struct status_ans rep;

			simple(w, inst, OP_LIMITS_GET, card, ch, &lim);
			q.op = OP_PROGRAMME_SET;
			q.gen_set = q.prog_set = true;
			q.gen = st.gen;
			valid_prog(r, lim.have_lim ? &lim.lim : &ipt_default_limits, &q.prog);
			if (!request(w, inst, &q, false, &rep) && fz_pct(r, 70)) {
				q.op = OP_START;
				q.prog_set = false;
				q.gen = st.gen + 1;
				request(w, inst, &q, false, NULL);
			}
		} else if (pick < 80) {
			q.op = OP_START;
			q.gen_set = true;
			q.gen = st.gen;
			request(w, inst, &q, false, NULL);
		} else if (pick < 88) {
			q.op = OP_CLEAR;
			q.gen_set = true;
			q.gen = st.gen;
			request(w, inst, &q, false, NULL);
		} else if (pick < 94) {
			q.op = OP_LIMITS_SET;
			q.lim_set = true;
			q.lim = ipt_default_limits;
			request(w, inst, &q, false, NULL);
		} else {
			q.op = OP_AUDIO_PAUSE;
			q.dur_set = true;
			q.dur = (uint32_t)fz_range(r, 1, 120000);
			request(w, inst, &q, false, NULL);
		}
		break;
	case IPUMP_STATE_RUNNING:
		if (pick < 25) {
			simple(w, inst, OP_LIMITS_GET, card, ch, &lim);
			q.op = OP_BOLUS;
			q.kind_set = true;
			if (fz_pct(r, 50) && lim.have_lim) {
				q.kind = IPUMP_BOLUS_CLINICIAN;
				q.vol_set = q.rate_set = true;
				q.vol = (uint32_t)fz_range(r, 1, lim.lim.max_bolus_volume_nl);
				q.rate = (uint32_t)fz_range(r, lim.lim.min_rate_nl_per_h,
							    lim.lim.max_bolus_rate_nl_per_h);
			}
			if (!request(w, inst, &q, false, NULL) && fz_pct(r, 40))
				simple(w, inst, OP_BOLUS_CANCEL, card, ch, NULL);
		} else if (pick < 40 && st.have_prog) {
			simple(w, inst, OP_LIMITS_GET, card, ch, &lim);
			q.op = OP_TITRATE;
			q.gen_set = q.prog_set = true;
			q.gen = st.gen;
			q.prog = st.prog;
			if (lim.have_lim)
				q.prog.basal_rate_nl_per_h = (uint32_t)fz_range(r,
					lim.lim.min_rate_nl_per_h,
					min32(lim.lim.max_rate_nl_per_h, 5000000));
			if (q.prog.basal_rate_nl_per_h < q.prog.kvo_rate_nl_per_h)
				q.prog.basal_rate_nl_per_h = q.prog.kvo_rate_nl_per_h;
			request(w, inst, &q, false, NULL);
		} else if (pick < 52) {
			simple(w, inst, OP_PAUSE, card, ch, NULL);
		} else if (pick < 60) {
			simple(w, inst, OP_STOP, card, ch, NULL);
		} else if (pick < 70) {
			simple(w, inst, OP_LEASE_RENEW, card, ch, NULL);
		} else if (pick < 95) {
			fz_count(OP_ADVANCE, knob_name(name, -1, "advance_ms",
						       (long long)fz_range(r, 100, 30000)));
		} else {
			simple(w, inst, OP_ACK, card, ch, NULL);
		}
		break;
	case IPUMP_STATE_BOLUS:
		if (pick < 30)
			simple(w, inst, OP_BOLUS_CANCEL, card, ch, NULL);
		else if (pick < 42)
			simple(w, inst, OP_PAUSE, card, ch, NULL);
		else if (pick < 54)
			simple(w, inst, OP_STOP, card, ch, NULL);
		else if (pick < 80)
			fz_count(OP_ADVANCE, knob_name(name, -1, "advance_ms",
						       (long long)fz_range(r, 100, 20000)));
		else
			simple(w, inst, OP_LEASE_RENEW, card, ch, NULL);
		break;
	case IPUMP_STATE_PAUSED:
		if (pick < 55) {
			q.op = OP_RESUME;
			q.gen_set = true;
			q.gen = st.gen;
			request(w, inst, &q, false, NULL);
		} else if (pick < 75) {
			simple(w, inst, OP_STOP, card, ch, NULL);
		} else {
			simple(w, inst, OP_LEASE_RENEW, card, ch, NULL);
		}
		break;
	case IPUMP_STATE_KVO:
		if (pick < 40)
			simple(w, inst, OP_STOP, card, ch, NULL);
		else if (pick < 60)
			simple(w, inst, OP_PAUSE, card, ch, NULL);
		else
			fz_count(OP_ADVANCE, knob_name(name, -1, "advance_ms",
						       (long long)fz_range(r, 100, 10000)));
		break;
	default: {	/* alarm-stopped, fault: take the conditions away, ack */
		static const char *const zero[] = { "occlusion_down", "occlusion_up",
			"air_bubble_nl", "door_open", "stall", "stall_silent",
			"free_flow_nl_per_h", "speed_error_pct" };
		unsigned int i;

		if (pick < 45) {
			for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
				fz_count(OP_FAULT, knob_name(name, (int)ch, zero[i], 0));
			fz_count(OP_FAULT, knob_name(name, (int)ch, "reservoir_nl", 20000000));
			fz_count(OP_FAULT, knob_name(name, -1, "io_fail_every", 0));
			fz_count(OP_FAULT, knob_name(name, -1, "mains", 1));
			fz_count(OP_FAULT, knob_name(name, -1, "battery_minutes", 240));
		}
		if (pick < 85) {
			simple(w, inst, OP_ACK, card, ch, NULL);
		} else {
			simple(w, inst, OP_STOP, card, ch, NULL);
		}
		if (pick < 20) {
			struct req a = { .op = OP_ACK, .card_set = true, .card = card };

			request(w, inst, &a, false, NULL);
		}
		break;
	}
	}
out:
	pthread_rwlock_unlock(rmlock);
}

/*
 * A socket takes a lease (and perhaps starts therapy) and is closed: the
 * lease must be lost at once (LEASE_LOST with the lease's id), seen by a
 * reader opened before.
 */
static void close_with_lease(struct nworker *w, unsigned int slot)
{
	struct fz_rng *r = &w->rng;
	struct ipump_event ev[256];
	struct nworker a = { .rng = w->rng, .admin = w->admin };
	uint32_t inst, card, period, ch;
	unsigned int nch;
	char name[32], dev[64];
	uint64_t id = 0;
	int fd, n, i, err;
	struct req q;
	bool lost = false;

	if (take_slot(w, slot, &inst, &card, &nch, name))
		return;
	pthread_mutex_lock(&fz_sh->lock);
	snprintf(dev, sizeof(dev), "%s", fz_sh->slot[slot].dev);
	pthread_mutex_unlock(&fz_sh->lock);
	ch = (uint32_t)fz_below(r, nch);
	fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (fz_nl_open(&a.sock))
		goto out_fd;
	a.sock.family = family;
	period = (uint32_t)fz_range(r, 50000, 60000);
	memset(&q, 0, sizeof(q));
	q.op = OP_LEASE_ACQUIRE;
	q.card_set = q.ch_set = q.period_set = true;
	q.card = card;
	q.ch = ch;
	q.period = period;
	err = request(&a, inst, &q, false, NULL);
	if (err == EOWNERDEAD) {
		q.op = OP_LEASE_TAKEOVER;
		err = request(&a, inst, &q, false, NULL);
	}
	if (err) {
		fz_nl_close(&a.sock);
		goto out_fd;
	}
	if (fz_pct(r, 60)) {	/* therapy running under the lease */
		struct status_ans st;

		if (!simple(&a, inst, OP_CHANNEL_GET, card, ch, &st) && st.have &&
		    (st.state == IPUMP_STATE_IDLE || st.state == IPUMP_STATE_PROGRAMMED)) {
			struct req p = q;

			p.op = OP_PROGRAMME_SET;
			p.period_set = false;
			p.gen_set = p.prog_set = true;
			p.gen = st.gen;
			valid_prog(r, &ipt_default_limits, &p.prog);
			if (!request(&a, inst, &p, false, NULL)) {
				p.op = OP_START;
				p.prog_set = false;
				p.gen = st.gen + 1;
				if (!request(&a, inst, &p, false, NULL) && fz_pct(r, 50)) {
					struct req b = q;

					b.op = OP_BOLUS;
					b.period_set = false;
					b.kind_set = b.vol_set = b.rate_set = true;
					b.kind = IPUMP_BOLUS_CLINICIAN;
					b.vol = 1000000;
					b.rate = 1000000;
					request(&a, inst, &b, false, NULL);
				}
			}
		}
	}
	fz_nl_close(&a.sock);	/* NETLINK_URELEASE: the lease is lost now */
	n = ipt_read_events(fd, ev, 256);
	for (i = 0; i < n; i++) {
		if (ev[i].channel != ch)
			continue;
		if ((ev[i].type == IPUMP_EVENT_LEASE_ACQUIRED && ev[i].value[1] == period) ||
		    (ev[i].type == IPUMP_EVENT_LEASE_TAKEN_OVER && ev[i].value[2] == period))
			id = ev[i].value[0], lost = false;
		else if (id && ev[i].type == IPUMP_EVENT_LEASE_LOST && ev[i].value[0] == id)
			lost = true;
		else if (id && ev[i].type == IPUMP_EVENT_LEASE_RELEASED && ev[i].value[0] == id)
			lost = true;	/* cannot happen: nobody else holds the socket */
	}
	if (n < 0 || n == 256 || !id) {
		fz_count(OP_CLOSE_LEASE, n < 0 ? -n : ENOBUFS);	/* could not tell */
	} else {
		fz_count(OP_CLOSE_LEASE, lost ? 0 : EPROTO);
		if (!lost)
			fz_problem("%s ch%u: socket closed holding lease %llu: no LEASE_LOST",
				   name, ch, (unsigned long long)id);
	}
out_fd:
	close(fd);
out:
	pthread_rwlock_unlock(rmlock);
}

static void worker_op(struct nworker *w)
{
	struct fz_rng *r = &w->rng;
	unsigned int slot = (unsigned int)fz_below(r, fz_sh->nslots);
	unsigned int pick = (unsigned int)fz_below(r, 100), nch;
	uint32_t inst, card;
	char name[32];
	struct req q;

	if (pick < 40) {
		console_step(w, slot);
		return;
	}
	if (pick < 43) {
		close_with_lease(w, slot);
		return;
	}
	if (pick < 45) {	/* a socket that may hold leases goes away */
		fz_nl_close(&w->sock);
		fz_count(OP_CLOSE_SOCKET, fz_nl_open(&w->sock) ? EAGAIN : 0);
		w->sock.family = family;
		return;
	}
	if (take_slot(w, slot, &inst, &card, &nch, name))
		return;
	if (pick < 80) {
		fill_req(r, &q, (unsigned int)fz_below(r, NCMDOPS), card, nch);
		request(w, inst, &q, fz_pct(r, 35), NULL);
	} else if (pick < 83) {	/* an unknown command */
		struct fz_msg m;
		struct fz_nlres res;
		int err;

		fz_msg_init(&m, family, NLM_F_ACK | (fz_pct(r, 30) ? NLM_F_DUMP : 0),
			    fz_pct(r, 30) ? 0 : (uint8_t)fz_range(r, IPUMP_CMD_EVENT, 255),
			    IPUMP_GENL_VERSION);
		fz_put_u32(&m, IPUMP_A_CARD_ID, card);
		if (w->sock.fd < 0 && fz_nl_open(&w->sock))
			goto out;
		err = fz_nl_send(&w->sock, &m);
		if (!err)
			err = fz_nl_recv(&w->sock, &res, NULL, NULL, 30000);
		fz_count(OP_UNKNOWN_CMD, -err);
		if (err != -EOPNOTSUPP)
			fz_problem("unknown command answered %s", strerror(-err));
	} else if (pick < 88) {
		static const uint64_t ms[] = { 1, 100, 499, 500, 501, 1000, 5000,
					       30000, 60500, 120000, 300000 };

		fz_count(OP_ADVANCE, knob_name(name, -1, "advance_ms",
			 (long long)ms[fz_below(r, sizeof(ms) / sizeof(ms[0]))]));
	} else {
		const struct knobdef *k;

		do {
			k = &knobs[fz_below(r, sizeof(knobs) / sizeof(knobs[0]))];
		} while (!opt_io_faults && !strcmp(k->name, "io_fail_every"));
		fz_count(OP_FAULT, knob_name(name, k->card ? -1 : (int)fz_below(r, nch),
					     k->name,
					     k->v[fz_pct(r, 60) ? fz_below(r, 3) :
						  fz_range(r, 3, 5)]));
	}
out:
	pthread_rwlock_unlock(rmlock);
}

static void worker_run(struct nworker *w)
{
	w->sock.fd = -1;
	while (!fz_sh->go)
		usleep(1000);
	if (!fz_nl_open(&w->sock))
		w->sock.family = family;
	while (!fz_sh->stop &&
	       __atomic_fetch_add(&fz_sh->calls_done, 1, __ATOMIC_RELAXED) <
	       fz_sh->calls_budget)
		worker_op(w);
	fz_nl_close(&w->sock);
}

static void *worker_thread(void *arg)
{
	worker_run(arg);
	return NULL;
}

/* ---- the monitor group: each card's records in order ---- */

static void *monitor_thread(void *arg)
{
	static uint64_t last[256];
	static char buf[65536];
	struct fz_nl *m = arg;
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	struct nlmsghdr *nlh;
	ssize_t n;

	fz_rt_self(18);
	while (!fz_sh->stop) {
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(m->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == ENOBUFS) {	/* loss: told, not silent */
				fz_count(OP_MONITOR, ENOBUFS);
				memset(last, 0, sizeof(last));
			}
			continue;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			struct nlattr *a;
			struct ipump_event ev;
			bool have = false;

			fz_for_each_attr(a, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
					 nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN) {
				if ((a->nla_type & NLA_TYPE_MASK) == IPUMP_A_EVENT) {
					fz_parse_event(a, &ev);
					have = true;
				}
			}
			if (!have || ev.card >= 256)
				continue;
			if (ev.type == IPUMP_EVENT_CARD_ADDED)
				last[ev.card] = 0;
			if (last[ev.card] && ev.seq != last[ev.card] + 1) {
				fz_problem("monitor: card %u seq %llu after %llu without ENOBUFS",
					   ev.card, (unsigned long long)ev.seq,
					   (unsigned long long)last[ev.card]);
				fz_count(OP_MONITOR, EPROTO);
			} else {
				fz_count(OP_MONITOR, 0);
			}
			last[ev.card] = ev.type == IPUMP_EVENT_CARD_REMOVED ? 0 : ev.seq;
		}
	}
	return NULL;
}

/* ---- the remover ---- */

static void *remover_thread(void *arg)
{
	struct fz_rng r = { .s = (uint64_t)(uintptr_t)arg };
	unsigned int k, slot;
	struct fz_nl nl;
	uint64_t at;
	int err;

	if (fz_nl_open(&nl) || fz_nl_resolve(&nl))
		fz_nl_close(&nl);
	for (k = 0; k < opt_removals && !fz_sh->stop; k++) {
		at = fz_sh->calls_budget * (k + 1) / (opt_removals + 1);
		while (__atomic_load_n(&fz_sh->calls_done, __ATOMIC_RELAXED) < at &&
		       !fz_sh->stop)
			usleep(2000);
		if (fz_sh->stop)
			break;
		slot = (unsigned int)fz_below(&r, fz_sh->nslots);
		pthread_rwlock_wrlock(rmlock);
		pthread_mutex_lock(&fz_sh->lock);
		fz_sh->slot[slot].dying = 1;
		pthread_mutex_unlock(&fz_sh->lock);
		pthread_rwlock_unlock(rmlock);
		err = fz_card_remove(slot, fz_pct(&r, 50), &nl);
		fz_count(OP_REMOVE, err < 0 ? -err : 0);
		/* no request with an old snapshot may reach the new card */
		pthread_rwlock_wrlock(rmlock);
		err = fz_card_new(slot, (unsigned int)fz_range(&r, 1, 4), "nzi");
		pthread_rwlock_unlock(rmlock);
		fz_count(OP_RECREATE, err < 0 ? -err : 0);
		if (err)
			fz_problem("recreating the card of slot %u: %s", slot, strerror(-err));
	}
	fz_nl_close(&nl);
	return NULL;
}

static int drop_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ipump_nl_fuzz [--seed N] [--calls N] [--cards N] [--threads N]\n"
			"                     [--procs N] [--removals N] [--no-io-faults] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, calls = 20000, t0;
	pthread_t thr[32], rem, mon;
	pthread_rwlockattr_t ra;
	struct nworker *wk;
	struct fz_nl nl, mnl;
	pid_t pids[16];
	int i, reports0, status, one;
	unsigned int s, nw;

	fz_prog = "ipump_nl_fuzz";
	fz_key_reason = true;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			calls = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--cards") && i + 1 < argc)
			opt_cards = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			opt_threads = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			opt_procs = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--removals") && i + 1 < argc)
			opt_removals = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--no-io-faults"))
			opt_io_faults = false;
		else if (!strcmp(argv[i], "--no-probes"))
			;	/* ipump_ioctl_fuzz's; accepted so both take FUZZ_ARGS */
		else if (!strcmp(argv[i], "--race-rounds") && i + 1 < argc)
			i++;
		else if (!strcmp(argv[i], "-v"))
			fz_verbose = 1;
		else
			usage();
	}
	if (!opt_cards || opt_cards > FZ_MAX_SLOTS || opt_threads > 32 ||
	    opt_procs > 16 || (!opt_threads && !opt_procs))
		usage();
	if (opt_removals == ~0U)
		opt_removals = (unsigned int)(calls / 4000 + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, fz_sigusr1);
	signal(SIGPIPE, SIG_IGN);
	printf("%s: seed %llu, %llu calls, %u cards, %u threads, %u processes, %u removals%s\n",
	       fz_prog, (unsigned long long)seed, (unsigned long long)calls,
	       opt_cards, opt_threads, opt_procs, opt_removals,
	       opt_io_faults ? "" : ", no register faults");
	reports0 = fz_kernel_reports(false);
	fz_shared_init(ops, NOPS, calls);
	rmlock = fz_shmem(sizeof(*rmlock));
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	/* the remover must not starve behind a stream of readers */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(rmlock, &ra);
	fz_sh->nslots = opt_cards;
	if (access(IPT_CFS, F_OK) && system("modprobe ipump_sim") != 0) {
		fprintf(stderr, "%s: cannot load ipump_sim\n", fz_prog);
		return 2;
	}
	if (fz_nl_open(&nl) || fz_nl_resolve(&nl)) {
		fprintf(stderr, "%s: the ipump netlink family is not there\n", fz_prog);
		return 2;
	}
	family = nl.family;
	mcgrp = nl.mcgrp;
	{
		struct fz_rng r = { .s = seed };

		for (s = 0; s < opt_cards; s++) {
			int err = fz_card_new(s, (unsigned int)fz_range(&r, 1, 4), "nz");

			if (err) {
				fprintf(stderr, "%s: making a simulated card: %s\n",
					fz_prog, strerror(-err));
				return 2;
			}
		}
	}
	if (fz_nl_open(&mnl)) {
		perror("monitor socket");
		return 2;
	}
	one = (int)mcgrp;
	if (setsockopt(mnl.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &one, sizeof(one)))
		fz_problem("joining the monitor group: %s", strerror(errno));

	nw = opt_threads + opt_procs;
	wk = fz_shmem(nw * sizeof(*wk));
	for (s = 0; s < nw; s++) {
		wk[s].idx = s;
		wk[s].rng.s = seed * 1000003ULL + s * 7919ULL + 2;
		wk[s].admin = true;
		wk[s].sock.fd = -1;
	}
	t0 = fz_now_ms();
	for (s = 0; s < opt_procs; s++) {
		struct nworker *w = &wk[opt_threads + s];

		pids[s] = fork();
		if (pids[s] < 0) {
			perror("fork");
			return 2;
		}
		if (!pids[s]) {
			if (s == 0 && opt_procs > 1 && !drop_admin())
				w->admin = false;
			worker_run(w);
			_exit(0);
		}
	}
	for (s = 0; s < opt_threads; s++)
		pthread_create(&thr[s], NULL, worker_thread, &wk[s]);
	pthread_create(&rem, NULL, remover_thread, (void *)(uintptr_t)(seed ^ 0x5eed));
	pthread_create(&mon, NULL, monitor_thread, &mnl);
	fz_sh->go = 1;

	for (s = 0; s < opt_threads; s++)
		pthread_join(thr[s], NULL);
	for (s = 0; s < opt_procs; s++) {
		if (waitpid(pids[s], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			fz_problem("worker process %u ended badly (status %#x)", s, status);
	}
	/* the remover may still be waiting for its turn */
	fz_sh->stop = 1;
	pthread_join(rem, NULL);
	printf("%s: %llu calls in %.1f s; checking\n", fz_prog,
	       (unsigned long long)(fz_sh->calls_done < calls ? fz_sh->calls_done : calls),
	       (fz_now_ms() - t0) / 1000.0);

	for (s = 0; s < opt_cards; s++) {
		struct fz_inst *in = fz_slot_inst(s);
		unsigned int ch;
		int fd;

		if (!in)
			continue;
		knob_name(in->card.name, -1, "io_fail_every", 0);
		fd = open(in->card.dev, O_RDONLY | O_CLOEXEC);
		in->final_ok = fd >= 0;
		for (ch = 0; fd >= 0 && ch < in->nch; ch++) {
			if (ipt_status(fd, ch, &in->final[ch])) {
				fz_problem("%s ch%u: final status: %s", in->card.name, ch,
					   strerror(errno));
				in->final_ok = false;
			}
		}
		if (fd >= 0)
			close(fd);
		in->dumped = !fz_nl_log_dump(&nl, in->card.num, 1, &in->dump);
		if (fz_card_remove(s, false, NULL))
			fz_problem("%s: final removal failed", in->card.name);
	}
	usleep(300000);		/* the monitor sees the last CARD_REMOVED */
	pthread_join(mon, NULL);
	fz_nl_close(&mnl);
	fz_nl_close(&nl);
	for (s = 0; s < fz_ninst; s++)
		fz_check_inst(&fz_inst[s]);

	return fz_verdict(reports0, seed);
}
