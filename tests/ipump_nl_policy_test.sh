#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The YNL spec of the "ipump" generic netlink family against the running
# kernel (CONTRACTS.md, "Linux 6.1 limits": no YNL tooling in 6.1, so the
# spec is compared with the kernel's own policy dump, not with a header).
#
# ipump_nl_expected.txt is generated on the build host from
# Documentation/netlink/specs/ipump.yaml by ipump_nl_spec.py; ipump_nl_policy
# prints the same lines from CTRL_CMD_GETFAMILY and CTRL_CMD_GETPOLICY. Any
# difference fails and is printed (with the names from the legend). The
# comparison is also run against deliberately altered expectations, which
# must fail: a comparison that cannot fail proves nothing.
DIR=$(dirname "$0")
. "$DIR/lib.sh"

EXP=$DIR/ipump_nl_expected.txt
POL=$DIR/ipump_nl_policy
TMP=/tmp/ipump-nl-policy.$$
ACT=$TMP.actual

fail() { echo "FAIL: $*"; exit 1; }

# annotate EXPECTED: a diff on stdin, its +/- lines followed by their names
annotate() {
	awk -v legend="$1" '
	BEGIN {
		while ((getline l < legend) > 0) {
			if (l !~ /^# (op|pol) /)
				continue
			sub(/^# /, "", l)
			i = index(l, " = ")
			if (i)
				names[substr(l, 1, i - 1)] = substr(l, i + 3)
		}
	}
	/^[-+][a-z]/ {
		split(substr($0, 2), f, " ")
		key = f[1] " " f[2]
		if (f[1] == "pol")
			key = key " " f[3] " " f[4]
		if (key in names) {
			print $0 "    (" names[key] ")"
			next
		}
	}
	{ print }'
}

# compare EXPECTED ACTUAL: 0 when the non-legend lines are the same set
compare() {
	grep -v '^#' "$1" | LC_ALL=C sort > "$TMP.exp"
	LC_ALL=C sort "$2" > "$TMP.act"
	if diff -u "$TMP.exp" "$TMP.act" > "$TMP.diff"; then
		return 0
	fi
	echo "spec (-) and kernel (+) differ:"
	annotate "$1" < "$TMP.diff"
	return 1
}

# must_fail WHAT ALTERED: the comparison against ALTERED must fail, and
# ALTERED must really differ from the expectations
must_fail() {
	if cmp -s "$EXP" "$2"; then
		fail "$1: the alteration changed nothing"
	fi
	if compare "$2" "$ACT" > "$TMP.neg" 2>&1; then
		fail "$1: the comparison passed against altered expectations"
	fi
	grep -q '^[-+][a-z]' "$TMP.neg" || fail "$1: no difference printed"
	echo "$1: detected, as it must be:"
	grep '^[-+][a-z]' "$TMP.neg"
}

t_dump() {
	[ -s "$EXP" ] || fail "$EXP missing or empty (built on the host by make)"
	[ -x "$POL" ] || fail "$POL missing"
	[ -d /sys/module/ipump ] || modprobe ipump || fail "modprobe ipump"
	"$POL" ipump > "$ACT" || fail "ipump_nl_policy failed"
	n=$(grep -c '^pol ' "$ACT")
	[ "$n" -gt 0 ] || fail "the kernel dumped no policy"
	echo "kernel: $(grep -c '^op ' "$ACT") operations, $n policy lines"
}

t_spec_matches_kernel() {
	[ -s "$ACT" ] || fail "no policy dump (previous test failed)"
	compare "$EXP" "$ACT" || fail "spec and kernel policy differ"
	echo "$(grep -vc '^#' "$EXP") lines identical"
}

# Negative proofs: one range limit changed, one attribute removed, one
# operation's admin-perm dropped. Each must make the comparison fail.
t_altered_max_fails() {
	[ -s "$ACT" ] || fail "no policy dump"
	awk '!done && /^pol .* max=[0-9]+$/ && $0 !~ /max=(4294967295|18446744073709551615)$/ {
		n = split($0, f, "max=")
		sub(/max=[0-9]+$/, "max=" (f[n] + 1))
		done = 1
	}
	{ print }' "$EXP" > "$TMP.alt1"
	must_fail "a max changed" "$TMP.alt1"
}

t_removed_attr_fails() {
	[ -s "$ACT" ] || fail "no policy dump"
	awk '!done && /^pol / { done = 1; next } { print }' "$EXP" > "$TMP.alt2"
	must_fail "an attribute removed" "$TMP.alt2"
}

t_dropped_admin_perm_fails() {
	[ -s "$ACT" ] || fail "no policy dump"
	awk '!done && /^op [0-9]+ admin-perm/ { sub(/ admin-perm/, ""); done = 1 }
	{ print }' "$EXP" > "$TMP.alt3"
	must_fail "admin-perm dropped" "$TMP.alt3"
}

tap_plan 5
run_test "policy dump of the running kernel" t_dump
run_test "spec matches the kernel's policy dump" t_spec_matches_kernel
run_test "negative proof: an altered max is detected" t_altered_max_fails
run_test "negative proof: a removed attribute is detected" t_removed_attr_fails
run_test "negative proof: a dropped admin-perm is detected" t_dropped_admin_perm_fails
rm -f "$TMP".*
tap_exit
