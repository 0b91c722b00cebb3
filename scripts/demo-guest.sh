#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the demo VM (see scripts/demo): a simulated card driven by
# ipumpctl and watched by ipumpmon. A PCA programme with explicit units,
# a console holding the lease, a patient demand and a refused one inside
# the lockout, an hour of virtual time, a downstream occlusion backed off
# so no bolus is released, and a console killed mid-therapy.
set -e
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@" || printf '(exit status %d)\n' $?; }
advance() { echo "$1" > "$sim/advance_ms"; }
# the lease (60 s) runs on the card's virtual clock: renew every 50 s of it
advance_renewing() {
	left=$1
	while [ "$left" -gt 0 ]; do
		step=$(( left < 50000 ? left : 50000 ))
		advance $step
		echo renew >&3
		con_wait > /dev/null
		left=$((left - step))
	done
}

# the console reads commands from a fifo and answers one line each
con_open() {
	rm -f /tmp/con.in /tmp/con.out
	mkfifo /tmp/con.in
	ipumpctl console "$n/0" --period 60s < /tmp/con.in > /tmp/con.out 2>&1 &
	con_pid=$!
	exec 3> /tmp/con.in
	con_seen=0
	con_wait
}
con_wait() {
	con_seen=$((con_seen + 1))
	i=0
	while [ "$(grep -c -E '^(ok|error:)' /tmp/con.out)" -lt $con_seen ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	grep -E '^(ok|error:)' /tmp/con.out | sed -n "${con_seen}p" | sed 's/^/   /'
}
con() { printf 'console> %s\n' "$*"; echo "$*" >&3; con_wait; }

say "kernel $(uname -r); loading ipump and ipump_sim"
modprobe ipump_sim
modinfo ipump | grep -E '^(description|version)'

say "create a simulated card with 2 channels (configfs)"
mkdir /sys/kernel/config/ipump-sim/demo
echo 2 > /sys/kernel/config/ipump-sim/demo/num_channels
echo 1 > /sys/kernel/config/ipump-sim/demo/live
card=$(cat /sys/kernel/config/ipump-sim/demo/card)
n=${card#ipump}
sim=/sys/kernel/debug/ipump_sim/demo
run ipumpctl list

say "ipumpmon watches the monitor group in the background"
ipumpmon --card "$n" > /tmp/mon.out 2>&1 &
mon_pid=$!
sleep 0.3

say "a value without a unit is refused; then a PCA programme with units"
run ipumpctl programme "$n/0" --route iv --basal 2 --vtbi 50ml \
	--dose-1h 5ml --dose-4h 15ml --generation 0
run ipumpctl programme "$n/0" --route iv --basal 2ml/h --kvo 0.5ml/h \
	--vtbi 50ml --pca --bolus 0.5ml --bolus-rate 10ml/h --lockout 10min \
	--max-per-hour 4 --dose-1h 5ml --dose-4h 15ml --generation 0

say "a one-shot start has no lease: refused, with the kernel's reason"
run ipumpctl start "$n/0" --generation 1

say "a console holds the lease, starts, and the patient asks for a bolus"
con_open
con start --generation 1
con bolus --demand
advance_renewing 181000
con status
say "a second demand inside the 10 min lockout is denied and counted"
con bolus --demand

say "one hour of virtual time (the console renews its lease meanwhile)"
advance_renewing 3600000
run ipumpctl status "$n/0"

say "a downstream occlusion: the card stops, the core backs the motor off"
echo 1 > "$sim/ch0/occlusion_down"
advance_renewing 600000
run ipumpctl status "$n/0"
advance_renewing 120000
echo 0 > "$sim/ch0/occlusion_down"
printf 'released to the patient when the occlusion cleared: %s nl\n' \
	"$(cat "$sim/ch0/released_nl")"
run ipumpctl ack "$n/0"
con start --generation 1

say "the console is killed: the lease is lost, the channel stops (mode stop)"
kill -9 "$con_pid"
wait "$con_pid" 2>/dev/null || true
sleep 0.2
run ipumpctl status "$n/0"

say "what ipumpmon saw"
kill "$mon_pid" 2>/dev/null || true
sleep 0.2
tail -n 25 /tmp/mon.out

say "the audit log (last records), then remove the card"
ipumpctl log "$n" | tail -n 12
echo 0 > /sys/kernel/config/ipump-sim/demo/live
rmdir /sys/kernel/config/ipump-sim/demo
echo "demo finished"
