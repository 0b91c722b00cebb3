/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump card register map, version 1.0.
 *
 * Documented in Documentation/hardware/register-map.rst; this header and that
 * document must change together. All registers are 32 bits wide, little
 * endian on the wire, at byte addresses that are multiples of 4.
 *
 * Access types used below:
 *   RO   read only; writes are ignored by the card
 *   RW   read/write
 *   WO   write only; reads return 0
 *   W1C  latched; reading returns the latch, writing 1 to a bit clears it
 *   LAT  reading the _LO half latches the _HI half, so a 64-bit value read
 *        LO then HI is consistent
 */
#ifndef _IPUMP_REGS_H
#define _IPUMP_REGS_H

#include <linux/bits.h>

#define IPUMP_MAX_CHANNELS		8

/* ---- card-wide block: 0x000 - 0x0ff ---- */
#define IPUMP_REG_ID			0x000	/* RO: IPUMP_ID_MAGIC */
#define   IPUMP_ID_MAGIC		0x49504d50	/* "IPMP" */
#define IPUMP_REG_MAP_VERSION		0x004	/* RO: major << 16 | minor */
#define   IPUMP_MAP_VERSION_MAJOR	1
#define   IPUMP_MAP_VERSION_MINOR	1	/* 1.1: AIR_TOTAL_NL */
#define IPUMP_REG_FW_VERSION		0x008	/* RO: major << 16 | minor << 8 | patch */
#define IPUMP_REG_NUM_CHANNELS		0x00c	/* RO: 1..8 */
#define IPUMP_REG_SERIAL_LO		0x010	/* RO, LAT */
#define IPUMP_REG_SERIAL_HI		0x014	/* RO */
#define IPUMP_REG_NL_PER_STEP		0x018	/* RO: volume of one motor step, nL */
#define IPUMP_REG_SELFTEST		0x01c	/* RO: 0 = passed, else failed-test bits */
#define IPUMP_REG_POWER			0x020	/* RO */
#define   IPUMP_POWER_MAINS		BIT(0)	/* mains present */
#define   IPUMP_POWER_BATT_MIN_SHIFT	16	/* bits 31:16 battery minutes left */
#define   IPUMP_POWER_BATT_MIN_MASK	GENMASK(31, 16)
#define IPUMP_REG_IRQ_STATUS		0x024	/* RO: derived, see below */
#define   IPUMP_IRQ_CHANNEL(n)		BIT(n)	/* channel n: ALARM_STATUS & ~ALARM_MASK */
#define   IPUMP_IRQ_CARD		BIT(31)	/* CARD_ALARM & ~CARD_ALARM_MASK */
#define IPUMP_REG_IRQ_ENABLE		0x028	/* RW: same bits; line = STATUS & ENABLE */
#define IPUMP_REG_CARD_ALARM		0x02c	/* W1C */
#define IPUMP_REG_CARD_ALARM_COND	0x030	/* RO: live condition, same bits */
#define   IPUMP_CARD_ALARM_BATT_LOW	BIT(0)	/* on battery, < 15 min left */
#define   IPUMP_CARD_ALARM_BATT_DEPLETED BIT(1)	/* on battery, < 5 min left */
#define   IPUMP_CARD_ALARM_WDT_EXPIRED	BIT(2)	/* card watchdog fired */
#define   IPUMP_CARD_ALARM_MAINS_LOST	BIT(3)	/* switched to battery */
#define IPUMP_REG_CARD_ALARM_MASK	0x034	/* RW: 1 = bit does not raise IRQ */
#define IPUMP_REG_WDT_PERIOD_MS		0x038	/* RW: 0 = off; reset default 0 */
#define IPUMP_REG_WDT_KEEPALIVE		0x03c	/* WO: write IPUMP_WDT_KICK */
#define   IPUMP_WDT_KICK		0x4b49434b	/* "KICK" */

/* ---- channel n block: IPUMP_CH_BASE(n) + offset ---- */
#define IPUMP_CH_BASE(n)		(0x100 + 0x100 * (n))
#define IPUMP_CH_REG(n, off)		(IPUMP_CH_BASE(n) + (off))

#define IPUMP_CH_CTRL			0x00	/* WO: one command per write */
#define   IPUMP_CTRL_RUN		BIT(0)	/* run at RATE */
#define   IPUMP_CTRL_STOP		BIT(1)	/* stop motor, cancel bolus */
#define   IPUMP_CTRL_PAUSE		BIT(2)	/* stop motor, keep bolus progress */
#define   IPUMP_CTRL_BOLUS_START	BIT(3)	/* deliver BOLUS_VOLUME at BOLUS_RATE */
#define   IPUMP_CTRL_BOLUS_CANCEL	BIT(4)
#define   IPUMP_CTRL_BACKOFF		BIT(5)	/* retract until pressure is at baseline */
#define IPUMP_CH_STATUS			0x04	/* RO */
#define   IPUMP_STATUS_RUNNING		BIT(0)	/* motor commanded to move */
#define   IPUMP_STATUS_BOLUS		BIT(1)	/* bolus in progress */
#define   IPUMP_STATUS_STALLED		BIT(2)	/* commanded but steps not advancing */
#define   IPUMP_STATUS_PAUSED		BIT(3)
#define   IPUMP_STATUS_STOPPED_BY_CARD	BIT(4)	/* card stopped itself (alarm/wdt) */
#define   IPUMP_STATUS_BACKOFF		BIT(5)	/* backing off pressure */
#define IPUMP_CH_RATE_NL_PER_H		0x08	/* RW: basal rate setpoint */
#define IPUMP_CH_BOLUS_VOLUME_NL	0x0c	/* RW */
#define IPUMP_CH_BOLUS_RATE_NL_PER_H	0x10	/* RW */
#define IPUMP_CH_DELIVERED_LO		0x14	/* RO, LAT: motor displacement, nL */
#define IPUMP_CH_DELIVERED_HI		0x18	/* RO */
#define IPUMP_CH_RESERVOIR_NL		0x1c	/* RO: volume left */
#define IPUMP_CH_PRESSURE_DOWN_MMHG	0x20	/* RO: downstream (patient side) */
#define IPUMP_CH_PRESSURE_UP_MMHG	0x24	/* RO: upstream (reservoir side) */
#define IPUMP_CH_AIR			0x28	/* RO */
#define   IPUMP_AIR_PRESENT		BIT(0)	/* air at the sensor now */
#define   IPUMP_AIR_LAST_NL_SHIFT	8	/* bits 31:8 volume of last bubble, nL */
#define   IPUMP_AIR_LAST_NL_MASK	GENMASK(31, 8)
#define IPUMP_CH_DOOR			0x2c	/* RO */
#define   IPUMP_DOOR_OPEN		BIT(0)
#define IPUMP_CH_STEP_COUNT		0x30	/* RO: motor steps, wraps at 2^32 */
#define IPUMP_CH_ALARM_STATUS		0x34	/* W1C: latched on condition onset */
#define IPUMP_CH_ALARM_COND		0x38	/* RO: live conditions, same bits */
#define   IPUMP_ALM_OCCL_DOWN		BIT(0)	/* downstream pressure >= threshold */
#define   IPUMP_ALM_OCCL_UP		BIT(1)	/* upstream occlusion */
#define   IPUMP_ALM_AIR			BIT(2)	/* bubble >= AIR_THRESHOLD */
#define   IPUMP_ALM_DOOR		BIT(3)	/* door/cassette open */
#define   IPUMP_ALM_RES_EMPTY		BIT(4)	/* reservoir empty */
#define   IPUMP_ALM_RES_LOW		BIT(5)	/* reservoir <= RES_LOW_NL */
#define   IPUMP_ALM_STALL		BIT(6)	/* motor stall */
#define   IPUMP_ALM_FREE_FLOW		BIT(7)	/* flow sensor sees uncommanded flow */
#define   IPUMP_ALM_HANDSET		BIT(8)	/* PCA handset pressed (event) */
#define   IPUMP_ALM_BOLUS_DONE		BIT(9)	/* bolus finished (event) */
#define   IPUMP_ALM_ALL			GENMASK(9, 0)
/* conditions on which the card stops this channel's motor by itself */
#define   IPUMP_ALM_CARD_STOPS		(IPUMP_ALM_OCCL_DOWN | IPUMP_ALM_OCCL_UP | \
					 IPUMP_ALM_AIR | IPUMP_ALM_DOOR | \
					 IPUMP_ALM_RES_EMPTY)
#define IPUMP_CH_ALARM_MASK		0x3c	/* RW: 1 = bit does not raise IRQ */
#define IPUMP_CH_HANDSET_COUNT		0x40	/* RO: handset presses, wraps */
#define IPUMP_CH_BOLUS_DELIVERED_NL	0x44	/* RO: of the current/last bolus */
#define IPUMP_CH_OCCL_THRESHOLD_MMHG	0x48	/* RW: downstream occlusion limit */
#define IPUMP_CH_AIR_THRESHOLD_NL	0x4c	/* RW: single-bubble alarm limit */
#define IPUMP_CH_RES_LOW_NL		0x50	/* RW: reservoir-low alarm level */
#define IPUMP_CH_AIR_TOTAL_NL		0x54	/* RO: air past the sensor, wraps (1.1) */

#define IPUMP_REG_MAX			IPUMP_CH_REG(IPUMP_MAX_CHANNELS - 1, 0xfc)

#endif /* _IPUMP_REGS_H */
