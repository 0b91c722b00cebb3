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

#include <linux/types.h>

#define IPUMP_MAX_CHANNELS	8

/**
 * enum ipump_channel_state - therapy state of one channel
 * @IPUMP_STATE_IDLE: no programme, motor stopped
 * @IPUMP_STATE_RUNNING: delivering at the programmed rate
 * @IPUMP_STATE_ALARM_STOPPED: stopped by an alarm (by the card or the core)
 * @IPUMP_STATE_FAULT: card or communication failure, motor stopped
 */
enum ipump_channel_state {
	IPUMP_STATE_IDLE = 0,
	IPUMP_STATE_RUNNING = 1,
	IPUMP_STATE_ALARM_STOPPED = 2,
	IPUMP_STATE_FAULT = 3,
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
	IPUMP_ALARM_COUNT	/* number of alarm identifiers; grows */
};

#endif /* _UAPI_LINUX_IPUMP_H */
