// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: read-only sysfs attributes of the class device ipumpN,
 * documented in Documentation/ABI/testing/sysfs-class-ipump.
 *
 * Values are read live from the card under the card lock. A failed or
 * implausible read returns -EIO after the communication-failure path ran.
 */
#include <linux/bitfield.h>
#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/device.h>
#include <linux/sysfs.h>

#include "ipump_priv.h"

#define IPUMP_POWER_ALL		(IPUMP_POWER_MAINS | IPUMP_POWER_BATT_MIN_MASK)

/* Space-separated names in enum order, an empty line if none. */
static ssize_t ipump_alarms_show(char *buf, unsigned long alarms)
{
	unsigned int a;
	int len = 0;

	for_each_set_bit(a, &alarms, IPUMP_ALARM_COUNT)
		len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
				     ipump_alarm_info(a)->name);
	return len + sysfs_emit_at(buf, len, "\n");
}

/* ---- card attributes */

enum ipump_card_field {
	IPUMP_CARDF_SERIAL,
	IPUMP_CARDF_FIRMWARE,
	IPUMP_CARDF_MAP_VERSION,
	IPUMP_CARDF_NUM_CHANNELS,
	IPUMP_CARDF_CLOCK,
	IPUMP_CARDF_POWER,
	IPUMP_CARDF_BATTERY_MINUTES,
	IPUMP_CARDF_ALARMS,
};

struct ipump_card_attr {
	struct device_attribute dev_attr;
	enum ipump_card_field field;
};

static ssize_t ipump_card_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	enum ipump_card_field field =
		container_of(attr, struct ipump_card_attr, dev_attr)->field;
	struct ipump_card *card = to_ipump_card(dev);
	u32 fw = card->fw_version, power;

	guard(mutex)(&card->lock);
	if (card->dead)
		return -ENODEV;

	switch (field) {
	case IPUMP_CARDF_SERIAL:
		return sysfs_emit(buf, "%016llx\n", card->serial);
	case IPUMP_CARDF_FIRMWARE:
		return sysfs_emit(buf, "%u.%u.%u\n", fw >> 16, (fw >> 8) & 0xff,
				  fw & 0xff);
	case IPUMP_CARDF_MAP_VERSION:
		return sysfs_emit(buf, "%u.%u\n", IPUMP_MAP_VERSION_MAJOR,
				  card->map_minor);
	case IPUMP_CARDF_NUM_CHANNELS:
		return sysfs_emit(buf, "%u\n", card->num_channels);
	case IPUMP_CARDF_CLOCK:
		return sysfs_emit(buf, "%s\n", card->clock->name);
	case IPUMP_CARDF_ALARMS:
		return ipump_alarms_show(buf, card->alarms);
	case IPUMP_CARDF_POWER:
	case IPUMP_CARDF_BATTERY_MINUTES:
		break;
	}

	if (ipump_card_read(card, IPUMP_REG_POWER, &power))
		return -EIO;
	if (power & ~IPUMP_POWER_ALL)
		return ipump_card_implausible(card, "POWER", power);
	if (field == IPUMP_CARDF_POWER)
		return sysfs_emit(buf, "%s\n",
				  power & IPUMP_POWER_MAINS ? "mains" : "battery");
	return sysfs_emit(buf, "%lu\n", FIELD_GET(IPUMP_POWER_BATT_MIN_MASK, power));
}

#define IPUMP_CARD_ATTR(_name, _field)					\
	struct ipump_card_attr ipump_card_attr_##_name = {		\
		.dev_attr = __ATTR(_name, 0444, ipump_card_show, NULL),	\
		.field = _field,					\
	}

static IPUMP_CARD_ATTR(serial_number, IPUMP_CARDF_SERIAL);
static IPUMP_CARD_ATTR(firmware_version, IPUMP_CARDF_FIRMWARE);
static IPUMP_CARD_ATTR(map_version, IPUMP_CARDF_MAP_VERSION);
static IPUMP_CARD_ATTR(num_channels, IPUMP_CARDF_NUM_CHANNELS);
static IPUMP_CARD_ATTR(clock, IPUMP_CARDF_CLOCK);
static IPUMP_CARD_ATTR(power_source, IPUMP_CARDF_POWER);
static IPUMP_CARD_ATTR(battery_minutes, IPUMP_CARDF_BATTERY_MINUTES);
static IPUMP_CARD_ATTR(alarms, IPUMP_CARDF_ALARMS);

static struct attribute *ipump_card_attrs[] = {
	&ipump_card_attr_serial_number.dev_attr.attr,
	&ipump_card_attr_firmware_version.dev_attr.attr,
	&ipump_card_attr_map_version.dev_attr.attr,
	&ipump_card_attr_num_channels.dev_attr.attr,
	&ipump_card_attr_clock.dev_attr.attr,
	&ipump_card_attr_power_source.dev_attr.attr,
	&ipump_card_attr_battery_minutes.dev_attr.attr,
	&ipump_card_attr_alarms.dev_attr.attr,
	NULL
};

static const struct attribute_group ipump_card_group = {
	.attrs = ipump_card_attrs,
};

/* ---- channel attributes, in groups "channel0".."channel7" */

enum ipump_ch_field {
	IPUMP_CHF_STATE,
	IPUMP_CHF_RATE,
	IPUMP_CHF_DELIVERED,
	IPUMP_CHF_RESERVOIR,
	IPUMP_CHF_PRESSURE_DOWN,
	IPUMP_CHF_PRESSURE_UP,
	IPUMP_CHF_STEP_COUNT,
	IPUMP_CHF_MOTOR,
	IPUMP_CHF_ALARMS,
	IPUMP_CHF_HANDSET_PRESSES,
	IPUMP_NR_CHF
};

static const char *const ipump_ch_field_names[IPUMP_NR_CHF] = {
	[IPUMP_CHF_STATE] = "state",
	[IPUMP_CHF_RATE] = "rate_nl_per_h",
	[IPUMP_CHF_DELIVERED] = "delivered_nl",
	[IPUMP_CHF_RESERVOIR] = "reservoir_nl",
	[IPUMP_CHF_PRESSURE_DOWN] = "pressure_down_mmhg",
	[IPUMP_CHF_PRESSURE_UP] = "pressure_up_mmhg",
	[IPUMP_CHF_STEP_COUNT] = "step_count",
	[IPUMP_CHF_MOTOR] = "motor",
	[IPUMP_CHF_ALARMS] = "alarms",
	[IPUMP_CHF_HANDSET_PRESSES] = "handset_presses",
};

static const char *const ipump_ch_group_names[] = {
	"channel0", "channel1", "channel2", "channel3",
	"channel4", "channel5", "channel6", "channel7",
};

static_assert(ARRAY_SIZE(ipump_ch_group_names) == IPUMP_MAX_CHANNELS);

struct ipump_ch_attr {
	struct device_attribute dev_attr;
	unsigned int ch;
	enum ipump_ch_field field;
};

/* Filled in by ipump_sysfs_init(): one set of attributes per channel. */
static struct ipump_ch_attr ipump_ch_attrs[IPUMP_MAX_CHANNELS][IPUMP_NR_CHF];
static struct attribute *ipump_ch_attr_list[IPUMP_MAX_CHANNELS][IPUMP_NR_CHF + 1];
static struct attribute_group ipump_ch_groups[IPUMP_MAX_CHANNELS];

static ssize_t ipump_ch_motor_show(struct ipump_channel *ch, char *buf)
{
	const char *motor = "stopped";
	u32 status;

	if (ipump_ch_read(ch, IPUMP_CH_STATUS, &status))
		return -EIO;
	if (status & ~IPUMP_STATUS_ALL)
		return ipump_ch_implausible(ch, "STATUS", status);
	if (status & IPUMP_STATUS_STALLED)
		motor = "stalled";
	else if (status & IPUMP_STATUS_RUNNING)
		motor = "running";
	return sysfs_emit(buf, "%s\n", motor);
}

static ssize_t ipump_ch_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	const struct ipump_ch_attr *a =
		container_of(attr, struct ipump_ch_attr, dev_attr);
	struct ipump_card *card = to_ipump_card(dev);
	struct ipump_channel *ch = &card->ch[a->ch];
	unsigned int off;
	u64 delivered;
	u32 val;

	guard(mutex)(&card->lock);
	if (card->dead)
		return -ENODEV;

	switch (a->field) {
	case IPUMP_CHF_STATE:
		return sysfs_emit(buf, "%s\n", ipump_state_str(ch->state));
	case IPUMP_CHF_ALARMS:
		return ipump_alarms_show(buf, ch->alarms);
	case IPUMP_CHF_HANDSET_PRESSES:
		return sysfs_emit(buf, "%u\n", ch->handset_presses);
	case IPUMP_CHF_MOTOR:
		return ipump_ch_motor_show(ch, buf);
	case IPUMP_CHF_DELIVERED:
		if (ipump_ch_read64(ch, IPUMP_CH_DELIVERED_LO, &delivered))
			return -EIO;
		return sysfs_emit(buf, "%llu\n", delivered);
	case IPUMP_CHF_RATE:
		off = IPUMP_CH_RATE_NL_PER_H;
		break;
	case IPUMP_CHF_RESERVOIR:
		off = IPUMP_CH_RESERVOIR_NL;
		break;
	case IPUMP_CHF_PRESSURE_DOWN:
		off = IPUMP_CH_PRESSURE_DOWN_MMHG;
		break;
	case IPUMP_CHF_PRESSURE_UP:
		off = IPUMP_CH_PRESSURE_UP_MMHG;
		break;
	case IPUMP_CHF_STEP_COUNT:
		off = IPUMP_CH_STEP_COUNT;
		break;
	default:
		return -EINVAL;
	}

	if (ipump_ch_read(ch, off, &val))
		return -EIO;
	if ((a->field == IPUMP_CHF_PRESSURE_DOWN ||
	     a->field == IPUMP_CHF_PRESSURE_UP) && val > IPUMP_PRESSURE_MAX_MMHG)
		return ipump_ch_implausible(ch, ipump_ch_field_names[a->field], val);
	return sysfs_emit(buf, "%u\n", val);
}

void ipump_sysfs_init(void)
{
	unsigned int ch, f;

	for (ch = 0; ch < IPUMP_MAX_CHANNELS; ch++) {
		for (f = 0; f < IPUMP_NR_CHF; f++) {
			struct ipump_ch_attr *a = &ipump_ch_attrs[ch][f];

			a->dev_attr.attr.name = ipump_ch_field_names[f];
			a->dev_attr.attr.mode = 0444;
			a->dev_attr.show = ipump_ch_show;
			a->ch = ch;
			a->field = f;
			ipump_ch_attr_list[ch][f] = &a->dev_attr.attr;
		}
		ipump_ch_groups[ch].name = ipump_ch_group_names[ch];
		ipump_ch_groups[ch].attrs = ipump_ch_attr_list[ch];
	}
}

/*
 * Only the channels the card has get a group: on 6.1 a named group whose
 * attributes is_visible() hides still leaves an empty directory.
 */
void ipump_sysfs_card_groups(struct ipump_card *card)
{
	unsigned int i;

	card->groups[0] = &ipump_card_group;
	for (i = 0; i < card->num_channels; i++)
		card->groups[i + 1] = &ipump_ch_groups[i];
	card->groups[i + 1] = NULL;
}
