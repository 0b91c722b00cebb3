/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump core internals, shared by the files of ipump.ko only.
 * See Documentation/driver-api/ipump-core.rst.
 */
#ifndef _IPUMP_PRIV_H
#define _IPUMP_PRIV_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/ipump.h>

#include "ipump_core.h"
#include "ipump_log.h"
#include "ipump_rules.h"
#include "ipump_regs.h"

/* Card clock timers; add one per time-dependent rule. */
enum ipump_timer {
	IPUMP_TIMER_WDT_KICK,
	IPUMP_NR_TIMERS
};

/**
 * struct ipump_channel - one pump channel of a card
 * @card: the card this channel belongs to
 * @index: channel number on the card, 0-based
 * @state: therapy state (enum ipump_channel_state)
 * @alarms: active alarms, bit numbers of enum ipump_alarm
 * @handset_presses: PCA handset presses seen since the card was registered
 *
 * Every field but @card and @index is protected by the card's @lock.
 */
struct ipump_channel {
	struct ipump_card *card;
	unsigned int index;
	enum ipump_channel_state state;
	unsigned long alarms;
	u32 handset_presses;
};

/**
 * struct ipump_card - one ipump card
 * @dev: class device "ipumpN"; its release frees the card
 * @cdev: /dev/ipumpN; open files hold a reference to @dev through it
 * @id: N in "ipumpN", from the module's IDA
 * @regmap: the card's registers (from the provider; access may sleep)
 * @irq: the card's level-triggered interrupt line
 * @clock: the card's clock, the provider's or CLOCK_BOOTTIME
 * @clock_priv: argument to @clock's callbacks
 * @hrtimer: CLOCK_BOOTTIME timer, only when the card has no clock of its own
 * @clock_work: runs ipump_card_clock_expired() for @hrtimer
 * @debugfs: the card's debugfs directory
 * @log: the card's audit log (locking of its own, see ipump_log.h)
 * @groups: sysfs groups of @dev: the card's and one per existing channel
 * @map_minor: register map minor version
 * @fw_version: firmware version, as in IPUMP_REG_FW_VERSION
 * @serial: serial number
 * @nl_per_step: volume of one motor step, nL
 * @wdt_period_ms: card watchdog period
 * @num_channels: number of channels, 1..IPUMP_MAX_CHANNELS
 * @lock: serialises register sequences and protects the fields below it
 * @dead: unregistered; every operation returns -ENODEV
 * @irq_masked: the core disabled @irq after a register error in the
 *	interrupt handler; the watchdog tick polls until the card answers
 * @alarms: active card-level alarms, bit numbers of enum ipump_alarm
 * @deadline: per timer, on the card clock, U64_MAX when not pending
 * @armed: deadline last passed to @clock->arm
 * @ch: the channels, @num_channels of them used; their state is
 *	protected by @lock too
 *
 * The fields above @lock are set before the card is visible and never
 * change afterwards.
 */
struct ipump_card {
	struct device dev;
	struct cdev cdev;
	int id;
	struct regmap *regmap;
	int irq;
	const struct ipump_clock_ops *clock;
	void *clock_priv;
	struct hrtimer hrtimer;
	struct work_struct clock_work;
	struct dentry *debugfs;
	struct ipump_log log;
	const struct attribute_group *groups[IPUMP_MAX_CHANNELS + 2];
	u32 map_minor;
	u32 fw_version;
	u64 serial;
	u32 nl_per_step;
	u32 wdt_period_ms;
	unsigned int num_channels;

	struct mutex lock;	/* a mutex: held across regmap access, which may sleep */
	bool dead;
	bool irq_masked;
	unsigned long alarms;
	u64 deadline[IPUMP_NR_TIMERS];
	u64 armed;
	struct ipump_channel ch[IPUMP_MAX_CHANNELS];
};

static inline struct ipump_card *to_ipump_card(struct device *dev)
{
	return container_of(dev, struct ipump_card, dev);
}

/* cards per system: the minor numbers of /dev/ipumpN */
#define IPUMP_MAX_CARDS		256

/* 1 MPa: far beyond any infusion line; a larger reading is not a pressure */
#define IPUMP_PRESSURE_MAX_MMHG	7500

#define IPUMP_STATUS_ALL	(IPUMP_STATUS_RUNNING | IPUMP_STATUS_BOLUS | \
				 IPUMP_STATUS_STALLED | IPUMP_STATUS_PAUSED | \
				 IPUMP_STATUS_STOPPED_BY_CARD | \
				 IPUMP_STATUS_BACKOFF)

/* Live object counters, reported in debugfs for leak checks. */
extern atomic_t ipump_nr_cards;
extern atomic_t ipump_nr_channels;

/* ipump_core.c: register access with the communication-failure path */
int ipump_ch_read(struct ipump_channel *ch, unsigned int off, u32 *val);
int ipump_ch_read64(struct ipump_channel *ch, unsigned int lo, u64 *val);
int ipump_card_read(struct ipump_card *card, unsigned int reg, u32 *val);
int ipump_ch_implausible(struct ipump_channel *ch, const char *what, u32 val);
int ipump_card_implausible(struct ipump_card *card, const char *what, u32 val);

void ipump_card_event(struct ipump_card *card, enum ipump_event_type type,
		      u8 channel, enum ipump_priority prio, u64 v0, u64 v1,
		      u64 v2);
int ipump_channel_get_status(struct ipump_card *card,
			     struct ipump_channel_status *st);
void ipump_card_get_info(struct ipump_card *card, struct ipump_card_info *info);

/* ipump_cdev.c */
int ipump_cdev_init(void);
void ipump_cdev_exit(void);
void ipump_cdev_card_init(struct ipump_card *card);

/* ipump_sysfs.c */
void ipump_sysfs_init(void);
void ipump_sysfs_card_groups(struct ipump_card *card);

/* ipump_debugfs.c */
void ipump_debugfs_init(void);
void ipump_debugfs_exit(void);
void ipump_debugfs_card_add(struct ipump_card *card);
void ipump_debugfs_card_remove(struct ipump_card *card);

#endif /* _IPUMP_PRIV_H */
