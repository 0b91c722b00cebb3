#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The simulated card described by the device tree (arm64 VM only): the dtb
# carries dts/qemu-virt-ipump-sim.dtso, a "ipump,sim-spi-controller" node
# with a "ipump,card-v1" child. Loading ipump_sim probes the controller from
# the dtb, the SPI core creates the card's device from the child node, and
# the real SPI glue probes it from the device tree: interrupt from the
# "interrupts" property, watchdog period from the card node, virtual clock
# from the simulator. Skips (and fails the run: not allowlisted) where the
# running kernel has no such node.
DIR=$(dirname "$0")
. "$DIR/lib.sh"
. "$DIR/ipump_card_lib.sh"

DTNODE=/proc/device-tree/spi/pump@0
HOUR_MS=3600000

# dt_card: sets CARD, CLS, SPIDEV, STAT and SIM (the simulator's name for
# the card: its controller's platform device, the debugfs directory)
dt_card() {
	CARD=
	for c in /sys/class/ipump/ipump*; do
		[ -e "$c/device/of_node" ] || continue
		CARD=$(basename "$c")
	done
	[ -n "$CARD" ] || fail "no ipump card with a device tree node"
	CLS=/sys/class/ipump/$CARD
	SPIDEV=$(readlink -f "$CLS/device")
	STAT=$SPIDEV/ipump_spi
	# <platform device>/spi_master/spiB/spiB.0
	ctlr=$(readlink -f "$SPIDEV/../../..")
	SIM=$(basename "$ctlr")
	assert_eq controller-driver ipump-sim-spi "$(basename "$(readlink -f "$ctlr/driver")")"
	[ -d "$SIMDBG/$SIM" ] || fail "$SIMDBG/$SIM missing"
}

# the card's interrupt count in /proc/interrupts (all CPUs)
irq_count() {
	awk -v c="$CARD" '$0 ~ /ipump-sim/ && $NF == c {
		n = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
		print n
	}' /proc/interrupts
}

t_dt_probed() {
	dt_card
	assert_eq of_node "$(readlink -f $DTNODE)" "$(readlink -f "$CLS/device/of_node")"
	assert_eq compatible ipump,card-v1 "$(tr -d '\0' < "$CLS/device/of_node/compatible")"
	assert_eq driver ipump-spi "$(basename "$(readlink -f "$SPIDEV/driver")")"
	# the SPI core's modalias for a device tree node drops the vendor prefix
	assert_eq modalias spi:card-v1 "$(cat "$SPIDEV/modalias")"
	[ -c "/dev/$CARD" ] || fail "/dev/$CARD is not a character device"
	# ipump,num-channels of the card node made the model
	assert_eq num_channels 2 "$(cat "$CLS/num_channels")"
	assert_eq clock simulated "$(cat "$CLS/clock")"
	[ "$(cat "$STAT/transfers")" -gt 0 ] || fail "no SPI transfers"
	assert_eq failures 0 "$(cat "$STAT/failures")"
	[ -n "$(irq_count)" ] || fail "no ipump-sim interrupt for $CARD in /proc/interrupts"
}

# exact delivery in virtual time; an alarm arrives through the interrupt
# the device tree gave the glue, and is cleared again
t_dt_channel_limits() {
	# channel@0's hard limits come from the device tree, channel 1 has none
	dmesg | grep -q "channel 0: hard limits from firmware: rate 100..10000000 nL/h, bolus up to 1000000 nL" ||
		fail "channel 0 did not take its device tree hard limits"
	! dmesg | grep -q "channel 1: hard limits from firmware" ||
		fail "channel 1 has no limits in the device tree"
}

t_dt_delivery_and_irq() {
	dt_card
	ctl "$CARD" "start 0 1000000"
	advance "$SIM" $HOUR_MS
	assert_eq delivered 1000000 "$(chan 0 delivered_nl)"
	assert_eq running running "$(chan 0 state)"
	n0=$(irq_count)
	write_ok 1 "$(simch "$SIM" 0 door_open)"
	assert_contains alarm door-open "$(chan 0 alarms)"
	assert_eq stopped alarm-stopped "$(chan 0 state)"
	[ "$(irq_count)" -gt "$n0" ] || fail "the alarm raised no interrupt ($n0)"
	write_ok 0 "$(simch "$SIM" 0 door_open)"
	ctl "$CARD" "ack 0"
	assert_eq idle idle "$(chan 0 state)"
	assert_eq failures 0 "$(cat "$STAT/failures")"
}

# the glue goes and comes back: the device tree device binds again
t_dt_glue_rebind() {
	dt_card
	cls=$CLS
	rmmod ipump_spi || fail "rmmod ipump_spi"
	[ ! -e "$cls" ] || fail "$cls survives its glue"
	[ -d "$SPIDEV" ] || fail "the device tree SPI device went with the glue"
	modprobe ipump_spi || fail "modprobe ipump_spi"
	dt_card
	assert_eq clock simulated "$(cat "$CLS/clock")"
	assert_eq num_channels 2 "$(cat "$CLS/num_channels")"
}

# unloading the simulator removes controller, card and model; loading it
# again probes them anew from the same device tree nodes
t_dt_sim_reload() {
	dt_card
	rmmod ipump_spi ipump_sim || fail "rmmod ipump_spi ipump_sim"
	for c in /sys/class/ipump/ipump*; do
		if [ -e "$c" ]; then fail "$c survives the simulator"; fi
	done
	assert_eq core-cards 0 "$(objects $CORDBG/objects cards)"
	ipump_load
	dt_card
	assert_eq driver ipump-spi "$(basename "$(readlink -f "$SPIDEV/driver")")"
	assert_eq spi-controllers 1 "$(objects $SIMDBG/objects spi_controllers)"
	assert_eq models 1 "$(objects $SIMDBG/objects models)"
	assert_eq configfs-cards 0 "$(objects $SIMDBG/objects cards)"
	ctl "$CARD" "start 1 2000000"
	advance "$SIM" 1800000
	assert_eq delivered 1000000 "$(chan 1 delivered_nl)"
	ctl "$CARD" "stop 1"
}

# a configfs SPI card works beside the device tree one
t_dt_beside_configfs() {
	mk_card cf bus=spi num_channels=1
	cf=$CARD
	dt_card
	[ "$cf" != "$CARD" ] || fail "configfs card and device tree card are both $CARD"
	assert_eq spi-controllers 2 "$(objects $SIMDBG/objects spi_controllers)"
	rm_card cf
	assert_eq spi-controllers 1 "$(objects $SIMDBG/objects spi_controllers)"
}

if [ ! -e "$DTNODE" ]; then
	tap_plan 1
	echo "ok 1 dt_card # SKIP no $DTNODE in this kernel's device tree"
	exit $KSFT_SKIP
fi
ipump_load
# ipump_sim's probe loads the glue (request_module); make sure it is there
modprobe ipump_spi || fail "modprobe ipump_spi"
run_card_tests "dt_probed dt_channel_limits dt_delivery_and_irq dt_glue_rebind dt_sim_reload dt_beside_configfs"
