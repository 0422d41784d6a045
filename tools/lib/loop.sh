# SPDX-License-Identifier: GPL-2.0-only
# The detection loop on a throw-away testbed, shared by `make demo`
# (tools/demo) and the e2e suite (selftests/e2e/run): source it, call
# loop_up, drive the story, and let the EXIT trap call loop_down.
#
# Needs VNFSEC_BUILD (binaries and bpf/vnfsec.bpf.o) and root.
#
# Trust (docs/trust.md): by default (LOOP_ENROLL=1) the agent has a TPM
# of its own (a swtpm manufactured with an EK certificate, behind
# tpm2-abrmd on a private D-Bus), enrolls with the server when it first
# connects and keeps its TLS key inside that TPM; the server has its own
# swtpm for MakeCredential, trusts swtpm_setup's local CA for EK
# certificates and signs the agent's certificate with the loop's CA.
# LOOP_ENROLL=0 gives the agent a tools/mkca test certificate instead.

LOOP_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOOP_BUILD=${VNFSEC_BUILD:-$LOOP_SRC/build}
LOOP_PORT=7443
: "${LOOP_BLOCK_TTL:=8}"
: "${LOOP_SYN_THRESHOLD:=200}"
: "${LOOP_ENROLL:=1}"
loop_id=
loop_work=
loop_pins=
loop_server_pid=
loop_agent_pid=
loop_flood_pid=
loop_tpm_pids=
loop_swtpm_port=
loop_server_tpm=
loop_server_enrolls=
loop_agent_env=()

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
	if ((LOOP_ENROLL)); then
		loop_trust_up || { echo "loop: cannot set up the TPMs for enrollment (LOOP_ENROLL=0 runs without)" >&2; return 1; }
	fi
}

loop_tpm_answers() { # loop_tpm_answers NETNS TCTI
	if [[ -n $1 ]]; then
		ip netns exec "$1" tpm2_getrandom -T "$2" 4 >/dev/null 2>&1
	else
		tpm2_getrandom -T "$2" 4 >/dev/null 2>&1
	fi
}

# loop_swtpm NAME [NETNS]: a swtpm manufactured with an EK certificate
# (swtpm_setup's local CA), serving TCP on 127.0.0.1 in NETNS (default:
# this one); sets loop_swtpm_port.
loop_swtpm() {
	local dir=$loop_work/$1 ns=${2:-} port pid try
	local -a run=()
	[[ -n $ns ]] && run=(ip netns exec "$ns")
	mkdir -p "$dir"
	swtpm_setup --tpm2 --create-ek-cert --create-platform-cert \
		--tpm-state "$dir" --overwrite >/dev/null 2>&1 || return 1
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		"${run[@]}" swtpm socket --tpm2 \
			--server "type=tcp,port=$port" \
			--ctrl "type=tcp,port=$((port + 1))" \
			--flags not-need-init,startup-clear \
			--tpmstate "dir=$dir" >/dev/null 2>&1 &
		pid=$!
		loop_tpm_pids+=" $pid"
		if loop_wait 15 loop_tpm_answers "$ns" \
				"swtpm:host=127.0.0.1,port=$port"; then
			loop_swtpm_port=$port
			return 0
		fi
		kill "$pid" 2>/dev/null	# lost the port to someone else
	done
	return 1
}

# The agent's TPM behind tpm2-abrmd (the TLS key needs a resource
# manager, docs/tpm.md) on a private session bus whose socket is a path,
# so the agent reaches it from the switch namespace; the server's TPM in
# the management namespace; the EK CA.
loop_trust_up() {
	local bus=$loop_work/dbus.sock
	loop_swtpm server-tpm "$NS_MGMT" || return 1
	loop_server_tpm="swtpm:host=127.0.0.1,port=$loop_swtpm_port"
	loop_swtpm agent-tpm || return 1
	# swtpm_setup makes its local CA on first use: read it after.
	cat /var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem \
		/var/lib/swtpm-localca/issuercert.pem \
		>"$loop_work/ek-ca.pem" 2>/dev/null || return 1
	dbus-daemon --session --nofork --address="unix:path=$bus" \
		>/dev/null 2>&1 &
	loop_tpm_pids+=" $!"
	loop_wait 15 test -S "$bus" || return 1
	DBUS_SESSION_BUS_ADDRESS="unix:path=$bus" tpm2-abrmd --session \
		--allow-root \
		--tcti="swtpm:host=127.0.0.1,port=$loop_swtpm_port" \
		>/dev/null 2>&1 &
	loop_tpm_pids+=" $!"
	loop_agent_env=(DBUS_SESSION_BUS_ADDRESS="unix:path=$bus"
			TPM2OPENSSL_TCTI=tabrmd:bus_type=session
			TSS2_LOG=all+none)
	loop_wait 30 env "${loop_agent_env[@]}" \
		tpm2_getrandom -T tabrmd:bus_type=session 4
}

# The server's options for enrollment, when the loop uses it.
loop_server_trust_args() {
	((LOOP_ENROLL)) || return 0
	printf '%s\n' --enroll-ca-key "$loop_work/ca/ca.key" \
		--enroll-ca-cert "$loop_work/ca/ca.pem" \
		--ek-ca "$loop_work/ek-ca.pem" --enroll-tpm "$loop_server_tpm"
}

# The agent's identity: enrolled with its TPM, or a test certificate.
# A server a script started itself (not by loop_start_server) knows
# nothing of enrollment: its agent gets the test certificate.
loop_agent_identity_args() {
	local ca=$loop_work/ca
	if ((LOOP_ENROLL)) && [[ -n $loop_server_enrolls || -z $loop_server_pid ]]; then
		printf '%s\n' --tpm tabrmd:bus_type=session --enroll \
			--agent-id "agent-$loop_id" --cert "$loop_work/agent.pem" \
			--key "$loop_work/agent.tss2"
	else
		printf '%s\n' --cert "$ca/agent-$loop_id.pem" \
			--key "$ca/agent-$loop_id.key"
	fi
}

loop_down() {
	local p
	for p in $loop_flood_pid $loop_agent_pid $loop_server_pid; do
		kill "$p" 2>/dev/null
	done
	for p in $loop_flood_pid $loop_agent_pid $loop_server_pid; do
		wait "$p" 2>/dev/null
	done
	# abrmd first: it holds a connection to the agent's swtpm.
	for p in $(printf '%s\n' $loop_tpm_pids | tac); do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	loop_tpm_pids= loop_agent_env=() loop_server_enrolls=
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
	local -a trust
	mapfile -t trust < <(loop_server_trust_args)
	rm -f "$loop_work/port"
	TSS2_LOG=all+none ip netns exec "$NS_MGMT" "$LOOP_BUILD/bin/vnfsec-server" \
		--listen "$MGMT_IP_SERVER:$LOOP_PORT" --ca "$ca/ca.pem" \
		--cert "$ca/server.pem" --key "$ca/server.key" \
		--alerts "$loop_work/alerts.json" --port-file "$loop_work/port" \
		--control "$loop_work/server.sock" \
		--metrics 127.0.0.1:0 --metrics-port-file "$loop_work/metrics.port" \
		--block-ttl "$LOOP_BLOCK_TTL" "${trust[@]}" "$@" \
		2>>"$loop_work/server.log" &
	loop_server_pid=$!
	((LOOP_ENROLL)) && loop_server_enrolls=1
	loop_wait 30 test -s "$loop_work/port"
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
	local -a identity
	mapfile -t identity < <(loop_agent_identity_args)
	rm -f "$loop_work/agent.sock"	# a killed agent leaves it behind
	env "${loop_agent_env[@]}" \
	nsenter --net="/run/netns/$NS_SW" "$LOOP_BUILD/bin/vnfsec-agent" \
		--iface "$SW_IF_ATTACKER" --iface "$SW_IF_SGW" \
		--iface "$SW_IF_PGW" --iface "$SW_IF_BILLING" \
		--pin-dir "$loop_pins" --detach-on-exit \
		--spool-dir "$loop_work/spool" --control "$loop_work/agent.sock" \
		--server "$MGMT_IP_SERVER:$LOOP_PORT" --ca "$ca/ca.pem" \
		"${identity[@]}" \
		--syn-threshold "$LOOP_SYN_THRESHOLD" "$@" \
		2>>"$loop_work/agent.log" &
	loop_agent_pid=$!
	loop_wait 30 test -S "$loop_work/agent.sock"
}

# The agent enrolled with its TPM and the server trusts it (LOOP_ENROLL=1).
loop_agent_attested() {
	grep -q "agent agent-$loop_id enrolled from" "$loop_work/server.log" &&
		loop_vnfsecctl --server --json agents 2>/dev/null |
		python3 -c 'import json, sys
a = [x for x in json.load(sys.stdin) if x["id"] == sys.argv[1]]
sys.exit(0 if a and a[0].get("trusted") else 1)' "agent-$loop_id"
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
		loop_wait 30 loop_connected_more_than "$before"
}

# loop_policy TEMPLATE OUT [SED-ARGS...]: a policy template with this
# testbed's switch ports filled in (@SW_IF_SGW@, _PGW@, _BILLING@).
loop_policy() {
	local in=$1 out=$2
	shift 2
	sed -e "s/@SW_IF_SGW@/$SW_IF_SGW/" -e "s/@SW_IF_PGW@/$SW_IF_PGW/" \
		-e "s/@SW_IF_BILLING@/$SW_IF_BILLING/" "$@" "$in" >"$out"
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
