# SPDX-License-Identifier: GPL-2.0-only
# TAP output for shell suites, the same shape kselftest_harness.h prints.
# Source it; call tap_plan N, then one tap_ok/tap_fail/tap_skip per test.

tap_n=0
tap_failed=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n $1"; }
tap_fail() {
	tap_n=$((tap_n + 1)) tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n $1"
	[[ -n ${2:-} ]] && printf "%s\n" "$2" | sed "s/^/# /"
	return 0
}
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n $1 # SKIP $2"; }

# tap_check NAME CMD...: ok when CMD succeeds; its output goes to TAP as
# comments when it fails.
tap_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name" "$(printf '%s' "$out" | tail -n 20)"
	fi
}

tap_exit() { ((tap_failed == 0)); }
