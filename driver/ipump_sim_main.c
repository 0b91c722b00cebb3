// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_sim: simulated ipump cards, created through configfs
 * (/sys/kernel/config/ipump-sim/<name>), in the spirit of gpio-sim.
 *
 * Going live creates the card's model and its own one-line IRQ domain and
 * registers an "ipump-sim" platform device; its driver, in this module,
 * hands the core a regmap into the model, the IRQ and a virtual clock that
 * tests advance through debugfs. See Documentation/driver-api/ipump-sim.rst.
 */
#include <linux/configfs.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/regmap.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "ipump_core.h"
#include "ipump_sim.h"

#define IPUMP_SIM_DRV_NAME		"ipump-sim"
#define IPUMP_SIM_WDT_PROP		"ipump,watchdog-period-ms"
#define IPUMP_SIM_SERIAL_BASE		0x4950534d00000000ULL	/* "IPSM" */
#define IPUMP_SIM_MAX_SCALE		1000
#define IPUMP_SIM_SCALE_PERIOD_MS	100
/* rounds of interrupt delivery per sync; the core masks a line it cannot clear */
#define IPUMP_SIM_IRQ_ROUNDS		16
/* expiries at one virtual instant before a misbehaving deadline is skipped */
#define IPUMP_SIM_MAX_EXPIRED		8

/* live objects, for leak checks (debugfs "objects") */
static atomic_t ipump_sim_nr_cards = ATOMIC_INIT(0);
static atomic_t ipump_sim_nr_models = ATOMIC_INIT(0);
static atomic_t ipump_sim_nr_domains = ATOMIC_INIT(0);
static atomic_t ipump_sim_nr_devices = ATOMIC_INIT(0);

static atomic64_t ipump_sim_serial_seq = ATOMIC64_INIT(0);
static DEFINE_IDA(ipump_sim_ida);

void ipump_sim_print_objects(struct seq_file *s)
{
	seq_printf(s, "cards %d\nmodels %d\ndomains %d\ndevices %d\n",
		   atomic_read(&ipump_sim_nr_cards),
		   atomic_read(&ipump_sim_nr_models),
		   atomic_read(&ipump_sim_nr_domains),
		   atomic_read(&ipump_sim_nr_devices));
	ipump_sim_spi_print_objects(s);
}

/* ---- the interrupt line: level-triggered, raised from hard irq_work */

static void ipump_sim_irq_mask(struct irq_data *d)
{
	struct ipump_sim *sim = irq_data_get_irq_chip_data(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&sim->irq_lock, flags);
	sim->masked = true;
	raw_spin_unlock_irqrestore(&sim->irq_lock, flags);
}

static void ipump_sim_irq_unmask(struct irq_data *d)
{
	struct ipump_sim *sim = irq_data_get_irq_chip_data(d);
	unsigned long flags;
	bool fire;

	raw_spin_lock_irqsave(&sim->irq_lock, flags);
	sim->masked = false;
	fire = sim->level;
	raw_spin_unlock_irqrestore(&sim->irq_lock, flags);
	/* a level that is still asserted fires again */
	if (fire)
		irq_work_queue(&sim->irq_work);
}

static const struct irq_chip ipump_sim_irq_chip = {
	.name		= "ipump-sim",
	.irq_mask	= ipump_sim_irq_mask,
	.irq_unmask	= ipump_sim_irq_unmask,
	.flags		= IRQCHIP_SKIP_SET_WAKE,
};

static void ipump_sim_irq_work_fn(struct irq_work *work)
{
	struct ipump_sim *sim = container_of(work, struct ipump_sim, irq_work);
	unsigned long flags;
	bool fire;

	raw_spin_lock_irqsave(&sim->irq_lock, flags);
	fire = sim->level && !sim->masked;
	raw_spin_unlock_irqrestore(&sim->irq_lock, flags);
	if (fire)
		generic_handle_domain_irq_safe(sim->domain, 0);
}

/* Called by the model, under its lock, whenever the level may change. */
void ipump_sim_irq_set_level(struct ipump_sim *sim, bool level)
{
	unsigned long flags;
	bool fire;

	raw_spin_lock_irqsave(&sim->irq_lock, flags);
	sim->level = level;
	fire = level && !sim->masked;
	raw_spin_unlock_irqrestore(&sim->irq_lock, flags);
	if (fire)
		irq_work_queue(&sim->irq_work);
}

static bool ipump_sim_irq_pending(struct ipump_sim *sim)
{
	unsigned long flags;
	bool pending;

	raw_spin_lock_irqsave(&sim->irq_lock, flags);
	pending = sim->level && !sim->masked;
	raw_spin_unlock_irqrestore(&sim->irq_lock, flags);
	return pending;
}

/*
 * Returns once the core's threaded handler has dealt with what the line
 * shows. Must be called without the model lock: the handler reads and
 * writes registers.
 */
void ipump_sim_irq_sync(struct ipump_sim *sim)
{
	unsigned int i;

	for (i = 0; i < IPUMP_SIM_IRQ_ROUNDS; i++) {
		irq_work_sync(&sim->irq_work);
		synchronize_irq(sim->virq);
		if (!ipump_sim_irq_pending(sim))
			return;
		irq_work_queue(&sim->irq_work);
	}
}

static int ipump_sim_irq_map(struct irq_domain *d, unsigned int virq,
			     irq_hw_number_t hw)
{
	irq_set_chip_data(virq, d->host_data);
	irq_set_chip_and_handler(virq, &ipump_sim_irq_chip, handle_level_irq);
	irq_set_status_flags(virq, IRQ_LEVEL);
	irq_set_noprobe(virq);
	return 0;
}

static void ipump_sim_irq_unmap(struct irq_domain *d, unsigned int virq)
{
	irq_set_chip_and_handler(virq, NULL, NULL);
	irq_set_chip_data(virq, NULL);
}

static const struct irq_domain_ops ipump_sim_domain_ops = {
	.map	= ipump_sim_irq_map,
	.unmap	= ipump_sim_irq_unmap,
	/* one cell, or two with the trigger type (device tree, LEVEL_HIGH) */
	.xlate	= irq_domain_xlate_onetwocell,
};

/* ---- the virtual clock */

u64 ipump_sim_now(struct ipump_sim *sim)
{
	return (u64)atomic64_read(&sim->now_ns);
}

static u64 ipump_sim_clock_now(void *priv)
{
	return ipump_sim_now(priv);
}

/* Called with the core's card lock held: only record the deadline. */
static void ipump_sim_clock_arm(void *priv, u64 deadline_ns)
{
	struct ipump_sim *sim = priv;

	atomic64_set(&sim->deadline_ns, (s64)deadline_ns);
}

/* also handed to the SPI glue by ipump_sim_spi.c */
const struct ipump_clock_ops ipump_sim_clock_ops = {
	.name	= "simulated",
	.now_ns	= ipump_sim_clock_now,
	.arm	= ipump_sim_clock_arm,
};

/**
 * ipump_sim_advance() - advance virtual time by exactly @ns
 * @sim: the card
 * @ns: how far
 *
 * Stops at every deadline the core armed and at every event of the model;
 * when it returns, the core has handled every timer and every interrupt
 * up to the new time.
 *
 * Return: 0, -ERANGE if the clock would overflow, -EINTR on a fatal
 * signal or -ENODEV when the card is being removed (time has then
 * advanced only partly).
 */
int ipump_sim_advance(struct ipump_sim *sim, u64 ns)
{
	unsigned int expired = 0;
	u64 now, target, dl, end;
	int ret = 0;

	mutex_lock(&sim->advance_lock);
	now = ipump_sim_now(sim);
	if (check_add_overflow(now, ns, &target)) {
		ret = -ERANGE;
		goto out;
	}
	for (;;) {
		dl = (u64)atomic64_read(&sim->deadline_ns);
		if (sim->card && dl <= now && expired < IPUMP_SIM_MAX_EXPIRED) {
			expired++;
			ipump_card_clock_expired(sim->card);
			ipump_sim_irq_sync(sim);
			continue;
		}
		if (now >= target)
			break;
		if (READ_ONCE(sim->stopping)) {
			ret = -ENODEV;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		end = dl > now && dl < target ? dl : target;
		now += ipump_sim_model_run(sim, end - now);
		expired = 0;
		ipump_sim_irq_sync(sim);
		cond_resched();
	}
out:
	mutex_unlock(&sim->advance_lock);
	return ret;
}

/* Optional free-running mode for demos: virtual time follows real time. */
static void ipump_sim_scale_fn(struct work_struct *work)
{
	struct ipump_sim *sim = container_of(to_delayed_work(work),
					     struct ipump_sim, scale_work);
	u32 scale = READ_ONCE(sim->time_scale);
	unsigned long now = jiffies;
	u64 ms;

	if (!scale)
		return;
	ms = jiffies_to_msecs(min_t(unsigned long, now - sim->scale_last, HZ));
	sim->scale_last = now;
	if (ipump_sim_advance(sim, ms * scale * NSEC_PER_MSEC))
		return;
	queue_delayed_work(system_wq, &sim->scale_work,
			   msecs_to_jiffies(IPUMP_SIM_SCALE_PERIOD_MS));
}

int ipump_sim_set_time_scale(struct ipump_sim *sim, u64 scale)
{
	if (scale > IPUMP_SIM_MAX_SCALE)
		return -EINVAL;
	if (!scale) {
		WRITE_ONCE(sim->time_scale, 0);
		return 0;
	}
	if (!READ_ONCE(sim->time_scale))
		sim->scale_last = jiffies;
	WRITE_ONCE(sim->time_scale, scale);
	mod_delayed_work(system_wq, &sim->scale_work,
			 msecs_to_jiffies(IPUMP_SIM_SCALE_PERIOD_MS));
	return 0;
}

/* ---- the model's lifetime */

/* Frees a model made by ipump_sim_create(), after its device has gone. */
void ipump_sim_destroy(struct ipump_sim *sim)
{
	irq_work_sync(&sim->irq_work);
	if (sim->virq)
		irq_dispose_mapping(sim->virq);
	if (sim->domain) {
		irq_domain_remove(sim->domain);
		atomic_dec(&ipump_sim_nr_domains);
	}
	if (sim->fwnode)
		irq_domain_free_fwnode(sim->fwnode);
	mutex_destroy(&sim->advance_lock);
	mutex_destroy(&sim->lock);
	kfree(sim->name);
	kfree(sim);
	atomic_dec(&ipump_sim_nr_models);
}

/**
 * ipump_sim_create() - make a card model with its IRQ domain and interrupt
 * @p: its parameters
 * @name: its name (configfs item, debugfs directory)
 * @irq_fwnode: the firmware node of the interrupt controller that the IRQ
 *	domain stands for (a device tree node), or NULL for a named one
 *
 * Return: the model, or an ERR_PTR().
 */
struct ipump_sim *ipump_sim_create(const struct ipump_sim_params *p,
				   const char *name,
				   struct fwnode_handle *irq_fwnode)
{
	struct ipump_sim *sim;
	char *fwname;

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return ERR_PTR(-ENOMEM);
	atomic_inc(&ipump_sim_nr_models);
	sim->p = *p;
	mutex_init(&sim->lock);
	mutex_init(&sim->advance_lock);
	raw_spin_lock_init(&sim->irq_lock);
	sim->masked = true;	/* until the IRQ is started */
	sim->irq_work = IRQ_WORK_INIT_HARD(ipump_sim_irq_work_fn);
	INIT_DELAYED_WORK(&sim->scale_work, ipump_sim_scale_fn);

	sim->name = kstrdup(name, GFP_KERNEL);
	if (!sim->name)
		goto err;
	if (!irq_fwnode) {
		fwname = kasprintf(GFP_KERNEL, "ipump-sim-%s", name);
		if (!fwname)
			goto err;
		/* ours to free: ipump_sim_destroy() frees sim->fwnode */
		sim->fwnode = irq_domain_alloc_named_fwnode(fwname);
		kfree(fwname);
		if (!sim->fwnode)
			goto err;
		irq_fwnode = sim->fwnode;
	}
	sim->domain = irq_domain_create_linear(irq_fwnode, 1,
					       &ipump_sim_domain_ops, sim);
	if (!sim->domain)
		goto err;
	atomic_inc(&ipump_sim_nr_domains);
	sim->virq = irq_create_mapping(sim->domain, 0);
	if (!sim->virq)
		goto err;

	ipump_sim_model_init(sim);
	return sim;
err:
	ipump_sim_destroy(sim);
	return ERR_PTR(-ENOMEM);
}

/* The documented defaults; every call gives a new serial number. */
void ipump_sim_default_params(struct ipump_sim_params *p)
{
	*p = (struct ipump_sim_params) {
		.num_channels			= 1,
		.reservoir_nl			= 20000000,
		.nl_per_step			= 25,
		.occlusion_threshold_mmhg	= 300,
		.compliance_nl_per_mmhg		= 500,
		.fw_version			= 0x010200,
		.watchdog_period_ms		= 1000,
		.serial				= IPUMP_SIM_SERIAL_BASE +
			atomic64_inc_return(&ipump_sim_serial_seq),
	};
}

/* ---- the platform driver */

static const struct regmap_config ipump_sim_regmap_config = {
	.reg_bits	= 32,
	.val_bits	= 32,
	.reg_stride	= 4,
	.max_register	= IPUMP_REG_MAX,
	.reg_read	= ipump_sim_reg_read,
	.reg_write	= ipump_sim_reg_write,
	.cache_type	= REGCACHE_NONE,
};

static int ipump_sim_probe(struct platform_device *pdev)
{
	struct ipump_sim * const *simp = dev_get_platdata(&pdev->dev);
	struct ipump_card_config cfg = { .clock = &ipump_sim_clock_ops };
	struct ipump_card *card;
	struct ipump_sim *sim;
	int ret;

	/* only devices this module made carry the model */
	if (!simp || !*simp)
		return -ENODEV;
	sim = *simp;
	cfg.clock_priv = sim;

	cfg.regmap = devm_regmap_init(&pdev->dev, NULL, sim,
				      &ipump_sim_regmap_config);
	if (IS_ERR(cfg.regmap)) {
		ret = PTR_ERR(cfg.regmap);
		goto err;
	}
	ret = platform_get_irq(pdev, 0);
	if (ret < 0)
		goto err;
	cfg.irq = ret;

	mutex_lock(&sim->advance_lock);
	card = ipump_card_register(&pdev->dev, &cfg);
	if (!IS_ERR(card))
		sim->card = card;
	mutex_unlock(&sim->advance_lock);
	if (IS_ERR(card)) {
		ret = PTR_ERR(card);
		goto err;
	}

	mutex_lock(&sim->lock);
	strscpy(sim->card_name, ipump_card_name(card), sizeof(sim->card_name));
	mutex_unlock(&sim->lock);
	platform_set_drvdata(pdev, sim);
	sim->probe_err = 0;
	return 0;
err:
	sim->probe_err = ret;
	return dev_err_probe(&pdev->dev, ret, "cannot register the card\n");
}

static void ipump_sim_remove(struct platform_device *pdev)
{
	struct ipump_sim *sim = platform_get_drvdata(pdev);

	mutex_lock(&sim->lock);
	sim->card_name[0] = '\0';
	mutex_unlock(&sim->lock);

	/* serialised with ipump_card_clock_expired() */
	mutex_lock(&sim->advance_lock);
	ipump_card_unregister(sim->card);
	sim->card = NULL;
	atomic64_set(&sim->deadline_ns, (s64)U64_MAX);
	mutex_unlock(&sim->advance_lock);
}

static struct platform_driver ipump_sim_driver = {
	.driver = {
		.name		= IPUMP_SIM_DRV_NAME,
		/* activation reports the probe result to the writer of live */
		.probe_type	= PROBE_FORCE_SYNCHRONOUS,
	},
	.probe		= ipump_sim_probe,
	.remove_new	= ipump_sim_remove,
};

/* ---- configfs */

/**
 * struct ipump_sim_cfg - a card as configured in configfs
 * @group: /sys/kernel/config/ipump-sim/<name>
 * @id: platform device id, "ipump-sim.<id>"
 * @lock: protects @p and @sim
 * @p: settings for the next activation
 * @sim: the live card, NULL while not live
 */
struct ipump_sim_cfg {
	struct config_group group;
	int id;
	struct mutex lock;	/* @p, @sim; held across (de)activation */
	struct ipump_sim_params p;
	struct ipump_sim *sim;
};

static struct ipump_sim_cfg *to_ipump_sim_cfg(struct config_item *item)
{
	return container_of(to_config_group(item), struct ipump_sim_cfg, group);
}

static int ipump_sim_activate(struct ipump_sim_cfg *cfg)
{
	const struct property_entry props[] = {
		PROPERTY_ENTRY_U32(IPUMP_SIM_WDT_PROP,
				   cfg->p.watchdog_period_ms),
		{ }
	};
	struct platform_device_info info = {
		.name		= cfg->p.bus == IPUMP_SIM_BUS_SPI ?
				  IPUMP_SIM_SPI_DRV_NAME : IPUMP_SIM_DRV_NAME,
		.id		= cfg->id,
		.num_res	= 1,
		.properties	= props,
	};
	struct platform_device *pdev;
	struct resource res;
	struct ipump_sim *sim;
	bool bound;
	int ret;

	sim = ipump_sim_create(&cfg->p, config_item_name(&cfg->group.cg_item),
			       NULL);
	if (IS_ERR(sim))
		return PTR_ERR(sim);
	res = (struct resource)DEFINE_RES_IRQ(sim->virq);
	info.res = &res;
	info.data = &sim;
	info.size_data = sizeof(sim);

	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto err_destroy;
	}
	atomic_inc(&ipump_sim_nr_devices);
	/*
	 * The probe is synchronous, so its result is known here. 6.1 does
	 * not export device_is_bound(); dev->driver, read under the device
	 * lock, says the same.
	 */
	device_lock(&pdev->dev);
	bound = pdev->dev.driver;
	device_unlock(&pdev->dev);
	if (!bound) {
		ret = sim->probe_err ?: -ENXIO;
		platform_device_unregister(pdev);
		atomic_dec(&ipump_sim_nr_devices);
		goto err_destroy;
	}
	sim->pdev = pdev;
	ipump_sim_debugfs_add(sim);
	cfg->sim = sim;
	return 0;

err_destroy:
	ipump_sim_destroy(sim);
	return ret;
}

/* First step of a removal: no knob, advancer or scaled time any more. */
void ipump_sim_stop(struct ipump_sim *sim)
{
	WRITE_ONCE(sim->stopping, true);
	/* waits for knob writers and advancers still in there */
	ipump_sim_debugfs_remove(sim);
	WRITE_ONCE(sim->time_scale, 0);
	cancel_delayed_work_sync(&sim->scale_work);
}

static void ipump_sim_deactivate(struct ipump_sim_cfg *cfg)
{
	struct ipump_sim *sim = cfg->sim;

	ipump_sim_stop(sim);
	/* the core lets go of the regmap, the IRQ and the clock here */
	platform_device_unregister(sim->pdev);
	atomic_dec(&ipump_sim_nr_devices);
	ipump_sim_destroy(sim);
	cfg->sim = NULL;
}

/* Every refusal, out of range included, is -EINVAL. */
static int ipump_sim_parse_u32(const char *page, unsigned int base, u32 min,
			       u32 max, u32 *val)
{
	if (kstrtou32(page, base, val) || *val < min || *val > max)
		return -EINVAL;
	return 0;
}

/* a u32 setting of struct ipump_sim_params, refused while live */
#define IPUMP_SIM_CFG_U32(_name, _base, _min, _max)			\
static ssize_t ipump_sim_cfg_##_name##_show(struct config_item *item,	\
					    char *page)			\
{									\
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);		\
	u32 val;							\
									\
	mutex_lock(&cfg->lock);						\
	val = cfg->p._name;						\
	mutex_unlock(&cfg->lock);					\
	return sysfs_emit(page, "%u\n", val);				\
}									\
									\
static ssize_t ipump_sim_cfg_##_name##_store(struct config_item *item,	\
					     const char *page,		\
					     size_t count)		\
{									\
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);		\
	u32 val;							\
	int ret;							\
									\
	ret = ipump_sim_parse_u32(page, _base, _min, _max, &val);	\
	if (ret)							\
		return ret;						\
	mutex_lock(&cfg->lock);						\
	if (cfg->sim) {							\
		ret = -EBUSY;						\
	} else {							\
		cfg->p._name = val;					\
		ret = count;						\
	}								\
	mutex_unlock(&cfg->lock);					\
	return ret;							\
}									\
									\
CONFIGFS_ATTR(ipump_sim_cfg_, _name)

IPUMP_SIM_CFG_U32(num_channels, 10, 1, IPUMP_MAX_CHANNELS);
IPUMP_SIM_CFG_U32(reservoir_nl, 10, 1, 4000000000U);
IPUMP_SIM_CFG_U32(nl_per_step, 10, 1, 1000000);
IPUMP_SIM_CFG_U32(occlusion_threshold_mmhg, 10, 1, 10000);
IPUMP_SIM_CFG_U32(compliance_nl_per_mmhg, 10, 1, 1000000);
IPUMP_SIM_CFG_U32(fw_version, 0, 0, U32_MAX);
IPUMP_SIM_CFG_U32(watchdog_period_ms, 10, 0, U32_MAX);
IPUMP_SIM_CFG_U32(selftest, 0, 0, U32_MAX);

static ssize_t ipump_sim_cfg_serial_show(struct config_item *item, char *page)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	u64 val;

	mutex_lock(&cfg->lock);
	val = cfg->p.serial;
	mutex_unlock(&cfg->lock);
	return sysfs_emit(page, "%llu\n", val);
}

static ssize_t ipump_sim_cfg_serial_store(struct config_item *item,
					  const char *page, size_t count)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	u64 val;
	int ret;

	if (kstrtou64(page, 0, &val))
		return -EINVAL;
	mutex_lock(&cfg->lock);
	if (cfg->sim) {
		ret = -EBUSY;
	} else {
		cfg->p.serial = val;
		ret = count;
	}
	mutex_unlock(&cfg->lock);
	return ret;
}

CONFIGFS_ATTR(ipump_sim_cfg_, serial);

static ssize_t ipump_sim_cfg_live_show(struct config_item *item, char *page)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	bool live;

	mutex_lock(&cfg->lock);
	live = cfg->sim;
	mutex_unlock(&cfg->lock);
	return sysfs_emit(page, "%d\n", live);
}

static ssize_t ipump_sim_cfg_live_store(struct config_item *item,
					const char *page, size_t count)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	bool live;
	int ret;

	ret = kstrtobool(page, &live);
	if (ret)
		return ret;
	mutex_lock(&cfg->lock);
	if (live && cfg->sim)
		ret = -EBUSY;
	else if (live)
		ret = ipump_sim_activate(cfg);
	else if (cfg->sim)
		ipump_sim_deactivate(cfg);
	mutex_unlock(&cfg->lock);
	return ret ?: count;
}

CONFIGFS_ATTR(ipump_sim_cfg_, live);

static const char * const ipump_sim_bus_names[] = {
	[IPUMP_SIM_BUS_PLATFORM]	= "platform",
	[IPUMP_SIM_BUS_SPI]		= "spi",
};

static ssize_t ipump_sim_cfg_bus_show(struct config_item *item, char *page)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	enum ipump_sim_bus bus;

	mutex_lock(&cfg->lock);
	bus = cfg->p.bus;
	mutex_unlock(&cfg->lock);
	return sysfs_emit(page, "%s\n", ipump_sim_bus_names[bus]);
}

static ssize_t ipump_sim_cfg_bus_store(struct config_item *item,
				       const char *page, size_t count)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	int bus, ret;

	bus = sysfs_match_string(ipump_sim_bus_names, page);
	if (bus < 0)
		return -EINVAL;
	mutex_lock(&cfg->lock);
	if (cfg->sim) {
		ret = -EBUSY;
	} else {
		cfg->p.bus = bus;
		ret = count;
	}
	mutex_unlock(&cfg->lock);
	return ret;
}

CONFIGFS_ATTR(ipump_sim_cfg_, bus);

static ssize_t ipump_sim_cfg_dev_name_show(struct config_item *item,
					   char *page)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sysfs_emit(page, "%s\n",
			 cfg->sim ? dev_name(&cfg->sim->pdev->dev) : "");
	mutex_unlock(&cfg->lock);
	return ret;
}

CONFIGFS_ATTR_RO(ipump_sim_cfg_, dev_name);

static ssize_t ipump_sim_cfg_card_show(struct config_item *item, char *page)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);
	struct ipump_sim *sim;
	ssize_t ret;

	mutex_lock(&cfg->lock);
	sim = cfg->sim;
	if (sim) {
		mutex_lock(&sim->lock);
		ret = sysfs_emit(page, "%s\n", sim->card_name);
		mutex_unlock(&sim->lock);
	} else {
		ret = sysfs_emit(page, "\n");
	}
	mutex_unlock(&cfg->lock);
	return ret;
}

CONFIGFS_ATTR_RO(ipump_sim_cfg_, card);

static struct configfs_attribute *ipump_sim_cfg_attrs[] = {
	&ipump_sim_cfg_attr_num_channels,
	&ipump_sim_cfg_attr_reservoir_nl,
	&ipump_sim_cfg_attr_nl_per_step,
	&ipump_sim_cfg_attr_occlusion_threshold_mmhg,
	&ipump_sim_cfg_attr_compliance_nl_per_mmhg,
	&ipump_sim_cfg_attr_serial,
	&ipump_sim_cfg_attr_fw_version,
	&ipump_sim_cfg_attr_watchdog_period_ms,
	&ipump_sim_cfg_attr_selftest,
	&ipump_sim_cfg_attr_bus,
	&ipump_sim_cfg_attr_live,
	&ipump_sim_cfg_attr_dev_name,
	&ipump_sim_cfg_attr_card,
	NULL
};

static void ipump_sim_cfg_release(struct config_item *item)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);

	mutex_destroy(&cfg->lock);
	ida_free(&ipump_sim_ida, cfg->id);
	kfree(cfg);
	atomic_dec(&ipump_sim_nr_cards);
}

static struct configfs_item_operations ipump_sim_cfg_item_ops = {
	.release	= ipump_sim_cfg_release,
};

static const struct config_item_type ipump_sim_cfg_type = {
	.ct_item_ops	= &ipump_sim_cfg_item_ops,
	.ct_attrs	= ipump_sim_cfg_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_group *ipump_sim_make_group(struct config_group *group,
						 const char *name)
{
	struct ipump_sim_cfg *cfg;
	int id;

	/* the name is also the card's debugfs directory, next to "objects" */
	if (!strcmp(name, "objects"))
		return ERR_PTR(-EINVAL);

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return ERR_PTR(-ENOMEM);
	id = ida_alloc(&ipump_sim_ida, GFP_KERNEL);
	if (id < 0) {
		kfree(cfg);
		return ERR_PTR(id);
	}
	cfg->id = id;
	mutex_init(&cfg->lock);
	ipump_sim_default_params(&cfg->p);
	config_group_init_type_name(&cfg->group, name, &ipump_sim_cfg_type);
	atomic_inc(&ipump_sim_nr_cards);
	return &cfg->group;
}

/* rmdir: no attribute access is in flight or can start any more */
static void ipump_sim_drop_item(struct config_group *group,
				struct config_item *item)
{
	struct ipump_sim_cfg *cfg = to_ipump_sim_cfg(item);

	mutex_lock(&cfg->lock);
	if (cfg->sim)
		ipump_sim_deactivate(cfg);
	mutex_unlock(&cfg->lock);
	config_item_put(item);
}

static struct configfs_group_operations ipump_sim_subsys_group_ops = {
	.make_group	= ipump_sim_make_group,
	.drop_item	= ipump_sim_drop_item,
};

static const struct config_item_type ipump_sim_subsys_type = {
	.ct_group_ops	= &ipump_sim_subsys_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem ipump_sim_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= "ipump-sim",
			.ci_type	= &ipump_sim_subsys_type,
		},
	},
};

/* ---- module */

static int __init ipump_sim_init(void)
{
	int ret;

	ipump_sim_debugfs_init();
	ret = platform_driver_register(&ipump_sim_driver);
	if (ret)
		goto err_debugfs;
	ret = ipump_sim_spi_init();
	if (ret)
		goto err_platform;

	config_group_init(&ipump_sim_subsys.su_group);
	mutex_init(&ipump_sim_subsys.su_mutex);
	ret = configfs_register_subsystem(&ipump_sim_subsys);
	if (ret)
		goto err_driver;
	return 0;

err_driver:
	mutex_destroy(&ipump_sim_subsys.su_mutex);
	ipump_sim_spi_exit();
err_platform:
	platform_driver_unregister(&ipump_sim_driver);
err_debugfs:
	ipump_sim_debugfs_exit();
	return ret;
}
module_init(ipump_sim_init);

static void __exit ipump_sim_exit(void)
{
	configfs_unregister_subsystem(&ipump_sim_subsys);
	mutex_destroy(&ipump_sim_subsys.su_mutex);
	ipump_sim_spi_exit();
	platform_driver_unregister(&ipump_sim_driver);
	ipump_sim_debugfs_exit();
	ida_destroy(&ipump_sim_ida);
}
module_exit(ipump_sim_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("ipump developers");
MODULE_DESCRIPTION("Simulated ipump infusion-pump interface card");
MODULE_VERSION("0.1.0");
