#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the demo VM (see scripts/demo): a simulated card, a channel
# run for a virtual hour, then an injected downstream occlusion.
set -e
say() { printf '\n== %s\n' "$*"; }
show() { printf '%-28s %s\n' "$1" "$(cat "$2")"; }

say "kernel $(uname -r); loading ipump and ipump_sim"
modprobe ipump_sim
modinfo ipump | grep -E '^(description|version)'

say "create a simulated card with 2 channels (configfs)"
mkdir /sys/kernel/config/ipump-sim/demo
echo 2 > /sys/kernel/config/ipump-sim/demo/num_channels
echo 1 > /sys/kernel/config/ipump-sim/demo/live
card=$(cat /sys/kernel/config/ipump-sim/demo/card)
cls=/sys/class/ipump/$card
sim=/sys/kernel/debug/ipump_sim/demo
for f in serial_number firmware_version num_channels clock power_source; do
	show "$card/$f" "$cls/$f"
done

say "channel 0: start at 1 mL/h (1000000 nl/h), advance the card's clock 1 h"
echo "start 0 1000000" > /sys/kernel/debug/ipump/$card/control
echo 3600000 > $sim/advance_ms
for f in state rate_nl_per_h delivered_nl reservoir_nl step_count; do
	show "channel0/$f" "$cls/channel0/$f"
done

say "inject a downstream occlusion; pressure builds until the card stops"
echo 1 > $sim/ch0/occlusion_down
echo 600000 > $sim/advance_ms
for f in state motor pressure_down_mmhg alarms; do
	show "channel0/$f" "$cls/channel0/$f"
done

say "clear the occlusion, acknowledge, remove the card"
echo 0 > $sim/ch0/occlusion_down
echo "ack 0" > /sys/kernel/debug/ipump/$card/control
show "channel0/state" "$cls/channel0/state"
echo 0 > /sys/kernel/config/ipump-sim/demo/live
rmdir /sys/kernel/config/ipump-sim/demo
echo "demo finished"
