#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The card on SPI: the simulated SPI controller (ipump_sim, bus = spi) and
# the real SPI glue (ipump_spi) in between the core and the same card model.
# Delivery is exact over a virtual hour; transient wire faults become
# counted retries and nothing else; persistent ones become the communication
# alarm with the motor stopped, and the card recovers once they are gone.
DIR=$(dirname "$0")
. "$DIR/lib.sh"
. "$DIR/ipump_card_lib.sh"

HOUR_MS=3600000

# mk_spi_card NAME [attr=value ...]: like mk_card on the SPI bus; also sets
# SPIDEV (the spi_device's sysfs directory) and STAT (its statistics)
mk_spi_card() {
	name=$1
	shift
	mk_card "$name" bus=spi "$@"
	SPIDEV=$(readlink -f "$CLS/device")
	STAT=$SPIDEV/ipump_spi
	[ -d "$STAT" ] || fail "$STAT missing"
}

spistat() { cat "$STAT/$1"; }
simspi() { cat "$SIMDBG/$1/$2"; }
# nonzero WHAT VALUE
nonzero() { [ "$2" -gt 0 ] || fail "$1: expected > 0, got $2"; }

t_spi_live() {
	mkdir "$CFS/s" || fail mkdir
	assert_eq default-bus platform "$(cat "$CFS/s/bus")"
	write_fails "Invalid argument" i2c "$CFS/s/bus"
	write_ok spi "$CFS/s/bus"
	assert_eq bus spi "$(cat "$CFS/s/bus")"
	write_ok 2 "$CFS/s/num_channels"
	write_ok 1 "$CFS/s/live"
	write_fails "Device or resource busy" platform "$CFS/s/bus"
	CARD=$(cat "$CFS/s/card")
	CLS=/sys/class/ipump/$CARD
	assert_eq num_channels 2 "$(cat "$CLS/num_channels")"
	assert_eq clock simulated "$(cat "$CLS/clock")"
	assert_eq map_version 1.1 "$(cat "$CLS/map_version")"
	spidev=$(readlink -f "$CLS/device")
	assert_eq modalias spi:ipump-card "$(cat "$spidev/modalias")"
	assert_eq driver ipump-spi "$(basename "$(readlink -f "$spidev/driver")")"
	STAT=$spidev/ipump_spi
	nonzero transfers "$(spistat transfers)"
	nonzero frames "$(simspi s spi_frames)"
	assert_eq failures 0 "$(spistat failures)"
	assert_eq retries 0 "$(spistat retries)"
	assert_eq state idle "$(chan 1 state)"
	# offline, the bus can change again
	write_ok 0 "$CFS/s/live"
	write_ok platform "$CFS/s/bus"
	write_ok 1 "$CFS/s/live"
	CARD=$(cat "$CFS/s/card")
	[ ! -d "/sys/class/ipump/$CARD/device/ipump_spi" ] || fail "platform card has SPI stats"
	rm_card s
}

# live=1 reports the glue's probe result, and leaves nothing behind
t_spi_probe_error() {
	mkdir "$CFS/pe" || fail mkdir
	write_ok spi "$CFS/pe/bus"
	write_ok 1 "$CFS/pe/selftest"
	write_fails "Input/output error" 1 "$CFS/pe/live"
	assert_eq not-live 0 "$(cat "$CFS/pe/live")"
	assert_eq no-card "" "$(cat "$CFS/pe/card")"
	assert_eq no-controller 0 "$(objects $SIMDBG/objects spi_controllers)"
	write_ok 0 "$CFS/pe/selftest"
	write_ok 1 "$CFS/pe/live"
	assert_eq live 1 "$(cat "$CFS/pe/live")"
	rm_card pe
}

t_spi_delivery_hour() {
	mk_spi_card hr
	ctl "$CARD" "start 0 1000000"
	advance hr $HOUR_MS
	assert_eq time_ns 3600000000000 "$(cat $SIMDBG/hr/time_ns)"
	assert_eq delivered 1000000 "$(chan 0 delivered_nl)"
	assert_eq patient 1000000 "$(cat "$(simch hr 0 patient_delivered_nl)")"
	assert_not_contains card-alarms card-watchdog "$(cat "$CLS/alarms")"
	assert_eq running running "$(chan 0 state)"
	assert_eq failures 0 "$(spistat failures)"
	echo "1 h at 1 mL/h over SPI: $(spistat accesses) accesses, $(spistat transfers) transfers"
	rm_card hr
}

# every 5th response corrupted: each is retried once, therapy goes on, and
# the card's replay buffer keeps retried writes from executing twice
t_spi_transient_corrupt() {
	mk_spi_card tc
	ctl "$CARD" "start 0 1000000"
	write_ok 5 "$SIMDBG/tc/spi_corrupt_every"
	advance tc $HOUR_MS
	nonzero corrupted "$(simspi tc spi_corrupted)"
	nonzero crc_errors "$(spistat crc_errors)"
	assert_eq retries-equal-crc-errors "$(spistat crc_errors)" "$(spistat retries)"
	nonzero replayed "$(simspi tc spi_replayed)"
	assert_eq failures 0 "$(spistat failures)"
	assert_eq state running "$(chan 0 state)"
	assert_not_contains alarms communication "$(chan 0 alarms)"
	assert_eq delivered 1000000 "$(chan 0 delivered_nl)"
	echo "corrupt every 5th: $(spistat crc_errors) CRC errors, $(spistat retries) retries," \
	     "$(simspi tc spi_replayed) replayed"
	rm_card tc
}

# every 3rd request unheard: no response, retried, no alarm
t_spi_transient_drop() {
	mk_spi_card td
	ctl "$CARD" "start 0 1000000"
	write_ok 3 "$SIMDBG/td/spi_drop_every"
	advance td 600000
	nonzero dropped "$(simspi td spi_dropped)"
	nonzero no_response "$(spistat no_response)"
	nonzero retries "$(spistat retries)"
	assert_eq failures 0 "$(spistat failures)"
	assert_eq state running "$(chan 0 state)"
	assert_not_contains alarms communication "$(chan 0 alarms)"
	# 600 s at 1 mL/h: 6666 whole 25 nL steps
	assert_eq delivered 166650 "$(chan 0 delivered_nl)"
	rm_card td
}

# persistent_case KNOB VALUE COUNTER: the wire stays broken
persistent_case() {
	knob=$1 val=$2 counter=$3
	mk_spi_card p
	ctl "$CARD" "start 0 1000000"
	advance p 1000
	write_ok "$val" "$SIMDBG/p/$knob"
	advance p 2000
	assert_eq "state ($knob)" fault "$(chan 0 state)"
	assert_contains "alarm ($knob)" communication "$(chan 0 alarms)"
	nonzero "failures ($knob)" "$(spistat failures)"
	nonzero "$counter ($knob)" "$(spistat "$counter")"
	# the sim's view: the motor has stopped (by the core's stop, or by
	# the card's own watchdog when nothing reaches the card)
	p1=$(cat "$(simch p 0 patient_delivered_nl)")
	advance p 60000
	assert_eq "motor stopped ($knob)" "$p1" "$(cat "$(simch p 0 patient_delivered_nl)")"
	# ack is refused while the wire is broken ...
	ctl_fails "Input/output error" "$CARD" "ack 0"
	assert_eq "still fault ($knob)" fault "$(chan 0 state)"
	# ... and works once it is repaired
	write_ok 0 "$SIMDBG/p/$knob"
	ctl "$CARD" "ack card"
	ctl "$CARD" "ack 0"
	assert_eq "recovered ($knob)" idle "$(chan 0 state)"
	ctl "$CARD" "start 0 1000000"
	assert_eq "restarted ($knob)" running "$(chan 0 state)"
	f=$(spistat failures)
	d=$(chan 0 delivered_nl)
	advance p 36000
	assert_eq "no new failures ($knob)" "$f" "$(spistat failures)"
	assert_eq "delivering ($knob)" $((d + 10000)) "$(chan 0 delivered_nl)"
	rm_card p
}
t_spi_persistent_corrupt() { persistent_case spi_corrupt_every 1 crc_errors; }
t_spi_persistent_stuck_miso() { persistent_case spi_stuck_miso 1 no_response; }
t_spi_persistent_drop() { persistent_case spi_drop_every 1 no_response; }

# the model's own register faults reach the wire as status FAULT: a single
# one is retried away, a persistent one is the communication alarm
t_spi_card_fault_status() {
	mk_spi_card cf
	ctl "$CARD" "start 0 1000000"
	write_ok 7 "$SIMDBG/cf/io_fail_every"
	advance cf 60000
	nonzero card_errors "$(spistat card_errors)"
	assert_eq failures 0 "$(spistat failures)"
	assert_eq running running "$(chan 0 state)"
	write_ok 1 "$SIMDBG/cf/io_fail_every"
	advance cf 2000
	assert_eq fault fault "$(chan 0 state)"
	assert_contains alarm communication "$(chan 0 alarms)"
	write_ok 0 "$SIMDBG/cf/io_fail_every"
	ctl "$CARD" "ack card"
	ctl "$CARD" "ack 0"
	assert_eq recovered idle "$(chan 0 state)"
	rm_card cf
}

t_spi_glue_unbind_rebind() {
	mk_spi_card ub
	ctl "$CARD" "start 0 1000000"
	advance ub 1000
	cls=$CLS
	rmmod ipump_spi || fail "rmmod ipump_spi with a bound card"
	[ ! -e "$cls" ] || fail "$cls survives its glue"
	assert_eq no-card "" "$(cat "$CFS/ub/card")"
	# time goes on without a driver: the card's watchdog stops the motor
	advance ub 5000
	p1=$(cat "$(simch ub 0 patient_delivered_nl)")
	advance ub 5000
	assert_eq stopped-without-driver "$p1" "$(cat "$(simch ub 0 patient_delivered_nl)")"
	modprobe ipump_spi || fail "modprobe ipump_spi"
	CARD=$(cat "$CFS/ub/card")
	[ -n "$CARD" ] || fail "no card after the glue came back"
	CLS=/sys/class/ipump/$CARD
	assert_eq rebound idle "$(chan 0 state)"
	ctl "$CARD" "ack card"
	# the card's counter is cumulative: it kept what it delivered before
	d0=$(chan 0 delivered_nl)
	ctl "$CARD" "start 0 1000000"
	advance ub 3600
	assert_eq delivering $((d0 + 1000)) "$(chan 0 delivered_nl)"
	rm_card ub
}

t_spi_remove_while_running() {
	mk_spi_card rm num_channels=2
	ctl "$CARD" "start 0 1000000"
	ctl "$CARD" "start 1 50000000"
	write_ok 5 "$SIMDBG/rm/spi_corrupt_every"
	advance rm 5000
	cls=$CLS spidev=$SPIDEV
	exec 3< "$STAT/transfers"
	rm_card rm
	[ ! -e "$cls" ] || fail "$cls survives its card"
	[ ! -e "$spidev" ] || fail "$spidev survives its card"
	if cat <&3 >/dev/null 2>&1; then :; fi
	exec 3<&-
	assert_eq core-cards 0 "$(objects $CORDBG/objects cards)"
	for k in $(awk '{ print $1 }' $SIMDBG/objects); do
		assert_eq "sim-$k" 0 "$(objects $SIMDBG/objects "$k")"
	done
}

t_spi_create_destroy_20() { create_destroy mk_spi_card sl 20; }

TESTS="spi_live spi_probe_error spi_delivery_hour spi_transient_corrupt
spi_transient_drop spi_persistent_corrupt spi_persistent_stuck_miso
spi_persistent_drop spi_card_fault_status spi_glue_unbind_rebind
spi_remove_while_running spi_create_destroy_20"

ipump_load
modprobe ipump_spi || fail "modprobe ipump_spi"
run_card_tests "$TESTS"
