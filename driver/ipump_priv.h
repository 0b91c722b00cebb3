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
 * @alarms_unacked: active alarms not acknowledged yet
 * @handset_presses: PCA handset presses seen since the card was registered
 * @handset_count: the card's HANDSET_COUNT when last read
 * @limits: hard limits (CAP_SYS_ADMIN to change)
 * @prog: the programme, valid when @has_prog
 * @has_prog: a programme is loaded
 * @generation: programme generation, 0 before the first
 * @kvo_hold: delivery is held at KVO (VTBI done or dose limit)
 * @service: started from debugfs without a programme
 * @rate_cmd: rate the card runs now (basal, KVO or bolus), nL/h
 * @tick_due: next delivery tick, U64_MAX when not delivering
 * @last_tick: time of the last sample
 * @last_delivered: card's DELIVERED counter at @last_tick
 * @last_steps: card's STEP_COUNT at @last_tick
 * @commanded_nl: total volume commanded since the start (stall detector)
 * @started_delivered: DELIVERED at the last start (STOPPED record)
 * @infused_nl: counted since the programme was set
 * @dose: rolling dose windows (basal, KVO, PCA)
 * @verify: commanded against counted, rolling 15 minutes
 * @stall: stall detector
 * @air: accumulated air, rolling 15 minutes
 * @last_air_total: AIR_TOTAL_NL at the last sample
 * @lockout_ref: last PCA start or lockout re-arm reference
 * @ring: PCA starts in the last hour
 * @pca_delivered: PCA boluses started under this programme
 * @pca_denied: PCA demands denied under this programme
 * @clinician_boluses: clinician boluses started under this programme
 * @bolus_clinician: the bolus in progress is a clinician bolus
 * @bolus_req: seq of the bolus in progress's BOLUS_REQUESTED record
 * @bolus_volume: volume of the bolus in progress, nL
 * @bolus_delivered: the card's count for the current or last bolus
 * @audio: alarm audio pause
 * @lease: the console lease
 * @lease_id: id of the current lease (LEASE_* records)
 * @lease_loss_done: the loss of an orphaned @lease was handled
 *
 * Every field but @card and @index is protected by the card's @lock.
 */
struct ipump_channel {
	struct ipump_card *card;
	unsigned int index;
	enum ipump_channel_state state;
	unsigned long alarms;
	unsigned long alarms_unacked;
	u32 handset_presses;
	u32 handset_count;

	struct ipump_hard_limits limits;
	struct ipump_programme prog;
	bool has_prog;
	u64 generation;
	bool kvo_hold;
	bool service;

	u32 rate_cmd;
	u64 tick_due;
	u64 last_tick;
	u64 last_delivered;
	u32 last_steps;
	u64 commanded_nl;
	u64 started_delivered;
	u64 infused_nl;
	struct ipump_dose_window dose;
	struct ipump_verify_window verify;
	struct ipump_stall stall;
	struct ipump_air_window air;
	u32 last_air_total;

	u64 lockout_ref;
	struct ipump_bolus_ring ring;
	u32 pca_delivered;
	u32 pca_denied;
	u32 clinician_boluses;
	bool bolus_clinician;
	u64 bolus_req;
	u32 bolus_volume;
	u64 bolus_delivered;

	struct ipump_audio_pause audio;

	struct ipump_lease lease;
	u64 lease_id;
	bool lease_loss_done;
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
 * @alarms_unacked: active card-level alarms not acknowledged yet
 * @wakeup: held while any channel delivers (no silent stop by suspend)
 * @lease_ids: last lease id handed out
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
	unsigned long alarms_unacked;
	struct wakeup_source *wakeup;
	u64 lease_ids;
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
int ipump_ch_write(struct ipump_channel *ch, unsigned int off, u32 val);
int ipump_card_write(struct ipump_card *card, unsigned int reg, u32 val);
int ipump_ch_read(struct ipump_channel *ch, unsigned int off, u32 *val);
int ipump_ch_read64(struct ipump_channel *ch, unsigned int lo, u64 *val);
int ipump_card_read(struct ipump_card *card, unsigned int reg, u32 *val);
int ipump_ch_implausible(struct ipump_channel *ch, const char *what, u32 val);
int ipump_card_implausible(struct ipump_card *card, const char *what, u32 val);

/* ipump_core.c: events, alarms, the clock; all with the card lock held */
u64 ipump_card_event4(struct ipump_card *card, enum ipump_event_type type,
		      u8 channel, enum ipump_priority prio, u32 flags, u64 v0,
		      u64 v1, u64 v2, u64 v3);
u64 ipump_card_event_at(struct ipump_card *card, u64 ts_ns,
			enum ipump_event_type type, u8 channel,
			enum ipump_priority prio, u32 flags, u64 v0, u64 v1,
			u64 v2, u64 v3);
u64 ipump_card_event(struct ipump_card *card, enum ipump_event_type type,
		     u8 channel, enum ipump_priority prio, u64 v0, u64 v1,
		     u64 v2);
void ipump_ch_set_state(struct ipump_channel *ch,
			enum ipump_channel_state state,
			enum ipump_event_cause cause);
void ipump_alarms_raise(struct ipump_card *card, u8 channel,
			unsigned long *set, unsigned long *unacked,
			unsigned long alarms);
void ipump_alarms_keep(struct ipump_card *card, u8 channel,
		       unsigned long *set, unsigned long *unacked,
		       unsigned long keep);
unsigned long ipump_ch_alarms(u32 bits);
unsigned long ipump_card_alarms(u32 bits);
int ipump_card_check_identity(struct ipump_card *card);
int ipump_card_recovered(struct ipump_card *card);
struct ipump_channel *ipump_channel_get(struct ipump_card *card,
					unsigned int index);
u64 ipump_clock_now(struct ipump_card *card);
void ipump_clock_arm(struct ipump_card *card, bool force);

/* ipump_therapy.c: hooks the core calls with the card lock held */
void ipump_therapy_state_changed(struct ipump_channel *ch);
int ipump_therapy_ch_irq(struct ipump_channel *ch, u32 latch, u32 cond);
int ipump_therapy_card_alarms(struct ipump_channel *ch, unsigned long alarms);
void ipump_therapy_fault(struct ipump_channel *ch);
u64 ipump_therapy_deadline(struct ipump_channel *ch);
void ipump_therapy_timers(struct ipump_channel *ch, u64 now);
int ipump_therapy_service_start(struct ipump_channel *ch, u32 rate_nl_per_h);
void ipump_therapy_status(struct ipump_channel *ch,
			  struct ipump_channel_status *st, const void *owner);
void ipump_therapy_card_dead(struct ipump_card *card);
void ipump_therapy_ch_init(struct ipump_channel *ch, struct device *parent);
unsigned long ipump_alarms_latching(void);
/* @owner: the asker, for st->lease (may be NULL) */
int ipump_channel_get_status(struct ipump_card *card,
			     struct ipump_channel_status *st,
			     const void *owner);
void ipump_card_get_info(struct ipump_card *card, struct ipump_card_info *info);

/*
 * ---- therapy operations (ipump_therapy.c), the one implementation both
 * interfaces call. Each takes the card lock itself and may sleep.
 *
 * The interfaces check the caller's permission first (file opened for
 * writing, CAP_NET_ADMIN, CAP_SYS_ADMIN for hard limits); the core checks
 * everything else: the channel number, the state, the lease, the
 * generation and every limit. A refusal leaves the channel unchanged,
 * returns a negative errno and sets @req->reason (also logged in a
 * REQUEST_REFUSED or BOLUS_DENIED record). Common errors: -ENODEV once the
 * card is unregistered, -EINVAL for a channel the card does not have, -EIO
 * when the card did not answer (the channel is then in FAULT).
 * Errnos per operation: Documentation/userspace-api/ipump.rst.
 */

/**
 * struct ipump_req - who asks, and why a request was refused
 * @owner: the requester's lease cookie: the open file, or a netlink
 *	socket's cookie; never NULL
 * @reason: out: enum ipump_reason of a refusal, IPUMP_REASON_NONE otherwise
 */
struct ipump_req {
	const void *owner;
	enum ipump_reason reason;
};

int ipump_ch_programme_set(struct ipump_card *card, unsigned int ch,
			   struct ipump_req *req, u64 *generation,
			   const struct ipump_programme *p);
int ipump_ch_titrate(struct ipump_card *card, unsigned int ch,
		     struct ipump_req *req, u64 *generation,
		     const struct ipump_programme *p);
/* -ENODATA when no programme is loaded (*generation is still set) */
int ipump_ch_programme_get(struct ipump_card *card, unsigned int ch,
			   u64 *generation, struct ipump_programme *p);
int ipump_ch_start(struct ipump_card *card, unsigned int ch,
		   struct ipump_req *req, u64 generation);
int ipump_ch_stop(struct ipump_card *card, unsigned int ch,
		  struct ipump_req *req);
int ipump_ch_pause(struct ipump_card *card, unsigned int ch,
		   struct ipump_req *req);
int ipump_ch_resume(struct ipump_card *card, unsigned int ch,
		    struct ipump_req *req, u64 generation);
int ipump_ch_clear(struct ipump_card *card, unsigned int ch,
		   struct ipump_req *req, u64 generation);
/* @kind: IPUMP_BOLUS_*; a demand takes volume and rate 0 */
int ipump_ch_bolus(struct ipump_card *card, unsigned int ch,
		   struct ipump_req *req, u32 kind, u32 volume_nl,
		   u32 rate_nl_per_h);
int ipump_ch_bolus_cancel(struct ipump_card *card, unsigned int ch,
			  struct ipump_req *req, u64 *delivered_nl);
/* @ch IPUMP_CHANNEL_NONE: the card-level alarms */
int ipump_ch_ack(struct ipump_card *card, unsigned int ch,
		 struct ipump_req *req);
int ipump_ch_audio_pause(struct ipump_card *card, unsigned int ch,
			 struct ipump_req *req, u32 duration_ms);

enum ipump_lease_op {
	IPUMP_LEASE_OP_ACQUIRE,
	IPUMP_LEASE_OP_RENEW,
	IPUMP_LEASE_OP_RELEASE,
	IPUMP_LEASE_OP_TAKEOVER,
};

/* @period_ms: ACQUIRE and TAKEOVER only, else 0 */
int ipump_ch_lease(struct ipump_card *card, unsigned int ch,
		   struct ipump_req *req, enum ipump_lease_op op,
		   u32 period_ms);
/*
 * @owner went away (file released, netlink socket closed) without
 * releasing: each lease it holds on @card is lost now. Safe on a dead card.
 */
void ipump_card_owner_gone(struct ipump_card *card, const void *owner);

int ipump_ch_limits_set(struct ipump_card *card, unsigned int ch,
			struct ipump_req *req,
			const struct ipump_hard_limits *l);
int ipump_ch_limits_get(struct ipump_card *card, unsigned int ch,
			struct ipump_hard_limits *l);

/*
 * Cards by id, for netlink: a reference to the card with the lowest id
 * >= *id (stored back in *id), NULL when there is none. Release with
 * ipump_card_put(). A referenced card may be dead (-ENODEV from every
 * operation).
 */
struct ipump_card *ipump_card_get_next(u32 *id);
void ipump_card_put(struct ipump_card *card);

/* ipump_cdev.c */
int ipump_cdev_init(void);
void ipump_cdev_exit(void);
void ipump_cdev_card_init(struct ipump_card *card);

/* ipump_sysfs.c */
void ipump_sysfs_init(void);
void ipump_sysfs_card_groups(struct ipump_card *card);

/* ipump_therapy.c: refuses system sleep while a channel delivers */
int ipump_therapy_init(void);
void ipump_therapy_exit(void);

/* ipump_netlink.c */
int ipump_netlink_init(void);
void ipump_netlink_exit(void);
/* before the card's first event: makes the log feed the monitor group */
void ipump_netlink_card_init(struct ipump_card *card);

/* ipump_debugfs.c */
void ipump_debugfs_init(void);
void ipump_debugfs_exit(void);
void ipump_debugfs_card_add(struct ipump_card *card);
void ipump_debugfs_card_remove(struct ipump_card *card);

#endif /* _IPUMP_PRIV_H */
