// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump therapy safety rules: pure logic, no locking, no allocation, no
 * card access. The core calls these under its card lock; every time is in
 * ns on the card clock. Documented in Documentation/safety/therapy-rules.rst
 * and Documentation/safety/therapy-state-machine.rst.
 */
#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/time64.h>

#include "ipump_rules.h"

/* The uAPI structures: fixed layout, multiple of 8 bytes, no holes. */
static_assert(sizeof(struct ipump_programme) == 96);
static_assert(offsetof(struct ipump_programme, vtbi_nl) == 16);
static_assert(offsetof(struct ipump_programme, max_dose_1h_nl) == 40);
static_assert(offsetof(struct ipump_programme, reserved) == 64);
static_assert(sizeof(struct ipump_hard_limits) == 96);
static_assert(offsetof(struct ipump_hard_limits, max_vtbi_nl) == 24);
static_assert(offsetof(struct ipump_hard_limits, max_boluses_per_hour) == 48);
static_assert(offsetof(struct ipump_hard_limits, reserved) == 72);
static_assert(IPUMP_REASON_COUNT == 49);
static_assert(IPUMP_ALARM_COUNT <= BITS_PER_LONG);

#define IPUMP_MS_PER_H		3600000ULL
#define IPUMP_BUCKET_NS		((u64)IPUMP_BUCKET_MS * NSEC_PER_MSEC)
#define IPUMP_HOUR_NS		(IPUMP_MS_PER_H * NSEC_PER_MSEC)

static u64 ipump_sat_add(u64 a, u64 b)
{
	u64 sum;

	return check_add_overflow(a, b, &sum) ? U64_MAX : sum;
}

static u64 ipump_ms_to_ns(u32 ms)
{
	return (u64)ms * NSEC_PER_MSEC;
}

static int ipump_refuse(enum ipump_reason *why, enum ipump_reason r, int err)
{
	if (why)
		*why = r;
	return err;
}

/* ---- hard limits and programmes */

/**
 * ipump_limits_defaults() - fill in the conservative default hard limits
 * @l: the limits to fill
 *
 * Used when the card's firmware properties give no value. The values are
 * the IPUMP_DEF_* constants, documented in
 * Documentation/safety/therapy-rules.rst; they pass ipump_limits_check().
 */
void ipump_limits_defaults(struct ipump_hard_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->min_rate_nl_per_h = IPUMP_DEF_MIN_RATE_NL_PER_H;
	l->max_rate_nl_per_h = IPUMP_DEF_MAX_RATE_NL_PER_H;
	l->max_kvo_rate_nl_per_h = IPUMP_DEF_MAX_KVO_RATE_NL_PER_H;
	l->max_bolus_volume_nl = IPUMP_DEF_MAX_BOLUS_VOLUME_NL;
	l->max_bolus_rate_nl_per_h = IPUMP_DEF_MAX_BOLUS_RATE_NL_PER_H;
	l->min_lockout_ms = IPUMP_DEF_MIN_LOCKOUT_MS;
	l->max_vtbi_nl = IPUMP_DEF_MAX_VTBI_NL;
	l->max_dose_1h_nl = IPUMP_DEF_MAX_DOSE_1H_NL;
	l->max_dose_4h_nl = IPUMP_DEF_MAX_DOSE_4H_NL;
	l->max_boluses_per_hour = IPUMP_DEF_MAX_BOLUSES_PER_HOUR;
	l->air_bubble_nl = IPUMP_DEF_AIR_BUBBLE_NL;
	l->air_accum_nl = IPUMP_DEF_AIR_ACCUM_NL;
	l->over_infusion_pct = IPUMP_DEF_OVER_INFUSION_PCT;
	l->under_infusion_pct = IPUMP_DEF_UNDER_INFUSION_PCT;
	l->stall_ms = IPUMP_DEF_STALL_MS;
}
EXPORT_SYMBOL_NS_GPL(ipump_limits_defaults, IPUMP_INTERNAL);

static bool ipump_words_zero(const u32 *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i])
			return false;
	return true;
}

/**
 * ipump_limits_check() - check hard limits for consistency
 * @l: the limits
 * @why: set to the reason of a refusal (may be NULL)
 *
 * Return: 0 if consistent; -EINVAL with @why set if a reserved field is
 * not zero (IPUMP_REASON_RESERVED), a limit that must be > 0 is 0
 * (IPUMP_REASON_LIMITS_ZERO), a minimum exceeds its maximum or the 4-hour
 * limit is below the 1-hour one (IPUMP_REASON_LIMITS_ORDER), or a value is
 * beyond what the driver supports (IPUMP_REASON_LIMITS_RANGE).
 */
int ipump_limits_check(const struct ipump_hard_limits *l,
		       enum ipump_reason *why)
{
	if (!ipump_words_zero(l->reserved, ARRAY_SIZE(l->reserved)))
		return ipump_refuse(why, IPUMP_REASON_RESERVED, -EINVAL);
	if (!l->min_rate_nl_per_h || !l->max_rate_nl_per_h ||
	    !l->max_bolus_volume_nl || !l->max_bolus_rate_nl_per_h ||
	    !l->min_lockout_ms || !l->max_vtbi_nl || !l->max_dose_1h_nl ||
	    !l->max_dose_4h_nl || !l->max_boluses_per_hour ||
	    !l->air_bubble_nl || !l->air_accum_nl || !l->over_infusion_pct ||
	    !l->under_infusion_pct || !l->stall_ms)
		return ipump_refuse(why, IPUMP_REASON_LIMITS_ZERO, -EINVAL);
	if (l->min_rate_nl_per_h > l->max_rate_nl_per_h ||
	    l->min_rate_nl_per_h > l->max_bolus_rate_nl_per_h ||
	    l->max_kvo_rate_nl_per_h > l->max_rate_nl_per_h ||
	    (l->max_kvo_rate_nl_per_h &&
	     l->max_kvo_rate_nl_per_h < l->min_rate_nl_per_h) ||
	    l->max_dose_4h_nl < l->max_dose_1h_nl)
		return ipump_refuse(why, IPUMP_REASON_LIMITS_ORDER, -EINVAL);
	if (l->max_boluses_per_hour > IPUMP_MAX_BOLUSES_PER_HOUR ||
	    l->min_lockout_ms > IPUMP_MAX_LOCKOUT_MS ||
	    l->over_infusion_pct > 100 || l->under_infusion_pct > 99)
		return ipump_refuse(why, IPUMP_REASON_LIMITS_RANGE, -EINVAL);
	return ipump_refuse(why, IPUMP_REASON_NONE, 0);
}
EXPORT_SYMBOL_NS_GPL(ipump_limits_check, IPUMP_INTERNAL);

/**
 * ipump_route_is_spinal() - whether a route is epidural or intrathecal
 * @route: enum ipump_route value
 *
 * Return: true for %IPUMP_ROUTE_EPIDURAL and %IPUMP_ROUTE_INTRATHECAL.
 */
bool ipump_route_is_spinal(u32 route)
{
	return route == IPUMP_ROUTE_EPIDURAL || route == IPUMP_ROUTE_INTRATHECAL;
}
EXPORT_SYMBOL_NS_GPL(ipump_route_is_spinal, IPUMP_INTERNAL);

/**
 * ipump_programme_defaults() - the route's defaults for a new programme
 * @p: the programme to fill
 * @route: its route
 * @l: the channel's hard limits
 *
 * Zeroes @p, then sets the route, a KVO rate of 0 on every route but
 * intravenous (intravenous: %IPUMP_DEF_KVO_IV_NL_PER_H, at most the hard
 * limit), the dose limits to the hard limits, and the stop lease-loss mode.
 * The basal rate and the volume to be infused are left 0 and PCA off: the
 * console must choose them, so the result is refused until it does.
 */
void ipump_programme_defaults(struct ipump_programme *p, enum ipump_route route,
			      const struct ipump_hard_limits *l)
{
	memset(p, 0, sizeof(*p));
	p->route = route;
	if (route == IPUMP_ROUTE_INTRAVENOUS)
		p->kvo_rate_nl_per_h = min(IPUMP_DEF_KVO_IV_NL_PER_H,
					   l->max_kvo_rate_nl_per_h);
	p->max_dose_1h_nl = l->max_dose_1h_nl;
	p->max_dose_4h_nl = l->max_dose_4h_nl;
	p->lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
}
EXPORT_SYMBOL_NS_GPL(ipump_programme_defaults, IPUMP_INTERNAL);

/**
 * ipump_volume_nl() - volume delivered at a rate over a duration
 * @rate_nl_per_h: the rate
 * @duration_ns: the duration
 *
 * Rounds up (the duration to whole ms, the volume to whole nL), so volume
 * counted against a limit errs toward less drug.
 *
 * Return: the volume in nL, U64_MAX if it does not fit.
 */
u64 ipump_volume_nl(u32 rate_nl_per_h, u64 duration_ns)
{
	u64 ms = div64_u64(duration_ns, NSEC_PER_MSEC);
	u64 hours, rem, whole;

	if (ms * NSEC_PER_MSEC != duration_ns)
		ms++;
	hours = div64_u64_rem(ms, IPUMP_MS_PER_H, &rem);
	if (check_mul_overflow(hours, (u64)rate_nl_per_h, &whole))
		return U64_MAX;
	return ipump_sat_add(whole, DIV_ROUND_UP_ULL(rem * rate_nl_per_h,
						     IPUMP_MS_PER_H));
}
EXPORT_SYMBOL_NS_GPL(ipump_volume_nl, IPUMP_INTERNAL);

/* The basal rate alone would reach a limit over window + one bucket. */
static bool ipump_basal_reaches(u32 rate, u32 window_ms, u64 limit_nl)
{
	return ipump_volume_nl(rate, ipump_ms_to_ns(window_ms + IPUMP_BUCKET_MS)) >=
	       limit_nl;
}

static int ipump_pca_check(const struct ipump_programme *p,
			   const struct ipump_hard_limits *l,
			   enum ipump_reason *why)
{
	if (!(p->flags & IPUMP_PROG_PCA)) {
		if (p->bolus_volume_nl || p->bolus_rate_nl_per_h ||
		    p->lockout_ms || p->max_boluses_per_hour)
			return ipump_refuse(why, IPUMP_REASON_PCA_FIELDS, -EINVAL);
		return 0;
	}
	if (!p->bolus_volume_nl)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_VOLUME_ZERO, -EINVAL);
	if (p->bolus_volume_nl > l->max_bolus_volume_nl)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_VOLUME_HIGH, -ERANGE);
	if (!p->bolus_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_RATE_ZERO, -EINVAL);
	if (p->bolus_rate_nl_per_h < l->min_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_RATE_LOW, -ERANGE);
	if (p->bolus_rate_nl_per_h > l->max_bolus_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_RATE_HIGH, -ERANGE);
	if (!p->lockout_ms)
		return ipump_refuse(why, IPUMP_REASON_LOCKOUT_ZERO, -EINVAL);
	if (p->lockout_ms < l->min_lockout_ms)
		return ipump_refuse(why, IPUMP_REASON_LOCKOUT_SHORT, -ERANGE);
	if (p->lockout_ms > IPUMP_MAX_LOCKOUT_MS)
		return ipump_refuse(why, IPUMP_REASON_LOCKOUT_LONG, -ERANGE);
	if (!p->max_boluses_per_hour)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_COUNT_ZERO, -EINVAL);
	if (p->max_boluses_per_hour > l->max_boluses_per_hour)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_COUNT_HIGH, -ERANGE);
	if (p->bolus_volume_nl > p->max_dose_1h_nl)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_OVER_DOSE, -ERANGE);
	return 0;
}

/**
 * ipump_programme_check() - check a programme against the hard limits
 * @p: the programme
 * @l: the channel's hard limits (assumed to pass ipump_limits_check())
 * @why: set to the reason of a refusal (may be NULL)
 *
 * Nothing is clamped: a programme is accepted as it is or refused.
 * The checks and their reasons are listed, in the order they are made, in
 * Documentation/safety/therapy-rules.rst.
 *
 * Return: 0 if acceptable; -EINVAL for a malformed or self-contradictory
 * programme (unknown route, flag or lease-loss mode, non-zero padding or
 * reserved field, a zero where a value is required, PCA fields without
 * PCA, a lockout of 0, a non-zero KVO rate on a spinal route without
 * %IPUMP_PROG_SPINAL_KVO, a lease-loss mode with nothing to continue);
 * -ERANGE for a value outside a hard limit or a dose limit the programme
 * itself would reach.
 */
int ipump_programme_check(const struct ipump_programme *p,
			  const struct ipump_hard_limits *l,
			  enum ipump_reason *why)
{
	u32 basal = p->basal_rate_nl_per_h, kvo = p->kvo_rate_nl_per_h;
	int ret;

	if (p->route < IPUMP_ROUTE_INTRAVENOUS ||
	    p->route > IPUMP_ROUTE_INTRATHECAL)
		return ipump_refuse(why, IPUMP_REASON_ROUTE, -EINVAL);
	if (p->flags & ~IPUMP_PROG_FLAGS_ALL)
		return ipump_refuse(why, IPUMP_REASON_FLAGS, -EINVAL);
	if (p->padding || !ipump_words_zero(p->reserved, ARRAY_SIZE(p->reserved)))
		return ipump_refuse(why, IPUMP_REASON_RESERVED, -EINVAL);
	if (p->lease_loss_mode > IPUMP_LEASE_LOSS_CONTINUE_BASAL)
		return ipump_refuse(why, IPUMP_REASON_LEASE_LOSS_MODE, -EINVAL);

	if (!basal && !(p->flags & IPUMP_PROG_PCA))
		return ipump_refuse(why, IPUMP_REASON_RATE_ZERO, -EINVAL);
	if (basal && basal < l->min_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_RATE_LOW, -ERANGE);
	if (basal > l->max_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_RATE_HIGH, -ERANGE);

	if (kvo && ipump_route_is_spinal(p->route) &&
	    !(p->flags & IPUMP_PROG_SPINAL_KVO))
		return ipump_refuse(why, IPUMP_REASON_SPINAL_KVO, -EINVAL);
	if (kvo && kvo < l->min_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_KVO_LOW, -ERANGE);
	if (kvo > l->max_kvo_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_KVO_HIGH, -ERANGE);
	if (basal && kvo > basal)
		return ipump_refuse(why, IPUMP_REASON_KVO_ABOVE_BASAL, -ERANGE);

	if (p->flags & IPUMP_PROG_VTBI_UNLIMITED) {
		if (p->vtbi_nl)
			return ipump_refuse(why, IPUMP_REASON_VTBI_UNLIMITED, -EINVAL);
	} else {
		if (!p->vtbi_nl)
			return ipump_refuse(why, IPUMP_REASON_VTBI_ZERO, -EINVAL);
		if (p->vtbi_nl > l->max_vtbi_nl)
			return ipump_refuse(why, IPUMP_REASON_VTBI_HIGH, -ERANGE);
	}

	if (!p->max_dose_1h_nl || !p->max_dose_4h_nl)
		return ipump_refuse(why, IPUMP_REASON_DOSE_ZERO, -EINVAL);
	if (p->max_dose_1h_nl > l->max_dose_1h_nl)
		return ipump_refuse(why, IPUMP_REASON_DOSE_1H_HIGH, -ERANGE);
	if (p->max_dose_4h_nl > l->max_dose_4h_nl)
		return ipump_refuse(why, IPUMP_REASON_DOSE_4H_HIGH, -ERANGE);
	if (p->max_dose_4h_nl < p->max_dose_1h_nl)
		return ipump_refuse(why, IPUMP_REASON_DOSE_ORDER, -EINVAL);
	if (ipump_basal_reaches(max(basal, kvo), IPUMP_DOSE_WINDOW_1H_MS,
				p->max_dose_1h_nl) ||
	    ipump_basal_reaches(max(basal, kvo), IPUMP_DOSE_WINDOW_4H_MS,
				p->max_dose_4h_nl))
		return ipump_refuse(why, IPUMP_REASON_BASAL_OVER_DOSE, -ERANGE);

	ret = ipump_pca_check(p, l, why);
	if (ret)
		return ret;

	if (p->lease_loss_mode == IPUMP_LEASE_LOSS_KVO && !kvo)
		return ipump_refuse(why, IPUMP_REASON_LEASE_LOSS_KVO, -EINVAL);
	if (p->lease_loss_mode == IPUMP_LEASE_LOSS_CONTINUE_BASAL && !basal)
		return ipump_refuse(why, IPUMP_REASON_LEASE_LOSS_BASAL, -EINVAL);
	return ipump_refuse(why, IPUMP_REASON_NONE, 0);
}
EXPORT_SYMBOL_NS_GPL(ipump_programme_check, IPUMP_INTERNAL);

/**
 * ipump_titrate_check() - check a change to the programme of a running
 *	channel
 * @cur: the programme the channel runs
 * @next: the requested programme
 * @l: the channel's hard limits
 * @why: set to the reason of a refusal (may be NULL)
 *
 * A titration is ipump_programme_check() plus: the route and the PCA flag
 * cannot change while delivering (stop, programme, start instead).
 *
 * Return: 0, -EINVAL (IPUMP_REASON_ROUTE_CHANGE) or as
 * ipump_programme_check().
 */
int ipump_titrate_check(const struct ipump_programme *cur,
			const struct ipump_programme *next,
			const struct ipump_hard_limits *l,
			enum ipump_reason *why)
{
	int ret = ipump_programme_check(next, l, why);

	if (ret)
		return ret;
	if (next->route != cur->route ||
	    (next->flags & IPUMP_PROG_PCA) != (cur->flags & IPUMP_PROG_PCA))
		return ipump_refuse(why, IPUMP_REASON_ROUTE_CHANGE, -EINVAL);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_titrate_check, IPUMP_INTERNAL);

/**
 * ipump_bolus_check() - check a clinician bolus against the hard limits
 * @l: the channel's hard limits
 * @volume_nl: bolus volume
 * @rate_nl_per_h: bolus rate
 * @why: set to the reason of a refusal (may be NULL)
 *
 * Return: 0; -EINVAL for a zero volume or rate; -ERANGE for a volume above
 * the maximum bolus, a rate below the minimum rate or above the maximum
 * bolus rate.
 */
int ipump_bolus_check(const struct ipump_hard_limits *l, u32 volume_nl,
		      u32 rate_nl_per_h, enum ipump_reason *why)
{
	if (!volume_nl)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_VOLUME_ZERO, -EINVAL);
	if (volume_nl > l->max_bolus_volume_nl)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_VOLUME_HIGH, -ERANGE);
	if (!rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_RATE_ZERO, -EINVAL);
	if (rate_nl_per_h < l->min_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_RATE_LOW, -ERANGE);
	if (rate_nl_per_h > l->max_bolus_rate_nl_per_h)
		return ipump_refuse(why, IPUMP_REASON_BOLUS_RATE_HIGH, -ERANGE);
	return ipump_refuse(why, IPUMP_REASON_NONE, 0);
}
EXPORT_SYMBOL_NS_GPL(ipump_bolus_check, IPUMP_INTERNAL);

static const char *const ipump_reason_strs[IPUMP_REASON_COUNT] = {
	[IPUMP_REASON_NONE] = "accepted",
	[IPUMP_REASON_ROUTE] = "unknown route",
	[IPUMP_REASON_FLAGS] = "unknown programme flags",
	[IPUMP_REASON_RESERVED] = "padding or reserved field not zero",
	[IPUMP_REASON_LEASE_LOSS_MODE] = "unknown lease-loss mode",
	[IPUMP_REASON_RATE_ZERO] = "basal rate 0 without PCA",
	[IPUMP_REASON_RATE_LOW] = "basal rate below the minimum rate",
	[IPUMP_REASON_RATE_HIGH] = "basal rate above the maximum rate",
	[IPUMP_REASON_KVO_LOW] = "KVO rate below the minimum rate",
	[IPUMP_REASON_KVO_HIGH] = "KVO rate above the maximum KVO rate",
	[IPUMP_REASON_KVO_ABOVE_BASAL] = "KVO rate above the basal rate",
	[IPUMP_REASON_SPINAL_KVO] = "KVO on a spinal route needs explicit confirmation",
	[IPUMP_REASON_LEASE_LOSS_KVO] = "KVO lease-loss mode with KVO rate 0",
	[IPUMP_REASON_LEASE_LOSS_BASAL] = "continue-basal lease-loss mode with basal rate 0",
	[IPUMP_REASON_VTBI_ZERO] = "volume to be infused 0 and not unlimited",
	[IPUMP_REASON_VTBI_UNLIMITED] = "volume to be infused set together with unlimited",
	[IPUMP_REASON_VTBI_HIGH] = "volume to be infused above its limit",
	[IPUMP_REASON_PCA_FIELDS] = "bolus fields set without PCA",
	[IPUMP_REASON_BOLUS_VOLUME_ZERO] = "bolus volume 0",
	[IPUMP_REASON_BOLUS_VOLUME_HIGH] = "bolus volume above its limit",
	[IPUMP_REASON_BOLUS_RATE_ZERO] = "bolus rate 0",
	[IPUMP_REASON_BOLUS_RATE_LOW] = "bolus rate below the minimum rate",
	[IPUMP_REASON_BOLUS_RATE_HIGH] = "bolus rate above its limit",
	[IPUMP_REASON_LOCKOUT_ZERO] = "PCA lockout 0",
	[IPUMP_REASON_LOCKOUT_SHORT] = "PCA lockout below its minimum",
	[IPUMP_REASON_LOCKOUT_LONG] = "PCA lockout above 24 hours",
	[IPUMP_REASON_BOLUS_COUNT_ZERO] = "boluses per hour 0 with PCA",
	[IPUMP_REASON_BOLUS_COUNT_HIGH] = "boluses per hour above its limit",
	[IPUMP_REASON_DOSE_ZERO] = "dose limit 0",
	[IPUMP_REASON_DOSE_1H_HIGH] = "1-hour dose limit above its hard limit",
	[IPUMP_REASON_DOSE_4H_HIGH] = "4-hour dose limit above its hard limit",
	[IPUMP_REASON_DOSE_ORDER] = "4-hour dose limit below the 1-hour limit",
	[IPUMP_REASON_BASAL_OVER_DOSE] = "basal rate alone reaches a dose limit",
	[IPUMP_REASON_BOLUS_OVER_DOSE] = "bolus volume above the 1-hour dose limit",
	[IPUMP_REASON_LIMITS_ZERO] = "hard limit 0 where a value is required",
	[IPUMP_REASON_LIMITS_ORDER] = "hard limits inconsistent",
	[IPUMP_REASON_LIMITS_RANGE] = "hard limit beyond what the driver supports",
	[IPUMP_REASON_GENERATION] = "based on a stale programme generation",
	[IPUMP_REASON_ROUTE_CHANGE] = "route or PCA cannot change while delivering",
	[IPUMP_REASON_STATE] = "not allowed in this therapy state",
	[IPUMP_REASON_LOCKOUT] = "PCA demand inside the lockout interval",
	[IPUMP_REASON_HOURLY_COUNT] = "PCA demand over the hourly bolus count",
	[IPUMP_REASON_DOSE_LIMIT] = "would exceed a rolling dose limit",
	[IPUMP_REASON_NO_LEASE] = "console lease not held",
	[IPUMP_REASON_LEASE_EXPIRED] = "console lease expired",
	[IPUMP_REASON_LEASE_HELD] = "console lease held by another console",
	[IPUMP_REASON_LEASE_ORPHANED] = "console lease orphaned: take it over",
	[IPUMP_REASON_AUDIO_PAUSE] = "audio pause 0 or above 120 s",
	[IPUMP_REASON_LEASE_PERIOD] = "lease period 0 or outside 100..60000 ms",
};

/**
 * ipump_reason_str() - human-readable text of a refusal reason
 * @why: the reason
 *
 * Return: a static string, "unknown reason" for a value out of range.
 */
const char *ipump_reason_str(enum ipump_reason why)
{
	if ((unsigned int)why >= IPUMP_REASON_COUNT || !ipump_reason_strs[why])
		return "unknown reason";
	return ipump_reason_strs[why];
}
EXPORT_SYMBOL_NS_GPL(ipump_reason_str, IPUMP_INTERNAL);

/**
 * ipump_generation_check() - check the generation a change is based on
 * @current_gen: generation of the channel's programme now
 * @based_on: generation the requester last read
 *
 * Return: 0 if @based_on is current; -ESTALE if it is older or newer (a
 * newer one was never issued: it is just as wrong), reason
 * %IPUMP_REASON_GENERATION.
 */
int ipump_generation_check(u64 current_gen, u64 based_on)
{
	return based_on == current_gen ? 0 : -ESTALE;
}
EXPORT_SYMBOL_NS_GPL(ipump_generation_check, IPUMP_INTERNAL);

/* ---- PCA lockout and the hourly bolus count */

/**
 * ipump_lockout_remaining_ns() - time left in the PCA lockout
 * @last_start_ns: start of the last PCA bolus, or the re-arm time from
 *	ipump_lockout_rearm(); %IPUMP_TIME_NONE if none
 * @now_ns: now
 * @lockout_ms: the programme's lockout (start to start)
 *
 * A demand is admitted only when this is 0: denied at lockout - 1 ms after
 * the last start, admitted at exactly lockout.
 *
 * Return: ns until a demand can be admitted, 0 if it can be now.
 */
u64 ipump_lockout_remaining_ns(u64 last_start_ns, u64 now_ns, u32 lockout_ms)
{
	u64 end;

	if (last_start_ns == IPUMP_TIME_NONE)
		return 0;
	end = ipump_sat_add(last_start_ns, ipump_ms_to_ns(lockout_ms));
	return now_ns >= end ? 0 : end - now_ns;
}
EXPORT_SYMBOL_NS_GPL(ipump_lockout_remaining_ns, IPUMP_INTERNAL);

/**
 * ipump_lockout_rearm() - the lockout reference after a programme change
 * @last_start_ns: the reference so far (%IPUMP_TIME_NONE if none)
 * @old_lockout_ms: the old programme's lockout (0 if it had no PCA)
 * @now_ns: time of the change
 * @new_lockout_ms: the new programme's lockout
 *
 * After a programme change the new lockout runs in full from the change,
 * and never ends before what was left of the old one: the returned
 * reference R makes ipump_lockout_remaining_ns(R, now, new) equal
 * max(new lockout, old remaining). R may lie in the future.
 *
 * Return: the new reference, to be stored as the last start.
 */
u64 ipump_lockout_rearm(u64 last_start_ns, u32 old_lockout_ms, u64 now_ns,
			u32 new_lockout_ms)
{
	u64 old_rem = ipump_lockout_remaining_ns(last_start_ns, now_ns,
						 old_lockout_ms);
	u64 new_ns = ipump_ms_to_ns(new_lockout_ms);

	return old_rem > new_ns ? now_ns + (old_rem - new_ns) : now_ns;
}
EXPORT_SYMBOL_NS_GPL(ipump_lockout_rearm, IPUMP_INTERNAL);

/**
 * ipump_bolus_ring_add() - record the start of a PCA bolus
 * @r: the ring
 * @now_ns: the start time
 *
 * The oldest start is forgotten once %IPUMP_MAX_BOLUSES_PER_HOUR are held.
 */
void ipump_bolus_ring_add(struct ipump_bolus_ring *r, u64 now_ns)
{
	r->start_ns[r->next] = now_ns;
	r->next = (r->next + 1) % IPUMP_MAX_BOLUSES_PER_HOUR;
	if (r->used < IPUMP_MAX_BOLUSES_PER_HOUR)
		r->used++;
}
EXPORT_SYMBOL_NS_GPL(ipump_bolus_ring_add, IPUMP_INTERNAL);

/**
 * ipump_bolus_ring_count() - PCA boluses started in the rolling hour
 * @r: the ring
 * @now_ns: now
 *
 * Counts starts in (now - 3600 s, now]; a start later than @now_ns (the
 * clock never goes back, but if it did) counts too.
 *
 * Return: the count, exact up to %IPUMP_MAX_BOLUSES_PER_HOUR.
 */
u32 ipump_bolus_ring_count(const struct ipump_bolus_ring *r, u64 now_ns)
{
	u32 i, n = 0;

	for (i = 0; i < r->used; i++)
		if (now_ns < IPUMP_HOUR_NS ||
		    r->start_ns[i] > now_ns - IPUMP_HOUR_NS)
			n++;
	return n;
}
EXPORT_SYMBOL_NS_GPL(ipump_bolus_ring_count, IPUMP_INTERNAL);

/* ---- rolling windows in one-minute buckets */

static u64 ipump_minute(u64 ns)
{
	return div64_u64(ns, IPUMP_BUCKET_NS);
}

static u32 ipump_slot(u64 minute, u32 n)
{
	return do_div(minute, n);
}

static void ipump_win_add(u64 *v, u32 n, u64 *head, u64 now_ns, u64 nl)
{
	u64 m = ipump_minute(now_ns), k;

	if (m > *head) {
		if (m - *head >= n)
			memset(v, 0, n * sizeof(*v));
		else
			for (k = *head + 1; k <= m; k++)
				v[ipump_slot(k, n)] = 0;
		*head = m;
	}
	/* a clock that went back counts in the newest bucket: longer */
	v[ipump_slot(*head, n)] = ipump_sat_add(v[ipump_slot(*head, n)], nl);
}

/* Every bucket the window (now - window, now] touches counts in full. */
static u64 ipump_win_sum(const u64 *v, u32 n, u64 head, u64 now_ns,
			 u32 window_ms)
{
	u64 win_ns = ipump_ms_to_ns(window_ms);
	u64 first, m, sum = 0;

	if (WARN_ON_ONCE(window_ms > (n - 1) * IPUMP_BUCKET_MS))
		return U64_MAX;
	first = now_ns > win_ns ? ipump_minute(now_ns - win_ns) : 0;
	if (head >= n - 1)
		first = max(first, head - (n - 1));
	for (m = first; m <= head; m++)
		sum = ipump_sat_add(sum, v[ipump_slot(m, n)]);
	return sum;
}

/**
 * ipump_dose_add() - account delivered volume in a dose window
 * @w: the window
 * @now_ns: when it was delivered
 * @nl: the volume
 */
void ipump_dose_add(struct ipump_dose_window *w, u64 now_ns, u64 nl)
{
	ipump_win_add(w->nl, IPUMP_DOSE_BUCKETS, &w->head, now_ns, nl);
}
EXPORT_SYMBOL_NS_GPL(ipump_dose_add, IPUMP_INTERNAL);

/**
 * ipump_dose_sum() - volume delivered in the rolling window ending now
 * @w: the window
 * @now_ns: now
 * @window_ms: window length, at most %IPUMP_DOSE_WINDOW_4H_MS
 *
 * Conservative: every one-minute bucket that (now - window, now] touches
 * counts in full, so volume delivered at t counts until the end of its
 * minute plus the window.
 *
 * Return: the sum in nL; U64_MAX for a window longer than 4 hours.
 */
u64 ipump_dose_sum(const struct ipump_dose_window *w, u64 now_ns,
		   u32 window_ms)
{
	return ipump_win_sum(w->nl, IPUMP_DOSE_BUCKETS, w->head, now_ns,
			     window_ms);
}
EXPORT_SYMBOL_NS_GPL(ipump_dose_sum, IPUMP_INTERNAL);

/**
 * ipump_dose_headroom_nl() - volume that may still be delivered now
 * @w: the window
 * @now_ns: now
 * @limit_1h_nl: the rolling 1-hour limit
 * @limit_4h_nl: the rolling 4-hour limit
 *
 * Return: min(limit_1h - sum_1h, limit_4h - sum_4h), 0 if either is reached.
 */
u64 ipump_dose_headroom_nl(const struct ipump_dose_window *w, u64 now_ns,
			   u64 limit_1h_nl, u64 limit_4h_nl)
{
	u64 s1 = ipump_dose_sum(w, now_ns, IPUMP_DOSE_WINDOW_1H_MS);
	u64 s4 = ipump_dose_sum(w, now_ns, IPUMP_DOSE_WINDOW_4H_MS);

	if (s1 >= limit_1h_nl || s4 >= limit_4h_nl)
		return 0;
	return min(limit_1h_nl - s1, limit_4h_nl - s4);
}
EXPORT_SYMBOL_NS_GPL(ipump_dose_headroom_nl, IPUMP_INTERNAL);

/**
 * ipump_dose_would_exceed() - whether adding a volume would exceed a limit
 * @w: the window
 * @now_ns: now
 * @add_nl: the volume to be added (e.g. a PCA bolus)
 * @limit_1h_nl: the rolling 1-hour limit
 * @limit_4h_nl: the rolling 4-hour limit
 *
 * Reaching a limit exactly is allowed; going past it is not.
 *
 * Return: true if sum + @add_nl exceeds either limit.
 */
bool ipump_dose_would_exceed(const struct ipump_dose_window *w, u64 now_ns,
			     u64 add_nl, u64 limit_1h_nl, u64 limit_4h_nl)
{
	u64 s1 = ipump_dose_sum(w, now_ns, IPUMP_DOSE_WINDOW_1H_MS);
	u64 s4 = ipump_dose_sum(w, now_ns, IPUMP_DOSE_WINDOW_4H_MS);

	return ipump_sat_add(s1, add_nl) > limit_1h_nl ||
	       ipump_sat_add(s4, add_nl) > limit_4h_nl;
}
EXPORT_SYMBOL_NS_GPL(ipump_dose_would_exceed, IPUMP_INTERNAL);

/**
 * ipump_dose_reached() - whether a dose limit is reached
 * @w: the window
 * @now_ns: now
 * @limit_1h_nl: the rolling 1-hour limit
 * @limit_4h_nl: the rolling 4-hour limit
 *
 * The core feeds %IPUMP_SM_DOSE_LIMIT when this becomes true.
 *
 * Return: true if either sum is at or above its limit.
 */
bool ipump_dose_reached(const struct ipump_dose_window *w, u64 now_ns,
			u64 limit_1h_nl, u64 limit_4h_nl)
{
	return !ipump_dose_headroom_nl(w, now_ns, limit_1h_nl, limit_4h_nl);
}
EXPORT_SYMBOL_NS_GPL(ipump_dose_reached, IPUMP_INTERNAL);

/* ---- the therapy state machine */

/**
 * ipump_sm_flags() - the state machine flags of a programme
 * @p: the loaded programme, NULL if none
 * @kvo_hold: delivery is held at KVO (VTBI delivered or dose limit)
 *
 * Return: IPUMP_SMF_* bits for ipump_sm_next().
 */
u32 ipump_sm_flags(const struct ipump_programme *p, bool kvo_hold)
{
	u32 f;

	if (!p)
		return 0;
	f = IPUMP_SMF_PROGRAMME;
	if (ipump_route_is_spinal(p->route))
		f |= IPUMP_SMF_SPINAL;
	if (p->kvo_rate_nl_per_h)
		f |= IPUMP_SMF_KVO;
	if (kvo_hold)
		f |= IPUMP_SMF_KVO_HOLD;
	return f;
}
EXPORT_SYMBOL_NS_GPL(ipump_sm_flags, IPUMP_INTERNAL);

static bool ipump_sm_delivering(enum ipump_channel_state s)
{
	return s == IPUMP_STATE_RUNNING || s == IPUMP_STATE_BOLUS ||
	       s == IPUMP_STATE_KVO;
}

/* Where a stopped channel goes once its alarm or fault is cleared. */
static int ipump_sm_rest(u32 flags)
{
	return flags & IPUMP_SMF_PROGRAMME ? IPUMP_STATE_PROGRAMMED :
					     IPUMP_STATE_IDLE;
}

/* VTBI delivered or dose limit: KVO only off the spinal routes. */
static int ipump_sm_limit(u32 flags)
{
	if ((flags & IPUMP_SMF_KVO) && !(flags & IPUMP_SMF_SPINAL))
		return IPUMP_STATE_KVO;
	return IPUMP_STATE_ALARM_STOPPED;
}

static int ipump_sm_lease_lost(enum ipump_channel_state s,
			       enum ipump_sm_event e, u32 flags)
{
	if (s == IPUMP_STATE_ALARM_STOPPED || s == IPUMP_STATE_PAUSED)
		return IPUMP_STATE_ALARM_STOPPED;
	if (!ipump_sm_delivering(s))
		return -EINVAL;
	switch (e) {
	case IPUMP_SM_LEASE_LOST_KVO:
		return flags & IPUMP_SMF_KVO ? IPUMP_STATE_KVO :
					       IPUMP_STATE_ALARM_STOPPED;
	case IPUMP_SM_LEASE_LOST_BASAL:
		return s == IPUMP_STATE_KVO ? IPUMP_STATE_KVO :
					      IPUMP_STATE_RUNNING;
	default:
		return IPUMP_STATE_ALARM_STOPPED;
	}
}

/* Every event but these is refused with -EIO in FAULT. */
static int ipump_sm_fault(enum ipump_sm_event e, u32 flags)
{
	switch (e) {
	case IPUMP_SM_STOP:
	case IPUMP_SM_ALARM_STOP:
	case IPUMP_SM_FAULT:
	case IPUMP_SM_LEASE_LOST_STOP:
	case IPUMP_SM_LEASE_LOST_KVO:
	case IPUMP_SM_LEASE_LOST_BASAL:
		return IPUMP_STATE_FAULT;
	case IPUMP_SM_FAULT_CLEARED:
		return ipump_sm_rest(flags);
	default:
		return -EIO;
	}
}

/**
 * ipump_sm_next() - the therapy state transition table
 * @s: the channel's state
 * @e: the event
 * @flags: IPUMP_SMF_* bits (ipump_sm_flags())
 *
 * Pure: the caller applies the result. The full table, with every
 * refusal, is Documentation/safety/therapy-state-machine.rst. In short:
 * -EIO for anything but stop, alarm, fault and lease loss while in
 * %IPUMP_STATE_FAULT; -EBUSY when the state excludes the request for now
 * (delivering, bolus in progress, alarm not acknowledged); -EPERM for a
 * bolus while delivery is held at KVO; -EINVAL when the request has no
 * object in this state (nothing to start, resume, cancel or clear).
 *
 * Return: the next enum ipump_channel_state (>= 0), or a negative errno
 * with the state to be left unchanged.
 */
int ipump_sm_next(enum ipump_channel_state s, enum ipump_sm_event e, u32 flags)
{
	if ((unsigned int)s >= IPUMP_SM_NR_STATES ||
	    (unsigned int)e >= IPUMP_SM_NR_EVENTS)
		return -EINVAL;
	if (s == IPUMP_STATE_FAULT)
		return ipump_sm_fault(e, flags);

	switch (e) {
	case IPUMP_SM_PROGRAMME:
		if (s == IPUMP_STATE_IDLE || s == IPUMP_STATE_PROGRAMMED)
			return IPUMP_STATE_PROGRAMMED;
		return -EBUSY;
	case IPUMP_SM_CLEAR:
		if (s == IPUMP_STATE_IDLE || s == IPUMP_STATE_PROGRAMMED)
			return IPUMP_STATE_IDLE;
		return -EBUSY;
	case IPUMP_SM_START:
		if (s == IPUMP_STATE_PROGRAMMED)
			return IPUMP_STATE_RUNNING;
		return s == IPUMP_STATE_IDLE ? -EINVAL : -EBUSY;
	case IPUMP_SM_STOP:
		if (s == IPUMP_STATE_IDLE || s == IPUMP_STATE_ALARM_STOPPED)
			return s;
		return IPUMP_STATE_PROGRAMMED;
	case IPUMP_SM_PAUSE:
		if (ipump_sm_delivering(s) || s == IPUMP_STATE_PAUSED)
			return IPUMP_STATE_PAUSED;
		return -EINVAL;
	case IPUMP_SM_RESUME:
		if (s == IPUMP_STATE_ALARM_STOPPED)
			return -EBUSY;
		if (s != IPUMP_STATE_PAUSED)
			return -EINVAL;
		if (!(flags & IPUMP_SMF_KVO_HOLD))
			return IPUMP_STATE_RUNNING;
		return flags & IPUMP_SMF_KVO ? IPUMP_STATE_KVO : -EINVAL;
	case IPUMP_SM_TITRATE:
		if (s == IPUMP_STATE_RUNNING || s == IPUMP_STATE_PAUSED)
			return s;
		return s == IPUMP_STATE_IDLE || s == IPUMP_STATE_PROGRAMMED ?
		       -EINVAL : -EBUSY;
	case IPUMP_SM_BOLUS_START:
		if (s == IPUMP_STATE_RUNNING)
			return IPUMP_STATE_BOLUS;
		if (s == IPUMP_STATE_KVO)
			return -EPERM;
		return s == IPUMP_STATE_IDLE || s == IPUMP_STATE_PROGRAMMED ?
		       -EINVAL : -EBUSY;
	case IPUMP_SM_BOLUS_END:
	case IPUMP_SM_BOLUS_CANCEL:
		return s == IPUMP_STATE_BOLUS ? IPUMP_STATE_RUNNING : -EINVAL;
	case IPUMP_SM_VTBI_DONE:
		if (s == IPUMP_STATE_RUNNING || s == IPUMP_STATE_BOLUS)
			return ipump_sm_limit(flags);
		return -EINVAL;
	case IPUMP_SM_DOSE_LIMIT:
		if (ipump_sm_delivering(s))
			return ipump_sm_limit(flags);
		return -EINVAL;
	case IPUMP_SM_ALARM_STOP:
		return IPUMP_STATE_ALARM_STOPPED;
	case IPUMP_SM_ALARM_CLEARED:
		return s == IPUMP_STATE_ALARM_STOPPED ? ipump_sm_rest(flags) :
							-EINVAL;
	case IPUMP_SM_FAULT:
		return IPUMP_STATE_FAULT;
	case IPUMP_SM_FAULT_CLEARED:
		return -EINVAL;
	case IPUMP_SM_LEASE_LOST_STOP:
	case IPUMP_SM_LEASE_LOST_KVO:
	case IPUMP_SM_LEASE_LOST_BASAL:
		return ipump_sm_lease_lost(s, e, flags);
	default:
		return -EINVAL;
	}
}
EXPORT_SYMBOL_NS_GPL(ipump_sm_next, IPUMP_INTERNAL);

static const char *const ipump_sm_event_strs[IPUMP_SM_NR_EVENTS] = {
	[IPUMP_SM_PROGRAMME] = "programme",
	[IPUMP_SM_CLEAR] = "clear",
	[IPUMP_SM_START] = "start",
	[IPUMP_SM_STOP] = "stop",
	[IPUMP_SM_PAUSE] = "pause",
	[IPUMP_SM_RESUME] = "resume",
	[IPUMP_SM_TITRATE] = "titrate",
	[IPUMP_SM_BOLUS_START] = "bolus-start",
	[IPUMP_SM_BOLUS_END] = "bolus-end",
	[IPUMP_SM_BOLUS_CANCEL] = "bolus-cancel",
	[IPUMP_SM_VTBI_DONE] = "vtbi-done",
	[IPUMP_SM_DOSE_LIMIT] = "dose-limit",
	[IPUMP_SM_ALARM_STOP] = "alarm-stop",
	[IPUMP_SM_ALARM_CLEARED] = "alarm-cleared",
	[IPUMP_SM_FAULT] = "fault",
	[IPUMP_SM_FAULT_CLEARED] = "fault-cleared",
	[IPUMP_SM_LEASE_LOST_STOP] = "lease-lost-stop",
	[IPUMP_SM_LEASE_LOST_KVO] = "lease-lost-kvo",
	[IPUMP_SM_LEASE_LOST_BASAL] = "lease-lost-basal",
};

/**
 * ipump_sm_event_str() - name of a state machine event
 * @e: the event
 *
 * Return: a static string, "unknown" for a value out of range.
 */
const char *ipump_sm_event_str(enum ipump_sm_event e)
{
	if ((unsigned int)e >= IPUMP_SM_NR_EVENTS)
		return "unknown";
	return ipump_sm_event_strs[e];
}
EXPORT_SYMBOL_NS_GPL(ipump_sm_event_str, IPUMP_INTERNAL);

static const char *const ipump_state_strs[IPUMP_SM_NR_STATES] = {
	[IPUMP_STATE_IDLE] = "idle",
	[IPUMP_STATE_RUNNING] = "running",
	[IPUMP_STATE_ALARM_STOPPED] = "alarm-stopped",
	[IPUMP_STATE_FAULT] = "fault",
	[IPUMP_STATE_PROGRAMMED] = "programmed",
	[IPUMP_STATE_BOLUS] = "bolus",
	[IPUMP_STATE_PAUSED] = "paused",
	[IPUMP_STATE_KVO] = "kvo",
};

/**
 * ipump_state_str() - name of a channel state (as in sysfs)
 * @s: the state
 *
 * Return: a static string, "unknown" for a value out of range.
 */
const char *ipump_state_str(enum ipump_channel_state s)
{
	if ((unsigned int)s >= IPUMP_SM_NR_STATES)
		return "unknown";
	return ipump_state_strs[s];
}
EXPORT_SYMBOL_NS_GPL(ipump_state_str, IPUMP_INTERNAL);

/* ---- alarm rules */

#define L	IPUMP_ALARM_RULE_LATCHING
#define S	IPUMP_ALARM_RULE_STOPS

static const struct ipump_alarm_info ipump_alarm_rules[IPUMP_ALARM_COUNT] = {
	[IPUMP_ALARM_OCCLUSION_DOWN] = { "occlusion-downstream", IPUMP_PRIO_HIGH, L | S,
		"pressure back to baseline after back-off, acknowledged" },
	[IPUMP_ALARM_OCCLUSION_UP] = { "occlusion-upstream", IPUMP_PRIO_HIGH, L | S,
		"upstream occlusion gone, acknowledged" },
	[IPUMP_ALARM_AIR_IN_LINE] = { "air-in-line", IPUMP_PRIO_HIGH, L | S,
		"no air at the sensor, acknowledged" },
	[IPUMP_ALARM_DOOR_OPEN] = { "door-open", IPUMP_PRIO_HIGH, L | S,
		"door closed, acknowledged" },
	[IPUMP_ALARM_RESERVOIR_EMPTY] = { "reservoir-empty", IPUMP_PRIO_HIGH, L | S,
		"reservoir refilled, acknowledged" },
	[IPUMP_ALARM_RESERVOIR_LOW] = { "reservoir-low", IPUMP_PRIO_LOW, 0,
		"reservoir above its low level" },
	[IPUMP_ALARM_MOTOR_STALL] = { "motor-stall", IPUMP_PRIO_HIGH, L | S,
		"motor advancing again, acknowledged" },
	[IPUMP_ALARM_FREE_FLOW] = { "free-flow", IPUMP_PRIO_HIGH, L | S,
		"no uncommanded flow, acknowledged" },
	[IPUMP_ALARM_COMMUNICATION] = { "communication", IPUMP_PRIO_HIGH, L | S,
		"card answers plausibly, acknowledged" },
	[IPUMP_ALARM_CARD_WATCHDOG] = { "card-watchdog", IPUMP_PRIO_HIGH, L | S,
		"card watchdog condition gone, acknowledged" },
	[IPUMP_ALARM_BATTERY_LOW] = { "battery-low", IPUMP_PRIO_MEDIUM, 0,
		"mains back or 15 minutes or more of battery left" },
	[IPUMP_ALARM_BATTERY_DEPLETED] = { "battery-depleted", IPUMP_PRIO_HIGH, L | S,
		"mains back or 5 minutes or more of battery left, acknowledged" },
	[IPUMP_ALARM_MAINS_LOST] = { "mains-lost", IPUMP_PRIO_LOW, 0,
		"mains back" },
	[IPUMP_ALARM_VTBI_COMPLETE] = { "vtbi-complete", IPUMP_PRIO_MEDIUM, L,
		"acknowledged" },
	[IPUMP_ALARM_OVER_INFUSION] = { "over-infusion", IPUMP_PRIO_HIGH, L | S,
		"acknowledged (the verification window restarts)" },
	[IPUMP_ALARM_UNDER_INFUSION] = { "under-infusion", IPUMP_PRIO_MEDIUM, L,
		"acknowledged (the verification window restarts)" },
	[IPUMP_ALARM_AIR_ACCUMULATED] = { "air-accumulated", IPUMP_PRIO_HIGH, L | S,
		"air over the last 15 minutes below its threshold, acknowledged" },
	[IPUMP_ALARM_LEASE_LOST] = { "lease-lost", IPUMP_PRIO_HIGH,
		L | IPUMP_ALARM_RULE_LEASE_MODE,
		"a console holds the lease again, acknowledged" },
	[IPUMP_ALARM_DOSE_LIMIT] = { "dose-limit", IPUMP_PRIO_MEDIUM, L,
		"rolling dose below both limits, acknowledged" },
};

#undef L
#undef S

/**
 * ipump_alarm_info() - the rules of an alarm
 * @a: the alarm
 *
 * Every high-priority alarm stops delivery: through %IPUMP_SM_ALARM_STOP
 * when it has %IPUMP_ALARM_RULE_STOPS, through the lease-loss mode for
 * %IPUMP_ALARM_LEASE_LOST (%IPUMP_ALARM_RULE_LEASE_MODE; the default mode
 * stops). A latching alarm stays active after its condition clears until
 * it is acknowledged; a non-latching one clears with its condition.
 *
 * Return: the rules, NULL for an unknown alarm.
 */
const struct ipump_alarm_info *ipump_alarm_info(enum ipump_alarm a)
{
	if ((unsigned int)a >= IPUMP_ALARM_COUNT)
		return NULL;
	return &ipump_alarm_rules[a];
}
EXPORT_SYMBOL_NS_GPL(ipump_alarm_info, IPUMP_INTERNAL);

/**
 * ipump_alarms_stopping() - the alarms that stop delivery
 *
 * Return: bit mask (bit numbers of enum ipump_alarm) of the alarms with
 * %IPUMP_ALARM_RULE_STOPS: while one is active, a channel stays
 * %IPUMP_STATE_ALARM_STOPPED.
 */
unsigned long ipump_alarms_stopping(void)
{
	unsigned long mask = 0;
	unsigned int a;

	for (a = 0; a < IPUMP_ALARM_COUNT; a++)
		if (ipump_alarm_rules[a].rules & IPUMP_ALARM_RULE_STOPS)
			mask |= BIT(a);
	return mask;
}
EXPORT_SYMBOL_NS_GPL(ipump_alarms_stopping, IPUMP_INTERNAL);

/**
 * ipump_audio_pause() - pause alarm audio for a while
 * @ap: the channel's audio pause
 * @now_ns: now
 * @duration_ms: 1..%IPUMP_AUDIO_PAUSE_MAX_MS
 *
 * The audio sounds again at @now_ns + @duration_ms. Pausing again starts
 * a new pause from now; there is no permanent silence.
 *
 * Return: 0; -EINVAL for 0; -ERANGE above %IPUMP_AUDIO_PAUSE_MAX_MS
 * (never clamped). Reason %IPUMP_REASON_AUDIO_PAUSE; @ap unchanged.
 */
int ipump_audio_pause(struct ipump_audio_pause *ap, u64 now_ns,
		      u32 duration_ms)
{
	if (!duration_ms)
		return -EINVAL;
	if (duration_ms > IPUMP_AUDIO_PAUSE_MAX_MS)
		return -ERANGE;
	ap->until_ns = now_ns + ipump_ms_to_ns(duration_ms);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_audio_pause, IPUMP_INTERNAL);

/**
 * ipump_audio_paused() - whether alarm audio is paused now
 * @ap: the channel's audio pause
 * @now_ns: now
 *
 * Return: true before the pause's end, false from its end on.
 */
bool ipump_audio_paused(const struct ipump_audio_pause *ap, u64 now_ns)
{
	return now_ns < ap->until_ns;
}
EXPORT_SYMBOL_NS_GPL(ipump_audio_paused, IPUMP_INTERNAL);

/**
 * ipump_air_add() - account a bubble the card saw
 * @a: the channel's air window
 * @now_ns: when
 * @bubble_nl: its volume
 */
void ipump_air_add(struct ipump_air_window *a, u64 now_ns, u32 bubble_nl)
{
	ipump_win_add(a->nl, IPUMP_15MIN_BUCKETS, &a->head, now_ns, bubble_nl);
}
EXPORT_SYMBOL_NS_GPL(ipump_air_add, IPUMP_INTERNAL);

/**
 * ipump_air_sum() - air seen over the rolling 15 minutes
 * @a: the channel's air window
 * @now_ns: now
 *
 * Return: nL; the oldest, partial minute counts whole.
 */
u64 ipump_air_sum(const struct ipump_air_window *a, u64 now_ns)
{
	return ipump_win_sum(a->nl, IPUMP_15MIN_BUCKETS, a->head, now_ns,
			     IPUMP_WINDOW_15MIN_MS);
}
EXPORT_SYMBOL_NS_GPL(ipump_air_sum, IPUMP_INTERNAL);

/**
 * ipump_air_exceeded() - whether accumulated air reaches its threshold
 * @a: the channel's air window
 * @now_ns: now
 * @limit_nl: the threshold (hard limits' @air_accum_nl)
 *
 * Return: true if the 15-minute sum is at or above @limit_nl.
 */
bool ipump_air_exceeded(const struct ipump_air_window *a, u64 now_ns,
			u32 limit_nl)
{
	return ipump_air_sum(a, now_ns) >= limit_nl;
}
EXPORT_SYMBOL_NS_GPL(ipump_air_exceeded, IPUMP_INTERNAL);

/* ---- delivery verification */

/**
 * ipump_verify_add() - account commanded and counted volume
 * @v: the channel's verification window
 * @now_ns: end of the interval they were measured over
 * @commanded_nl: volume commanded over the interval
 * @counted_nl: the card's delivered counter's advance over the interval
 */
void ipump_verify_add(struct ipump_verify_window *v, u64 now_ns,
		      u64 commanded_nl, u64 counted_nl)
{
	u64 head = v->head;

	ipump_win_add(v->cmd_nl, IPUMP_15MIN_BUCKETS, &head, now_ns,
		      commanded_nl);
	ipump_win_add(v->got_nl, IPUMP_15MIN_BUCKETS, &v->head, now_ns,
		      counted_nl);
}
EXPORT_SYMBOL_NS_GPL(ipump_verify_add, IPUMP_INTERNAL);

/**
 * ipump_verify_check() - compare counted with commanded volume over the
 *	rolling 15 minutes
 * @v: the channel's verification window
 * @now_ns: now
 * @over_pct: over-infusion threshold, percent
 * @under_pct: under-infusion threshold, percent
 * @min_nl: least commanded volume to judge by (quantisation: a few motor
 *	steps)
 *
 * Return: %IPUMP_VERIFY_OVER if counted > commanded * (100 + over) / 100,
 * or if less than @min_nl was commanded but more than @min_nl plus the
 * over-infusion threshold counted (uncommanded flow; a motor a few percent
 * fast reaches @min_nl counted before it reaches it commanded);
 * %IPUMP_VERIFY_UNDER if counted < commanded * (100 - under) / 100;
 * %IPUMP_VERIFY_TOO_LITTLE if less than @min_nl was commanded and counted;
 * else %IPUMP_VERIFY_OK.
 */
enum ipump_verify_result ipump_verify_check(const struct ipump_verify_window *v,
					    u64 now_ns, u32 over_pct,
					    u32 under_pct, u64 min_nl)
{
	u64 cmd = ipump_win_sum(v->cmd_nl, IPUMP_15MIN_BUCKETS, v->head,
				now_ns, IPUMP_WINDOW_15MIN_MS);
	u64 got = ipump_win_sum(v->got_nl, IPUMP_15MIN_BUCKETS, v->head,
				now_ns, IPUMP_WINDOW_15MIN_MS);
	u64 got100, hi, lo;

	if (cmd < min_nl) {
		u64 floor = max(min_nl, 1ULL);

		if (got > U64_MAX / 100 ||
		    got * 100 > floor * (100ULL + over_pct))
			return IPUMP_VERIFY_OVER;
		return IPUMP_VERIFY_TOO_LITTLE;
	}
	/* volumes this large are not volumes: compare saturated */
	if (check_mul_overflow(got, 100ULL, &got100))
		return IPUMP_VERIFY_OVER;
	if (check_mul_overflow(cmd, 100ULL + over_pct, &hi))
		hi = U64_MAX;
	lo = cmd * (100ULL - min(under_pct, 100U));
	if (cmd > U64_MAX / 100)
		lo = U64_MAX;
	if (got100 > hi)
		return IPUMP_VERIFY_OVER;
	if (got100 < lo)
		return IPUMP_VERIFY_UNDER;
	return IPUMP_VERIFY_OK;
}
EXPORT_SYMBOL_NS_GPL(ipump_verify_check, IPUMP_INTERNAL);

/**
 * ipump_stall_reset() - stop watching for a stall (motor not commanded)
 * @s: the detector
 */
void ipump_stall_reset(struct ipump_stall *s)
{
	memset(s, 0, sizeof(*s));
}
EXPORT_SYMBOL_NS_GPL(ipump_stall_reset, IPUMP_INTERNAL);

/**
 * ipump_stall_check() - feed a sample to the stall detector
 * @s: the detector
 * @now_ns: now
 * @steps: the card's motor step counter
 * @commanded_nl: total volume commanded so far (monotonic)
 * @nl_per_step: volume of one motor step
 * @stall_ms: how long without a step counts as a stall
 *
 * A stall is the step counter unchanged for @stall_ms or longer while at
 * least two steps' worth of volume was commanded (so slow rates, a step
 * every few minutes, do not look stalled).
 *
 * Return: true if stalled.
 */
bool ipump_stall_check(struct ipump_stall *s, u64 now_ns, u32 steps,
		       u64 commanded_nl, u32 nl_per_step, u32 stall_ms)
{
	if (!s->watching || steps != s->steps || commanded_nl < s->cmd_nl ||
	    now_ns < s->since_ns) {
		s->watching = true;
		s->since_ns = now_ns;
		s->cmd_nl = commanded_nl;
		s->steps = steps;
		return false;
	}
	return now_ns - s->since_ns >= ipump_ms_to_ns(stall_ms) &&
	       commanded_nl - s->cmd_nl >= 2ULL * nl_per_step;
}
EXPORT_SYMBOL_NS_GPL(ipump_stall_check, IPUMP_INTERNAL);

/* ---- the console lease */

/**
 * ipump_lease_deadline_ns() - when a live lease is lost without a renewal
 * @l: the lease
 *
 * Return: @l->expires_ns + %IPUMP_LEASE_GRACE_MS; 0 for an orphaned lease
 * (lost already); U64_MAX for a free one. The core arms a card-clock
 * timer here.
 */
u64 ipump_lease_deadline_ns(const struct ipump_lease *l)
{
	if (!l->owner)
		return U64_MAX;
	if (l->flags & IPUMP_LEASE_F_ORPHANED)
		return 0;
	return ipump_sat_add(l->expires_ns, ipump_ms_to_ns(IPUMP_LEASE_GRACE_MS));
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_deadline_ns, IPUMP_INTERNAL);

/**
 * ipump_lease_expired() - whether a held lease is lost (orphaned)
 * @l: the lease
 * @now_ns: now
 *
 * A lease is lost when its owner went away (ipump_lease_orphan()) or at
 * its deadline: period + %IPUMP_LEASE_GRACE_MS after the last renewal,
 * exactly (live at deadline - 1 ns, lost at the deadline).
 *
 * Return: true if held and lost; false if free or live.
 */
bool ipump_lease_expired(const struct ipump_lease *l, u64 now_ns)
{
	return l->owner && now_ns >= ipump_lease_deadline_ns(l);
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_expired, IPUMP_INTERNAL);

static int ipump_lease_period_check(const void *who, u32 period_ms)
{
	if (!who || !period_ms)
		return -EINVAL;
	if (period_ms < IPUMP_LEASE_MIN_PERIOD_MS ||
	    period_ms > IPUMP_LEASE_MAX_PERIOD_MS)
		return -ERANGE;
	return 0;
}

static void ipump_lease_set(struct ipump_lease *l, const void *who,
			    u64 now_ns, u32 period_ms)
{
	l->owner = who;
	l->period_ms = period_ms;
	l->flags = 0;
	l->expires_ns = now_ns + ipump_ms_to_ns(period_ms);
}

/**
 * ipump_lease_acquire() - acquire a free lease
 * @l: the lease
 * @who: the requester's cookie
 * @now_ns: now
 * @period_ms: heartbeat period, %IPUMP_LEASE_MIN_PERIOD_MS ..
 *	%IPUMP_LEASE_MAX_PERIOD_MS
 *
 * Acquiring a lease @who holds live renews it with @period_ms.
 *
 * Return: 0; -EINVAL for a NULL @who or a zero period; -ERANGE for a
 * period out of range; -EBUSY while another console holds it live
 * (%IPUMP_REASON_LEASE_HELD); -EOWNERDEAD if it is orphaned, even for its
 * former owner: therapy is in its lease-loss mode and only an explicit
 * ipump_lease_takeover() may adopt it (%IPUMP_REASON_LEASE_ORPHANED).
 */
int ipump_lease_acquire(struct ipump_lease *l, const void *who, u64 now_ns,
			u32 period_ms)
{
	int ret = ipump_lease_period_check(who, period_ms);

	if (ret)
		return ret;
	if (l->owner && ipump_lease_expired(l, now_ns))
		return -EOWNERDEAD;
	if (l->owner && l->owner != who)
		return -EBUSY;
	ipump_lease_set(l, who, now_ns, period_ms);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_acquire, IPUMP_INTERNAL);

/**
 * ipump_lease_renew() - heartbeat
 * @l: the lease
 * @who: the requester's cookie
 * @now_ns: now
 *
 * Return: 0 (the lease now expires one period from @now_ns); -EPERM if
 * @who does not hold it (%IPUMP_REASON_NO_LEASE); -ETIMEDOUT if @who held
 * it but it is already lost (%IPUMP_REASON_LEASE_EXPIRED): a late
 * heartbeat does not revive it, take it over instead.
 */
int ipump_lease_renew(struct ipump_lease *l, const void *who, u64 now_ns)
{
	if (!who || l->owner != who)
		return -EPERM;
	if (ipump_lease_expired(l, now_ns))
		return -ETIMEDOUT;
	l->expires_ns = now_ns + ipump_ms_to_ns(l->period_ms);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_renew, IPUMP_INTERNAL);

/**
 * ipump_lease_release() - give a lease back explicitly
 * @l: the lease
 * @who: the requester's cookie
 *
 * Also allowed for the owner of a lost lease: the lease becomes free.
 *
 * Return: 0; -EPERM if @who does not hold it.
 */
int ipump_lease_release(struct ipump_lease *l, const void *who)
{
	if (!who || l->owner != who)
		return -EPERM;
	memset(l, 0, sizeof(*l));
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_release, IPUMP_INTERNAL);

/**
 * ipump_lease_takeover() - explicitly take over an orphaned (or free) lease
 * @l: the lease
 * @who: the requester's cookie
 * @now_ns: now
 * @period_ms: heartbeat period, as for ipump_lease_acquire()
 *
 * Return: 0; -EINVAL/-ERANGE as ipump_lease_acquire(); -EBUSY while
 * another console holds it live (a live lease is never taken).
 */
int ipump_lease_takeover(struct ipump_lease *l, const void *who, u64 now_ns,
			 u32 period_ms)
{
	int ret = ipump_lease_period_check(who, period_ms);

	if (ret)
		return ret;
	if (l->owner && l->owner != who && !ipump_lease_expired(l, now_ns))
		return -EBUSY;
	ipump_lease_set(l, who, now_ns, period_ms);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_takeover, IPUMP_INTERNAL);

/**
 * ipump_lease_orphan() - the owner went away without releasing
 * @l: the lease
 * @who: the cookie going away (open file released, netlink socket
 *	released)
 *
 * If @who holds the lease, it is lost at once. The core then runs the
 * lease-loss handling, as at the deadline.
 */
void ipump_lease_orphan(struct ipump_lease *l, const void *who)
{
	if (who && l->owner == who)
		l->flags |= IPUMP_LEASE_F_ORPHANED;
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_orphan, IPUMP_INTERNAL);

/**
 * ipump_lease_check() - may @who issue a command that needs the lease
 * @l: the lease
 * @who: the requester's cookie
 * @now_ns: now
 *
 * Start, titrate and bolus commands need it; stop and pause never do.
 *
 * Return: 0 if @who holds it live; -EPERM if not (%IPUMP_REASON_NO_LEASE);
 * -ETIMEDOUT if @who's lease is lost (%IPUMP_REASON_LEASE_EXPIRED).
 */
int ipump_lease_check(const struct ipump_lease *l, const void *who,
		      u64 now_ns)
{
	if (!who || l->owner != who)
		return -EPERM;
	if (ipump_lease_expired(l, now_ns))
		return -ETIMEDOUT;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_lease_check, IPUMP_INTERNAL);
