/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump_sim: the simulated ipump card, shared by the files of ipump_sim.ko.
 * See Documentation/driver-api/ipump-sim.rst.
 */
#ifndef _IPUMP_SIM_H
#define _IPUMP_SIM_H

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "ipump_regs.h"

struct dentry;
struct fwnode_handle;
struct ipump_card;
struct ipump_clock_ops;
struct ipump_sim_spi;
struct irq_domain;
struct platform_device;
struct seq_file;

#define IPUMP_SIM_NS_PER_H	(3600ULL * NSEC_PER_SEC)
/* motor accumulator units per nL: rate (nL/h) x (100 + speed error %) x ns */
#define IPUMP_SIM_UNIT		(100 * IPUMP_SIM_NS_PER_H)
/* the model never moves on by more than this at once */
#define IPUMP_SIM_CHUNK_NS	(100 * NSEC_PER_MSEC)
#define IPUMP_SIM_STALL_NS	NSEC_PER_SEC
#define IPUMP_SIM_MINUTE_NS	(60ULL * NSEC_PER_SEC)

/* Reset values and fixed physics of the simulated card. */
#define IPUMP_SIM_BACKOFF_RATE	10000000	/* nL/h, retraction speed */
#define IPUMP_SIM_PRESSURE_UP	10		/* mmHg, nominal upstream */
#define IPUMP_SIM_AIR_THRESHOLD	50000		/* nL */
#define IPUMP_SIM_RES_LOW	1000000		/* nL */
#define IPUMP_SIM_BATT_MINUTES	240
#define IPUMP_SIM_AIR_MAX	(IPUMP_AIR_LAST_NL_MASK >> IPUMP_AIR_LAST_NL_SHIFT)

/* How a card is attached (configfs "bus") */
enum ipump_sim_bus {
	IPUMP_SIM_BUS_PLATFORM,		/* regmap straight into the model */
	IPUMP_SIM_BUS_SPI,		/* simulated SPI controller, ipump_spi glue */
};

/* What configfs hands to a card when it goes live; fixed afterwards. */
struct ipump_sim_params {
	enum ipump_sim_bus bus;
	u32 num_channels;
	u32 reservoir_nl;
	u32 nl_per_step;
	u32 occlusion_threshold_mmhg;
	u32 compliance_nl_per_mmhg;
	u32 fw_version;
	u32 watchdog_period_ms;
	u32 selftest;
	u64 serial;
};

enum ipump_sim_ch_knob {
	IPUMP_SIM_CH_OCCL_DOWN,
	IPUMP_SIM_CH_OCCL_UP,
	IPUMP_SIM_CH_AIR_BUBBLE,
	IPUMP_SIM_CH_DOOR_OPEN,
	IPUMP_SIM_CH_RESERVOIR,
	IPUMP_SIM_CH_STALL,
	IPUMP_SIM_CH_STALL_SILENT,
	IPUMP_SIM_CH_SPEED_ERROR,
	IPUMP_SIM_CH_FREE_FLOW,
	IPUMP_SIM_CH_HANDSET_PRESS,
	IPUMP_SIM_CH_TRAPPED,
	IPUMP_SIM_CH_RELEASED,
	IPUMP_SIM_CH_PRESSURE_DOWN,
	IPUMP_SIM_CH_PATIENT,
	IPUMP_SIM_CH_FREE_FLOW_TOTAL,
	IPUMP_SIM_CH_NR_KNOBS
};

enum ipump_sim_card_knob {
	IPUMP_SIM_TIME_NS,
	IPUMP_SIM_ADVANCE_MS,
	IPUMP_SIM_TIME_SCALE,
	IPUMP_SIM_MAINS,
	IPUMP_SIM_BATTERY_MINUTES,
	IPUMP_SIM_WDT_EXPIRE,
	IPUMP_SIM_IO_FAIL_EVERY,
	IPUMP_SIM_STUCK_ADDR,
	IPUMP_SIM_STUCK_VALUE,
	IPUMP_SIM_FLIP_ADDR,
	IPUMP_SIM_FLIP_MASK,
	IPUMP_SIM_IO_FAILURES,
	IPUMP_SIM_CTRL_REJECTED,
	IPUMP_SIM_NR_KNOBS
};

/* debugfs private data: which knob of which object */
struct ipump_sim_knob {
	void *obj;
	unsigned int id;
};

struct ipump_sim;

/**
 * struct ipump_sim_ch - one channel of the card model
 *
 * Everything but @sim, @index and @knobs is protected by the card's @lock.
 * Registers first, then motor state, then the line, then knobs.
 */
struct ipump_sim_ch {
	struct ipump_sim *sim;
	unsigned int index;
	struct ipump_sim_knob knobs[IPUMP_SIM_CH_NR_KNOBS];

	u32 rate;
	u32 bolus_volume;
	u32 bolus_rate;
	u32 bolus_delivered;
	u32 reservoir;
	u32 step_count;
	u32 alarm_status;
	u32 alarm_mask;
	u32 cond;		/* ALARM_COND as last evaluated */
	u32 handset_count;
	u32 occl_threshold;
	u32 air_threshold;
	u32 res_low;
	u32 air_last;
	u32 air_total;		/* AIR_TOTAL_NL: every bubble, wraps */
	bool air_present;
	u64 delivered;		/* net motor displacement, nL */
	u32 delivered_hi;	/* latched by a read of DELIVERED_LO */

	bool run;		/* basal commanded */
	bool bolus;		/* bolus in progress (also while paused) */
	bool paused;
	bool backoff;
	bool stopped_by_card;
	int dir;		/* motion last evaluated: 1, 0, -1 (backoff) */
	u64 acc_nl;		/* whole nL towards the next step, < nl_per_step */
	u64 acc_frac;		/* fraction of a nL, < IPUMP_SIM_UNIT */
	u64 stall_ns;		/* commanded but stalled for this long */

	u64 trapped_nl;		/* held in an occluded line */
	u64 released_nl;	/* released to the patient when it cleared */
	u64 patient_nl;		/* reached the patient, all causes */
	u64 free_flow_nl;	/* of which uncommanded */
	u64 ff_frac;		/* free-flow fraction of a nL, < NS_PER_H */
	u32 bubble_nl;		/* injected, not yet at the sensor */

	bool occl_down;
	bool occl_up;
	bool door_open;
	bool stall;
	bool stall_silent;
	int speed_error_pct;
	u32 free_flow_rate;
};

/**
 * struct ipump_sim - one live simulated card: model, interrupt line, clock
 *
 * Lock order: @advance_lock, then the core's card lock, then @lock, then
 * @irq_lock. @lock is never held while calling into the core.
 */
struct ipump_sim {
	struct ipump_sim_params p;	/* fixed while the card exists */
	const char *name;		/* the configfs item's name */
	struct ipump_sim_knob knobs[IPUMP_SIM_NR_KNOBS];

	/* @lock: the model; regmap callbacks, knobs and the clock take it */
	struct mutex lock;
	u32 irq_enable;
	u32 card_alarm;
	u32 card_alarm_mask;
	u32 card_cond;
	u32 wdt_period_ms;
	u32 serial_hi;			/* latched by a read of SERIAL_LO */
	u64 wdt_elapsed_ns;		/* since the last keepalive */
	bool wdt_fired;
	bool mains;
	u32 battery_minutes;
	u64 battery_ns;			/* towards the next minute on battery */
	u32 io_fail_every;
	u32 io_count;
	u64 io_failures;
	s32 stuck_addr;			/* -1: none */
	u32 stuck_value;
	s32 flip_addr;			/* -1: none */
	u32 flip_mask;
	u64 ctrl_rejected;
	char card_name[32];		/* the core's class device, "" if none */
	struct ipump_sim_ch ch[IPUMP_MAX_CHANNELS];

	/* written under @lock, read locklessly by the core's clock calls */
	atomic64_t now_ns;
	atomic64_t deadline_ns;		/* armed by the core, U64_MAX: none */

	/* @irq_lock (raw: irq_chip callbacks): @level and @masked */
	raw_spinlock_t irq_lock;
	bool level;			/* (IRQ_STATUS & IRQ_ENABLE) != 0 */
	bool masked;
	struct irq_work irq_work;
	struct fwnode_handle *fwnode;
	struct irq_domain *domain;
	unsigned int virq;

	/* @advance_lock: serialises advancers and probe/remove; @card */
	struct mutex advance_lock;
	struct ipump_card *card;
	int probe_err;
	bool stopping;			/* being torn down: advancers give up */

	struct delayed_work scale_work;
	u32 time_scale;			/* 0: off; virtual ms per real ms */
	unsigned long scale_last;	/* jiffies of the last scaled advance */

	struct platform_device *pdev;
	struct dentry *debugfs;
	struct ipump_sim_spi *spi;	/* bus "spi": the controller, else NULL */
};

/* ipump_sim_model.c */
void ipump_sim_model_init(struct ipump_sim *sim);
int ipump_sim_reg_read(void *ctx, unsigned int reg, unsigned int *val);
int ipump_sim_reg_write(void *ctx, unsigned int reg, unsigned int val);
u64 ipump_sim_model_run(struct ipump_sim *sim, u64 max_ns);
int ipump_sim_ch_knob_get(struct ipump_sim_ch *ch, unsigned int id, u64 *val);
int ipump_sim_ch_knob_set(struct ipump_sim_ch *ch, unsigned int id, u64 val);
int ipump_sim_knob_get(struct ipump_sim *sim, unsigned int id, u64 *val);
int ipump_sim_knob_set(struct ipump_sim *sim, unsigned int id, u64 val);

/* ipump_sim_main.c */
void ipump_sim_default_params(struct ipump_sim_params *p);
struct ipump_sim *ipump_sim_create(const struct ipump_sim_params *p,
				   const char *name,
				   struct fwnode_handle *irq_fwnode);
void ipump_sim_stop(struct ipump_sim *sim);
void ipump_sim_destroy(struct ipump_sim *sim);
u64 ipump_sim_now(struct ipump_sim *sim);
void ipump_sim_irq_set_level(struct ipump_sim *sim, bool level);
void ipump_sim_irq_sync(struct ipump_sim *sim);
int ipump_sim_advance(struct ipump_sim *sim, u64 ns);
int ipump_sim_set_time_scale(struct ipump_sim *sim, u64 scale);
void ipump_sim_print_objects(struct seq_file *s);

extern const struct ipump_clock_ops ipump_sim_clock_ops;

/* ipump_sim_spi.c */
#define IPUMP_SIM_SPI_DRV_NAME	"ipump-sim-spi"
int ipump_sim_spi_init(void);
void ipump_sim_spi_exit(void);
void ipump_sim_spi_debugfs_add(struct ipump_sim *sim);
void ipump_sim_spi_print_objects(struct seq_file *s);

/* ipump_sim_debugfs.c */
void ipump_sim_debugfs_init(void);
void ipump_sim_debugfs_exit(void);
void ipump_sim_debugfs_add(struct ipump_sim *sim);
void ipump_sim_debugfs_remove(struct ipump_sim *sim);

#endif /* _IPUMP_SIM_H */
