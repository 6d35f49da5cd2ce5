#!/bin/bash
# End-to-end test of the checkpoint loop with the qemu driver against real
# QEMU: two QEMUs under TCG (no disk, no NIC, 32 MiB; docs/qemu.md, "QEMU's
# COLO under TCG"), each with two QMP monitors (one for its colo-proxy, one
# for this test), the primary's `colo-proxy attach ... --listen --driver
# qemu --vm unix:...` on a tools/colo-topo.sh topology and the secondary's
# `attach --role secondary --no-datapath --peer --driver qemu`.
#   pair 1: the proxies start before COLO does (attach warns, waits); after
#     `migrate` both QEMUs are in COLO and the loop runs (status: driver
#     qemu, phase colo, peer connected). The secondary's proxy is SIGKILLed:
#     the primary's fails over within the heartbeat timeout, its QEMU leaves
#     COLO (x-colo-lost-heartbeat: mode none, last-mode primary, reason
#     request) and runs.
#   pair 2: --interval 1500 (QEMU's x-checkpoint-delay): QEMU starts its
#     first checkpoint by itself; the secondary's QEMU loads it and its proxy
#     counts it. QEMU 7.2's primary then stalls (docs/qemu.md): its proxy
#     counts the checkpoint done (a QEMU that works) or reports it stuck
#     (aborted, after the driver's 10 s checkpoint timeout); either is
#     accepted and named. The primary's proxy is SIGKILLed: the secondary's
#     takes over, its QEMU leaves COLO (last-mode secondary) and runs.
# Root only (namespaces, XDP); needs qemu-system-x86_64. "ok NAME" /
# "FAIL NAME: why" per check, then "N passed, N failed"; exit status 1 on
# any failure. About 30 s.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
TOPO=tools/colo-topo.sh
QEMU=qemu-system-x86_64
VM_MAC=02:00:00:00:00:10
P=qe$$			# topology prefix (<= 12 chars); the primary's instance
INST=$P
SINST=$P-sec
TMP=$(mktemp -d)
QPY=$TMP/qmp.py
STPY=$QPY		# st, stget (tools/colo-testlib.sh)
PLOG=$TMP/primary.log
SLOG=$TMP/secondary.log
HB_TIMEOUT=1000
MARGIN=500
PORT=
primary_pid=
secondary_pid=
pq_pid=
sq_pid=
passed=0
failed=0
t_start=$SECONDS

# stop_pid, stop_proxies, check, finish, st, stget, st_wait
# shellcheck source=tools/colo-testlib.sh
. tools/colo-testlib.sh || exit 1

kill_pid() {	# PID: SIGKILL now (a QEMU stuck in its checkpoint ignores nothing else)
	[ -n "$1" ] || return 0
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

stop_all() {
	stop_proxies
	kill_pid "$pq_pid"
	kill_pid "$sq_pid"
	pq_pid=
	sq_pid=
}

cleanup() {
	stop_all
	"$TOPO" -q down "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

cat >"$QPY" <<'EOF'
import json, os, socket, sys, time

def qmp(path, cmd, args=None, timeout=5):
    """One command on a QMP monitor; its "return" value (exit 1 on error)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("rwb")
    json.loads(f.readline())
    def ex(c, a=None):
        m = {"execute": c}
        if a is not None:
            m["arguments"] = a
        f.write(json.dumps(m).encode() + b"\r\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "error" in r:
                raise SystemExit("%s: %s" % (c, r["error"].get("desc")))
            if "return" in r:
                return r["return"]
    ex("qmp_capabilities")
    return ex(cmd, args)

def last_json(path):
    return json.loads(open(path).read().splitlines()[-1])

a = sys.argv[1:]
if a[0] == "qmp":		# SOCK CMD [JSONARGS]: print the return value
    print(json.dumps(qmp(a[1], a[2], json.loads(a[3]) if len(a) > 3 else None)))
elif a[0] == "caps":		# SOCK: x-colo and events on
    qmp(a[1], "migrate-set-capabilities", {"capabilities": [
        {"capability": "x-colo", "state": True},
        {"capability": "events", "state": True}]})
elif a[0] == "port":		# SOCK: the port an -incoming tcp:...:0 listens on
    r = qmp(a[1], "query-migrate")
    print(r["socket-address"][0]["port"])
elif a[0] == "colo":		# SOCK EXPR: query-colo-status r and query-status s
    r = qmp(a[1], "query-colo-status")
    s = qmp(a[1], "query-status")
    if not eval("(" + a[2] + "\n)"):
        raise SystemExit("false: %s; colo %s, status %s" % (a[2], json.dumps(r), json.dumps(s)))
elif a[0] == "eval":		# STATUSFILE EXPR (c: the checkpoint object)
    d = last_json(a[1])
    c = d.get("checkpoint") or {}
    if not eval("(" + a[2] + "\n)"):
        raise SystemExit("false: %s\n  checkpoint: %s" % (a[2], json.dumps(c)[:900]))
elif a[0] == "get":
    d = last_json(a[1])
    c = d.get("checkpoint") or {}
    print(eval(a[2]))
elif a[0] == "stopkill":	# PID: SIGKILL, print CLOCK_MONOTONIC ns
    t = time.monotonic_ns()
    os.kill(int(a[1]), 9)
    print(t)
EOF

qpy() {
	"$PY" "$QPY" "$@"
}

colo_wait() {	# SOCK EXPR [SECONDS]: query-colo-status / query-status
	local n=$((${3:-5} * 10))
	for _ in $(seq "$n"); do
		qpy colo "$1" "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	qpy colo "$1" "$2"
}

# --- preconditions ---

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL root: this test needs root (network namespaces, XDP)"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! command -v $QEMU >/dev/null; then
	echo "FAIL qemu: $QEMU is not installed (tools/setup.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
[ -x "$PROXY" ] || { echo "FAIL build: $PROXY missing: run make"; echo "0 passed, 1 failed"; exit 1; }
# the interpreter itself, not a wrapper script (pyenv): it starts faster
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$PY" ] ||
	{ echo "FAIL python3: needed for QMP"; echo "0 passed, 1 failed"; exit 1; }

t_topo() {
	"$TOPO" up "$P" >"$TMP/topo.log" 2>&1 || { tail -5 "$TMP/topo.log"; return 1; }
}
check topology-up t_topo
[ "$failed" -eq 0 ] || finish

# --- the pair ---

qemu_start() {	# p|s: a QEMU with a monitor for its proxy (X.qmp) and ours (X.test)
	local w=$1 pid extra=()
	rm -f "$TMP/$w.qmp" "$TMP/$w.test"
	[ "$w" = s ] && extra=(-incoming tcp:127.0.0.1:0)
	$QEMU -machine pc,accel=tcg -m 32 -nodefaults -display none -no-reboot \
		-qmp "unix:$TMP/$w.qmp,server=on,wait=off" \
		-qmp "unix:$TMP/$w.test,server=on,wait=off" "${extra[@]}" \
		>"$TMP/qemu-$w.log" 2>&1 &
	pid=$!
	eval "${w}q_pid=$pid"
	for _ in $(seq 50); do
		[ -S "$TMP/$w.test" ] && qpy qmp "$TMP/$w.test" query-status >/dev/null 2>&1 &&
			return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "QEMU ($w) did not come up: $(tail -3 "$TMP/qemu-$w.log")"
	return 1
}

# start_pair ARGS...: both QEMUs (x-colo on, not yet migrating), both
# proxies (ARGS to the primary's); waits until the proxies are connected.
start_pair() {
	stop_all
	PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	qemu_start s && qemu_start p || return 1
	qpy caps "$TMP/s.test" && qpy caps "$TMP/p.test" || return 1
	: >"$PLOG"
	: >"$SLOG"
	"$PROXY" attach --instance "$INST" --vm-mac $VM_MAC --client "${P}c" \
		--pvm "${P}p" --svm "${P}s" --mode skb \
		--listen "127.0.0.1:$PORT" --driver qemu --vm "unix:$TMP/p.qmp" \
		--heartbeat 100 --heartbeat-timeout $HB_TIMEOUT -v "$@" >>"$PLOG" 2>&1 &
	primary_pid=$!
	for _ in $(seq 100); do
		kill -0 "$primary_pid" 2>/dev/null || { echo "the primary's attach exited"; return 1; }
		"$PROXY" status --instance "$INST" >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$PROXY" attach --role secondary --instance "$SINST" --no-datapath \
		--peer "127.0.0.1:$PORT" --driver qemu --vm "unix:$TMP/s.qmp" \
		--heartbeat 100 --heartbeat-timeout $HB_TIMEOUT -v >>"$SLOG" 2>&1 &
	secondary_pid=$!
	st_wait p 'c["driver"] == "qemu" and c["phase"] == "colo" and c["peer"]["connected"]' 10 &&
	st_wait s 'c["driver"] == "qemu" and c["phase"] == "colo"' 5
}

# migrate: the first migration; both QEMUs reach COLO
migrate() {
	local port
	port=$(qpy port "$TMP/s.test") || return 1
	qpy qmp "$TMP/p.test" migrate "{\"uri\": \"tcp:127.0.0.1:$port\"}" >/dev/null || return 1
	colo_wait "$TMP/p.test" 'r["mode"] == "primary" and s["running"]' 10 &&
	colo_wait "$TMP/s.test" 'r["mode"] == "secondary" and s["running"]' 5
}

# --- pair 1: COLO starts under the proxies; the secondary's proxy dies ---

t_pair1() {
	start_pair || return 1
	grep -q 'not in COLO state yet' "$PLOG" ||
		{ echo "the primary's proxy did not say that COLO has not started"; return 1; }
}
check p1-proxies-wait-for-colo t_pair1

t_colo() {
	migrate || return 1
	# the proxy follows: the primary VM is replicating (COLO_ENTER)
	for _ in $(seq 50); do
		grep -q 'the primary VM is replicating' "$PLOG" && break
		sleep 0.1
	done
	grep -q 'the primary VM is replicating' "$PLOG" ||
		{ echo "the primary's proxy did not notice COLO"; return 1; }
	st p 'c["phase"] == "colo" and c["failover"]["state"] == "none"' &&
	st s 'c["phase"] == "colo" and c["failover"]["state"] == "none"'
}
check p1-colo-running t_colo

# t_kill WHO: SIGKILL WHO's proxy (p|s); the other fails over in time and
# its QEMU leaves COLO and runs
t_kill() {
	local who=$1 other=s pid kill_ns role
	[ "$who" = s ] && other=p
	if [ "$who" = p ]; then pid=$primary_pid; else pid=$secondary_pid; fi
	kill_ns=$(qpy stopkill "$pid") || return 1
	wait "$pid" 2>/dev/null
	if [ "$who" = p ]; then primary_pid=; else secondary_pid=; fi
	st_wait $other 'c["failover"]["state"] != "none"' $(((HB_TIMEOUT + MARGIN) / 1000 + 1)) ||
		return 1
	st $other "c['failover']['state'] == 'failed-over' and
		   c['failover']['reason'] in ('connection-lost', 'heartbeat-lost') and
		   c['failover']['loss_to_failover_ms'] <= $HB_TIMEOUT + $MARGIN and
		   c['failover']['at_ns'] - $kill_ns <= ($HB_TIMEOUT + $MARGIN) * 10**6" ||
		return 1
	echo "# $(stget $other '"%s: failover %.1f ms after the kill, loss to failover %.1f ms (detection %.1f, action %.1f), after QEMU checkpoint %d" % (c["failover"]["reason"], (c["failover"]["at_ns"] - '"$kill_ns"') / 1e6, c["failover"]["loss_to_failover_ms"], c["failover"]["detection_ms"], c["failover"]["action_ms"], c["failover"]["after_checkpoint"])')"
	[ "$other" = p ] && role=primary || role=secondary
	colo_wait "$TMP/$other.test" "r['mode'] == 'none' and r['last-mode'] == '$role' and
		   r['reason'] == 'request' and s['running']" 5
}
check p1-secondary-killed-primary-runs-alone t_kill s
stop_all

# --- pair 2: QEMU's own checkpoint; the primary's proxy dies ---

t_pair2() {
	start_pair --interval 1500 && migrate
}
check p2-colo-running t_pair2

t_qemu_checkpoint() {
	# the secondary's QEMU runs its half (STOP, load, RESUME) in any QEMU
	st_wait s 'c["checkpoints"]["done"] >= 1' 8 || return 1
	echo "# the secondary's proxy: QEMU checkpoint $(stget s 'c["checkpoints"]["last"]["seq"]') loaded, $(stget s 'c["checkpoints"]["last"]["duration_ms"]') ms from STOP to RESUME"
	# the primary's: done (QEMU completes it) or stuck (7.2: reported after
	# the driver's checkpoint timeout)
	st_wait p 'c["checkpoints"]["done"] >= 1 or c["checkpoints"]["aborted"] >= 1' 14 ||
		return 1
	if st p 'c["checkpoints"]["done"] >= 1'; then
		echo "# the primary's QEMU completed checkpoint 1"
	else
		grep -q 'has not completed' "$PLOG" ||
			{ echo "aborted, but no stall reported in the log"; return 1; }
		echo "# the primary's QEMU stalled in checkpoint 1 (QEMU 7.2, docs/qemu.md): $(grep -m1 -o 'checkpoint 1 has not completed[^;]*' "$PLOG")"
	fi
}
check p2-qemu-checkpoint-followed t_qemu_checkpoint
check p2-primary-killed-secondary-takes-over t_kill p

finish
