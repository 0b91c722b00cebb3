/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump core: the interface between the bus-agnostic core (ipump.ko) and
 * what provides a card (SPI glue for real boards, ipump_sim for the
 * simulated card). A provider hands the core a regmap, a level-triggered
 * IRQ and, optionally, the card's own clock.
 */
#ifndef _IPUMP_CORE_H
#define _IPUMP_CORE_H

#include <linux/types.h>

struct device;
struct regmap;
struct ipump_card;

/**
 * struct ipump_clock_ops - the card's clock (CONTRACTS.md "Time")
 * @name: reported to userspace, e.g. "simulated"
 * @now_ns: current time on the card's clock, in ns
 * @arm: ask the provider to call ipump_card_clock_expired() once the
 *	clock reaches @deadline_ns (replaces any earlier request; U64_MAX
 *	cancels). Called with the core's card lock held: must not sleep on
 *	anything the core may hold, and must not call back synchronously.
 *
 * Every time-dependent rule of the core reads time from here. A provider
 * that passes no clock gets CLOCK_BOOTTIME and kernel timers.
 */
struct ipump_clock_ops {
	const char *name;
	u64 (*now_ns)(void *priv);
	void (*arm)(void *priv, u64 deadline_ns);
};

/**
 * struct ipump_card_config - what a provider hands to ipump_card_register()
 * @regmap: 32-bit registers at 32-bit aligned byte addresses
 *	(ipump_regs.h); access may sleep
 * @irq: level-triggered interrupt line of the card (> 0)
 * @clock: the card's clock, or NULL for CLOCK_BOOTTIME
 * @clock_priv: passed to @clock callbacks
 */
struct ipump_card_config {
	struct regmap *regmap;
	int irq;
	const struct ipump_clock_ops *clock;
	void *clock_priv;
};

/*
 * ---- Added for bus glue drivers (ipump_spi): a card clock handed over by
 * whoever created the bus device. Only the simulator does (it puts one in
 * the SPI device's platform_data); real boards have none and run on
 * CLOCK_BOOTTIME.
 */

/**
 * struct ipump_clock_desc - a card clock for a glue driver to pass on
 * @ops: becomes ipump_card_config.clock
 * @priv: becomes ipump_card_config.clock_priv, and is passed to @attach
 * @attach: the glue reports the card's life to the clock's provider, which
 *	calls ipump_card_clock_expired() only on an attached card: with the
 *	card after ipump_card_register() succeeded, with NULL before it calls
 *	ipump_card_unregister(), and with an ERR_PTR() when its probe failed
 *	(so the provider can report why). Process context, may sleep; never
 *	called with a lock of the core held.
 */
struct ipump_clock_desc {
	const struct ipump_clock_ops *ops;
	void *priv;
	void (*attach)(void *priv, struct ipump_card *card);
};

/* ---- end of the addition for bus glue drivers */

/*
 * Probe-time properties are read from @parent with device_property_*():
 *   "ipump,watchdog-period-ms"	u32, card watchdog period (default 1000)
 */
struct ipump_card *ipump_card_register(struct device *parent,
				       const struct ipump_card_config *cfg);
void ipump_card_unregister(struct ipump_card *card);

/*
 * Called by a provider with its own clock when the deadline requested
 * through ipump_clock_ops.arm has been reached. Process context, may sleep;
 * the provider must hold none of the locks its regmap callbacks take.
 */
void ipump_card_clock_expired(struct ipump_card *card);

/*
 * Lifetime, for providers: ipump_card_unregister() stops the motors (best
 * effort), cancels the clock request (arm(U64_MAX)), frees the IRQ and
 * removes the card's interfaces; the card itself is freed when its last
 * reference goes. The provider must serialise ipump_card_clock_expired()
 * with ipump_card_unregister() and never call it afterwards. The regmap,
 * the IRQ and the clock must stay usable until ipump_card_unregister()
 * returns; ipump_clock_ops.now_ns is also called with the card lock held.
 */

/*
 * Channel control: the operations later interfaces (character device,
 * netlink) offer. All may sleep. Common errors: -ENODEV once the card is
 * unregistered, -EINVAL for a channel number the card does not have, -EIO
 * when the card did not answer or answered implausibly (the channel, or
 * every channel for a card-wide register, is then in IPUMP_STATE_FAULT
 * with IPUMP_ALARM_COMMUNICATION latched).
 */

/**
 * ipump_channel_start() - run a channel at a basal rate
 * @card: the card
 * @ch: channel number
 * @rate_nl_per_h: rate, nL/h, > 0
 *
 * IPUMP_STATE_IDLE -> IPUMP_STATE_RUNNING: programs the rate, reads it
 * back and commands the motor to run.
 *
 * Return: 0; -EINVAL for a zero rate or one the card rounds down to 0;
 * -EBUSY unless the channel is idle, or while a condition on which the
 * card stops the motor (IPUMP_ALM_CARD_STOPS) is present; or a common
 * error.
 */
int ipump_channel_start(struct ipump_card *card, unsigned int ch,
			u32 rate_nl_per_h);

/**
 * ipump_channel_stop() - stop a channel's motor
 * @card: the card
 * @ch: channel number
 *
 * Always allowed. Any state goes to IPUMP_STATE_IDLE except
 * IPUMP_STATE_FAULT, which only ipump_channel_ack() leaves. Latched alarms
 * stay until acknowledged.
 *
 * Return: 0 once the card took the stop command, or a common error.
 */
int ipump_channel_stop(struct ipump_card *card, unsigned int ch);

/**
 * ipump_channel_ack() - acknowledge a channel's alarms
 * @card: the card
 * @ch: channel number
 *
 * Checks that the card answers (identity, then the live conditions),
 * clears latched alarms whose condition is gone and leaves
 * IPUMP_STATE_ALARM_STOPPED or IPUMP_STATE_FAULT for IPUMP_STATE_IDLE when
 * no stopping alarm remains (for IPUMP_STATE_ALARM_STOPPED otherwise).
 *
 * Return: 0 or a common error.
 */
int ipump_channel_ack(struct ipump_card *card, unsigned int ch);

/**
 * ipump_card_ack() - acknowledge the card-level alarms
 * @card: the card
 *
 * Clears latched card-level alarms whose condition is gone.
 *
 * Return: 0 or a common error.
 */
int ipump_card_ack(struct ipump_card *card);

/* Name of the card's class device ("ipump0"), for providers' diagnostics. */
const char *ipump_card_name(struct ipump_card *card);

#endif /* _IPUMP_CORE_H */
