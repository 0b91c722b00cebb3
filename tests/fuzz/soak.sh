#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Soak and fault run, in the test VM as root (busybox sh):
#
#   soak.sh [--cycles N] [--seed N] [--reload-every N]
#
# Each cycle: create a simulated card (2 channels) -> a reader blocks in
# poll() on it and a console (ipump_soak_helper) takes channel 0's lease,
# programmes, starts (sometimes a bolus) and blocks in poll() -> a second
# console runs a bolus on channel 1 with the cycle's lease-loss mode and is
# killed with SIGKILL mid-bolus: channel 1 must end in that mode's safe
# state (stop / KVO / continue-basal) every time -> a random fault
# (occlusion, air, door, register failures, card watchdog, motor stall) ->
# the card is removed (live = 0, or rmdir at once) with the files open and
# both blocked: each must read CARD_REMOVED, then ENODEV, then POLLHUP.
# Every --reload-every cycles: the modules are unloaded and reloaded with
# tools attached (a reader on /dev/ipumpN, a netlink socket in the monitor
# group holding a lease): unloading is refused while the reader holds the
# device, the card is removed under both, then the unload succeeds with the
# netlink tool still attached, and the reload works.
# At the end the driver's object counters (debugfs) must be back to 0.
set -u
CYCLES=1000
SEED=1
RELOAD_EVERY=100
while [ $# -gt 0 ]; do
	case $1 in
	--cycles) CYCLES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--reload-every) RELOAD_EVERY=$2; shift 2 ;;
	*) echo "usage: soak.sh [--cycles N] [--seed N] [--reload-every N]"; exit 2 ;;
	esac
done

H=ipump_soak_helper
CFS=/sys/kernel/config/ipump-sim
SIMDBG=/sys/kernel/debug/ipump_sim
T=/tmp/soak
mkdir -p $T
RANDOM=$SEED
failures=0
fail() { echo "SOAK FAIL (cycle ${i:-0}): $*"; failures=$((failures + 1)); }

# waits for a helper's ready file (or its early death): 0 when ready
wait_ready() {	# FILE PID
	n=0
	while [ ! -e "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		n=$((n + 1))
		[ $n -gt 3000 ] && return 1
		usleep 10000
	done
	return 0
}

objects_zero() {	# WHAT: 0 when every counter in both objects files is 0
	for f in /sys/kernel/debug/ipump/objects $SIMDBG/objects; do
		[ -e $f ] || continue
		if awk '$2 != 0 { bad = 1 } END { exit bad }' $f; then :; else
			fail "$1: $f not back to 0: $(tr '\n' ' ' < $f)"
			return 1
		fi
	done
	return 0
}

mkcard() {	# NAME: sets CARD DEV
	mkdir $CFS/$1 || return 1
	echo 2 > $CFS/$1/num_channels
	# a stiff line: an occlusion reaches the alarm in seconds
	echo 10 > $CFS/$1/compliance_nl_per_mmhg
	echo 1 > $CFS/$1/live || { rmdir $CFS/$1; return 1; }
	CARD=$(cat $CFS/$1/card)
	DEV=/dev/$CARD
	[ -c $DEV ] || return 1
	return 0
}

modprobe ipump_sim || { echo "SOAK FAIL: modprobe ipump_sim"; exit 1; }

cycles=0 removed_ok=0 reloads=0
f_occlusion=0 f_air=0 f_door=0 f_io_fail=0 f_wdt=0 f_stall=0
ll_stop=0 ll_kvo=0 ll_basal=0
t0=$(date +%s)

reload() {
	rl=reload$i
	if ! mkcard $rl; then fail "reload: making a card"; return; fi
	rm -f $T/rr $T/nr
	$H reader $DEV $T/rr > $T/rl-reader.out 2>&1 &
	rpid=$!
	$H nlmon "${CARD#ipump}" 0 $T/nr > $T/rl-nlmon.out 2>&1 &
	npid=$!
	wait_ready $T/rr $rpid || fail "reload: reader not ready"
	wait_ready $T/nr $npid || fail "reload: nlmon not ready"
	# the device is held: the core cannot go, and nothing breaks
	if rmmod ipump 2>/dev/null; then fail "reload: rmmod ipump succeeded with a reader attached"; fi
	if rmmod ipump_sim 2>/dev/null; then fail "reload: rmmod ipump_sim succeeded with a card configured"; fi
	[ "$(cat $CFS/$rl/live)" = 1 ] || fail "reload: the card went away"
	echo 0 > $CFS/$rl/live
	rmdir $CFS/$rl
	wait $rpid || fail "reload: reader: $(cat $T/rl-reader.out)"
	# the netlink tool is still attached (monitor group, a lease)
	kill -0 $npid 2>/dev/null || fail "reload: nlmon died"
	objects_zero "before unload"
	rmmod ipump_sim || fail "reload: rmmod ipump_sim"
	rmmod ipump_spi 2>/dev/null
	rmmod ipump || fail "reload: rmmod ipump with nothing attached but a netlink socket"
	modprobe ipump_sim || { echo "SOAK FAIL: reload: modprobe ipump_sim"; exit 1; }
	kill -TERM $npid
	wait $npid || fail "reload: nlmon: $(cat $T/rl-nlmon.out)"
	reloads=$((reloads + 1))
}

i=0
while [ $i -lt "$CYCLES" ]; do
	i=$((i + 1))
	name=soak$i
	if ! mkcard $name; then fail "making card $name"; continue; fi
	rm -f $T/r $T/c $T/k
	$H reader $DEV $T/r > $T/reader.out 2>&1 &
	rpid=$!
	bolus=$((RANDOM % 2))
	$H console $DEV 0 $((RANDOM % 3)) $bolus $T/c > $T/console.out 2>&1 &
	cpid=$!
	wait_ready $T/r $rpid || fail "reader not ready: $(cat $T/reader.out)"
	wait_ready $T/c $cpid || fail "console not ready: $(cat $T/console.out)"

	# a console killed mid-bolus: the channel takes its lease-loss mode
	mode=$((i % 3))
	$H console $DEV 1 $mode 1 $T/k > $T/killed.out 2>&1 &
	kpid=$!
	if wait_ready $T/k $kpid; then
		kill -KILL $kpid
		wait $kpid 2>/dev/null
		if $H check-lease-loss $DEV 1 $mode > $T/ll.out 2>&1; then
			case $mode in
			0) ll_stop=$((ll_stop + 1)) ;;
			1) ll_kvo=$((ll_kvo + 1)) ;;
			2) ll_basal=$((ll_basal + 1)) ;;
			esac
		else
			fail "lease loss, mode $mode: $(cat $T/ll.out)"
		fi
	else
		fail "console to kill not ready: $(cat $T/killed.out)"
		kill -KILL $kpid 2>/dev/null
	fi

	# a random fault on channel 0
	d=$SIMDBG/$name
	case $((RANDOM % 6)) in
	0) echo 1 > $d/ch0/occlusion_down; echo 20000 > $d/advance_ms
	   f_occlusion=$((f_occlusion + 1)) ;;
	1) echo 250000 > $d/ch0/air_bubble_nl; echo 1000 > $d/advance_ms
	   f_air=$((f_air + 1)) ;;
	2) echo 1 > $d/ch0/door_open; f_door=$((f_door + 1)) ;;
	3) echo 3 > $d/io_fail_every; echo 2000 > $d/advance_ms 2>/dev/null
	   f_io_fail=$((f_io_fail + 1)) ;;
	4) echo 1 > $d/wdt_expire; f_wdt=$((f_wdt + 1)) ;;
	5) echo 1 > $d/ch0/stall; echo 2000 > $d/advance_ms
	   f_stall=$((f_stall + 1)) ;;
	esac

	# removal with the files open and both readers blocked in poll()
	if [ $((RANDOM % 2)) = 0 ]; then
		echo 0 > $CFS/$name/live
	fi
	rmdir $CFS/$name || fail "rmdir $name"
	ok=1
	wait $rpid || { ok=0; fail "reader: $(cat $T/reader.out)"; }
	wait $cpid || { ok=0; fail "console: $(cat $T/console.out)"; }
	[ $ok = 1 ] && removed_ok=$((removed_ok + 1))
	cycles=$((cycles + 1))

	if [ "$RELOAD_EVERY" -gt 0 ] && [ $((i % RELOAD_EVERY)) = 0 ]; then
		reload
	fi
	if [ $((i % 100)) = 0 ]; then
		echo "soak: $i cycles, $(( $(date +%s) - t0 )) s, $failures failures"
	fi
done

sleep 1
objects_zero "end"
t=$(( $(date +%s) - t0 ))
echo "soak: cycles $cycles in $t s (seed $SEED)"
echo "soak: removals with a blocked reader and console ending CARD_REMOVED+ENODEV+POLLHUP: $removed_ok"
echo "soak: faults occlusion $f_occlusion air $f_air door $f_door io_fail $f_io_fail wdt $f_wdt stall $f_stall"
echo "soak: lease-loss checks passed: stop $ll_stop kvo $ll_kvo continue-basal $ll_basal (total $((ll_stop + ll_kvo + ll_basal)))"
echo "soak: module unload/reload with tools attached: $reloads"
echo "soak: objects: $(tr '\n' ' ' < /sys/kernel/debug/ipump/objects)/ $(tr '\n' ' ' < $SIMDBG/objects)"
echo "soak: failures $failures"
[ $failures = 0 ] && [ $cycles = "$CYCLES" ] && echo "soak: PASS" && exit 0
echo "soak: FAIL"
exit 1
