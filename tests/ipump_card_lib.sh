# SPDX-License-Identifier: GPL-2.0-only
# Helpers for tests that drive simulated cards (busybox sh compatible).
# Source after lib.sh.

CFS=/sys/kernel/config/ipump-sim
SIMDBG=/sys/kernel/debug/ipump_sim
CORDBG=/sys/kernel/debug/ipump

fail() { echo "FAIL: $*"; exit 1; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }

# assert_contains WHAT NEEDLE HAYSTACK (space-separated word list)
assert_contains() {
	case " $3 " in *" $2 "*) ;; *) fail "$1: '$2' not in '$3'" ;; esac
}
assert_not_contains() {
	case " $3 " in *" $2 "*) fail "$1: '$2' unexpectedly in '$3'" ;; *) ;; esac
}

# write_ok VALUE FILE
write_ok() {
	out=$( (echo "$1" > "$2") 2>&1 ) || fail "writing '$1' to $2: $out"
}

# write_fails "ERRNO TEXT" VALUE FILE: the write must fail with that error
write_fails() {
	if out=$( (echo "$2" > "$3") 2>&1 ); then
		fail "writing '$2' to $3 succeeded, expected '$1'"
	fi
	case "$out" in
	*"$1"*) ;;
	*) fail "writing '$2' to $3: expected '$1', got '$out'" ;;
	esac
}

ipump_load() {
	modprobe ipump_sim || fail "modprobe ipump_sim"
}

# mk_card NAME [attr=value ...]: create, configure and go live; sets CARD
# (the class device name, e.g. ipump0) and CLS (its sysfs directory).
mk_card() {
	name=$1
	shift
	mkdir "$CFS/$name" || fail "mkdir $CFS/$name"
	for kv in "$@"; do
		write_ok "${kv#*=}" "$CFS/$name/${kv%%=*}"
	done
	write_ok 1 "$CFS/$name/live"
	CARD=$(cat "$CFS/$name/card")
	[ -n "$CARD" ] || fail "card $name has no class device name"
	CLS=/sys/class/ipump/$CARD
	[ -d "$CLS" ] || fail "$CLS missing"
}

rm_card() {
	[ -d "$CFS/$1" ] || return 0
	[ "$(cat "$CFS/$1/live")" = 1 ] && echo 0 > "$CFS/$1/live"
	rmdir "$CFS/$1"
}

rm_all_cards() {
	for d in "$CFS"/*; do
		[ -d "$d" ] && rm_card "$(basename "$d")"
	done
	return 0
}

# advance NAME MS: advance card NAME's virtual clock by exactly MS ms
advance() { write_ok "$2" "$SIMDBG/$1/advance_ms"; }

# ctl CARD "command": the core's debugfs control file
ctl() { write_ok "$2" "$CORDBG/$1/control"; }
ctl_fails() { write_fails "$1" "$3" "$CORDBG/$2/control"; }

chan() { cat "$CLS/channel$1/$2"; }
simch() { echo "$SIMDBG/$1/ch$2/$3"; }

# objects FILE NAME: value of counter NAME in an "objects" file
objects() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# create_destroy MAKER PREFIX N: N cycles of creating a card with MAKER
# (mk_card or mk_spi_card), running it on every third, and removing it;
# afterwards no object of the core or the simulator may be left alive.
create_destroy() {
	maker=$1 prefix=$2 n=$3 i=0
	while [ $i -lt "$n" ]; do
		$maker "$prefix$i" num_channels=$(( i % 8 + 1 ))
		[ $((i % 3)) -eq 0 ] && ctl "$CARD" "start 0 1000000" && advance "$prefix$i" 100
		rm_card "$prefix$i"
		i=$((i + 1))
	done
	for k in $(awk '{ print $1 }' $CORDBG/objects); do
		assert_eq "core-$k" 0 "$(objects $CORDBG/objects "$k")"
	done
	for k in $(awk '{ print $1 }' $SIMDBG/objects); do
		assert_eq "sim-$k" 0 "$(objects $SIMDBG/objects "$k")"
	done
}

# run_card_tests "NAME...": each NAME's t_NAME as one TAP result, every one
# starting without cards and none left behind
run_card_tests() {
	set -- $1
	tap_plan $#
	for t in "$@"; do
		rm_all_cards
		run_test "$t" "t_$t"
	done
	rm_all_cards
	tap_exit
}
