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
# comments when it fails. CMD runs in this shell, so what it sets stays.
tap_check() {
	local name=$1 out rc=0
	shift
	out=$(mktemp)
	"$@" >"$out" 2>&1 </dev/null || rc=$?
	if ((rc == 0)); then
		tap_ok "$name"
	else
		tap_fail "$name" "$(tail -n 20 "$out")"
	fi
	rm -f "$out"
	return "$rc"
}

tap_exit() { ((tap_failed == 0)); }
