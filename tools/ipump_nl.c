// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared code of ipumpctl and ipumpmon (see ipump_nl.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "ipump_nl.h"
#include "units.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- attribute maps: one table per nest gives widths, names, options ---- */

struct fmap {
	uint16_t attr;
	uint16_t off;		/* offset of the field in the struct */
	uint8_t size;		/* 4 or 8: the attribute's width */
	const char *name;	/* attribute name without IPUMP_A_ */
	const char *opt;	/* the ipumpctl option that sets it, or NULL */
};

#define F(a, s, field, sz, n, o) { a, offsetof(s, field), sz, n, o }

static const struct fmap card_map[] = {
	F(IPUMP_A_CARD_SERIAL, struct ipn_card, info.serial, 8, "CARD_SERIAL", NULL),
	F(IPUMP_A_CARD_NUM_CHANNELS, struct ipn_card, info.num_channels, 4, "CARD_NUM_CHANNELS", NULL),
	F(IPUMP_A_CARD_FW_VERSION, struct ipn_card, info.fw_version, 4, "CARD_FW_VERSION", NULL),
	F(IPUMP_A_CARD_MAP_VERSION, struct ipn_card, info.map_version, 4, "CARD_MAP_VERSION", NULL),
	F(IPUMP_A_CARD_NL_PER_STEP, struct ipn_card, info.nl_per_step, 4, "CARD_NL_PER_STEP", NULL),
	F(IPUMP_A_CARD_CLOCK, struct ipn_card, info.clock, 4, "CARD_CLOCK", NULL),
	F(IPUMP_A_CARD_WDT_PERIOD_MS, struct ipn_card, info.wdt_period_ms, 4, "CARD_WDT_PERIOD_MS", NULL),
	F(IPUMP_A_CARD_ALARMS, struct ipn_card, alarms, 8, "CARD_ALARMS", NULL),
	F(IPUMP_A_CARD_LOG_OLDEST_SEQ, struct ipn_card, log_oldest_seq, 8, "CARD_LOG_OLDEST_SEQ", NULL),
	F(IPUMP_A_CARD_LOG_NEXT_SEQ, struct ipn_card, log_next_seq, 8, "CARD_LOG_NEXT_SEQ", NULL),
	F(IPUMP_A_CARD_LOG_WRAPPED, struct ipn_card, log_wrapped, 8, "CARD_LOG_WRAPPED", NULL),
};

#define S(a, field, sz) F(a, struct ipump_channel_status, field, sz, #a + 8, NULL)
static const struct fmap chan_map[] = {
	S(IPUMP_A_ST_STATE, state, 4),
	S(IPUMP_A_ST_RATE_NL_PER_H, rate_nl_per_h, 4),
	S(IPUMP_A_ST_MOTOR, motor, 4),
	S(IPUMP_A_ST_TIMESTAMP_NS, timestamp_ns, 8),
	S(IPUMP_A_ST_DELIVERED_NL, delivered_nl, 8),
	S(IPUMP_A_ST_RESERVOIR_NL, reservoir_nl, 8),
	S(IPUMP_A_ST_ALARMS, alarms, 8),
	S(IPUMP_A_ST_ALARMS_UNACKED, alarms_unacked, 8),
	S(IPUMP_A_ST_GENERATION, generation, 8),
	S(IPUMP_A_ST_INFUSED_NL, infused_nl, 8),
	S(IPUMP_A_ST_VTBI_REMAINING_NL, vtbi_remaining_nl, 8),
	S(IPUMP_A_ST_BOLUS_DELIVERED_NL, bolus_delivered_nl, 8),
	S(IPUMP_A_ST_DOSE_1H_NL, dose_1h_nl, 8),
	S(IPUMP_A_ST_DOSE_4H_NL, dose_4h_nl, 8),
	S(IPUMP_A_ST_AUDIO_PAUSED_UNTIL_NS, audio_paused_until_ns, 8),
	S(IPUMP_A_ST_LEASE_EXPIRES_NS, lease_expires_ns, 8),
	S(IPUMP_A_ST_PRESSURE_DOWN_MMHG, pressure_down_mmhg, 4),
	S(IPUMP_A_ST_PRESSURE_UP_MMHG, pressure_up_mmhg, 4),
	S(IPUMP_A_ST_STEP_COUNT, step_count, 4),
	S(IPUMP_A_ST_HANDSET_PRESSES, handset_presses, 4),
	S(IPUMP_A_ST_PRIORITY, priority, 4),
	S(IPUMP_A_ST_PCA_DELIVERED, pca_delivered, 4),
	S(IPUMP_A_ST_PCA_DENIED, pca_denied, 4),
	S(IPUMP_A_ST_CLINICIAN_BOLUSES, clinician_boluses, 4),
	S(IPUMP_A_ST_LOCKOUT_REMAINING_MS, lockout_remaining_ms, 4),
	S(IPUMP_A_ST_TIME_TO_EMPTY_S, time_to_empty_s, 4),
	S(IPUMP_A_ST_LEASE, lease, 4),
};
#undef S

#define P(a, field, sz, opt) F(a, struct ipump_programme, field, sz, #a + 8, opt)
static const struct fmap prog_map[] = {
	P(IPUMP_A_PROG_ROUTE, route, 4, "--route"),
	P(IPUMP_A_PROG_FLAGS, flags, 4, "--pca, --vtbi unlimited or --spinal-kvo"),
	P(IPUMP_A_PROG_BASAL_RATE_NL_PER_H, basal_rate_nl_per_h, 4, "--basal"),
	P(IPUMP_A_PROG_KVO_RATE_NL_PER_H, kvo_rate_nl_per_h, 4, "--kvo"),
	P(IPUMP_A_PROG_VTBI_NL, vtbi_nl, 8, "--vtbi"),
	P(IPUMP_A_PROG_BOLUS_VOLUME_NL, bolus_volume_nl, 4, "--bolus"),
	P(IPUMP_A_PROG_BOLUS_RATE_NL_PER_H, bolus_rate_nl_per_h, 4, "--bolus-rate"),
	P(IPUMP_A_PROG_LOCKOUT_MS, lockout_ms, 4, "--lockout"),
	P(IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR, max_boluses_per_hour, 4, "--max-per-hour"),
	P(IPUMP_A_PROG_MAX_DOSE_1H_NL, max_dose_1h_nl, 8, "--dose-1h"),
	P(IPUMP_A_PROG_MAX_DOSE_4H_NL, max_dose_4h_nl, 8, "--dose-4h"),
	P(IPUMP_A_PROG_LEASE_LOSS_MODE, lease_loss_mode, 4, "--lease-loss"),
};
#undef P

#define L(a, field, sz, opt) F(a, struct ipump_hard_limits, field, sz, #a + 8, opt)
static const struct fmap limits_map[] = {
	L(IPUMP_A_LIM_MIN_RATE_NL_PER_H, min_rate_nl_per_h, 4, "--min-rate"),
	L(IPUMP_A_LIM_MAX_RATE_NL_PER_H, max_rate_nl_per_h, 4, "--max-rate"),
	L(IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H, max_kvo_rate_nl_per_h, 4, "--max-kvo-rate"),
	L(IPUMP_A_LIM_MAX_BOLUS_VOLUME_NL, max_bolus_volume_nl, 4, "--max-bolus"),
	L(IPUMP_A_LIM_MAX_BOLUS_RATE_NL_PER_H, max_bolus_rate_nl_per_h, 4, "--max-bolus-rate"),
	L(IPUMP_A_LIM_MIN_LOCKOUT_MS, min_lockout_ms, 4, "--min-lockout"),
	L(IPUMP_A_LIM_MAX_VTBI_NL, max_vtbi_nl, 8, "--max-vtbi"),
	L(IPUMP_A_LIM_MAX_DOSE_1H_NL, max_dose_1h_nl, 8, "--max-dose-1h"),
	L(IPUMP_A_LIM_MAX_DOSE_4H_NL, max_dose_4h_nl, 8, "--max-dose-4h"),
	L(IPUMP_A_LIM_MAX_BOLUSES_PER_HOUR, max_boluses_per_hour, 4, "--max-per-hour"),
	L(IPUMP_A_LIM_AIR_BUBBLE_NL, air_bubble_nl, 4, "--air-bubble"),
	L(IPUMP_A_LIM_AIR_ACCUM_NL, air_accum_nl, 4, "--air-accum"),
	L(IPUMP_A_LIM_OVER_INFUSION_PCT, over_infusion_pct, 4, "--over-infusion"),
	L(IPUMP_A_LIM_UNDER_INFUSION_PCT, under_infusion_pct, 4, "--under-infusion"),
	L(IPUMP_A_LIM_STALL_MS, stall_ms, 4, "--stall"),
};
#undef L

#define E(a, field, sz) F(a, struct ipn_event, field, sz, #a + 8, NULL)
static const struct fmap event_map[] = {
	E(IPUMP_A_EV_SEQ, seq, 8),
	E(IPUMP_A_EV_TIMESTAMP_NS, timestamp_ns, 8),
	E(IPUMP_A_EV_CARD, card, 4),
	E(IPUMP_A_EV_TYPE, type, 4),
	E(IPUMP_A_EV_CHANNEL, channel, 4),
	E(IPUMP_A_EV_PRIORITY, priority, 4),
	E(IPUMP_A_EV_VALUE0, value[0], 8),
	E(IPUMP_A_EV_VALUE1, value[1], 8),
	E(IPUMP_A_EV_VALUE2, value[2], 8),
	E(IPUMP_A_EV_VALUE3, value[3], 8),
	E(IPUMP_A_EV_FLAGS, flags, 4),
};
#undef E

/* top-level attributes: widths for parsing replies, names for extacks */
struct topattr {
	uint16_t type;		/* NLA_U32, NLA_U64, NLA_NESTED, 0 */
	const char *name;
	const char *opt;
	const struct fmap *nest;
	size_t nest_len;
};

static const struct topattr top_attrs[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { NLA_U32, "CARD_ID", "CARD", NULL, 0 },
	[IPUMP_A_CHANNEL] = { NLA_U32, "CHANNEL", "CARD/CH", NULL, 0 },
	[IPUMP_A_GENERATION] = { NLA_U64, "GENERATION", "--generation", NULL, 0 },
	[IPUMP_A_PROGRAMME] = { NLA_NESTED, "PROGRAMME", NULL, prog_map, ARRAY_SIZE(prog_map) },
	[IPUMP_A_LIMITS] = { NLA_NESTED, "LIMITS", NULL, limits_map, ARRAY_SIZE(limits_map) },
	[IPUMP_A_CARD] = { NLA_NESTED, "CARD", NULL, card_map, ARRAY_SIZE(card_map) },
	[IPUMP_A_STATUS] = { NLA_NESTED, "STATUS", NULL, chan_map, ARRAY_SIZE(chan_map) },
	[IPUMP_A_EVENT] = { NLA_NESTED, "EVENT", NULL, event_map, ARRAY_SIZE(event_map) },
	[IPUMP_A_BOLUS_KIND] = { NLA_U32, "BOLUS_KIND", "--clinician or --demand", NULL, 0 },
	[IPUMP_A_BOLUS_VOLUME_NL] = { NLA_U32, "BOLUS_VOLUME_NL", "--volume", NULL, 0 },
	[IPUMP_A_BOLUS_RATE_NL_PER_H] = { NLA_U32, "BOLUS_RATE_NL_PER_H", "--rate", NULL, 0 },
	[IPUMP_A_DURATION_MS] = { NLA_U32, "DURATION_MS", "--for", NULL, 0 },
	[IPUMP_A_LEASE_PERIOD_MS] = { NLA_U32, "LEASE_PERIOD_MS", "--period", NULL, 0 },
	[IPUMP_A_LOG_FROM_SEQ] = { NLA_U64, "LOG_FROM_SEQ", "--from", NULL, 0 },
	[IPUMP_A_RESULT_NL] = { NLA_U64, "RESULT_NL", NULL, NULL, 0 },
	[IPUMP_A_REASON] = { NLA_U32, "REASON", NULL, NULL, 0 },
};

static struct nla_policy top_policy[IPUMP_A_MAX + 1];

static void init_top_policy(void)
{
	for (size_t i = 0; i <= IPUMP_A_MAX; i++)
		top_policy[i].type = top_attrs[i].type;
}

/* ---- the connection ---- */

int ipn_open(struct ipn *nl, const char *prog)
{
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->prog = prog;
	init_top_policy();
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	err = genl_connect(nl->sk);
	if (err < 0) {
		fprintf(stderr, "%s: cannot open a generic netlink socket: %s\n",
			prog, nl_geterror(err));
		goto fail;
	}
	/* extended ACK: the kernel's message and the offending attribute */
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) < 0)
		fprintf(stderr, "%s: warning: no extended ACK from this kernel: %s\n",
			prog, strerror(errno));
	nl->family = genl_ctrl_resolve(nl->sk, IPUMP_GENL_NAME);
	if (nl->family < 0) {
		if (nl->family == -NLE_OBJ_NOTFOUND)
			fprintf(stderr, "%s: the generic netlink family \"%s\" is not "
				"registered: is the ipump module loaded? (modprobe ipump)\n",
				prog, IPUMP_GENL_NAME);
		else
			fprintf(stderr, "%s: cannot resolve the generic netlink family "
				"\"%s\": %s\n", prog, IPUMP_GENL_NAME,
				nl_geterror(nl->family));
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return -1;
}

void ipn_close(struct ipn *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *ipn_msg(struct ipn *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, IPUMP_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- extended ACK ---- */

static const struct fmap *nest_map(uint16_t type, size_t *len)
{
	if (type > IPUMP_A_MAX || !top_attrs[type].nest)
		return NULL;
	*len = top_attrs[type].nest_len;
	return top_attrs[type].nest;
}

static void name_top(uint16_t type, char *buf, size_t len)
{
	if (type <= IPUMP_A_MAX && top_attrs[type].name) {
		if (top_attrs[type].opt)
			snprintf(buf, len, "%s (%s)", top_attrs[type].name,
				 top_attrs[type].opt);
		else
			snprintf(buf, len, "%s", top_attrs[type].name);
	} else {
		snprintf(buf, len, "attribute %u", type);
	}
}

static void name_nested(uint16_t nest, uint16_t type, char *buf, size_t len)
{
	const struct fmap *m;
	size_t n;

	m = nest_map(nest, &n);
	for (size_t i = 0; m && i < n; i++) {
		if (m[i].attr != type)
			continue;
		if (m[i].opt)
			snprintf(buf, len, "%s (%s)", m[i].name, m[i].opt);
		else
			snprintf(buf, len, "%s", m[i].name);
		return;
	}
	snprintf(buf, len, "%s attribute %u",
		 nest <= IPUMP_A_MAX && top_attrs[nest].name ? top_attrs[nest].name : "nested",
		 type);
}

/*
 * The attribute at byte offset @offs of @sent (a generic netlink request):
 * returns the type of the top-level attribute at or around @offs, -1 if
 * none; *@inner: the type of the nested attribute @offs falls in, or -1.
 */
static int attr_at(const struct nlmsghdr *sent, uint32_t offs, int *inner)
{
	const unsigned char *base = (const unsigned char *)sent;
	size_t end = sent->nlmsg_len, pos = NLMSG_HDRLEN + GENL_HDRLEN;

	*inner = -1;
	while (pos + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)(base + pos);
		size_t alen = a->nla_len;
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (alen < NLA_HDRLEN || pos + alen > end)
			return -1;
		if (offs == pos)
			return type;
		if (offs > pos && offs < pos + alen) {
			size_t npos = pos + NLA_HDRLEN;

			while (npos + NLA_HDRLEN <= pos + alen) {
				const struct nlattr *b = (const void *)(base + npos);

				if (b->nla_len < NLA_HDRLEN)
					break;
				if (offs >= npos && offs < npos + b->nla_len) {
					*inner = b->nla_type & NLA_TYPE_MASK;
					break;
				}
				npos += NLA_ALIGN(b->nla_len);
			}
			return type;
		}
		pos += NLA_ALIGN(alen);
	}
	return -1;
}

void ipn_parse_ack(const struct nlmsghdr *nlh, const struct nlmsghdr *sent,
		   struct ipn_status *st)
{
	const unsigned char *data = NLMSG_DATA(nlh);
	size_t plen, off, pos;
	int have_offs = 0, have_miss = 0, have_nest = 0;
	uint32_t offs = 0, miss_type = 0, miss_nest = 0;

	if (nlh->nlmsg_len < NLMSG_HDRLEN)
		return;
	plen = nlh->nlmsg_len - NLMSG_HDRLEN;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = (const void *)data;

		if (plen < sizeof(*e))
			return;
		st->err = e->error < 0 ? -e->error : e->error;
		off = sizeof(*e);
		/* the request follows unless the kernel capped it */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
		    e->msg.nlmsg_len > NLMSG_HDRLEN)
			off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		int v;

		if (plen < sizeof(v))
			return;
		memcpy(&v, data, sizeof(v));
		st->err = v < 0 ? -v : 0;
		off = NLMSG_ALIGN(sizeof(v));
	} else {
		return;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;

	for (pos = off; pos + NLA_HDRLEN <= plen;) {
		const struct nlattr *a = (const void *)(data + pos);
		const unsigned char *v = data + pos + NLA_HDRLEN;
		size_t alen = a->nla_len, vlen;

		if (alen < NLA_HDRLEN || pos + alen > plen)
			break;
		vlen = alen - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			if (vlen) {
				size_t n = strnlen((const char *)v, vlen);

				if (n >= sizeof(st->msg))
					n = sizeof(st->msg) - 1;
				memcpy(st->msg, v, n);
				st->msg[n] = '\0';
				/* no trailing newline from the kernel's text */
				while (n && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
					st->msg[--n] = '\0';
			}
			break;
		case NLMSGERR_ATTR_OFFS:
			if (vlen >= 4) {
				memcpy(&offs, v, 4);
				have_offs = 1;
			}
			break;
		case NLMSGERR_ATTR_COOKIE:
			/* IPUMP_A_REASON as an attribute, or a bare u32 */
			if (vlen >= NLA_HDRLEN + 4) {
				const struct nlattr *c = (const void *)v;

				if ((c->nla_type & NLA_TYPE_MASK) == IPUMP_A_REASON &&
				    c->nla_len >= NLA_HDRLEN + 4 && c->nla_len <= vlen) {
					memcpy(&st->reason, v + NLA_HDRLEN, 4);
					st->has_reason = 1;
				}
			} else if (vlen == 4) {
				memcpy(&st->reason, v, 4);
				st->has_reason = 1;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (vlen >= 4) {
				memcpy(&miss_type, v, 4);
				have_miss = 1;
			}
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			if (vlen >= 4) {
				memcpy(&miss_nest, v, 4);
				have_nest = 1;
			}
			break;
		default:
			break;
		}
		pos += NLA_ALIGN(alen);
	}

	st->attr_top = -1;
	st->attr_inner = -1;
	if (have_miss) {
		int top = -1, inner;

		if (have_nest && sent)
			top = attr_at(sent, miss_nest, &inner);
		if (top > 0) {
			name_nested((uint16_t)top, (uint16_t)miss_type, st->attr,
				    sizeof(st->attr));
			st->attr_top = top;
			st->attr_inner = (int)miss_type;
		} else {
			name_top((uint16_t)miss_type, st->attr, sizeof(st->attr));
			st->attr_top = (int)miss_type;
		}
		st->missing = 1;
	} else if (have_offs) {
		int top = -1, inner = -1;

		if (sent && offs < sent->nlmsg_len)
			top = attr_at(sent, offs, &inner);
		st->attr_top = top;
		st->attr_inner = top > 0 ? inner : -1;
		if (top > 0 && inner >= 0)
			name_nested((uint16_t)top, (uint16_t)inner, st->attr,
				    sizeof(st->attr));
		else if (top > 0)
			name_top((uint16_t)top, st->attr, sizeof(st->attr));
		else
			snprintf(st->attr, sizeof(st->attr), "at offset %u", offs);
	}
}

/*
 * The ipumpctl option behind a refusal reason, where the kernel points at a
 * whole nest (PROGRAMME, LIMITS) or at the channel.
 */
static const char *reason_opt(uint32_t reason)
{
	switch (reason) {
	case IPUMP_REASON_ROUTE:
		return "--route";
	case IPUMP_REASON_LEASE_LOSS_MODE:
	case IPUMP_REASON_LEASE_LOSS_KVO:
	case IPUMP_REASON_LEASE_LOSS_BASAL:
		return "--lease-loss";
	case IPUMP_REASON_RATE_ZERO:
	case IPUMP_REASON_RATE_LOW:
	case IPUMP_REASON_RATE_HIGH:
		return "--basal";
	case IPUMP_REASON_KVO_LOW:
	case IPUMP_REASON_KVO_HIGH:
	case IPUMP_REASON_KVO_ABOVE_BASAL:
		return "--kvo";
	case IPUMP_REASON_SPINAL_KVO:
		return "--kvo or --spinal-kvo";
	case IPUMP_REASON_VTBI_ZERO:
	case IPUMP_REASON_VTBI_UNLIMITED:
	case IPUMP_REASON_VTBI_HIGH:
		return "--vtbi";
	case IPUMP_REASON_PCA_FIELDS:
		return "--pca";
	case IPUMP_REASON_BOLUS_VOLUME_ZERO:
	case IPUMP_REASON_BOLUS_VOLUME_HIGH:
	case IPUMP_REASON_BOLUS_OVER_DOSE:
		return "--bolus";
	case IPUMP_REASON_BOLUS_RATE_ZERO:
	case IPUMP_REASON_BOLUS_RATE_LOW:
	case IPUMP_REASON_BOLUS_RATE_HIGH:
		return "--bolus-rate";
	case IPUMP_REASON_LOCKOUT_ZERO:
	case IPUMP_REASON_LOCKOUT_SHORT:
	case IPUMP_REASON_LOCKOUT_LONG:
		return "--lockout";
	case IPUMP_REASON_BOLUS_COUNT_ZERO:
	case IPUMP_REASON_BOLUS_COUNT_HIGH:
		return "--max-per-hour";
	case IPUMP_REASON_DOSE_ZERO:
	case IPUMP_REASON_DOSE_ORDER:
		return "--dose-1h or --dose-4h";
	case IPUMP_REASON_DOSE_1H_HIGH:
		return "--dose-1h";
	case IPUMP_REASON_DOSE_4H_HIGH:
		return "--dose-4h";
	case IPUMP_REASON_BASAL_OVER_DOSE:
		return "--basal, --kvo, --dose-1h or --dose-4h";
	case IPUMP_REASON_GENERATION:
		return "--generation";
	case IPUMP_REASON_ROUTE_CHANGE:
		return "--route or --pca";
	case IPUMP_REASON_AUDIO_PAUSE:
		return "--for";
	case IPUMP_REASON_LEASE_PERIOD:
		return "--period";
	default:
		return NULL;
	}
}

char *ipn_refusal(const struct ipn *nl, const char *op, char *buf, size_t len)
{
	const struct ipn_status *st = &nl->st;
	const char *opt = NULL;
	int sep = 0;
	size_t n;

	if (st->local) {
		snprintf(buf, len, "%s failed: %s", op, strerror(st->err));
		return buf;
	}
	n = (size_t)snprintf(buf, len, "%s refused: %s", op, strerror(st->err));
	if (n < len && st->msg[0])
		n += (size_t)snprintf(buf + n, len - n, " (%s)", st->msg);
	/*
	 * The option to fix: the attribute's own when the kernel pointed at a
	 * plain top-level attribute (--volume of a clinician bolus), else the
	 * reason's (a value inside the PROGRAMME nest).
	 */
	if (st->attr_top > 0 && st->attr_top <= IPUMP_A_MAX && st->attr_inner < 0 &&
	    !top_attrs[st->attr_top].nest && top_attrs[st->attr_top].opt &&
	    st->attr_top != IPUMP_A_CHANNEL && st->attr_top != IPUMP_A_CARD_ID)
		opt = top_attrs[st->attr_top].opt;
	else if (st->has_reason)
		opt = reason_opt(st->reason);
	if (n < len && (st->has_reason || st->attr[0])) {
		n += (size_t)snprintf(buf + n, len - n, " [");
		if (n < len && st->has_reason) {
			n += (size_t)snprintf(buf + n, len - n, "reason %s",
					      ipn_reason_name(st->reason));
			sep = 1;
		}
		if (n < len && opt) {
			n += (size_t)snprintf(buf + n, len - n, "%soption %s",
					      sep ? "; " : "", opt);
			sep = 1;
		}
		if (n < len && st->attr[0] && (!opt || st->missing))
			n += (size_t)snprintf(buf + n, len - n, "%s%s%s",
					      sep ? "; " : "",
					      st->missing ? "missing " : "attribute ",
					      st->attr);
		if (n < len)
			snprintf(buf + n, len - n, "]");
	}
	return buf;
}

/* ---- requests ---- */

struct req_ctx {
	struct ipn *nl;
	ipn_reply_fn fn;
	void *arg;
	const struct nlmsghdr *sent;
	int done;
	int fn_err;
};

static int cb_valid(struct nl_msg *msg, void *arg)
{
	struct req_ctx *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[IPUMP_A_MAX + 1];
	struct genlmsghdr *gh;
	int r;

	if (nlh->nlmsg_type != c->nl->family)
		return NL_SKIP;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->nl->st.dump_intr = 1;
	r = genlmsg_parse(nlh, 0, tb, IPUMP_A_MAX, top_policy);
	if (r < 0) {
		fprintf(stderr, "%s: malformed reply from the kernel: %s\n",
			c->nl->prog, nl_geterror(r));
		if (!c->fn_err)
			c->fn_err = -EBADMSG;
		return NL_SKIP;
	}
	gh = genlmsg_hdr(nlh);
	if (c->fn && !c->fn_err) {
		r = c->fn(tb, gh->cmd, c->arg);
		if (r < 0)
			c->fn_err = r;
	}
	return NL_OK;
}

static int cb_end(struct nl_msg *msg, void *arg)
{
	struct req_ctx *c = arg;

	ipn_parse_ack(nlmsg_hdr(msg), c->sent, &c->nl->st);
	c->done = 1;
	return NL_STOP;
}

static int cb_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct req_ctx *c = arg;
	/* libnl hands over the payload: the header is just before it */
	const struct nlmsghdr *nlh = (const void *)((const char *)e - NLMSG_HDRLEN);

	(void)nla;
	ipn_parse_ack(nlh, c->sent, &c->nl->st);
	if (!c->nl->st.err)	/* cannot happen: libnl only calls for errors */
		c->nl->st.err = e->error < 0 ? -e->error : EPROTO;
	c->done = 1;
	return NL_STOP;
}

int ipn_request(struct ipn *nl, struct nl_msg *msg, ipn_reply_fn fn, void *arg)
{
	struct req_ctx c = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int r;

	memset(&nl->st, 0, sizeof(nl->st));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		nl->st.err = ENOMEM;
		nl->st.local = 1;
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cb_valid, &c);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cb_end, &c);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cb_end, &c);
	nl_cb_err(cb, NL_CB_CUSTOM, cb_err, &c);

	r = nl_send_auto(nl->sk, msg);
	if (r < 0) {
		nl->st.err = r == -NLE_PERM ? EPERM : EIO;
		nl->st.local = 1;
		fprintf(stderr, "%s: sending the request: %s\n", nl->prog,
			nl_geterror(r));
		goto out;
	}
	c.sent = nlmsg_hdr(msg);	/* as sent, for NLMSGERR_ATTR_OFFS */
	while (!c.done) {
		r = nl_recvmsgs(nl->sk, cb);
		if (r < 0 && !c.done) {
			if (r == -NLE_DUMP_INTR) {
				nl->st.dump_intr = 1;
				continue;
			}
			nl->st.local = 1;
			if (r == -NLE_NOMEM) {
				/* ENOBUFS: the receive buffer overran */
				nl->st.err = ENOBUFS;
				fprintf(stderr, "%s: the kernel's answer was lost (receive "
					"buffer overrun): the request may have been carried "
					"out; read the channel again\n", nl->prog);
				break;
			}
			fprintf(stderr, "%s: reading the answer: %s\n", nl->prog,
				nl_geterror(r));
			nl->st.err = EIO;
			break;
		}
	}
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	if (nl->st.err)
		return -nl->st.err;
	if (c.fn_err) {
		nl->st.err = -c.fn_err;
		nl->st.local = 1;
		return c.fn_err;
	}
	return 0;
}

int ipn_parse_msg(const struct ipn *nl, struct nlmsghdr *nlh, struct nlattr **tb)
{
	if (nlh->nlmsg_type != nl->family)
		return -1;
	if (genlmsg_parse(nlh, 0, tb, IPUMP_A_MAX, top_policy) < 0)
		return -1;
	return genlmsg_hdr(nlh)->cmd;
}

/* ---- nests ---- */

static int parse_map(struct nlattr *nest, const struct fmap *map, size_t n,
		     void *base, uint64_t *have)
{
	struct nla_policy pol[64];
	struct nlattr *tb[64];
	int max = 0, r;

	memset(pol, 0, sizeof(pol));
	for (size_t i = 0; i < n; i++) {
		pol[map[i].attr].type = map[i].size == 8 ? NLA_U64 : NLA_U32;
		if (map[i].attr > max)
			max = map[i].attr;
	}
	r = nla_parse_nested(tb, max, nest, pol);
	if (r < 0)
		return -EINVAL;
	*have = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char *f = (unsigned char *)base + map[i].off;

		if (!tb[map[i].attr])
			continue;
		if (map[i].size == 8) {
			uint64_t v = nla_get_u64(tb[map[i].attr]);

			memcpy(f, &v, 8);
		} else {
			uint32_t v = nla_get_u32(tb[map[i].attr]);

			memcpy(f, &v, 4);
		}
		*have |= 1ULL << map[i].attr;
	}
	return 0;
}

int ipn_parse_card(struct nlattr *nest, struct ipn_card *c)
{
	struct nla_policy pol[IPUMP_A_CARD_MAX + 1];
	struct nlattr *tb[IPUMP_A_CARD_MAX + 1];
	int r;

	memset(c, 0, sizeof(*c));
	r = parse_map(nest, card_map, ARRAY_SIZE(card_map), c, &c->have);
	if (r)
		return r;
	memset(pol, 0, sizeof(pol));
	pol[IPUMP_A_CARD_NAME].type = NLA_STRING;
	if (nla_parse_nested(tb, IPUMP_A_CARD_MAX, nest, pol) < 0)
		return -EINVAL;
	if (tb[IPUMP_A_CARD_NAME]) {
		nla_strlcpy(c->name, tb[IPUMP_A_CARD_NAME], sizeof(c->name));
		c->have |= 1ULL << IPUMP_A_CARD_NAME;
	}
	return 0;
}

int ipn_parse_chan(struct nlattr *nest, struct ipn_chan *c)
{
	memset(c, 0, sizeof(*c));
	return parse_map(nest, chan_map, ARRAY_SIZE(chan_map), &c->st, &c->have);
}

int ipn_parse_prog(struct nlattr *nest, struct ipn_prog *p)
{
	memset(p, 0, sizeof(*p));
	return parse_map(nest, prog_map, ARRAY_SIZE(prog_map), &p->p, &p->have);
}

int ipn_parse_limits(struct nlattr *nest, struct ipn_limits *l)
{
	memset(l, 0, sizeof(*l));
	return parse_map(nest, limits_map, ARRAY_SIZE(limits_map), &l->l, &l->have);
}

int ipn_parse_event(struct nlattr *nest, struct ipn_event *e)
{
	memset(e, 0, sizeof(*e));
	return parse_map(nest, event_map, ARRAY_SIZE(event_map), e, &e->have);
}

static int put_map(struct nl_msg *msg, int type, const struct fmap *map,
		   size_t n, const void *base)
{
	struct nlattr *nest = nla_nest_start(msg, type | NLA_F_NESTED);

	if (!nest)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *f = (const unsigned char *)base + map[i].off;
		int r;

		if (map[i].size == 8) {
			uint64_t v;

			memcpy(&v, f, 8);
			r = nla_put_u64(msg, map[i].attr, v);
		} else {
			uint32_t v;

			memcpy(&v, f, 4);
			r = nla_put_u32(msg, map[i].attr, v);
		}
		if (r < 0)
			return -ENOMEM;
	}
	nla_nest_end(msg, nest);
	return 0;
}

int ipn_put_prog(struct nl_msg *msg, const struct ipump_programme *p)
{
	return put_map(msg, IPUMP_A_PROGRAMME, prog_map, ARRAY_SIZE(prog_map), p);
}

int ipn_put_limits(struct nl_msg *msg, const struct ipump_hard_limits *l)
{
	return put_map(msg, IPUMP_A_LIMITS, limits_map, ARRAY_SIZE(limits_map), l);
}

/* ---- names ---- */

static const char *const state_names[] = {
	[IPUMP_STATE_IDLE] = "idle",
	[IPUMP_STATE_RUNNING] = "running",
	[IPUMP_STATE_ALARM_STOPPED] = "alarm-stopped",
	[IPUMP_STATE_FAULT] = "fault",
	[IPUMP_STATE_PROGRAMMED] = "programmed",
	[IPUMP_STATE_BOLUS] = "bolus",
	[IPUMP_STATE_PAUSED] = "paused",
	[IPUMP_STATE_KVO] = "kvo",
};

static const struct {
	const char *name;
	int prio;
} alarms[IPUMP_ALARM_COUNT] = {
	/* priorities: Documentation/safety/therapy-rules.rst, "Alarm rules" */
	[IPUMP_ALARM_OCCLUSION_DOWN] = { "occlusion-downstream", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_OCCLUSION_UP] = { "occlusion-upstream", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_AIR_IN_LINE] = { "air-in-line", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_DOOR_OPEN] = { "door-open", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_RESERVOIR_EMPTY] = { "reservoir-empty", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_RESERVOIR_LOW] = { "reservoir-low", IPUMP_PRIO_LOW },
	[IPUMP_ALARM_MOTOR_STALL] = { "motor-stall", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_FREE_FLOW] = { "free-flow", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_COMMUNICATION] = { "communication", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_CARD_WATCHDOG] = { "card-watchdog", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_BATTERY_LOW] = { "battery-low", IPUMP_PRIO_MEDIUM },
	[IPUMP_ALARM_BATTERY_DEPLETED] = { "battery-depleted", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_MAINS_LOST] = { "mains-lost", IPUMP_PRIO_LOW },
	[IPUMP_ALARM_VTBI_COMPLETE] = { "vtbi-complete", IPUMP_PRIO_MEDIUM },
	[IPUMP_ALARM_OVER_INFUSION] = { "over-infusion", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_UNDER_INFUSION] = { "under-infusion", IPUMP_PRIO_MEDIUM },
	[IPUMP_ALARM_AIR_ACCUMULATED] = { "air-accumulated", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_LEASE_LOST] = { "lease-lost", IPUMP_PRIO_HIGH },
	[IPUMP_ALARM_DOSE_LIMIT] = { "dose-limit", IPUMP_PRIO_MEDIUM },
};

static const char *const prio_names[] = {
	[IPUMP_PRIO_INFO] = "info",
	[IPUMP_PRIO_LOW] = "low",
	[IPUMP_PRIO_MEDIUM] = "medium",
	[IPUMP_PRIO_HIGH] = "high",
};

static const char *const event_names[IPUMP_EVENT_TYPE_COUNT] = {
	[IPUMP_EVENT_PROGRAMME_SET] = "programme-set",
	[IPUMP_EVENT_STARTED] = "started",
	[IPUMP_EVENT_STOPPED] = "stopped",
	[IPUMP_EVENT_PAUSED] = "paused",
	[IPUMP_EVENT_RESUMED] = "resumed",
	[IPUMP_EVENT_RATE_CHANGED] = "rate-changed",
	[IPUMP_EVENT_KVO_STARTED] = "kvo-started",
	[IPUMP_EVENT_BOLUS_REQUESTED] = "bolus-requested",
	[IPUMP_EVENT_BOLUS_STARTED] = "bolus-started",
	[IPUMP_EVENT_BOLUS_COMPLETED] = "bolus-completed",
	[IPUMP_EVENT_BOLUS_DENIED] = "bolus-denied",
	[IPUMP_EVENT_BOLUS_CANCELLED] = "bolus-cancelled",
	[IPUMP_EVENT_ALARM_RAISED] = "alarm-raised",
	[IPUMP_EVENT_ALARM_ACKED] = "alarm-acked",
	[IPUMP_EVENT_ALARM_CLEARED] = "alarm-cleared",
	[IPUMP_EVENT_AUDIO_PAUSED] = "audio-paused",
	[IPUMP_EVENT_AUDIO_PAUSE_ENDED] = "audio-pause-ended",
	[IPUMP_EVENT_REQUEST_REFUSED] = "request-refused",
	[IPUMP_EVENT_LEASE_ACQUIRED] = "lease-acquired",
	[IPUMP_EVENT_LEASE_RELEASED] = "lease-released",
	[IPUMP_EVENT_LEASE_LOST] = "lease-lost",
	[IPUMP_EVENT_LEASE_TAKEN_OVER] = "lease-taken-over",
	[IPUMP_EVENT_STATE_CHANGED] = "state-changed",
	[IPUMP_EVENT_HARD_LIMITS_SET] = "hard-limits-set",
	[IPUMP_EVENT_CARD_ADDED] = "card-added",
	[IPUMP_EVENT_OVERFLOW] = "overflow",
	[IPUMP_EVENT_CARD_REMOVED] = "card-removed",
};

static const char *const cause_names[] = {
	[IPUMP_CAUSE_COMMAND] = "command",
	[IPUMP_CAUSE_ALARM] = "alarm",
	[IPUMP_CAUSE_LEASE_LOST] = "lease-lost",
	[IPUMP_CAUSE_DOSE_LIMIT] = "dose-limit",
	[IPUMP_CAUSE_VOLUME_DONE] = "volume-done",
	[IPUMP_CAUSE_FAULT] = "fault",
	[IPUMP_CAUSE_CARD_REMOVED] = "card-removed",
};

static const char *const route_names[] = {
	[IPUMP_ROUTE_INTRAVENOUS] = "intravenous",
	[IPUMP_ROUTE_SUBCUTANEOUS] = "subcutaneous",
	[IPUMP_ROUTE_EPIDURAL] = "epidural",
	[IPUMP_ROUTE_INTRATHECAL] = "intrathecal",
};

static const char *const mode_names[] = {
	[IPUMP_LEASE_LOSS_STOP] = "stop",
	[IPUMP_LEASE_LOSS_KVO] = "kvo",
	[IPUMP_LEASE_LOSS_CONTINUE_BASAL] = "continue-basal",
};

static const char *const lease_names[] = {
	[IPUMP_LEASE_FREE] = "free",
	[IPUMP_LEASE_HELD] = "held",
	[IPUMP_LEASE_MINE] = "mine",
	[IPUMP_LEASE_ORPHANED] = "orphaned",
};

static const char *const reason_names[IPUMP_REASON_COUNT] = {
	[IPUMP_REASON_NONE] = "none",
	[IPUMP_REASON_ROUTE] = "route",
	[IPUMP_REASON_FLAGS] = "flags",
	[IPUMP_REASON_RESERVED] = "reserved",
	[IPUMP_REASON_LEASE_LOSS_MODE] = "lease-loss-mode",
	[IPUMP_REASON_RATE_ZERO] = "rate-zero",
	[IPUMP_REASON_RATE_LOW] = "rate-low",
	[IPUMP_REASON_RATE_HIGH] = "rate-high",
	[IPUMP_REASON_KVO_LOW] = "kvo-low",
	[IPUMP_REASON_KVO_HIGH] = "kvo-high",
	[IPUMP_REASON_KVO_ABOVE_BASAL] = "kvo-above-basal",
	[IPUMP_REASON_SPINAL_KVO] = "spinal-kvo",
	[IPUMP_REASON_LEASE_LOSS_KVO] = "lease-loss-kvo",
	[IPUMP_REASON_LEASE_LOSS_BASAL] = "lease-loss-basal",
	[IPUMP_REASON_VTBI_ZERO] = "vtbi-zero",
	[IPUMP_REASON_VTBI_UNLIMITED] = "vtbi-unlimited",
	[IPUMP_REASON_VTBI_HIGH] = "vtbi-high",
	[IPUMP_REASON_PCA_FIELDS] = "pca-fields",
	[IPUMP_REASON_BOLUS_VOLUME_ZERO] = "bolus-volume-zero",
	[IPUMP_REASON_BOLUS_VOLUME_HIGH] = "bolus-volume-high",
	[IPUMP_REASON_BOLUS_RATE_ZERO] = "bolus-rate-zero",
	[IPUMP_REASON_BOLUS_RATE_LOW] = "bolus-rate-low",
	[IPUMP_REASON_BOLUS_RATE_HIGH] = "bolus-rate-high",
	[IPUMP_REASON_LOCKOUT_ZERO] = "lockout-zero",
	[IPUMP_REASON_LOCKOUT_SHORT] = "lockout-short",
	[IPUMP_REASON_LOCKOUT_LONG] = "lockout-long",
	[IPUMP_REASON_BOLUS_COUNT_ZERO] = "bolus-count-zero",
	[IPUMP_REASON_BOLUS_COUNT_HIGH] = "bolus-count-high",
	[IPUMP_REASON_DOSE_ZERO] = "dose-zero",
	[IPUMP_REASON_DOSE_1H_HIGH] = "dose-1h-high",
	[IPUMP_REASON_DOSE_4H_HIGH] = "dose-4h-high",
	[IPUMP_REASON_DOSE_ORDER] = "dose-order",
	[IPUMP_REASON_BASAL_OVER_DOSE] = "basal-over-dose",
	[IPUMP_REASON_BOLUS_OVER_DOSE] = "bolus-over-dose",
	[IPUMP_REASON_LIMITS_ZERO] = "limits-zero",
	[IPUMP_REASON_LIMITS_ORDER] = "limits-order",
	[IPUMP_REASON_LIMITS_RANGE] = "limits-range",
	[IPUMP_REASON_GENERATION] = "generation",
	[IPUMP_REASON_ROUTE_CHANGE] = "route-change",
	[IPUMP_REASON_STATE] = "state",
	[IPUMP_REASON_LOCKOUT] = "lockout",
	[IPUMP_REASON_HOURLY_COUNT] = "hourly-count",
	[IPUMP_REASON_DOSE_LIMIT] = "dose-limit",
	[IPUMP_REASON_NO_LEASE] = "no-lease",
	[IPUMP_REASON_LEASE_EXPIRED] = "lease-expired",
	[IPUMP_REASON_LEASE_HELD] = "lease-held",
	[IPUMP_REASON_LEASE_ORPHANED] = "lease-orphaned",
	[IPUMP_REASON_AUDIO_PAUSE] = "audio-pause",
	[IPUMP_REASON_LEASE_PERIOD] = "lease-period",
};

static const char *const clock_names[] = {
	[IPUMP_CLOCK_BOOTTIME] = "boottime",
	[IPUMP_CLOCK_SIMULATED] = "simulated",
};

/* a name from @tab, or "@unknown-N" in a rotating static buffer */
static const char *tab_name(const char *const *tab, size_t n, uint32_t v,
			    const char *unknown)
{
	static char bufs[4][32];
	static unsigned int i;
	char *b;

	if (v < n && tab[v])
		return tab[v];
	b = bufs[i++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s-%u", unknown, v);
	return b;
}

#define NAME(tab, v, u)	tab_name(tab, ARRAY_SIZE(tab), v, u)

/* case-insensitive, '_' and '-' alike */
static int name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return !*a && !*b;
}

static int tab_find(const char *const *tab, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i] && name_eq(tab[i], s))
			return (int)i;
	return -1;
}

const char *ipn_state_name(uint32_t v)
{
	return NAME(state_names, v, "state");
}

const char *ipn_alarm_name(uint32_t v)
{
	static char buf[32];

	if (v < ARRAY_SIZE(alarms) && alarms[v].name)
		return alarms[v].name;
	snprintf(buf, sizeof(buf), "alarm-%u", v);
	return buf;
}

int ipn_alarm_prio(uint32_t v)
{
	if (v < ARRAY_SIZE(alarms) && alarms[v].name)
		return alarms[v].prio;
	return -1;
}

const char *ipn_prio_name(uint32_t v)
{
	return NAME(prio_names, v, "priority");
}

int ipn_prio_from_name(const char *s)
{
	return tab_find(prio_names, ARRAY_SIZE(prio_names), s);
}

const char *ipn_event_name(uint32_t v)
{
	return NAME(event_names, v, "type");
}

int ipn_event_from_name(const char *s)
{
	return tab_find(event_names, ARRAY_SIZE(event_names), s);
}

const char *ipn_cause_name(uint32_t v)
{
	return NAME(cause_names, v, "cause");
}

const char *ipn_route_name(uint32_t v)
{
	return NAME(route_names, v, "route");
}

int ipn_route_from_name(const char *s)
{
	if (name_eq(s, "iv"))
		return IPUMP_ROUTE_INTRAVENOUS;
	if (name_eq(s, "sc"))
		return IPUMP_ROUTE_SUBCUTANEOUS;
	return tab_find(route_names, ARRAY_SIZE(route_names), s);
}

const char *ipn_mode_name(uint32_t v)
{
	return NAME(mode_names, v, "mode");
}

int ipn_mode_from_name(const char *s)
{
	if (name_eq(s, "basal"))
		return IPUMP_LEASE_LOSS_CONTINUE_BASAL;
	return tab_find(mode_names, ARRAY_SIZE(mode_names), s);
}

const char *ipn_lease_name(uint32_t v)
{
	return NAME(lease_names, v, "lease");
}

const char *ipn_reason_name(uint32_t v)
{
	return NAME(reason_names, v, "reason");
}

const char *ipn_clock_name(uint32_t v)
{
	return NAME(clock_names, v, "clock");
}

const char *ipn_errno_name(int err)
{
	static char buf[16];
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno-%d", err);
	return buf;
}

char *ipn_alarms_str(uint64_t mask, uint64_t unacked, int with_prio,
		     char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (!mask) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (unsigned int a = 0; a < 64 && n < len; a++) {
		int p;

		if (!(mask & (1ULL << a)))
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
				      ipn_alarm_name(a));
		if (n >= len || !with_prio)
			continue;
		p = ipn_alarm_prio(a);
		n += (size_t)snprintf(buf + n, len - n, " (%s%s)",
				      p >= 0 ? ipn_prio_name((uint32_t)p) : "?",
				      (unacked >> a) & 1 ? ", unacknowledged" : "");
	}
	return buf;
}

/* ---- formatting ---- */

char *ipn_time_str(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, (uint64_t)(ns / 1000000000U),
		 (uint64_t)((ns / 1000000U) % 1000));
	return buf;
}

char *ipn_vol_str(uint64_t nl, char *buf, size_t len)
{
	char h[48];

	snprintf(buf, len, "%s (%" PRIu64 " nl)", units_fmt_volume(nl, h, sizeof(h)), nl);
	return buf;
}

char *ipn_rate_str(uint64_t r, char *buf, size_t len)
{
	char h[48];

	snprintf(buf, len, "%s (%" PRIu64 " nl/h)", units_fmt_rate(r, h, sizeof(h)), r);
	return buf;
}

char *ipn_dur_str(uint64_t ms, char *buf, size_t len)
{
	char h[48];

	snprintf(buf, len, "%s (%" PRIu64 " ms)", units_fmt_duration(ms, h, sizeof(h)), ms);
	return buf;
}

char *ipn_fw_str(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
	return buf;
}

/* ---- events ---- */

enum vk {
	VK_NONE,
	VK_NUM,		/* plain number */
	VK_RATE,	/* nL/h */
	VK_VOL,		/* nL */
	VK_MS,		/* ms */
	VK_MS_NZ,	/* ms, omitted when 0 */
	VK_VTBI,	/* nL, 0 = unlimited */
	VK_ROUTE,
	VK_CAUSE,
	VK_ALARM,
	VK_ALARM_IF,	/* alarm, only when value[0] is IPUMP_CAUSE_ALARM */
	VK_DETAIL,	/* occlusion pressure mmHg, else a raw detail if != 0 */
	VK_MASK,	/* alarm mask */
	VK_ERRNO,
	VK_REASON,
	VK_STATE,
	VK_MODE,
	VK_WHY,		/* lease lost: 0 console gone, 1 heartbeat missed */
	VK_SERIAL,
	VK_FW,
	VK_CLOCK,
	VK_REQ,		/* the requested value / limit of a refusal: unit from
			 * the reason
			 */
};

struct vslot {
	const char *key;
	enum vk kind;
};

static const struct vslot ev_slots[IPUMP_EVENT_TYPE_COUNT][4] = {
	[IPUMP_EVENT_PROGRAMME_SET] = { { "generation", VK_NUM }, { "basal", VK_RATE },
					{ "route", VK_ROUTE }, { "vtbi", VK_VTBI } },
	[IPUMP_EVENT_STARTED] = { { "generation", VK_NUM }, { "rate", VK_RATE } },
	[IPUMP_EVENT_STOPPED] = { { "cause", VK_CAUSE }, { "alarm", VK_ALARM_IF },
				  { "delivered", VK_VOL } },
	[IPUMP_EVENT_PAUSED] = { { "cause", VK_CAUSE }, { "alarm", VK_ALARM_IF } },
	[IPUMP_EVENT_RESUMED] = { { "generation", VK_NUM }, { "rate", VK_RATE } },
	[IPUMP_EVENT_RATE_CHANGED] = { { "generation", VK_NUM }, { "rate", VK_RATE },
				       { "previous", VK_RATE } },
	[IPUMP_EVENT_KVO_STARTED] = { { "cause", VK_CAUSE }, { "kvo", VK_RATE } },
	[IPUMP_EVENT_BOLUS_REQUESTED] = { { "volume", VK_VOL }, { "rate", VK_RATE } },
	[IPUMP_EVENT_BOLUS_STARTED] = { { "req", VK_NUM }, { "volume", VK_VOL },
					{ "rate", VK_RATE } },
	[IPUMP_EVENT_BOLUS_COMPLETED] = { { "req", VK_NUM }, { "delivered", VK_VOL } },
	[IPUMP_EVENT_BOLUS_DENIED] = { { "req", VK_NUM }, { "errno", VK_ERRNO },
				       { "reason", VK_REASON }, { "retry_in", VK_MS_NZ } },
	[IPUMP_EVENT_BOLUS_CANCELLED] = { { "req", VK_NUM }, { "cause", VK_CAUSE },
					  { "delivered", VK_VOL },
					  { "not_delivered", VK_VOL } },
	[IPUMP_EVENT_ALARM_RAISED] = { { "alarm", VK_ALARM }, { "detail", VK_DETAIL } },
	[IPUMP_EVENT_ALARM_ACKED] = { { "alarm", VK_ALARM } },
	[IPUMP_EVENT_ALARM_CLEARED] = { { "alarm", VK_ALARM } },
	[IPUMP_EVENT_AUDIO_PAUSED] = { { "duration", VK_MS }, { "silenced", VK_MASK } },
	[IPUMP_EVENT_AUDIO_PAUSE_ENDED] = { { "active", VK_MASK } },
	[IPUMP_EVENT_REQUEST_REFUSED] = { { "errno", VK_ERRNO }, { "reason", VK_REASON },
					  { "requested", VK_REQ }, { "limit", VK_REQ } },
	[IPUMP_EVENT_LEASE_ACQUIRED] = { { "lease", VK_NUM }, { "period", VK_MS } },
	[IPUMP_EVENT_LEASE_RELEASED] = { { "lease", VK_NUM } },
	[IPUMP_EVENT_LEASE_LOST] = { { "lease", VK_NUM }, { "mode", VK_MODE },
				     { "why", VK_WHY } },
	[IPUMP_EVENT_LEASE_TAKEN_OVER] = { { "lease", VK_NUM }, { "orphaned", VK_NUM },
					   { "period", VK_MS } },
	[IPUMP_EVENT_STATE_CHANGED] = { { "state", VK_STATE }, { "previous", VK_STATE },
					{ "cause", VK_CAUSE } },
	[IPUMP_EVENT_HARD_LIMITS_SET] = { { "min_rate", VK_RATE }, { "max_rate", VK_RATE },
					  { "max_bolus", VK_VOL },
					  { "max_dose_1h", VK_VOL } },
	[IPUMP_EVENT_CARD_ADDED] = { { "serial", VK_SERIAL }, { "fw", VK_FW },
				     { "channels", VK_NUM }, { "clock", VK_CLOCK } },
	[IPUMP_EVENT_OVERFLOW] = { { "lost", VK_NUM }, { "first", VK_NUM },
				   { "last", VK_NUM } },
	[IPUMP_EVENT_CARD_REMOVED] = { { "last_seq", VK_NUM }, { "fell_off", VK_NUM } },
};

/* unit of a refusal's requested value and limit, from its reason */
static enum vk req_kind(uint64_t reason)
{
	switch (reason) {
	case IPUMP_REASON_RATE_LOW:
	case IPUMP_REASON_RATE_HIGH:
	case IPUMP_REASON_KVO_LOW:
	case IPUMP_REASON_KVO_HIGH:
	case IPUMP_REASON_KVO_ABOVE_BASAL:
	case IPUMP_REASON_BOLUS_RATE_LOW:
	case IPUMP_REASON_BOLUS_RATE_HIGH:
		return VK_RATE;
	case IPUMP_REASON_VTBI_HIGH:
	case IPUMP_REASON_BOLUS_VOLUME_HIGH:
	case IPUMP_REASON_DOSE_1H_HIGH:
	case IPUMP_REASON_DOSE_4H_HIGH:
	case IPUMP_REASON_DOSE_ORDER:
	case IPUMP_REASON_BOLUS_OVER_DOSE:
	case IPUMP_REASON_DOSE_LIMIT:
		return VK_VOL;
	case IPUMP_REASON_LOCKOUT_SHORT:
	case IPUMP_REASON_LOCKOUT_LONG:
	case IPUMP_REASON_LOCKOUT:
	case IPUMP_REASON_AUDIO_PAUSE:
		return VK_MS;
	default:
		return VK_NUM;
	}
}

static int is_occlusion(uint64_t alarm)
{
	return alarm == IPUMP_ALARM_OCCLUSION_DOWN || alarm == IPUMP_ALARM_OCCLUSION_UP;
}

static const struct vslot *slots_of(uint32_t type)
{
	static const struct vslot raw[4] = {
		{ "v0", VK_NUM }, { "v1", VK_NUM }, { "v2", VK_NUM }, { "v3", VK_NUM },
	};

	if (type < IPUMP_EVENT_TYPE_COUNT && event_names[type])
		return ev_slots[type];
	return raw;
}

static char *mask_names(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;

	if (!mask) {
		snprintf(buf, len, "none");
		return buf;
	}
	buf[0] = '\0';
	for (unsigned int a = 0; a < 64 && n < len; a++)
		if (mask & (1ULL << a))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      ipn_alarm_name(a));
	return buf;
}

static const char *source_of(uint32_t flags)
{
	if (flags & IPUMP_EVENT_F_HANDSET)
		return "handset";
	if (flags & IPUMP_EVENT_F_CONSOLE)
		return "console";
	return NULL;
}

char *ipn_event_text(const struct ipn_event *e, char *buf, size_t len)
{
	const struct vslot *sl = slots_of(e->type);
	char t[32], v[256], ch[8];
	size_t n;

	if (e->channel == IPUMP_CHANNEL_NONE)
		snprintf(ch, sizeof(ch), "-");
	else
		snprintf(ch, sizeof(ch), "%u", e->channel);
	if (e->seq)
		n = (size_t)snprintf(buf, len, "%" PRIu64, e->seq);
	else
		n = (size_t)snprintf(buf, len, "-");
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s ipump%u/%s %s %s",
				      ipn_time_str(e->timestamp_ns, t, sizeof(t)),
				      e->card, ch, ipn_event_name(e->type),
				      ipn_prio_name(e->priority));
	for (int i = 0; i < 4 && n < len; i++) {
		uint64_t x = e->value[i];
		enum vk k = sl[i].kind;

		if (k == VK_REQ)
			k = req_kind(e->value[1]);
		switch (k) {
		case VK_NONE:
			continue;
		case VK_NUM:
			snprintf(v, sizeof(v), "%" PRIu64, x);
			break;
		case VK_RATE:
			units_fmt_rate(x, v, sizeof(v));
			break;
		case VK_VOL:
			units_fmt_volume(x, v, sizeof(v));
			break;
		case VK_MS_NZ:
			if (!x)
				continue;
			/* fall through */
		case VK_MS:
			units_fmt_duration(x, v, sizeof(v));
			break;
		case VK_VTBI:
			if (x)
				units_fmt_volume(x, v, sizeof(v));
			else
				snprintf(v, sizeof(v), "unlimited");
			break;
		case VK_ROUTE:
			snprintf(v, sizeof(v), "%s", ipn_route_name((uint32_t)x));
			break;
		case VK_CAUSE:
			snprintf(v, sizeof(v), "%s", ipn_cause_name((uint32_t)x));
			break;
		case VK_ALARM_IF:
			if (e->value[0] != IPUMP_CAUSE_ALARM)
				continue;
			/* fall through */
		case VK_ALARM:
			snprintf(v, sizeof(v), "%s", ipn_alarm_name((uint32_t)x));
			break;
		case VK_DETAIL:
			if (is_occlusion(e->value[0])) {
				n += (size_t)snprintf(buf + n, len - n,
						      " pressure=%" PRIu64 "mmHg", x);
				continue;
			}
			if (!x)
				continue;
			snprintf(v, sizeof(v), "%" PRIu64, x);
			break;
		case VK_MASK:
			mask_names(x, v, sizeof(v));
			break;
		case VK_ERRNO:
			snprintf(v, sizeof(v), "%s", ipn_errno_name((int)x));
			break;
		case VK_REASON:
			snprintf(v, sizeof(v), "%s", ipn_reason_name((uint32_t)x));
			break;
		case VK_STATE:
			snprintf(v, sizeof(v), "%s", ipn_state_name((uint32_t)x));
			break;
		case VK_MODE:
			snprintf(v, sizeof(v), "%s", ipn_mode_name((uint32_t)x));
			break;
		case VK_WHY:
			snprintf(v, sizeof(v), "%s", x == 0 ? "console-gone" :
				 x == 1 ? "heartbeat-missed" : "unknown");
			break;
		case VK_SERIAL:
			snprintf(v, sizeof(v), "%016" PRIx64, x);
			break;
		case VK_FW:
			ipn_fw_str((uint32_t)x, v, sizeof(v));
			break;
		case VK_CLOCK:
			snprintf(v, sizeof(v), "%s", ipn_clock_name((uint32_t)x));
			break;
		case VK_REQ:
			break;
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, " %s=%s", sl[i].key, v);
	}
	if (n < len && source_of(e->flags))
		n += (size_t)snprintf(buf + n, len - n, " source=%s", source_of(e->flags));
	if (n < len && (e->flags & IPUMP_EVENT_F_ROUNDED))
		snprintf(buf + n, len - n, " rounded");
	return buf;
}

void ipn_event_json(const struct ipn_event *e, FILE *f)
{
	const struct vslot *sl = slots_of(e->type);
	char t[32], v[256];

	fprintf(f, "{\"seq\":%" PRIu64 ",\"timestamp_ns\":%" PRIu64
		",\"time\":\"%s\",\"card\":%u,\"channel\":",
		e->seq, e->timestamp_ns, ipn_time_str(e->timestamp_ns, t, sizeof(t)),
		e->card);
	if (e->channel == IPUMP_CHANNEL_NONE)
		fprintf(f, "null");
	else
		fprintf(f, "%u", e->channel);
	fprintf(f, ",\"type\":\"%s\",\"type_id\":%u,\"priority\":\"%s\","
		"\"flags\":%u", ipn_event_name(e->type), e->type,
		ipn_prio_name(e->priority), e->flags);
	if (source_of(e->flags))
		fprintf(f, ",\"source\":\"%s\"", source_of(e->flags));
	if (e->flags & IPUMP_EVENT_F_ROUNDED)
		fprintf(f, ",\"rounded\":true");
	fprintf(f, ",\"value\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]",
		e->value[0], e->value[1], e->value[2], e->value[3]);
	for (int i = 0; i < 4; i++) {
		uint64_t x = e->value[i];
		const char *key = sl[i].key;
		enum vk k = sl[i].kind;

		if (k == VK_REQ)
			k = req_kind(e->value[1]);
		switch (k) {
		case VK_NONE:
			break;
		case VK_NUM:
			fprintf(f, ",\"%s\":%" PRIu64, key, x);
			break;
		case VK_RATE:
			fprintf(f, ",\"%s_nl_per_h\":%" PRIu64, key, x);
			break;
		case VK_VOL:
			fprintf(f, ",\"%s_nl\":%" PRIu64, key, x);
			break;
		case VK_MS_NZ:
			if (!x)
				break;
			/* fall through */
		case VK_MS:
			fprintf(f, ",\"%s_ms\":%" PRIu64, key, x);
			break;
		case VK_VTBI:
			fprintf(f, ",\"vtbi_nl\":%" PRIu64 ",\"vtbi_unlimited\":%s",
				x, x ? "false" : "true");
			break;
		case VK_ROUTE:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_route_name((uint32_t)x));
			break;
		case VK_CAUSE:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_cause_name((uint32_t)x));
			break;
		case VK_ALARM_IF:
			if (e->value[0] != IPUMP_CAUSE_ALARM)
				break;
			/* fall through */
		case VK_ALARM:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_alarm_name((uint32_t)x));
			break;
		case VK_DETAIL:
			if (is_occlusion(e->value[0]))
				fprintf(f, ",\"pressure_mmhg\":%" PRIu64, x);
			else if (x)
				fprintf(f, ",\"detail\":%" PRIu64, x);
			break;
		case VK_MASK:
			fprintf(f, ",\"%s\":[", key);
			for (unsigned int a = 0, first = 1; a < 64; a++) {
				if (!(x & (1ULL << a)))
					continue;
				fprintf(f, "%s\"%s\"", first ? "" : ",", ipn_alarm_name(a));
				first = 0;
			}
			fprintf(f, "]");
			break;
		case VK_ERRNO:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_errno_name((int)x));
			break;
		case VK_REASON:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_reason_name((uint32_t)x));
			break;
		case VK_STATE:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_state_name((uint32_t)x));
			break;
		case VK_MODE:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_mode_name((uint32_t)x));
			break;
		case VK_WHY:
			fprintf(f, ",\"%s\":\"%s\"", key, x == 0 ? "console-gone" :
				x == 1 ? "heartbeat-missed" : "unknown");
			break;
		case VK_SERIAL:
			fprintf(f, ",\"%s\":\"%016" PRIx64 "\"", key, x);
			break;
		case VK_FW:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_fw_str((uint32_t)x, v, sizeof(v)));
			break;
		case VK_CLOCK:
			fprintf(f, ",\"%s\":\"%s\"", key, ipn_clock_name((uint32_t)x));
			break;
		case VK_REQ:
			break;
		}
	}
	fprintf(f, "}\n");
}
