// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump_spi: the ipump card on an SPI bus.
 *
 * Each register access is one framed, CRC-protected transaction (see
 * Documentation/hardware/register-map.rst, "SPI transport", and
 * ipump_spi_frame.h), retried a bounded number of times. The glue offers
 * the accesses to the core as a regmap; an access that still fails after
 * the retries returns -EIO, on which the core raises the communication
 * alarm and stops the motors. Transfer statistics are in sysfs, in the
 * ipump_spi group of the SPI device.
 */
#include <linux/bitfield.h>
#include <linux/crc-ccitt.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/regmap.h>
#include <linux/slab.h>
#include <linux/spi/spi.h>
#include <linux/sysfs.h>

#include <asm/unaligned.h>

#include "ipump_core.h"
#include "ipump_regs.h"
#include "ipump_spi_frame.h"

/* ---- frames: host side (the card side is in the simulator) */

/**
 * ipump_spi_crc() - the transport's CRC-16/X-25 of @len bytes at @buf
 * @buf: bytes
 * @len: how many
 *
 * Return: the CRC, sent low byte first.
 */
u16 ipump_spi_crc(const u8 *buf, size_t len)
{
	return crc_ccitt(0xffff, buf, len) ^ 0xffff;
}
EXPORT_SYMBOL_NS_GPL(ipump_spi_crc, IPUMP_INTERNAL);

/**
 * ipump_spi_req_encode() - build a request frame
 * @req: the request; @req->seq is taken modulo 16, @req->data is sent as
 *	given also for reads (the card ignores it; the glue sends 0)
 * @buf: the frame
 */
void ipump_spi_req_encode(const struct ipump_spi_req *req,
			  u8 buf[IPUMP_SPI_REQ_LEN])
{
	buf[0] = FIELD_PREP(IPUMP_SPI_CMD_SEQ, req->seq & 0xf);
	if (req->write)
		buf[0] |= IPUMP_SPI_CMD_WRITE;
	put_unaligned_le16(req->addr, &buf[1]);
	put_unaligned_le32(req->data, &buf[3]);
	put_unaligned_le16(ipump_spi_crc(buf, 7), &buf[7]);
}
EXPORT_SYMBOL_NS_GPL(ipump_spi_req_encode, IPUMP_INTERNAL);

/**
 * ipump_spi_rsp_decode() - check and decode a response frame
 * @req: the request frame it answers
 * @buf: the response frame as clocked in from MISO
 * @rsp: the decoded response, valid on 0
 *
 * The response CRC covers the request's command and address too, so an
 * answer to another request does not pass.
 *
 * Return: 0 for a well-formed response, whatever its status; -ENODATA when
 * MISO stayed at one level (all 0x00: nobody answered; all 0xff: stuck or
 * no card); -EBADMSG for a CRC mismatch; -EPROTO for a wrong sequence echo
 * or a status code the protocol does not define.
 */
int ipump_spi_rsp_decode(const u8 req[IPUMP_SPI_REQ_LEN],
			 const u8 buf[IPUMP_SPI_RSP_LEN],
			 struct ipump_spi_rsp *rsp)
{
	u8 crcbuf[3 + IPUMP_SPI_RSP_LEN - 2];
	bool all0 = true, all1 = true;
	unsigned int i;

	for (i = 0; i < IPUMP_SPI_RSP_LEN; i++) {
		all0 &= buf[i] == 0x00;
		all1 &= buf[i] == 0xff;
	}
	if (all0 || all1)
		return -ENODATA;

	memcpy(crcbuf, req, 3);
	memcpy(crcbuf + 3, buf, IPUMP_SPI_RSP_LEN - 2);
	if (ipump_spi_crc(crcbuf, sizeof(crcbuf)) !=
	    get_unaligned_le16(&buf[IPUMP_SPI_RSP_LEN - 2]))
		return -EBADMSG;

	rsp->seq = FIELD_GET(IPUMP_SPI_RSP_SEQ, buf[0]);
	rsp->status = FIELD_GET(IPUMP_SPI_RSP_CODE, buf[0]);
	rsp->data = get_unaligned_le32(&buf[1]);
	if (rsp->seq != FIELD_GET(IPUMP_SPI_CMD_SEQ, req[0]))
		return -EPROTO;
	if (rsp->status < IPUMP_SPI_ST_OK || rsp->status > IPUMP_SPI_ST_FAULT)
		return -EPROTO;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_spi_rsp_decode, IPUMP_INTERNAL);

/**
 * ipump_spi_status_check() - what a response status means for the access
 * @status: the response's status code
 *
 * Return: 0 for OK; -EAGAIN when the card did not execute the request for
 * a reason a retry may cure (BAD_CRC, BUSY, FAULT); -EIO when retrying is
 * pointless (BAD_ADDR, BAD_CMD, undefined codes).
 */
int ipump_spi_status_check(u8 status)
{
	switch (status) {
	case IPUMP_SPI_ST_OK:
		return 0;
	case IPUMP_SPI_ST_BAD_CRC:
	case IPUMP_SPI_ST_BUSY:
	case IPUMP_SPI_ST_FAULT:
		return -EAGAIN;
	default:
		return -EIO;
	}
}
EXPORT_SYMBOL_NS_GPL(ipump_spi_status_check, IPUMP_INTERNAL);

/* ---- the transport */

enum ipump_spi_stat {
	IPUMP_SPI_STAT_ACCESSES,	/* register accesses */
	IPUMP_SPI_STAT_TRANSFERS,	/* SPI messages, retries included */
	IPUMP_SPI_STAT_RETRIES,
	IPUMP_SPI_STAT_CRC_ERRORS,	/* response CRC mismatch */
	IPUMP_SPI_STAT_NO_RESPONSE,	/* MISO all 0x00 or all 0xff */
	IPUMP_SPI_STAT_PROTOCOL_ERRORS,	/* bad sequence echo or status code */
	IPUMP_SPI_STAT_CARD_ERRORS,	/* card answered BAD_CRC, BUSY or FAULT */
	IPUMP_SPI_STAT_BUS_ERRORS,	/* the SPI controller failed */
	IPUMP_SPI_STAT_FAILURES,	/* accesses that failed for good */
	IPUMP_SPI_NR_STATS
};

/**
 * struct ipump_spi - one card on the bus
 * @spi: the SPI device
 * @lock: serialises transactions; protects @seq, @tx, @rx and @stats
 * @seq: sequence number of the last transaction
 * @resync: the next transaction uses sequence number 0 (first one, or
 *	first after a failure)
 * @tx: request frame (DMA-safe: allocated with the structure)
 * @rx: response frame
 * @stats: counters, enum ipump_spi_stat
 * @card: the registered card
 * @clock: the card's clock from platform_data, or NULL
 */
struct ipump_spi {
	struct spi_device *spi;
	struct mutex lock;	/* the fields below */
	u8 seq;
	bool resync;
	u64 stats[IPUMP_SPI_NR_STATS];
	struct ipump_card *card;
	const struct ipump_clock_desc *clock;
	u8 tx[IPUMP_SPI_REQ_LEN] ____cacheline_aligned;
	u8 rx[IPUMP_SPI_RSP_LEN] ____cacheline_aligned;
};

/* One attempt: 0, -EAGAIN to retry, or another error to give up at once. */
static int ipump_spi_attempt(struct ipump_spi *ips, struct ipump_spi_rsp *rsp)
{
	struct spi_transfer xfers[] = {
		{
			.tx_buf = ips->tx,
			.len = IPUMP_SPI_REQ_LEN,
			.delay = {
				.value = IPUMP_SPI_TURNAROUND_US,
				.unit = SPI_DELAY_UNIT_USECS,
			},
		}, {
			.rx_buf = ips->rx,
			.len = IPUMP_SPI_RSP_LEN,
		},
	};
	int ret;

	ips->stats[IPUMP_SPI_STAT_TRANSFERS]++;
	memset(ips->rx, 0, IPUMP_SPI_RSP_LEN);
	ret = spi_sync_transfer(ips->spi, xfers, ARRAY_SIZE(xfers));
	if (ret) {
		ips->stats[IPUMP_SPI_STAT_BUS_ERRORS]++;
		return -EAGAIN;
	}
	ret = ipump_spi_rsp_decode(ips->tx, ips->rx, rsp);
	switch (ret) {
	case 0:
		break;
	case -ENODATA:
		ips->stats[IPUMP_SPI_STAT_NO_RESPONSE]++;
		return -EAGAIN;
	case -EBADMSG:
		ips->stats[IPUMP_SPI_STAT_CRC_ERRORS]++;
		return -EAGAIN;
	default:
		ips->stats[IPUMP_SPI_STAT_PROTOCOL_ERRORS]++;
		return -EAGAIN;
	}
	ret = ipump_spi_status_check(rsp->status);
	if (ret)
		ips->stats[IPUMP_SPI_STAT_CARD_ERRORS]++;
	if (rsp->status == IPUMP_SPI_ST_BUSY)
		usleep_range(20, 50);
	return ret;
}

/*
 * One register access. Retries reuse the frame and its sequence number, so
 * the card answers a retried request it already executed from its replay
 * buffer instead of executing it twice. After a failure the next access
 * uses sequence number 0, which the card never replays.
 */
static int ipump_spi_access(struct ipump_spi *ips, bool write,
			    unsigned int reg, unsigned int *val)
{
	struct ipump_spi_req req = {
		.write = write,
		.addr = reg,
		.data = write ? *val : 0,
	};
	struct ipump_spi_rsp rsp;
	unsigned int attempt;
	int ret;

	if (reg > IPUMP_REG_MAX)
		return -EINVAL;

	mutex_lock(&ips->lock);
	ips->stats[IPUMP_SPI_STAT_ACCESSES]++;
	ips->seq = ips->resync ? 0 : ips->seq % 15 + 1;	/* then 1..15 */
	ips->resync = false;
	req.seq = ips->seq;
	ipump_spi_req_encode(&req, ips->tx);
	for (attempt = 0; attempt < IPUMP_SPI_MAX_ATTEMPTS; attempt++) {
		if (attempt)
			ips->stats[IPUMP_SPI_STAT_RETRIES]++;
		ret = ipump_spi_attempt(ips, &rsp);
		if (ret != -EAGAIN)
			break;
	}
	if (ret) {
		ips->stats[IPUMP_SPI_STAT_FAILURES]++;
		ips->resync = true;
		mutex_unlock(&ips->lock);
		dev_err_ratelimited(&ips->spi->dev,
				    "%s of register %#x failed (%s)\n",
				    write ? "write" : "read", reg,
				    ret == -EAGAIN ? "no valid answer after retries" :
				    "refused by the card");
		return -EIO;
	}
	if (!write)
		*val = rsp.data;
	mutex_unlock(&ips->lock);
	return 0;
}

static int ipump_spi_reg_read(void *context, unsigned int reg,
			      unsigned int *val)
{
	return ipump_spi_access(context, false, reg, val);
}

static int ipump_spi_reg_write(void *context, unsigned int reg,
			       unsigned int val)
{
	return ipump_spi_access(context, true, reg, &val);
}

static const struct regmap_bus ipump_spi_regmap_bus = {
	.reg_read	= ipump_spi_reg_read,
	.reg_write	= ipump_spi_reg_write,
};

static const struct regmap_config ipump_spi_regmap_config = {
	.reg_bits	= 16,
	.val_bits	= 32,
	.reg_stride	= 4,
	.max_register	= IPUMP_REG_MAX,
	.cache_type	= REGCACHE_NONE,
};

/* ---- sysfs: /sys/bus/spi/devices/spiB.C/ipump_spi/ */

static const char * const ipump_spi_stat_names[] = {
	[IPUMP_SPI_STAT_ACCESSES]		= "accesses",
	[IPUMP_SPI_STAT_TRANSFERS]		= "transfers",
	[IPUMP_SPI_STAT_RETRIES]		= "retries",
	[IPUMP_SPI_STAT_CRC_ERRORS]		= "crc_errors",
	[IPUMP_SPI_STAT_NO_RESPONSE]		= "no_response",
	[IPUMP_SPI_STAT_PROTOCOL_ERRORS]	= "protocol_errors",
	[IPUMP_SPI_STAT_CARD_ERRORS]		= "card_errors",
	[IPUMP_SPI_STAT_BUS_ERRORS]		= "bus_errors",
	[IPUMP_SPI_STAT_FAILURES]		= "failures",
};

static_assert(ARRAY_SIZE(ipump_spi_stat_names) == IPUMP_SPI_NR_STATS);

struct ipump_spi_stat_attr {
	struct device_attribute attr;
	enum ipump_spi_stat stat;
};

static ssize_t ipump_spi_stat_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct ipump_spi_stat_attr *sa =
		container_of(attr, struct ipump_spi_stat_attr, attr);
	struct ipump_spi *ips = dev_get_drvdata(dev);
	u64 val;

	/* the group exists only while the driver is bound */
	mutex_lock(&ips->lock);
	val = ips->stats[sa->stat];
	mutex_unlock(&ips->lock);
	return sysfs_emit(buf, "%llu\n", val);
}

#define IPUMP_SPI_STAT_ATTR(_name, _stat)				\
	static struct ipump_spi_stat_attr ipump_spi_attr_##_name = {	\
		.attr = __ATTR(_name, 0444, ipump_spi_stat_show, NULL),	\
		.stat = _stat,						\
	}

IPUMP_SPI_STAT_ATTR(accesses, IPUMP_SPI_STAT_ACCESSES);
IPUMP_SPI_STAT_ATTR(transfers, IPUMP_SPI_STAT_TRANSFERS);
IPUMP_SPI_STAT_ATTR(retries, IPUMP_SPI_STAT_RETRIES);
IPUMP_SPI_STAT_ATTR(crc_errors, IPUMP_SPI_STAT_CRC_ERRORS);
IPUMP_SPI_STAT_ATTR(no_response, IPUMP_SPI_STAT_NO_RESPONSE);
IPUMP_SPI_STAT_ATTR(protocol_errors, IPUMP_SPI_STAT_PROTOCOL_ERRORS);
IPUMP_SPI_STAT_ATTR(card_errors, IPUMP_SPI_STAT_CARD_ERRORS);
IPUMP_SPI_STAT_ATTR(bus_errors, IPUMP_SPI_STAT_BUS_ERRORS);
IPUMP_SPI_STAT_ATTR(failures, IPUMP_SPI_STAT_FAILURES);

static struct attribute *ipump_spi_attrs[] = {
	&ipump_spi_attr_accesses.attr.attr,
	&ipump_spi_attr_transfers.attr.attr,
	&ipump_spi_attr_retries.attr.attr,
	&ipump_spi_attr_crc_errors.attr.attr,
	&ipump_spi_attr_no_response.attr.attr,
	&ipump_spi_attr_protocol_errors.attr.attr,
	&ipump_spi_attr_card_errors.attr.attr,
	&ipump_spi_attr_bus_errors.attr.attr,
	&ipump_spi_attr_failures.attr.attr,
	NULL
};

static const struct attribute_group ipump_spi_group = {
	.name	= "ipump_spi",
	.attrs	= ipump_spi_attrs,
};

static const struct attribute_group *ipump_spi_groups[] = {
	&ipump_spi_group,
	NULL
};

/* ---- the driver */

static void ipump_spi_mutex_destroy(void *lock)
{
	mutex_destroy(lock);
}

static int ipump_spi_setup(struct spi_device *spi, struct ipump_spi **ipsp,
			   struct ipump_card_config *cfg)
{
	struct device *dev = &spi->dev;
	struct ipump_spi *ips;
	int ret;

	if (spi->irq <= 0)
		return dev_err_probe(dev, -EINVAL, "no interrupt\n");
	if (!spi->bits_per_word)
		spi->bits_per_word = 8;
	ret = spi_setup(spi);
	if (ret)
		return dev_err_probe(dev, ret, "SPI setup failed\n");

	ips = devm_kzalloc(dev, sizeof(*ips), GFP_KERNEL);
	if (!ips)
		return -ENOMEM;
	ips->spi = spi;
	mutex_init(&ips->lock);
	ret = devm_add_action_or_reset(dev, ipump_spi_mutex_destroy,
				       &ips->lock);
	if (ret)
		return ret;
	/* the card may hold a replay buffer from an earlier driver */
	ips->resync = true;
	ips->clock = dev_get_platdata(dev);
	spi_set_drvdata(spi, ips);

	cfg->regmap = devm_regmap_init(dev, &ipump_spi_regmap_bus, ips,
				       &ipump_spi_regmap_config);
	if (IS_ERR(cfg->regmap))
		return dev_err_probe(dev, PTR_ERR(cfg->regmap),
				     "cannot create the regmap\n");
	cfg->irq = spi->irq;
	/* a card clock comes only from whoever created the device */
	if (ips->clock) {
		cfg->clock = ips->clock->ops;
		cfg->clock_priv = ips->clock->priv;
	}
	*ipsp = ips;
	return 0;
}

static int ipump_spi_probe(struct spi_device *spi)
{
	const struct ipump_clock_desc *clock = dev_get_platdata(&spi->dev);
	struct ipump_card_config cfg = { };
	struct ipump_spi *ips;
	struct ipump_card *card;
	int ret;

	ret = ipump_spi_setup(spi, &ips, &cfg);
	if (ret)
		goto err;
	card = ipump_card_register(&spi->dev, &cfg);
	if (IS_ERR(card)) {
		ret = dev_err_probe(&spi->dev, PTR_ERR(card),
				    "cannot register the card\n");
		goto err;
	}
	ips->card = card;
	if (clock && clock->attach)
		clock->attach(clock->priv, card);
	return 0;
err:
	if (clock && clock->attach)
		clock->attach(clock->priv, ERR_PTR(ret));
	return ret;
}

static void ipump_spi_remove(struct spi_device *spi)
{
	struct ipump_spi *ips = spi_get_drvdata(spi);

	/* no clock expiry reaches the card from now on */
	if (ips->clock && ips->clock->attach)
		ips->clock->attach(ips->clock->priv, NULL);
	ipump_card_unregister(ips->card);
}

static const struct spi_device_id ipump_spi_ids[] = {
	{ "ipump-card" },
	/* a device tree node's uevent: MODALIAS=spi:card-v1 */
	{ "card-v1" },
	{ }
};
MODULE_DEVICE_TABLE(spi, ipump_spi_ids);

static const struct of_device_id ipump_spi_of_match[] = {
	{ .compatible = "ipump,card-v1" },
	{ }
};
MODULE_DEVICE_TABLE(of, ipump_spi_of_match);

static struct spi_driver ipump_spi_driver = {
	.driver = {
		.name		= "ipump-spi",
		.of_match_table	= ipump_spi_of_match,
		.dev_groups	= ipump_spi_groups,
	},
	.id_table	= ipump_spi_ids,
	.probe		= ipump_spi_probe,
	.remove		= ipump_spi_remove,
};
module_spi_driver(ipump_spi_driver);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("ipump developers");
MODULE_DESCRIPTION("ipump infusion-pump interface card on SPI");
MODULE_VERSION("0.1.0");
