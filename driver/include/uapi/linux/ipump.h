/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * ipump: userspace ABI of the infusion-pump interface card driver.
 *
 * Documented in Documentation/userspace-api/ipump.rst. This is a stable
 * ABI: values are never renumbered, new ones are only appended.
 *
 * Units are part of every name: volumes in nanolitres (_nl), rates in
 * nanolitres per hour (_nl_per_h), durations in milliseconds (_ms),
 * times in nanoseconds (_ns), pressures in mmHg (_mmhg).
 */
#ifndef _UAPI_LINUX_IPUMP_H
#define _UAPI_LINUX_IPUMP_H

#include <linux/const.h>
#include <linux/types.h>

#define IPUMP_MAX_CHANNELS	8

/**
 * enum ipump_channel_state - therapy state of one channel
 * @IPUMP_STATE_IDLE: no programme, motor stopped
 * @IPUMP_STATE_RUNNING: delivering at the programmed rate
 * @IPUMP_STATE_ALARM_STOPPED: stopped by an alarm (by the card or the core)
 * @IPUMP_STATE_FAULT: card or communication failure, motor stopped
 * @IPUMP_STATE_PROGRAMMED: a programme is loaded, motor stopped
 * @IPUMP_STATE_BOLUS: delivering a bolus (on top of the basal rate)
 * @IPUMP_STATE_PAUSED: paused by a console, motor stopped, programme kept
 * @IPUMP_STATE_KVO: delivering the keep-vein-open rate only (after the
 *	volume to be infused, or a dose limit on a non-spinal route)
 *
 * Allowed transitions: Documentation/safety/therapy-state-machine.rst.
 */
enum ipump_channel_state {
	IPUMP_STATE_IDLE = 0,
	IPUMP_STATE_RUNNING = 1,
	IPUMP_STATE_ALARM_STOPPED = 2,
	IPUMP_STATE_FAULT = 3,
	IPUMP_STATE_PROGRAMMED = 4,
	IPUMP_STATE_BOLUS = 5,
	IPUMP_STATE_PAUSED = 6,
	IPUMP_STATE_KVO = 7,
};

/**
 * enum ipump_alarm - alarm identifiers; bit numbers in alarm masks
 * @IPUMP_ALARM_OCCLUSION_DOWN: downstream (patient side) occlusion
 * @IPUMP_ALARM_OCCLUSION_UP: upstream (reservoir side) occlusion
 * @IPUMP_ALARM_AIR_IN_LINE: air bubble at or above the threshold
 * @IPUMP_ALARM_DOOR_OPEN: door or cassette open
 * @IPUMP_ALARM_RESERVOIR_EMPTY: reservoir empty
 * @IPUMP_ALARM_RESERVOIR_LOW: reservoir at or below its low level
 * @IPUMP_ALARM_MOTOR_STALL: motor commanded but not advancing
 * @IPUMP_ALARM_FREE_FLOW: uncommanded flow
 * @IPUMP_ALARM_COMMUNICATION: the card could not be read or written
 * @IPUMP_ALARM_CARD_WATCHDOG: the card's watchdog stopped the motors
 * @IPUMP_ALARM_BATTERY_LOW: on battery, under 15 minutes left
 * @IPUMP_ALARM_BATTERY_DEPLETED: on battery, under 5 minutes left
 * @IPUMP_ALARM_MAINS_LOST: mains power lost, running on battery
 * @IPUMP_ALARM_VTBI_COMPLETE: the volume to be infused has been delivered
 * @IPUMP_ALARM_OVER_INFUSION: the card counted more than the commanded
 *	volume (over the over-infusion threshold, rolling 15 minutes)
 * @IPUMP_ALARM_UNDER_INFUSION: the card counted less than the commanded
 *	volume (over the under-infusion threshold, rolling 15 minutes)
 * @IPUMP_ALARM_AIR_ACCUMULATED: air accumulated over a rolling 15 minutes
 *	at or above its threshold
 * @IPUMP_ALARM_LEASE_LOST: the console holding the lease went away or
 *	missed its heartbeat (console lease, not the card watchdog)
 * @IPUMP_ALARM_DOSE_LIMIT: a rolling dose limit (1 h or 4 h) was reached
 */
enum ipump_alarm {
	IPUMP_ALARM_OCCLUSION_DOWN = 0,
	IPUMP_ALARM_OCCLUSION_UP = 1,
	IPUMP_ALARM_AIR_IN_LINE = 2,
	IPUMP_ALARM_DOOR_OPEN = 3,
	IPUMP_ALARM_RESERVOIR_EMPTY = 4,
	IPUMP_ALARM_RESERVOIR_LOW = 5,
	IPUMP_ALARM_MOTOR_STALL = 6,
	IPUMP_ALARM_FREE_FLOW = 7,
	IPUMP_ALARM_COMMUNICATION = 8,
	IPUMP_ALARM_CARD_WATCHDOG = 9,
	IPUMP_ALARM_BATTERY_LOW = 10,
	IPUMP_ALARM_BATTERY_DEPLETED = 11,
	IPUMP_ALARM_MAINS_LOST = 12,
	IPUMP_ALARM_VTBI_COMPLETE = 13,
	IPUMP_ALARM_OVER_INFUSION = 14,
	IPUMP_ALARM_UNDER_INFUSION = 15,
	IPUMP_ALARM_AIR_ACCUMULATED = 16,
	IPUMP_ALARM_LEASE_LOST = 17,
	IPUMP_ALARM_DOSE_LIMIT = 18,
	IPUMP_ALARM_COUNT	/* number of alarm identifiers; grows */
};

/* ---- programme, route and hard limits ---- */

/**
 * enum ipump_route - route of administration of a programme
 * @IPUMP_ROUTE_INTRAVENOUS: into a vein
 * @IPUMP_ROUTE_SUBCUTANEOUS: under the skin
 * @IPUMP_ROUTE_EPIDURAL: into the epidural space (spinal route)
 * @IPUMP_ROUTE_INTRATHECAL: into the intrathecal space (spinal route)
 *
 * The route chooses defaults and rules: on the spinal routes (epidural,
 * intrathecal) the keep-vein-open rate defaults to 0, a non-zero one needs
 * %IPUMP_PROG_SPINAL_KVO, and reaching the volume to be infused or a dose
 * limit stops the channel instead of dropping to KVO. 0 is not a route, so
 * a zeroed programme is refused.
 */
enum ipump_route {
	IPUMP_ROUTE_INTRAVENOUS = 1,
	IPUMP_ROUTE_SUBCUTANEOUS = 2,
	IPUMP_ROUTE_EPIDURAL = 3,
	IPUMP_ROUTE_INTRATHECAL = 4,
};

/**
 * enum ipump_lease_loss_mode - what a running channel does when the
 *	console holding its lease is lost
 * @IPUMP_LEASE_LOSS_STOP: stop (alarm-stopped); the default
 * @IPUMP_LEASE_LOSS_KVO: drop to the programme's KVO rate (must be > 0)
 * @IPUMP_LEASE_LOSS_CONTINUE_BASAL: keep the basal rate (must be > 0);
 *	for drugs whose abrupt withdrawal is itself a hazard (intrathecal
 *	baclofen)
 *
 * In every mode a bolus in progress is cancelled and
 * %IPUMP_ALARM_LEASE_LOST is raised.
 */
enum ipump_lease_loss_mode {
	IPUMP_LEASE_LOSS_STOP = 0,
	IPUMP_LEASE_LOSS_KVO = 1,
	IPUMP_LEASE_LOSS_CONTINUE_BASAL = 2,
};

/* struct ipump_programme.flags */
#define IPUMP_PROG_VTBI_UNLIMITED	_BITUL(0) /* no volume to be infused; vtbi_nl must be 0 */
#define IPUMP_PROG_PCA			_BITUL(1) /* patient-demand (PCA) boluses enabled */
#define IPUMP_PROG_SPINAL_KVO		_BITUL(2) /* confirms a KVO rate > 0 on a spinal route */
#define IPUMP_PROG_FLAGS_ALL		(IPUMP_PROG_VTBI_UNLIMITED | IPUMP_PROG_PCA | \
					 IPUMP_PROG_SPINAL_KVO)

/**
 * struct ipump_programme - the therapy programme of one channel
 * @route: enum ipump_route
 * @flags: IPUMP_PROG_* flags; unknown bits are refused
 * @basal_rate_nl_per_h: continuous rate; 0 only with %IPUMP_PROG_PCA
 *	(PCA without basal), else within the hard limits' rate range
 * @kvo_rate_nl_per_h: keep-vein-open rate after the volume to be infused
 *	or a dose limit (non-spinal routes) and in the KVO lease-loss mode;
 *	0 = none. Not above the basal rate when the basal rate is > 0
 * @vtbi_nl: volume to be infused, > 0; must be 0 with
 *	%IPUMP_PROG_VTBI_UNLIMITED (unlimited must be asked for explicitly)
 * @bolus_volume_nl: PCA bolus volume; 0 without %IPUMP_PROG_PCA
 * @bolus_rate_nl_per_h: PCA bolus rate; 0 without %IPUMP_PROG_PCA
 * @lockout_ms: PCA lockout, start to start; never 0 with %IPUMP_PROG_PCA,
 *	0 without
 * @max_boluses_per_hour: PCA boluses started in any rolling hour,
 *	1..%IPUMP_MAX_BOLUSES_PER_HOUR with %IPUMP_PROG_PCA, 0 without
 * @max_dose_1h_nl: rolling 1-hour dose limit (basal, KVO and PCA), > 0
 * @max_dose_4h_nl: rolling 4-hour dose limit, >= @max_dose_1h_nl
 * @lease_loss_mode: enum ipump_lease_loss_mode
 * @padding: must be zero
 * @reserved: must be zero
 *
 * Every value is checked against the channel's hard limits; a value
 * outside them is refused (-ERANGE), never clamped. The generation number
 * of the programme a change is based on travels with the command, not in
 * this structure.
 */
struct ipump_programme {
	__u32 route;
	__u32 flags;
	__u32 basal_rate_nl_per_h;
	__u32 kvo_rate_nl_per_h;
	__aligned_u64 vtbi_nl;
	__u32 bolus_volume_nl;
	__u32 bolus_rate_nl_per_h;
	__u32 lockout_ms;
	__u32 max_boluses_per_hour;
	__aligned_u64 max_dose_1h_nl;
	__aligned_u64 max_dose_4h_nl;
	__u32 lease_loss_mode;
	__u32 padding;
	__u32 reserved[8];
};

/* Bound of max_boluses_per_hour: the core remembers this many bolus starts. */
#define IPUMP_MAX_BOLUSES_PER_HOUR	60
/* Longest PCA lockout accepted: 24 hours. */
#define IPUMP_MAX_LOCKOUT_MS		86400000U

/**
 * struct ipump_hard_limits - a channel's hard limits and alarm thresholds
 * @min_rate_nl_per_h: lowest non-zero rate (basal, KVO, bolus), > 0
 * @max_rate_nl_per_h: highest basal rate, >= @min_rate_nl_per_h
 * @max_kvo_rate_nl_per_h: highest KVO rate, <= @max_rate_nl_per_h (may be 0:
 *	no KVO)
 * @max_bolus_volume_nl: largest bolus (PCA or clinician), > 0
 * @max_bolus_rate_nl_per_h: highest bolus rate, >= @min_rate_nl_per_h
 * @min_lockout_ms: shortest PCA lockout, 1..%IPUMP_MAX_LOCKOUT_MS
 * @max_vtbi_nl: largest volume to be infused, > 0
 * @max_dose_1h_nl: largest rolling 1-hour dose limit, > 0
 * @max_dose_4h_nl: largest rolling 4-hour dose limit, >= @max_dose_1h_nl
 * @max_boluses_per_hour: 1..%IPUMP_MAX_BOLUSES_PER_HOUR
 * @air_bubble_nl: single-bubble air-in-line threshold, > 0
 * @air_accum_nl: accumulated air over a rolling 15 minutes, > 0
 * @over_infusion_pct: counted volume this far above the commanded one over
 *	a rolling 15 minutes is over-infusion, 1..100
 * @under_infusion_pct: counted volume this far below the commanded one is
 *	under-infusion, 1..99
 * @stall_ms: motor commanded and steps not advancing for this long is a
 *	motor stall, > 0
 * @reserved: must be zero
 *
 * Changing them needs CAP_SYS_ADMIN and a channel that is not delivering.
 */
struct ipump_hard_limits {
	__u32 min_rate_nl_per_h;
	__u32 max_rate_nl_per_h;
	__u32 max_kvo_rate_nl_per_h;
	__u32 max_bolus_volume_nl;
	__u32 max_bolus_rate_nl_per_h;
	__u32 min_lockout_ms;
	__aligned_u64 max_vtbi_nl;
	__aligned_u64 max_dose_1h_nl;
	__aligned_u64 max_dose_4h_nl;
	__u32 max_boluses_per_hour;
	__u32 air_bubble_nl;
	__u32 air_accum_nl;
	__u32 over_infusion_pct;
	__u32 under_infusion_pct;
	__u32 stall_ms;
	__u32 reserved[6];
};

/**
 * enum ipump_reason - why a request was refused; logged with the refusal
 *	and reported in netlink extended acks
 * @IPUMP_REASON_NONE: not refused
 * @IPUMP_REASON_ROUTE: unknown route
 * @IPUMP_REASON_FLAGS: unknown flag bits
 * @IPUMP_REASON_RESERVED: padding or reserved field not zero
 * @IPUMP_REASON_LEASE_LOSS_MODE: unknown lease-loss mode
 * @IPUMP_REASON_RATE_ZERO: basal rate 0 without PCA
 * @IPUMP_REASON_RATE_LOW: basal rate below the minimum rate
 * @IPUMP_REASON_RATE_HIGH: basal rate above the maximum rate
 * @IPUMP_REASON_KVO_LOW: KVO rate below the minimum rate
 * @IPUMP_REASON_KVO_HIGH: KVO rate above the maximum KVO rate
 * @IPUMP_REASON_KVO_ABOVE_BASAL: KVO rate above the basal rate
 * @IPUMP_REASON_SPINAL_KVO: KVO rate > 0 on a spinal route without
 *	%IPUMP_PROG_SPINAL_KVO
 * @IPUMP_REASON_LEASE_LOSS_KVO: KVO lease-loss mode with a KVO rate of 0
 * @IPUMP_REASON_LEASE_LOSS_BASAL: continue-basal lease-loss mode with a
 *	basal rate of 0
 * @IPUMP_REASON_VTBI_ZERO: volume to be infused 0 without
 *	%IPUMP_PROG_VTBI_UNLIMITED
 * @IPUMP_REASON_VTBI_UNLIMITED: volume to be infused set together with
 *	%IPUMP_PROG_VTBI_UNLIMITED
 * @IPUMP_REASON_VTBI_HIGH: volume to be infused above its limit
 * @IPUMP_REASON_PCA_FIELDS: bolus, lockout or count set without
 *	%IPUMP_PROG_PCA
 * @IPUMP_REASON_BOLUS_VOLUME_ZERO: bolus volume 0
 * @IPUMP_REASON_BOLUS_VOLUME_HIGH: bolus volume above its limit
 * @IPUMP_REASON_BOLUS_RATE_ZERO: bolus rate 0
 * @IPUMP_REASON_BOLUS_RATE_LOW: bolus rate below the minimum rate
 * @IPUMP_REASON_BOLUS_RATE_HIGH: bolus rate above its limit
 * @IPUMP_REASON_LOCKOUT_ZERO: PCA lockout 0
 * @IPUMP_REASON_LOCKOUT_SHORT: PCA lockout below its minimum
 * @IPUMP_REASON_LOCKOUT_LONG: PCA lockout above %IPUMP_MAX_LOCKOUT_MS
 * @IPUMP_REASON_BOLUS_COUNT_ZERO: boluses per hour 0 with PCA
 * @IPUMP_REASON_BOLUS_COUNT_HIGH: boluses per hour above its limit
 * @IPUMP_REASON_DOSE_ZERO: a dose limit of 0
 * @IPUMP_REASON_DOSE_1H_HIGH: 1-hour dose limit above its hard limit
 * @IPUMP_REASON_DOSE_4H_HIGH: 4-hour dose limit above its hard limit
 * @IPUMP_REASON_DOSE_ORDER: 4-hour dose limit below the 1-hour one
 * @IPUMP_REASON_BASAL_OVER_DOSE: the basal rate alone would reach a dose
 *	limit (counted as the dose windows count, see the documentation)
 * @IPUMP_REASON_BOLUS_OVER_DOSE: one bolus is larger than the 1-hour limit
 * @IPUMP_REASON_LIMITS_ZERO: a hard limit that must be > 0 is 0
 * @IPUMP_REASON_LIMITS_ORDER: hard limits inconsistent (a minimum above
 *	its maximum, 4 h below 1 h, KVO above the maximum rate)
 * @IPUMP_REASON_LIMITS_RANGE: a hard limit outside what the driver
 *	supports (boluses per hour, lockout, percentages)
 * @IPUMP_REASON_GENERATION: based on a stale programme generation
 * @IPUMP_REASON_ROUTE_CHANGE: a titration may not change the route or
 *	the PCA flag
 * @IPUMP_REASON_STATE: not allowed in the channel's therapy state
 * @IPUMP_REASON_LOCKOUT: PCA demand inside the lockout interval
 * @IPUMP_REASON_HOURLY_COUNT: PCA demand over the hourly bolus count
 * @IPUMP_REASON_DOSE_LIMIT: the request would exceed a rolling dose limit
 * @IPUMP_REASON_NO_LEASE: the requester does not hold the console lease
 * @IPUMP_REASON_LEASE_EXPIRED: the requester's lease has expired
 * @IPUMP_REASON_LEASE_HELD: another console holds a live lease
 * @IPUMP_REASON_LEASE_ORPHANED: the lease is orphaned: take it over
 * @IPUMP_REASON_AUDIO_PAUSE: audio pause of 0 or above its maximum
 * @IPUMP_REASON_LEASE_PERIOD: lease period 0 or outside 100..60000 ms
 * @IPUMP_REASON_COUNT: number of reasons; grows
 */
enum ipump_reason {
	IPUMP_REASON_NONE = 0,
	IPUMP_REASON_ROUTE = 1,
	IPUMP_REASON_FLAGS = 2,
	IPUMP_REASON_RESERVED = 3,
	IPUMP_REASON_LEASE_LOSS_MODE = 4,
	IPUMP_REASON_RATE_ZERO = 5,
	IPUMP_REASON_RATE_LOW = 6,
	IPUMP_REASON_RATE_HIGH = 7,
	IPUMP_REASON_KVO_LOW = 8,
	IPUMP_REASON_KVO_HIGH = 9,
	IPUMP_REASON_KVO_ABOVE_BASAL = 10,
	IPUMP_REASON_SPINAL_KVO = 11,
	IPUMP_REASON_LEASE_LOSS_KVO = 12,
	IPUMP_REASON_LEASE_LOSS_BASAL = 13,
	IPUMP_REASON_VTBI_ZERO = 14,
	IPUMP_REASON_VTBI_UNLIMITED = 15,
	IPUMP_REASON_VTBI_HIGH = 16,
	IPUMP_REASON_PCA_FIELDS = 17,
	IPUMP_REASON_BOLUS_VOLUME_ZERO = 18,
	IPUMP_REASON_BOLUS_VOLUME_HIGH = 19,
	IPUMP_REASON_BOLUS_RATE_ZERO = 20,
	IPUMP_REASON_BOLUS_RATE_LOW = 21,
	IPUMP_REASON_BOLUS_RATE_HIGH = 22,
	IPUMP_REASON_LOCKOUT_ZERO = 23,
	IPUMP_REASON_LOCKOUT_SHORT = 24,
	IPUMP_REASON_LOCKOUT_LONG = 25,
	IPUMP_REASON_BOLUS_COUNT_ZERO = 26,
	IPUMP_REASON_BOLUS_COUNT_HIGH = 27,
	IPUMP_REASON_DOSE_ZERO = 28,
	IPUMP_REASON_DOSE_1H_HIGH = 29,
	IPUMP_REASON_DOSE_4H_HIGH = 30,
	IPUMP_REASON_DOSE_ORDER = 31,
	IPUMP_REASON_BASAL_OVER_DOSE = 32,
	IPUMP_REASON_BOLUS_OVER_DOSE = 33,
	IPUMP_REASON_LIMITS_ZERO = 34,
	IPUMP_REASON_LIMITS_ORDER = 35,
	IPUMP_REASON_LIMITS_RANGE = 36,
	IPUMP_REASON_GENERATION = 37,
	IPUMP_REASON_ROUTE_CHANGE = 38,
	IPUMP_REASON_STATE = 39,
	IPUMP_REASON_LOCKOUT = 40,
	IPUMP_REASON_HOURLY_COUNT = 41,
	IPUMP_REASON_DOSE_LIMIT = 42,
	IPUMP_REASON_NO_LEASE = 43,
	IPUMP_REASON_LEASE_EXPIRED = 44,
	IPUMP_REASON_LEASE_HELD = 45,
	IPUMP_REASON_LEASE_ORPHANED = 46,
	IPUMP_REASON_AUDIO_PAUSE = 47,
	IPUMP_REASON_LEASE_PERIOD = 48,
	IPUMP_REASON_COUNT	/* number of reasons; grows */
};

/* ---- events and the audit log ---- */

/**
 * enum ipump_priority - priority of an event (IEC 60601-1-8 alarm ranks)
 * @IPUMP_PRIO_INFO: information signal, no alarm
 * @IPUMP_PRIO_LOW: low-priority alarm condition (awareness)
 * @IPUMP_PRIO_MEDIUM: medium-priority alarm condition (prompt response)
 * @IPUMP_PRIO_HIGH: high-priority alarm condition (immediate response);
 *	never filtered out of a reader's stream
 */
enum ipump_priority {
	IPUMP_PRIO_INFO = 0,
	IPUMP_PRIO_LOW = 1,
	IPUMP_PRIO_MEDIUM = 2,
	IPUMP_PRIO_HIGH = 3,
};

/**
 * enum ipump_event_type - what an audit record reports
 *
 * The meaning of &struct ipump_event.value per type is tabulated in
 * Documentation/userspace-api/ipump.rst. The value is also the bit number
 * of the type in event masks (IPUMP_EVENT_BIT()).
 *
 * @IPUMP_EVENT_PROGRAMME_SET: a channel's programme was set or replaced
 * @IPUMP_EVENT_STARTED: a channel started delivering its programme
 * @IPUMP_EVENT_STOPPED: a channel stopped
 * @IPUMP_EVENT_PAUSED: a channel paused, its programme kept
 * @IPUMP_EVENT_RESUMED: a paused channel resumed
 * @IPUMP_EVENT_RATE_CHANGED: the basal rate of a running channel changed
 * @IPUMP_EVENT_KVO_STARTED: a channel fell back to its keep-vein-open rate
 * @IPUMP_EVENT_BOLUS_REQUESTED: a bolus was requested (handset or console)
 * @IPUMP_EVENT_BOLUS_STARTED: a bolus began delivery
 * @IPUMP_EVENT_BOLUS_COMPLETED: a bolus was delivered in full
 * @IPUMP_EVENT_BOLUS_DENIED: a bolus request was refused (lockout, limits)
 * @IPUMP_EVENT_BOLUS_CANCELLED: a bolus in progress was cancelled
 * @IPUMP_EVENT_ALARM_RAISED: an alarm condition became active
 * @IPUMP_EVENT_ALARM_ACKED: an alarm was acknowledged
 * @IPUMP_EVENT_ALARM_CLEARED: an alarm condition is gone and unlatched
 * @IPUMP_EVENT_AUDIO_PAUSED: alarm audio was paused
 * @IPUMP_EVENT_AUDIO_PAUSE_ENDED: an audio pause ended
 * @IPUMP_EVENT_REQUEST_REFUSED: a request was refused by a rule or limit
 * @IPUMP_EVENT_LEASE_ACQUIRED: a console acquired a channel's lease
 * @IPUMP_EVENT_LEASE_RELEASED: a console released a lease explicitly
 * @IPUMP_EVENT_LEASE_LOST: a lease was lost (console gone, heartbeat missed)
 * @IPUMP_EVENT_LEASE_TAKEN_OVER: an orphaned lease was taken over
 * @IPUMP_EVENT_STATE_CHANGED: a channel's &enum ipump_channel_state changed
 * @IPUMP_EVENT_HARD_LIMITS_SET: a channel's hard limits were changed
 * @IPUMP_EVENT_CARD_ADDED: the card was registered; the first record of
 *	a card's log
 * @IPUMP_EVENT_OVERFLOW: records were lost for this reader (not a log
 *	record: seq is 0)
 * @IPUMP_EVENT_CARD_REMOVED: the card is gone; the last record of a
 *	card's log and of every reader's stream
 * @IPUMP_EVENT_TYPE_COUNT: number of types this header knows; grows
 */
enum ipump_event_type {
	IPUMP_EVENT_PROGRAMME_SET = 1,
	IPUMP_EVENT_STARTED = 2,
	IPUMP_EVENT_STOPPED = 3,
	IPUMP_EVENT_PAUSED = 4,
	IPUMP_EVENT_RESUMED = 5,
	IPUMP_EVENT_RATE_CHANGED = 6,
	IPUMP_EVENT_KVO_STARTED = 7,
	IPUMP_EVENT_BOLUS_REQUESTED = 8,
	IPUMP_EVENT_BOLUS_STARTED = 9,
	IPUMP_EVENT_BOLUS_COMPLETED = 10,
	IPUMP_EVENT_BOLUS_DENIED = 11,
	IPUMP_EVENT_BOLUS_CANCELLED = 12,
	IPUMP_EVENT_ALARM_RAISED = 13,
	IPUMP_EVENT_ALARM_ACKED = 14,
	IPUMP_EVENT_ALARM_CLEARED = 15,
	IPUMP_EVENT_AUDIO_PAUSED = 16,
	IPUMP_EVENT_AUDIO_PAUSE_ENDED = 17,
	IPUMP_EVENT_REQUEST_REFUSED = 18,
	IPUMP_EVENT_LEASE_ACQUIRED = 19,
	IPUMP_EVENT_LEASE_RELEASED = 20,
	IPUMP_EVENT_LEASE_LOST = 21,
	IPUMP_EVENT_LEASE_TAKEN_OVER = 22,
	IPUMP_EVENT_STATE_CHANGED = 23,
	IPUMP_EVENT_HARD_LIMITS_SET = 24,
	IPUMP_EVENT_CARD_ADDED = 25,
	IPUMP_EVENT_OVERFLOW = 26,
	IPUMP_EVENT_CARD_REMOVED = 27,
	IPUMP_EVENT_TYPE_COUNT	/* number of event types; grows */
};

/* Bit of an event type in a 64-bit event mask. */
#define IPUMP_EVENT_BIT(type)	(1ULL << (type))

/**
 * enum ipump_event_cause - why a channel stopped, paused, fell back to
 *	KVO, changed state or cancelled a bolus (a value of some records)
 * @IPUMP_CAUSE_COMMAND: a console or handset command
 * @IPUMP_CAUSE_ALARM: an alarm condition (the record names it)
 * @IPUMP_CAUSE_LEASE_LOST: the console lease was lost
 * @IPUMP_CAUSE_DOSE_LIMIT: a dose limit was reached
 * @IPUMP_CAUSE_VOLUME_DONE: the volume to be infused was delivered
 * @IPUMP_CAUSE_FAULT: card or communication failure
 * @IPUMP_CAUSE_CARD_REMOVED: the card is being removed
 */
enum ipump_event_cause {
	IPUMP_CAUSE_COMMAND = 0,
	IPUMP_CAUSE_ALARM = 1,
	IPUMP_CAUSE_LEASE_LOST = 2,
	IPUMP_CAUSE_DOSE_LIMIT = 3,
	IPUMP_CAUSE_VOLUME_DONE = 4,
	IPUMP_CAUSE_FAULT = 5,
	IPUMP_CAUSE_CARD_REMOVED = 6,
};

/* &struct ipump_event.channel of card-wide events */
#define IPUMP_CHANNEL_NONE	0xff

/* The clock event timestamps are on (the card's clock, CONTRACTS "Time") */
#define IPUMP_CLOCK_BOOTTIME	0	/* the kernel's CLOCK_BOOTTIME */
#define IPUMP_CLOCK_SIMULATED	1	/* a simulated card's virtual clock */

/* &struct ipump_event.flags */
#define IPUMP_EVENT_F_HANDSET	_BITUL(0)	/* from the card's patient handset */
#define IPUMP_EVENT_F_CONSOLE	_BITUL(1)	/* from a console command */
#define IPUMP_EVENT_F_ROUNDED	_BITUL(2)	/* card rounded toward less drug;
						 * the values are what it runs
						 */

/**
 * struct ipump_event - one audit record, as read from /dev/ipumpN, sent to
 *	the netlink monitor group and returned by the log dump
 * @seq: card-wide sequence number, the first record of a card is 1; the
 *	same number in every reader's stream. 0 only in records that are
 *	not in the log (%IPUMP_EVENT_OVERFLOW).
 * @timestamp_ns: time on the card's clock (%IPUMP_CLOCK_BOOTTIME or
 *	%IPUMP_CLOCK_SIMULATED), ns
 * @card: N of the card ipumpN
 * @type: &enum ipump_event_type
 * @channel: channel number, or %IPUMP_CHANNEL_NONE for card-wide events
 * @priority: &enum ipump_priority
 * @value: meaning per @type, see Documentation/userspace-api/ipump.rst;
 *	unused values are 0
 * @flags: IPUMP_EVENT_F_*; undefined bits are 0
 * @padding: 0
 *
 * 64 bytes with every 64-bit field 8-aligned, the same layout for 32- and
 * 64-bit userspace (no compat translation).
 */
struct ipump_event {
	__aligned_u64 seq;
	__aligned_u64 timestamp_ns;
	__u32 card;
	__u16 type;
	__u8 channel;
	__u8 priority;
	__aligned_u64 value[4];
	__u32 flags;
	__u32 padding;
};

/* ---- character device /dev/ipumpN ---- */

/*
 * ioctl magic 0xB9, numbers 0x00-0x3F (Documentation/userspace-api/ipump.rst).
 * Every struct has a fixed size that is a multiple of 8 and the same on
 * 32- and 64-bit userspace, so the 32-bit compat path passes it unchanged.
 * Fields marked "reserved" or "padding" must be zero (-EINVAL otherwise).
 */
#define IPUMP_IOC_MAGIC		0xB9

/**
 * struct ipump_card_info - what a card is (IPUMP_IOC_GET_CARD_INFO)
 * @serial: the card's serial number
 * @card: N of /dev/ipumpN
 * @num_channels: channels 0..@num_channels-1 exist
 * @fw_version: firmware version, major << 16 | minor << 8 | patch
 * @map_version: register map version, major << 16 | minor
 * @nl_per_step: volume of one motor step, nL: the card's rate resolution
 * @clock: the clock of every timestamp, %IPUMP_CLOCK_BOOTTIME or
 *	%IPUMP_CLOCK_SIMULATED
 * @wdt_period_ms: card watchdog period the driver programmed
 * @padding: zero
 * @reserved: zero
 */
struct ipump_card_info {
	__aligned_u64 serial;
	__u32 card;
	__u32 num_channels;
	__u32 fw_version;
	__u32 map_version;
	__u32 nl_per_step;
	__u32 clock;
	__u32 wdt_period_ms;
	__u32 padding;
	__aligned_u64 reserved[4];
};

/* bits of struct ipump_channel_status.motor */
#define IPUMP_MOTOR_RUNNING	_BITUL(0)	/* commanded to move */
#define IPUMP_MOTOR_STALLED	_BITUL(1)	/* commanded, not moving */
#define IPUMP_MOTOR_BOLUS	_BITUL(2)	/* a bolus is being delivered */
#define IPUMP_MOTOR_BACKOFF	_BITUL(3)	/* relieving line pressure */

/* struct ipump_channel_status.lease: the channel's console lease */
#define IPUMP_LEASE_FREE	0	/* nobody holds it */
#define IPUMP_LEASE_HELD	1	/* another console holds it, live */
#define IPUMP_LEASE_MINE	2	/* the asking file or socket holds it, live */
#define IPUMP_LEASE_ORPHANED	3	/* lost (owner gone or heartbeat missed):
					 * only a takeover adopts it
					 */

/* "not applicable" in the u32/u64 fields that say so */
#define IPUMP_NONE_U32		0xffffffffU
#define IPUMP_NONE_U64		0xffffffffffffffffULL

/**
 * struct ipump_channel_status - one channel, read from the card and the
 *	core in one go (IPUMP_IOC_GET_CHANNEL_STATUS)
 * @channel: in: channel index
 * @state: enum ipump_channel_state
 * @rate_nl_per_h: rate the card runs now (as the card reports it; the
 *	bolus rate during a bolus, 0 when stopped)
 * @motor: IPUMP_MOTOR_* bits
 * @timestamp_ns: card clock time of the reading
 * @delivered_nl: card's delivered-volume counter (net motor displacement)
 * @reservoir_nl: volume left in the reservoir
 * @alarms: active alarms, bit n = enum ipump_alarm n
 * @alarms_unacked: active alarms not acknowledged yet (a subset of @alarms)
 * @generation: generation of the channel's programme; 0 before the first
 * @infused_nl: counted by the card since the programme was started
 *	(basal, KVO and boluses)
 * @vtbi_remaining_nl: volume to be infused left, %IPUMP_NONE_U64 when
 *	unlimited or without a programme
 * @bolus_delivered_nl: volume the card counted for the current or last
 *	bolus
 * @dose_1h_nl: volume counted toward the rolling 1-hour dose limit
 * @dose_4h_nl: volume counted toward the rolling 4-hour dose limit
 * @audio_paused_until_ns: alarm audio paused until this card-clock time;
 *	0 when not paused
 * @lease_expires_ns: card-clock time the lease period ends without a
 *	renewal (the grace comes on top); 0 when free
 * @pressure_down_mmhg: downstream (patient side) pressure
 * @pressure_up_mmhg: upstream (reservoir side) pressure
 * @step_count: motor steps, wraps at 2^32
 * @handset_presses: PCA handset presses seen
 * @priority: highest enum ipump_priority of the active alarms,
 *	%IPUMP_PRIO_INFO when none
 * @pca_delivered: PCA boluses started under the current programme
 * @pca_denied: PCA demands denied under the current programme
 * @clinician_boluses: clinician boluses started under the current programme
 * @lockout_remaining_ms: time until a PCA demand can be admitted (rounded
 *	up), 0 when it can now
 * @time_to_empty_s: reservoir / current rate, %IPUMP_NONE_U32 when not
 *	delivering
 * @lease: IPUMP_LEASE_* as seen by the asking file or socket
 * @padding: zero
 * @reserved: zero
 */
struct ipump_channel_status {
	__u32 channel;
	__u32 state;
	__u32 rate_nl_per_h;
	__u32 motor;
	__aligned_u64 timestamp_ns;
	__aligned_u64 delivered_nl;
	__aligned_u64 reservoir_nl;
	__aligned_u64 alarms;
	__aligned_u64 alarms_unacked;
	__aligned_u64 generation;
	__aligned_u64 infused_nl;
	__aligned_u64 vtbi_remaining_nl;
	__aligned_u64 bolus_delivered_nl;
	__aligned_u64 dose_1h_nl;
	__aligned_u64 dose_4h_nl;
	__aligned_u64 audio_paused_until_ns;
	__aligned_u64 lease_expires_ns;
	__u32 pressure_down_mmhg;
	__u32 pressure_up_mmhg;
	__u32 step_count;
	__u32 handset_presses;
	__u32 priority;
	__u32 pca_delivered;
	__u32 pca_denied;
	__u32 clinician_boluses;
	__u32 lockout_remaining_ms;
	__u32 time_to_empty_s;
	__u32 lease;
	__u32 padding;
	__aligned_u64 reserved[4];
};

/**
 * struct ipump_event_mask - what read() on this open file returns
 *	(IPUMP_IOC_SET_EVENT_MASK)
 * @types: IPUMP_EVENT_BIT() of the event types to receive; unknown bits
 *	are refused
 * @min_priority: lowest enum ipump_priority to receive
 * @padding: zero
 * @reserved: zero
 *
 * %IPUMP_PRIO_HIGH records (high-priority alarms, overflow, card removed)
 * are always received, whatever the mask. A new open file receives
 * everything.
 */
struct ipump_event_mask {
	__aligned_u64 types;
	__u32 min_priority;
	__u32 padding;
	__aligned_u64 reserved[2];
};

/**
 * struct ipump_programme_req - a channel's programme with its generation
 *	(IPUMP_IOC_SET_PROGRAMME, IPUMP_IOC_TITRATE, IPUMP_IOC_GET_PROGRAMME)
 * @channel: channel index
 * @padding: zero
 * @generation: set and titrate: in, the generation the change is based on
 *	(the one last read; 0 for a channel never programmed), out, the new
 *	one; get: out
 * @programme: the programme
 * @reserved: zero
 */
struct ipump_programme_req {
	__u32 channel;
	__u32 padding;
	__aligned_u64 generation;
	struct ipump_programme programme;
	__aligned_u64 reserved[2];
};

/**
 * struct ipump_channel_cmd - a command to one channel (start, stop, pause,
 *	resume, clear, bolus cancel, acknowledge, audio pause, lease)
 * @channel: channel index; IPUMP_IOC_ACK also takes %IPUMP_CHANNEL_NONE for
 *	the card-level alarms
 * @value: IPUMP_IOC_AUDIO_PAUSE: duration, ms (1..120000);
 *	IPUMP_IOC_LEASE_ACQUIRE and _TAKEOVER: heartbeat period, ms
 *	(100..60000); otherwise 0
 * @generation: IPUMP_IOC_START, _RESUME and _CLEAR: the programme
 *	generation the console saw (-ESTALE if it changed); otherwise 0
 * @result: out: IPUMP_IOC_BOLUS_CANCEL: volume of the cancelled bolus the
 *	card counted, nL; otherwise 0
 * @reserved: zero
 */
struct ipump_channel_cmd {
	__u32 channel;
	__u32 value;
	__aligned_u64 generation;
	__aligned_u64 result;
	__aligned_u64 reserved[2];
};

/* struct ipump_bolus_req.kind */
#define IPUMP_BOLUS_DEMAND	0	/* patient demand (PCA) from the console:
					 * the programme's volume and rate
					 */
#define IPUMP_BOLUS_CLINICIAN	1	/* clinician bolus: volume and rate given */

/**
 * struct ipump_bolus_req - start a bolus (IPUMP_IOC_BOLUS)
 * @channel: channel index
 * @kind: IPUMP_BOLUS_*
 * @volume_nl: clinician: the volume, within the hard limits; demand: 0
 * @rate_nl_per_h: clinician: the rate, within the hard limits; demand: 0
 * @reserved: zero
 */
struct ipump_bolus_req {
	__u32 channel;
	__u32 kind;
	__u32 volume_nl;
	__u32 rate_nl_per_h;
	__aligned_u64 reserved[2];
};

/**
 * struct ipump_limits_req - a channel's hard limits
 *	(IPUMP_IOC_SET_HARD_LIMITS, IPUMP_IOC_GET_HARD_LIMITS)
 * @channel: channel index
 * @padding: zero
 * @limits: the limits
 * @reserved: zero
 */
struct ipump_limits_req {
	__u32 channel;
	__u32 padding;
	struct ipump_hard_limits limits;
	__aligned_u64 reserved[2];
};

#define IPUMP_IOC_GET_CARD_INFO		_IOR(IPUMP_IOC_MAGIC, 0x00, struct ipump_card_info)
#define IPUMP_IOC_GET_CHANNEL_STATUS	_IOWR(IPUMP_IOC_MAGIC, 0x01, struct ipump_channel_status)
#define IPUMP_IOC_SET_EVENT_MASK	_IOW(IPUMP_IOC_MAGIC, 0x02, struct ipump_event_mask)
#define IPUMP_IOC_SET_PROGRAMME		_IOWR(IPUMP_IOC_MAGIC, 0x03, struct ipump_programme_req)
#define IPUMP_IOC_GET_PROGRAMME		_IOWR(IPUMP_IOC_MAGIC, 0x04, struct ipump_programme_req)
#define IPUMP_IOC_TITRATE		_IOWR(IPUMP_IOC_MAGIC, 0x05, struct ipump_programme_req)
#define IPUMP_IOC_START			_IOW(IPUMP_IOC_MAGIC, 0x06, struct ipump_channel_cmd)
#define IPUMP_IOC_STOP			_IOW(IPUMP_IOC_MAGIC, 0x07, struct ipump_channel_cmd)
#define IPUMP_IOC_PAUSE			_IOW(IPUMP_IOC_MAGIC, 0x08, struct ipump_channel_cmd)
#define IPUMP_IOC_RESUME		_IOW(IPUMP_IOC_MAGIC, 0x09, struct ipump_channel_cmd)
#define IPUMP_IOC_CLEAR			_IOW(IPUMP_IOC_MAGIC, 0x0a, struct ipump_channel_cmd)
#define IPUMP_IOC_BOLUS			_IOW(IPUMP_IOC_MAGIC, 0x0b, struct ipump_bolus_req)
#define IPUMP_IOC_BOLUS_CANCEL		_IOWR(IPUMP_IOC_MAGIC, 0x0c, struct ipump_channel_cmd)
#define IPUMP_IOC_ACK			_IOW(IPUMP_IOC_MAGIC, 0x0d, struct ipump_channel_cmd)
#define IPUMP_IOC_AUDIO_PAUSE		_IOW(IPUMP_IOC_MAGIC, 0x0e, struct ipump_channel_cmd)
#define IPUMP_IOC_LEASE_ACQUIRE		_IOW(IPUMP_IOC_MAGIC, 0x0f, struct ipump_channel_cmd)
#define IPUMP_IOC_LEASE_RENEW		_IOW(IPUMP_IOC_MAGIC, 0x10, struct ipump_channel_cmd)
#define IPUMP_IOC_LEASE_RELEASE		_IOW(IPUMP_IOC_MAGIC, 0x11, struct ipump_channel_cmd)
#define IPUMP_IOC_LEASE_TAKEOVER	_IOW(IPUMP_IOC_MAGIC, 0x12, struct ipump_channel_cmd)
#define IPUMP_IOC_SET_HARD_LIMITS	_IOW(IPUMP_IOC_MAGIC, 0x13, struct ipump_limits_req)
#define IPUMP_IOC_GET_HARD_LIMITS	_IOWR(IPUMP_IOC_MAGIC, 0x14, struct ipump_limits_req)

/* ---- generic netlink family "ipump" ---- */

/*
 * Documented in Documentation/userspace-api/ipump-netlink.rst and specified
 * in Documentation/netlink/specs/ipump.yaml. Attribute values carry the
 * same units and meanings as the fields of the structs above with the
 * same names.
 */
#define IPUMP_GENL_NAME			"ipump"
#define IPUMP_GENL_VERSION		1
#define IPUMP_GENL_MCGRP_MONITOR	"monitor"

enum ipump_genl_cmd {
	IPUMP_CMD_UNSPEC,
	IPUMP_CMD_CARD_GET,		/* do (CARD_ID) and dump */
	IPUMP_CMD_CHANNEL_GET,		/* do (CARD_ID, CHANNEL) and dump */
	IPUMP_CMD_PROGRAMME_SET,	/* CARD_ID, CHANNEL, GENERATION, PROGRAMME */
	IPUMP_CMD_TITRATE,		/* CARD_ID, CHANNEL, GENERATION, PROGRAMME */
	IPUMP_CMD_START,		/* CARD_ID, CHANNEL, GENERATION */
	IPUMP_CMD_STOP,			/* CARD_ID, CHANNEL */
	IPUMP_CMD_PAUSE,		/* CARD_ID, CHANNEL */
	IPUMP_CMD_RESUME,		/* CARD_ID, CHANNEL, GENERATION */
	IPUMP_CMD_CLEAR,		/* CARD_ID, CHANNEL, GENERATION */
	IPUMP_CMD_BOLUS,		/* CARD_ID, CHANNEL, BOLUS_KIND
					 * [, BOLUS_VOLUME_NL, BOLUS_RATE_NL_PER_H]
					 */
	IPUMP_CMD_BOLUS_CANCEL,		/* CARD_ID, CHANNEL; reply RESULT_NL */
	IPUMP_CMD_ACK,			/* CARD_ID [, CHANNEL] */
	IPUMP_CMD_AUDIO_PAUSE,		/* CARD_ID, CHANNEL, DURATION_MS */
	IPUMP_CMD_LEASE_ACQUIRE,	/* CARD_ID, CHANNEL, LEASE_PERIOD_MS */
	IPUMP_CMD_LEASE_RENEW,		/* CARD_ID, CHANNEL */
	IPUMP_CMD_LEASE_RELEASE,	/* CARD_ID, CHANNEL */
	IPUMP_CMD_LEASE_TAKEOVER,	/* CARD_ID, CHANNEL, LEASE_PERIOD_MS */
	IPUMP_CMD_LIMITS_SET,		/* CARD_ID, CHANNEL, LIMITS */
	IPUMP_CMD_LIMITS_GET,		/* CARD_ID, CHANNEL */
	IPUMP_CMD_LOG_GET,		/* dump: CARD_ID [, LOG_FROM_SEQ] */
	IPUMP_CMD_EVENT,		/* notification to "monitor": EVENT */

	__IPUMP_CMD_MAX,
	IPUMP_CMD_MAX = __IPUMP_CMD_MAX - 1
};

enum ipump_genl_attr {
	IPUMP_A_UNSPEC,
	IPUMP_A_PAD,
	IPUMP_A_CARD_ID,		/* u32: N of ipumpN */
	IPUMP_A_CHANNEL,		/* u32: channel index */
	IPUMP_A_GENERATION,		/* u64: programme generation */
	IPUMP_A_PROGRAMME,		/* nest: IPUMP_A_PROG_* */
	IPUMP_A_LIMITS,			/* nest: IPUMP_A_LIM_* */
	IPUMP_A_CARD,			/* nest: IPUMP_A_CARD_* (card get) */
	IPUMP_A_STATUS,			/* nest: IPUMP_A_ST_* (channel get) */
	IPUMP_A_EVENT,			/* nest: IPUMP_A_EV_* (log, monitor) */
	IPUMP_A_BOLUS_KIND,		/* u32: IPUMP_BOLUS_* */
	IPUMP_A_BOLUS_VOLUME_NL,	/* u32 */
	IPUMP_A_BOLUS_RATE_NL_PER_H,	/* u32 */
	IPUMP_A_DURATION_MS,		/* u32: audio pause */
	IPUMP_A_LEASE_PERIOD_MS,	/* u32 */
	IPUMP_A_LOG_FROM_SEQ,		/* u64: log dump starts here */
	IPUMP_A_RESULT_NL,		/* u64: bolus cancel: volume counted */
	IPUMP_A_REASON,			/* u32: enum ipump_reason of a refusal,
					 * in the extended ack's cookie
					 */

	__IPUMP_A_MAX,
	IPUMP_A_MAX = __IPUMP_A_MAX - 1
};

/* IPUMP_A_CARD: struct ipump_card_info plus the log's state */
enum ipump_genl_card_attr {
	IPUMP_A_CARD_UNSPEC,
	IPUMP_A_CARD_PAD,
	IPUMP_A_CARD_SERIAL,		/* u64 */
	IPUMP_A_CARD_NUM_CHANNELS,	/* u32 */
	IPUMP_A_CARD_FW_VERSION,	/* u32 */
	IPUMP_A_CARD_MAP_VERSION,	/* u32 */
	IPUMP_A_CARD_NL_PER_STEP,	/* u32 */
	IPUMP_A_CARD_CLOCK,		/* u32: IPUMP_CLOCK_* */
	IPUMP_A_CARD_WDT_PERIOD_MS,	/* u32 */
	IPUMP_A_CARD_ALARMS,		/* u64: card-level alarms */
	IPUMP_A_CARD_LOG_OLDEST_SEQ,	/* u64: oldest record still in the log */
	IPUMP_A_CARD_LOG_NEXT_SEQ,	/* u64: sequence number of the next record */
	IPUMP_A_CARD_LOG_WRAPPED,	/* u64: records lost to wrapping */
	IPUMP_A_CARD_NAME,		/* string: "ipumpN" */

	__IPUMP_A_CARD_MAX,
	IPUMP_A_CARD_MAX = __IPUMP_A_CARD_MAX - 1
};

/* IPUMP_A_STATUS: the fields of struct ipump_channel_status */
enum ipump_genl_status_attr {
	IPUMP_A_ST_UNSPEC,
	IPUMP_A_ST_PAD,
	IPUMP_A_ST_STATE,		/* u32 */
	IPUMP_A_ST_RATE_NL_PER_H,	/* u32 */
	IPUMP_A_ST_MOTOR,		/* u32 */
	IPUMP_A_ST_TIMESTAMP_NS,	/* u64 */
	IPUMP_A_ST_DELIVERED_NL,	/* u64 */
	IPUMP_A_ST_RESERVOIR_NL,	/* u64 */
	IPUMP_A_ST_ALARMS,		/* u64 */
	IPUMP_A_ST_ALARMS_UNACKED,	/* u64 */
	IPUMP_A_ST_GENERATION,		/* u64 */
	IPUMP_A_ST_INFUSED_NL,		/* u64 */
	IPUMP_A_ST_VTBI_REMAINING_NL,	/* u64 */
	IPUMP_A_ST_BOLUS_DELIVERED_NL,	/* u64 */
	IPUMP_A_ST_DOSE_1H_NL,		/* u64 */
	IPUMP_A_ST_DOSE_4H_NL,		/* u64 */
	IPUMP_A_ST_AUDIO_PAUSED_UNTIL_NS, /* u64 */
	IPUMP_A_ST_LEASE_EXPIRES_NS,	/* u64 */
	IPUMP_A_ST_PRESSURE_DOWN_MMHG,	/* u32 */
	IPUMP_A_ST_PRESSURE_UP_MMHG,	/* u32 */
	IPUMP_A_ST_STEP_COUNT,		/* u32 */
	IPUMP_A_ST_HANDSET_PRESSES,	/* u32 */
	IPUMP_A_ST_PRIORITY,		/* u32 */
	IPUMP_A_ST_PCA_DELIVERED,	/* u32 */
	IPUMP_A_ST_PCA_DENIED,		/* u32 */
	IPUMP_A_ST_CLINICIAN_BOLUSES,	/* u32 */
	IPUMP_A_ST_LOCKOUT_REMAINING_MS, /* u32 */
	IPUMP_A_ST_TIME_TO_EMPTY_S,	/* u32 */
	IPUMP_A_ST_LEASE,		/* u32: IPUMP_LEASE_* */

	__IPUMP_A_ST_MAX,
	IPUMP_A_ST_MAX = __IPUMP_A_ST_MAX - 1
};

/* IPUMP_A_PROGRAMME: the fields of struct ipump_programme (all required) */
enum ipump_genl_prog_attr {
	IPUMP_A_PROG_UNSPEC,
	IPUMP_A_PROG_PAD,
	IPUMP_A_PROG_ROUTE,		/* u32 */
	IPUMP_A_PROG_FLAGS,		/* u32 */
	IPUMP_A_PROG_BASAL_RATE_NL_PER_H, /* u32 */
	IPUMP_A_PROG_KVO_RATE_NL_PER_H,	/* u32 */
	IPUMP_A_PROG_VTBI_NL,		/* u64 */
	IPUMP_A_PROG_BOLUS_VOLUME_NL,	/* u32 */
	IPUMP_A_PROG_BOLUS_RATE_NL_PER_H, /* u32 */
	IPUMP_A_PROG_LOCKOUT_MS,	/* u32 */
	IPUMP_A_PROG_MAX_BOLUSES_PER_HOUR, /* u32 */
	IPUMP_A_PROG_MAX_DOSE_1H_NL,	/* u64 */
	IPUMP_A_PROG_MAX_DOSE_4H_NL,	/* u64 */
	IPUMP_A_PROG_LEASE_LOSS_MODE,	/* u32 */

	__IPUMP_A_PROG_MAX,
	IPUMP_A_PROG_MAX = __IPUMP_A_PROG_MAX - 1
};

/* IPUMP_A_LIMITS: the fields of struct ipump_hard_limits (all required) */
enum ipump_genl_limits_attr {
	IPUMP_A_LIM_UNSPEC,
	IPUMP_A_LIM_PAD,
	IPUMP_A_LIM_MIN_RATE_NL_PER_H,	/* u32 */
	IPUMP_A_LIM_MAX_RATE_NL_PER_H,	/* u32 */
	IPUMP_A_LIM_MAX_KVO_RATE_NL_PER_H, /* u32 */
	IPUMP_A_LIM_MAX_BOLUS_VOLUME_NL, /* u32 */
	IPUMP_A_LIM_MAX_BOLUS_RATE_NL_PER_H, /* u32 */
	IPUMP_A_LIM_MIN_LOCKOUT_MS,	/* u32 */
	IPUMP_A_LIM_MAX_VTBI_NL,	/* u64 */
	IPUMP_A_LIM_MAX_DOSE_1H_NL,	/* u64 */
	IPUMP_A_LIM_MAX_DOSE_4H_NL,	/* u64 */
	IPUMP_A_LIM_MAX_BOLUSES_PER_HOUR, /* u32 */
	IPUMP_A_LIM_AIR_BUBBLE_NL,	/* u32 */
	IPUMP_A_LIM_AIR_ACCUM_NL,	/* u32 */
	IPUMP_A_LIM_OVER_INFUSION_PCT,	/* u32 */
	IPUMP_A_LIM_UNDER_INFUSION_PCT,	/* u32 */
	IPUMP_A_LIM_STALL_MS,		/* u32 */

	__IPUMP_A_LIM_MAX,
	IPUMP_A_LIM_MAX = __IPUMP_A_LIM_MAX - 1
};

/* IPUMP_A_EVENT: the fields of struct ipump_event */
enum ipump_genl_event_attr {
	IPUMP_A_EV_UNSPEC,
	IPUMP_A_EV_PAD,
	IPUMP_A_EV_SEQ,			/* u64 */
	IPUMP_A_EV_TIMESTAMP_NS,	/* u64 */
	IPUMP_A_EV_CARD,		/* u32 */
	IPUMP_A_EV_TYPE,		/* u32 */
	IPUMP_A_EV_CHANNEL,		/* u32 */
	IPUMP_A_EV_PRIORITY,		/* u32 */
	IPUMP_A_EV_VALUE0,		/* u64 */
	IPUMP_A_EV_VALUE1,		/* u64 */
	IPUMP_A_EV_VALUE2,		/* u64 */
	IPUMP_A_EV_VALUE3,		/* u64 */
	IPUMP_A_EV_FLAGS,		/* u32 */

	__IPUMP_A_EV_MAX,
	IPUMP_A_EV_MAX = __IPUMP_A_EV_MAX - 1
};

#endif /* _UAPI_LINUX_IPUMP_H */
