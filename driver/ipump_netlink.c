// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: the generic netlink family "ipump".
 *
 * Documented in Documentation/userspace-api/ipump-netlink.rst and specified
 * in Documentation/netlink/specs/ipump.yaml. Like the character device,
 * every command is a thin, checked call into the core (ipump_ch_*()): the
 * policies check the shape of a request (types, enumerations, flag masks,
 * operation ranges), the core checks the therapy values, logs every refusal
 * and explains it in struct ipump_req.reason, which becomes the extended
 * ack's message and cookie here.
 *
 * Privilege (CONTRACTS.md "Privilege and data"): changes need CAP_NET_ADMIN
 * in the initial user namespace (GENL_ADMIN_PERM; the family lives in the
 * initial network namespace only), hard limits also CAP_SYS_ADMIN. Reads,
 * dumps and the monitor group carry patient data: CAP_NET_ADMIN too unless
 * the module parameter allow_unprivileged_read is set.
 *
 * Leases belong to the socket: the owner cookie is made from the sender's
 * port id (ipump_nl_owner()), and NETLINK_URELEASE of a socket that took a
 * lease tells every card that its owner is gone.
 *
 * Locking: the family sets parallel_ops, so no handler runs under the
 * global genl_mutex (a card answering slowly over SPI must not stall every
 * other generic netlink family). The core takes the card lock in each
 * operation; this file holds no lock of its own across a core call. The
 * monitor notifier runs under the card's log append_lock (and possibly the
 * card lock) in process context and only allocates and multicasts.
 * ipump_nl_holders has its own (xarray) lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/cleanup.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/stddef.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "ipump_priv.h"

static bool allow_unprivileged_read;
module_param(allow_unprivileged_read, bool, 0444);
MODULE_PARM_DESC(allow_unprivileged_read,
		 "Let any user read status, dump the log and join the netlink monitor group (patient data; default: CAP_NET_ADMIN only)");

/* ipump_genl_ops.internal_flags */
#define IPUMP_NL_F_READ		BIT(0)	/* patient data: see ipump_nl_may_read() */
#define IPUMP_NL_F_SYS_ADMIN	BIT(1)	/* hard limits: CAP_SYS_ADMIN as well */

enum ipump_nl_mcgrp {
	IPUMP_NL_MCGRP_MONITOR,
};

static struct genl_family ipump_nl_family;

/* The monitor group is fed (see ipump_netlink_init()); set once at init. */
static bool ipump_nl_monitor_enabled __ro_after_init;
/* The family is registered: the log notifier may use it. */
static bool ipump_nl_registered;

/*
 * Bumped whenever a card appears or goes (ipump_netlink_card_init(), and
 * its CARD_ADDED and CARD_REMOVED records, which the core appends after
 * adding the card to, and after removing it from, the set of cards): the
 * cb->seq of card and channel dumps, so a dump that spans such a change
 * is flagged NLM_F_DUMP_INTR.
 */
static atomic_t ipump_nl_cards_gen = ATOMIC_INIT(1);

/*
 * Port ids of the sockets that took a lease (acquire or takeover), until
 * NETLINK_URELEASE: only their release makes the cards look for orphaned
 * leases, not every generic netlink socket closed on the system. An
 * unprivileged user cannot add entries (the lease commands need
 * GENL_ADMIN_PERM), so it cannot make a close take every card's lock.
 */
static DEFINE_XARRAY(ipump_nl_holders);

/**
 * ipump_nl_owner() - the lease owner cookie of a netlink socket
 * @portid: the socket's port id (in the initial network namespace)
 *
 * An odd value, so it is never the address of an open file (the character
 * device's cookie) nor any other kernel object; the core only compares it.
 * On 64-bit kernels the mapping is exact. On 32-bit kernels the top bit of
 * the port id is lost, so port ids P and P ^ BIT(31) would share a cookie:
 * ipump_nl_pre_doit() refuses changes from a socket whose twin holds a
 * lease.
 *
 * Return: the cookie for struct ipump_req.owner.
 */
static const void *ipump_nl_owner(u32 portid)
{
	return (const void *)(uintptr_t)(((unsigned long)portid << 1) | 1);
}

static u32 ipump_nl_cards_seq(void)
{
	return (u32)atomic_read(&ipump_nl_cards_gen) ?: 1;
}

static bool ipump_nl_may_read(const struct sk_buff *skb)
{
	return allow_unprivileged_read || netlink_capable(skb, CAP_NET_ADMIN);
}

static int ipump_nl_check_perm(const struct sk_buff *skb, u8 flags,
			       struct netlink_ext_ack *extack)
{
	if ((flags & IPUMP_NL_F_READ) && !ipump_nl_may_read(skb)) {
		NL_SET_ERR_MSG(extack, "reading patient data needs CAP_NET_ADMIN");
		return -EPERM;
	}
	/* like GENL_ADMIN_PERM: the process and the socket's opener */
	if ((flags & IPUMP_NL_F_SYS_ADMIN) &&
	    !netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(extack, "changing hard limits needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	return 0;
}

/* ---- struct <-> nested attributes, one table per struct */

/**
 * struct ipump_nl_field - one struct member carried as one attribute
 * @attr: attribute type in its nest
 * @offset: offset of the member in its struct
 * @size: 4 (NLA_U32) or 8 (NLA_U64)
 */
struct ipump_nl_field {
	u16 attr;
	u16 offset;
	u8 size;
};

/*
 * _type and _member are names, never evaluated: checkpatch's MACRO_ARG_REUSE
 * does not apply.
 */
#define IPUMP_NL_FIELD(_attr, _type, _member) {				\
	.attr = _attr,							\
	.offset = offsetof(_type, _member),				\
	.size = sizeof_field(_type, _member) +				\
		BUILD_BUG_ON_ZERO(sizeof_field(_type, _member) != 4 &&	\
				  sizeof_field(_type, _member) != 8),	\
}

#define IPUMP_NL_PROG(_attr, _member) \
	IPUMP_NL_FIELD(IPUMP_A_PROG_##_attr, struct ipump_programme, _member)

static const struct ipump_nl_field ipump_nl_prog_fields[] = {
	IPUMP_NL_PROG(ROUTE, route),
	IPUMP_NL_PROG(FLAGS, flags),
	IPUMP_NL_PROG(BASAL_RATE_NL_PER_H, basal_rate_nl_per_h),
	IPUMP_NL_PROG(KVO_RATE_NL_PER_H, kvo_rate_nl_per_h),
	IPUMP_NL_PROG(VTBI_NL, vtbi_nl),
	IPUMP_NL_PROG(BOLUS_VOLUME_NL, bolus_volume_nl),
	IPUMP_NL_PROG(BOLUS_RATE_NL_PER_H, bolus_rate_nl_per_h),
	IPUMP_NL_PROG(LOCKOUT_MS, lockout_ms),
	IPUMP_NL_PROG(MAX_BOLUSES_PER_HOUR, max_boluses_per_hour),
	IPUMP_NL_PROG(MAX_DOSE_1H_NL, max_dose_1h_nl),
	IPUMP_NL_PROG(MAX_DOSE_4H_NL, max_dose_4h_nl),
	IPUMP_NL_PROG(LEASE_LOSS_MODE, lease_loss_mode),
};

/* every attribute but UNSPEC and PAD */
static_assert(ARRAY_SIZE(ipump_nl_prog_fields) == IPUMP_A_PROG_MAX - 1);

#define IPUMP_NL_LIM(_attr, _member) \
	IPUMP_NL_FIELD(IPUMP_A_LIM_##_attr, struct ipump_hard_limits, _member)

static const struct ipump_nl_field ipump_nl_lim_fields[] = {
	IPUMP_NL_LIM(MIN_RATE_NL_PER_H, min_rate_nl_per_h),
	IPUMP_NL_LIM(MAX_RATE_NL_PER_H, max_rate_nl_per_h),
	IPUMP_NL_LIM(MAX_KVO_RATE_NL_PER_H, max_kvo_rate_nl_per_h),
	IPUMP_NL_LIM(MAX_BOLUS_VOLUME_NL, max_bolus_volume_nl),
	IPUMP_NL_LIM(MAX_BOLUS_RATE_NL_PER_H, max_bolus_rate_nl_per_h),
	IPUMP_NL_LIM(MIN_LOCKOUT_MS, min_lockout_ms),
	IPUMP_NL_LIM(MAX_VTBI_NL, max_vtbi_nl),
	IPUMP_NL_LIM(MAX_DOSE_1H_NL, max_dose_1h_nl),
	IPUMP_NL_LIM(MAX_DOSE_4H_NL, max_dose_4h_nl),
	IPUMP_NL_LIM(MAX_BOLUSES_PER_HOUR, max_boluses_per_hour),
	IPUMP_NL_LIM(AIR_BUBBLE_NL, air_bubble_nl),
	IPUMP_NL_LIM(AIR_ACCUM_NL, air_accum_nl),
	IPUMP_NL_LIM(OVER_INFUSION_PCT, over_infusion_pct),
	IPUMP_NL_LIM(UNDER_INFUSION_PCT, under_infusion_pct),
	IPUMP_NL_LIM(STALL_MS, stall_ms),
};

static_assert(ARRAY_SIZE(ipump_nl_lim_fields) == IPUMP_A_LIM_MAX - 1);

#define IPUMP_NL_ST(_attr, _member) \
	IPUMP_NL_FIELD(IPUMP_A_ST_##_attr, struct ipump_channel_status, _member)

static const struct ipump_nl_field ipump_nl_st_fields[] = {
	IPUMP_NL_ST(STATE, state),
	IPUMP_NL_ST(RATE_NL_PER_H, rate_nl_per_h),
	IPUMP_NL_ST(MOTOR, motor),
	IPUMP_NL_ST(TIMESTAMP_NS, timestamp_ns),
	IPUMP_NL_ST(DELIVERED_NL, delivered_nl),
	IPUMP_NL_ST(RESERVOIR_NL, reservoir_nl),
	IPUMP_NL_ST(ALARMS, alarms),
	IPUMP_NL_ST(ALARMS_UNACKED, alarms_unacked),
	IPUMP_NL_ST(GENERATION, generation),
	IPUMP_NL_ST(INFUSED_NL, infused_nl),
	IPUMP_NL_ST(VTBI_REMAINING_NL, vtbi_remaining_nl),
	IPUMP_NL_ST(BOLUS_DELIVERED_NL, bolus_delivered_nl),
	IPUMP_NL_ST(DOSE_1H_NL, dose_1h_nl),
	IPUMP_NL_ST(DOSE_4H_NL, dose_4h_nl),
	IPUMP_NL_ST(AUDIO_PAUSED_UNTIL_NS, audio_paused_until_ns),
	IPUMP_NL_ST(LEASE_EXPIRES_NS, lease_expires_ns),
	IPUMP_NL_ST(PRESSURE_DOWN_MMHG, pressure_down_mmhg),
	IPUMP_NL_ST(PRESSURE_UP_MMHG, pressure_up_mmhg),
	IPUMP_NL_ST(STEP_COUNT, step_count),
	IPUMP_NL_ST(HANDSET_PRESSES, handset_presses),
	IPUMP_NL_ST(PRIORITY, priority),
	IPUMP_NL_ST(PCA_DELIVERED, pca_delivered),
	IPUMP_NL_ST(PCA_DENIED, pca_denied),
	IPUMP_NL_ST(CLINICIAN_BOLUSES, clinician_boluses),
	IPUMP_NL_ST(LOCKOUT_REMAINING_MS, lockout_remaining_ms),
	IPUMP_NL_ST(TIME_TO_EMPTY_S, time_to_empty_s),
	IPUMP_NL_ST(LEASE, lease),
};

static_assert(ARRAY_SIZE(ipump_nl_st_fields) == IPUMP_A_ST_MAX - 1);

static int ipump_nl_put_fields(struct sk_buff *skb, int nest_attr, int pad,
			       const struct ipump_nl_field *f, unsigned int n,
			       const void *base)
{
	struct nlattr *nest;
	unsigned int i;
	int err;

	nest = nla_nest_start(skb, nest_attr);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		const void *p = base + f[i].offset;

		if (f[i].size == sizeof(u64))
			err = nla_put_u64_64bit(skb, f[i].attr,
						*(const u64 *)p, pad);
		else
			err = nla_put_u32(skb, f[i].attr, *(const u32 *)p);
		if (err) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* The larger of the two nests a request carries. */
#define IPUMP_NL_NEST_MAX	IPUMP_A_LIM_MAX
static_assert((int)IPUMP_A_PROG_MAX <= (int)IPUMP_NL_NEST_MAX);

/*
 * A request's PROGRAMME or LIMITS nest into its struct (zeroed first:
 * padding and reserved fields are 0). The nest was validated with the
 * command's policy already; here every member is required.
 */
static int ipump_nl_get_fields(struct genl_info *info, int nest_attr,
			       const struct nla_policy *policy, int maxtype,
			       const struct ipump_nl_field *f, unsigned int n,
			       void *base, size_t size)
{
	struct nlattr *nest = info->attrs[nest_attr];
	struct nlattr *tb[IPUMP_NL_NEST_MAX + 1];
	unsigned int i;
	int ret;

	ret = nla_parse_nested(tb, maxtype, nest, policy, info->extack);
	if (ret)
		return ret;
	memset(base, 0, size);
	for (i = 0; i < n; i++) {
		void *p = base + f[i].offset;

		if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, f[i].attr)) {
			NL_SET_ERR_MSG_ATTR(info->extack, nest,
					    "every attribute of this nest is required");
			return -EINVAL;
		}
		if (f[i].size == sizeof(u64))
			*(u64 *)p = nla_get_u64(tb[f[i].attr]);
		else
			*(u32 *)p = nla_get_u32(tb[f[i].attr]);
	}
	return 0;
}

/* ---- policies: one per command (6.1 has per-op policies, not split ops) */

/* the operation ranges of the character device's struct ipump_channel_cmd */
static struct netlink_range_validation ipump_nl_duration_range = {
	.min = 1,
	.max = IPUMP_AUDIO_PAUSE_MAX_MS,
};

static struct netlink_range_validation ipump_nl_period_range = {
	.min = IPUMP_LEASE_MIN_PERIOD_MS,
	.max = IPUMP_LEASE_MAX_PERIOD_MS,
};

/*
 * Enumerations and flags are checked here; every therapy value (rates,
 * volumes, lockout, counts) is the core's, so that its refusal is logged
 * (REQUEST_REFUSED) and explained (reason) the same way on both interfaces.
 */
static const struct nla_policy ipump_nl_prog_policy[IPUMP_A_PROG_MAX + 1] = {
	[IPUMP_A_PROG_ROUTE] = NLA_POLICY_RANGE(NLA_U32, IPUMP_ROUTE_INTRAVENOUS,
						IPUMP_ROUTE_INTRATHECAL),
	[IPUMP_A_PROG_FLAGS] = NLA_POLICY_MASK(NLA_U32, IPUMP_PROG_FLAGS_ALL),
	[IPUMP_A_PROG_BASAL_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_PROG_KVO_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_PROG_VTBI_NL] = { .type = NLA_U64 },
	[IPUMP_A_PROG_BOLUS_VOLUME_NL] = { .type = NLA_U32 },
	[IPUMP_A_PROG_BOLUS_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_PROG_LOCKOUT_MS] = { .type = NLA_U32 },
	[IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR] = { .type = NLA_U32 },
	[IPUMP_A_PROG_MAX_DOSE_1H_NL] = { .type = NLA_U64 },
	[IPUMP_A_PROG_MAX_DOSE_4H_NL] = { .type = NLA_U64 },
	[IPUMP_A_PROG_LEASE_LOSS_MODE] =
		NLA_POLICY_MAX(NLA_U32, IPUMP_LEASE_LOSS_CONTINUE_BASAL),
};

static const struct nla_policy ipump_nl_lim_policy[IPUMP_A_LIM_MAX + 1] = {
	[IPUMP_A_LIM_MIN_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_LIM_MAX_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_LIM_MAX_BOLUS_VOLUME_NL] = { .type = NLA_U32 },
	[IPUMP_A_LIM_MAX_BOLUS_RATE_NL_PER_H] = { .type = NLA_U32 },
	[IPUMP_A_LIM_MIN_LOCKOUT_MS] = { .type = NLA_U32 },
	[IPUMP_A_LIM_MAX_VTBI_NL] = { .type = NLA_U64 },
	[IPUMP_A_LIM_MAX_DOSE_1H_NL] = { .type = NLA_U64 },
	[IPUMP_A_LIM_MAX_DOSE_4H_NL] = { .type = NLA_U64 },
	[IPUMP_A_LIM_MAX_BOLUSES_PER_HOUR] = { .type = NLA_U32 },
	[IPUMP_A_LIM_AIR_BUBBLE_NL] = { .type = NLA_U32 },
	[IPUMP_A_LIM_AIR_ACCUM_NL] = { .type = NLA_U32 },
	[IPUMP_A_LIM_OVER_INFUSION_PCT] = { .type = NLA_U32 },
	[IPUMP_A_LIM_UNDER_INFUSION_PCT] = { .type = NLA_U32 },
	[IPUMP_A_LIM_STALL_MS] = { .type = NLA_U32 },
};

/*
 * Every top-level policy spans IPUMP_A_MAX, so info->attrs can be indexed
 * by any attribute; the entries a command does not take stay NLA_UNSPEC,
 * which strict validation rejects.
 */
static const struct nla_policy ipump_nl_card_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
};

static const struct nla_policy ipump_nl_channel_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
};

static const struct nla_policy ipump_nl_gen_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
	[IPUMP_A_GENERATION] = { .type = NLA_U64 },
};

static const struct nla_policy ipump_nl_programme_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
	[IPUMP_A_GENERATION] = { .type = NLA_U64 },
	[IPUMP_A_PROGRAMME] = NLA_POLICY_NESTED(ipump_nl_prog_policy),
};

static const struct nla_policy ipump_nl_bolus_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
	[IPUMP_A_BOLUS_KIND] = NLA_POLICY_MAX(NLA_U32, IPUMP_BOLUS_CLINICIAN),
	[IPUMP_A_BOLUS_VOLUME_NL] = { .type = NLA_U32 },
	[IPUMP_A_BOLUS_RATE_NL_PER_H] = { .type = NLA_U32 },
};

/* 0..7 or IPUMP_CHANNEL_NONE; ipump_nl_pre_doit() refuses 8..254 */
static const struct nla_policy ipump_nl_ack_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_CHANNEL_NONE),
};

static const struct nla_policy ipump_nl_audio_pause_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
	[IPUMP_A_DURATION_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &ipump_nl_duration_range),
};

static const struct nla_policy ipump_nl_lease_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
	[IPUMP_A_LEASE_PERIOD_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &ipump_nl_period_range),
};

static const struct nla_policy ipump_nl_limits_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, IPUMP_MAX_CHANNELS - 1),
	[IPUMP_A_LIMITS] = NLA_POLICY_NESTED(ipump_nl_lim_policy),
};

static const struct nla_policy ipump_nl_log_policy[IPUMP_A_MAX + 1] = {
	[IPUMP_A_CARD_ID] = { .type = NLA_U32 },
	[IPUMP_A_LOG_FROM_SEQ] = { .type = NLA_U64 },
};

/* Attributes a do request must carry, by command (dumps: their start). */
#define IPUMP_NL_REQ_CARD	BIT(IPUMP_A_CARD_ID)
#define IPUMP_NL_REQ_CH		(IPUMP_NL_REQ_CARD | BIT(IPUMP_A_CHANNEL))
#define IPUMP_NL_REQ_CH_GEN	(IPUMP_NL_REQ_CH | BIT(IPUMP_A_GENERATION))

static_assert(IPUMP_A_MAX < BITS_PER_LONG);

static const unsigned long ipump_nl_required[IPUMP_CMD_MAX + 1] = {
	[IPUMP_CMD_CARD_GET] = IPUMP_NL_REQ_CARD,
	[IPUMP_CMD_CHANNEL_GET] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_PROGRAMME_SET] = IPUMP_NL_REQ_CH_GEN | BIT(IPUMP_A_PROGRAMME),
	[IPUMP_CMD_TITRATE] = IPUMP_NL_REQ_CH_GEN | BIT(IPUMP_A_PROGRAMME),
	[IPUMP_CMD_START] = IPUMP_NL_REQ_CH_GEN,
	[IPUMP_CMD_STOP] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_PAUSE] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_RESUME] = IPUMP_NL_REQ_CH_GEN,
	[IPUMP_CMD_CLEAR] = IPUMP_NL_REQ_CH_GEN,
	[IPUMP_CMD_BOLUS] = IPUMP_NL_REQ_CH | BIT(IPUMP_A_BOLUS_KIND),
	[IPUMP_CMD_BOLUS_CANCEL] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_ACK] = IPUMP_NL_REQ_CARD,
	[IPUMP_CMD_AUDIO_PAUSE] = IPUMP_NL_REQ_CH | BIT(IPUMP_A_DURATION_MS),
	[IPUMP_CMD_LEASE_ACQUIRE] = IPUMP_NL_REQ_CH | BIT(IPUMP_A_LEASE_PERIOD_MS),
	[IPUMP_CMD_LEASE_RENEW] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_LEASE_RELEASE] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_LEASE_TAKEOVER] = IPUMP_NL_REQ_CH | BIT(IPUMP_A_LEASE_PERIOD_MS),
	[IPUMP_CMD_LIMITS_SET] = IPUMP_NL_REQ_CH | BIT(IPUMP_A_LIMITS),
	[IPUMP_CMD_LIMITS_GET] = IPUMP_NL_REQ_CH,
	[IPUMP_CMD_LOG_GET] = IPUMP_NL_REQ_CARD,
};

/* ---- cards, refusals */

/*
 * The card @attr names, referenced (ipump_card_put()), or -ENODEV. A card
 * found may be dead already; the core then answers -ENODEV.
 */
static struct ipump_card *ipump_nl_card_get(const struct nlattr *attr,
					    struct netlink_ext_ack *extack)
{
	u32 want = nla_get_u32(attr), id = want;
	struct ipump_card *card;

	card = ipump_card_get_next(&id);
	if (card && id != want) {
		ipump_card_put(card);
		card = NULL;
	}
	if (!card) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "no such card");
		return ERR_PTR(-ENODEV);
	}
	return card;
}

/* Messages for the errors the core gives without a reason. */
static void ipump_nl_errno_msg(struct netlink_ext_ack *extack, int err)
{
	switch (err) {
	case -ENODEV:
		NL_SET_ERR_MSG(extack, "card removed");
		break;
	case -EIO:
		NL_SET_ERR_MSG(extack, "card did not answer: channel in fault");
		break;
	default:
		break;
	}
}

/* The attribute that carried what @why refuses, for the extack offset. */
/* The member of the PROGRAMME nest a programme refusal is about, or 0. */
static const u8 ipump_nl_reason_prog_attr[IPUMP_REASON_COUNT] = {
	[IPUMP_REASON_ROUTE] = IPUMP_A_PROG_ROUTE,
	[IPUMP_REASON_ROUTE_CHANGE] = IPUMP_A_PROG_ROUTE,
	[IPUMP_REASON_FLAGS] = IPUMP_A_PROG_FLAGS,
	[IPUMP_REASON_PCA_FIELDS] = IPUMP_A_PROG_FLAGS,
	[IPUMP_REASON_LEASE_LOSS_MODE] = IPUMP_A_PROG_LEASE_LOSS_MODE,
	[IPUMP_REASON_LEASE_LOSS_KVO] = IPUMP_A_PROG_LEASE_LOSS_MODE,
	[IPUMP_REASON_LEASE_LOSS_BASAL] = IPUMP_A_PROG_LEASE_LOSS_MODE,
	[IPUMP_REASON_RATE_ZERO] = IPUMP_A_PROG_BASAL_RATE_NL_PER_H,
	[IPUMP_REASON_RATE_LOW] = IPUMP_A_PROG_BASAL_RATE_NL_PER_H,
	[IPUMP_REASON_RATE_HIGH] = IPUMP_A_PROG_BASAL_RATE_NL_PER_H,
	[IPUMP_REASON_BASAL_OVER_DOSE] = IPUMP_A_PROG_BASAL_RATE_NL_PER_H,
	[IPUMP_REASON_KVO_LOW] = IPUMP_A_PROG_KVO_RATE_NL_PER_H,
	[IPUMP_REASON_KVO_HIGH] = IPUMP_A_PROG_KVO_RATE_NL_PER_H,
	[IPUMP_REASON_KVO_ABOVE_BASAL] = IPUMP_A_PROG_KVO_RATE_NL_PER_H,
	[IPUMP_REASON_SPINAL_KVO] = IPUMP_A_PROG_KVO_RATE_NL_PER_H,
	[IPUMP_REASON_VTBI_ZERO] = IPUMP_A_PROG_VTBI_NL,
	[IPUMP_REASON_VTBI_UNLIMITED] = IPUMP_A_PROG_VTBI_NL,
	[IPUMP_REASON_VTBI_HIGH] = IPUMP_A_PROG_VTBI_NL,
	[IPUMP_REASON_BOLUS_VOLUME_ZERO] = IPUMP_A_PROG_BOLUS_VOLUME_NL,
	[IPUMP_REASON_BOLUS_VOLUME_HIGH] = IPUMP_A_PROG_BOLUS_VOLUME_NL,
	[IPUMP_REASON_BOLUS_OVER_DOSE] = IPUMP_A_PROG_BOLUS_VOLUME_NL,
	[IPUMP_REASON_BOLUS_RATE_ZERO] = IPUMP_A_PROG_BOLUS_RATE_NL_PER_H,
	[IPUMP_REASON_BOLUS_RATE_LOW] = IPUMP_A_PROG_BOLUS_RATE_NL_PER_H,
	[IPUMP_REASON_BOLUS_RATE_HIGH] = IPUMP_A_PROG_BOLUS_RATE_NL_PER_H,
	[IPUMP_REASON_LOCKOUT_ZERO] = IPUMP_A_PROG_LOCKOUT_MS,
	[IPUMP_REASON_LOCKOUT_SHORT] = IPUMP_A_PROG_LOCKOUT_MS,
	[IPUMP_REASON_LOCKOUT_LONG] = IPUMP_A_PROG_LOCKOUT_MS,
	[IPUMP_REASON_BOLUS_COUNT_ZERO] = IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR,
	[IPUMP_REASON_BOLUS_COUNT_HIGH] = IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR,
	[IPUMP_REASON_DOSE_1H_HIGH] = IPUMP_A_PROG_MAX_DOSE_1H_NL,
	[IPUMP_REASON_DOSE_4H_HIGH] = IPUMP_A_PROG_MAX_DOSE_4H_NL,
	[IPUMP_REASON_DOSE_ORDER] = IPUMP_A_PROG_MAX_DOSE_4H_NL,
};

static const struct nlattr *ipump_nl_reason_attr(struct nlattr **tb,
						 enum ipump_reason why)
{
	const struct nlattr *attr = NULL;

	/* a programme's field: the member of the nest, not the whole nest */
	if (tb[IPUMP_A_PROGRAMME] && why < IPUMP_REASON_COUNT &&
	    ipump_nl_reason_prog_attr[why]) {
		attr = nla_find_nested(tb[IPUMP_A_PROGRAMME],
				       ipump_nl_reason_prog_attr[why]);
		if (attr)
			return attr;
	}
	switch (why) {
	case IPUMP_REASON_GENERATION:
		attr = tb[IPUMP_A_GENERATION];
		break;
	case IPUMP_REASON_AUDIO_PAUSE:
		attr = tb[IPUMP_A_DURATION_MS];
		break;
	case IPUMP_REASON_BOLUS_VOLUME_ZERO:
	case IPUMP_REASON_BOLUS_VOLUME_HIGH:
	case IPUMP_REASON_BOLUS_OVER_DOSE:
		/* a clinician bolus; a programme's bolus: its nest, below */
		attr = tb[IPUMP_A_BOLUS_VOLUME_NL];
		break;
	case IPUMP_REASON_BOLUS_RATE_ZERO:
	case IPUMP_REASON_BOLUS_RATE_LOW:
	case IPUMP_REASON_BOLUS_RATE_HIGH:
		attr = tb[IPUMP_A_BOLUS_RATE_NL_PER_H];
		break;
	case IPUMP_REASON_STATE:
	case IPUMP_REASON_NO_LEASE:
	case IPUMP_REASON_LEASE_EXPIRED:
	case IPUMP_REASON_LEASE_HELD:
	case IPUMP_REASON_LEASE_ORPHANED:
	case IPUMP_REASON_LOCKOUT:
	case IPUMP_REASON_HOURLY_COUNT:
		/* the channel's state, not a value of the request */
		return tb[IPUMP_A_CHANNEL] ?: tb[IPUMP_A_CARD_ID];
	default:
		break;
	}
	return attr ?: tb[IPUMP_A_PROGRAMME] ?: tb[IPUMP_A_LIMITS] ?:
	       tb[IPUMP_A_BOLUS_KIND] ?: tb[IPUMP_A_CHANNEL] ?:
	       tb[IPUMP_A_CARD_ID];
}

/**
 * struct ipump_nl_reason_cookie - the extended ack's cookie of a refusal
 * @nla: attribute header: IPUMP_A_REASON, length of a u32
 * @reason: enum ipump_reason
 *
 * An attribute stream of one attribute, so it can grow.
 */
struct ipump_nl_reason_cookie {
	struct nlattr nla;
	u32 reason;
};

static_assert(sizeof(struct ipump_nl_reason_cookie) == NLA_HDRLEN + sizeof(u32));
static_assert(sizeof(struct ipump_nl_reason_cookie) <= NETLINK_MAX_COOKIE_LEN);

/*
 * 6.1's NL_SET_ERR_MSG*() copy a string literal into a static array and
 * have no formatted variant; ipump_reason_str() returns static strings,
 * so setting the message pointer as the macros do, with that pointer, is
 * the same thing with a message chosen at run time (lib/nlattr.c does
 * the same with a policy's reject_message).
 */
static void ipump_nl_set_reason(struct netlink_ext_ack *extack,
				const struct nlattr *attr,
				enum ipump_reason why)
{
	struct ipump_nl_reason_cookie c = {
		.nla = {
			.nla_len = nla_attr_size(sizeof(u32)),
			.nla_type = IPUMP_A_REASON,
		},
		.reason = why,
	};
	const char *msg = ipump_reason_str(why);

	do_trace_netlink_extack(msg);
	if (!extack)
		return;
	extack->_msg = msg;
	extack->bad_attr = attr;
	extack->policy = NULL;
	memcpy(extack->cookie, &c, sizeof(c));
	extack->cookie_len = sizeof(c);
}

/* After a core call: explain a refusal. Returns @ret. */
static int ipump_nl_result(struct genl_info *info,
			   const struct ipump_req *req, int ret)
{
	if (!ret)
		return 0;
	if (req->reason != IPUMP_REASON_NONE)
		ipump_nl_set_reason(info->extack,
				    ipump_nl_reason_attr(info->attrs,
							 req->reason),
				    req->reason);
	else
		ipump_nl_errno_msg(info->extack, ret);
	return ret;
}

static struct ipump_req ipump_nl_req(struct genl_info *info)
{
	return (struct ipump_req){
		.owner = ipump_nl_owner(info->snd_portid),
		.reason = IPUMP_REASON_NONE,
	};
}

/*
 * Permission, required attributes, then the card (info->user_ptr[0],
 * released by ipump_nl_post_doit()) and its channel number.
 */
static int ipump_nl_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			     struct genl_info *info)
{
	unsigned long required = 0;
	struct nlattr *ch_attr = info->attrs[IPUMP_A_CHANNEL];
	struct ipump_card *card;
	unsigned int attr;
	int ret;

	ret = ipump_nl_check_perm(skb, ops->internal_flags, info->extack);
	if (ret)
		return ret;
	if (ops->cmd < ARRAY_SIZE(ipump_nl_required))
		required = ipump_nl_required[ops->cmd];
	for_each_set_bit(attr, &required, IPUMP_A_MAX + 1) {
		if (GENL_REQ_ATTR_CHECK(info, attr)) {
			GENL_SET_ERR_MSG(info, "missing required attribute");
			return -EINVAL;
		}
	}
	/* 32-bit: the twin port id shares the owner cookie (ipump_nl_owner()) */
	if (BITS_PER_LONG < 64 && (ops->flags & GENL_ADMIN_PERM) &&
	    xa_load(&ipump_nl_holders, info->snd_portid ^ BIT(31))) {
		GENL_SET_ERR_MSG(info, "port id shares a lease holder's cookie");
		return -EADDRINUSE;
	}
	if (!info->attrs[IPUMP_A_CARD_ID])
		return -EINVAL;
	card = ipump_nl_card_get(info->attrs[IPUMP_A_CARD_ID], info->extack);
	if (IS_ERR(card))
		return PTR_ERR(card);
	/* num_channels never changes once the card is visible */
	if (ch_attr && nla_get_u32(ch_attr) != IPUMP_CHANNEL_NONE &&
	    nla_get_u32(ch_attr) >= card->num_channels) {
		NL_SET_ERR_MSG_ATTR(info->extack, ch_attr,
				    "no such channel on this card");
		ipump_card_put(card);
		return -EINVAL;
	}
	info->user_ptr[0] = card;
	return 0;
}

static void ipump_nl_post_doit(const struct genl_ops *ops,
			       struct sk_buff *skb, struct genl_info *info)
{
	if (info->user_ptr[0])
		ipump_card_put(info->user_ptr[0]);
}

static u32 ipump_nl_channel(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[IPUMP_A_CHANNEL];

	return attr ? nla_get_u32(attr) : IPUMP_CHANNEL_NONE;
}

static u64 ipump_nl_generation(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[IPUMP_A_GENERATION];

	return attr ? nla_get_u64(attr) : 0;
}

/* ---- messages */

static int ipump_nl_put_card(struct sk_buff *skb, struct ipump_card *card)
{
	struct ipump_card_info info;
	struct nlattr *nest;
	u64 alarms;

	scoped_guard(mutex, &card->lock) {
		if (card->dead)
			return -ENODEV;
		ipump_card_get_info(card, &info);
		alarms = card->alarms;
	}

	if (nla_put_u32(skb, IPUMP_A_CARD_ID, info.card))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, IPUMP_A_CARD);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, IPUMP_A_CARD_SERIAL, info.serial,
			      IPUMP_A_CARD_PAD) ||
	    nla_put_u32(skb, IPUMP_A_CARD_NUM_CHANNELS, info.num_channels) ||
	    nla_put_u32(skb, IPUMP_A_CARD_FW_VERSION, info.fw_version) ||
	    nla_put_u32(skb, IPUMP_A_CARD_MAP_VERSION, info.map_version) ||
	    nla_put_u32(skb, IPUMP_A_CARD_NL_PER_STEP, info.nl_per_step) ||
	    nla_put_u32(skb, IPUMP_A_CARD_CLOCK, info.clock) ||
	    nla_put_u32(skb, IPUMP_A_CARD_WDT_PERIOD_MS, info.wdt_period_ms) ||
	    nla_put_u64_64bit(skb, IPUMP_A_CARD_ALARMS, alarms,
			      IPUMP_A_CARD_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_CARD_LOG_OLDEST_SEQ,
			      ipump_log_oldest_seq(&card->log),
			      IPUMP_A_CARD_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_CARD_LOG_NEXT_SEQ,
			      ipump_log_next_seq(&card->log),
			      IPUMP_A_CARD_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_CARD_LOG_WRAPPED,
			      ipump_log_wrapped(&card->log),
			      IPUMP_A_CARD_PAD) ||
	    nla_put_string(skb, IPUMP_A_CARD_NAME, dev_name(&card->dev))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* One CARD_GET message; -ENODEV for a dead card, -EMSGSIZE. */
static int ipump_nl_card_msg(struct sk_buff *skb, struct ipump_card *card,
			     u32 portid, u32 seq, int flags,
			     struct netlink_callback *cb)
{
	void *hdr;
	int ret;

	hdr = genlmsg_put(skb, portid, seq, &ipump_nl_family, flags,
			  IPUMP_CMD_CARD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	ret = ipump_nl_put_card(skb, card);
	if (ret) {
		genlmsg_cancel(skb, hdr);
		return ret;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/**
 * ipump_nl_put_channel() - the attributes of a CHANNEL_GET message
 * @skb: the message
 * @card: the card
 * @ch: the channel, < card->num_channels
 * @owner: the asker's cookie (for IPUMP_A_ST_LEASE)
 * @partial: a dump: a status that cannot be read is left out (the channel
 *	still appears) instead of failing
 *
 * CARD_ID, CHANNEL, the STATUS nest and, when a programme is loaded, its
 * GENERATION and the PROGRAMME nest. Status and programme are read under
 * two holds of the card lock: the programme's GENERATION is the one of
 * the PROGRAMME nest, the status's own is in IPUMP_A_ST_GENERATION.
 *
 * Return: 0; -ENODEV for a dead card; -EMSGSIZE; another error of the
 * status read unless @partial.
 */
static int ipump_nl_put_channel(struct sk_buff *skb, struct ipump_card *card,
				u32 ch, const void *owner, bool partial)
{
	struct ipump_channel_status st = { .channel = ch };
	struct ipump_programme p;
	int st_ret, p_ret;
	u64 gen;

	st_ret = ipump_channel_get_status(card, &st, owner);
	if (st_ret == -ENODEV || (st_ret && !partial))
		return st_ret;
	p_ret = ipump_ch_programme_get(card, ch, &gen, &p);
	if (p_ret == -ENODEV)
		return p_ret;

	if (nla_put_u32(skb, IPUMP_A_CARD_ID, card->id) ||
	    nla_put_u32(skb, IPUMP_A_CHANNEL, ch))
		return -EMSGSIZE;
	if (!st_ret &&
	    ipump_nl_put_fields(skb, IPUMP_A_STATUS, IPUMP_A_ST_PAD,
				ipump_nl_st_fields,
				ARRAY_SIZE(ipump_nl_st_fields), &st))
		return -EMSGSIZE;
	if (!p_ret &&
	    (nla_put_u64_64bit(skb, IPUMP_A_GENERATION, gen, IPUMP_A_PAD) ||
	     ipump_nl_put_fields(skb, IPUMP_A_PROGRAMME, IPUMP_A_PROG_PAD,
				 ipump_nl_prog_fields,
				 ARRAY_SIZE(ipump_nl_prog_fields), &p)))
		return -EMSGSIZE;
	return 0;
}

static int ipump_nl_put_event(struct sk_buff *skb, const struct ipump_event *ev)
{
	struct nlattr *nest;

	if (nla_put_u32(skb, IPUMP_A_CARD_ID, ev->card))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, IPUMP_A_EVENT);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, IPUMP_A_EV_SEQ, ev->seq, IPUMP_A_EV_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_EV_TIMESTAMP_NS, ev->timestamp_ns,
			      IPUMP_A_EV_PAD) ||
	    nla_put_u32(skb, IPUMP_A_EV_CARD, ev->card) ||
	    nla_put_u32(skb, IPUMP_A_EV_TYPE, ev->type) ||
	    nla_put_u32(skb, IPUMP_A_EV_CHANNEL, ev->channel) ||
	    nla_put_u32(skb, IPUMP_A_EV_PRIORITY, ev->priority) ||
	    nla_put_u64_64bit(skb, IPUMP_A_EV_VALUE0, ev->value[0],
			      IPUMP_A_EV_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_EV_VALUE1, ev->value[1],
			      IPUMP_A_EV_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_EV_VALUE2, ev->value[2],
			      IPUMP_A_EV_PAD) ||
	    nla_put_u64_64bit(skb, IPUMP_A_EV_VALUE3, ev->value[3],
			      IPUMP_A_EV_PAD) ||
	    nla_put_u32(skb, IPUMP_A_EV_FLAGS, ev->flags)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Payload of one event message (ipump_nl_put_event()). */
static size_t ipump_nl_event_size(void)
{
	return nla_total_size(sizeof(u32)) +			/* CARD_ID */
	       nla_total_size(0) +				/* EVENT */
	       6 * nla_total_size_64bit(sizeof(u64)) +		/* SEQ .. VALUE3 */
	       5 * nla_total_size(sizeof(u32));		/* CARD .. FLAGS */
}

static int ipump_nl_event_msg(struct sk_buff *skb, u32 portid, u32 seq,
			      int flags, u8 cmd, const struct ipump_event *ev)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &ipump_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (ipump_nl_put_event(skb, ev)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * A reply to a change that the core has made already: allocated before
 * the core call, so that success is never reported as -ENOMEM.
 */
static struct sk_buff *ipump_nl_reply_new(struct genl_info *info, void **hdr)
{
	struct sk_buff *msg;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &ipump_nl_family, 0,
				 info->genlhdr->cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send the reply of a change that was made: CARD_ID, CHANNEL and one u64.
 * Always 0: if the reply cannot be queued (receive buffer full), the
 * socket reports ENOBUFS and the console reads the channel again; the
 * change is never reported as failed.
 */
static int ipump_nl_reply_u64(struct genl_info *info, struct sk_buff *msg,
			      void *hdr, int attr, u64 val)
{
	struct ipump_card *card = info->user_ptr[0];

	if (nla_put_u32(msg, IPUMP_A_CARD_ID, card->id) ||
	    nla_put_u32(msg, IPUMP_A_CHANNEL, ipump_nl_channel(info)) ||
	    nla_put_u64_64bit(msg, attr, val, IPUMP_A_PAD)) {
		nlmsg_free(msg);
		return 0;
	}
	genlmsg_end(msg, hdr);
	genlmsg_reply(msg, info);
	return 0;
}

/* ---- do handlers (ipump_nl_pre_doit() ran: permission, card, channel) */

static int ipump_nl_card_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = ipump_nl_card_msg(msg, card, info->snd_portid, info->snd_seq, 0,
				NULL);
	if (ret) {
		nlmsg_free(msg);
		ipump_nl_errno_msg(info->extack, ret);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int ipump_nl_channel_get_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ipump_nl_family, 0,
				IPUMP_CMD_CHANNEL_GET);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto err_free;
	}
	ret = ipump_nl_put_channel(msg, card, ipump_nl_channel(info),
				   ipump_nl_owner(info->snd_portid), false);
	if (ret)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	ipump_nl_errno_msg(info->extack, ret);
	return ret;
}

/* PROGRAMME_SET and TITRATE; the reply carries the new GENERATION. */
static int ipump_nl_programme_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct ipump_req req = ipump_nl_req(info);
	u64 gen = ipump_nl_generation(info);
	struct ipump_programme p;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = ipump_nl_get_fields(info, IPUMP_A_PROGRAMME, ipump_nl_prog_policy,
				  IPUMP_A_PROG_MAX, ipump_nl_prog_fields,
				  ARRAY_SIZE(ipump_nl_prog_fields), &p,
				  sizeof(p));
	if (ret)
		return ret;
	msg = ipump_nl_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;
	if (info->genlhdr->cmd == IPUMP_CMD_TITRATE)
		ret = ipump_ch_titrate(card, ipump_nl_channel(info), &req, &gen,
				       &p);
	else
		ret = ipump_ch_programme_set(card, ipump_nl_channel(info), &req,
					     &gen, &p);
	if (ret) {
		nlmsg_free(msg);
		return ipump_nl_result(info, &req, ret);
	}
	return ipump_nl_reply_u64(info, msg, hdr, IPUMP_A_GENERATION, gen);
}

/* Commands on a channel (or, ACK, the card) without a reply payload. */
static int ipump_nl_channel_cmd_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct ipump_req req = ipump_nl_req(info);
	u64 gen = ipump_nl_generation(info);
	u32 ch = ipump_nl_channel(info);
	int ret;

	switch (info->genlhdr->cmd) {
	case IPUMP_CMD_START:
		ret = ipump_ch_start(card, ch, &req, gen);
		break;
	case IPUMP_CMD_STOP:
		ret = ipump_ch_stop(card, ch, &req);
		break;
	case IPUMP_CMD_PAUSE:
		ret = ipump_ch_pause(card, ch, &req);
		break;
	case IPUMP_CMD_RESUME:
		ret = ipump_ch_resume(card, ch, &req, gen);
		break;
	case IPUMP_CMD_CLEAR:
		ret = ipump_ch_clear(card, ch, &req, gen);
		break;
	case IPUMP_CMD_ACK:
		/* no CHANNEL: IPUMP_CHANNEL_NONE, the card-level alarms */
		ret = ipump_ch_ack(card, ch, &req);
		break;
	case IPUMP_CMD_AUDIO_PAUSE:
		ret = ipump_ch_audio_pause(card, ch, &req,
					   nla_get_u32(info->attrs[IPUMP_A_DURATION_MS]));
		break;
	default:
		return -EOPNOTSUPP;
	}
	return ipump_nl_result(info, &req, ret);
}

static int ipump_nl_bolus_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct ipump_req req = ipump_nl_req(info);
	struct nlattr **tb = info->attrs;
	u32 kind = nla_get_u32(tb[IPUMP_A_BOLUS_KIND]);
	u32 volume = 0, rate = 0;
	int ret;

	if (kind == IPUMP_BOLUS_CLINICIAN &&
	    (GENL_REQ_ATTR_CHECK(info, IPUMP_A_BOLUS_VOLUME_NL) ||
	     GENL_REQ_ATTR_CHECK(info, IPUMP_A_BOLUS_RATE_NL_PER_H))) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[IPUMP_A_BOLUS_KIND],
				    "a clinician bolus needs its volume and rate");
		return -EINVAL;
	}
	/* a demand takes the programme's: the core refuses anything but 0 */
	if (tb[IPUMP_A_BOLUS_VOLUME_NL])
		volume = nla_get_u32(tb[IPUMP_A_BOLUS_VOLUME_NL]);
	if (tb[IPUMP_A_BOLUS_RATE_NL_PER_H])
		rate = nla_get_u32(tb[IPUMP_A_BOLUS_RATE_NL_PER_H]);
	ret = ipump_ch_bolus(card, ipump_nl_channel(info), &req, kind, volume,
			     rate);
	return ipump_nl_result(info, &req, ret);
}

/* The reply carries the volume of the cancelled bolus the card counted. */
static int ipump_nl_bolus_cancel_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct ipump_req req = ipump_nl_req(info);
	struct sk_buff *msg;
	u64 delivered = 0;
	void *hdr;
	int ret;

	msg = ipump_nl_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;
	ret = ipump_ch_bolus_cancel(card, ipump_nl_channel(info), &req,
				    &delivered);
	if (ret) {
		nlmsg_free(msg);
		return ipump_nl_result(info, &req, ret);
	}
	return ipump_nl_reply_u64(info, msg, hdr, IPUMP_A_RESULT_NL, delivered);
}

/*
 * Remember that this socket may hold leases, for NETLINK_URELEASE. Called
 * before the core can give it one. The socket cannot be released while
 * its own request is being handled (sendmsg holds the file), so the entry
 * is there before the socket's URELEASE looks for it.
 */
static int ipump_nl_track_holder(struct genl_info *info)
{
	int ret;

	ret = xa_err(xa_store(&ipump_nl_holders, info->snd_portid,
			      xa_mk_value(0), GFP_KERNEL));
	if (ret)
		GENL_SET_ERR_MSG(info, "cannot track the lease holder");
	return ret;
}

static int ipump_nl_lease_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *period_attr = info->attrs[IPUMP_A_LEASE_PERIOD_MS];
	struct ipump_card *card = info->user_ptr[0];
	struct ipump_req req = ipump_nl_req(info);
	u32 period = period_attr ? nla_get_u32(period_attr) : 0;
	enum ipump_lease_op op;
	int ret;

	switch (info->genlhdr->cmd) {
	case IPUMP_CMD_LEASE_ACQUIRE:
		op = IPUMP_LEASE_OP_ACQUIRE;
		break;
	case IPUMP_CMD_LEASE_TAKEOVER:
		op = IPUMP_LEASE_OP_TAKEOVER;
		break;
	case IPUMP_CMD_LEASE_RENEW:
		op = IPUMP_LEASE_OP_RENEW;
		break;
	case IPUMP_CMD_LEASE_RELEASE:
		op = IPUMP_LEASE_OP_RELEASE;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (op == IPUMP_LEASE_OP_ACQUIRE || op == IPUMP_LEASE_OP_TAKEOVER) {
		ret = ipump_nl_track_holder(info);
		if (ret)
			return ret;
	}
	ret = ipump_ch_lease(card, ipump_nl_channel(info), &req, op, period);
	return ipump_nl_result(info, &req, ret);
}

/* CAP_SYS_ADMIN was checked by ipump_nl_pre_doit() (IPUMP_NL_F_SYS_ADMIN). */
static int ipump_nl_limits_set_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	struct ipump_req req = ipump_nl_req(info);
	struct ipump_hard_limits l;
	int ret;

	ret = ipump_nl_get_fields(info, IPUMP_A_LIMITS, ipump_nl_lim_policy,
				  IPUMP_A_LIM_MAX, ipump_nl_lim_fields,
				  ARRAY_SIZE(ipump_nl_lim_fields), &l,
				  sizeof(l));
	if (ret)
		return ret;
	ret = ipump_ch_limits_set(card, ipump_nl_channel(info), &req, &l);
	return ipump_nl_result(info, &req, ret);
}

static int ipump_nl_limits_get_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct ipump_card *card = info->user_ptr[0];
	u32 ch = ipump_nl_channel(info);
	struct ipump_hard_limits l;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = ipump_ch_limits_get(card, ch, &l);
	if (ret) {
		ipump_nl_errno_msg(info->extack, ret);
		return ret;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ipump_nl_family, 0,
				IPUMP_CMD_LIMITS_GET);
	if (!hdr ||
	    nla_put_u32(msg, IPUMP_A_CARD_ID, card->id) ||
	    nla_put_u32(msg, IPUMP_A_CHANNEL, ch) ||
	    ipump_nl_put_fields(msg, IPUMP_A_LIMITS, IPUMP_A_LIM_PAD,
				ipump_nl_lim_fields,
				ARRAY_SIZE(ipump_nl_lim_fields), &l)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* ---- dumps */

/*
 * 6.1 gives a dump's start callback no extended ack (cb->extack is set
 * during the dump callback only), so start refusals carry an errno only.
 */

/**
 * struct ipump_nl_walk - where a card or channel dump resumes (cb->ctx)
 * @card_id: the next card to look at (the lowest id >= it)
 * @channel: the next channel of that card (channel dumps)
 */
struct ipump_nl_walk {
	u32 card_id;
	u32 channel;
};

static_assert(sizeof(struct ipump_nl_walk) <=
	      sizeof_field(struct netlink_callback, ctx));

static struct ipump_nl_walk *ipump_nl_walk(struct netlink_callback *cb)
{
	return (struct ipump_nl_walk *)cb->ctx;
}

/* CARD_GET and CHANNEL_GET dumps: permission; an optional card filter. */
static int ipump_nl_walk_start(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *di = genl_dumpit_info(cb);
	struct nlattr *card_attr = di->attrs[IPUMP_A_CARD_ID];
	struct ipump_nl_walk *w = ipump_nl_walk(cb);

	if (!ipump_nl_may_read(cb->skb))
		return -EPERM;
	w->card_id = card_attr ? nla_get_u32(card_attr) : 0;
	w->channel = 0;
	return 0;
}

/*
 * The card to dump next, referenced, or NULL at the end. Cards removed
 * meanwhile are simply not found; a card found may be dead (-ENODEV from
 * the core: the caller skips it).
 */
static struct ipump_card *ipump_nl_walk_card(struct netlink_callback *cb)
{
	struct nlattr *filter = genl_dumpit_info(cb)->attrs[IPUMP_A_CARD_ID];
	struct ipump_nl_walk *w = ipump_nl_walk(cb);
	struct ipump_card *card;
	u32 id = w->card_id;

	card = ipump_card_get_next(&id);
	if (!card)
		return NULL;
	if (filter && id != nla_get_u32(filter)) {
		ipump_card_put(card);
		return NULL;
	}
	if (id != w->card_id) {
		w->card_id = id;
		w->channel = 0;
	}
	return card;
}

/* Done with the current card: on to the next id. */
static void ipump_nl_walk_next(struct ipump_nl_walk *w)
{
	w->card_id++;
	w->channel = 0;
}

/* A dump callback's return value: more to come, done, or an error. */
static int ipump_nl_dump_ret(struct sk_buff *skb, int ret)
{
	/* the skb is full: continue in the next one, from where it stopped */
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

static int ipump_nl_card_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct ipump_nl_walk *w = ipump_nl_walk(cb);
	struct ipump_card *card;
	int ret = 0;

	cb->seq = ipump_nl_cards_seq();
	while ((card = ipump_nl_walk_card(cb))) {
		ret = ipump_nl_card_msg(skb, card, NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, NLM_F_MULTI, cb);
		ipump_card_put(card);
		if (ret == -EMSGSIZE)
			break;
		ret = 0;	/* a dead card is skipped */
		ipump_nl_walk_next(w);
	}
	return ipump_nl_dump_ret(skb, ret);
}

/* One channel's message of a dump: 0, -ENODEV (dead card) or -EMSGSIZE. */
static int ipump_nl_channel_dump_one(struct sk_buff *skb,
				     struct netlink_callback *cb,
				     struct ipump_card *card, u32 ch)
{
	u32 portid = NETLINK_CB(cb->skb).portid;
	void *hdr;
	int ret;

	hdr = genlmsg_put(skb, portid, cb->nlh->nlmsg_seq, &ipump_nl_family,
			  NLM_F_MULTI, IPUMP_CMD_CHANNEL_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	ret = ipump_nl_put_channel(skb, card, ch, ipump_nl_owner(portid), true);
	if (ret) {
		genlmsg_cancel(skb, hdr);
		return ret;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int ipump_nl_channel_get_dumpit(struct sk_buff *skb,
				       struct netlink_callback *cb)
{
	struct nlattr *ch_filter = genl_dumpit_info(cb)->attrs[IPUMP_A_CHANNEL];
	struct ipump_nl_walk *w = ipump_nl_walk(cb);
	struct ipump_card *card;
	int ret = 0;

	cb->seq = ipump_nl_cards_seq();
	while ((card = ipump_nl_walk_card(cb))) {
		for (; w->channel < card->num_channels; w->channel++) {
			if (ch_filter && w->channel != nla_get_u32(ch_filter))
				continue;
			ret = ipump_nl_channel_dump_one(skb, cb, card,
							w->channel);
			if (ret)
				break;
		}
		ipump_card_put(card);
		if (ret == -EMSGSIZE)
			break;
		ret = 0;	/* a dead card is skipped */
		ipump_nl_walk_next(w);
	}
	return ipump_nl_dump_ret(skb, ret);
}

/* records copied from the log per ipump_log_copy() call */
#define IPUMP_NL_LOG_BATCH	8

/**
 * struct ipump_nl_log_dump - state of a LOG_GET dump (cb->ctx)
 * @card: the card, referenced from start to done: a card removed during
 *	the dump keeps its log readable, and its id cannot be taken over by
 *	a new card's log mid-dump
 * @next_seq: the next record to send
 * @end_seq: one past the last record to send: the log's next sequence
 *	number when the dump started, so the dump ends
 */
struct ipump_nl_log_dump {
	struct ipump_card *card;
	u64 next_seq;
	u64 end_seq;
};

static_assert(sizeof(struct ipump_nl_log_dump) <=
	      sizeof_field(struct netlink_callback, ctx));

static struct ipump_nl_log_dump *ipump_nl_log_dump(struct netlink_callback *cb)
{
	return (struct ipump_nl_log_dump *)cb->ctx;
}

static int ipump_nl_log_start(struct netlink_callback *cb)
{
	struct nlattr **tb = genl_dumpit_info(cb)->attrs;
	struct ipump_nl_log_dump *d = ipump_nl_log_dump(cb);
	struct ipump_card *card;

	if (!ipump_nl_may_read(cb->skb))
		return -EPERM;
	if (!tb[IPUMP_A_CARD_ID])
		return -EINVAL;
	card = ipump_nl_card_get(tb[IPUMP_A_CARD_ID], NULL);
	if (IS_ERR(card))
		return PTR_ERR(card);
	d->card = card;
	d->end_seq = ipump_log_next_seq(&card->log);
	if (tb[IPUMP_A_LOG_FROM_SEQ])
		d->next_seq = max_t(u64, nla_get_u64(tb[IPUMP_A_LOG_FROM_SEQ]), 1);
	else
		d->next_seq = ipump_log_oldest_seq(&card->log);
	return 0;
}

static int ipump_nl_log_done(struct netlink_callback *cb)
{
	struct ipump_nl_log_dump *d = ipump_nl_log_dump(cb);

	if (d->card)
		ipump_card_put(d->card);
	d->card = NULL;
	return 0;
}

/*
 * Records d->next_seq .. @oldest - 1 fell off the ring: send one OVERFLOW
 * record for them (seq 0, ipump_log_loss_event()) and continue at @oldest.
 * Nothing is recorded before it has been sent: if the skb is full, the next
 * call finds the same gap again (perhaps a larger one) and reports it then.
 */
static int ipump_nl_log_gap(struct sk_buff *skb, struct netlink_callback *cb,
			    struct ipump_nl_log_dump *d, u64 oldest)
{
	struct ipump_log *log = &d->card->log;
	u64 last = min(oldest, d->end_seq) - 1;
	struct ipump_event loss, first;
	u64 unused;
	int ret;

	/* the loss record's time: that of the first record after the gap */
	if (ipump_log_copy(log, oldest, &first, 1, &unused) != 1)
		first.timestamp_ns = 0;
	ipump_log_loss_event(log, &loss, d->next_seq, last, first.timestamp_ns);
	ret = ipump_nl_event_msg(skb, NETLINK_CB(cb->skb).portid,
				 cb->nlh->nlmsg_seq, NLM_F_MULTI,
				 IPUMP_CMD_LOG_GET, &loss);
	if (ret)
		return ret;
	d->next_seq = last + 1;
	return 0;
}

static int ipump_nl_log_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ipump_nl_log_dump *d = ipump_nl_log_dump(cb);
	struct ipump_event batch[IPUMP_NL_LOG_BATCH];
	struct ipump_log *log = &d->card->log;
	unsigned int max;
	int n, i, ret = 0;
	u64 next;

	while (!ret && d->next_seq < d->end_seq) {
		max = min_t(u64, ARRAY_SIZE(batch), d->end_seq - d->next_seq);
		n = ipump_log_copy(log, d->next_seq, batch, max, &next);
		if (n == -ERANGE) {
			ret = ipump_nl_log_gap(skb, cb, d, next);
			continue;
		}
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			ret = ipump_nl_event_msg(skb, NETLINK_CB(cb->skb).portid,
						 cb->nlh->nlmsg_seq, NLM_F_MULTI,
						 IPUMP_CMD_LOG_GET, &batch[i]);
			if (ret)
				break;
			d->next_seq = batch[i].seq + 1;
		}
	}
	return ipump_nl_dump_ret(skb, ret);
}

/* ---- the family */

static const struct genl_ops ipump_nl_ops[] = {
	{
		.cmd = IPUMP_CMD_CARD_GET,
		.internal_flags = IPUMP_NL_F_READ,
		.policy = ipump_nl_card_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_card_get_doit,
		.start = ipump_nl_walk_start,
		.dumpit = ipump_nl_card_get_dumpit,
	},
	{
		.cmd = IPUMP_CMD_CHANNEL_GET,
		.internal_flags = IPUMP_NL_F_READ,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_get_doit,
		.start = ipump_nl_walk_start,
		.dumpit = ipump_nl_channel_get_dumpit,
	},
	{
		.cmd = IPUMP_CMD_PROGRAMME_SET,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_programme_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_programme_doit,
	},
	{
		.cmd = IPUMP_CMD_TITRATE,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_programme_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_programme_doit,
	},
	{
		.cmd = IPUMP_CMD_START,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_gen_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_STOP,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_PAUSE,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_RESUME,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_gen_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_CLEAR,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_gen_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_BOLUS,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_bolus_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_bolus_doit,
	},
	{
		.cmd = IPUMP_CMD_BOLUS_CANCEL,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_bolus_cancel_doit,
	},
	{
		.cmd = IPUMP_CMD_ACK,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_ack_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_AUDIO_PAUSE,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_audio_pause_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_channel_cmd_doit,
	},
	{
		.cmd = IPUMP_CMD_LEASE_ACQUIRE,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_lease_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_lease_doit,
	},
	{
		.cmd = IPUMP_CMD_LEASE_RENEW,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_lease_doit,
	},
	{
		.cmd = IPUMP_CMD_LEASE_RELEASE,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_lease_doit,
	},
	{
		.cmd = IPUMP_CMD_LEASE_TAKEOVER,
		.flags = GENL_ADMIN_PERM,
		.policy = ipump_nl_lease_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_lease_doit,
	},
	{
		.cmd = IPUMP_CMD_LIMITS_SET,
		.flags = GENL_ADMIN_PERM,
		.internal_flags = IPUMP_NL_F_SYS_ADMIN,
		.policy = ipump_nl_limits_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_limits_set_doit,
	},
	{
		.cmd = IPUMP_CMD_LIMITS_GET,
		.internal_flags = IPUMP_NL_F_READ,
		.policy = ipump_nl_channel_policy,
		.maxattr = IPUMP_A_MAX,
		.doit = ipump_nl_limits_get_doit,
	},
	{
		.cmd = IPUMP_CMD_LOG_GET,
		.internal_flags = IPUMP_NL_F_READ,
		.policy = ipump_nl_log_policy,
		.maxattr = IPUMP_A_MAX,
		.start = ipump_nl_log_start,
		.dumpit = ipump_nl_log_dumpit,
		.done = ipump_nl_log_done,
	},
};

/* .flags: set by ipump_netlink_init() from allow_unprivileged_read */
static struct genl_multicast_group ipump_nl_mcgrps[] __ro_after_init = {
	[IPUMP_NL_MCGRP_MONITOR] = { .name = IPUMP_GENL_MCGRP_MONITOR },
};

static struct genl_family ipump_nl_family __ro_after_init = {
	.name = IPUMP_GENL_NAME,
	.version = IPUMP_GENL_VERSION,
	.module = THIS_MODULE,
	.netnsok = false,		/* the initial network namespace only */
	.parallel_ops = true,		/* the core locks; see the top comment */
	.resv_start_op = 0,		/* strict: every command validated */
	.pre_doit = ipump_nl_pre_doit,
	.post_doit = ipump_nl_post_doit,
	.ops = ipump_nl_ops,
	.n_ops = ARRAY_SIZE(ipump_nl_ops),
	.mcgrps = ipump_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ipump_nl_mcgrps),
};

/* ---- the monitor group */

/*
 * The card log's notifier (ipump_log_set_notifier()): every record, in
 * sequence order, CARD_REMOVED included. Process context, under the log's
 * append_lock and often the card lock: it may sleep and allocate, and must
 * not call into the core. A record that cannot be sent is reported to the
 * listeners as ENOBUFS (genl_set_err()), which tells them to fetch it with
 * LOG_GET; a listener whose own queue overflows gets ENOBUFS from the
 * socket layer the same way.
 */
static void ipump_nl_log_notify(void *priv, const struct ipump_event *ev)
{
	struct sk_buff *msg;

	/* after the card entered, or left, the set ipump_card_get_next() walks */
	if (ev->type == IPUMP_EVENT_CARD_ADDED ||
	    ev->type == IPUMP_EVENT_CARD_REMOVED)
		atomic_inc(&ipump_nl_cards_gen);
	if (!READ_ONCE(ipump_nl_registered) || !ipump_nl_monitor_enabled ||
	    !genl_has_listeners(&ipump_nl_family, &init_net,
				IPUMP_NL_MCGRP_MONITOR))
		return;

	msg = genlmsg_new(ipump_nl_event_size(), GFP_KERNEL);
	if (!msg)
		goto err;
	if (ipump_nl_event_msg(msg, 0, 0, 0, IPUMP_CMD_EVENT, ev)) {
		nlmsg_free(msg);
		goto err;
	}
	/* -ESRCH: nobody listens any more; per-socket overruns: ENOBUFS */
	genlmsg_multicast(&ipump_nl_family, msg, 0, IPUMP_NL_MCGRP_MONITOR,
			  GFP_KERNEL);
	return;

err:
	genl_set_err(&ipump_nl_family, &init_net, 0, IPUMP_NL_MCGRP_MONITOR,
		     -ENOBUFS);
}

/**
 * ipump_netlink_card_init() - make a card's log feed the monitor group
 * @card: the card, before its first record (CARD_ADDED)
 *
 * Also counts the card set's change for dump consistency. May sleep.
 */
void ipump_netlink_card_init(struct ipump_card *card)
{
	atomic_inc(&ipump_nl_cards_gen);
	ipump_log_set_notifier(&card->log, ipump_nl_log_notify, card);
}

/* ---- sockets going away */

/*
 * NETLINK_URELEASE: a socket is released. The blocking notifier chain is
 * called from netlink_release() in process context with no netlink lock
 * held, so this may sleep (ipump_card_owner_gone() takes the card lock).
 * Only generic netlink sockets of the initial namespace that took a lease
 * make the cards look (ipump_nl_holders).
 *
 * The socket was unhashed just before: a new socket may already have
 * bound the same port id. If it took a lease in that window, this call
 * orphans it as well (it must take it over); the fail-safe direction.
 */
static int ipump_nl_urelease(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	const struct netlink_notify *n = ptr;
	struct ipump_card *card;
	const void *owner;
	u32 id;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;
	if (!xa_erase(&ipump_nl_holders, n->portid))
		return NOTIFY_DONE;

	owner = ipump_nl_owner(n->portid);
	for (id = 0; (card = ipump_card_get_next(&id)); id++) {
		ipump_card_owner_gone(card, owner);
		ipump_card_put(card);
	}
	return NOTIFY_OK;
}

static struct notifier_block ipump_nl_notifier = {
	.notifier_call = ipump_nl_urelease,
};

/**
 * ipump_netlink_init() - register the family and the release notifier
 *
 * The monitor group needs CAP_NET_ADMIN to join unless
 * allow_unprivileged_read was set at load time (the parameter is
 * read-only, so the group's flags match it for the module's lifetime).
 * Kernels without GENL_MCAST_CAP_NET_ADMIN (6.1.y before its backport)
 * cannot restrict joining: there the group stays silent unless
 * allow_unprivileged_read says that anyone may read.
 *
 * Return: 0 or a negative errno.
 */
int ipump_netlink_init(void)
{
	int ret;

#ifdef GENL_MCAST_CAP_NET_ADMIN
	if (!allow_unprivileged_read)
		ipump_nl_mcgrps[IPUMP_NL_MCGRP_MONITOR].flags =
			GENL_MCAST_CAP_NET_ADMIN;
	ipump_nl_monitor_enabled = true;
#else
	ipump_nl_monitor_enabled = allow_unprivileged_read;
	if (!ipump_nl_monitor_enabled)
		pr_warn("kernel cannot restrict the netlink monitor group: it stays silent (see allow_unprivileged_read)\n");
#endif

	ret = genl_register_family(&ipump_nl_family);
	if (ret)
		return ret;
	ret = netlink_register_notifier(&ipump_nl_notifier);
	if (ret) {
		genl_unregister_family(&ipump_nl_family);
		return ret;
	}
	WRITE_ONCE(ipump_nl_registered, true);
	return 0;
}

/**
 * ipump_netlink_exit() - unregister what ipump_netlink_init() registered
 *
 * After every card is unregistered (no record is appended any more).
 */
void ipump_netlink_exit(void)
{
	WRITE_ONCE(ipump_nl_registered, false);
	/* waits for a release notification in progress */
	netlink_unregister_notifier(&ipump_nl_notifier);
	genl_unregister_family(&ipump_nl_family);
	xa_destroy(&ipump_nl_holders);
}
