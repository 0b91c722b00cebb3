// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_sim: the card model. The registers of ipump_regs.h, a stepper motor
 * driven by exact integer arithmetic, the infusion line, power and the
 * card's own watchdog. Everything here runs under sim->lock.
 *
 * The model only moves on in ipump_sim_model_run(), by at most
 * IPUMP_SIM_CHUNK_NS and never past the next step at which the card has
 * to react (bolus complete, occlusion pressure reached, reservoir low or
 * empty, air at the sensor, backoff complete) or past a stall, watchdog or
 * battery-minute deadline, so every alarm happens at its exact time.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/minmax.h>

#include "ipump_sim.h"

#define IPUMP_SIM_CARD_ALARM_ALL	(IPUMP_CARD_ALARM_BATT_LOW | \
					 IPUMP_CARD_ALARM_BATT_DEPLETED | \
					 IPUMP_CARD_ALARM_WDT_EXPIRED | \
					 IPUMP_CARD_ALARM_MAINS_LOST)
#define IPUMP_SIM_BATT_LOW_MIN		15
#define IPUMP_SIM_BATT_DEPLETED_MIN	5
#define IPUMP_SIM_MAX_PRESSES		1000

/* ---- channel */

static bool ipump_sim_ch_forward(const struct ipump_sim_ch *ch)
{
	return (ch->run || ch->bolus) && !ch->paused;
}

static bool ipump_sim_ch_moving(const struct ipump_sim_ch *ch)
{
	return ipump_sim_ch_forward(ch) || ch->backoff;
}

static int ipump_sim_ch_dir(const struct ipump_sim_ch *ch)
{
	if (ch->backoff)
		return -1;
	return ipump_sim_ch_forward(ch) ? 1 : 0;
}

/* nL/h x (100 + speed error %) the motor really runs at; 0 if it stands */
static u64 ipump_sim_ch_motor_rate(const struct ipump_sim_ch *ch)
{
	u32 rate;

	if (ch->stall || ch->stall_silent)
		return 0;
	if (ch->backoff)
		return (u64)IPUMP_SIM_BACKOFF_RATE * 100;
	if (!ipump_sim_ch_forward(ch))
		return 0;
	rate = ch->bolus ? ch->bolus_rate : ch->rate;
	return (u64)rate * (u32)(100 + ch->speed_error_pct);
}

static u32 ipump_sim_ch_bolus_left(const struct ipump_sim_ch *ch)
{
	return ch->bolus_volume > ch->bolus_delivered ?
	       ch->bolus_volume - ch->bolus_delivered : 0;
}

/* trapped volume at which the downstream pressure reaches the threshold */
static u64 ipump_sim_ch_occl_volume(const struct ipump_sim_ch *ch)
{
	u64 vol = (u64)ch->occl_threshold *
		  ch->sim->p.compliance_nl_per_mmhg;

	return max_t(u64, vol, 1);
}

static u32 ipump_sim_ch_cond(const struct ipump_sim_ch *ch)
{
	u32 cond = 0;

	if (ch->trapped_nl >= ipump_sim_ch_occl_volume(ch))
		cond |= IPUMP_ALM_OCCL_DOWN;
	if (ch->occl_up)
		cond |= IPUMP_ALM_OCCL_UP;
	if (ch->air_present && ch->air_last >= ch->air_threshold)
		cond |= IPUMP_ALM_AIR;
	if (ch->door_open)
		cond |= IPUMP_ALM_DOOR;
	if (ch->reservoir < ch->sim->p.nl_per_step)
		cond |= IPUMP_ALM_RES_EMPTY;
	if (ch->reservoir <= ch->res_low)
		cond |= IPUMP_ALM_RES_LOW;
	if (ch->stall_ns >= IPUMP_SIM_STALL_NS)
		cond |= IPUMP_ALM_STALL;
	if (ch->free_flow_rate)
		cond |= IPUMP_ALM_FREE_FLOW;
	return cond;
}

static void ipump_sim_ch_card_stop(struct ipump_sim_ch *ch)
{
	ch->run = false;
	ch->bolus = false;
	ch->paused = false;
	ch->backoff = false;
	ch->stopped_by_card = true;
}

/* Re-evaluates a channel after anything changed: the card's own reactions. */
static void ipump_sim_ch_update(struct ipump_sim_ch *ch)
{
	u32 cond, stops;
	int dir;

	if (ch->backoff && !ch->trapped_nl)
		ch->backoff = false;
	if (ch->bolus &&
	    ipump_sim_ch_bolus_left(ch) < ch->sim->p.nl_per_step) {
		ch->bolus = false;
		ch->alarm_status |= IPUMP_ALM_BOLUS_DONE;
		if (!ch->run)
			ch->paused = false;
	}

	stops = ipump_sim_ch_cond(ch) & IPUMP_ALM_CARD_STOPS;
	/* backing off is how a downstream occlusion is relieved */
	if (ch->backoff)
		stops &= ~IPUMP_ALM_OCCL_DOWN;
	if (stops && ipump_sim_ch_moving(ch))
		ipump_sim_ch_card_stop(ch);

	if (!ch->stall || !ipump_sim_ch_moving(ch))
		ch->stall_ns = 0;
	/* a partial step does not survive a start, a stop or a reversal */
	dir = ipump_sim_ch_dir(ch);
	if (dir != ch->dir) {
		ch->dir = dir;
		ch->acc_nl = 0;
		ch->acc_frac = 0;
	}

	cond = ipump_sim_ch_cond(ch);
	ch->alarm_status |= cond & ~ch->cond;
	ch->cond = cond;
}

static void ipump_sim_ch_steps(struct ipump_sim_ch *ch, u64 n)
{
	u64 nps = ch->sim->p.nl_per_step;
	u64 vol;

	if (ch->backoff) {
		vol = n * nps;
		ch->delivered -= min(vol, ch->delivered);
		ch->reservoir = min_t(u64, (u64)ch->reservoir + vol, U32_MAX);
		ch->trapped_nl -= min(vol, ch->trapped_nl);
		return;
	}

	/* free flow may have taken what the motor was going to push */
	n = min_t(u64, n, ch->reservoir / nps);
	if (!n)
		return;
	vol = n * nps;
	ch->delivered += vol;
	ch->step_count += (u32)n;
	ch->reservoir -= vol;
	if (ch->bolus)
		ch->bolus_delivered = min_t(u64, (u64)ch->bolus_delivered + vol,
					    U32_MAX);
	if (ch->occl_down)
		ch->trapped_nl += vol;
	else
		ch->patient_nl += vol;

	/* a step carries air past the sensor and brings injected air to it */
	ch->air_present = false;
	if (ch->bubble_nl) {
		ch->air_present = true;
		ch->air_last = ch->bubble_nl;
		ch->air_total += ch->bubble_nl;		/* wraps, as the register */
		ch->bubble_nl = 0;
	}
}

static void ipump_sim_ch_free_flow(struct ipump_sim_ch *ch, u64 dt)
{
	u64 x, vol;

	/* nothing flows through an occluded line */
	if (!ch->free_flow_rate || ch->occl_down || ch->occl_up)
		return;
	x = (u64)ch->free_flow_rate * dt + ch->ff_frac;
	vol = div64_u64_rem(x, IPUMP_SIM_NS_PER_H, &ch->ff_frac);
	vol = min_t(u64, vol, ch->reservoir);
	ch->reservoir -= vol;
	ch->patient_nl += vol;
	ch->free_flow_nl += vol;
}

static void ipump_sim_ch_advance(struct ipump_sim_ch *ch, u64 dt)
{
	u64 rate = ipump_sim_ch_motor_rate(ch);
	u64 x, n, rem;

	if (ch->stall && ipump_sim_ch_moving(ch))
		ch->stall_ns = min(ch->stall_ns + dt, (u64)IPUMP_SIM_STALL_NS);
	if (rate) {
		/* cannot overflow: dt is bounded in ipump_sim_next_event() */
		x = rate * dt + ch->acc_frac;
		ch->acc_nl += div64_u64_rem(x, IPUMP_SIM_UNIT, &ch->acc_frac);
		n = div64_u64_rem(ch->acc_nl, ch->sim->p.nl_per_step, &rem);
		ch->acc_nl = rem;
		if (n)
			ipump_sim_ch_steps(ch, n);
	}
	ipump_sim_ch_free_flow(ch, dt);
}

/* Steps until the card has to react to something (at least 1). */
static u64 ipump_sim_ch_steps_to_event(const struct ipump_sim_ch *ch)
{
	u64 nps = ch->sim->p.nl_per_step;
	u64 k, occl;

	if (ch->backoff)
		return max_t(u64, DIV_ROUND_UP_ULL(ch->trapped_nl, nps), 1);
	if (ch->bubble_nl || ch->air_present)
		return 1;

	k = ch->reservoir / nps;
	if (ch->reservoir > ch->res_low)
		k = min_t(u64, k, DIV_ROUND_UP_ULL(ch->reservoir - ch->res_low,
						   nps));
	if (ch->occl_down) {
		occl = ipump_sim_ch_occl_volume(ch);
		if (ch->trapped_nl < occl)
			k = min_t(u64, k, DIV_ROUND_UP_ULL(occl - ch->trapped_nl,
							   nps));
	}
	if (ch->bolus)
		k = min_t(u64, k, ipump_sim_ch_bolus_left(ch) / nps);
	return max_t(u64, k, 1);
}

/* Time until the motor, at @rate, has made @k more steps; U64_MAX: far. */
static u64 ipump_sim_ch_time_to(const struct ipump_sim_ch *ch, u64 rate,
				u64 k)
{
	u64 nps = ch->sim->p.nl_per_step;
	u64 need, units, t;

	if (k >= div64_u64(U64_MAX, nps))
		return U64_MAX;
	need = k * nps - ch->acc_nl;
	/* beyond what the overflow bound on dt lets happen in one chunk */
	if (need >= div64_u64(U64_MAX, IPUMP_SIM_UNIT))
		return U64_MAX;
	units = need * IPUMP_SIM_UNIT - ch->acc_frac;
	t = div64_u64(units, rate);
	if (t * rate < units)
		t++;
	return t;
}

/* ---- card */

static bool ipump_sim_any_moving(const struct ipump_sim *sim)
{
	unsigned int i;

	for (i = 0; i < sim->p.num_channels; i++)
		if (ipump_sim_ch_moving(&sim->ch[i]))
			return true;
	return false;
}

static u64 ipump_sim_wdt_period_ns(const struct ipump_sim *sim)
{
	return (u64)sim->wdt_period_ms * NSEC_PER_MSEC;
}

static void ipump_sim_wdt_fire(struct ipump_sim *sim)
{
	unsigned int i;

	for (i = 0; i < sim->p.num_channels; i++)
		if (ipump_sim_ch_moving(&sim->ch[i]))
			ipump_sim_ch_card_stop(&sim->ch[i]);
	sim->wdt_fired = true;
	/* latched on every expiry, not only on the condition's onset */
	sim->card_alarm |= IPUMP_CARD_ALARM_WDT_EXPIRED;
}

static u32 ipump_sim_card_cond(const struct ipump_sim *sim)
{
	u32 cond = 0;

	if (!sim->mains) {
		cond |= IPUMP_CARD_ALARM_MAINS_LOST;
		if (sim->battery_minutes < IPUMP_SIM_BATT_LOW_MIN)
			cond |= IPUMP_CARD_ALARM_BATT_LOW;
		if (sim->battery_minutes < IPUMP_SIM_BATT_DEPLETED_MIN)
			cond |= IPUMP_CARD_ALARM_BATT_DEPLETED;
	}
	if (sim->wdt_fired)
		cond |= IPUMP_CARD_ALARM_WDT_EXPIRED;
	return cond;
}

static u32 ipump_sim_irq_status(const struct ipump_sim *sim)
{
	u32 status = 0;
	unsigned int i;

	for (i = 0; i < sim->p.num_channels; i++)
		if (sim->ch[i].alarm_status & ~sim->ch[i].alarm_mask)
			status |= IPUMP_IRQ_CHANNEL(i);
	if (sim->card_alarm & ~sim->card_alarm_mask)
		status |= IPUMP_IRQ_CARD;
	return status;
}

/* After every change: the card's reactions, latches and the IRQ line. */
static void ipump_sim_update(struct ipump_sim *sim)
{
	unsigned int i;
	u32 cond;

	lockdep_assert_held(&sim->lock);
	if (sim->wdt_period_ms &&
	    sim->wdt_elapsed_ns >= ipump_sim_wdt_period_ns(sim) &&
	    ipump_sim_any_moving(sim))
		ipump_sim_wdt_fire(sim);
	for (i = 0; i < sim->p.num_channels; i++)
		ipump_sim_ch_update(&sim->ch[i]);

	cond = ipump_sim_card_cond(sim);
	sim->card_alarm |= cond & ~sim->card_cond;
	sim->card_cond = cond;

	ipump_sim_irq_set_level(sim, ipump_sim_irq_status(sim) & sim->irq_enable);
}

/* Time until the next thing the card reacts to, within (0, @max]. */
static u64 ipump_sim_next_event(const struct ipump_sim *sim, u64 max)
{
	u64 t = max, period, rate;
	unsigned int i;

	for (i = 0; i < sim->p.num_channels; i++) {
		const struct ipump_sim_ch *ch = &sim->ch[i];

		if (ch->stall && ipump_sim_ch_moving(ch) &&
		    ch->stall_ns < IPUMP_SIM_STALL_NS)
			t = min(t, IPUMP_SIM_STALL_NS - ch->stall_ns);
		rate = ipump_sim_ch_motor_rate(ch);
		if (!rate)
			continue;
		/* rate * dt + acc_frac must fit in a u64 */
		t = min(t, div64_u64(U64_MAX - IPUMP_SIM_UNIT, rate));
		t = min(t, ipump_sim_ch_time_to(ch, rate,
						ipump_sim_ch_steps_to_event(ch)));
	}
	period = ipump_sim_wdt_period_ns(sim);
	if (period && ipump_sim_any_moving(sim))
		t = min(t, sim->wdt_elapsed_ns < period ?
			   period - sim->wdt_elapsed_ns : 0);
	if (!sim->mains && sim->battery_minutes)
		t = min(t, IPUMP_SIM_MINUTE_NS - sim->battery_ns);
	return max_t(u64, t, 1);
}

/**
 * ipump_sim_model_run() - move the model on by at most @max_ns
 * @sim: the card
 * @max_ns: upper bound, > 0
 *
 * Return: the time the model moved on, in (0, @max_ns].
 */
u64 ipump_sim_model_run(struct ipump_sim *sim, u64 max_ns)
{
	unsigned int i;
	u64 dt;

	mutex_lock(&sim->lock);
	dt = ipump_sim_next_event(sim, min_t(u64, max_ns, IPUMP_SIM_CHUNK_NS));
	for (i = 0; i < sim->p.num_channels; i++)
		ipump_sim_ch_advance(&sim->ch[i], dt);
	sim->wdt_elapsed_ns += dt;
	if (!sim->mains) {
		sim->battery_ns += dt;
		if (sim->battery_ns >= IPUMP_SIM_MINUTE_NS) {
			sim->battery_ns -= IPUMP_SIM_MINUTE_NS;
			if (sim->battery_minutes)
				sim->battery_minutes--;
		}
	}
	atomic64_add(dt, &sim->now_ns);
	ipump_sim_update(sim);
	mutex_unlock(&sim->lock);
	return dt;
}

/* ---- registers */

static u32 ipump_sim_ch_status(const struct ipump_sim_ch *ch)
{
	u32 status = 0;

	if (ipump_sim_ch_forward(ch))
		status |= IPUMP_STATUS_RUNNING;
	if (ch->bolus)
		status |= IPUMP_STATUS_BOLUS;
	if (ch->cond & IPUMP_ALM_STALL)
		status |= IPUMP_STATUS_STALLED;
	if (ch->paused)
		status |= IPUMP_STATUS_PAUSED;
	if (ch->stopped_by_card)
		status |= IPUMP_STATUS_STOPPED_BY_CARD;
	if (ch->backoff)
		status |= IPUMP_STATUS_BACKOFF;
	return status;
}

static u32 ipump_sim_ch_read(struct ipump_sim_ch *ch, unsigned int off)
{
	switch (off) {
	case IPUMP_CH_STATUS:
		return ipump_sim_ch_status(ch);
	case IPUMP_CH_RATE_NL_PER_H:
		return ch->rate;
	case IPUMP_CH_BOLUS_VOLUME_NL:
		return ch->bolus_volume;
	case IPUMP_CH_BOLUS_RATE_NL_PER_H:
		return ch->bolus_rate;
	case IPUMP_CH_DELIVERED_LO:
		ch->delivered_hi = upper_32_bits(ch->delivered);
		return lower_32_bits(ch->delivered);
	case IPUMP_CH_DELIVERED_HI:
		return ch->delivered_hi;
	case IPUMP_CH_RESERVOIR_NL:
		return ch->reservoir;
	case IPUMP_CH_PRESSURE_DOWN_MMHG:
		return min_t(u64, div_u64(ch->trapped_nl,
					  ch->sim->p.compliance_nl_per_mmhg),
			     U32_MAX);
	case IPUMP_CH_PRESSURE_UP_MMHG:
		return ch->occl_up ? 0 : IPUMP_SIM_PRESSURE_UP;
	case IPUMP_CH_AIR:
		return (ch->air_present ? IPUMP_AIR_PRESENT : 0) |
		       min_t(u32, ch->air_last, IPUMP_SIM_AIR_MAX) <<
		       IPUMP_AIR_LAST_NL_SHIFT;
	case IPUMP_CH_DOOR:
		return ch->door_open ? IPUMP_DOOR_OPEN : 0;
	case IPUMP_CH_STEP_COUNT:
		return ch->step_count;
	case IPUMP_CH_ALARM_STATUS:
		return ch->alarm_status;
	case IPUMP_CH_ALARM_COND:
		return ch->cond;
	case IPUMP_CH_ALARM_MASK:
		return ch->alarm_mask;
	case IPUMP_CH_HANDSET_COUNT:
		return ch->handset_count;
	case IPUMP_CH_BOLUS_DELIVERED_NL:
		return ch->bolus_delivered;
	case IPUMP_CH_OCCL_THRESHOLD_MMHG:
		return ch->occl_threshold;
	case IPUMP_CH_AIR_THRESHOLD_NL:
		return ch->air_threshold;
	case IPUMP_CH_RES_LOW_NL:
		return ch->res_low;
	case IPUMP_CH_AIR_TOTAL_NL:
		return ch->air_total;
	default:
		return 0;	/* CTRL is write-only; gaps read 0 */
	}
}

static u32 ipump_sim_card_read(struct ipump_sim *sim, unsigned int reg)
{
	switch (reg) {
	case IPUMP_REG_ID:
		return IPUMP_ID_MAGIC;
	case IPUMP_REG_MAP_VERSION:
		return IPUMP_MAP_VERSION_MAJOR << 16 | IPUMP_MAP_VERSION_MINOR;
	case IPUMP_REG_FW_VERSION:
		return sim->p.fw_version;
	case IPUMP_REG_NUM_CHANNELS:
		return sim->p.num_channels;
	case IPUMP_REG_SERIAL_LO:
		sim->serial_hi = upper_32_bits(sim->p.serial);
		return lower_32_bits(sim->p.serial);
	case IPUMP_REG_SERIAL_HI:
		return sim->serial_hi;
	case IPUMP_REG_NL_PER_STEP:
		return sim->p.nl_per_step;
	case IPUMP_REG_SELFTEST:
		return sim->p.selftest;
	case IPUMP_REG_POWER:
		return (sim->mains ? IPUMP_POWER_MAINS : 0) |
		       sim->battery_minutes << IPUMP_POWER_BATT_MIN_SHIFT;
	case IPUMP_REG_IRQ_STATUS:
		return ipump_sim_irq_status(sim);
	case IPUMP_REG_IRQ_ENABLE:
		return sim->irq_enable;
	case IPUMP_REG_CARD_ALARM:
		return sim->card_alarm;
	case IPUMP_REG_CARD_ALARM_COND:
		return sim->card_cond;
	case IPUMP_REG_CARD_ALARM_MASK:
		return sim->card_alarm_mask;
	case IPUMP_REG_WDT_PERIOD_MS:
		return sim->wdt_period_ms;
	default:
		return 0;	/* WDT_KEEPALIVE is write-only; gaps read 0 */
	}
}

/* NULL for the card-wide block and for channels the card does not have */
static struct ipump_sim_ch *ipump_sim_reg_ch(struct ipump_sim *sim,
					     unsigned int reg)
{
	unsigned int i;

	if (reg < IPUMP_CH_BASE(0))
		return NULL;
	i = (reg - IPUMP_CH_BASE(0)) / (IPUMP_CH_BASE(1) - IPUMP_CH_BASE(0));
	return i < sim->p.num_channels ? &sim->ch[i] : NULL;
}

static u32 ipump_sim_read(struct ipump_sim *sim, unsigned int reg)
{
	struct ipump_sim_ch *ch;

	if (reg < IPUMP_CH_BASE(0))
		return ipump_sim_card_read(sim, reg);
	ch = ipump_sim_reg_ch(sim, reg);
	return ch ? ipump_sim_ch_read(ch, reg - IPUMP_CH_BASE(ch->index)) : 0;
}

/*
 * One command per write; anything else is refused and counted.
 * STOPPED_BY_CARD stays until a command starts the motor again: the core
 * follows every card stop with a STOP of its own.
 */
static void ipump_sim_ch_ctrl(struct ipump_sim_ch *ch, u32 cmd)
{
	u32 stops = ch->cond & IPUMP_ALM_CARD_STOPS;

	switch (cmd) {
	case IPUMP_CTRL_RUN:
		if (stops)
			goto refuse;
		ch->run = true;
		ch->paused = false;
		ch->backoff = false;
		ch->stopped_by_card = false;
		break;
	case IPUMP_CTRL_STOP:
		ch->run = false;
		ch->bolus = false;
		ch->paused = false;
		ch->backoff = false;
		break;
	case IPUMP_CTRL_PAUSE:
		if (!ch->run && !ch->bolus)
			goto refuse;
		ch->paused = true;
		break;
	case IPUMP_CTRL_BOLUS_START:
		if (stops || !ch->bolus_rate)
			goto refuse;
		/* a paused bolus resumes where it was */
		if (!ch->bolus) {
			ch->bolus = true;
			ch->bolus_delivered = 0;
		}
		ch->paused = false;
		ch->backoff = false;
		ch->stopped_by_card = false;
		break;
	case IPUMP_CTRL_BOLUS_CANCEL:
		ch->bolus = false;
		if (!ch->run)
			ch->paused = false;
		break;
	case IPUMP_CTRL_BACKOFF:
		if (stops & ~IPUMP_ALM_OCCL_DOWN)
			goto refuse;
		ch->run = false;
		ch->bolus = false;
		ch->paused = false;
		ch->backoff = ch->trapped_nl > 0;
		ch->stopped_by_card = false;
		break;
	default:
		goto refuse;
	}
	return;
refuse:
	ch->sim->ctrl_rejected++;
}

static void ipump_sim_ch_write(struct ipump_sim_ch *ch, unsigned int off,
			       u32 val)
{
	switch (off) {
	case IPUMP_CH_CTRL:
		ipump_sim_ch_ctrl(ch, val);
		break;
	case IPUMP_CH_RATE_NL_PER_H:
		ch->rate = val;
		break;
	case IPUMP_CH_BOLUS_VOLUME_NL:
		ch->bolus_volume = val;
		break;
	case IPUMP_CH_BOLUS_RATE_NL_PER_H:
		ch->bolus_rate = val;
		break;
	case IPUMP_CH_ALARM_STATUS:
		ch->alarm_status &= ~val;
		break;
	case IPUMP_CH_ALARM_MASK:
		ch->alarm_mask = val & IPUMP_ALM_ALL;
		break;
	case IPUMP_CH_OCCL_THRESHOLD_MMHG:
		ch->occl_threshold = val;
		break;
	case IPUMP_CH_AIR_THRESHOLD_NL:
		ch->air_threshold = val;
		break;
	case IPUMP_CH_RES_LOW_NL:
		ch->res_low = val;
		break;
	default:
		break;	/* read-only or nothing there: ignored */
	}
}

static void ipump_sim_card_write(struct ipump_sim *sim, unsigned int reg,
				 u32 val)
{
	switch (reg) {
	case IPUMP_REG_IRQ_ENABLE:
		sim->irq_enable = val & (GENMASK(sim->p.num_channels - 1, 0) |
					 IPUMP_IRQ_CARD);
		break;
	case IPUMP_REG_CARD_ALARM:
		sim->card_alarm &= ~val;
		break;
	case IPUMP_REG_CARD_ALARM_MASK:
		sim->card_alarm_mask = val & IPUMP_SIM_CARD_ALARM_ALL;
		break;
	case IPUMP_REG_WDT_PERIOD_MS:
		sim->wdt_period_ms = val;
		sim->wdt_elapsed_ns = 0;
		break;
	case IPUMP_REG_WDT_KEEPALIVE:
		if (val == IPUMP_WDT_KICK) {
			sim->wdt_elapsed_ns = 0;
			sim->wdt_fired = false;
		}
		break;
	default:
		break;	/* read-only or nothing there: ignored */
	}
}

/* Whether this register access is one that io_fail_every makes fail. */
static bool ipump_sim_io_fails(struct ipump_sim *sim)
{
	if (!sim->io_fail_every || ++sim->io_count < sim->io_fail_every)
		return false;
	sim->io_count = 0;
	sim->io_failures++;
	return true;
}

/* regmap reg_read callback; the core calls it in process context */
int ipump_sim_reg_read(void *ctx, unsigned int reg, unsigned int *val)
{
	struct ipump_sim *sim = ctx;
	u32 v;

	mutex_lock(&sim->lock);
	if (ipump_sim_io_fails(sim)) {
		mutex_unlock(&sim->lock);
		return -EIO;
	}
	v = ipump_sim_read(sim, reg);
	if (sim->stuck_addr >= 0 && reg == (u32)sim->stuck_addr)
		v = sim->stuck_value;
	if (sim->flip_addr >= 0 && reg == (u32)sim->flip_addr)
		v ^= sim->flip_mask;
	mutex_unlock(&sim->lock);
	*val = v;
	return 0;
}

/* regmap reg_write callback */
int ipump_sim_reg_write(void *ctx, unsigned int reg, unsigned int val)
{
	struct ipump_sim *sim = ctx;
	struct ipump_sim_ch *ch;

	mutex_lock(&sim->lock);
	if (ipump_sim_io_fails(sim)) {
		mutex_unlock(&sim->lock);
		return -EIO;
	}
	if (reg < IPUMP_CH_BASE(0)) {
		ipump_sim_card_write(sim, reg, val);
	} else {
		ch = ipump_sim_reg_ch(sim, reg);
		if (ch)
			ipump_sim_ch_write(ch, reg - IPUMP_CH_BASE(ch->index),
					   val);
	}
	ipump_sim_update(sim);
	mutex_unlock(&sim->lock);
	return 0;
}

/* ---- knobs */

static int ipump_sim_bool(u64 val, bool *b)
{
	if (val > 1)
		return -EINVAL;
	*b = val;
	return 0;
}

int ipump_sim_ch_knob_get(struct ipump_sim_ch *ch, unsigned int id, u64 *val)
{
	struct ipump_sim *sim = ch->sim;
	int ret = 0;

	mutex_lock(&sim->lock);
	switch (id) {
	case IPUMP_SIM_CH_OCCL_DOWN:
		*val = ch->occl_down;
		break;
	case IPUMP_SIM_CH_OCCL_UP:
		*val = ch->occl_up;
		break;
	case IPUMP_SIM_CH_DOOR_OPEN:
		*val = ch->door_open;
		break;
	case IPUMP_SIM_CH_RESERVOIR:
		*val = ch->reservoir;
		break;
	case IPUMP_SIM_CH_STALL:
		*val = ch->stall;
		break;
	case IPUMP_SIM_CH_STALL_SILENT:
		*val = ch->stall_silent;
		break;
	case IPUMP_SIM_CH_SPEED_ERROR:
		*val = (s64)ch->speed_error_pct;
		break;
	case IPUMP_SIM_CH_FREE_FLOW:
		*val = ch->free_flow_rate;
		break;
	case IPUMP_SIM_CH_TRAPPED:
		*val = ch->trapped_nl;
		break;
	case IPUMP_SIM_CH_RELEASED:
		*val = ch->released_nl;
		break;
	case IPUMP_SIM_CH_PRESSURE_DOWN:
		*val = div_u64(ch->trapped_nl, sim->p.compliance_nl_per_mmhg);
		break;
	case IPUMP_SIM_CH_PATIENT:
		*val = ch->patient_nl;
		break;
	case IPUMP_SIM_CH_FREE_FLOW_TOTAL:
		*val = ch->free_flow_nl;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	mutex_unlock(&sim->lock);
	return ret;
}

static int ipump_sim_ch_knob_apply(struct ipump_sim_ch *ch, unsigned int id,
				   u64 val)
{
	s64 sval = (s64)val;
	int ret = 0;

	switch (id) {
	case IPUMP_SIM_CH_OCCL_DOWN:
		ret = ipump_sim_bool(val, &ch->occl_down);
		if (!ret && !ch->occl_down) {
			/* the line opens: what was held reaches the patient */
			ch->released_nl += ch->trapped_nl;
			ch->patient_nl += ch->trapped_nl;
			ch->trapped_nl = 0;
		}
		return ret;
	case IPUMP_SIM_CH_OCCL_UP:
		return ipump_sim_bool(val, &ch->occl_up);
	case IPUMP_SIM_CH_AIR_BUBBLE:
		if (val > U32_MAX)
			return -EINVAL;
		if (!val) {
			ch->bubble_nl = 0;
			ch->air_present = false;
		} else {
			ch->bubble_nl = min_t(u64, (u64)ch->bubble_nl + val,
					      U32_MAX);
		}
		return 0;
	case IPUMP_SIM_CH_DOOR_OPEN:
		ret = ipump_sim_bool(val, &ch->door_open);
		/* opening the door to prime the line removes the air */
		if (!ret && ch->door_open) {
			ch->bubble_nl = 0;
			ch->air_present = false;
		}
		return ret;
	case IPUMP_SIM_CH_RESERVOIR:
		if (val > U32_MAX)
			return -EINVAL;
		ch->reservoir = val;
		return 0;
	case IPUMP_SIM_CH_STALL:
		return ipump_sim_bool(val, &ch->stall);
	case IPUMP_SIM_CH_STALL_SILENT:
		return ipump_sim_bool(val, &ch->stall_silent);
	case IPUMP_SIM_CH_SPEED_ERROR:
		if (sval < -100 || sval > 100)
			return -EINVAL;
		ch->speed_error_pct = sval;
		return 0;
	case IPUMP_SIM_CH_FREE_FLOW:
		if (val > U32_MAX)
			return -EINVAL;
		ch->free_flow_rate = val;
		return 0;
	case IPUMP_SIM_CH_HANDSET_PRESS:
		if (!val || val > IPUMP_SIM_MAX_PRESSES)
			return -EINVAL;
		ch->handset_count += val;
		ch->alarm_status |= IPUMP_ALM_HANDSET;
		return 0;
	default:
		return -EINVAL;
	}
}

int ipump_sim_ch_knob_set(struct ipump_sim_ch *ch, unsigned int id, u64 val)
{
	struct ipump_sim *sim = ch->sim;
	int ret;

	mutex_lock(&sim->lock);
	ret = ipump_sim_ch_knob_apply(ch, id, val);
	ipump_sim_update(sim);
	mutex_unlock(&sim->lock);
	return ret;
}

int ipump_sim_knob_get(struct ipump_sim *sim, unsigned int id, u64 *val)
{
	int ret = 0;

	mutex_lock(&sim->lock);
	switch (id) {
	case IPUMP_SIM_MAINS:
		*val = sim->mains;
		break;
	case IPUMP_SIM_BATTERY_MINUTES:
		*val = sim->battery_minutes;
		break;
	case IPUMP_SIM_IO_FAIL_EVERY:
		*val = sim->io_fail_every;
		break;
	case IPUMP_SIM_STUCK_ADDR:
		*val = (s64)sim->stuck_addr;
		break;
	case IPUMP_SIM_STUCK_VALUE:
		*val = sim->stuck_value;
		break;
	case IPUMP_SIM_FLIP_ADDR:
		*val = (s64)sim->flip_addr;
		break;
	case IPUMP_SIM_FLIP_MASK:
		*val = sim->flip_mask;
		break;
	case IPUMP_SIM_IO_FAILURES:
		*val = sim->io_failures;
		break;
	case IPUMP_SIM_CTRL_REJECTED:
		*val = sim->ctrl_rejected;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	mutex_unlock(&sim->lock);
	return ret;
}

/* -1 (none) or a register address */
static int ipump_sim_reg_addr(u64 val, s32 *addr)
{
	s64 sval = (s64)val;

	if (sval != -1 && (sval < 0 || sval > IPUMP_REG_MAX || sval % 4))
		return -EINVAL;
	*addr = sval;
	return 0;
}

static int ipump_sim_knob_apply(struct ipump_sim *sim, unsigned int id,
				u64 val)
{
	bool mains;
	int ret;

	switch (id) {
	case IPUMP_SIM_MAINS:
		ret = ipump_sim_bool(val, &mains);
		if (!ret && mains != sim->mains) {
			sim->mains = mains;
			sim->battery_ns = 0;
		}
		return ret;
	case IPUMP_SIM_BATTERY_MINUTES:
		if (val > IPUMP_POWER_BATT_MIN_MASK >> IPUMP_POWER_BATT_MIN_SHIFT)
			return -EINVAL;
		sim->battery_minutes = val;
		sim->battery_ns = 0;
		return 0;
	case IPUMP_SIM_WDT_EXPIRE:
		if (val != 1)
			return -EINVAL;
		ipump_sim_wdt_fire(sim);
		return 0;
	case IPUMP_SIM_IO_FAIL_EVERY:
		if (val > U32_MAX)
			return -EINVAL;
		sim->io_fail_every = val;
		sim->io_count = 0;
		return 0;
	case IPUMP_SIM_STUCK_ADDR:
		return ipump_sim_reg_addr(val, &sim->stuck_addr);
	case IPUMP_SIM_STUCK_VALUE:
		if (val > U32_MAX)
			return -EINVAL;
		sim->stuck_value = val;
		return 0;
	case IPUMP_SIM_FLIP_ADDR:
		return ipump_sim_reg_addr(val, &sim->flip_addr);
	case IPUMP_SIM_FLIP_MASK:
		if (val > U32_MAX)
			return -EINVAL;
		sim->flip_mask = val;
		return 0;
	default:
		return -EINVAL;
	}
}

int ipump_sim_knob_set(struct ipump_sim *sim, unsigned int id, u64 val)
{
	int ret;

	mutex_lock(&sim->lock);
	ret = ipump_sim_knob_apply(sim, id, val);
	ipump_sim_update(sim);
	mutex_unlock(&sim->lock);
	return ret;
}

/* ---- reset */

/* Power-on state. Conditions already present latch like any onset. */
void ipump_sim_model_init(struct ipump_sim *sim)
{
	unsigned int i, k;

	for (k = 0; k < IPUMP_SIM_NR_KNOBS; k++) {
		sim->knobs[k].obj = sim;
		sim->knobs[k].id = k;
	}
	for (i = 0; i < IPUMP_MAX_CHANNELS; i++) {
		struct ipump_sim_ch *ch = &sim->ch[i];

		ch->sim = sim;
		ch->index = i;
		for (k = 0; k < IPUMP_SIM_CH_NR_KNOBS; k++) {
			ch->knobs[k].obj = ch;
			ch->knobs[k].id = k;
		}
		ch->reservoir = sim->p.reservoir_nl;
		ch->occl_threshold = sim->p.occlusion_threshold_mmhg;
		ch->air_threshold = IPUMP_SIM_AIR_THRESHOLD;
		ch->res_low = IPUMP_SIM_RES_LOW;
	}
	sim->mains = true;
	sim->battery_minutes = IPUMP_SIM_BATT_MINUTES;
	sim->stuck_addr = -1;
	sim->flip_addr = -1;
	atomic64_set(&sim->now_ns, 0);
	atomic64_set(&sim->deadline_ns, (s64)U64_MAX);

	mutex_lock(&sim->lock);
	ipump_sim_update(sim);
	mutex_unlock(&sim->lock);
}
