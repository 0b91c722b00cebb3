/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump therapy safety rules: the pure, hardware-independent logic of the
 * core (limits, programme checks, PCA lockout, bolus count, rolling dose
 * windows, the therapy state machine, alarm rules, audio pause, delivery
 * verification, the console lease).
 *
 * Nothing here locks, sleeps, allocates or touches the card: the core calls
 * it under its card lock. Every time is in ns on the card clock
 * (CONTRACTS.md "Time"), every duration argument in ms.
 * See Documentation/safety/therapy-rules.rst and
 * Documentation/safety/therapy-state-machine.rst.
 */
#ifndef _IPUMP_RULES_H
#define _IPUMP_RULES_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/ipump.h>

/* "No such time": e.g. no bolus started yet. */
#define IPUMP_TIME_NONE			U64_MAX

/* ---- hard limits and programmes */

/* Conservative defaults, used when firmware properties give no value. */
#define IPUMP_DEF_MIN_RATE_NL_PER_H		100U		/* 0.1 uL/h */
#define IPUMP_DEF_MAX_RATE_NL_PER_H		25000000U	/* 25 mL/h */
#define IPUMP_DEF_MAX_KVO_RATE_NL_PER_H		1000000U	/* 1 mL/h */
#define IPUMP_DEF_MAX_BOLUS_VOLUME_NL		5000000U	/* 5 mL */
#define IPUMP_DEF_MAX_BOLUS_RATE_NL_PER_H	100000000U	/* 100 mL/h */
#define IPUMP_DEF_MIN_LOCKOUT_MS		300000U		/* 5 min */
#define IPUMP_DEF_MAX_VTBI_NL			1000000000ULL	/* 1 L */
#define IPUMP_DEF_MAX_DOSE_1H_NL		30000000ULL	/* 30 mL */
#define IPUMP_DEF_MAX_DOSE_4H_NL		120000000ULL	/* 120 mL */
#define IPUMP_DEF_MAX_BOLUSES_PER_HOUR		12U
#define IPUMP_DEF_AIR_BUBBLE_NL			200000U		/* 200 uL (GIP) */
#define IPUMP_DEF_AIR_ACCUM_NL			1000000U	/* 1 mL / 15 min */
#define IPUMP_DEF_OVER_INFUSION_PCT		10U		/* GIP */
#define IPUMP_DEF_UNDER_INFUSION_PCT		10U		/* GIP */
#define IPUMP_DEF_STALL_MS			5000U

/* KVO rate ipump_programme_defaults() gives intravenous programmes. */
#define IPUMP_DEF_KVO_IV_NL_PER_H		1000000U	/* 1 mL/h */

void ipump_limits_defaults(struct ipump_hard_limits *l);
int ipump_limits_check(const struct ipump_hard_limits *l,
		       enum ipump_reason *why);
bool ipump_route_is_spinal(u32 route);
void ipump_programme_defaults(struct ipump_programme *p, enum ipump_route route,
			      const struct ipump_hard_limits *l);
int ipump_programme_check(const struct ipump_programme *p,
			  const struct ipump_hard_limits *l,
			  enum ipump_reason *why);
int ipump_titrate_check(const struct ipump_programme *cur,
			const struct ipump_programme *next,
			const struct ipump_hard_limits *l,
			enum ipump_reason *why);
int ipump_bolus_check(const struct ipump_hard_limits *l, u32 volume_nl,
		      u32 rate_nl_per_h, enum ipump_reason *why);
const char *ipump_reason_str(enum ipump_reason why);
int ipump_generation_check(u64 current_gen, u64 based_on);

/* ---- PCA lockout and the hourly bolus count */

u64 ipump_lockout_remaining_ns(u64 last_start_ns, u64 now_ns, u32 lockout_ms);
u64 ipump_lockout_rearm(u64 last_start_ns, u32 old_lockout_ms, u64 now_ns,
			u32 new_lockout_ms);

/**
 * struct ipump_bolus_ring - start times of the most recent PCA boluses
 * @start_ns: ring of start times
 * @next: slot the next start goes to
 * @used: valid entries, at most %IPUMP_MAX_BOLUSES_PER_HOUR
 *
 * Zero-initialised means empty. Holding the %IPUMP_MAX_BOLUSES_PER_HOUR
 * most recent starts is enough to count exactly up to that bound.
 */
struct ipump_bolus_ring {
	u64 start_ns[IPUMP_MAX_BOLUSES_PER_HOUR];
	u32 next;
	u32 used;
};

void ipump_bolus_ring_add(struct ipump_bolus_ring *r, u64 now_ns);
u32 ipump_bolus_ring_count(const struct ipump_bolus_ring *r, u64 now_ns);

/* ---- rolling windows in one-minute buckets */

#define IPUMP_BUCKET_MS			60000U
#define IPUMP_DOSE_WINDOW_1H_MS		3600000U
#define IPUMP_DOSE_WINDOW_4H_MS		14400000U
/* A window of W ms touches at most W / bucket + 1 buckets. */
#define IPUMP_DOSE_BUCKETS		(IPUMP_DOSE_WINDOW_4H_MS / IPUMP_BUCKET_MS + 1)
#define IPUMP_WINDOW_15MIN_MS		900000U
#define IPUMP_15MIN_BUCKETS		(IPUMP_WINDOW_15MIN_MS / IPUMP_BUCKET_MS + 1)

/**
 * struct ipump_dose_window - volume delivered per minute over 4 hours
 * @nl: volume per bucket; bucket m (minute m of the card clock) is in
 *	@nl[m % IPUMP_DOSE_BUCKETS]
 * @head: the newest minute written (buckets @head - 240 .. @head are valid)
 *
 * Zero-initialised means empty. Sums over a window count every bucket the
 * window touches in full (the oldest one is usually partial): the sum
 * over-counts by at most one minute's delivery and errs toward less drug.
 */
struct ipump_dose_window {
	u64 nl[IPUMP_DOSE_BUCKETS];
	u64 head;
};

void ipump_dose_add(struct ipump_dose_window *w, u64 now_ns, u64 nl);
u64 ipump_dose_sum(const struct ipump_dose_window *w, u64 now_ns,
		   u32 window_ms);
u64 ipump_dose_headroom_nl(const struct ipump_dose_window *w, u64 now_ns,
			   u64 limit_1h_nl, u64 limit_4h_nl);
bool ipump_dose_would_exceed(const struct ipump_dose_window *w, u64 now_ns,
			     u64 add_nl, u64 limit_1h_nl, u64 limit_4h_nl);
bool ipump_dose_reached(const struct ipump_dose_window *w, u64 now_ns,
			u64 limit_1h_nl, u64 limit_4h_nl);
u64 ipump_volume_nl(u32 rate_nl_per_h, u64 duration_ns);

/* ---- the therapy state machine */

/**
 * enum ipump_sm_event - inputs of the therapy state machine
 * @IPUMP_SM_PROGRAMME: a console sets or replaces the programme
 * @IPUMP_SM_CLEAR: a console discards the programme
 * @IPUMP_SM_START: a console starts the programme
 * @IPUMP_SM_STOP: a console stops the channel (always allowed)
 * @IPUMP_SM_PAUSE: a console pauses delivery
 * @IPUMP_SM_RESUME: a console resumes a paused channel
 * @IPUMP_SM_TITRATE: a console changes the programme of a delivering or
 *	paused channel
 * @IPUMP_SM_BOLUS_START: a bolus (PCA demand or clinician) was admitted
 * @IPUMP_SM_BOLUS_END: the card reports the bolus finished
 * @IPUMP_SM_BOLUS_CANCEL: a console cancels the bolus in progress
 * @IPUMP_SM_VTBI_DONE: the volume to be infused has been delivered
 * @IPUMP_SM_DOSE_LIMIT: a rolling dose limit was reached
 * @IPUMP_SM_ALARM_STOP: an alarm that stops delivery was raised
 * @IPUMP_SM_ALARM_CLEARED: acknowledged, and no stopping alarm is left
 * @IPUMP_SM_FAULT: card or communication failure
 * @IPUMP_SM_FAULT_CLEARED: acknowledged, and the card answers again
 * @IPUMP_SM_LEASE_LOST_STOP: lease lost, lease-loss mode stop
 * @IPUMP_SM_LEASE_LOST_KVO: lease lost, lease-loss mode KVO
 * @IPUMP_SM_LEASE_LOST_BASAL: lease lost, lease-loss mode continue-basal
 * @IPUMP_SM_NR_EVENTS: number of events
 */
enum ipump_sm_event {
	IPUMP_SM_PROGRAMME,
	IPUMP_SM_CLEAR,
	IPUMP_SM_START,
	IPUMP_SM_STOP,
	IPUMP_SM_PAUSE,
	IPUMP_SM_RESUME,
	IPUMP_SM_TITRATE,
	IPUMP_SM_BOLUS_START,
	IPUMP_SM_BOLUS_END,
	IPUMP_SM_BOLUS_CANCEL,
	IPUMP_SM_VTBI_DONE,
	IPUMP_SM_DOSE_LIMIT,
	IPUMP_SM_ALARM_STOP,
	IPUMP_SM_ALARM_CLEARED,
	IPUMP_SM_FAULT,
	IPUMP_SM_FAULT_CLEARED,
	IPUMP_SM_LEASE_LOST_STOP,
	IPUMP_SM_LEASE_LOST_KVO,
	IPUMP_SM_LEASE_LOST_BASAL,
	IPUMP_SM_NR_EVENTS
};

#define IPUMP_SM_NR_STATES		(IPUMP_STATE_KVO + 1)

/*
 * ipump_sm_next() flags, what a transition depends on: a programme is
 * loaded; its route is epidural or intrathecal; its KVO rate is > 0;
 * delivery is held at KVO (VTBI done or dose limit), so resume to KVO.
 */
#define IPUMP_SMF_PROGRAMME	BIT(0)
#define IPUMP_SMF_SPINAL	BIT(1)
#define IPUMP_SMF_KVO		BIT(2)
#define IPUMP_SMF_KVO_HOLD	BIT(3)

u32 ipump_sm_flags(const struct ipump_programme *p, bool kvo_hold);
int ipump_sm_next(enum ipump_channel_state s, enum ipump_sm_event e, u32 flags);
const char *ipump_sm_event_str(enum ipump_sm_event e);
const char *ipump_state_str(enum ipump_channel_state s);

/* ---- alarm rules */

#define IPUMP_ALARM_RULE_LATCHING	BIT(0)	/* stays until acknowledged */
#define IPUMP_ALARM_RULE_STOPS		BIT(1)	/* stops delivery (ALARM_STOP) */
#define IPUMP_ALARM_RULE_LEASE_MODE	BIT(2)	/* stops per the lease-loss mode */

/**
 * struct ipump_alarm_info - the rules of one alarm
 * @name: stable name (also the sysfs name)
 * @priority: enum ipump_priority (IEC 60601-1-8)
 * @rules: IPUMP_ALARM_RULE_* bits
 * @clear: when the alarm clears
 */
struct ipump_alarm_info {
	const char *name;
	enum ipump_priority priority;
	u32 rules;
	const char *clear;
};

const struct ipump_alarm_info *ipump_alarm_info(enum ipump_alarm a);
unsigned long ipump_alarms_stopping(void);

/* Longest audio pause: IEC 60601-1-8 style, never permanent. */
#define IPUMP_AUDIO_PAUSE_MAX_MS	120000U

/**
 * struct ipump_audio_pause - alarm audio paused until a time
 * @until_ns: the audio sounds again at this time; 0 = not paused
 */
struct ipump_audio_pause {
	u64 until_ns;
};

int ipump_audio_pause(struct ipump_audio_pause *ap, u64 now_ns,
		      u32 duration_ms);
bool ipump_audio_paused(const struct ipump_audio_pause *ap, u64 now_ns);

/**
 * struct ipump_air_window - air seen per minute over 15 minutes
 * @nl: air volume per bucket
 * @head: the newest minute written
 *
 * Zero-initialised means empty; the oldest, partial bucket counts whole.
 */
struct ipump_air_window {
	u64 nl[IPUMP_15MIN_BUCKETS];
	u64 head;
};

void ipump_air_add(struct ipump_air_window *a, u64 now_ns, u32 bubble_nl);
u64 ipump_air_sum(const struct ipump_air_window *a, u64 now_ns);
bool ipump_air_exceeded(const struct ipump_air_window *a, u64 now_ns,
			u32 limit_nl);

/* ---- delivery verification */

/**
 * struct ipump_verify_window - commanded and card-counted volume per minute
 *	over 15 minutes
 * @cmd_nl: commanded volume per bucket
 * @got_nl: volume the card counted per bucket
 * @head: the newest minute written
 */
struct ipump_verify_window {
	u64 cmd_nl[IPUMP_15MIN_BUCKETS];
	u64 got_nl[IPUMP_15MIN_BUCKETS];
	u64 head;
};

/**
 * enum ipump_verify_result - outcome of ipump_verify_check()
 * @IPUMP_VERIFY_OK: within both thresholds
 * @IPUMP_VERIFY_TOO_LITTLE: too little commanded to judge
 * @IPUMP_VERIFY_OVER: counted above the over-infusion threshold
 * @IPUMP_VERIFY_UNDER: counted below the under-infusion threshold
 */
enum ipump_verify_result {
	IPUMP_VERIFY_OK,
	IPUMP_VERIFY_TOO_LITTLE,
	IPUMP_VERIFY_OVER,
	IPUMP_VERIFY_UNDER,
};

void ipump_verify_add(struct ipump_verify_window *v, u64 now_ns,
		      u64 commanded_nl, u64 counted_nl);
enum ipump_verify_result ipump_verify_check(const struct ipump_verify_window *v,
					    u64 now_ns, u32 over_pct,
					    u32 under_pct, u64 min_nl);

/**
 * struct ipump_stall - motor stall detector state
 * @since_ns: when the step count last changed (or watching began)
 * @cmd_nl: commanded total at @since_ns
 * @steps: step count at @since_ns
 * @watching: false until the first sample after ipump_stall_reset()
 */
struct ipump_stall {
	u64 since_ns;
	u64 cmd_nl;
	u32 steps;
	bool watching;
};

void ipump_stall_reset(struct ipump_stall *s);
bool ipump_stall_check(struct ipump_stall *s, u64 now_ns, u32 steps,
		       u64 commanded_nl, u32 nl_per_step, u32 stall_ms);

/* ---- the console lease */

#define IPUMP_LEASE_GRACE_MS		500U
#define IPUMP_LEASE_MIN_PERIOD_MS	100U
#define IPUMP_LEASE_MAX_PERIOD_MS	60000U

/* The owner went away: file closed, socket released. */
#define IPUMP_LEASE_F_ORPHANED		BIT(0)

/**
 * struct ipump_lease - the console lease of one channel
 * @owner: the holder's cookie (open file, netlink socket), NULL if free
 * @expires_ns: end of the current period; the lease is lost at
 *	@expires_ns + %IPUMP_LEASE_GRACE_MS
 * @period_ms: heartbeat period the holder asked for
 * @flags: IPUMP_LEASE_F_*
 *
 * Zero-initialised means free.
 */
struct ipump_lease {
	const void *owner;
	u64 expires_ns;
	u32 period_ms;
	u32 flags;
};

bool ipump_lease_expired(const struct ipump_lease *l, u64 now_ns);
u64 ipump_lease_deadline_ns(const struct ipump_lease *l);
int ipump_lease_acquire(struct ipump_lease *l, const void *who, u64 now_ns,
			u32 period_ms);
int ipump_lease_renew(struct ipump_lease *l, const void *who, u64 now_ns);
int ipump_lease_release(struct ipump_lease *l, const void *who);
int ipump_lease_takeover(struct ipump_lease *l, const void *who, u64 now_ns,
			 u32 period_ms);
void ipump_lease_orphan(struct ipump_lease *l, const void *who);
int ipump_lease_check(const struct ipump_lease *l, const void *who,
		      u64 now_ns);

#endif /* _IPUMP_RULES_H */
