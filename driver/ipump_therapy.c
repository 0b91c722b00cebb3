// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: the therapy engine. Programmes, hard limits, the state
 * machine, boluses, dose limits, delivery verification, alarms and the
 * console lease, for every interface.
 *
 * Documentation/safety/therapy-engine.rst describes the behaviour; the pure
 * rules it applies are in ipump_rules.c. Everything here runs with the
 * card lock held (a mutex: register access may sleep).
 */
#include <linux/bitops.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/property.h>
#include <linux/suspend.h>
#include <linux/regmap.h>
#include <linux/string.h>

#include "ipump_priv.h"

/* Sample the card at least this often while a channel delivers. */
#define IPUMP_TICK_NS		(1000 * NSEC_PER_MSEC)
/* Below this commanded volume, step quantisation dominates the check. */
#define IPUMP_VERIFY_MIN_NL	100000ULL
/* Handset presses handled per interrupt; the rest are denied as a burst. */
#define IPUMP_HANDSET_BURST	16

static bool ipump_delivering(enum ipump_channel_state s)
{
	return s == IPUMP_STATE_RUNNING || s == IPUMP_STATE_BOLUS ||
	       s == IPUMP_STATE_KVO;
}

unsigned long ipump_alarms_latching(void)
{
	unsigned long mask = 0;
	unsigned int a;

	for (a = 0; a < IPUMP_ALARM_COUNT; a++)
		if (ipump_alarm_info(a)->rules & IPUMP_ALARM_RULE_LATCHING)
			mask |= BIT(a);
	return mask;
}

static u32 ipump_ch_flags(struct ipump_channel *ch)
{
	return ipump_sm_flags(ch->has_prog ? &ch->prog : NULL, ch->kvo_hold);
}

/* The next state for @e, or a negative errno; nothing changes here. */
static int ipump_ch_next(struct ipump_channel *ch, enum ipump_sm_event e)
{
	int next = ipump_sm_next(ch->state, e, ipump_ch_flags(ch));

	/* a service run (no programme) rests in idle, not programmed */
	if (next == IPUMP_STATE_PROGRAMMED && !ch->has_prog)
		next = IPUMP_STATE_IDLE;
	return next;
}

/* Logs a refusal and returns @err. */
static int ipump_refuse(struct ipump_card *card, u8 channel,
			struct ipump_req *req, int err, enum ipump_reason why,
			u64 value, u64 limit)
{
	req->reason = why;
	ipump_card_event4(card, IPUMP_EVENT_REQUEST_REFUSED, channel,
			  IPUMP_PRIO_INFO, 0, -err, why, value, limit);
	return err;
}

static int ipump_ch_refuse(struct ipump_channel *ch, struct ipump_req *req,
			   int err, enum ipump_reason why)
{
	return ipump_refuse(ch->card, ch->index, req, err, why, 0, 0);
}

/* A state refusal: the transition table's errno. */
static int ipump_ch_refuse_state(struct ipump_channel *ch,
				 struct ipump_req *req, int err)
{
	return ipump_refuse(ch->card, ch->index, req, err, IPUMP_REASON_STATE,
			    ch->state, 0);
}

/* ---- time arithmetic */

/* Card-clock time to deliver @nl at @rate, rounded up to whole ms. */
static u64 ipump_time_for_ns(u64 nl, u32 rate_nl_per_h)
{
	u64 ms;

	if (!rate_nl_per_h)
		return U64_MAX;
	/* beyond a year the answer does not matter: no overflow below */
	nl = min_t(u64, nl, 1000000000000ULL);
	ms = div_u64(nl * 3600000ULL + rate_nl_per_h - 1, rate_nl_per_h);
	return max_t(u64, ms, 1) * NSEC_PER_MSEC;
}

/* ---- the card side of a channel */

static int ipump_ch_read_cond(struct ipump_channel *ch, u32 *cond)
{
	int ret = ipump_ch_read(ch, IPUMP_CH_ALARM_COND, cond);

	if (ret)
		return ret;
	if (*cond & ~IPUMP_ALM_ALL)
		return ipump_ch_implausible(ch, "ALARM_COND", *cond);
	return 0;
}

/*
 * Programs a rate register and reads it back: the card may only round
 * toward less drug (CONTRACTS.md). *@got is what it runs; -EINVAL if it
 * cannot run @want at all.
 */
static int ipump_ch_set_rate_reg(struct ipump_channel *ch, unsigned int reg,
				 u32 want, u32 *got)
{
	int ret;

	ret = ipump_ch_write(ch, reg, want) ?: ipump_ch_read(ch, reg, got);
	if (ret)
		return ret;
	if (*got > want)
		return ipump_ch_implausible(ch, "rate read back", *got);
	if (want && !*got)
		return -EINVAL;
	return 0;
}

/* ---- accounting: what the card counted against what was commanded */

/* Starts sampling at the card's current counters. */
static int ipump_acct_start(struct ipump_channel *ch, u64 now)
{
	u64 delivered;
	u32 steps, air_total;
	int ret;

	ret = ipump_ch_read64(ch, IPUMP_CH_DELIVERED_LO, &delivered) ?:
	      ipump_ch_read(ch, IPUMP_CH_STEP_COUNT, &steps) ?:
	      ipump_ch_read(ch, IPUMP_CH_AIR_TOTAL_NL, &air_total);
	if (ret)
		return ret;
	ch->last_tick = now;
	ch->last_delivered = delivered;
	ch->last_steps = steps;
	ch->last_air_total = air_total;
	ch->started_delivered = delivered;
	ch->tick_due = now;	/* the tick schedules itself */
	ipump_stall_reset(&ch->stall);
	return 0;
}

/*
 * Accounts what happened since the last sample, at the rate commanded
 * since then. Call before anything changes the commanded rate.
 */
static int ipump_acct_sample(struct ipump_channel *ch, u64 now)
{
	u64 delivered, delta, cmd;
	u32 steps, air_total, bolus;
	int ret;

	if (ch->tick_due == U64_MAX)
		return 0;
	ret = ipump_ch_read64(ch, IPUMP_CH_DELIVERED_LO, &delivered) ?:
	      ipump_ch_read(ch, IPUMP_CH_STEP_COUNT, &steps) ?:
	      ipump_ch_read(ch, IPUMP_CH_AIR_TOTAL_NL, &air_total);
	if (ret)
		return ret;
	if (ch->state == IPUMP_STATE_BOLUS) {
		/* what a fault reports if the card falls silent before the end */
		ret = ipump_ch_read(ch, IPUMP_CH_BOLUS_DELIVERED_NL, &bolus);
		if (ret)
			return ret;
		if (bolus > ch->bolus_volume)
			return ipump_ch_implausible(ch, "BOLUS_DELIVERED", bolus);
		ch->bolus_delivered = bolus;
	}

	/* the counter only goes back during a back-off, which is not delivery */
	delta = delivered >= ch->last_delivered ?
		delivered - ch->last_delivered : 0;
	cmd = now > ch->last_tick ?
	      ipump_volume_nl(ch->rate_cmd, now - ch->last_tick) : 0;
	ch->commanded_nl += cmd;
	ch->infused_nl += delta;
	if (!(ch->state == IPUMP_STATE_BOLUS && ch->bolus_clinician))
		ipump_dose_add(&ch->dose, now, delta);
	ipump_verify_add(&ch->verify, now, cmd, delta);
	/* a counter, not the sensor's present bit: no bubble falls between ticks */
	if (air_total != ch->last_air_total)
		ipump_air_add(&ch->air, now, air_total - ch->last_air_total);
	ch->last_air_total = air_total;

	ch->last_tick = now;
	ch->last_delivered = delivered;
	ch->last_steps = steps;
	return 0;
}

/* The first delivering channel of @card, or -1. Called under card->lock. */
static int ipump_card_delivering(struct ipump_card *card)
{
	unsigned int i;

	for (i = 0; i < card->num_channels; i++)
		if (ipump_delivering(card->ch[i].state))
			return i;
	return -1;
}

static void ipump_update_wakeup(struct ipump_card *card)
{
	if (ipump_card_delivering(card) >= 0)
		__pm_stay_awake(card->wakeup);
	else
		__pm_relax(card->wakeup);
}

/*
 * A system sleep would stop the host kicking the card's watchdog, and so
 * the motor, with nobody having decided to stop therapy. The wakeup
 * source only counts for autosleep and the wakeup_count protocol; a plain
 * write to /sys/power/state asks the notifiers, so refuse it here.
 *
 * ipump_sleeping is set before the cards are looked at and read under a
 * card's lock by start and resume: a channel either is seen delivering
 * here or is refused (-EBUSY) until the system has woken up.
 */
static bool ipump_sleeping;

static int ipump_pm_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct ipump_card *card;
	u32 id = 0;
	int ch;

	if (action == PM_POST_SUSPEND || action == PM_POST_HIBERNATION)
		WRITE_ONCE(ipump_sleeping, false);
	if (action != PM_SUSPEND_PREPARE && action != PM_HIBERNATION_PREPARE)
		return NOTIFY_DONE;
	WRITE_ONCE(ipump_sleeping, true);
	while ((card = ipump_card_get_next(&id))) {
		scoped_guard(mutex, &card->lock)
			ch = card->dead ? -1 : ipump_card_delivering(card);
		if (ch >= 0)
			dev_warn(&card->dev,
				 "system sleep refused: channel %d is delivering\n",
				 ch);
		ipump_card_put(card);
		if (ch >= 0) {
			WRITE_ONCE(ipump_sleeping, false);
			return notifier_from_errno(-EBUSY);
		}
		id++;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ipump_pm_nb = {
	.notifier_call = ipump_pm_notify,
};

int ipump_therapy_init(void)
{
	return register_pm_notifier(&ipump_pm_nb);
}

void ipump_therapy_exit(void)
{
	unregister_pm_notifier(&ipump_pm_nb);
}

/* Called by ipump_ch_set_state() after every change of state. */
void ipump_therapy_state_changed(struct ipump_channel *ch)
{
	if (!ipump_delivering(ch->state)) {
		ch->tick_due = U64_MAX;
		ch->rate_cmd = 0;
		ch->service = false;
	}
	ipump_update_wakeup(ch->card);
}

/* Commands the card for a state without a bolus; sets @rate_cmd. */
static int ipump_ch_apply(struct ipump_channel *ch,
			  enum ipump_channel_state s, u32 *flags)
{
	u32 want = 0, got = 0;
	int ret;

	if (s == IPUMP_STATE_RUNNING)
		want = ch->service ? ch->rate_cmd : ch->prog.basal_rate_nl_per_h;
	else if (s == IPUMP_STATE_KVO)
		want = ch->prog.kvo_rate_nl_per_h;

	if (!want) {
		ch->rate_cmd = 0;
		return ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP);
	}
	ret = ipump_ch_set_rate_reg(ch, IPUMP_CH_RATE_NL_PER_H, want, &got);
	if (ret)
		return ret;
	if (got != want && flags)
		*flags |= IPUMP_EVENT_F_ROUNDED;
	ret = ipump_card_write(ch->card, IPUMP_REG_WDT_KEEPALIVE,
			       IPUMP_WDT_KICK) ?:
	      ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_RUN);
	if (ret)
		return ret;
	ch->rate_cmd = got;
	return 0;
}

/* Moves to @s (already checked) after accounting at the old rate. */
static int ipump_ch_go(struct ipump_channel *ch, enum ipump_channel_state s,
		       enum ipump_event_cause cause, u64 now)
{
	int ret;

	ret = ipump_acct_sample(ch, now) ?: ipump_ch_apply(ch, s, NULL);
	if (ret)
		return ret;
	ipump_ch_set_state(ch, s, cause);
	return 0;
}

/* ---- boluses */

/*
 * Ends the bolus in progress: @completed when the card reported it done,
 * else cancels it on the card. Reports the volume the card counted.
 */
static int ipump_bolus_end(struct ipump_channel *ch, bool completed,
			   enum ipump_event_cause cause, u64 now)
{
	u32 got;
	int ret;

	if (ch->state != IPUMP_STATE_BOLUS)
		return 0;
	if (!completed) {
		ret = ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_BOLUS_CANCEL);
		if (ret)
			return ret;
	}
	ret = ipump_ch_read(ch, IPUMP_CH_BOLUS_DELIVERED_NL, &got) ?:
	      ipump_acct_sample(ch, now);
	if (ret)
		return ret;
	if (got > ch->bolus_volume)
		return ipump_ch_implausible(ch, "BOLUS_DELIVERED", got);
	ch->bolus_delivered = got;
	if (completed)
		ipump_card_event(ch->card, IPUMP_EVENT_BOLUS_COMPLETED,
				 ch->index, IPUMP_PRIO_INFO, ch->bolus_req,
				 got, 0);
	else
		ipump_card_event4(ch->card, IPUMP_EVENT_BOLUS_CANCELLED,
				  ch->index, IPUMP_PRIO_INFO, 0, ch->bolus_req,
				  cause, got, ch->bolus_volume - got);
	/* the card goes back to the basal rate, or stops without one */
	ch->rate_cmd = ch->prog.basal_rate_nl_per_h;
	if (!ch->rate_cmd) {
		ret = ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP);
		if (ret)
			return ret;
	}
	ipump_ch_set_state(ch, IPUMP_STATE_RUNNING, cause);
	return 0;
}

/* Runs an admitted bolus on the card. */
static int ipump_bolus_run(struct ipump_channel *ch, bool clinician,
			   u32 volume, u32 rate, u64 req_seq, u64 now)
{
	u32 got_volume, got_rate;
	u64 start;
	int ret;

	ret = ipump_ch_write(ch, IPUMP_CH_BOLUS_VOLUME_NL, volume) ?:
	      ipump_ch_read(ch, IPUMP_CH_BOLUS_VOLUME_NL, &got_volume) ?:
	      ipump_ch_set_rate_reg(ch, IPUMP_CH_BOLUS_RATE_NL_PER_H, rate,
				    &got_rate);
	if (ret)
		return ret;
	if (got_volume > volume)
		return ipump_ch_implausible(ch, "BOLUS_VOLUME", got_volume);
	ret = ipump_acct_sample(ch, now) ?:
	      ipump_card_write(ch->card, IPUMP_REG_WDT_KEEPALIVE,
			       IPUMP_WDT_KICK) ?:
	      ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_BOLUS_START);
	if (ret)
		return ret;
	/*
	 * The bolus starts now, not when the request came in: the register
	 * I/O above takes card time. The lockout runs from this instant, the
	 * one BOLUS_STARTED records.
	 */
	start = ipump_clock_now(ch->card);

	ch->bolus_clinician = clinician;
	ch->bolus_req = req_seq;
	ch->bolus_volume = got_volume;
	ch->bolus_delivered = 0;
	ch->rate_cmd = got_rate;
	if (clinician) {
		ch->clinician_boluses++;
	} else {
		ch->pca_delivered++;
		ch->lockout_ref = start;
		ipump_bolus_ring_add(&ch->ring, start);
	}
	ipump_card_event_at(ch->card, start, IPUMP_EVENT_BOLUS_STARTED,
			    ch->index, IPUMP_PRIO_INFO,
			    got_volume != volume || got_rate != rate ?
			    IPUMP_EVENT_F_ROUNDED : 0,
			    req_seq, got_volume, got_rate, 0);
	ipump_ch_set_state(ch, IPUMP_STATE_BOLUS, IPUMP_CAUSE_COMMAND);
	ch->tick_due = now;
	return 0;
}

/* ms until the hourly count lets one more demand in (rounded up). */
static u64 ipump_hourly_wait_ms(struct ipump_channel *ch, u64 now)
{
	const u64 hour = (u64)IPUMP_DOSE_WINDOW_1H_MS * NSEC_PER_MSEC;
	u64 oldest = U64_MAX;
	u32 i;

	for (i = 0; i < ch->ring.used; i++) {
		u64 t = ch->ring.start_ns[i];

		if (t + hour > now)
			oldest = min(oldest, t);
	}
	if (oldest == U64_MAX)
		return 0;
	return DIV_ROUND_UP_ULL(oldest + hour - now, NSEC_PER_MSEC);
}

/* Checks a PCA demand against the rules: 0, or an errno with the reason. */
static int ipump_demand_check(struct ipump_channel *ch, u64 now,
			      enum ipump_reason *why, u64 *wait_ms)
{
	const struct ipump_programme *p = &ch->prog;
	u64 left;
	int next;

	*wait_ms = 0;
	if (!ch->has_prog || !(p->flags & IPUMP_PROG_PCA)) {
		*why = ch->has_prog ? IPUMP_REASON_PCA_FIELDS : IPUMP_REASON_STATE;
		return -EINVAL;
	}
	next = ipump_ch_next(ch, IPUMP_SM_BOLUS_START);
	if (next < 0) {
		*why = IPUMP_REASON_STATE;
		return next;
	}
	left = ipump_lockout_remaining_ns(ch->lockout_ref, now, p->lockout_ms);
	if (left) {
		*why = IPUMP_REASON_LOCKOUT;
		*wait_ms = DIV_ROUND_UP_ULL(left, NSEC_PER_MSEC);
		return -EAGAIN;
	}
	if (ipump_bolus_ring_count(&ch->ring, now) >= p->max_boluses_per_hour) {
		*why = IPUMP_REASON_HOURLY_COUNT;
		*wait_ms = ipump_hourly_wait_ms(ch, now);
		return -EAGAIN;
	}
	if (ipump_dose_would_exceed(&ch->dose, now, p->bolus_volume_nl,
				    p->max_dose_1h_nl, p->max_dose_4h_nl)) {
		*why = IPUMP_REASON_DOSE_LIMIT;
		return -EDQUOT;
	}
	return 0;
}

/* A PCA demand from the handset (@req NULL) or a console. */
static int ipump_demand(struct ipump_channel *ch, struct ipump_req *req,
			u32 source, u64 now)
{
	const struct ipump_programme *p = &ch->prog;
	enum ipump_reason why = IPUMP_REASON_NONE;
	u64 seq, wait_ms;
	int ret;

	seq = ipump_card_event4(ch->card, IPUMP_EVENT_BOLUS_REQUESTED,
				ch->index, IPUMP_PRIO_INFO, source,
				ch->has_prog ? p->bolus_volume_nl : 0,
				ch->has_prog ? p->bolus_rate_nl_per_h : 0, 0, 0);
	ret = ipump_demand_check(ch, now, &why, &wait_ms);
	if (ret) {
		ch->pca_denied++;
		if (req)
			req->reason = why;
		ipump_card_event4(ch->card, IPUMP_EVENT_BOLUS_DENIED, ch->index,
				  IPUMP_PRIO_INFO, source, seq, -ret, why,
				  wait_ms);
		return ret;
	}
	return ipump_bolus_run(ch, false, p->bolus_volume_nl,
			       p->bolus_rate_nl_per_h, seq, now);
}

/* ---- alarms */

/* An alarm stops the channel: cancel a bolus, stop the motor, log. */
static int ipump_alarm_stop(struct ipump_channel *ch, unsigned int alarm,
			    u64 now)
{
	bool was_delivering = ipump_delivering(ch->state);
	int next, ret;

	ret = ipump_bolus_end(ch, false, IPUMP_CAUSE_ALARM, now);
	if (ret)
		return ret;
	next = ipump_ch_next(ch, IPUMP_SM_ALARM_STOP);
	if (next < 0)
		return 0;	/* fault stays fault */
	ret = ipump_acct_sample(ch, now) ?:
	      ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP);
	if (ret)
		return ret;
	if (was_delivering)
		ipump_card_event(ch->card, IPUMP_EVENT_STOPPED, ch->index,
				 IPUMP_PRIO_INFO, IPUMP_CAUSE_ALARM, alarm,
				 ch->last_delivered - ch->started_delivered);
	ipump_ch_set_state(ch, next, IPUMP_CAUSE_ALARM);
	return 0;
}

/* Raises @alarms on the channel and stops it for the stopping ones. */
static int ipump_ch_raise(struct ipump_channel *ch, unsigned long alarms,
			  u64 now)
{
	unsigned long stopping = alarms & ipump_alarms_stopping();

	ipump_alarms_raise(ch->card, ch->index, &ch->alarms,
			   &ch->alarms_unacked, alarms);
	if (!stopping)
		return 0;
	/* a stopped channel in alarm stays where it is */
	if (ch->state == IPUMP_STATE_ALARM_STOPPED ||
	    ch->state == IPUMP_STATE_FAULT)
		return 0;
	return ipump_alarm_stop(ch, __ffs(stopping), now);
}

/* Delivery held at KVO or stopped: the VTBI or a dose limit was reached. */
static int ipump_ch_limit_reached(struct ipump_channel *ch,
				  enum ipump_sm_event e, unsigned int alarm,
				  enum ipump_event_cause cause, u64 now)
{
	int next, ret;

	ipump_alarms_raise(ch->card, ch->index, &ch->alarms,
			   &ch->alarms_unacked, BIT(alarm));
	next = ipump_ch_next(ch, e);
	if (next < 0 || next == ch->state)
		return 0;
	ret = ipump_bolus_end(ch, false, cause, now);
	if (ret)
		return ret;
	ch->kvo_hold = true;
	next = ipump_ch_next(ch, e);
	if (next < 0)
		return 0;
	if (next == IPUMP_STATE_KVO) {
		ret = ipump_ch_go(ch, next, cause, now);
		if (!ret)
			ipump_card_event(ch->card, IPUMP_EVENT_KVO_STARTED,
					 ch->index, IPUMP_PRIO_INFO, cause,
					 ch->rate_cmd, 0);
		return ret;
	}
	ret = ipump_acct_sample(ch, now) ?:
	      ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP);
	if (ret)
		return ret;
	ipump_card_event(ch->card, IPUMP_EVENT_STOPPED, ch->index,
			 IPUMP_PRIO_INFO, cause, alarm,
			 ch->last_delivered - ch->started_delivered);
	ipump_ch_set_state(ch, next, cause);
	return 0;
}

/* ---- the delivery tick */

static void ipump_tick_schedule(struct ipump_channel *ch, u64 now)
{
	const struct ipump_programme *p = &ch->prog;
	u64 next = now + IPUMP_TICK_NS;

	if (!ipump_delivering(ch->state)) {
		ch->tick_due = U64_MAX;
		return;
	}
	if (ch->has_prog && ch->rate_cmd) {
		u64 head = ipump_dose_headroom_nl(&ch->dose, now,
						  p->max_dose_1h_nl,
						  p->max_dose_4h_nl);

		if (!(p->flags & IPUMP_PROG_VTBI_UNLIMITED) && !ch->kvo_hold &&
		    p->vtbi_nl > ch->infused_nl)
			next = min(next, now + ipump_time_for_ns(p->vtbi_nl -
						ch->infused_nl, ch->rate_cmd));
		if (head)
			next = min(next, now + ipump_time_for_ns(head,
								 ch->rate_cmd));
	}
	ch->tick_due = next;
}

static int ipump_tick(struct ipump_channel *ch, u64 now)
{
	const struct ipump_hard_limits *l = &ch->limits;
	const struct ipump_programme *p = &ch->prog;
	enum ipump_verify_result v;
	u32 cond;
	int ret;

	ret = ipump_acct_sample(ch, now) ?: ipump_ch_read_cond(ch, &cond);
	if (ret)
		return ret;
	/* non-latching alarms clear with their condition */
	ipump_alarms_keep(ch->card, ch->index, &ch->alarms, &ch->alarms_unacked,
			  (ch->alarms & ipump_alarms_latching()) |
			  ipump_ch_alarms(cond) |
			  (ch->alarms & ~ipump_ch_alarms(IPUMP_ALM_ALL)));

	if (ch->rate_cmd &&
	    ipump_stall_check(&ch->stall, now, ch->last_steps,
			      ch->commanded_nl, ch->card->nl_per_step,
			      l->stall_ms))
		return ipump_ch_raise(ch, BIT(IPUMP_ALARM_MOTOR_STALL), now);

	v = ipump_verify_check(&ch->verify, now, l->over_infusion_pct,
			       l->under_infusion_pct, IPUMP_VERIFY_MIN_NL);
	if (v == IPUMP_VERIFY_OVER)
		return ipump_ch_raise(ch, BIT(IPUMP_ALARM_OVER_INFUSION), now);
	if (v == IPUMP_VERIFY_UNDER)
		ipump_ch_raise(ch, BIT(IPUMP_ALARM_UNDER_INFUSION), now);

	if (ipump_air_exceeded(&ch->air, now, l->air_accum_nl))
		return ipump_ch_raise(ch, BIT(IPUMP_ALARM_AIR_ACCUMULATED), now);

	if (!ch->has_prog)
		return 0;
	if (!(p->flags & IPUMP_PROG_VTBI_UNLIMITED) && !ch->kvo_hold &&
	    ch->infused_nl >= p->vtbi_nl) {
		ret = ipump_ch_limit_reached(ch, IPUMP_SM_VTBI_DONE,
					     IPUMP_ALARM_VTBI_COMPLETE,
					     IPUMP_CAUSE_VOLUME_DONE, now);
		if (ret || !ipump_delivering(ch->state))
			return ret;
	}
	if (ipump_dose_reached(&ch->dose, now, p->max_dose_1h_nl,
			       p->max_dose_4h_nl))
		return ipump_ch_limit_reached(ch, IPUMP_SM_DOSE_LIMIT,
					      IPUMP_ALARM_DOSE_LIMIT,
					      IPUMP_CAUSE_DOSE_LIMIT, now);
	return 0;
}

/* ---- the console lease */

static void ipump_lease_lost(struct ipump_channel *ch, bool heartbeat,
			     u64 now)
{
	static const enum ipump_sm_event mode_event[] = {
		[IPUMP_LEASE_LOSS_STOP] = IPUMP_SM_LEASE_LOST_STOP,
		[IPUMP_LEASE_LOSS_KVO] = IPUMP_SM_LEASE_LOST_KVO,
		[IPUMP_LEASE_LOSS_CONTINUE_BASAL] = IPUMP_SM_LEASE_LOST_BASAL,
	};
	u32 mode = ch->has_prog ? ch->prog.lease_loss_mode :
				  IPUMP_LEASE_LOSS_STOP;
	u64 id = ch->lease_id;
	int next;

	ch->lease_loss_done = true;
	if (!ipump_delivering(ch->state) && ch->state != IPUMP_STATE_PAUSED) {
		/* no therapy to protect: the lease is simply free again */
		memset(&ch->lease, 0, sizeof(ch->lease));
		ch->lease_loss_done = false;
		ipump_card_event(ch->card, IPUMP_EVENT_LEASE_LOST, ch->index,
				 IPUMP_PRIO_INFO, id, mode, heartbeat);
		return;
	}

	if (ipump_bolus_end(ch, false, IPUMP_CAUSE_LEASE_LOST, now))
		return;
	ipump_alarms_raise(ch->card, ch->index, &ch->alarms,
			   &ch->alarms_unacked, BIT(IPUMP_ALARM_LEASE_LOST));
	ipump_card_event(ch->card, IPUMP_EVENT_LEASE_LOST, ch->index,
			 IPUMP_PRIO_HIGH, id, mode, heartbeat);
	next = ipump_ch_next(ch, mode_event[mode]);
	if (next < 0 || next == ch->state)
		return;
	if (next == IPUMP_STATE_ALARM_STOPPED) {
		if (ipump_acct_sample(ch, now) ||
		    ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP))
			return;
		ipump_card_event(ch->card, IPUMP_EVENT_STOPPED, ch->index,
				 IPUMP_PRIO_INFO, IPUMP_CAUSE_LEASE_LOST, 0,
				 ch->last_delivered - ch->started_delivered);
		ipump_ch_set_state(ch, next, IPUMP_CAUSE_LEASE_LOST);
		return;
	}
	if (!ipump_ch_go(ch, next, IPUMP_CAUSE_LEASE_LOST, now) &&
	    next == IPUMP_STATE_KVO)
		ipump_card_event(ch->card, IPUMP_EVENT_KVO_STARTED, ch->index,
				 IPUMP_PRIO_INFO, IPUMP_CAUSE_LEASE_LOST,
				 ch->rate_cmd, 0);
}

static u64 ipump_lease_due(struct ipump_channel *ch)
{
	if (!ch->lease.owner || ch->lease_loss_done)
		return U64_MAX;
	return ipump_lease_deadline_ns(&ch->lease);
}

/* ---- hooks for ipump_core.c */

u64 ipump_therapy_deadline(struct ipump_channel *ch)
{
	u64 next = min(ch->tick_due, ipump_lease_due(ch));

	if (ch->audio.until_ns)
		next = min(next, ch->audio.until_ns);
	return next;
}

static enum ipump_priority ipump_alarms_priority(unsigned long alarms)
{
	enum ipump_priority prio = IPUMP_PRIO_INFO;
	unsigned int a;

	for_each_set_bit(a, &alarms, IPUMP_ALARM_COUNT)
		prio = max(prio, ipump_alarm_info(a)->priority);
	return prio;
}

void ipump_therapy_timers(struct ipump_channel *ch, u64 now)
{
	if (ipump_lease_due(ch) <= now)
		ipump_lease_lost(ch, !(ch->lease.flags & IPUMP_LEASE_F_ORPHANED),
				 now);
	if (ch->audio.until_ns && ch->audio.until_ns <= now) {
		ch->audio.until_ns = 0;
		ipump_card_event(ch->card, IPUMP_EVENT_AUDIO_PAUSE_ENDED,
				 ch->index, ipump_alarms_priority(ch->alarms),
				 ch->alarms, 0, 0);
	}
	if (ch->tick_due <= now) {
		/* an error has taken the channel to fault: no more ticks */
		ipump_tick(ch, now);
		ipump_tick_schedule(ch, now);
	}
}

int ipump_therapy_ch_irq(struct ipump_channel *ch, u32 latch, u32 cond)
{
	unsigned long alarms = ipump_ch_alarms(latch | cond);
	u64 now = ipump_clock_now(ch->card);
	int ret = 0;

	/* non-latching ones go with their condition */
	ipump_alarms_keep(ch->card, ch->index, &ch->alarms, &ch->alarms_unacked,
			  (ch->alarms & ipump_alarms_latching()) | alarms |
			  (ch->alarms & ~ipump_ch_alarms(IPUMP_ALM_ALL)));

	if ((alarms & ~ch->alarms) & BIT(IPUMP_ALARM_OCCLUSION_DOWN)) {
		u32 mmhg;

		/* the one alarm whose record carries a detail: the pressure */
		ret = ipump_ch_read(ch, IPUMP_CH_PRESSURE_DOWN_MMHG, &mmhg);
		if (ret)
			return ret;
		ipump_card_event(ch->card, IPUMP_EVENT_ALARM_RAISED, ch->index,
				 IPUMP_PRIO_HIGH, IPUMP_ALARM_OCCLUSION_DOWN,
				 mmhg, 0);
		ch->alarms |= BIT(IPUMP_ALARM_OCCLUSION_DOWN);
		ch->alarms_unacked |= BIT(IPUMP_ALARM_OCCLUSION_DOWN);
	}
	if (latch & IPUMP_ALM_BOLUS_DONE) {
		ret = ipump_bolus_end(ch, true, IPUMP_CAUSE_COMMAND, now);
		if (ret)
			return ret;
	}
	ret = ipump_ch_raise(ch, alarms, now);
	if (ret)
		return ret;
	if (alarms & BIT(IPUMP_ALARM_OCCLUSION_DOWN)) {
		/* draw back what the pressure pushed into the line */
		ret = ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_BACKOFF);
		if (ret)
			return ret;
	}
	if (latch & IPUMP_ALM_HANDSET) {
		u32 count, n, i;

		ret = ipump_ch_read(ch, IPUMP_CH_HANDSET_COUNT, &count);
		if (ret)
			return ret;
		n = count - ch->handset_count;
		ch->handset_count = count;
		ch->handset_presses += n;
		for (i = 0; i < min_t(u32, n, IPUMP_HANDSET_BURST); i++)
			ipump_demand(ch, NULL, IPUMP_EVENT_F_HANDSET, now);
	}
	if (ipump_delivering(ch->state))
		ipump_tick_schedule(ch, min(ch->tick_due, now));
	return 0;
}

int ipump_therapy_card_alarms(struct ipump_channel *ch, unsigned long alarms)
{
	unsigned long stopping = alarms & ipump_alarms_stopping();

	if (!stopping || !ipump_delivering(ch->state))
		return 0;
	return ipump_ch_raise(ch, stopping, ipump_clock_now(ch->card));
}

/*
 * The card stopped answering. No register access here: a bolus in
 * progress ends with what was last read, marked uncertain.
 */
void ipump_therapy_fault(struct ipump_channel *ch)
{
	if (ch->state != IPUMP_STATE_BOLUS)
		return;
	ipump_card_event4(ch->card, IPUMP_EVENT_BOLUS_CANCELLED, ch->index,
			  IPUMP_PRIO_INFO, 0, ch->bolus_req, IPUMP_CAUSE_FAULT,
			  ch->bolus_delivered, IPUMP_NONE_U64);
}

int ipump_therapy_service_start(struct ipump_channel *ch, u32 rate_nl_per_h)
{
	u64 now = ipump_clock_now(ch->card);
	u32 cond;
	int ret;

	ret = ipump_ch_read_cond(ch, &cond);
	if (ret)
		return ret;
	if (cond & IPUMP_ALM_CARD_STOPS)
		return -EBUSY;
	ret = ipump_acct_start(ch, now);
	if (ret)
		return ret;
	ch->service = true;
	ch->rate_cmd = rate_nl_per_h;
	ret = ipump_ch_apply(ch, IPUMP_STATE_RUNNING, NULL);
	if (ret) {
		ch->service = false;
		ch->tick_due = U64_MAX;
		return ret;
	}
	ipump_card_event(ch->card, IPUMP_EVENT_STARTED, ch->index,
			 IPUMP_PRIO_INFO, 0, ch->rate_cmd, 0);
	ipump_ch_set_state(ch, IPUMP_STATE_RUNNING, IPUMP_CAUSE_COMMAND);
	ipump_tick_schedule(ch, now);
	ipump_clock_arm(ch->card, false);
	return 0;
}

void ipump_therapy_status(struct ipump_channel *ch,
			  struct ipump_channel_status *st, const void *owner)
{
	const struct ipump_programme *p = &ch->prog;
	u64 now = st->timestamp_ns;
	u32 bolus;

	st->alarms_unacked = ch->alarms_unacked;
	st->generation = ch->generation;
	st->infused_nl = ch->infused_nl;
	st->vtbi_remaining_nl = IPUMP_NONE_U64;
	if (ch->has_prog && !(p->flags & IPUMP_PROG_VTBI_UNLIMITED))
		st->vtbi_remaining_nl = p->vtbi_nl > ch->infused_nl ?
					p->vtbi_nl - ch->infused_nl : 0;
	st->bolus_delivered_nl = ch->bolus_delivered;
	if (ch->state == IPUMP_STATE_BOLUS &&
	    !regmap_read(ch->card->regmap,
			 IPUMP_CH_REG(ch->index, IPUMP_CH_BOLUS_DELIVERED_NL),
			 &bolus))
		st->bolus_delivered_nl = bolus;
	st->dose_1h_nl = ipump_dose_sum(&ch->dose, now, IPUMP_DOSE_WINDOW_1H_MS);
	st->dose_4h_nl = ipump_dose_sum(&ch->dose, now, IPUMP_DOSE_WINDOW_4H_MS);
	if (ipump_audio_paused(&ch->audio, now))
		st->audio_paused_until_ns = ch->audio.until_ns;
	st->priority = ipump_alarms_priority(ch->alarms);
	st->pca_delivered = ch->pca_delivered;
	st->pca_denied = ch->pca_denied;
	st->clinician_boluses = ch->clinician_boluses;
	if (ch->has_prog && p->flags & IPUMP_PROG_PCA)
		st->lockout_remaining_ms =
			DIV_ROUND_UP_ULL(ipump_lockout_remaining_ns(ch->lockout_ref,
								    now,
								    p->lockout_ms),
					 NSEC_PER_MSEC);
	st->time_to_empty_s = IPUMP_NONE_U32;
	if (ipump_delivering(ch->state) && st->rate_nl_per_h)
		st->time_to_empty_s = min_t(u64, IPUMP_NONE_U32 - 1,
					    div_u64(st->reservoir_nl * 3600,
						    st->rate_nl_per_h));

	st->lease = IPUMP_LEASE_FREE;
	if (ch->lease.owner) {
		st->lease_expires_ns = ch->lease.expires_ns;
		if (ipump_lease_expired(&ch->lease, now))
			st->lease = IPUMP_LEASE_ORPHANED;
		else
			st->lease = ch->lease.owner == owner ? IPUMP_LEASE_MINE :
							       IPUMP_LEASE_HELD;
	}
}

void ipump_therapy_card_dead(struct ipump_card *card)
{
	unsigned int i;

	for (i = 0; i < card->num_channels; i++)
		card->ch[i].tick_due = U64_MAX;
	__pm_relax(card->wakeup);
}

/*
 * A channel's initial hard limits come from its firmware node, the child
 * "channel@N" (reg = N) of the card's node (device tree or software node),
 * Documentation/devicetree/bindings/misc/ipump,card.yaml; every property
 * is a u32.
 */
static const struct {
	const char *name;
	size_t off;
	bool wide;
} ipump_limit_props[] = {
#define U32_PROP(n, f) { n, offsetof(struct ipump_hard_limits, f), false }
#define U64_PROP(n, f) { n, offsetof(struct ipump_hard_limits, f), true }
	U32_PROP("ipump,min-rate-nl-per-h", min_rate_nl_per_h),
	U32_PROP("ipump,max-rate-nl-per-h", max_rate_nl_per_h),
	U32_PROP("ipump,max-kvo-rate-nl-per-h", max_kvo_rate_nl_per_h),
	U32_PROP("ipump,max-bolus-volume-nl", max_bolus_volume_nl),
	U32_PROP("ipump,max-bolus-rate-nl-per-h", max_bolus_rate_nl_per_h),
	U32_PROP("ipump,min-lockout-ms", min_lockout_ms),
	U64_PROP("ipump,max-vtbi-nl", max_vtbi_nl),
	U64_PROP("ipump,max-dose-1h-nl", max_dose_1h_nl),
	U64_PROP("ipump,max-dose-4h-nl", max_dose_4h_nl),
	U32_PROP("ipump,max-boluses-per-hour", max_boluses_per_hour),
#undef U32_PROP
#undef U64_PROP
};

/* The channel's firmware node with a reference, or NULL. */
static struct fwnode_handle *ipump_channel_fwnode(struct device *parent,
						  unsigned int index)
{
	struct fwnode_handle *child;
	u32 reg;

	device_for_each_child_node(parent, child)
		if (!fwnode_property_read_u32(child, "reg", &reg) &&
		    reg == index)
			return child;
	return NULL;
}

void ipump_therapy_ch_init(struct ipump_channel *ch, struct device *parent)
{
	struct fwnode_handle *node;
	struct ipump_hard_limits l;
	enum ipump_reason why;
	size_t i;
	u32 v;

	ch->tick_due = U64_MAX;
	ch->lockout_ref = IPUMP_TIME_NONE;
	ipump_limits_defaults(&ch->limits);
	node = ipump_channel_fwnode(parent, ch->index);
	if (!node)
		return;
	l = ch->limits;
	for (i = 0; i < ARRAY_SIZE(ipump_limit_props); i++) {
		void *field = (u8 *)&l + ipump_limit_props[i].off;

		if (fwnode_property_read_u32(node, ipump_limit_props[i].name, &v))
			continue;
		if (ipump_limit_props[i].wide)
			*(u64 *)field = v;
		else
			*(u32 *)field = v;
	}
	fwnode_handle_put(node);
	/* inconsistent firmware limits: keep the defaults, loudly */
	if (ipump_limits_check(&l, &why))
		dev_err(parent, "channel %u: firmware hard limits refused (%s), using the defaults\n",
			ch->index, ipump_reason_str(why));
	else
		ch->limits = l;
	/* an integrator checks here that the board's limits were taken */
	if (!memcmp(&ch->limits, &l, sizeof(l)))
		dev_info(parent, "channel %u: hard limits from firmware: rate %u..%u nL/h, bolus up to %u nL\n",
			 ch->index, l.min_rate_nl_per_h, l.max_rate_nl_per_h,
			 l.max_bolus_volume_nl);
}

/* ---- the operations of the interfaces */

/* Each operation re-arms the card clock: its timers may have changed. */
static int ipump_op_done(struct ipump_channel *ch, int ret)
{
	ipump_clock_arm(ch->card, false);
	return ret;
}

static bool ipump_programme_reserved_ok(const struct ipump_programme *p)
{
	return !p->padding && !memchr_inv(p->reserved, 0, sizeof(p->reserved));
}

/* The lease check of start, resume, titrate and bolus. */
static int ipump_ch_lease_check(struct ipump_channel *ch,
				struct ipump_req *req, u64 now)
{
	int ret = ipump_lease_check(&ch->lease, req->owner, now);

	if (ret == -ETIMEDOUT)
		return ipump_ch_refuse(ch, req, ret,
				       IPUMP_REASON_LEASE_EXPIRED);
	if (ret)
		return ipump_ch_refuse(ch, req, ret, IPUMP_REASON_NO_LEASE);
	return 0;
}

static int ipump_ch_gen_check(struct ipump_channel *ch, struct ipump_req *req,
			      u64 generation)
{
	if (ipump_generation_check(ch->generation, generation))
		return ipump_refuse(ch->card, ch->index, req, -ESTALE,
				    IPUMP_REASON_GENERATION, generation, 0);
	return 0;
}

/* A new programme or titration: counters and the lockout reference. */
static void ipump_programme_install(struct ipump_channel *ch,
				    const struct ipump_programme *p,
				    bool titration, u64 now)
{
	u32 old_lockout = ch->has_prog && ch->prog.flags & IPUMP_PROG_PCA ?
			  ch->prog.lockout_ms : 0;

	/* before the first PCA bolus there is nothing to re-arm */
	if (ch->lockout_ref != IPUMP_TIME_NONE)
		ch->lockout_ref = ipump_lockout_rearm(ch->lockout_ref,
						      old_lockout, now,
						      p->lockout_ms);
	if (!titration) {
		ch->pca_delivered = 0;
		ch->pca_denied = 0;
		ch->clinician_boluses = 0;
		ch->infused_nl = 0;
		ch->kvo_hold = false;
	}
	ch->prog = *p;
	ch->has_prog = true;
	ch->generation++;
}

int ipump_ch_programme_set(struct ipump_card *card, unsigned int index,
			   struct ipump_req *req, u64 *generation,
			   const struct ipump_programme *p)
{
	enum ipump_reason why;
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	req->reason = IPUMP_REASON_NONE;
	if (!ipump_programme_reserved_ok(p))
		return ipump_ch_refuse(ch, req, -EINVAL, IPUMP_REASON_RESERVED);
	ret = ipump_programme_check(p, &ch->limits, &why);
	if (ret)
		return ipump_ch_refuse(ch, req, ret, why);
	ret = ipump_ch_gen_check(ch, req, *generation);
	if (ret)
		return ret;
	/* not ipump_ch_next(): the programme this loads is not there yet */
	next = ipump_sm_next(ch->state, IPUMP_SM_PROGRAMME, ipump_ch_flags(ch));
	if (next < 0)
		return ipump_ch_refuse_state(ch, req, next);

	ipump_programme_install(ch, p, false, ipump_clock_now(card));
	*generation = ch->generation;
	ipump_card_event4(card, IPUMP_EVENT_PROGRAMME_SET, ch->index,
			  IPUMP_PRIO_INFO, 0, ch->generation,
			  p->basal_rate_nl_per_h, p->route,
			  p->flags & IPUMP_PROG_VTBI_UNLIMITED ? 0 : p->vtbi_nl);
	ipump_ch_set_state(ch, next, IPUMP_CAUSE_COMMAND);
	return 0;
}

int ipump_ch_titrate(struct ipump_card *card, unsigned int index,
		     struct ipump_req *req, u64 *generation,
		     const struct ipump_programme *p)
{
	u64 now;
	struct ipump_programme old_prog;
	u32 old_rate, flags = 0;
	enum ipump_reason why;
	u64 old_lockout_ref;
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	if (!ipump_programme_reserved_ok(p))
		return ipump_ch_refuse(ch, req, -EINVAL, IPUMP_REASON_RESERVED);
	ret = ipump_programme_check(p, &ch->limits, &why);
	if (!ret && ch->has_prog)
		ret = ipump_titrate_check(&ch->prog, p, &ch->limits, &why);
	if (ret)
		return ipump_ch_refuse(ch, req, ret, why);
	ret = ipump_ch_lease_check(ch, req, now) ?:
	      ipump_ch_gen_check(ch, req, *generation);
	if (ret)
		return ret;
	next = ipump_ch_next(ch, IPUMP_SM_TITRATE);
	if (next < 0)
		return ipump_ch_refuse_state(ch, req, next);

	old_rate = ch->prog.basal_rate_nl_per_h;
	old_prog = ch->prog;
	old_lockout_ref = ch->lockout_ref;
	ipump_programme_install(ch, p, true, now);
	if (ch->state == IPUMP_STATE_RUNNING) {
		ret = ipump_acct_sample(ch, now) ?:
		      ipump_ch_apply(ch, IPUMP_STATE_RUNNING, &flags);
		if (ret) {
			/* the card did not take it: the programme is unchanged */
			ch->prog = old_prog;
			ch->lockout_ref = old_lockout_ref;
			ch->generation--;
			return ipump_op_done(ch, ret);
		}
		ipump_tick_schedule(ch, now);
	}
	*generation = ch->generation;
	ipump_card_event4(card, IPUMP_EVENT_RATE_CHANGED, ch->index,
			  IPUMP_PRIO_INFO, flags, ch->generation,
			  ch->state == IPUMP_STATE_RUNNING ? ch->rate_cmd :
			  p->basal_rate_nl_per_h, old_rate, 0);
	return ipump_op_done(ch, 0);
}

int ipump_ch_programme_get(struct ipump_card *card, unsigned int index,
			   u64 *generation, struct ipump_programme *p)
{
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	*generation = ch->generation;
	if (!ch->has_prog) {
		memset(p, 0, sizeof(*p));
		return -ENODATA;
	}
	*p = ch->prog;
	return 0;
}

/*
 * Start and resume: the same checks and the same way onto the card; a
 * start also begins a fresh verification window.
 */
static int ipump_ch_deliver(struct ipump_card *card, unsigned int index,
			    struct ipump_req *req, u64 generation,
			    enum ipump_sm_event e, enum ipump_event_type type)
{
	u64 now;
	u32 cond, flags = 0;
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	ret = ipump_ch_lease_check(ch, req, now) ?:
	      ipump_ch_gen_check(ch, req, generation);
	if (ret)
		return ret;
	next = ipump_ch_next(ch, e);
	if (next < 0)
		return ipump_ch_refuse_state(ch, req, next);
	if (READ_ONCE(ipump_sleeping))	/* the motor would stop in sleep */
		return ipump_ch_refuse_state(ch, req, -EBUSY);
	ret = ipump_ch_read_cond(ch, &cond);
	if (ret)
		return ret;
	if (cond & IPUMP_ALM_CARD_STOPS)
		return ipump_ch_refuse_state(ch, req, -EBUSY);

	ret = ipump_acct_start(ch, now);
	if (ret)
		return ret;
	if (e == IPUMP_SM_START) {
		memset(&ch->verify, 0, sizeof(ch->verify));
		ch->commanded_nl = 0;
	}
	ret = ipump_ch_apply(ch, next, &flags);
	if (ret) {
		ch->tick_due = U64_MAX;
		if (ret == -EINVAL)	/* the card cannot run the rate at all */
			return ipump_ch_refuse(ch, req, ret,
					       IPUMP_REASON_RATE_LOW);
		return ret;
	}
	ipump_card_event4(card, type, ch->index, IPUMP_PRIO_INFO, flags,
			  ch->generation, ch->rate_cmd, 0, 0);
	ipump_ch_set_state(ch, next, IPUMP_CAUSE_COMMAND);
	ipump_tick_schedule(ch, now);
	return ipump_op_done(ch, 0);
}

int ipump_ch_start(struct ipump_card *card, unsigned int index,
		   struct ipump_req *req, u64 generation)
{
	return ipump_ch_deliver(card, index, req, generation, IPUMP_SM_START,
				IPUMP_EVENT_STARTED);
}

int ipump_ch_resume(struct ipump_card *card, unsigned int index,
		    struct ipump_req *req, u64 generation)
{
	return ipump_ch_deliver(card, index, req, generation, IPUMP_SM_RESUME,
				IPUMP_EVENT_RESUMED);
}

int ipump_ch_stop(struct ipump_card *card, unsigned int index,
		  struct ipump_req *req)
{
	u64 now;
	bool was_delivering;
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	was_delivering = ipump_delivering(ch->state);
	ret = ipump_bolus_end(ch, false, IPUMP_CAUSE_COMMAND, now) ?:
	      ipump_acct_sample(ch, now);
	/* whatever failed, the stop command still goes out */
	ret = ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP) ?: ret;
	if (ret)
		return ipump_op_done(ch, ret);
	ipump_card_event(card, IPUMP_EVENT_STOPPED, ch->index, IPUMP_PRIO_INFO,
			 IPUMP_CAUSE_COMMAND, 0, was_delivering ?
			 ch->last_delivered - ch->started_delivered : 0);
	next = ipump_ch_next(ch, IPUMP_SM_STOP);
	if (next >= 0)
		ipump_ch_set_state(ch, next, IPUMP_CAUSE_COMMAND);
	return ipump_op_done(ch, 0);
}

int ipump_ch_pause(struct ipump_card *card, unsigned int index,
		   struct ipump_req *req)
{
	u64 now;
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	next = ipump_ch_next(ch, IPUMP_SM_PAUSE);
	if (next < 0)
		return ipump_ch_refuse_state(ch, req, next);
	ret = ipump_bolus_end(ch, false, IPUMP_CAUSE_COMMAND, now) ?:
	      ipump_acct_sample(ch, now) ?:
	      ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP);
	if (ret)
		return ipump_op_done(ch, ret);
	ipump_card_event(card, IPUMP_EVENT_PAUSED, ch->index, IPUMP_PRIO_INFO,
			 IPUMP_CAUSE_COMMAND, 0, 0);
	ipump_ch_set_state(ch, IPUMP_STATE_PAUSED, IPUMP_CAUSE_COMMAND);
	return ipump_op_done(ch, 0);
}

int ipump_ch_clear(struct ipump_card *card, unsigned int index,
		   struct ipump_req *req, u64 generation)
{
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	req->reason = IPUMP_REASON_NONE;
	ret = ipump_ch_gen_check(ch, req, generation);
	if (ret)
		return ret;
	next = ipump_ch_next(ch, IPUMP_SM_CLEAR);
	if (next < 0)
		return ipump_ch_refuse_state(ch, req, next);
	ch->has_prog = false;
	ch->kvo_hold = false;
	memset(&ch->prog, 0, sizeof(ch->prog));
	ch->generation++;
	/* a PROGRAMME_SET record with route 0: no programme */
	ipump_card_event(card, IPUMP_EVENT_PROGRAMME_SET, ch->index,
			 IPUMP_PRIO_INFO, ch->generation, 0, 0);
	ipump_ch_set_state(ch, next, IPUMP_CAUSE_COMMAND);
	return 0;
}

int ipump_ch_bolus(struct ipump_card *card, unsigned int index,
		   struct ipump_req *req, u32 kind, u32 volume_nl,
		   u32 rate_nl_per_h)
{
	u64 now;
	enum ipump_reason why;
	u64 seq;
	int ret, next;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	if (kind > IPUMP_BOLUS_CLINICIAN ||
	    (kind == IPUMP_BOLUS_DEMAND && (volume_nl || rate_nl_per_h)))
		return ipump_ch_refuse(ch, req, -EINVAL, IPUMP_REASON_FLAGS);
	if (kind == IPUMP_BOLUS_CLINICIAN) {
		ret = ipump_bolus_check(&ch->limits, volume_nl, rate_nl_per_h,
					&why);
		if (ret)
			return ipump_ch_refuse(ch, req, ret, why);
	}
	ret = ipump_ch_lease_check(ch, req, now);
	if (ret)
		return ret;
	if (kind == IPUMP_BOLUS_DEMAND)
		return ipump_op_done(ch, ipump_demand(ch, req,
						      IPUMP_EVENT_F_CONSOLE,
						      now));

	seq = ipump_card_event4(card, IPUMP_EVENT_BOLUS_REQUESTED, ch->index,
				IPUMP_PRIO_INFO, IPUMP_EVENT_F_CONSOLE,
				volume_nl, rate_nl_per_h, 0, 0);
	next = ipump_ch_next(ch, IPUMP_SM_BOLUS_START);
	if (next < 0) {
		req->reason = IPUMP_REASON_STATE;
		ipump_card_event4(card, IPUMP_EVENT_BOLUS_DENIED, ch->index,
				  IPUMP_PRIO_INFO, IPUMP_EVENT_F_CONSOLE, seq,
				  -next, IPUMP_REASON_STATE, 0);
		return next;
	}
	return ipump_op_done(ch, ipump_bolus_run(ch, true, volume_nl,
						 rate_nl_per_h, seq, now));
}

int ipump_ch_bolus_cancel(struct ipump_card *card, unsigned int index,
			  struct ipump_req *req, u64 *delivered_nl)
{
	int ret;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	req->reason = IPUMP_REASON_NONE;
	if (ch->state != IPUMP_STATE_BOLUS)
		return ipump_ch_refuse_state(ch, req,
					     ipump_ch_next(ch, IPUMP_SM_BOLUS_CANCEL));
	ret = ipump_bolus_end(ch, false, IPUMP_CAUSE_COMMAND,
			      ipump_clock_now(card));
	*delivered_nl = ch->bolus_delivered;
	return ipump_op_done(ch, ret);
}

static int ipump_card_ack_locked(struct ipump_card *card,
				 struct ipump_req *req)
{
	unsigned long unacked = card->alarms_unacked;
	unsigned int a;
	u32 cond;
	int ret;

	ret = ipump_card_recovered(card) ?:
	      ipump_card_read(card, IPUMP_REG_CARD_ALARM_COND, &cond);
	if (ret)
		return ret;
	if (cond & ~(IPUMP_CARD_ALARM_BATT_LOW | IPUMP_CARD_ALARM_BATT_DEPLETED |
		     IPUMP_CARD_ALARM_WDT_EXPIRED | IPUMP_CARD_ALARM_MAINS_LOST))
		return ipump_card_implausible(card, "CARD_ALARM_COND", cond);
	for_each_set_bit(a, &unacked, IPUMP_ALARM_COUNT)
		ipump_card_event(card, IPUMP_EVENT_ALARM_ACKED,
				 IPUMP_CHANNEL_NONE, IPUMP_PRIO_INFO, a, 0, 0);
	card->alarms_unacked = 0;
	ipump_alarms_keep(card, IPUMP_CHANNEL_NONE, &card->alarms,
			  &card->alarms_unacked, ipump_card_alarms(cond));
	return 0;
}

/* Alarms whose condition the core itself judges, still present now. */
static unsigned long ipump_core_live_alarms(struct ipump_channel *ch, u64 now)
{
	const struct ipump_programme *p = &ch->prog;
	unsigned long live = 0;

	if (ch->has_prog && ipump_dose_reached(&ch->dose, now,
					       p->max_dose_1h_nl,
					       p->max_dose_4h_nl))
		live |= BIT(IPUMP_ALARM_DOSE_LIMIT);
	if (ipump_air_exceeded(&ch->air, now, ch->limits.air_accum_nl))
		live |= BIT(IPUMP_ALARM_AIR_ACCUMULATED);
	if (!ch->lease.owner || ipump_lease_expired(&ch->lease, now))
		live |= BIT(IPUMP_ALARM_LEASE_LOST);
	return live;
}

static int ipump_ch_ack_locked(struct ipump_channel *ch)
{
	struct ipump_card *card = ch->card;
	u64 now = ipump_clock_now(card);
	unsigned long unacked, live;
	u32 cond, card_cond;
	unsigned int a;
	int ret, next;

	ret = ipump_card_recovered(card) ?:
	      ipump_ch_read_cond(ch, &cond) ?:
	      ipump_card_read(card, IPUMP_REG_CARD_ALARM_COND, &card_cond);
	if (ret)
		return ret;

	unacked = ch->alarms_unacked;
	for_each_set_bit(a, &unacked, IPUMP_ALARM_COUNT)
		ipump_card_event(card, IPUMP_EVENT_ALARM_ACKED, ch->index,
				 IPUMP_PRIO_INFO, a, 0, 0);
	ch->alarms_unacked = 0;

	/* the card answered: communication is no longer a condition */
	live = ipump_ch_alarms(cond) | ipump_core_live_alarms(ch, now);
	if (card_cond & IPUMP_CARD_ALARM_WDT_EXPIRED)
		live |= BIT(IPUMP_ALARM_CARD_WATCHDOG);
	if (card_cond & IPUMP_CARD_ALARM_BATT_DEPLETED)
		live |= BIT(IPUMP_ALARM_BATTERY_DEPLETED);
	/* verification restarts from an acknowledged alarm */
	if (ch->alarms & (BIT(IPUMP_ALARM_OVER_INFUSION) |
			  BIT(IPUMP_ALARM_UNDER_INFUSION)))
		memset(&ch->verify, 0, sizeof(ch->verify));
	ipump_alarms_keep(card, ch->index, &ch->alarms, &ch->alarms_unacked,
			  live);

	if (ch->state == IPUMP_STATE_FAULT) {
		/* the stop sent on entering FAULT may have been lost */
		ret = ipump_ch_write(ch, IPUMP_CH_CTRL, IPUMP_CTRL_STOP);
		if (ret)
			return ret;
		next = ipump_ch_next(ch, IPUMP_SM_FAULT_CLEARED);
	} else if (ch->state == IPUMP_STATE_ALARM_STOPPED) {
		next = ipump_ch_next(ch, IPUMP_SM_ALARM_CLEARED);
	} else {
		return 0;
	}
	/* out of fault into alarm-stopped while a stopping alarm is left */
	if (ch->alarms & ipump_alarms_stopping())
		next = IPUMP_STATE_ALARM_STOPPED;
	if (next >= 0)
		ipump_ch_set_state(ch, next, IPUMP_CAUSE_COMMAND);
	return 0;
}

int ipump_ch_ack(struct ipump_card *card, unsigned int index,
		 struct ipump_req *req)
{
	struct ipump_channel *ch;

	req->reason = IPUMP_REASON_NONE;
	guard(mutex)(&card->lock);
	if (card->dead)
		return -ENODEV;
	if (index == IPUMP_CHANNEL_NONE)
		return ipump_card_ack_locked(card, req);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	return ipump_op_done(ch, ipump_ch_ack_locked(ch));
}

int ipump_ch_audio_pause(struct ipump_card *card, unsigned int index,
			 struct ipump_req *req, u32 duration_ms)
{
	u64 now;
	int ret;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	ret = ipump_audio_pause(&ch->audio, now, duration_ms);
	if (ret)
		return ipump_refuse(card, ch->index, req, ret,
				    IPUMP_REASON_AUDIO_PAUSE, duration_ms,
				    IPUMP_AUDIO_PAUSE_MAX_MS);
	ipump_card_event(card, IPUMP_EVENT_AUDIO_PAUSED, ch->index,
			 IPUMP_PRIO_INFO, duration_ms, ch->alarms, 0);
	return ipump_op_done(ch, 0);
}

static enum ipump_reason ipump_lease_reason(int err)
{
	switch (err) {
	case -EBUSY:
		return IPUMP_REASON_LEASE_HELD;
	case -EOWNERDEAD:
		return IPUMP_REASON_LEASE_ORPHANED;
	case -ETIMEDOUT:
		return IPUMP_REASON_LEASE_EXPIRED;
	case -EPERM:
		return IPUMP_REASON_NO_LEASE;
	default:
		return IPUMP_REASON_LEASE_PERIOD;
	}
}

int ipump_ch_lease(struct ipump_card *card, unsigned int index,
		   struct ipump_req *req, enum ipump_lease_op op,
		   u32 period_ms)
{
	u64 now;
	u64 old_id;
	bool held;
	int ret;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* the card clock is read under the lock: it orders every use */
	now = ipump_clock_now(card);

	req->reason = IPUMP_REASON_NONE;
	old_id = ch->lease_id;
	held = ch->lease.owner == req->owner &&
	       !ipump_lease_expired(&ch->lease, now);
	switch (op) {
	case IPUMP_LEASE_OP_ACQUIRE:
		ret = ipump_lease_acquire(&ch->lease, req->owner, now,
					  period_ms);
		if (ret || held)
			break;
		ch->lease_id = ++card->lease_ids;
		ch->lease_loss_done = false;
		ipump_card_event(card, IPUMP_EVENT_LEASE_ACQUIRED, ch->index,
				 IPUMP_PRIO_INFO, ch->lease_id, period_ms, 0);
		break;
	case IPUMP_LEASE_OP_RENEW:
		ret = ipump_lease_renew(&ch->lease, req->owner, now);
		break;
	case IPUMP_LEASE_OP_RELEASE:
		ret = ipump_lease_release(&ch->lease, req->owner);
		if (ret)
			break;
		ch->lease_loss_done = false;
		ipump_card_event(card, IPUMP_EVENT_LEASE_RELEASED, ch->index,
				 IPUMP_PRIO_INFO, old_id, 0, 0);
		break;
	case IPUMP_LEASE_OP_TAKEOVER:
		ret = ipump_lease_takeover(&ch->lease, req->owner, now,
					   period_ms);
		if (ret)
			break;
		ch->lease_id = ++card->lease_ids;
		ch->lease_loss_done = false;
		ipump_card_event(card, IPUMP_EVENT_LEASE_TAKEN_OVER, ch->index,
				 IPUMP_PRIO_INFO, ch->lease_id, old_id,
				 period_ms);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret)
		return ipump_op_done(ch, ipump_refuse(card, ch->index, req, ret,
						      ipump_lease_reason(ret),
						      period_ms, 0));
	return ipump_op_done(ch, 0);
}

void ipump_card_owner_gone(struct ipump_card *card, const void *owner)
{
	unsigned int i;
	u64 now;

	guard(mutex)(&card->lock);
	if (card->dead)
		return;
	now = ipump_clock_now(card);
	for (i = 0; i < card->num_channels; i++) {
		struct ipump_channel *ch = &card->ch[i];

		if (!owner || ch->lease.owner != owner || ch->lease_loss_done)
			continue;
		ipump_lease_orphan(&ch->lease, owner);
		/* at once: a simulated clock may not move for a long time */
		ipump_lease_lost(ch, false, now);
	}
	ipump_clock_arm(card, false);
}

int ipump_ch_limits_set(struct ipump_card *card, unsigned int index,
			struct ipump_req *req,
			const struct ipump_hard_limits *l)
{
	enum ipump_reason why;
	int ret;
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	req->reason = IPUMP_REASON_NONE;
	ret = ipump_limits_check(l, &why);
	if (ret)
		return ipump_ch_refuse(ch, req, ret, why);
	if (ipump_delivering(ch->state) || ch->state == IPUMP_STATE_PAUSED)
		return ipump_ch_refuse_state(ch, req, -EBUSY);
	/* never change a loaded programme behind the console's back */
	if (ch->has_prog) {
		ret = ipump_programme_check(&ch->prog, l, &why);
		if (ret)
			return ipump_ch_refuse(ch, req, ret, why);
	}
	ret = ipump_ch_write(ch, IPUMP_CH_AIR_THRESHOLD_NL, l->air_bubble_nl);
	if (ret)
		return ret;
	ch->limits = *l;
	ipump_card_event4(card, IPUMP_EVENT_HARD_LIMITS_SET, ch->index,
			  IPUMP_PRIO_INFO, 0, l->min_rate_nl_per_h,
			  l->max_rate_nl_per_h, l->max_bolus_volume_nl,
			  l->max_dose_1h_nl);
	return 0;
}

int ipump_ch_limits_get(struct ipump_card *card, unsigned int index,
			struct ipump_hard_limits *l)
{
	struct ipump_channel *ch;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	*l = ch->limits;
	return 0;
}
