// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: cards, channels, the card clock and the interrupt.
 *
 * Documentation/driver-api/ipump-core.rst describes the structure, the
 * locking and the lifetime rules implemented here.
 */
#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/property.h>
#include <linux/regmap.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "ipump_priv.h"

#define IPUMP_WDT_PROP		"ipump,watchdog-period-ms"
#define IPUMP_WDT_DEFAULT_MS	1000
#define IPUMP_WDT_MIN_MS	100
#define IPUMP_WDT_MAX_MS	60000

#define IPUMP_CARD_ALARM_ALL	(IPUMP_CARD_ALARM_BATT_LOW | \
				 IPUMP_CARD_ALARM_BATT_DEPLETED | \
				 IPUMP_CARD_ALARM_WDT_EXPIRED | \
				 IPUMP_CARD_ALARM_MAINS_LOST)

atomic_t ipump_nr_cards = ATOMIC_INIT(0);
atomic_t ipump_nr_channels = ATOMIC_INIT(0);

static DEFINE_IDA(ipump_ida);
/* registered cards by id, for netlink; each entry holds a device reference */
static DEFINE_XARRAY(ipump_cards);

/*
 * A static class registered with class_register() builds unchanged on 6.1
 * and on kernels where class_create() lost its owner argument (6.4).
 */
static struct class ipump_class = {
	.name = "ipump",
};

struct ipump_alarm_bit {
	u32 bit;
	enum ipump_alarm alarm;
};

/* HANDSET and BOLUS_DONE are events, not alarms. */
static const struct ipump_alarm_bit ipump_ch_alarm_bits[] = {
	{ IPUMP_ALM_OCCL_DOWN, IPUMP_ALARM_OCCLUSION_DOWN },
	{ IPUMP_ALM_OCCL_UP, IPUMP_ALARM_OCCLUSION_UP },
	{ IPUMP_ALM_AIR, IPUMP_ALARM_AIR_IN_LINE },
	{ IPUMP_ALM_DOOR, IPUMP_ALARM_DOOR_OPEN },
	{ IPUMP_ALM_RES_EMPTY, IPUMP_ALARM_RESERVOIR_EMPTY },
	{ IPUMP_ALM_RES_LOW, IPUMP_ALARM_RESERVOIR_LOW },
	{ IPUMP_ALM_STALL, IPUMP_ALARM_MOTOR_STALL },
	{ IPUMP_ALM_FREE_FLOW, IPUMP_ALARM_FREE_FLOW },
};

static const struct ipump_alarm_bit ipump_card_alarm_bits[] = {
	{ IPUMP_CARD_ALARM_BATT_LOW, IPUMP_ALARM_BATTERY_LOW },
	{ IPUMP_CARD_ALARM_BATT_DEPLETED, IPUMP_ALARM_BATTERY_DEPLETED },
	{ IPUMP_CARD_ALARM_WDT_EXPIRED, IPUMP_ALARM_CARD_WATCHDOG },
	{ IPUMP_CARD_ALARM_MAINS_LOST, IPUMP_ALARM_MAINS_LOST },
};

static unsigned long ipump_alarms_from(const struct ipump_alarm_bit *map,
				       size_t n, u32 bits)
{
	unsigned long alarms = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (bits & map[i].bit)
			alarms |= BIT(map[i].alarm);
	return alarms;
}

unsigned long ipump_ch_alarms(u32 bits)
{
	return ipump_alarms_from(ipump_ch_alarm_bits,
				 ARRAY_SIZE(ipump_ch_alarm_bits), bits);
}

unsigned long ipump_card_alarms(u32 bits)
{
	return ipump_alarms_from(ipump_card_alarm_bits,
				 ARRAY_SIZE(ipump_card_alarm_bits), bits);
}

u64 ipump_clock_now(struct ipump_card *card)
{
	return card->clock->now_ns(card->clock_priv);
}

/*
 * Appends a record to the card's audit log, timestamped on the card clock.
 * Called with the card lock held (log lock order: card lock first).
 */
u64 ipump_card_event4(struct ipump_card *card, enum ipump_event_type type,
		      u8 channel, enum ipump_priority prio, u32 flags, u64 v0,
		      u64 v1, u64 v2, u64 v3)
{
	return ipump_card_event_at(card, ipump_clock_now(card), type, channel,
				   prio, flags, v0, v1, v2, v3);
}

/* As ipump_card_event4(), at card time @ts_ns the caller read and used. */
u64 ipump_card_event_at(struct ipump_card *card, u64 ts_ns,
			enum ipump_event_type type, u8 channel,
			enum ipump_priority prio, u32 flags, u64 v0, u64 v1,
			u64 v2, u64 v3)
{
	struct ipump_event ev;
	u64 seq = 0;
	int ret;

	lockdep_assert_held(&card->lock);
	ipump_event_init(&ev, type, channel, prio, ts_ns);
	ev.flags = flags;
	ev.value[0] = v0;
	ev.value[1] = v1;
	ev.value[2] = v2;
	ev.value[3] = v3;
	ret = ipump_log_append(&card->log, &ev, &seq);
	/* only a closed log refuses, and nothing appends after close */
	WARN_ON_ONCE(ret);
	return seq;
}

u64 ipump_card_event(struct ipump_card *card, enum ipump_event_type type,
		     u8 channel, enum ipump_priority prio, u64 v0, u64 v1,
		     u64 v2)
{
	return ipump_card_event4(card, type, channel, prio, 0, v0, v1, v2, 0);
}

void ipump_ch_set_state(struct ipump_channel *ch,
			enum ipump_channel_state state,
			enum ipump_event_cause cause)
{
	enum ipump_channel_state old = ch->state;

	if (old == state)
		return;
	ch->state = state;
	ipump_card_event(ch->card, IPUMP_EVENT_STATE_CHANGED, ch->index,
			 IPUMP_PRIO_INFO, state, old, cause);
	ipump_therapy_state_changed(ch);
}

/*
 * Latches @alarms on @set, logging each one not already active; a fresh
 * one is also unacknowledged (@unacked).
 */
void ipump_alarms_raise(struct ipump_card *card, u8 channel,
			unsigned long *set, unsigned long *unacked,
			unsigned long alarms)
{
	unsigned long fresh = alarms & ~*set;
	unsigned int a;

	for_each_set_bit(a, &fresh, IPUMP_ALARM_COUNT)
		ipump_card_event(card, IPUMP_EVENT_ALARM_RAISED, channel,
				 ipump_alarm_info(a)->priority, a, 0, 0);
	*set |= alarms;
	*unacked |= fresh;
}

/* Keeps only @keep of @set (and @unacked), logging each alarm that clears. */
void ipump_alarms_keep(struct ipump_card *card, u8 channel,
		       unsigned long *set, unsigned long *unacked,
		       unsigned long keep)
{
	unsigned long gone = *set & ~keep;
	unsigned int a;

	for_each_set_bit(a, &gone, IPUMP_ALARM_COUNT)
		ipump_card_event(card, IPUMP_EVENT_ALARM_CLEARED, channel,
				 IPUMP_PRIO_INFO, a, 0, 0);
	*set &= keep;
	*unacked &= keep;
}

/* ---- register access: every failure takes the communication-failure path */

/* FAULT, COMMUNICATION latched, and a best-effort stop of the motor. */
static void ipump_ch_fault(struct ipump_channel *ch)
{
	struct ipump_card *card = ch->card;
	int ret;

	ipump_alarms_raise(card, ch->index, &ch->alarms, &ch->alarms_unacked,
			   BIT(IPUMP_ALARM_COMMUNICATION));
	ipump_therapy_fault(ch);
	ipump_ch_set_state(ch, IPUMP_STATE_FAULT, IPUMP_CAUSE_FAULT);
	ret = regmap_write(card->regmap, IPUMP_CH_REG(ch->index, IPUMP_CH_CTRL),
			   IPUMP_CTRL_STOP);
	dev_err_ratelimited(&card->dev, "channel %u: communication fault, stop %s (%d)\n",
			    ch->index, ret ? "failed" : "sent", ret);
}

static void ipump_card_fault(struct ipump_card *card)
{
	unsigned int i;

	for (i = 0; i < card->num_channels; i++)
		ipump_ch_fault(&card->ch[i]);
}

/*
 * A register access failed: log it, and fault the channel (@ch) or, for a
 * card-wide register, every channel. Returns -EIO for the caller to pass on.
 */
static int ipump_io_failed(struct ipump_card *card, struct ipump_channel *ch,
			   const char *op, unsigned int reg, int err)
{
	dev_err_ratelimited(&card->dev, "%s %#05x failed: %d\n", op, reg, err);
	if (ch)
		ipump_ch_fault(ch);
	else
		ipump_card_fault(card);
	return -EIO;
}

int ipump_ch_write(struct ipump_channel *ch, unsigned int off, u32 val)
{
	unsigned int reg = IPUMP_CH_REG(ch->index, off);
	int ret;

	lockdep_assert_held(&ch->card->lock);
	ret = regmap_write(ch->card->regmap, reg, val);
	return ret ? ipump_io_failed(ch->card, ch, "write", reg, ret) : 0;
}

int ipump_ch_read(struct ipump_channel *ch, unsigned int off, u32 *val)
{
	unsigned int reg = IPUMP_CH_REG(ch->index, off);
	int ret;

	lockdep_assert_held(&ch->card->lock);
	ret = regmap_read(ch->card->regmap, reg, val);
	return ret ? ipump_io_failed(ch->card, ch, "read", reg, ret) : 0;
}

/* A latched 64-bit pair: reading LO latches HI. */
int ipump_ch_read64(struct ipump_channel *ch, unsigned int lo, u64 *val)
{
	u32 l, h;
	int ret;

	ret = ipump_ch_read(ch, lo, &l) ?: ipump_ch_read(ch, lo + 4, &h);
	if (!ret)
		*val = (u64)h << 32 | l;
	return ret;
}

/* A value the card cannot have: the link or the card is not trustworthy. */
int ipump_ch_implausible(struct ipump_channel *ch, const char *what, u32 val)
{
	dev_err_ratelimited(&ch->card->dev, "channel %u: implausible %s %#x\n",
			    ch->index, what, val);
	ipump_ch_fault(ch);
	return -EIO;
}

int ipump_card_write(struct ipump_card *card, unsigned int reg, u32 val)
{
	int ret;

	lockdep_assert_held(&card->lock);
	ret = regmap_write(card->regmap, reg, val);
	return ret ? ipump_io_failed(card, NULL, "write", reg, ret) : 0;
}

int ipump_card_read(struct ipump_card *card, unsigned int reg, u32 *val)
{
	int ret;

	lockdep_assert_held(&card->lock);
	ret = regmap_read(card->regmap, reg, val);
	return ret ? ipump_io_failed(card, NULL, "read", reg, ret) : 0;
}

int ipump_card_implausible(struct ipump_card *card, const char *what, u32 val)
{
	dev_err_ratelimited(&card->dev, "implausible %s %#x\n", what, val);
	ipump_card_fault(card);
	return -EIO;
}

/* The identity must not change while the card is registered. */
int ipump_card_check_identity(struct ipump_card *card)
{
	u32 id, n;
	int ret;

	ret = ipump_card_read(card, IPUMP_REG_ID, &id) ?:
	      ipump_card_read(card, IPUMP_REG_NUM_CHANNELS, &n);
	if (ret)
		return ret;
	if (id != IPUMP_ID_MAGIC)
		return ipump_card_implausible(card, "ID", id);
	if (n != card->num_channels)
		return ipump_card_implausible(card, "NUM_CHANNELS", n);
	return 0;
}

/* ---- interrupt */

static int ipump_ch_irq(struct ipump_channel *ch)
{
	u32 latch, cond;
	int ret;

	ret = ipump_ch_read(ch, IPUMP_CH_ALARM_STATUS, &latch);
	if (ret)
		return ret;
	if (latch & ~IPUMP_ALM_ALL)
		return ipump_ch_implausible(ch, "ALARM_STATUS", latch);
	ret = ipump_ch_write(ch, IPUMP_CH_ALARM_STATUS, latch) ?:
	      ipump_ch_read(ch, IPUMP_CH_ALARM_COND, &cond);
	if (ret)
		return ret;
	if (cond & ~IPUMP_ALM_ALL)
		return ipump_ch_implausible(ch, "ALARM_COND", cond);

	return ipump_therapy_ch_irq(ch, latch, cond);
}

static int ipump_card_irq(struct ipump_card *card)
{
	u32 latch, cond;
	unsigned int i;
	int ret;

	ret = ipump_card_read(card, IPUMP_REG_CARD_ALARM, &latch);
	if (ret)
		return ret;
	if (latch & ~IPUMP_CARD_ALARM_ALL)
		return ipump_card_implausible(card, "CARD_ALARM", latch);
	ret = ipump_card_write(card, IPUMP_REG_CARD_ALARM, latch) ?:
	      ipump_card_read(card, IPUMP_REG_CARD_ALARM_COND, &cond);
	if (ret)
		return ret;
	if (cond & ~IPUMP_CARD_ALARM_ALL)
		return ipump_card_implausible(card, "CARD_ALARM_COND", cond);

	ipump_alarms_raise(card, IPUMP_CHANNEL_NONE, &card->alarms,
			   &card->alarms_unacked, ipump_card_alarms(latch | cond));
	/* non-latching card alarms clear with their condition */
	ipump_alarms_keep(card, IPUMP_CHANNEL_NONE, &card->alarms,
			  &card->alarms_unacked,
			  ipump_card_alarms(latch | cond) |
			  (card->alarms & ipump_alarms_latching()));
	if (latch & IPUMP_CARD_ALARM_WDT_EXPIRED)
		dev_err_ratelimited(&card->dev, "card watchdog expired\n");

	/* stopping card-level alarms stop every channel that delivers */
	for (i = 0; i < card->num_channels; i++)
		ret = ipump_therapy_card_alarms(&card->ch[i],
						ipump_card_alarms(latch | cond)) ?: ret;
	return ret;
}

/* Handles what the card reports pending; sets *pending if anything was. */
static int ipump_irq_process(struct ipump_card *card, bool *pending)
{
	u32 valid = GENMASK(card->num_channels - 1, 0) | IPUMP_IRQ_CARD;
	unsigned long status;
	unsigned int i;
	u32 val;
	int ret;

	ret = ipump_card_read(card, IPUMP_REG_IRQ_STATUS, &val);
	if (ret)
		return ret;
	if (val & ~valid)
		return ipump_card_implausible(card, "IRQ_STATUS", val);
	*pending = val;

	status = val;
	for_each_set_bit(i, &status, card->num_channels)
		ret = ipump_ch_irq(&card->ch[i]) ?: ret;
	if (val & IPUMP_IRQ_CARD)
		ret = ipump_card_irq(card) ?: ret;
	return ret;
}

static irqreturn_t ipump_irq_thread(int irq, void *data)
{
	struct ipump_card *card = data;
	bool pending = false;

	mutex_lock(&card->lock);
	if (!card->dead && ipump_irq_process(card, &pending) &&
	    !card->irq_masked) {
		/*
		 * A latch we could not clear keeps the level-triggered line
		 * asserted: mask it and poll from the watchdog tick instead.
		 */
		disable_irq_nosync(irq);
		card->irq_masked = true;
	}
	/* the handlers may have started or ended timed therapy */
	if (!card->dead)
		ipump_clock_arm(card, false);
	mutex_unlock(&card->lock);
	return pending ? IRQ_HANDLED : IRQ_NONE;
}

/* Unmasks the interrupt once the card's pending state can be handled. */
static int ipump_irq_recover(struct ipump_card *card)
{
	bool pending;
	int ret;

	if (!card->irq_masked)
		return 0;
	ret = ipump_irq_process(card, &pending);
	if (ret)
		return ret;
	card->irq_masked = false;
	enable_irq(card->irq);
	return 0;
}

/* ---- the card clock and its timers */

static u64 ipump_boottime_now(void *priv)
{
	return ktime_get_boottime_ns();
}

static void ipump_boottime_arm(void *priv, u64 deadline_ns)
{
	struct ipump_card *card = priv;

	if (deadline_ns == U64_MAX)
		hrtimer_try_to_cancel(&card->hrtimer);
	else
		hrtimer_start(&card->hrtimer, ns_to_ktime(deadline_ns),
			      HRTIMER_MODE_ABS);
}

static const struct ipump_clock_ops ipump_boottime_clock = {
	.name = "boottime",
	.now_ns = ipump_boottime_now,
	.arm = ipump_boottime_arm,
};

/* Timer context: regmap access may sleep, so expire in process context. */
static enum hrtimer_restart ipump_hrtimer_fn(struct hrtimer *t)
{
	struct ipump_card *card = container_of(t, struct ipump_card, hrtimer);

	queue_work(system_highpri_wq, &card->clock_work);
	return HRTIMER_NORESTART;
}

static void ipump_clock_work(struct work_struct *work)
{
	ipump_card_clock_expired(container_of(work, struct ipump_card,
					      clock_work));
}

/* Asks the clock for the earliest pending deadline (@force: even if unchanged). */
void ipump_clock_arm(struct ipump_card *card, bool force)
{
	u64 next = U64_MAX;
	int t;

	for (t = 0; t < IPUMP_NR_TIMERS; t++)
		next = min(next, card->deadline[t]);
	for (t = 0; t < card->num_channels; t++)
		next = min(next, ipump_therapy_deadline(&card->ch[t]));
	if (!force && next == card->armed)
		return;
	card->armed = next;
	card->clock->arm(card->clock_priv, next);
}

/*
 * ipump_card_clock_expired() re-arms the clock after running the timers;
 * anywhere else follow with ipump_clock_arm(card, false).
 */
static void ipump_timer_set(struct ipump_card *card, enum ipump_timer t,
			    u64 deadline_ns)
{
	card->deadline[t] = deadline_ns;
}

/* Kicks the card watchdog; also the card's periodic health check. */
static void ipump_wdt_tick(struct ipump_card *card, u64 now)
{
	/* keep kicking after a failure: the card may answer again */
	ipump_timer_set(card, IPUMP_TIMER_WDT_KICK,
			now + (u64)card->wdt_period_ms * NSEC_PER_MSEC / 2);
	if (ipump_card_write(card, IPUMP_REG_WDT_KEEPALIVE, IPUMP_WDT_KICK) ||
	    ipump_card_check_identity(card))
		return;
	ipump_irq_recover(card);
}

static void (*const ipump_timer_fn[IPUMP_NR_TIMERS])(struct ipump_card *card,
						      u64 now) = {
	[IPUMP_TIMER_WDT_KICK] = ipump_wdt_tick,
};

void ipump_card_clock_expired(struct ipump_card *card)
{
	u64 now;
	int t;

	mutex_lock(&card->lock);
	if (card->dead)
		goto unlock;
	now = ipump_clock_now(card);
	for (t = 0; t < IPUMP_NR_TIMERS; t++) {
		if (card->deadline[t] > now)
			continue;
		card->deadline[t] = U64_MAX;
		ipump_timer_fn[t](card, now);
	}
	for (t = 0; t < card->num_channels; t++)
		ipump_therapy_timers(&card->ch[t], now);
	/* the provider's request was used up by this call */
	ipump_clock_arm(card, true);
unlock:
	mutex_unlock(&card->lock);
}
EXPORT_SYMBOL_GPL(ipump_card_clock_expired);

/* ---- channel control */

struct ipump_channel *ipump_channel_get(struct ipump_card *card,
					unsigned int index)
{
	lockdep_assert_held(&card->lock);
	if (card->dead)
		return ERR_PTR(-ENODEV);
	if (index >= card->num_channels)
		return ERR_PTR(-EINVAL);
	return &card->ch[array_index_nospec(index, card->num_channels)];
}

/*
 * The card answers again after a communication fault: its watchdog may
 * have expired while our kicks did not arrive, so re-arm it before anything
 * can be restarted.
 */
int ipump_card_recovered(struct ipump_card *card)
{
	return ipump_card_check_identity(card) ?:
	       ipump_card_write(card, IPUMP_REG_WDT_KEEPALIVE, IPUMP_WDT_KICK) ?:
	       ipump_irq_recover(card);
}

/*
 * A service start from debugfs: no programme, no lease; the delivery tick
 * still verifies what the card does. Therapy uses ipump_ch_start().
 */
int ipump_channel_start(struct ipump_card *card, unsigned int index,
			u32 rate_nl_per_h)
{
	struct ipump_channel *ch;

	if (!rate_nl_per_h)
		return -EINVAL;
	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, index);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	if (ch->state != IPUMP_STATE_IDLE)
		return -EBUSY;
	return ipump_therapy_service_start(ch, rate_nl_per_h);
}
EXPORT_SYMBOL_GPL(ipump_channel_start);

int ipump_channel_stop(struct ipump_card *card, unsigned int index)
{
	struct ipump_req req = { .owner = card };

	return ipump_ch_stop(card, index, &req);
}
EXPORT_SYMBOL_GPL(ipump_channel_stop);

int ipump_channel_ack(struct ipump_card *card, unsigned int index)
{
	struct ipump_req req = { .owner = card };

	return ipump_ch_ack(card, index, &req);
}
EXPORT_SYMBOL_GPL(ipump_channel_ack);

int ipump_card_ack(struct ipump_card *card)
{
	struct ipump_req req = { .owner = card };

	return ipump_ch_ack(card, IPUMP_CHANNEL_NONE, &req);
}
EXPORT_SYMBOL_GPL(ipump_card_ack);

/* ---- status, for the character device and netlink */

void ipump_card_get_info(struct ipump_card *card, struct ipump_card_info *info)
{
	memset(info, 0, sizeof(*info));
	info->serial = card->serial;
	info->card = card->id;
	info->num_channels = card->num_channels;
	info->fw_version = card->fw_version;
	info->map_version = IPUMP_MAP_VERSION_MAJOR << 16 | card->map_minor;
	info->nl_per_step = card->nl_per_step;
	info->clock = card->clock == &ipump_boottime_clock ?
		      IPUMP_CLOCK_BOOTTIME : IPUMP_CLOCK_SIMULATED;
	info->wdt_period_ms = card->wdt_period_ms;
}

/*
 * Reads every register of the status under one hold of the lock, so the
 * values belong together. st->channel selects the channel; everything else
 * is overwritten (reserved fields zeroed).
 */
int ipump_channel_get_status(struct ipump_card *card,
			     struct ipump_channel_status *st,
			     const void *owner)
{
	struct ipump_channel *ch;
	u32 status, reservoir, bolus_rate;
	int ret;

	guard(mutex)(&card->lock);
	ch = ipump_channel_get(card, st->channel);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	memset(st, 0, sizeof(*st));
	st->channel = ch->index;
	ret = ipump_ch_read(ch, IPUMP_CH_STATUS, &status) ?:
	      ipump_ch_read(ch, IPUMP_CH_RATE_NL_PER_H, &st->rate_nl_per_h) ?:
	      ipump_ch_read64(ch, IPUMP_CH_DELIVERED_LO, &st->delivered_nl) ?:
	      ipump_ch_read(ch, IPUMP_CH_RESERVOIR_NL, &reservoir) ?:
	      ipump_ch_read(ch, IPUMP_CH_PRESSURE_DOWN_MMHG, &st->pressure_down_mmhg) ?:
	      ipump_ch_read(ch, IPUMP_CH_PRESSURE_UP_MMHG, &st->pressure_up_mmhg) ?:
	      ipump_ch_read(ch, IPUMP_CH_STEP_COUNT, &st->step_count) ?:
	      ipump_ch_read(ch, IPUMP_CH_BOLUS_RATE_NL_PER_H, &bolus_rate);
	if (ret)
		return ret;
	if (status & ~IPUMP_STATUS_ALL)
		return ipump_ch_implausible(ch, "STATUS", status);
	if (st->pressure_down_mmhg > IPUMP_PRESSURE_MAX_MMHG)
		return ipump_ch_implausible(ch, "PRESSURE_DOWN", st->pressure_down_mmhg);
	if (st->pressure_up_mmhg > IPUMP_PRESSURE_MAX_MMHG)
		return ipump_ch_implausible(ch, "PRESSURE_UP", st->pressure_up_mmhg);

	st->reservoir_nl = reservoir;
	st->state = ch->state;
	st->alarms = ch->alarms;
	st->handset_presses = ch->handset_presses;
	st->timestamp_ns = ipump_clock_now(card);
	if (status & IPUMP_STATUS_RUNNING)
		st->motor |= IPUMP_MOTOR_RUNNING;
	if (status & IPUMP_STATUS_STALLED)
		st->motor |= IPUMP_MOTOR_STALLED;
	if (status & IPUMP_STATUS_BOLUS)
		st->motor |= IPUMP_MOTOR_BOLUS;
	if (status & IPUMP_STATUS_BACKOFF)
		st->motor |= IPUMP_MOTOR_BACKOFF;
	/* what the motor runs at now, not a setpoint it does not use */
	if (status & IPUMP_STATUS_BOLUS)
		st->rate_nl_per_h = bolus_rate;
	else if (!(status & IPUMP_STATUS_RUNNING) || status & IPUMP_STATUS_PAUSED)
		st->rate_nl_per_h = 0;
	ipump_therapy_status(ch, st, owner);
	return 0;
}

/* ---- registration and lifetime */

static int ipump_card_identify(struct ipump_card *card, struct device *parent)
{
	struct regmap *map = card->regmap;
	u32 id, version, lo, hi, selftest;
	int ret;

	ret = regmap_read(map, IPUMP_REG_ID, &id) ?:
	      regmap_read(map, IPUMP_REG_MAP_VERSION, &version);
	if (ret)
		goto err_io;
	if (id != IPUMP_ID_MAGIC || version >> 16 != IPUMP_MAP_VERSION_MAJOR) {
		dev_err(parent, "not a supported ipump card: ID %#010x, map version %#x\n",
			id, version);
		return -ENODEV;
	}
	card->map_minor = version & 0xffff;
	/* 1.0 has no AIR_TOTAL_NL: accumulated air could not be counted */
	if (card->map_minor < IPUMP_MAP_VERSION_MINOR) {
		dev_err(parent, "register map %u.%u is too old: %u.%u needed\n",
			IPUMP_MAP_VERSION_MAJOR, card->map_minor,
			IPUMP_MAP_VERSION_MAJOR, IPUMP_MAP_VERSION_MINOR);
		return -ENODEV;
	}

	ret = regmap_read(map, IPUMP_REG_FW_VERSION, &card->fw_version) ?:
	      regmap_read(map, IPUMP_REG_NUM_CHANNELS, &card->num_channels) ?:
	      regmap_read(map, IPUMP_REG_SERIAL_LO, &lo) ?:
	      regmap_read(map, IPUMP_REG_SERIAL_HI, &hi) ?:
	      regmap_read(map, IPUMP_REG_NL_PER_STEP, &card->nl_per_step) ?:
	      regmap_read(map, IPUMP_REG_SELFTEST, &selftest);
	if (ret)
		goto err_io;
	card->serial = (u64)hi << 32 | lo;

	if (!card->num_channels || card->num_channels > IPUMP_MAX_CHANNELS) {
		dev_err(parent, "unsupported number of channels: %u\n",
			card->num_channels);
		return -EINVAL;
	}
	if (!card->nl_per_step) {
		dev_err(parent, "implausible volume per motor step: 0 nL\n");
		return -EINVAL;
	}
	if (selftest) {
		dev_err(parent, "card self-test failed: %#x\n", selftest);
		return -EIO;
	}
	return 0;

err_io:
	dev_err(parent, "cannot read the card identity: %d\n", ret);
	return ret;
}

static int ipump_read_wdt_period(struct device *parent, u32 *ms)
{
	int ret;

	*ms = IPUMP_WDT_DEFAULT_MS;
	if (!device_property_present(parent, IPUMP_WDT_PROP))
		return 0;
	ret = device_property_read_u32(parent, IPUMP_WDT_PROP, ms);
	if (ret) {
		dev_err(parent, "cannot read %s: %d\n", IPUMP_WDT_PROP, ret);
		return ret;
	}
	if (*ms < IPUMP_WDT_MIN_MS || *ms > IPUMP_WDT_MAX_MS) {
		dev_err(parent, "%s = %u out of range %u..%u\n", IPUMP_WDT_PROP,
			*ms, IPUMP_WDT_MIN_MS, IPUMP_WDT_MAX_MS);
		return -EINVAL;
	}
	return 0;
}

static void ipump_card_init(struct ipump_card *card,
			    const struct ipump_card_config *cfg,
			    struct device *parent)
{
	unsigned int i;
	int t;

	mutex_init(&card->lock);
	for (i = 0; i < card->num_channels; i++) {
		card->ch[i].card = card;
		card->ch[i].index = i;
		card->ch[i].state = IPUMP_STATE_IDLE;
		ipump_therapy_ch_init(&card->ch[i], parent);
	}
	if (cfg->clock) {
		card->clock = cfg->clock;
		card->clock_priv = cfg->clock_priv;
	} else {
		card->clock = &ipump_boottime_clock;
		card->clock_priv = card;
	}
	hrtimer_init(&card->hrtimer, CLOCK_BOOTTIME, HRTIMER_MODE_ABS);
	card->hrtimer.function = ipump_hrtimer_fn;
	INIT_WORK(&card->clock_work, ipump_clock_work);
	for (t = 0; t < IPUMP_NR_TIMERS; t++)
		card->deadline[t] = U64_MAX;
	card->armed = U64_MAX;
}

/* Before the interrupt is requested: a known, quiet starting point. */
static int ipump_card_init_hw(struct ipump_card *card)
{
	struct regmap *map = card->regmap;
	unsigned int i;
	int ret = 0;

	/* a newly registered card has no programme: make the motors agree */
	for (i = 0; i < card->num_channels && !ret; i++)
		ret = regmap_write(map, IPUMP_CH_REG(i, IPUMP_CH_CTRL),
				   IPUMP_CTRL_STOP) ?:
		      regmap_write(map, IPUMP_CH_REG(i, IPUMP_CH_ALARM_MASK), 0) ?:
		      regmap_write(map, IPUMP_CH_REG(i, IPUMP_CH_AIR_THRESHOLD_NL),
				   card->ch[i].limits.air_bubble_nl) ?:
		      regmap_read(map, IPUMP_CH_REG(i, IPUMP_CH_HANDSET_COUNT),
				  &card->ch[i].handset_count);
	ret = ret ?:
	      regmap_write(map, IPUMP_REG_CARD_ALARM_MASK, 0) ?:
	      regmap_write(map, IPUMP_REG_IRQ_ENABLE,
			   GENMASK(card->num_channels - 1, 0) | IPUMP_IRQ_CARD);
	if (ret)
		dev_err(&card->dev, "cannot initialise the card: %d\n", ret);
	return ret;
}

static int ipump_card_start_wdt(struct ipump_card *card)
{
	int ret;

	guard(mutex)(&card->lock);
	ret = regmap_write(card->regmap, IPUMP_REG_WDT_PERIOD_MS,
			   card->wdt_period_ms) ?:
	      regmap_write(card->regmap, IPUMP_REG_WDT_KEEPALIVE, IPUMP_WDT_KICK);
	if (ret) {
		dev_err(&card->dev, "cannot start the card watchdog: %d\n", ret);
		return ret;
	}
	ipump_timer_set(card, IPUMP_TIMER_WDT_KICK, ipump_clock_now(card) +
			(u64)card->wdt_period_ms * NSEC_PER_MSEC / 2);
	ipump_clock_arm(card, false);
	return 0;
}

static void ipump_card_release(struct device *dev)
{
	struct ipump_card *card = to_ipump_card(dev);

	atomic_sub(card->num_channels, &ipump_nr_channels);
	atomic_dec(&ipump_nr_cards);
	ida_free(&ipump_ida, card->id);
	ipump_log_destroy(&card->log);
	mutex_destroy(&card->lock);
	kfree(card);
}

struct ipump_card *ipump_card_register(struct device *parent,
				       const struct ipump_card_config *cfg)
{
	const struct ipump_clock_ops *clock = cfg ? cfg->clock : NULL;
	struct ipump_card *card;
	int ret;

	if (!parent || !cfg || !cfg->regmap || cfg->irq <= 0 ||
	    (clock && (!clock->name || !clock->now_ns || !clock->arm)))
		return ERR_PTR(-EINVAL);

	card = kzalloc(sizeof(*card), GFP_KERNEL);
	if (!card)
		return ERR_PTR(-ENOMEM);
	card->regmap = cfg->regmap;
	card->irq = cfg->irq;
	ret = ipump_card_identify(card, parent) ?:
	      ipump_read_wdt_period(parent, &card->wdt_period_ms);
	if (ret)
		goto err_free;
	ret = ida_alloc_max(&ipump_ida, IPUMP_MAX_CARDS - 1, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	card->id = ret;

	ret = ipump_log_init(&card->log, card->id, 0);
	if (ret) {
		ida_free(&ipump_ida, card->id);
		goto err_free;
	}
	ipump_card_init(card, cfg, parent);
	atomic_inc(&ipump_nr_cards);
	atomic_add(card->num_channels, &ipump_nr_channels);

	/* from here on the device release frees the card */
	device_initialize(&card->dev);
	card->dev.class = &ipump_class;
	card->dev.parent = parent;
	card->dev.release = ipump_card_release;
	ipump_sysfs_card_groups(card);
	card->dev.groups = card->groups;
	ret = dev_set_name(&card->dev, "ipump%d", card->id) ?:
	      ipump_card_init_hw(card);
	if (ret)
		goto err_put;
	ipump_cdev_card_init(card);
	ret = cdev_device_add(&card->cdev, &card->dev);
	if (ret)
		goto err_put;

	ret = request_threaded_irq(card->irq, NULL, ipump_irq_thread,
				   IRQF_ONESHOT, dev_name(&card->dev), card);
	if (ret) {
		dev_err(&card->dev, "cannot request IRQ %d: %d\n", card->irq, ret);
		goto err_del;
	}
	ret = ipump_card_start_wdt(card);
	if (ret)
		goto err_irq;
	ipump_debugfs_card_add(card);
	card->wakeup = wakeup_source_register(&card->dev, dev_name(&card->dev));
	ipump_netlink_card_init(card);
	get_device(&card->dev);
	xa_store(&ipump_cards, card->id, card, GFP_KERNEL);
	scoped_guard(mutex, &card->lock) {
		struct ipump_card_info info;
		struct ipump_event ev;

		ipump_card_get_info(card, &info);
		ipump_event_init(&ev, IPUMP_EVENT_CARD_ADDED, IPUMP_CHANNEL_NONE,
				 IPUMP_PRIO_INFO, ipump_clock_now(card));
		ev.value[0] = info.serial;
		ev.value[1] = info.fw_version;
		ev.value[2] = info.num_channels;
		ev.value[3] = info.clock;
		ipump_log_append(&card->log, &ev, NULL);
	}

	dev_info(&card->dev, "serial %016llx, firmware %u.%u.%u, %u channels, clock %s\n",
		 card->serial, card->fw_version >> 16,
		 (card->fw_version >> 8) & 0xff, card->fw_version & 0xff,
		 card->num_channels, card->clock->name);
	return card;

err_irq:
	free_irq(card->irq, card);
err_del:
	cdev_device_del(&card->cdev, &card->dev);
err_put:
	put_device(&card->dev);
	return ERR_PTR(ret);
err_free:
	kfree(card);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(ipump_card_register);

void ipump_card_unregister(struct ipump_card *card)
{
	unsigned int i;

	xa_erase(&ipump_cards, card->id);
	put_device(&card->dev);
	mutex_lock(&card->lock);
	card->dead = true;
	ipump_therapy_card_dead(card);
	/* readers get what is queued, then CARD_REMOVED, then -ENODEV */
	ipump_log_close(&card->log, ipump_clock_now(card));
	/*
	 * Best effort, errors ignored: on removal the card may already be
	 * gone and nothing more could be done here. Should a stop not reach
	 * the card, its watchdog, deliberately left running, stops the
	 * motors once the kicks cease.
	 */
	for (i = 0; i < card->num_channels; i++)
		regmap_write(card->regmap, IPUMP_CH_REG(i, IPUMP_CH_CTRL),
			     IPUMP_CTRL_STOP);
	regmap_write(card->regmap, IPUMP_REG_IRQ_ENABLE, 0);
	card->clock->arm(card->clock_priv, U64_MAX);
	mutex_unlock(&card->lock);

	/* the interrupt thread takes the lock: free it unlocked */
	free_irq(card->irq, card);
	/* its device holds a reference to ours: it must go before the release */
	scoped_guard(mutex, &card->lock) {
		wakeup_source_unregister(card->wakeup);
		card->wakeup = NULL;
	}
	hrtimer_cancel(&card->hrtimer);
	cancel_work_sync(&card->clock_work);
	ipump_debugfs_card_remove(card);
	/* open files keep the card's memory (not the card) until closed */
	cdev_device_del(&card->cdev, &card->dev);
	put_device(&card->dev);
}
EXPORT_SYMBOL_GPL(ipump_card_unregister);

struct ipump_card *ipump_card_get_next(u32 *id)
{
	struct ipump_card *card;
	unsigned long index = *id;

	xa_lock(&ipump_cards);
	card = xa_find(&ipump_cards, &index, ULONG_MAX, XA_PRESENT);
	if (card) {
		get_device(&card->dev);
		*id = index;
	}
	xa_unlock(&ipump_cards);
	return card;
}

void ipump_card_put(struct ipump_card *card)
{
	put_device(&card->dev);
}

const char *ipump_card_name(struct ipump_card *card)
{
	return dev_name(&card->dev);
}
EXPORT_SYMBOL_GPL(ipump_card_name);

/* ---- module */

static int __init ipump_init(void)
{
	int ret;

	ipump_sysfs_init();
	ret = ipump_cdev_init();
	if (ret)
		return ret;
	ret = class_register(&ipump_class);
	if (ret) {
		ipump_cdev_exit();
		return ret;
	}
	ipump_debugfs_init();
	ret = ipump_therapy_init();
	if (ret)
		goto err_debugfs;
	ret = ipump_netlink_init();
	if (ret)
		goto err_therapy;
	return 0;

err_therapy:
	ipump_therapy_exit();
err_debugfs:
	ipump_debugfs_exit();
	class_unregister(&ipump_class);
	ipump_cdev_exit();
	return ret;
}
module_init(ipump_init);

static void __exit ipump_exit(void)
{
	ipump_netlink_exit();
	ipump_therapy_exit();
	ipump_debugfs_exit();
	class_unregister(&ipump_class);
	ipump_cdev_exit();
	ida_destroy(&ipump_ida);
}
module_exit(ipump_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("ipump developers");
MODULE_DESCRIPTION("Infusion-pump interface card core");
MODULE_VERSION("0.1.0");
