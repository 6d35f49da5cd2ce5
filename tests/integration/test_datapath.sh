#!/bin/bash
# Integration test of the live datapath: `colo-proxy attach` on a namespace
# topology (tools/colo-topo.sh) with tools/colo-service in the PVM and the SVM.
#   a  every request gets exactly one correct reply (TCP, UDP, IPv4, IPv6,
#      20 KB replies that the two VMs segment as they like)
#   b  the PVM's reply waits for the SVM's (SVM service stopped: no reply)
#   c  an SVM that answers differently: divergence "payload" (TCP) and
#      "datagram" (UDP) in `status --json`, the client still gets the PVM's
#   e  a second attach on the same NIC is refused with a clear message
#   d  detach removes the programs and the pins, is idempotent, and the
#      client reaches the PVM plainly through a bridge afterwards
#   f  SIGTERM to attach cleans up the same way
# and, before detach, TCP through the proxy when the two VMs' TCP timestamp
# clocks differ (tcp4-tsval-differ).
# Root only. Attaches in native mode (skb if native fails, or with
# COLO_TEST_MODE=skb). COLO_TEST_TCP_TIMESTAMPS=0 turns TCP timestamps off
# in the VMs (except for tcp4-tsval-differ). Prints "ok NAME" / "FAIL NAME:
# why" per check, then "N passed, N failed"; exit status 1 on any failure.
# About 20 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
SVC=$BUILD/tools/colo-service
TOPO=tools/colo-topo.sh
P=dp$$			# topology prefix (<= 12 chars)
INST=dp$$		# proxy instance
VM_MAC=02:00:00:00:00:10
TCP_PORT=7000
UDP_PORT=7001
TIMEOUT_MS=2000		# the proxy's comparison timeout
TMP=$(mktemp -d)
LOG=$TMP/proxy.log
proxy_pid=
pvm_pid=
svm_pid=
passed=0
failed=0
mode=${COLO_TEST_MODE:-native}	# native (falls back to skb) or skb
tcp_ts=${COLO_TEST_TCP_TIMESTAMPS:-1}	# net.ipv4.tcp_timestamps in the VMs
t_start=$SECONDS

# stop_pid, in_ns, xdp_on, finish
# shellcheck source=tools/colo-testlib.sh
. tools/colo-testlib.sh || exit 1

cleanup() {
	stop_pid "$proxy_pid"
	[ -x "$PROXY" ] && "$PROXY" detach --instance "$INST" >/dev/null 2>&1
	[ -x "$PROXY" ] && "$PROXY" detach --instance "${INST}b" >/dev/null 2>&1
	stop_pid "$pvm_pid"
	stop_pid "$svm_pid"
	"$TOPO" -q down "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# check NAME CMD...: CMD succeeds, or prints why it did not (with the tail
# of the proxy's log). CMD runs in this shell: it may set variables.
check() {
	local name=$1 why
	shift
	if "$@" >"$TMP/why" 2>&1; then
		grep '^#' "$TMP/why"
		echo "ok $name"
		passed=$((passed + 1))
	else
		why=$(cat "$TMP/why")
		echo "FAIL $name: ${why:-command failed}"
		if [ -s "$LOG" ]; then
			echo "  --- tail of the proxy's log ---"
			tail -n 15 "$LOG" | sed 's/^/  | /'
		fi
		failed=$((failed + 1))
	fi
}

# client ARGS...: colo-service client in the client namespace; summary in
# $TMP/client.out, exit status returned.
client() {
	in_ns cli "$SVC" --client "$@" >"$TMP/client.out" 2>"$TMP/client.err"
}

client_ok() {	# ARGS...: the client exits 0
	client "$@" && return 0
	echo "$(cat "$TMP/client.out") $(head -c 300 "$TMP/client.err")"
	return 1
}

# status_json EXPR: `colo-proxy status --instance INST --json`'s last line is
# an object d for which the Python expression EXPR holds. Helpers in EXPR:
# reasons(d) = divergence counts by reason, divs(d) = recent divergences,
# new(d) = the reasons counted since the last `snap`, with their counts,
# newdivs(d) = the recent divergences since then.
status_json() {
	"$PROXY" status --instance "$INST" --json >"$TMP/status.out" 2>"$TMP/status.err" ||
		{ echo "status failed: $(head -c 300 "$TMP/status.err")"; return 1; }
	python3 - "$TMP/status.out" "$1" "$TMP/snap.json" <<'EOF'
import json, os, sys

def walk(x):
    yield x
    if isinstance(x, dict):
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)

def reasons(d):
    r = {}
    for x in walk(d):
        if isinstance(x, dict) and isinstance(x.get("by_reason"), dict):
            for k, v in x["by_reason"].items():
                r[k] = max(r.get(k, 0), v)
    return r

def divs(d):
    return [x for x in walk(d) if isinstance(x, dict) and "reason" in x
            and isinstance(x["reason"], str)]

def seq(x):
    return x["seq"] if isinstance(x.get("seq"), int) else 0

prev = {"reasons": {}, "seq": 0}
if os.path.exists(sys.argv[3]):
    prev = json.load(open(sys.argv[3]))

def new(d):
    r = reasons(d)
    return {k: v - prev["reasons"].get(k, 0) for k, v in r.items()
            if v > prev["reasons"].get(k, 0)}

def newdivs(d):
    return [x for x in divs(d) if seq(x) > prev["seq"]]

lines = open(sys.argv[1]).read().splitlines()
if not lines:
    sys.exit("status printed nothing")
d = json.loads(lines[-1])
if sys.argv[2] == "SNAP":
    json.dump({"reasons": reasons(d), "seq": max([0] + [seq(x) for x in divs(d)])},
              open(sys.argv[3], "w"))
    sys.exit(0)
if not eval("(" + sys.argv[2] + "\n)"):
    sys.exit("false: %s\n  engine: %s\n  divergences: %s" % (sys.argv[2],
             json.dumps(d.get("engine")), json.dumps(d.get("divergences"))[:600]))
EOF
}

# snap: remember the divergence counts, for new(d) and newdivs(d)
snap() {
	sleep 0.3	# the comparator publishes a few times a second
	status_json SNAP
}

# status_wait EXPR: status_json EXPR holds within 3 s (the comparator
# publishes its state a few times a second).
status_wait() {
	local i
	for i in $(seq 15); do
		status_json "$1" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	status_json "$1"
}

# --- preconditions ---

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL root: this test needs root (network namespaces, XDP)"
	echo "0 passed, 1 failed"
	exit 1
fi
for f in "$PROXY" "$SVC"; do
	[ -x "$f" ] || { echo "FAIL build: $f missing: run make"; echo "0 passed, 1 failed"; exit 1; }
done

# --- topology, services, the harness without the proxy ---

t_topo() {
	"$TOPO" up "$P" >"$TMP/topo.log" 2>&1 || { tail -5 "$TMP/topo.log"; return 1; }
}
check topology-up t_topo
[ "$failed" -eq 0 ] || finish
for vm in pvm svm; do
	in_ns "$vm" sysctl -q -w net.ipv4.tcp_timestamps="$tcp_ts"
done
check service-pvm start_service pvm --diverge-file "$TMP/pvm.diverge"
check service-svm start_service svm --diverge-file "$TMP/svm.diverge"
[ "$failed" -eq 0 ] || finish

# The harness itself: through a plain bridge the client reaches the PVM.
# Afterwards every neighbour cache is flushed so PVM and SVM start equal.
t_plain() {
	local err=0
	"$TOPO" -q bridge "$P" || return 1
	client_ok 192.0.2.10 --tcp $TCP_PORT --requests 5 --bytes 20000 || err=1
	[ $err -eq 1 ] || client_ok 2001:db8::10 --udp $UDP_PORT --requests 5 --bytes 1000 || err=1
	"$TOPO" -q unbridge "$P"
	for ns in cli pvm svm; do
		ip -n "$P-$ns" neigh flush all 2>/dev/null
	done
	return $err
}
check plain-bridge-before-attach t_plain

# --- attach ---

attach_help() {
	"$PROXY" attach --help >"$TMP/help.out" 2>&1 ||
		{ echo "colo-proxy has no attach command yet: $(head -c 200 "$TMP/help.out")"; return 1; }
}
check attach-available attach_help
[ "$failed" -eq 0 ] || finish

# attach_bg MODE: start attach in the background, wait until status answers.
attach_bg() {
	local i
	: >"$LOG"
	"$PROXY" attach --instance "$INST" --vm-mac $VM_MAC --client "${P}c" \
		--pvm "${P}p" --svm "${P}s" --mode "$1" --timeout $TIMEOUT_MS \
		>>"$LOG" 2>&1 &
	proxy_pid=$!
	for i in $(seq 100); do
		if ! kill -0 "$proxy_pid" 2>/dev/null; then
			wait "$proxy_pid"
			echo "attach --mode $1 exited with status $?"
			proxy_pid=
			return 1
		fi
		"$PROXY" status --instance "$INST" --json >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "attach --mode $1: status did not answer within 10 s"
	return 1
}

t_attach() {
	local why
	if [ "$mode" != native ]; then
		attach_bg "$mode"
		return
	fi
	if attach_bg native >"$TMP/why.native" 2>&1; then
		return 0
	fi
	why=$(cat "$TMP/why.native")
	echo "# native mode failed ($why); log:" >&2
	sed 's/^/#   /' "$LOG" >&2
	stop_pid "$proxy_pid"
	proxy_pid=
	"$PROXY" detach --instance "$INST" >/dev/null 2>&1
	mode=skb
	attach_bg skb
}
check attach t_attach
echo "# attached in $mode mode"
[ "$failed" -eq 0 ] || finish

t_xdp_attached() {
	local ifc
	for ifc in "${P}c" "${P}p" "${P}s"; do
		xdp_on "$ifc" || { echo "no XDP program on $ifc"; return 1; }
	done
}
check xdp-on-all-three t_xdp_attached
t_pins() {
	[ -d "/sys/fs/bpf/colo/$INST" ] || { echo "no /sys/fs/bpf/colo/$INST"; return 1; }
}
check pins-present t_pins

# --- a: exactly one correct reply per request ---

snap

check a-tcp4 client_ok 192.0.2.10 --tcp $TCP_PORT --requests 50 --bytes 20000
check a-tcp6 client_ok 2001:db8::10 --tcp $TCP_PORT --requests 50 --bytes 20000
check a-udp4 client_ok 192.0.2.10 --udp $UDP_PORT --requests 50 --bytes 1200
check a-udp6 client_ok 2001:db8::10 --udp $UDP_PORT --requests 50 --bytes 1200
check a-tcp4-8conns client_ok 192.0.2.10 --tcp $TCP_PORT --requests 200 --conns 8 \
	--bytes 20000 --every 3
check a-tcp6-8conns client_ok 2001:db8::10 --tcp $TCP_PORT --requests 200 --conns 8 \
	--bytes 20000 --every 3
sleep 0.5
check a-no-divergence status_json 'new(d) == {} and newdivs(d) == []'


# --- b: nothing reaches the client before the SVM said the same ---

# t_held PROTO ADDR PORT: with the SVM's service stopped, no reply within 1 s;
# after SIGCONT the reply arrives (and took more than 1 s).
t_held() {
	local proto=$1 addr=$2 port=$3 cpid rc lat
	kill -STOP "$svm_pid"
	nsenter --net="/run/netns/$P-cli" "$SVC" --client "$addr" --"$proto" "$port" --requests 1 \
		--timeout 5000 >"$TMP/held.out" 2>&1 &
	cpid=$!
	sleep 1
	if ! kill -0 "$cpid" 2>/dev/null; then
		kill -CONT "$svm_pid"
		wait "$cpid"
		echo "a reply reached the client while the SVM was stopped: $(cat "$TMP/held.out")"
		return 1
	fi
	kill -CONT "$svm_pid"
	wait "$cpid"
	rc=$?
	[ $rc -eq 0 ] || { echo "after SIGCONT: $(cat "$TMP/held.out")"; return 1; }
	lat=$(sed -n 's/.*latency_ms min \([0-9.]*\) .*/\1/p' "$TMP/held.out")
	python3 -c "import sys; sys.exit(0 if float('$lat') >= 950 else 1)" ||
		{ echo "reply after $lat ms, expected >= 1000: $(cat "$TMP/held.out")"; return 1; }
}
snap
check b-tcp4-held-until-svm t_held tcp 192.0.2.10 $TCP_PORT
check b-udp6-held-until-svm t_held udp 2001:db8::10 $UDP_PORT
check b-no-divergence status_json 'new(d) == {}'

# --- c: the SVM answers differently ---

# t_diverge PROTO ADDR PORT REASON: the client still gets the PVM's answer and
# status shows a divergence REASON.
t_diverge() {
	local proto=$1 addr=$2 port=$3 reason=$4 rc
	snap
	touch "$TMP/svm.diverge"
	client "$addr" --"$proto" "$port" --requests 3 --timeout $((TIMEOUT_MS + 3000))
	rc=$?
	rm -f "$TMP/svm.diverge"
	[ $rc -eq 0 ] || { echo "client: $(cat "$TMP/client.out")"; return 1; }
	status_wait "list(new(d)) == ['$reason'] and newdivs(d) and
		     all(x['reason'] == '$reason' for x in newdivs(d))"
}
check c-tcp4-payload t_diverge tcp 192.0.2.10 $TCP_PORT payload
check c-udp4-datagram t_diverge udp 192.0.2.10 $UDP_PORT datagram
check c-tcp6-payload t_diverge tcp 2001:db8::10 $TCP_PORT payload
snap
check c-after-divergence client_ok 192.0.2.10 --tcp $TCP_PORT --requests 20 --bytes 20000

# --- e: one instance per NIC ---

t_second_attach() {
	local rc
	timeout 10 "$PROXY" attach --instance "${INST}b" --vm-mac $VM_MAC \
		--client "${P}c" --pvm "${P}p" --svm "${P}s" --mode "$mode" \
		>"$TMP/second.out" 2>&1
	rc=$?
	[ $rc -ne 124 ] || { echo "a second attach on ${P}c was not refused (still running after 10 s)"; return 1; }
	[ $rc -ne 0 ] || { echo "a second attach on ${P}c exited 0"; return 1; }
	grep -q "${P}c" "$TMP/second.out" ||
		{ echo "the refusal does not name ${P}c: $(head -c 300 "$TMP/second.out")"; return 1; }
	echo "# refused: $(grep -m1 "${P}c" "$TMP/second.out")"
	xdp_on "${P}c" || { echo "the refused attach removed the first one's program"; return 1; }
}
check e-second-attach-refused t_second_attach
t_same_instance() {
	local rc
	timeout 10 "$PROXY" attach --instance "$INST" --vm-mac $VM_MAC \
		--client "${P}c" --pvm "${P}p" --svm "${P}s" --mode "$mode" \
		>"$TMP/second.out" 2>&1
	rc=$?
	[ $rc -ne 124 ] && [ $rc -ne 0 ] ||
		{ echo "attach of a running instance was not refused (status $rc)"; return 1; }
	grep -q "$INST" "$TMP/second.out" ||
		{ echo "the refusal does not name $INST: $(head -c 300 "$TMP/second.out")"; return 1; }
	echo "# refused: $(grep -m1 "$INST" "$TMP/second.out")"
}
check e-same-instance-refused t_same_instance
check e-first-still-serves client_ok 192.0.2.10 --tcp $TCP_PORT --requests 10 --bytes 20000

# Held frames time out after TIMEOUT_MS: wait that long, then no divergence
# may have happened since the SVM answers like the PVM again.
sleep $((TIMEOUT_MS / 1000 + 1))
check no-divergence-since-c status_json 'new(d) == {} and newdivs(d) == []'

# Two VMs' TCP timestamp clocks differ (here: the SVM without a per-connection
# offset, net.ipv4.tcp_timestamps=2). The client echoes the PVM's TSval; a
# Linux SVM in SYN-RECV drops an ACK whose TSecr it never sent
# (TcpExtTSEcrRejected), so without a TSecr rewrite its handshake never
# completes. With equal clocks this still hits a connection whose two
# SYN/ACKs straddle a millisecond tick. Last before detach: an SVM stuck in
# SYN-RECV keeps sending SYN/ACKs that time out in the comparator.
t_tsval_differ() {
	local rc
	snap
	in_ns pvm sysctl -q -w net.ipv4.tcp_timestamps=1 &&
	in_ns svm sysctl -q -w net.ipv4.tcp_timestamps=2 || return 1
	client_ok 192.0.2.10 --tcp $TCP_PORT --requests 8 --conns 4 --timeout 5000
	rc=$?
	in_ns pvm sysctl -q -w net.ipv4.tcp_timestamps="$tcp_ts"
	in_ns svm sysctl -q -w net.ipv4.tcp_timestamps="$tcp_ts"
	sleep 0.5
	status_json 'new(d) == {}' || {
		echo "  SVM: $(in_ns svm cat /proc/net/netstat | python3 -c '
import sys
l = sys.stdin.read().splitlines()
print(" ".join("%s %s" % kv for i in range(0, len(l), 2)
               for kv in zip(l[i].split()[1:], l[i + 1].split()[1:]) if "TSEcr" in kv[0]))')"
		return 1
	}
	return $rc
}
check tcp4-tsval-differ t_tsval_differ

# --- d: detach ---

t_clean() {	# no XDP on the three ends, no pins
	local ifc
	for ifc in "${P}c" "${P}p" "${P}s"; do
		! xdp_on "$ifc" || { echo "XDP still on $ifc: $(ip -d link show dev "$ifc" | grep xdp)"; return 1; }
	done
	[ ! -e "/sys/fs/bpf/colo/$INST" ] ||
		{ echo "pins left: $(ls "/sys/fs/bpf/colo/$INST" 2>&1 | tr '\n' ' ')"; return 1; }
}

t_detach() {
	local i
	"$PROXY" detach --instance "$INST" >"$TMP/detach.out" 2>&1 ||
		{ echo "detach failed: $(cat "$TMP/detach.out")"; return 1; }
	for i in $(seq 50); do
		kill -0 "$proxy_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$proxy_pid" 2>/dev/null; then
		echo "the attach process is still running 5 s after detach"
		return 1
	fi
	wait "$proxy_pid"
	proxy_pid=
	t_clean
}
check d-detach t_detach
t_detach_again() {
	"$PROXY" detach --instance "$INST" >"$TMP/detach.out" 2>&1 ||
		{ echo "second detach: status $?: $(cat "$TMP/detach.out")"; return 1; }
	t_clean
}
check d-detach-twice t_detach_again

t_plain_after() {
	local err=0
	"$TOPO" -q bridge "$P" || return 1
	client_ok 192.0.2.10 --tcp $TCP_PORT --requests 10 --bytes 20000 || err=1
	[ $err -eq 1 ] || client_ok 2001:db8::10 --tcp $TCP_PORT --requests 10 || err=1
	[ $err -eq 1 ] || client_ok 192.0.2.10 --udp $UDP_PORT --requests 10 || err=1
	"$TOPO" -q unbridge "$P"
	return $err
}
check d-plain-bridge-after-detach t_plain_after

# --- f: SIGTERM cleans up too ---

t_sigterm() {
	local pid
	attach_bg "$mode" || return 1
	pid=$proxy_pid
	kill -TERM "$pid"
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { echo "attach still running 5 s after SIGTERM"; return 1; }
	wait "$pid"
	proxy_pid=
	t_clean
}
check f-sigterm-cleans-up t_sigterm

finish
