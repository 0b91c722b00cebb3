#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs the KUnit suites of ipump (module ipump_kunit) and reports every
# KUnit case as a TAP result. Only listed for kernels built with KUnit (the
# debug kernel); Debian's kernels have none.
DIR=$(dirname "$0")
. "$DIR/lib.sh"

[ -d /sys/kernel/debug/kunit ] || { echo "Bail out! this kernel has no KUnit"; exit $KSFT_FAIL; }
rmmod ipump_kunit 2>/dev/null
modprobe ipump_kunit || { echo "Bail out! cannot load ipump_kunit"; exit $KSFT_FAIL; }

echo "TAP version 13"
n=0 failed=0
for results in /sys/kernel/debug/kunit/ipump*/results; do
	[ -e "$results" ] || continue
	suite=$(basename "$(dirname "$results")")
	sed 's/^/# /' "$results"
	# KUnit cases are the results indented by exactly four spaces
	while IFS= read -r line; do
		case "$line" in
		"    ok "*|"    not ok "*) ;;
		*) continue ;;
		esac
		body=${line#    }
		name=$(echo "$body" | sed -E 's/^(not )?ok [0-9]+ (- )?//')
		n=$((n + 1))
		case "$body" in
		"not ok"*) echo "not ok $n $suite.$name"; failed=$((failed + 1)) ;;
		*) echo "ok $n $suite.$name" ;;
		esac
	done < "$results"
done
echo "1..$n"
rmmod ipump_kunit
[ $n -gt 0 ] || { echo "Bail out! no ipump KUnit case ran"; exit $KSFT_FAIL; }
[ $failed -eq 0 ]
