// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_sim: the simulated card on a simulated SPI bus.
 *
 * A card configured with bus = "spi" goes live as an "ipump-sim-spi"
 * platform device (the SPI controller's "hardware"). Its driver registers an
 * spi_controller and adds one spi_device, modalias "ipump-card", for the
 * real SPI glue (ipump_spi.ko) to bind to. The controller plays the card's
 * side of the wire protocol (Documentation/hardware/register-map.rst, "SPI
 * transport") independently of the glue: it decodes request frames from
 * MOSI, checks their CRC, forwards register accesses to the same card
 * model as the platform path and clocks the response out on MISO, with
 * wire-level fault injection (corrupted CRC, dropped response, stuck MISO).
 *
 * The controller can also come from the device tree (compatible
 * "ipump,sim-spi-controller", arm64 test VM): its driver then makes the
 * card model itself, with default parameters, and the SPI core creates the
 * card's device from the controller's child node for the glue.
 */
#include <linux/bitfield.h>
#include <linux/crc-ccitt.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kmod.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/seq_file.h>
#include <linux/spi/spi.h>
#include <linux/string.h>

#include <asm/unaligned.h>

#include "ipump_core.h"
#include "ipump_sim.h"
#include "ipump_spi_frame.h"

#define IPUMP_SIM_SPI_MODALIAS	"ipump-card"
#define IPUMP_SIM_SPI_WDT_PROP	"ipump,watchdog-period-ms"
#define IPUMP_SIM_SPI_NCH_PROP	"ipump,num-channels"
#define IPUMP_SIM_SPI_HZ	10000000

static atomic_t ipump_sim_nr_spi_controllers = ATOMIC_INIT(0);

enum ipump_sim_spi_knob {
	IPUMP_SIM_SPI_CORRUPT_EVERY,
	IPUMP_SIM_SPI_DROP_EVERY,
	IPUMP_SIM_SPI_STUCK_MISO,
	IPUMP_SIM_SPI_FRAMES,
	IPUMP_SIM_SPI_CORRUPTED,
	IPUMP_SIM_SPI_DROPPED,
	IPUMP_SIM_SPI_STUCK,
	IPUMP_SIM_SPI_BAD_CRC,
	IPUMP_SIM_SPI_REPLAYED,
	IPUMP_SIM_SPI_NR_KNOBS
};

/*
 * The simulated controller and the card's side of the wire.
 *
 * Lives in the controller's devdata. @lock protects everything below it;
 * lock order: @lock, then the model's lock. Transfers are serialised by the
 * SPI core; @lock orders them against the debugfs knobs.
 */
struct ipump_sim_spi {
	struct ipump_sim *sim;
	struct spi_controller *ctlr;
	struct spi_device *spi;
	struct ipump_clock_desc clock;
	struct property_entry props[2];
	struct software_node swnode;
	struct ipump_sim_knob knobs[IPUMP_SIM_SPI_NR_KNOBS];
	bool owns_sim;		/* made from the device tree, with its model */

	struct mutex lock;	/* the fields below */
	u32 corrupt_every;	/* every Nth response gets a bad CRC; 0: off */
	u32 corrupt_count;
	u32 drop_every;		/* every Nth request goes unheard; 0: off */
	u32 drop_count;
	bool stuck_miso;	/* MISO reads 0xff whatever the card sends */
	u64 frames;		/* complete request frames clocked in */
	u64 corrupted;
	u64 dropped;
	u64 stuck;		/* frames answered into a stuck MISO */
	u64 bad_crc;		/* requests that failed the card's CRC check */
	u64 replayed;		/* retried requests answered from the buffer */

	/* the frame in flight, reset at each chip select */
	u8 mosi[IPUMP_SPI_REQ_LEN];
	unsigned int mosi_len;
	u8 miso[IPUMP_SPI_RSP_LEN];
	unsigned int miso_len;
	unsigned int miso_pos;

	/* replay buffer: the last request executed with status OK */
	bool last_valid;
	u8 last_req[IPUMP_SPI_REQ_LEN - 2];
	u32 last_data;
};

void ipump_sim_spi_print_objects(struct seq_file *s)
{
	seq_printf(s, "spi_controllers %d\n",
		   atomic_read(&ipump_sim_nr_spi_controllers));
}

/* ---- the card's side of the protocol */

static u16 ipump_sim_spi_crc(const u8 *buf, size_t len)
{
	return crc_ccitt(0xffff, buf, len) ^ 0xffff;
}

/* Executes the request in @ss->mosi; returns the status and read data. */
static u8 ipump_sim_spi_execute(struct ipump_sim_spi *ss, u32 *data)
{
	const u8 *req = ss->mosi;
	u8 cmd = req[0];
	u16 addr = get_unaligned_le16(&req[1]);
	u32 val = get_unaligned_le32(&req[3]);
	unsigned int rd;
	int ret;

	*data = 0;
	if (ipump_sim_spi_crc(req, 7) != get_unaligned_le16(&req[7])) {
		ss->bad_crc++;
		return IPUMP_SPI_ST_BAD_CRC;
	}
	if (cmd & IPUMP_SPI_CMD_RSVD)
		return IPUMP_SPI_ST_BAD_CMD;
	if (addr % 4 || addr > IPUMP_REG_MAX)
		return IPUMP_SPI_ST_BAD_ADDR;
	/* a retry of what was just executed: answer it again, do not redo */
	if (FIELD_GET(IPUMP_SPI_CMD_SEQ, cmd) && ss->last_valid &&
	    !memcmp(ss->last_req, req, sizeof(ss->last_req))) {
		ss->replayed++;
		*data = ss->last_data;
		return IPUMP_SPI_ST_OK;
	}
	if (cmd & IPUMP_SPI_CMD_WRITE) {
		ret = ipump_sim_reg_write(ss->sim, addr, val);
	} else {
		ret = ipump_sim_reg_read(ss->sim, addr, &rd);
		*data = rd;
	}
	if (ret)
		return IPUMP_SPI_ST_FAULT;
	memcpy(ss->last_req, req, sizeof(ss->last_req));
	ss->last_data = *data;
	ss->last_valid = true;
	return IPUMP_SPI_ST_OK;
}

/* A whole request frame has been clocked in: prepare the response. */
static void ipump_sim_spi_frame(struct ipump_sim_spi *ss)
{
	u8 crcbuf[3 + IPUMP_SPI_RSP_LEN - 2];
	u8 status;
	u32 data;

	ss->frames++;
	if (ss->drop_every && ++ss->drop_count >= ss->drop_every) {
		/* the card did not hear it: nothing executed, MISO stays low */
		ss->drop_count = 0;
		ss->dropped++;
		return;
	}
	status = ipump_sim_spi_execute(ss, &data);
	if (status != IPUMP_SPI_ST_OK)
		ss->last_valid = false;

	ss->miso[0] = FIELD_PREP(IPUMP_SPI_RSP_SEQ,
				 FIELD_GET(IPUMP_SPI_CMD_SEQ, ss->mosi[0])) |
		      FIELD_PREP(IPUMP_SPI_RSP_CODE, status);
	put_unaligned_le32(data, &ss->miso[1]);
	memcpy(crcbuf, ss->mosi, 3);
	memcpy(crcbuf + 3, ss->miso, 5);
	put_unaligned_le16(ipump_sim_spi_crc(crcbuf, sizeof(crcbuf)),
			   &ss->miso[5]);
	if (ss->corrupt_every && ++ss->corrupt_count >= ss->corrupt_every) {
		ss->corrupt_count = 0;
		ss->corrupted++;
		ss->miso[5] ^= 0x01;
	}
	if (ss->stuck_miso)
		ss->stuck++;
	ss->miso_len = IPUMP_SPI_RSP_LEN;
	ss->miso_pos = 0;
}

/* One byte each way; MISO is low while the card has nothing to say. */
static u8 ipump_sim_spi_clock_byte(struct ipump_sim_spi *ss, u8 in)
{
	u8 out = 0x00;

	if (ss->miso_pos < ss->miso_len)
		out = ss->miso[ss->miso_pos++];
	if (ss->mosi_len < IPUMP_SPI_REQ_LEN) {
		ss->mosi[ss->mosi_len++] = in;
		if (ss->mosi_len == IPUMP_SPI_REQ_LEN)
			ipump_sim_spi_frame(ss);
	}
	return ss->stuck_miso ? 0xff : out;
}

static int ipump_sim_spi_transfer_one_message(struct spi_controller *ctlr,
					      struct spi_message *msg)
{
	struct ipump_sim_spi *ss = spi_controller_get_devdata(ctlr);
	struct spi_transfer *xfer;
	const u8 *tx;
	unsigned int i;
	u8 *rx, out;

	msg->actual_length = 0;
	mutex_lock(&ss->lock);
	/* chip select asserted: a new frame starts */
	ss->mosi_len = 0;
	ss->miso_len = 0;
	ss->miso_pos = 0;
	list_for_each_entry(xfer, &msg->transfers, transfer_list) {
		tx = xfer->tx_buf;
		rx = xfer->rx_buf;
		for (i = 0; i < xfer->len; i++) {
			out = ipump_sim_spi_clock_byte(ss, tx ? tx[i] : 0x00);
			if (rx)
				rx[i] = out;
		}
		msg->actual_length += xfer->len;
	}
	mutex_unlock(&ss->lock);
	/* the turnaround delays only slow the simulation down: skipped */
	msg->status = 0;
	spi_finalize_current_message(ctlr);
	return 0;
}

/* ---- the card's life, as the glue reports it */

static void ipump_sim_spi_attach(void *priv, struct ipump_card *card)
{
	struct ipump_sim *sim = priv;

	if (IS_ERR(card)) {
		sim->probe_err = PTR_ERR(card);
		return;
	}
	/* serialised with ipump_card_clock_expired() in ipump_sim_advance() */
	mutex_lock(&sim->advance_lock);
	sim->card = card;
	mutex_unlock(&sim->advance_lock);

	mutex_lock(&sim->lock);
	if (card)
		strscpy(sim->card_name, ipump_card_name(card),
			sizeof(sim->card_name));
	else
		sim->card_name[0] = '\0';
	mutex_unlock(&sim->lock);
}

/* ---- the controller's platform driver */

/*
 * Called by the SPI core before it adds a device: a card that the device
 * tree describes gets the virtual clock here, as platform data (a card
 * made through configfs already has it from its board info).
 */
static int ipump_sim_spi_setup(struct spi_device *spi)
{
	struct ipump_sim_spi *ss = spi_controller_get_devdata(spi->controller);

	if (!dev_get_platdata(&spi->dev))
		spi->dev.platform_data = &ss->clock;
	return 0;
}

/*
 * Allocates and registers the controller for @sim. With a device tree node,
 * the SPI core creates the card's device from its child node here.
 */
static int ipump_sim_spi_add_controller(struct platform_device *pdev,
					struct ipump_sim *sim,
					struct ipump_sim_spi **ssp)
{
	struct spi_controller *ctlr;
	struct ipump_sim_spi *ss;
	int ret;

	ctlr = devm_spi_alloc_master(&pdev->dev, sizeof(*ss));
	if (!ctlr)
		return -ENOMEM;
	ss = spi_controller_get_devdata(ctlr);
	ss->sim = sim;
	ss->ctlr = ctlr;
	mutex_init(&ss->lock);
	ss->clock = (struct ipump_clock_desc) {
		.ops	= &ipump_sim_clock_ops,
		.priv	= sim,
		.attach	= ipump_sim_spi_attach,
	};

	ctlr->dev.of_node = pdev->dev.of_node;
	ctlr->bus_num = -1;
	ctlr->num_chipselect = 1;
	ctlr->mode_bits = SPI_CPOL | SPI_CPHA;
	ctlr->bits_per_word_mask = SPI_BPW_MASK(8);
	ctlr->max_speed_hz = IPUMP_SIM_SPI_HZ;
	ctlr->setup = ipump_sim_spi_setup;
	ctlr->transfer_one_message = ipump_sim_spi_transfer_one_message;

	/* load the glue now, so that it probes the card synchronously */
	request_module("spi:" IPUMP_SIM_SPI_MODALIAS);

	ret = spi_register_controller(ctlr);
	if (ret) {
		mutex_destroy(&ss->lock);
		return ret;
	}
	atomic_inc(&ipump_sim_nr_spi_controllers);
	sim->spi = ss;
	platform_set_drvdata(pdev, ss);
	*ssp = ss;
	return 0;
}

static void ipump_sim_spi_del_controller(struct ipump_sim_spi *ss)
{
	ss->sim->spi = NULL;
	/* unregisters a card made from the device tree too */
	spi_unregister_controller(ss->ctlr);
	atomic_dec(&ipump_sim_nr_spi_controllers);
	mutex_destroy(&ss->lock);
}

/* A card made through configfs: adds its device, reports the probe. */
static int ipump_sim_spi_probe_cfg(struct platform_device *pdev,
				   struct ipump_sim *sim)
{
	struct spi_board_info info = {
		.modalias	= IPUMP_SIM_SPI_MODALIAS,
		.max_speed_hz	= IPUMP_SIM_SPI_HZ,
		.chip_select	= 0,
		.mode		= SPI_MODE_0,
	};
	struct ipump_sim_spi *ss;
	struct spi_device *spi;
	bool bound;
	int ret;

	sim->probe_err = 0;
	ret = ipump_sim_spi_add_controller(pdev, sim, &ss);
	if (ret)
		goto err;
	ss->props[0] = PROPERTY_ENTRY_U32(IPUMP_SIM_SPI_WDT_PROP,
					  sim->p.watchdog_period_ms);
	ss->swnode.properties = ss->props;

	info.platform_data = &ss->clock;
	info.swnode = &ss->swnode;
	info.irq = sim->virq;
	spi = spi_new_device(ss->ctlr, &info);
	if (!spi) {
		ret = -ENOMEM;
		goto err_ctlr;
	}
	/* 6.1 does not export device_is_bound() */
	device_lock(&spi->dev);
	bound = spi->dev.driver;
	device_unlock(&spi->dev);
	if (!bound) {
		ret = sim->probe_err ?: -ENXIO;
		spi_unregister_device(spi);
		goto err_ctlr;
	}
	ss->spi = spi;
	return 0;

err_ctlr:
	ipump_sim_spi_del_controller(ss);
err:
	sim->probe_err = ret;
	return dev_err_probe(&pdev->dev, ret, "the SPI card did not come up\n");
}

/*
 * A controller the device tree describes: the simulated card behind it is
 * made here, with the default parameters and as many channels as the card
 * node's "ipump,num-channels" says. The controller node is the interrupt
 * controller of the card's line (the model's IRQ domain). The card's
 * device comes from the child node and binds whenever the glue is loaded.
 */
static int ipump_sim_spi_probe_of(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct ipump_sim_params p;
	struct fwnode_handle *child;
	struct ipump_sim_spi *ss;
	struct ipump_sim *sim;
	int ret;
	u32 n;

	ipump_sim_default_params(&p);
	p.bus = IPUMP_SIM_BUS_SPI;
	device_for_each_child_node(dev, child) {
		if (fwnode_property_read_u32(child, IPUMP_SIM_SPI_NCH_PROP, &n))
			continue;
		if (n < 1 || n > IPUMP_MAX_CHANNELS) {
			fwnode_handle_put(child);
			return dev_err_probe(dev, -EINVAL, "%pfw: bad %s %u\n",
					     child, IPUMP_SIM_SPI_NCH_PROP, n);
		}
		p.num_channels = n;
	}
	sim = ipump_sim_create(&p, dev_name(dev), dev_fwnode(dev));
	if (IS_ERR(sim))
		return dev_err_probe(dev, PTR_ERR(sim), "cannot make the card\n");
	ret = ipump_sim_spi_add_controller(pdev, sim, &ss);
	if (ret) {
		ipump_sim_destroy(sim);
		return dev_err_probe(dev, ret, "cannot add the controller\n");
	}
	ss->owns_sim = true;
	ipump_sim_debugfs_add(sim);
	return 0;
}

static int ipump_sim_spi_probe(struct platform_device *pdev)
{
	struct ipump_sim * const *simp = dev_get_platdata(&pdev->dev);

	if (simp && *simp)
		return ipump_sim_spi_probe_cfg(pdev, *simp);
	if (pdev->dev.of_node)
		return ipump_sim_spi_probe_of(pdev);
	return -ENODEV;
}

static void ipump_sim_spi_remove(struct platform_device *pdev)
{
	struct ipump_sim_spi *ss = platform_get_drvdata(pdev);
	struct ipump_sim *sim = ss->sim;

	if (ss->owns_sim) {
		ipump_sim_stop(sim);
		/* the glue unregisters the card with the controller */
		ipump_sim_spi_del_controller(ss);
		ipump_sim_destroy(sim);
		return;
	}
	/* the glue unregisters the card (and detaches the clock) here */
	spi_unregister_device(ss->spi);
	ipump_sim_spi_del_controller(ss);
}

static const struct of_device_id ipump_sim_spi_of_match[] = {
	{ .compatible = "ipump,sim-spi-controller" },
	{ }
};
MODULE_DEVICE_TABLE(of, ipump_sim_spi_of_match);

static struct platform_driver ipump_sim_spi_driver = {
	.driver = {
		.name		= IPUMP_SIM_SPI_DRV_NAME,
		.of_match_table	= ipump_sim_spi_of_match,
		.probe_type	= PROBE_FORCE_SYNCHRONOUS,
	},
	.probe		= ipump_sim_spi_probe,
	.remove_new	= ipump_sim_spi_remove,
};

int ipump_sim_spi_init(void)
{
	return platform_driver_register(&ipump_sim_spi_driver);
}

void ipump_sim_spi_exit(void)
{
	platform_driver_unregister(&ipump_sim_spi_driver);
}

/* ---- debugfs: wire faults and counters, in the card's directory */

static const struct {
	const char *name;
	umode_t mode;
} ipump_sim_spi_knob_descs[] = {
	[IPUMP_SIM_SPI_CORRUPT_EVERY]	= { "spi_corrupt_every", 0644 },
	[IPUMP_SIM_SPI_DROP_EVERY]	= { "spi_drop_every", 0644 },
	[IPUMP_SIM_SPI_STUCK_MISO]	= { "spi_stuck_miso", 0644 },
	[IPUMP_SIM_SPI_FRAMES]		= { "spi_frames", 0444 },
	[IPUMP_SIM_SPI_CORRUPTED]	= { "spi_corrupted", 0444 },
	[IPUMP_SIM_SPI_DROPPED]		= { "spi_dropped", 0444 },
	[IPUMP_SIM_SPI_STUCK]		= { "spi_stuck", 0444 },
	[IPUMP_SIM_SPI_BAD_CRC]		= { "spi_bad_crc", 0444 },
	[IPUMP_SIM_SPI_REPLAYED]	= { "spi_replayed", 0444 },
};

static_assert(ARRAY_SIZE(ipump_sim_spi_knob_descs) == IPUMP_SIM_SPI_NR_KNOBS);

static int ipump_sim_spi_knob_get(void *data, u64 *val)
{
	struct ipump_sim_knob *k = data;
	struct ipump_sim_spi *ss = k->obj;

	mutex_lock(&ss->lock);
	switch (k->id) {
	case IPUMP_SIM_SPI_CORRUPT_EVERY:
		*val = ss->corrupt_every;
		break;
	case IPUMP_SIM_SPI_DROP_EVERY:
		*val = ss->drop_every;
		break;
	case IPUMP_SIM_SPI_STUCK_MISO:
		*val = ss->stuck_miso;
		break;
	case IPUMP_SIM_SPI_FRAMES:
		*val = ss->frames;
		break;
	case IPUMP_SIM_SPI_CORRUPTED:
		*val = ss->corrupted;
		break;
	case IPUMP_SIM_SPI_DROPPED:
		*val = ss->dropped;
		break;
	case IPUMP_SIM_SPI_STUCK:
		*val = ss->stuck;
		break;
	case IPUMP_SIM_SPI_BAD_CRC:
		*val = ss->bad_crc;
		break;
	default:
		*val = ss->replayed;
		break;
	}
	mutex_unlock(&ss->lock);
	return 0;
}

static int ipump_sim_spi_knob_set(void *data, u64 val)
{
	struct ipump_sim_knob *k = data;
	struct ipump_sim_spi *ss = k->obj;
	int ret = 0;

	mutex_lock(&ss->lock);
	switch (k->id) {
	case IPUMP_SIM_SPI_CORRUPT_EVERY:
		if (val > U32_MAX) {
			ret = -EINVAL;
			break;
		}
		ss->corrupt_every = val;
		ss->corrupt_count = 0;
		break;
	case IPUMP_SIM_SPI_DROP_EVERY:
		if (val > U32_MAX) {
			ret = -EINVAL;
			break;
		}
		ss->drop_every = val;
		ss->drop_count = 0;
		break;
	case IPUMP_SIM_SPI_STUCK_MISO:
		if (val > 1) {
			ret = -EINVAL;
			break;
		}
		ss->stuck_miso = val;
		break;
	default:
		ret = -EPERM;
		break;
	}
	mutex_unlock(&ss->lock);
	return ret;
}

DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_spi_rw_fops, ipump_sim_spi_knob_get,
			 ipump_sim_spi_knob_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(ipump_sim_spi_ro_fops, ipump_sim_spi_knob_get, NULL,
			 "%llu\n");

void ipump_sim_spi_debugfs_add(struct ipump_sim *sim)
{
	struct ipump_sim_spi *ss = sim->spi;
	unsigned int k;
	umode_t mode;

	for (k = 0; k < IPUMP_SIM_SPI_NR_KNOBS; k++) {
		ss->knobs[k].obj = ss;
		ss->knobs[k].id = k;
		mode = ipump_sim_spi_knob_descs[k].mode;
		debugfs_create_file_unsafe(ipump_sim_spi_knob_descs[k].name,
					   mode, sim->debugfs, &ss->knobs[k],
					   mode & 0200 ? &ipump_sim_spi_rw_fops :
					   &ipump_sim_spi_ro_fops);
	}
}
