#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# ipumpctl and ipumpmon (tools/, Documentation/userspace-api/ipump-tools.rst)
# against a simulated card over the "ipump" generic netlink family: the card
# list, a programme typed with units and read back exactly, values without
# units or inexact ones refused before anything is sent (exit 2), a start
# without the console lease refused by the kernel with its extended-ACK
# reason (exit 1), a console driven through a pipe that starts the channel
# and runs PCA boluses in virtual time (lockout refused at 181 s, admitted at
# 601 s), ipumpmon catching the STARTED record, stop without the lease, the
# lease lost when the console is killed (channel alarm-stopped), and hard
# limits set as root. Every refusal is paired with the same request
# succeeding once its cause is gone. The -j/--json output of both tools is
# parsed back with jq and checked field by field against the text output
# and the values programmed; pause, titrate, one-shot ack, audio pause,
# --help, unknown commands, cards and channels, and ipumpmon's --channel and
# --min-priority filters have their own tests.
#
# Needs ipumpctl, ipumpmon and jq on PATH (tests/run-check passes jq to the
# VM); time only moves by advance_ms.
DIR=$(dirname "$0")
. "$DIR/lib.sh"
. "$DIR/ipump_card_lib.sh"

T=/tmp/ipump-tools
CON_PID=

# run CMD...: runs it; OUT its stdout and stderr, RC its exit status
run() {
	OUT=$("$@" 2>&1) && RC=0 || RC=$?
	echo "\$ $* -> $RC"
	[ -z "$OUT" ] || echo "$OUT" | sed 's/^/    /'
}
expect_rc() { [ "$RC" = "$1" ] || fail "exit status $RC, expected $1"; }
expect_out() {
	case "$OUT" in *"$1"*) ;; *) fail "output lacks '$1'" ;; esac
}
# sfield KEY / pfield KEY: a status line "  KEY: value" / programme "    KEY: value"
# jqv FILTER: FILTER applied to $OUT, raw (jq -r); fails on JSON that
# does not parse
jqv() { printf '%s\n' "$OUT" | jq -r "$1" || fail "jq '$1' on: $OUT"; }
# jrun CMD...: runs it; OUT its stdout only (the JSON), ERR its stderr
jrun() {
	OUT=$("$@" 2> $T/err) && RC=0 || RC=$?
	ERR=$(cat $T/err)
	echo "\$ $* -> $RC"
	[ -z "$OUT" ] || echo "$OUT" | sed 's/^/    /'
	[ -z "$ERR" ] || echo "$ERR" | sed 's/^/    stderr: /'
}
sfield() { echo "$OUT" | awk -v k="  $1" -F': ' '$1 == k { print $2; exit }'; }
pfield() { echo "$OUT" | awk -v k="    $1" -F': ' '$1 == k { print $2; exit }'; }

# the programme most tests load: iv, 2 mL/h, PCA 0.5 mL at 10 mL/h every 10 min
prog_pca() {	# prog_pca CARDN GENERATION
	ipumpctl programme "$1/0" --route iv --basal 2ml/h --kvo 0.5ml/h \
		--vtbi 50ml --pca --bolus 0.5ml --bolus-rate 10ml/h --lockout 10min \
		--max-per-hour 4 --dose-1h 5ml --dose-4h 15ml --generation "$2"
}

# ---- a console driven through a fifo ----

# con_start CARDN [options]: start `ipumpctl console CARDN/0` in the background
con_start() {
	n=$1
	shift
	rm -f $T/in $T/out
	mkfifo $T/in || fail mkfifo
	ipumpctl console "$n/0" "$@" < $T/in > $T/out 2>&1 &
	CON_PID=$!
	exec 3> $T/in
	con_wait 1
	case "$RESULT" in ok*) ;; *) fail "console did not start: $RESULT" ;; esac
}
# results so far: lines starting with "ok" or "error:" ($T/out may not
# exist yet: the console opens it after the fifo)
con_results() {
	c=$(grep -c -E '^(ok|error:)' $T/out 2>/dev/null || true)
	echo "${c:-0}"
}
# con_wait N: wait (real time, bounded) for the Nth result line; RESULT = it
con_wait() {
	i=0
	while [ "$(con_results)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat $T/out; fail "no answer from the console"; }
		sleep 0.1
	done
	RESULT=$(grep -E '^(ok|error:)' $T/out | sed -n "$1p")
}
# con CMD: send one console command, RESULT = its result line
con() {
	k=$(( $(con_results) + 1 ))
	echo "$*" >&3
	con_wait $k
	echo "console> $* -> $RESULT"
}
con_ok() { con "$@"; case "$RESULT" in ok*) ;; *) fail "'$*': $RESULT" ;; esac; }
con_err() {	# con_err NEEDLE CMD...
	needle=$1
	shift
	con "$@"
	case "$RESULT" in error:*"$needle"*) ;; *) fail "'$*': expected an error with '$needle', got: $RESULT" ;; esac
}
con_kill() {	# the console dies without releasing anything
	kill -9 "$CON_PID"
	wait "$CON_PID" 2>/dev/null || true
	CON_PID=
	exec 3>&-
}
con_quit() {
	con_ok quit
	exec 3>&-
	wait "$CON_PID" || fail "console exit status $?"
	CON_PID=
}
# advance in steps of at most 60 s, renewing the 60 s lease after each
advance_renewing() {	# advance_renewing NAME MS
	left=$2
	while [ "$left" -gt 0 ]; do
		step=$(( left > 60000 ? 60000 : left ))
		advance "$1" $step
		con_ok renew
		left=$(( left - step ))
	done
}

cleanup() {
	[ -z "$CON_PID" ] || kill -9 "$CON_PID" 2>/dev/null
	rm -rf $T
}

setup() {
	rm -rf $T
	mkdir -p $T
}

# ---- tests ----

t_list_and_status() {
	setup
	mk_card tl num_channels=2 serial=81985529216486895 fw_version=66051
	n=${CARD#ipump}
	run ipumpctl list
	expect_rc 0
	expect_out "$CARD"
	expect_out "0123456789abcdef"
	expect_out "1.2.3"
	expect_out "simulated"
	run ipumpctl status "$n"
	expect_rc 0
	expect_out "$CARD/0:"
	expect_out "$CARD/1:"
	run ipumpctl status "$n/1"
	expect_rc 0
	assert_eq state idle "$(sfield state)"
	assert_eq lease free "$(sfield lease)"
	assert_eq alarms none "$(sfield alarms)"
	# a card that does not exist: refused by the kernel, exit 1
	run ipumpctl status 9999/0
	expect_rc 1
	expect_out "status refused"
	# bad usage: exit 2
	run ipumpctl status "$n/x"
	expect_rc 2
	run ipumpctl frobnicate
	expect_rc 2
	rm_card tl
}

t_programme_exact() {
	setup
	mk_card tp
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	expect_out "generation 1"
	run ipumpctl status "$n/0"
	expect_rc 0
	assert_eq state programmed "$(sfield state)"
	assert_eq generation 1 "$(sfield generation)"
	assert_eq route intravenous "$(pfield route)"
	assert_eq basal "2ml/h (2000000 nl/h)" "$(pfield basal)"
	assert_eq kvo "0.5ml/h (500000 nl/h)" "$(pfield kvo)"
	assert_eq vtbi "50ml (50000000 nl)" "$(pfield vtbi)"
	assert_eq pca yes "$(pfield pca)"
	assert_eq bolus "0.5ml (500000 nl)" "$(pfield bolus)"
	assert_eq bolus_rate "10ml/h (10000000 nl/h)" "$(pfield bolus_rate)"
	assert_eq lockout "10min (600000 ms)" "$(pfield lockout)"
	assert_eq max_per_hour 4 "$(pfield max_per_hour)"
	assert_eq dose_1h "5ml (5000000 nl)" "$(pfield dose_1h)"
	assert_eq dose_4h "15ml (15000000 nl)" "$(pfield dose_4h)"
	assert_eq lease_loss stop "$(pfield lease_loss)"
	# the log has the same exact values
	run ipumpctl log "$n"
	expect_rc 0
	expect_out "programme-set info generation=1 basal=2ml/h route=intravenous vtbi=50ml"

	# another unit (100 ul/min = 6 ml/h), a spinal route: KVO defaults to 0
	run ipumpctl programme "$n/0" --route epidural --basal 100ul/min \
		--vtbi unlimited --dose-1h 10ml --dose-4h 30ml --generation 1
	expect_rc 0
	expect_out "generation 2"
	run ipumpctl status "$n/0"
	assert_eq basal2 "6ml/h (6000000 nl/h)" "$(pfield basal)"
	assert_eq kvo2 "0nl/h (0 nl/h)" "$(pfield kvo)"
	assert_eq vtbi2 unlimited "$(pfield vtbi)"
	assert_eq route2 epidural "$(pfield route)"
	assert_eq pca2 no "$(pfield pca)"

	# a stale generation is refused (ESTALE, reason named), the current one works
	run ipumpctl programme "$n/0" --route sc --basal 1ml/h --vtbi 10ml \
		--dose-1h 5ml --dose-4h 15ml --generation 1
	expect_rc 1
	expect_out "programme refused"
	expect_out "stale programme generation"
	expect_out "reason generation"
	run ipumpctl programme "$n/0" --route sc --basal 1ml/h --vtbi 10ml \
		--dose-1h 5ml --dose-4h 15ml --generation 2
	expect_rc 0
	expect_out "generation 3"
	rm_card tp
}

t_units_required() {
	setup
	mk_card tu
	n=${CARD#ipump}
	base="--route iv --vtbi 50ml --dose-1h 5ml --dose-4h 15ml --generation 0"
	# a bare number: exit 2, the option and the accepted units named
	run ipumpctl programme "$n/0" $base --basal 2
	expect_rc 2
	expect_out "--basal"
	expect_out "no unit"
	expect_out "ml per h, min or day"
	run ipumpctl programme "$n/0" --route iv --basal 2ml/h --vtbi 50 \
		--dose-1h 5ml --dose-4h 15ml --generation 0
	expect_rc 2
	expect_out "--vtbi"
	# not exact in nl/h (41666.67): refused, never rounded
	run ipumpctl programme "$n/0" $base --basal 1ml/day
	expect_rc 2
	expect_out "41666.67 nl/h"
	# beyond u32 nl/h, a negative, a malformed number
	run ipumpctl programme "$n/0" $base --basal 5000ml/h
	expect_rc 2
	run ipumpctl programme "$n/0" $base --basal -2ml/h
	expect_rc 2
	run ipumpctl programme "$n/0" $base --basal 1.5.2ml/h
	expect_rc 2
	run ipumpctl audio-pause "$n/0" --for 30
	expect_rc 2
	expect_out "--for"
	# nothing reached the card
	run ipumpctl status "$n/0"
	assert_eq untouched idle "$(sfield state)"
	assert_eq untouched-gen 0 "$(sfield generation)"
	# the same with units is accepted
	run ipumpctl programme "$n/0" $base --basal 2ml/h
	expect_rc 0
	run ipumpctl status "$n/0"
	assert_eq programmed programmed "$(sfield state)"
	rm_card tu
}

t_start_needs_lease() {
	setup
	mk_card ts
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	# one-shot: no lease, the kernel says so in its extended ack
	run ipumpctl start "$n/0" --generation 1
	expect_rc 1
	expect_out "start refused: Operation not permitted (console lease not held)"
	expect_out "reason no-lease"
	expect_out "ipumpctl console"
	run ipumpctl status "$n/0"
	assert_eq not-started programmed "$(sfield state)"
	# the same start inside a console (a plain pipe) works
	OUT=$(printf 'start --generation 1\nstatus\nquit\n' |
	      ipumpctl console "$n/0" --period 60s 2>&1) && RC=0 || RC=$?
	echo "$OUT"
	expect_rc 0
	expect_out "ok state=running generation=1 lease=mine"
	expect_out "ok lease released, console closed"
	run ipumpctl status "$n/0"
	assert_eq started running "$(sfield state)"
	assert_eq released free "$(sfield lease)"
	rm_card ts
}

t_console_bolus() {
	setup
	mk_card tc
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	con_start "$n" --period 60s
	con_ok start --generation 1
	con_ok bolus --demand
	con_ok status
	case "$RESULT" in *state=bolus*) ;; *) fail "not in bolus: $RESULT" ;; esac
	# 0.5 ml at 10 ml/h takes 180 s of virtual time
	advance_renewing tc 181000
	con_ok status
	case "$RESULT" in *state=running*) ;; *) fail "bolus not done: $RESULT" ;; esac
	run ipumpctl log "$n"
	expect_out "bolus-completed"
	expect_out "delivered=0.5ml"
	# lockout 10 min from the bolus start: refused at 181 s ...
	con_err "lockout" bolus --demand
	# ... admitted at 601 s
	advance_renewing tc 420000
	con_ok bolus --demand
	# cancel after 36 s: the reply's volume is what the card counted
	advance_renewing tc 36000
	con_ok cancel-bolus
	got=$(echo "$RESULT" | sed -n 's/^ok delivered_nl=\([0-9]*\).*/\1/p')
	[ -n "$got" ] || fail "no delivered volume in '$RESULT'"
	[ "$got" -gt 0 ] && [ "$got" -le 500000 ] || fail "cancelled bolus delivered $got nl"
	run ipumpctl status "$n/0"
	case "$(sfield bolus_delivered)" in *"($got nl)") ;; *)
		fail "status bolus_delivered '$(sfield bolus_delivered)' is not the reply's $got nl" ;; esac
	# stop works for anyone allowed to write, without the lease, while a
	# console holds it
	run ipumpctl stop "$n/0"
	expect_rc 0
	run ipumpctl status "$n/0"
	assert_eq stopped programmed "$(sfield state)"
	assert_eq console-holds held "$(sfield lease)"
	con_quit
	rm_card tc
}

t_monitor_started() {
	setup
	mk_card tm
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	next=$(( $(ipumpctl log "$n" | tail -n 1 | awk '{ print $1 }') + 1 ))
	# joins now; --since makes it independent of when exactly it joined
	ipumpmon --card "$n" --type started --count 1 --since "$next" \
		--timeout 30s > $T/mon 2> $T/mon.err &
	mon=$!
	ipumpmon --card "$n" --type started --count 1 --since 1 --json \
		--timeout 30s > $T/mon.json 2> $T/mon.json.err &
	monj=$!
	OUT=$(printf 'start --generation 1\nquit\n' |
	      ipumpctl console "$n/0" --period 60s 2>&1) && RC=0 || RC=$?
	expect_rc 0
	wait $mon || { cat $T/mon $T/mon.err; fail "ipumpmon exit status $?"; }
	wait $monj || { cat $T/mon.json $T/mon.json.err; fail "ipumpmon --json exit status $?"; }
	cat $T/mon $T/mon.json
	assert_eq lines 1 "$(wc -l < $T/mon)"
	OUT=$(cat $T/mon)
	expect_out " $CARD/0 started info generation=1 rate=2ml/h"
	OUT=$(cat $T/mon.json)
	expect_out '"type":"started"'
	expect_out '"generation":1'
	expect_out '"rate_nl_per_h":2000000'
	# a type that does not exist is bad usage
	run ipumpmon --type startled --count 1
	expect_rc 2
	rm_card tm
}

t_lease_lost_on_kill() {
	setup
	mk_card tk
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	con_start "$n" --period 60s
	con_ok start --generation 1
	# while the console lives, nobody else gets the lease
	run ipumpctl console "$n/0" --period 60s < /dev/null
	expect_rc 1
	expect_out "lease acquire refused"
	con_kill
	# the socket is gone: NETLINK_URELEASE orphans the lease at once (the
	# release notification runs as the process exits; poll briefly)
	i=0
	while :; do
		run ipumpctl status "$n/0"
		[ "$(sfield lease)" = orphaned ] && break
		i=$((i + 1))
		[ $i -le 50 ] || fail "lease not orphaned: $(sfield lease)"
		sleep 0.1
	done
	assert_eq state alarm-stopped "$(sfield state)"
	case "$(sfield alarms)" in *"lease-lost (high, unacknowledged)"*) ;; *)
		fail "alarms: $(sfield alarms)" ;; esac
	run ipumpctl log "$n"
	expect_out "lease-lost"
	expect_out "mode=stop why=console-gone"
	# an orphaned lease is not acquired ...
	run ipumpctl console "$n/0" --period 60s < /dev/null
	expect_rc 1
	expect_out "orphaned"
	# ... but taken over explicitly
	OUT=$(printf 'ack\nstatus\nquit\n' |
	      ipumpctl console "$n/0" --period 60s --takeover 2>&1) && RC=0 || RC=$?
	echo "$OUT"
	expect_rc 0
	expect_out "lease taken over"
	expect_out "lease=mine"
	rm_card tk
}

t_set_limits_root() {
	setup
	mk_card tl2
	n=${CARD#ipump}
	run ipumpctl limits "$n/0"
	expect_rc 0
	expect_out "max-rate: 25ml/h (25000000 nl/h)"
	expect_out "min-lockout: 5min (300000 ms)"
	# every limit, or --from-current: a partial set is bad usage
	run ipumpctl set-limits "$n/0" --max-rate 20ml/h
	expect_rc 2
	expect_out "missing: --min-rate"
	run ipumpctl set-limits "$n/0" --from-current --max-rate 20ml/h
	expect_rc 0
	run ipumpctl limits "$n/0"
	expect_out "max-rate: 20ml/h (20000000 nl/h)"
	expect_out "min-rate: 0.1ul/h (100 nl/h)"
	# the full set, spelled out
	run ipumpctl set-limits "$n/0" --min-rate 0.1ul/h --max-rate 20ml/h \
		--max-kvo-rate 1ml/h --max-bolus 5ml --max-bolus-rate 100ml/h \
		--min-lockout 5min --max-vtbi 1000ml --max-dose-1h 30ml \
		--max-dose-4h 120ml --max-per-hour 12 --air-bubble 200ul \
		--air-accum 1ml --over-infusion 10% --under-infusion 10% --stall 5s
	expect_rc 0
	# the new maximum rate holds: 21 ml/h refused, naming the option ...
	run ipumpctl programme "$n/0" --route iv --basal 21ml/h --vtbi 100ml \
		--dose-1h 30ml --dose-4h 120ml --generation 0
	expect_rc 1
	expect_out "basal rate above the maximum rate"
	expect_out "reason rate-high"
	expect_out "--basal"
	# ... 20 ml/h accepted
	run ipumpctl programme "$n/0" --route iv --basal 20ml/h --vtbi 100ml \
		--dose-1h 30ml --dose-4h 120ml --generation 0
	expect_rc 0
	rm_card tl2
}

t_json_status() {
	setup
	mk_card tj num_channels=2 serial=81985529216486895 fw_version=66051
	n=${CARD#ipump}
	# an acting command: {"ok":true,...} with the new generation
	jrun ipumpctl -j programme "$n/0" --route iv --basal 2ml/h --kvo 0.5ml/h \
		--vtbi 50ml --pca --bolus 0.5ml --bolus-rate 10ml/h --lockout 10min \
		--max-per-hour 4 --dose-1h 5ml --dose-4h 15ml --generation 0
	expect_rc 0
	assert_eq ok true "$(jqv .ok)"
	assert_eq prog-card "$n" "$(jqv .card)"
	assert_eq prog-channel 0 "$(jqv .channel)"
	assert_eq prog-generation 1 "$(jqv .generation)"
	assert_eq prog-basal 2000000 "$(jqv .programme.basal_rate_nl_per_h)"

	# the text and the JSON of one channel agree
	run ipumpctl status "$n/0"
	expect_rc 0
	txt=$OUT
	jrun ipumpctl -j status "$n/0"
	expect_rc 0
	assert_eq type object "$(jqv type)"
	assert_eq channel 0 "$(jqv .channel)"
	OUT_J=$OUT
	OUT=$txt
	for k in state lease generation; do
		h=$(sfield $k)
		OUT=$OUT_J
		assert_eq "$k" "$h" "$(jqv .$k)"
		OUT=$txt
	done
	OUT=$OUT_J
	assert_eq state programmed "$(jqv .state)"
	assert_eq generation 1 "$(jqv .generation)"
	assert_eq alarms "[]" "$(jqv '.alarms | tostring')"
	assert_eq route intravenous "$(jqv .programme.route)"
	assert_eq basal 2000000 "$(jqv .programme.basal_rate_nl_per_h)"
	assert_eq kvo 500000 "$(jqv .programme.kvo_rate_nl_per_h)"
	assert_eq vtbi 50000000 "$(jqv .programme.vtbi_nl)"
	assert_eq pca true "$(jqv .programme.pca)"
	assert_eq bolus 500000 "$(jqv .programme.bolus_volume_nl)"
	assert_eq bolus_rate 10000000 "$(jqv .programme.bolus_rate_nl_per_h)"
	assert_eq lockout 600000 "$(jqv .programme.lockout_ms)"
	assert_eq max_per_hour 4 "$(jqv .programme.max_boluses_per_hour)"
	assert_eq dose_1h 5000000 "$(jqv .programme.max_dose_1h_nl)"
	assert_eq dose_4h 15000000 "$(jqv .programme.max_dose_4h_nl)"
	assert_eq lease_loss stop "$(jqv .programme.lease_loss_mode)"
	# the text's raw values are the JSON's
	OUT=$txt
	case "$(pfield basal)" in *"($(printf '%s' "$OUT_J" | jq .programme.basal_rate_nl_per_h) nl/h)") ;;
		*) fail "text basal '$(pfield basal)' is not the JSON's" ;; esac

	# a whole card: an array of every channel, -j after the command too
	jrun ipumpctl status "$n" --json
	expect_rc 0
	assert_eq card-type array "$(jqv type)"
	assert_eq card-len 2 "$(jqv length)"
	assert_eq ch0-state programmed "$(jqv '.[0].state')"
	assert_eq ch1-channel 1 "$(jqv '.[1].channel')"
	assert_eq ch1-state idle "$(jqv '.[1].state')"
	assert_eq ch1-programme null "$(jqv '.[1].programme')"

	# list: the serial as 16 hex digits (a u64 does not survive a double)
	jrun ipumpctl --json list
	expect_rc 0
	OUT=$(jqv ".[] | select(.card == $n)")
	assert_eq name "$CARD" "$(jqv .name)"
	assert_eq serial 0123456789abcdef "$(jqv .serial)"
	assert_eq fw 1.2.3 "$(jqv .fw)"
	assert_eq fw_version 66051 "$(jqv .fw_version)"
	assert_eq num_channels 2 "$(jqv .num_channels)"
	assert_eq clock simulated "$(jqv .clock)"

	# limits: the IPUMP_A_LIM_* names in integer units, as the text says
	run ipumpctl limits "$n/0"
	expect_out "max-rate: 25ml/h (25000000 nl/h)"
	expect_out "min-lockout: 5min (300000 ms)"
	jrun ipumpctl -j limits "$n/0"
	expect_rc 0
	assert_eq max_rate 25000000 "$(jqv .max_rate_nl_per_h)"
	assert_eq min_lockout 300000 "$(jqv .min_lockout_ms)"
	assert_eq lim-keys 17 "$(jqv 'keys | length')"

	jrun ipumpctl -j lease "$n/0"
	expect_rc 0
	assert_eq lease free "$(jqv .lease)"

	# log: one object a line, the programme-set record with its values
	jrun ipumpctl -j log "$n"
	expect_rc 0
	assert_eq log-lines "$(ipumpctl log "$n" | wc -l)" "$(echo "$OUT" | wc -l)"
	OUT=$(printf '%s\n' "$OUT" | jq -c 'select(.type == "programme-set")')
	assert_eq log-gen 1 "$(jqv .generation)"
	assert_eq log-basal 2000000 "$(jqv .basal_nl_per_h)"

	# errors stay text on stderr, stdout stays empty
	jrun ipumpctl -j status 9999/0
	expect_rc 1
	assert_eq no-json "" "$OUT"
	case "$ERR" in *"status refused"*) ;; *) fail "stderr lacks the refusal: $ERR" ;; esac
	run ipumpctl -j console "$n/0"
	expect_rc 2
	expect_out "--json is for one-shot commands"
	rm_card tj
}

t_pause_titrate() {
	setup
	mk_card tt
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	con_start "$n" --period 60s
	con_ok start --generation 1
	# pause needs no lease: a one-shot command while the console holds it
	jrun ipumpctl -j pause "$n/0"
	expect_rc 0
	assert_eq pause-ok true "$(jqv .ok)"
	assert_eq pause-channel 0 "$(jqv .channel)"
	jrun ipumpctl -j status "$n/0"
	assert_eq paused paused "$(jqv .state)"
	run ipumpctl status "$n/0"
	assert_eq paused-text paused "$(sfield state)"
	# resume and titrate need the lease: inside the console
	con_ok resume --generation 1
	con_ok titrate --route iv --basal 3ml/h --kvo 0.5ml/h --vtbi 50ml --pca \
		--bolus 0.5ml --bolus-rate 10ml/h --lockout 10min --max-per-hour 4 \
		--dose-1h 5ml --dose-4h 15ml --generation 1
	case "$RESULT" in "ok generation=2") ;; *) fail "titrate: $RESULT" ;; esac
	jrun ipumpctl -j status "$n/0"
	assert_eq titrated-state running "$(jqv .state)"
	assert_eq titrated-generation 2 "$(jqv .generation)"
	assert_eq titrated-basal 3000000 "$(jqv .programme.basal_rate_nl_per_h)"
	assert_eq titrated-rate 3000000 "$(jqv .rate_nl_per_h)"
	assert_eq titrated-lease held "$(jqv .lease)"
	run ipumpctl status "$n/0"
	assert_eq titrated-text "3ml/h (3000000 nl/h)" "$(pfield basal)"
	# a one-shot titrate (valid, back to 2 ml/h) is refused for want of the lease
	run ipumpctl titrate "$n/0" --route iv --basal 2ml/h --kvo 0.5ml/h --vtbi 50ml \
		--pca --bolus 0.5ml --bolus-rate 10ml/h --lockout 10min --max-per-hour 4 \
		--dose-1h 5ml --dose-4h 15ml --generation 2
	expect_rc 1
	expect_out "reason no-lease"
	con_quit
	rm_card tt
}

t_ack_audio_pause() {
	setup
	mk_card ta
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	con_start "$n" --period 60s
	con_ok start --generation 1
	con_kill
	i=0
	while :; do
		jrun ipumpctl -j status "$n/0"
		[ "$(jqv .lease)" = orphaned ] && break
		i=$((i + 1))
		[ $i -le 50 ] || fail "lease not orphaned"
		sleep 0.1
	done
	assert_eq raised true "$(jqv '.alarms | index("lease-lost") != null')"
	assert_eq unacked true "$(jqv '.alarms_unacked | index("lease-lost") != null')"
	assert_eq priority high "$(jqv .priority)"
	# audio pause: one-shot, write permission only
	jrun ipumpctl -j audio-pause "$n/0" --for 1min
	expect_rc 0
	assert_eq ap-ok true "$(jqv .ok)"
	assert_eq ap-ms 60000 "$(jqv .duration_ms)"
	jrun ipumpctl -j status "$n/0"
	now=$(jqv .timestamp_ns)
	until=$(jqv .audio_paused_until_ns)
	assert_eq ap-until $((now + 60000000000)) "$until"
	run ipumpctl audio-pause "$n/0" --for 3min
	expect_rc 1
	expect_out "audio-pause refused"
	# one-shot ack: acknowledged, still raised
	run ipumpctl ack "$n/0"
	expect_rc 0
	expect_out "alarms acknowledged"
	jrun ipumpctl -j status "$n/0"
	assert_eq acked false "$(jqv '.alarms_unacked | index("lease-lost") != null')"
	run ipumpctl status "$n/0"
	case "$(sfield alarms)" in *"lease-lost (high)"*) ;; *)
		fail "alarms after ack: $(sfield alarms)" ;; esac
	jrun ipumpctl --json ack "$n"
	expect_rc 0
	assert_eq card-ack-channel null "$(jqv .channel)"
	rm_card ta
}

t_usage_and_unknown() {
	setup
	mk_card tu2
	n=${CARD#ipump}
	run ipumpctl --help
	expect_rc 0
	expect_out "usage: ipumpctl"
	expect_out "-j, --json"
	run ipumpctl help audio-pause
	expect_rc 0
	expect_out "--for DURATION"
	run ipumpmon --help
	expect_rc 0
	expect_out "-j, --json"
	run ipumpctl frobnicate
	expect_rc 2
	expect_out "unknown command 'frobnicate'"
	run ipumpctl renew
	expect_rc 2
	expect_out "only inside 'ipumpctl console"
	run ipumpmon --frobnicate
	expect_rc 2
	expect_out "unknown option --frobnicate"
	# a card or channel that does not exist: the kernel refuses, exit 1
	run ipumpctl status 9999/0
	expect_rc 1
	expect_out "status refused"
	expect_out "no such card or channel"
	run ipumpctl status "$n/7"
	expect_rc 1
	expect_out "status refused"
	run ipumpctl stop 9999/0
	expect_rc 1
	expect_out "stop refused"
	run ipumpctl limits "$n/7"
	expect_rc 1
	expect_out "limits refused"
	# the same requests on what exists succeed
	run ipumpctl status "$n/0"
	expect_rc 0
	run ipumpctl limits "$n/0"
	expect_rc 0
	rm_card tu2
}

t_monitor_filters() {
	setup
	mk_card tf num_channels=2
	n=${CARD#ipump}
	run prog_pca "$n" 0
	expect_rc 0
	run ipumpctl programme "$n/1" --route sc --basal 1ml/h --vtbi 10ml \
		--dose-1h 5ml --dose-4h 15ml --generation 0
	expect_rc 0
	# a high-priority alarm on channel 0: the console killed while running
	con_start "$n" --period 60s
	con_ok start --generation 1
	con_kill
	i=0
	until ipumpctl log "$n" | grep -q " alarm-raised high"; do
		i=$((i + 1))
		[ $i -le 50 ] || fail "no high alarm logged"
		sleep 0.1
	done
	# replay the whole log through each filter; --timeout ends it (exit 3)
	ipumpmon --card "$n" --since 1 --json --timeout 2s > $T/all 2> $T/all.err &&
		RC=0 || RC=$?
	expect_rc 3
	ipumpmon --card "$n" --since 1 --channel 1 -j --timeout 2s > $T/ch1 2> $T/ch1.err &&
		RC=0 || RC=$?
	expect_rc 3
	ipumpmon --card "$n" --since 1 --min-priority high --json --timeout 2s \
		> $T/high 2> $T/high.err && RC=0 || RC=$?
	expect_rc 3
	ipumpmon --card "$n" --since 1 --min-priority medium --timeout 2s \
		> $T/medium 2> $T/medium.err && RC=0 || RC=$?
	expect_rc 3
	cat $T/all $T/ch1 $T/high $T/medium
	all=$(jq -s length $T/all) || fail "ipumpmon -j output does not parse"
	[ "$all" -gt 3 ] || fail "only $all events in the log"
	# --channel 1: channel 1's and card-wide events, nothing of channel 0
	assert_eq ch1-ch0 0 "$(jq -s '[.[] | select(.channel == 0)] | length' $T/ch1)"
	assert_eq ch1-prog 1 "$(jq -s '[.[] | select(.channel == 1 and .type == "programme-set")] | length' $T/ch1)"
	assert_eq ch1-wide "$(jq -s '[.[] | select(.channel == null)] | length' $T/all)" \
		"$(jq -s '[.[] | select(.channel == null)] | length' $T/ch1)"
	assert_eq ch1-count "$(jq -s '[.[] | select(.channel != 0)] | length' $T/all)" \
		"$(jq -s length $T/ch1)"
	# --min-priority high: only high, and every high event of the log
	assert_eq high-only 0 "$(jq -s '[.[] | select(.priority != "high")] | length' $T/high)"
	assert_eq high-all "$(jq -s '[.[] | select(.priority == "high")] | length' $T/all)" \
		"$(jq -s length $T/high)"
	assert_eq high-alarm 1 "$(jq -s '[.[] | select(.type == "alarm-raised" and .alarm == "lease-lost")] | length' $T/high)"
	# text: the priority is the fifth field
	bad=$(awk '$5 != "medium" && $5 != "high"' $T/medium)
	[ -z "$bad" ] || fail "--min-priority medium printed: $bad"
	assert_eq medium-count "$(jq -s '[.[] | select(.priority == "medium" or .priority == "high")] | length' $T/all)" \
		"$(wc -l < $T/medium)"
	rm_card tf
}

TESTS="list_and_status programme_exact units_required start_needs_lease
console_bolus monitor_started lease_lost_on_kill set_limits_root json_status
pause_titrate ack_audio_pause usage_and_unknown monitor_filters"

# jq is required, not optional: without it the JSON tests fail (no skip)
for tool in ipumpctl ipumpmon jq; do
	command -v $tool > /dev/null || { echo "# $tool is not on PATH (tests/vm/run --bin)"; tap_plan 1; tap_result tools-on-path 1; exit $KSFT_FAIL; }
done
trap cleanup EXIT
ipump_load
run_card_tests "$TESTS"
