# SPDX-License-Identifier: GPL-2.0-only
# The detection loop on a throw-away testbed, shared by `make demo`
# (tools/demo) and the e2e suite (selftests/e2e/run): source it, call
# loop_up, drive the story, and let the EXIT trap call loop_down.
#
# Needs VNFSEC_BUILD (binaries and bpf/vnfsec.bpf.o) and root.

LOOP_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOOP_BUILD=${VNFSEC_BUILD:-$LOOP_SRC/build}
LOOP_PORT=7443
: "${LOOP_BLOCK_TTL:=8}"
: "${LOOP_SYN_THRESHOLD:=200}"
loop_id=
loop_work=
loop_pins=
loop_server_pid=
loop_agent_pid=
loop_flood_pid=

# loop_wait SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
loop_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

loop_in() { # loop_in ROLE CMD...: run CMD in a testbed namespace
	local role=$1
	shift
	"$LOOP_SRC/tools/testbed" exec --id "$loop_id" "$role" "$@"
}

loop_up() {
	local id
	id=$("$LOOP_SRC/tools/testbed" up) || return 1
	loop_id=$id
	# shellcheck disable=SC1090
	. <("$LOOP_SRC/tools/testbed" info "$loop_id")
	loop_work=$(mktemp -d "/tmp/vnfsec-loop-$loop_id.XXXXXX")
	loop_pins=/sys/fs/bpf/vnfsec-loop-$loop_id
	"$LOOP_SRC/tools/mkca" "$loop_work/ca" "agent-$loop_id" >/dev/null
}

loop_down() {
	local p
	for p in $loop_flood_pid $loop_agent_pid $loop_server_pid; do
		kill "$p" 2>/dev/null
	done
	for p in $loop_flood_pid $loop_agent_pid $loop_server_pid; do
		wait "$p" 2>/dev/null
	done
	[[ -n $loop_id ]] && "$LOOP_SRC/tools/testbed" down --id "$loop_id" >/dev/null 2>&1
	[[ -n $loop_pins ]] && rm -rf "$loop_pins"
	[[ -n $loop_work && -z ${LOOP_KEEP:-} ]] && rm -rf "$loop_work"
	loop_id= loop_flood_pid= loop_agent_pid= loop_server_pid=
}

# The security server, on the management network's far end. `ip netns
# exec` execs it, so $! is the server itself and gets our signals.
# Arguments are passed on to it.
loop_start_server() {
	local ca=$loop_work/ca
	rm -f "$loop_work/port"
	ip netns exec "$NS_MGMT" "$LOOP_BUILD/bin/vnfsec-server" \
		--listen "$MGMT_IP_SERVER:$LOOP_PORT" --ca "$ca/ca.pem" \
		--cert "$ca/server.pem" --key "$ca/server.key" \
		--alerts "$loop_work/alerts.json" --port-file "$loop_work/port" \
		--control "$loop_work/server.sock" \
		--metrics 127.0.0.1:0 --metrics-port-file "$loop_work/metrics.port" \
		--block-ttl "$LOOP_BLOCK_TTL" "$@" 2>>"$loop_work/server.log" &
	loop_server_pid=$!
	loop_wait 10 test -s "$loop_work/port"
}

# The operator's way, with bpftool alone: load and pin, no agent yet.
loop_bpftool_load() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	bpftool prog loadall "$LOOP_BUILD/bpf/vnfsec.bpf.o" "$loop_pins" \
		pinmaps "$loop_pins/maps"
}

# The agent, in the switch namespace where the VNF ports are. nsenter
# (not `ip netns exec`) keeps the host's /sys/fs/bpf and its pins visible.
# loop_spawn_agent starts it; loop_start_agent also waits for the server.
loop_spawn_agent() {
	local ca=$loop_work/ca
	rm -f "$loop_work/agent.sock"	# a killed agent leaves it behind
	nsenter --net="/run/netns/$NS_SW" "$LOOP_BUILD/bin/vnfsec-agent" \
		--iface "$SW_IF_ATTACKER" --iface "$SW_IF_SGW" \
		--iface "$SW_IF_PGW" --iface "$SW_IF_BILLING" \
		--pin-dir "$loop_pins" --detach-on-exit \
		--spool-dir "$loop_work/spool" --control "$loop_work/agent.sock" \
		--server "$MGMT_IP_SERVER:$LOOP_PORT" --ca "$ca/ca.pem" \
		--cert "$ca/agent-$loop_id.pem" --key "$ca/agent-$loop_id.key" \
		--syn-threshold "$LOOP_SYN_THRESHOLD" "$@" \
		2>>"$loop_work/agent.log" &
	loop_agent_pid=$!
	loop_wait 10 test -S "$loop_work/agent.sock"
}

loop_connections() {
	local n
	n=$(grep -c 'connected to server' "$loop_work/agent.log" 2>/dev/null)
	echo "${n:-0}"
}

loop_connected_more_than() { (($(loop_connections) > $1)); }

loop_start_agent() {
	local before
	before=$(loop_connections)
	loop_spawn_agent "$@" &&
		loop_wait 15 loop_connected_more_than "$before"
}

# loop_ctl CMD [ARGS-JSON]: one request on the agent's control socket;
# prints the result as JSON, fails when the agent answers with an error.
loop_ctl() {
	local args=${2:-'{}'}
	python3 - "$loop_work/agent.sock" "$1" "$args" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": sys.argv[2],
                       "args": json.loads(sys.argv[3])}) + "\n").encode())
line = s.makefile().readline()
r = json.loads(line)
print(json.dumps(r.get("result", r)))
sys.exit(0 if r.get("ok") else 1)
PY
}

# loop_ctl_has CMD PYTHON-EXPR: the result (as r) satisfies the expression.
loop_ctl_has() {
	loop_ctl "$1" | python3 -c "import json,sys; r=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"
}

# loop_stop NAME PID: SIGTERM, and the exit status must be 0.
loop_stop() {
	local rc=0
	kill -TERM "$2" && wait "$2" || rc=$?
	((rc == 0)) || echo "$1 exited with status $rc"
	return "$rc"
}

loop_stop_agent() { loop_stop agent "$loop_agent_pid" && loop_agent_pid=; }
loop_stop_server() { loop_stop server "$loop_server_pid" && loop_server_pid=; }

loop_flood_start() {
	loop_in attacker hping3 -q -S -p 80 --flood "$IP_SGW" >/dev/null 2>&1 &
	loop_flood_pid=$!
}

loop_flood_stop() {
	[[ -n $loop_flood_pid ]] || return 0
	kill "$loop_flood_pid" 2>/dev/null
	wait "$loop_flood_pid" 2>/dev/null
	loop_flood_pid=
	# hping3 runs as a child of `ip netns exec`: make sure it is gone.
	loop_in attacker pkill -x hping3 2>/dev/null || true
}

loop_events() { # loop_events TYPE: how many server events of that type
	grep -c "\"event_type\":\"$1\"" "$loop_work/alerts.json" 2>/dev/null || true
}

loop_has_event() { (($(loop_events "$1") > 0)); }

# Sum of a per-CPU counter from the pinned map, by its name in the ABI.
loop_counter() {
	local idx
	idx=$(python3 - "$1" "$LOOP_SRC/bpf/vnfsec_abi.h" <<'PY'
import re, sys
text = open(sys.argv[2]).read()
body = re.search(r'enum vnfsec_counter \{(.*?)\};', text, re.S).group(1)
names = re.findall(r'VNFSEC_CNT_([A-Z0-9_]+)', body)
print(names.index(sys.argv[1].upper()))
PY
) || return 1
	bpftool -j map lookup pinned "$loop_pins/maps/counters" \
		key "$idx" 0 0 0 | python3 -c '
import json, sys
print(sum(c["value"] for c in json.load(sys.stdin)["formatted"]["values"]))'
}

loop_blocked() { # loop_blocked ADDR: is ADDR/32 in the pinned blocklist?
	local a
	IFS=. read -ra a <<<"$1"
	bpftool map lookup pinned "$loop_pins/maps/blocklist_v4" \
		key 32 0 0 0 "${a[@]}" >/dev/null 2>&1
}

loop_ping() { # loop_ping FROM ADDR
	loop_in "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1
}

# Does ROLE see no packet from SRC for SECONDS?
loop_sees_nothing_from() {
	local role=$1 src=$2 secs=$3 ifvar rc=0
	ifvar=IF_${role^^}
	loop_in "$role" timeout "$secs" tcpdump -nni "${!ifvar}" -c 1 \
		"src host $src" >/dev/null 2>&1 || rc=$?
	((rc == 124))	# timeout: tcpdump never caught one
}

loop_stop_all() { loop_stop_agent && loop_stop_server; }

# vnfsecctl against this loop's agent, or with --server its server.
loop_vnfsecctl() {
	local sock=$loop_work/agent.sock
	[[ ${1:-} == --server ]] && sock=$loop_work/server.sock
	"$LOOP_BUILD/bin/vnfsecctl" --socket "$sock" "$@"
}

# The server's Prometheus metrics (it listens on loopback in its netns).
loop_metrics() {
	ip netns exec "$NS_MGMT" curl -s \
		"http://127.0.0.1:$(cat "$loop_work/metrics.port")/metrics"
}
