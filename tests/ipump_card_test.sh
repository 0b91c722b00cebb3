#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The simulated card and the core that drives it: configfs life cycle,
# delivery against rate x time in virtual time, every injected fault reaching
# sysfs as its alarm (and the card stopping where it must), removal while
# running, and 100 create/destroy cycles without a leaked object.
DIR=$(dirname "$0")
. "$DIR/lib.sh"
. "$DIR/ipump_card_lib.sh"

HOUR_MS=3600000

t_configfs_good() {
	mk_card good num_channels=3 serial=81985529216486895 fw_version=66051
	assert_eq num_channels 3 "$(cat "$CLS/num_channels")"
	assert_eq serial 0123456789abcdef "$(cat "$CLS/serial_number")"
	assert_eq firmware 1.2.3 "$(cat "$CLS/firmware_version")"
	assert_eq map_version 1.1 "$(cat "$CLS/map_version")"
	assert_eq clock simulated "$(cat "$CLS/clock")"
	[ -d "$CLS/channel2" ] || fail "channel2 missing"
	[ ! -e "$CLS/channel3" ] || fail "channel3 of a 3-channel card exists"
	for c in 0 1 2; do
		assert_eq "channel$c state" idle "$(chan $c state)"
		assert_eq "channel$c alarms" "" "$(chan $c alarms)"
	done
	assert_eq dev_name-nonempty 1 "$([ -n "$(cat "$CFS/good/dev_name")" ] && echo 1)"
	rm_card good
	[ ! -e "$CLS" ] || fail "$CLS still there after rmdir"
}

t_configfs_bad_input() {
	mkdir "$CFS/bad" || fail mkdir
	for v in abc "" 0 9 -1 99999999999999999999 1x; do
		write_fails "Invalid argument" "$v" "$CFS/bad/num_channels"
	done
	write_fails "Invalid argument" 2 "$CFS/bad/live"
	write_fails "Invalid argument" abc "$CFS/bad/reservoir_nl"
	write_fails "Invalid argument" 0 "$CFS/bad/nl_per_step"
	# the refusals changed nothing: the same card goes live with good values
	write_ok 8 "$CFS/bad/num_channels"
	write_ok 1 "$CFS/bad/live"
	write_fails "Device or resource busy" 2 "$CFS/bad/num_channels"
	write_fails "Device or resource busy" 1000 "$CFS/bad/nl_per_step"
	card=$(cat "$CFS/bad/card")
	assert_eq num_channels 8 "$(cat /sys/class/ipump/$card/num_channels)"
	# and after going offline the attribute can change again
	write_ok 0 "$CFS/bad/live"
	write_ok 2 "$CFS/bad/num_channels"
	rm_card bad
}

t_several_cards() {
	mk_card c1
	c1=$CARD
	mk_card c2 num_channels=2
	c2=$CARD
	[ "$c1" != "$c2" ] || fail "two cards share $c1"
	assert_eq c2-channels 2 "$(cat /sys/class/ipump/$c2/num_channels)"
	# serial numbers differ by default (udev links rely on it)
	[ "$(cat /sys/class/ipump/$c1/serial_number)" != \
	  "$(cat /sys/class/ipump/$c2/serial_number)" ] || fail "equal default serials"
	rm_card c1
	[ -d /sys/class/ipump/$c2 ] || fail "removing c1 removed c2"
	rm_card c2
}

# delivery over one virtual hour at RATE nl/h with STEP nl per step
delivery_hour() {
	rate=$1 step=$2
	mk_card acc nl_per_step="$step" reservoir_nl=4000000000
	res0=$(chan 0 reservoir_nl)
	ctl "$CARD" "start 0 $rate"
	assert_eq state running "$(chan 0 state)"
	assert_eq rate "$rate" "$(chan 0 rate_nl_per_h)"
	advance acc $HOUR_MS
	assert_eq time_ns 3600000000000 "$(cat $SIMDBG/acc/time_ns)"
	got=$(chan 0 delivered_nl)
	expect=$(( rate / step * step ))	# whole steps, rounded toward less drug
	err=$(( got - rate ))
	echo "rate $rate nl/h, $step nl/step: delivered $got nl in 1 h, error $err nl" \
	     "($(awk -v e=$err -v r=$rate 'BEGIN { printf "%.4f", 100 * e / r }') %)"
	assert_eq delivered "$expect" "$got"
	assert_eq steps $(( got / step )) "$(chan 0 step_count)"
	assert_eq reservoir $(( res0 - got )) "$(chan 0 reservoir_nl)"
	# the core kept the card watchdog alive through the whole virtual hour
	assert_not_contains card-alarms card-watchdog "$(cat "$CLS/alarms")"
	assert_eq still-running running "$(chan 0 state)"
	ctl "$CARD" "stop 0"
	assert_eq stopped idle "$(chan 0 state)"
	advance acc 60000
	assert_eq no-delivery-when-stopped "$got" "$(chan 0 delivered_nl)"
	rm_card acc
}
t_delivery_0_1_ml_h() { delivery_hour 100000 25; }
t_delivery_1_ml_h() { delivery_hour 1000000 25; }
t_delivery_100_ml_h() { delivery_hour 100000000 25; }
# adverse: a coarse motor and a rate that is not a whole number of steps
t_delivery_coarse_motor() { delivery_hour 123456 1000; }

t_start_refusals() {
	mk_card ref num_channels=2
	ctl_fails "Invalid argument" "$CARD" "start 2 1000"	# no channel 2
	ctl_fails "Invalid argument" "$CARD" "start 0 0"	# zero rate
	ctl_fails "Invalid argument" "$CARD" "bogus 0"
	assert_eq unchanged idle "$(chan 0 state)"
	ctl "$CARD" "start 1 1000"			# the same, valid, works
	assert_eq started running "$(chan 1 state)"
	ctl_fails "Device or resource busy" "$CARD" "start 1 1000"
	rm_card ref
}

# fault_case KNOB VALUE ALARM STOPS [ADVANCE_MS]
fault_case() {
	knob=$1 val=$2 alarm=$3 stops=$4 adv=${5:-5000}
	mk_card f
	ctl "$CARD" "start 0 1000000"
	advance f 1000
	write_ok "$val" "$(simch f 0 "$knob")"
	advance f "$adv"
	assert_contains "alarms after $knob" "$alarm" "$(chan 0 alarms)"
	if [ "$stops" = stops ]; then
		assert_eq "state after $knob" alarm-stopped "$(chan 0 state)"
		d1=$(chan 0 delivered_nl)
		advance f 60000
		assert_eq "no delivery after $knob" "$d1" "$(chan 0 delivered_nl)"
		assert_eq "motor after $knob" stopped "$(chan 0 motor)"
	fi
	rm_card f
}
t_fault_occlusion_downstream() {
	# 300 mmHg x 500 nl/mmHg = 150 ul trapped: 540 s at 1 ml/h
	mk_card occ
	ctl "$CARD" "start 0 1000000"
	write_ok 1 "$(simch occ 0 occlusion_down)"
	advance occ 530000
	assert_not_contains early occlusion-downstream "$(chan 0 alarms)"
	assert_eq rising 1 "$([ "$(chan 0 pressure_down_mmhg)" -gt 250 ] && echo 1)"
	advance occ 20000
	assert_contains alarm occlusion-downstream "$(chan 0 alarms)"
	assert_eq state alarm-stopped "$(chan 0 state)"
	# the core backs the motor off: the trapped volume is drawn back
	# (150 ul at 10 ml/h: 54 s), so releasing the occlusion pushes nothing
	d1=$(chan 0 delivered_nl)
	advance occ 60000
	assert_eq backed-off 0 "$(chan 0 pressure_down_mmhg)"
	assert_eq drawn-back 1 "$([ "$(chan 0 delivered_nl)" -lt "$d1" ] && echo 1)"
	write_ok 0 "$(simch occ 0 occlusion_down)"
	advance occ 1000
	released=$(cat "$(simch occ 0 released_nl)")
	echo "released after occlusion (back-off): $released nl"
	assert_eq released-under-one-step 1 "$([ "$released" -lt 25 ] && echo 1)"
	# the alarm stays latched until acknowledged, then the channel is idle
	assert_contains latched occlusion-downstream "$(chan 0 alarms)"
	ctl "$CARD" "ack 0"
	assert_eq acked "" "$(chan 0 alarms)"
	assert_eq idle-after-ack idle "$(chan 0 state)"
	rm_card occ
}
t_fault_occlusion_upstream() { fault_case occlusion_up 1 occlusion-upstream stops; }
# the core sets the card's single-bubble threshold to 200 ul (GIP)
t_fault_air_in_line() { fault_case air_bubble_nl 200000 air-in-line stops 10000; }
t_fault_door_open() { fault_case door_open 1 door-open stops; }
t_fault_reservoir_empty() { fault_case reservoir_nl 100 reservoir-empty stops; }
t_fault_reservoir_low() { fault_case reservoir_nl 1000000 reservoir-low runs; }
t_fault_motor_stall() { fault_case stall 1 motor-stall runs; }
t_fault_free_flow() { fault_case free_flow_nl_per_h 5000000 free-flow runs; }

t_fault_small_bubble_no_alarm() {
	mk_card air
	ctl "$CARD" "start 0 1000000"
	write_ok 10000 "$(simch air 0 air_bubble_nl)"	# under the 200 ul threshold
	advance air 10000
	assert_not_contains small-bubble air-in-line "$(chan 0 alarms)"
	assert_eq running running "$(chan 0 state)"
	rm_card air
}

t_fault_battery() {
	mk_card bat
	ctl "$CARD" "start 0 1000000"
	assert_eq power-mains mains "$(cat "$CLS/power_source")"
	write_ok 30 "$SIMDBG/bat/battery_minutes"
	write_ok 0 "$SIMDBG/bat/mains"
	advance bat 1000
	assert_eq power-battery battery "$(cat "$CLS/power_source")"
	assert_contains mains-lost mains-lost "$(cat "$CLS/alarms")"
	assert_not_contains not-low-yet battery-low "$(cat "$CLS/alarms")"
	# the battery drains with virtual time: 30 -> under 15 minutes
	advance bat $((16 * 60000))
	assert_contains battery-low battery-low "$(cat "$CLS/alarms")"
	advance bat $((11 * 60000))
	assert_contains battery-depleted battery-depleted "$(cat "$CLS/alarms")"
	rm_card bat
}

t_fault_card_watchdog() {
	mk_card wdt num_channels=2
	ctl "$CARD" "start 0 1000000"
	ctl "$CARD" "start 1 1000000"
	write_ok 1 "$SIMDBG/wdt/wdt_expire"
	advance wdt 1000
	assert_contains card-alarm card-watchdog "$(cat "$CLS/alarms")"
	for c in 0 1; do
		assert_eq "state$c" alarm-stopped "$(chan $c state)"
		assert_eq "motor$c" stopped "$(chan $c motor)"
	done
	rm_card wdt
}

t_fault_register_errors() {
	mk_card io
	ctl "$CARD" "start 0 1000000"
	advance io 1000
	write_ok 1 "$SIMDBG/io/io_fail_every"
	# a failed read is reported, never ignored
	if cat "$CLS/channel0/delivered_nl" 2>/dev/null; then
		fail "read succeeded while every access fails"
	fi
	assert_eq state fault "$(chan 0 state)"
	assert_contains alarm communication "$(chan 0 alarms)"
	[ "$(cat $SIMDBG/io/io_failures)" -gt 0 ] || fail "no injected failure counted"
	# ack is refused while the card still does not answer ...
	ctl_fails "Input/output error" "$CARD" "ack 0"
	assert_eq still-fault fault "$(chan 0 state)"
	# ... and works once it does
	write_ok 0 "$SIMDBG/io/io_fail_every"
	ctl "$CARD" "ack 0"
	assert_eq recovered idle "$(chan 0 state)"
	ctl "$CARD" "start 0 1000000"
	assert_eq restarted running "$(chan 0 state)"
	rm_card io
}

t_fault_every_nth_access() {
	mk_card nth
	ctl "$CARD" "start 0 1000000"
	write_ok 50 "$SIMDBG/nth/io_fail_every"
	# the core's watchdog kicks alone reach the 50th access within seconds
	advance nth 60000
	assert_eq state fault "$(chan 0 state)"
	assert_contains alarm communication "$(chan 0 alarms)"
	rm_card nth
}

t_fault_stuck_identity() {
	mk_card stk
	ctl "$CARD" "start 0 1000000"
	# ID register (0x000) stuck at a wrong value: the core's periodic
	# identity check must not trust the card any more
	write_ok 0 "$SIMDBG/stk/stuck_reg_addr"
	write_ok 305419896 "$SIMDBG/stk/stuck_reg_value"
	advance stk 2000
	assert_eq state fault "$(chan 0 state)"
	assert_contains alarm communication "$(chan 0 alarms)"
	assert_eq motor stopped "$(chan 0 motor)"
	write_ok -1 "$SIMDBG/stk/stuck_reg_addr"
	ctl "$CARD" "ack 0"
	assert_eq recovered idle "$(chan 0 state)"
	rm_card stk
}

t_fault_flipped_alarm_bits() {
	mk_card flp
	ctl "$CARD" "start 0 1000000"
	# channel 0 ALARM_COND (0x138) reads with a bit the map does not define
	write_ok 312 "$SIMDBG/flp/flip_reg_addr"
	write_ok 1048576 "$SIMDBG/flp/flip_mask"
	write_ok 1 "$(simch flp 0 door_open)"	# makes the core read it
	assert_eq state fault "$(chan 0 state)"
	assert_contains alarm communication "$(chan 0 alarms)"
	rm_card flp
}

t_sim_speed_error_and_silent_stall() {
	# the card's counters report what the motor really did (the core's
	# delivery verification relies on it; at more than 10 % over it stops
	# the channel, see ipump_therapy_test)
	mk_card spd num_channels=2
	write_ok 5 "$(simch spd 0 speed_error_pct)"
	write_ok 1 "$(simch spd 1 stall_silent)"
	ctl "$CARD" "start 0 1000000"
	ctl "$CARD" "start 1 1000000"
	advance spd $HOUR_MS
	assert_eq fast-motor 1050000 "$(chan 0 delivered_nl)"
	assert_eq silent-stall 0 "$(chan 1 delivered_nl)"
	# the card did not notice; the core did, from the step counter
	assert_contains core-sees-stall motor-stall "$(chan 1 alarms)"
	assert_eq stall-stops alarm-stopped "$(chan 1 state)"
	rm_card spd
}

t_handset_presses() {
	mk_card hs
	assert_eq none 0 "$(chan 0 handset_presses)"
	write_ok 1 "$(simch hs 0 handset_press)"
	advance hs 1000
	write_ok 1 "$(simch hs 0 handset_press)"
	assert_eq two 2 "$(chan 0 handset_presses)"
	assert_eq still-idle idle "$(chan 0 state)"
	rm_card hs
}

t_remove_while_running() {
	mk_card rm num_channels=2
	ctl "$CARD" "start 0 1000000"
	ctl "$CARD" "start 1 50000000"
	advance rm 5000
	cls=$CLS
	exec 3< "$cls/channel0/delivered_nl"
	rm_card rm
	[ ! -e "$cls" ] || fail "$cls survives its card"
	# a file opened before the removal fails cleanly instead of crashing
	if cat <&3 >/dev/null 2>&1; then :; fi
	exec 3<&-
	[ ! -e "$CORDBG/$CARD" ] || fail "debugfs of $CARD survives"
}

t_create_destroy_100() { create_destroy mk_card loop 100; }

t_unload_with_cards() {
	mk_card u1
	ctl "$CARD" "start 0 1000000"
	rm_card u1
	rmmod ipump_sim || fail "rmmod ipump_sim"
	rmmod ipump || fail "rmmod ipump"
	ipump_load
}

TESTS="configfs_good configfs_bad_input several_cards delivery_0_1_ml_h
delivery_1_ml_h delivery_100_ml_h delivery_coarse_motor start_refusals
fault_occlusion_downstream fault_occlusion_upstream fault_air_in_line
fault_small_bubble_no_alarm fault_door_open fault_reservoir_empty
fault_reservoir_low fault_motor_stall fault_free_flow fault_battery
fault_card_watchdog fault_register_errors fault_every_nth_access
fault_stuck_identity fault_flipped_alarm_bits sim_speed_error_and_silent_stall
handset_presses
remove_while_running create_destroy_100 unload_with_cards"

ipump_load
run_card_tests "$TESTS"
