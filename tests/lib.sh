# SPDX-License-Identifier: GPL-2.0-only
# Small TAP helpers for the ipump shell selftests (busybox sh compatible).

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4
ipump_tap_n=0
ipump_tap_failed=0

# tap_plan N
tap_plan() { echo "TAP version 13"; echo "1..$1"; }
# tap_result NAME STATUS(0=ok)
tap_result() {
	ipump_tap_n=$((ipump_tap_n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $ipump_tap_n $1"
	else
		echo "not ok $ipump_tap_n $1"
		ipump_tap_failed=$((ipump_tap_failed + 1))
	fi
}
# run_test NAME FUNCTION: run FUNCTION in a subshell, report its status
run_test() {
	( set -e; "$2" ) > /tmp/ipump-test.out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/ipump-test.out
	tap_result "$1" "$rc"
}
tap_exit() {
	[ "$ipump_tap_failed" -eq 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}
