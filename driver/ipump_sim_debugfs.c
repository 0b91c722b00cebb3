// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_sim: debugfs, /sys/kernel/debug/ipump_sim/. The virtual clock and
 * the knobs that change the simulated world (occlusions, air, power,
 * register faults) live here, one directory per live card.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>

#include "ipump_sim.h"

struct ipump_sim_knob_desc {
	const char *name;
	umode_t mode;
	bool is_signed;
};

static const struct ipump_sim_knob_desc ipump_sim_knob_descs[] = {
	[IPUMP_SIM_TIME_NS]		= { "time_ns", 0444 },
	[IPUMP_SIM_ADVANCE_MS]		= { "advance_ms", 0200 },
	[IPUMP_SIM_TIME_SCALE]		= { "time_scale", 0644 },
	[IPUMP_SIM_MAINS]		= { "mains", 0644 },
	[IPUMP_SIM_BATTERY_MINUTES]	= { "battery_minutes", 0644 },
	[IPUMP_SIM_WDT_EXPIRE]		= { "wdt_expire", 0200 },
	[IPUMP_SIM_IO_FAIL_EVERY]	= { "io_fail_every", 0644 },
	[IPUMP_SIM_STUCK_ADDR]		= { "stuck_reg_addr", 0644, true },
	[IPUMP_SIM_STUCK_VALUE]		= { "stuck_reg_value", 0644 },
	[IPUMP_SIM_FLIP_ADDR]		= { "flip_reg_addr", 0644, true },
	[IPUMP_SIM_FLIP_MASK]		= { "flip_mask", 0644 },
	[IPUMP_SIM_IO_FAILURES]		= { "io_failures", 0444 },
	[IPUMP_SIM_CTRL_REJECTED]	= { "ctrl_rejected", 0444 },
};

static_assert(ARRAY_SIZE(ipump_sim_knob_descs) == IPUMP_SIM_NR_KNOBS);

static const struct ipump_sim_knob_desc ipump_sim_ch_knob_descs[] = {
	[IPUMP_SIM_CH_OCCL_DOWN]	= { "occlusion_down", 0644 },
	[IPUMP_SIM_CH_OCCL_UP]		= { "occlusion_up", 0644 },
	[IPUMP_SIM_CH_AIR_BUBBLE]	= { "air_bubble_nl", 0200 },
	[IPUMP_SIM_CH_DOOR_OPEN]	= { "door_open", 0644 },
	[IPUMP_SIM_CH_RESERVOIR]	= { "reservoir_nl", 0644 },
	[IPUMP_SIM_CH_STALL]		= { "stall", 0644 },
	[IPUMP_SIM_CH_STALL_SILENT]	= { "stall_silent", 0644 },
	[IPUMP_SIM_CH_SPEED_ERROR]	= { "speed_error_pct", 0644, true },
	[IPUMP_SIM_CH_FREE_FLOW]	= { "free_flow_nl_per_h", 0644 },
	[IPUMP_SIM_CH_HANDSET_PRESS]	= { "handset_press", 0200 },
	[IPUMP_SIM_CH_TRAPPED]		= { "trapped_nl", 0444 },
	[IPUMP_SIM_CH_RELEASED]		= { "released_nl", 0444 },
	[IPUMP_SIM_CH_PRESSURE_DOWN]	= { "pressure_down_mmhg", 0444 },
	[IPUMP_SIM_CH_PATIENT]		= { "patient_delivered_nl", 0444 },
	[IPUMP_SIM_CH_FREE_FLOW_TOTAL]	= { "free_flow_nl", 0444 },
};

static_assert(ARRAY_SIZE(ipump_sim_ch_knob_descs) == IPUMP_SIM_CH_NR_KNOBS);

static struct dentry *ipump_sim_debugfs_root;

/* ---- card-wide knobs */

static int ipump_sim_knob_read(void *data, u64 *val)
{
	struct ipump_sim_knob *k = data;
	struct ipump_sim *sim = k->obj;

	switch (k->id) {
	case IPUMP_SIM_TIME_NS:
		*val = ipump_sim_now(sim);
		return 0;
	case IPUMP_SIM_TIME_SCALE:
		*val = READ_ONCE(sim->time_scale);
		return 0;
	default:
		return ipump_sim_knob_get(sim, k->id, val);
	}
}

static int ipump_sim_knob_write(void *data, u64 val)
{
	struct ipump_sim_knob *k = data;
	struct ipump_sim *sim = k->obj;
	int ret;

	switch (k->id) {
	case IPUMP_SIM_ADVANCE_MS:
		if (val > U64_MAX / NSEC_PER_MSEC)
			return -ERANGE;
		return ipump_sim_advance(sim, val * NSEC_PER_MSEC);
	case IPUMP_SIM_TIME_SCALE:
		return ipump_sim_set_time_scale(sim, val);
	default:
		ret = ipump_sim_knob_set(sim, k->id, val);
		/* the core has seen what the knob caused when the write returns */
		if (!ret)
			ipump_sim_irq_sync(sim);
		return ret;
	}
}

DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_rw_fops, ipump_sim_knob_read,
			 ipump_sim_knob_write, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_ro_fops, ipump_sim_knob_read, NULL,
			 "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_wo_fops, NULL, ipump_sim_knob_write,
			 "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(ipump_sim_signed_fops, ipump_sim_knob_read,
				ipump_sim_knob_write, "%lld\n");

/* ---- per-channel knobs */

static int ipump_sim_ch_knob_read(void *data, u64 *val)
{
	struct ipump_sim_knob *k = data;

	return ipump_sim_ch_knob_get(k->obj, k->id, val);
}

static int ipump_sim_ch_knob_write(void *data, u64 val)
{
	struct ipump_sim_knob *k = data;
	struct ipump_sim_ch *ch = k->obj;
	int ret;

	ret = ipump_sim_ch_knob_set(ch, k->id, val);
	if (!ret)
		ipump_sim_irq_sync(ch->sim);
	return ret;
}

DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_ch_rw_fops, ipump_sim_ch_knob_read,
			 ipump_sim_ch_knob_write, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_ch_ro_fops, ipump_sim_ch_knob_read, NULL,
			 "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_ch_wo_fops, NULL, ipump_sim_ch_knob_write,
			 "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(ipump_sim_ch_signed_fops,
				ipump_sim_ch_knob_read,
				ipump_sim_ch_knob_write, "%lld\n");

static const struct file_operations *
ipump_sim_pick_fops(const struct ipump_sim_knob_desc *d,
		    const struct file_operations *fops[4])
{
	if (d->is_signed)
		return fops[3];
	if (!(d->mode & 0222))
		return fops[1];
	if (!(d->mode & 0444))
		return fops[2];
	return fops[0];
}

static const struct file_operations *ipump_sim_card_fops[4] = {
	&ipump_sim_rw_fops, &ipump_sim_ro_fops, &ipump_sim_wo_fops,
	&ipump_sim_signed_fops,
};

static const struct file_operations *ipump_sim_ch_fops[4] = {
	&ipump_sim_ch_rw_fops, &ipump_sim_ch_ro_fops, &ipump_sim_ch_wo_fops,
	&ipump_sim_ch_signed_fops,
};

void ipump_sim_debugfs_add(struct ipump_sim *sim)
{
	const struct ipump_sim_knob_desc *d;
	struct dentry *chdir;
	unsigned int i, k;
	char name[8];

	sim->debugfs = debugfs_create_dir(sim->name, ipump_sim_debugfs_root);
	for (k = 0; k < IPUMP_SIM_NR_KNOBS; k++) {
		d = &ipump_sim_knob_descs[k];
		debugfs_create_file_unsafe(d->name, d->mode, sim->debugfs,
					   &sim->knobs[k],
					   ipump_sim_pick_fops(d, ipump_sim_card_fops));
	}
	for (i = 0; i < sim->p.num_channels; i++) {
		snprintf(name, sizeof(name), "ch%u", i);
		chdir = debugfs_create_dir(name, sim->debugfs);
		for (k = 0; k < IPUMP_SIM_CH_NR_KNOBS; k++) {
			d = &ipump_sim_ch_knob_descs[k];
			debugfs_create_file_unsafe(d->name, d->mode, chdir,
						   &sim->ch[i].knobs[k],
						   ipump_sim_pick_fops(d, ipump_sim_ch_fops));
		}
	}
	if (sim->spi)
		ipump_sim_spi_debugfs_add(sim);
}

/* Returns once no knob or clock access is in flight any more. */
void ipump_sim_debugfs_remove(struct ipump_sim *sim)
{
	debugfs_remove_recursive(sim->debugfs);
	sim->debugfs = NULL;
}

static int ipump_sim_objects_show(struct seq_file *s, void *unused)
{
	ipump_sim_print_objects(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ipump_sim_objects);

void ipump_sim_debugfs_init(void)
{
	ipump_sim_debugfs_root = debugfs_create_dir("ipump_sim", NULL);
	debugfs_create_file("objects", 0444, ipump_sim_debugfs_root, NULL,
			    &ipump_sim_objects_fops);
}

void ipump_sim_debugfs_exit(void)
{
	debugfs_remove_recursive(ipump_sim_debugfs_root);
}
