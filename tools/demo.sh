#!/bin/bash
# The demo behind `make demo`: a primary and a secondary colo-proxy protecting
# a pair of stand-in VMs (tools/colo-service --control) on a private namespace
# topology (tools/colo-topo.sh), with the checkpoint loop (process driver).
#   1  the client sends requests over TCP and UDP, IPv4 and IPv6: all are
#      answered, compared and released
#   2  the SVM is made to diverge: the comparator catches it, a checkpoint
#      runs, both VMs' state hashes agree again, the client got the right answer
#   3  `colo-proxy status` and bpftool's dump of the datapath counters
#   4  failover: the secondary's proxy is killed, the primary serves alone
#      within the heartbeat timeout, clients are still answered
#   5  detach and clean up
# then a summary. About 15 s. Root only; as another user (or with --offline)
# it runs the offline comparison of the bundled captures instead.
#
# Usage: tools/demo.sh [--mode native|skb] [--offline]
# BUILD (default build) names the build folder. Exit status 0 on success,
# 1 when a step failed (the reason and the proxies' logs are printed).
# Everything it creates (namespaces, veths, XDP programs, pins, processes,
# files) is removed on every path; traffic stays inside its own namespaces
# and on 127.0.0.1.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
SVC=$BUILD/tools/colo-service
TOPO=tools/colo-topo.sh
P=demo$$		# topology prefix and instance name (<= 12 chars)
SEC=$P-sec		# the secondary's instance
VM_MAC=02:00:00:00:00:10
TCP_PORT=7000
UDP_PORT=7001
mode=native
offline=0
t0=$(date +%s.%N)

usage() {
	echo "Usage: $0 [--mode native|skb] [--offline]"
	echo "Runs the live demo (root) or, with --offline or as another user, compares"
	echo "the bundled captures tests/data/demo-{primary,secondary}.pcap. BUILD=DIR"
	echo "names the build folder (default build)."
}

while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=${2:-}; shift ;;
	--offline) offline=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $mode in
native|skb) ;;
*) echo "demo: --mode is native or skb, not '$mode'" >&2; exit 2 ;;
esac

[ -x "$PROXY" ] || { echo "demo: $PROXY missing: run 'make' first" >&2; exit 1; }

offline_demo() {
	local rc
	echo "== colo-proxy compare: the bundled captures of a primary and a secondary VM =="
	echo "\$ $PROXY compare tests/data/demo-primary.pcap tests/data/demo-secondary.pcap"
	"$PROXY" compare tests/data/demo-primary.pcap tests/data/demo-secondary.pcap
	rc=$?
	# 0: the outputs are the same, 1: they diverge; both are results
	[ $rc -le 1 ] || { echo "demo: compare failed (exit status $rc)" >&2; exit 1; }
	exit 0
}

if [ $offline -eq 1 ]; then
	offline_demo
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the live demo needs root (network namespaces, XDP, bpffs):" \
		"run 'sudo make demo'. Meanwhile, the offline comparison:"
	echo
	offline_demo
fi

# --- state, cleanup ---

TMP=$(mktemp -d /tmp/colo-demo.XXXXXX) || exit 1
pvm_pid=
svm_pid=
pri_pid=
sec_pid=
cli_pid=
topo_up=0
pcap=$TMP/divergences.pcap
requests=0		# client requests sent, and answered correctly
correct=0

# stop_pid, in_ns, xdp_on
# shellcheck source=tools/colo-testlib.sh
. tools/colo-testlib.sh || exit 1

cleanup() {
	stop_pid "$cli_pid"
	stop_pid "$sec_pid"
	stop_pid "$pri_pid"
	"$PROXY" detach --instance "$SEC" >/dev/null 2>&1
	"$PROXY" detach --instance "$P" >/dev/null 2>&1
	stop_pid "$pvm_pid"
	stop_pid "$svm_pid"
	[ $topo_up -eq 0 ] || "$TOPO" -q down "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted; cleaning up" >&2; exit 130' INT TERM HUP

# --- output ---

heading() {
	echo
	echo "== $* =="
}

say() {
	echo "  $*"
}

elapsed() {	# seconds since the start, one decimal
	python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
		"$t0" "$(date +%s.%N)"
}

fail() {	# WHY: say what went wrong, show the logs, exit 1 (cleanup runs)
	local f
	echo
	echo "demo: FAILED: $*" >&2
	for f in primary secondary pvm svm; do
		[ -s "$TMP/$f.log" ] || continue
		echo "  --- tail of the $f's log ---" >&2
		tail -n 12 "$TMP/$f.log" | sed 's/^/  | /' >&2
	done
	echo "demo: cleaning up" >&2
	exit 1
}

# --- helpers ---

# client ARGS...: colo-service's client in the client namespace, checking
# every reply; prints its summary line, counts, returns its exit status.
client() {
	local out rc
	out=$(in_ns cli "$SVC" --client "$@" 2>"$TMP/client.err")
	rc=$?
	count_client "$out"
	say "$out"
	[ $rc -eq 0 ] || say "client: $(head -c 300 "$TMP/client.err")"
	return $rc
}

count_client() {	# SUMMARY: add the client's requests and correct replies
	local n c
	n=$(sed -n 's/.* requests \([0-9]*\) correct \([0-9]*\) .*/\1/p' <<<"$1")
	c=$(sed -n 's/.* requests \([0-9]*\) correct \([0-9]*\) .*/\2/p' <<<"$1")
	requests=$((requests + ${n:-0}))
	correct=$((correct + ${c:-0}))
}

# line ADDR REQUEST: one request line over TCP from the client namespace;
# prints the reply line.
line() {
	in_ns cli python3 - "$1" "$TCP_PORT" "$2" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(sys.argv[3].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.decode(errors="replace").rstrip("\n"))
EOF
}

# ctl VM REQUEST: one request on VM's (pvm, svm) control socket; the reply
# in $reply. Fails the demo when the service does not answer.
ctl() {
	reply=$(python3 - "$TMP/$1.ctl" "$2" 2>&1 <<'EOF'
import socket, sys
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
except OSError as e:
    sys.exit("%s: %s" % (sys.argv[1], e.strerror or e))
print(buf.decode(errors="replace").rstrip("\n"))
EOF
) || fail "the ${1^^}'s control socket does not answer '$2': $reply"
}

# vm_status VM: the VM's `status` reply as variables vm_hash, vm_diverged,
# vm_loads (status FIELD VALUE pairs)
vm_status() {
	ctl "$1" status
	vm_hash=$(tr ' ' '\n' <<<"$reply" | sed -n '/^hash$/{n;p;q}')
	vm_diverged=$(tr ' ' '\n' <<<"$reply" | sed -n '/^diverged$/{n;p;q}')
	vm_loads=$(tr ' ' '\n' <<<"$reply" | sed -n '/^loads$/{n;p;q}')
}

# sj INSTANCE EXPR: evaluates the Python expression EXPR on d, the object
# `colo-proxy status --instance INSTANCE --json` prints, and prints the
# result; exit status 1 when status fails or EXPR raises.
sj() {
	"$PROXY" status --instance "$1" --json 2>/dev/null | tail -n 1 |
		python3 -c '
import json, sys
try:
    d = json.loads(sys.stdin.read())
    r = eval("(" + sys.argv[1] + "\n)")
except Exception:
    sys.exit(1)
print(r)' "$2"
}

sj_wait() {	# INSTANCE EXPR SECONDS: until EXPR is True; 1 on timeout
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(sj "$1" "$2")" = True ] && return 0
		sleep 0.1
	done
	return 1
}

# start_primary MODE: attach the primary; 0 once status says it runs
start_primary() {
	local i
	: >"$TMP/primary.log"
	"$PROXY" attach --instance "$P" --vm-mac $VM_MAC \
		--client "${P}c" --pvm "${P}p" --svm "${P}s" --mode "$1" \
		--pcap-out "$pcap" \
		--listen "127.0.0.1:$port" --driver process --vm "$TMP/pvm.ctl" \
		--checkpoint hybrid >"$TMP/primary.log" 2>&1 &
	pri_pid=$!
	for i in $(seq 100); do
		if ! kill -0 "$pri_pid" 2>/dev/null; then
			wait "$pri_pid"
			pri_pid=
			return 1
		fi
		"$PROXY" status --instance "$P" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

free_port() {	# a TCP port on 127.0.0.1 nobody uses right now
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# --- preconditions ---

[ -x "$SVC" ] || fail "$SVC missing: run 'make' first"
for c in python3 nsenter ip ethtool bpftool; do
	command -v "$c" >/dev/null || fail "$c is not installed: run tools/setup.sh"
done

echo "colo-proxy demo: a primary and a secondary stand-in VM protected by two"
echo "colo-proxy processes (checkpoint loop, process driver) on a private namespace"
echo "topology '$P'; nothing outside it is touched."

# --- 0: set up ---

heading "0. Setting up"
"$TOPO" up "$P" >"$TMP/topo.log" 2>&1 || fail "tools/colo-topo.sh up $P: $(tail -n 3 "$TMP/topo.log")"
topo_up=1
say "namespaces $P-cli (client, 192.0.2.1, 2001:db8::1), $P-pvm and $P-svm"
say "(both VMs: MAC $VM_MAC, 192.0.2.10, 2001:db8::10); taps ${P}c ${P}p ${P}s"
start_service pvm --control "$TMP/pvm.ctl" || fail "the PVM's stand-in service did not start"
start_service svm --control "$TMP/svm.ctl" || fail "the SVM's stand-in service did not start"
say "PVM: colo-service pid $pvm_pid, tcp $TCP_PORT, udp $UDP_PORT, control socket $TMP/pvm.ctl"
say "SVM: colo-service pid $svm_pid, the same, control socket $TMP/svm.ctl"

port=$(free_port) || fail "could not find a free port on 127.0.0.1"
if ! start_primary "$mode"; then
	if [ "$mode" = native ]; then
		say "native XDP did not attach ('$(tail -n 1 "$TMP/primary.log")'); trying --mode skb"
		stop_pid "$pri_pid"
		pri_pid=
		"$PROXY" detach --instance "$P" >/dev/null 2>&1
		mode=skb
		start_primary skb || fail "colo-proxy attach (primary) did not start"
	else
		fail "colo-proxy attach (primary) did not start"
	fi
fi
say "primary colo-proxy: pid $pri_pid, instance $P, XDP $mode on ${P}c ${P}p ${P}s, listening on 127.0.0.1:$port"
: >"$TMP/secondary.log"
"$PROXY" attach --role secondary --instance "$SEC" --no-datapath \
	--peer "127.0.0.1:$port" --driver process --vm "$TMP/svm.ctl" \
	>"$TMP/secondary.log" 2>&1 &
sec_pid=$!
say "secondary colo-proxy: pid $sec_pid, instance $SEC, --no-datapath, peer 127.0.0.1:$port"
say "waiting until both run, the peer link is up and the first checkpoint is done ..."
sj_wait "$P" 'd["state"] == "running" and d["checkpoint"]["phase"] == "colo" and
	d["checkpoint"]["peer"]["connected"] and d["checkpoint"]["checkpoints"]["done"] >= 1' 10 ||
	fail "the primary did not reach COLO with its peer connected within 10 s"
sj_wait "$SEC" 'd["state"] == "running" and d["checkpoint"]["phase"] == "colo"' 5 ||
	fail "the secondary did not reach COLO within 5 s"
say "ready after $(elapsed) s: $(sj "$P" '"phase %s, protocol %s, peer %s" % (d["checkpoint"]["phase"],
	d["checkpoint"]["protocol"], d["checkpoint"]["peer"]["state"])')"
say "first checkpoint (the SVM starts from the PVM's state): $(sj "$P" \
	'"#%d, %.1f ms, %d state bytes" % (d["checkpoint"]["checkpoints"]["last"]["seq"],
	d["checkpoint"]["checkpoints"]["last"]["duration_ms"], d["checkpoint"]["checkpoints"]["last"]["size"])')"

# --- 1: traffic ---

heading "1. The client sends requests: TCP and UDP, IPv4 and IPv6"
say "each reply is checked by the client; the proxy releases the PVM's reply once the SVM sent the same"
client 192.0.2.10 --tcp $TCP_PORT --requests 50 --bytes 20000 ||
	fail "TCP over IPv4: not every request was answered correctly"
client 2001:db8::10 --tcp $TCP_PORT --requests 50 --conns 4 --bytes 20000 ||
	fail "TCP over IPv6: not every request was answered correctly"
client 192.0.2.10 --udp $UDP_PORT --requests 50 --bytes 1200 ||
	fail "UDP over IPv4: not every request was answered correctly"
client 2001:db8::10 --udp $UDP_PORT --requests 50 --bytes 1200 ||
	fail "UDP over IPv6: not every request was answered correctly"
sleep 0.4	# the comparator publishes its state every 200 ms
say "comparator: $(sj "$P" '"%d frames from the PVM and %d from the SVM compared (%d payload bytes equal), %d released to the client, %d divergences" % (
	d["engine"]["pushed_primary"], d["engine"]["pushed_secondary"], d["engine"]["compared_bytes"],
	d["engine"]["released"], sum(d["engine"]["by_reason"].values()))')"
n=$(sj "$P" 'sum(d["engine"]["by_reason"].values())')
[ "$n" = 0 ] || say "note: $n divergence(s) on identical requests: $(sj "$P" 'd["divergences"]')"

# --- 2: divergence ---

heading "2. The SVM diverges: the comparator catches it, a checkpoint mends it"
ck_before=$(sj "$P" 'd["checkpoint"]["checkpoints"]["done"]')
vm_status pvm
h_pvm=$vm_hash
vm_status svm
say "state hashes: PVM $h_pvm, SVM $vm_hash"
ctl svm 'diverge 1'
say "SVM control socket: diverge 1 -> $reply"
say "  (its next reply gets one byte flipped, and a 'set' stores a different value)"
req="set color blue"
rep=$(line 192.0.2.10 "$req") || fail "the request '$req' got no reply"
say "client: '$req' -> '$rep'"
[ "$rep" = "$req" ] || fail "the client got '$rep', not the PVM's '$req'"
sj_wait "$P" "d['checkpoint']['checkpoints']['done'] > $ck_before and
	d['checkpoint']['checkpoints']['by_cause']['divergence'] >= 1" 5 ||
	fail "no checkpoint followed the divergence within 5 s"
divline=$(grep -m1 'divergence 1:' "$TMP/primary.log" | sed 's/^colo-proxy: warning: //')
say "primary: ${divline:-(no divergence logged)}"
say "$(sj "$P" '"checkpoint #%d (%s): %.2f ms, primary VM stopped %.2f ms, %d state bytes sent to the secondary" % (
	d["checkpoint"]["checkpoints"]["last"]["seq"], d["checkpoint"]["checkpoints"]["last"]["cause"],
	d["checkpoint"]["checkpoints"]["last"]["duration_ms"], d["checkpoint"]["checkpoints"]["last"]["downtime_ms"],
	d["checkpoint"]["checkpoints"]["last"]["size"])')"
vm_status pvm
h_pvm=$vm_hash
vm_status svm
h_svm=$vm_hash
say "state hashes: PVM $h_pvm, SVM $h_svm" \
	"(the SVM diverged $vm_diverged time, loaded $vm_loads checkpoints)"
{ [ -n "$h_pvm" ] && [ "$h_pvm" = "$h_svm" ]; } || fail "the state hashes differ after the checkpoint"
req="get color"
rep=$(line 192.0.2.10 "$req") || fail "the request '$req' got no reply"
say "client: '$req' -> '$rep' (both VMs hold 'blue' now)"
[ "$rep" = "get color blue" ] || fail "the client got '$rep', not 'get color blue'"
requests=$((requests + 2))
correct=$((correct + 2))
sleep 0.4
n=$(sj "$P" 'sum(d["engine"]["by_reason"].values())')
[ "$n" = 1 ] || say "note: $n divergences so far, expected 1: $(sj "$P" 'd["divergences"]')"

# --- 3: status and counters ---

heading "3. What the operator sees"
echo "\$ colo-proxy status --instance $P"
"$PROXY" status --instance "$P" | sed 's/^/  /'
echo "\$ colo-proxy status --instance $SEC"
"$PROXY" status --instance "$SEC" | sed 's/^/  /'
echo "\$ bpftool map dump pinned /sys/fs/bpf/colo/$P/colo_counters"
bpftool map dump pinned "/sys/fs/bpf/colo/$P/colo_counters" >"$TMP/counters" 2>&1 ||
	fail "bpftool could not dump the counters: $(head -c 300 "$TMP/counters")"
head -n 44 "$TMP/counters" | sed 's/^/  /'
n=$(wc -l <"$TMP/counters")
[ "$n" -le 44 ] || say "... ($((n - 44)) more lines: one value per CPU)"

# --- 4: failover ---

heading "4. Failover: the secondary's colo-proxy dies"
hbt=$(sj "$P" 'd["checkpoint"]["heartbeat_timeout_ms"]')
say "a client sends UDP requests at 200/s for 3 s meanwhile"
nsenter --net="/run/netns/$P-cli" "$SVC" --client 192.0.2.10 --udp $UDP_PORT --requests 600 --rate 200 \
	>"$TMP/failover-client.out" 2>"$TMP/failover-client.err" &
cli_pid=$!
sleep 1
say "kill -KILL $sec_pid (the secondary's colo-proxy)"
kill -KILL "$sec_pid"
wait "$sec_pid" 2>/dev/null
sec_pid=
sj_wait "$P" 'd["checkpoint"]["failover"]["state"] == "failed-over"' 5 ||
	fail "the primary did not fail over within 5 s"
fo_line=$(grep -m1 'FAILOVER' "$TMP/primary.log" | sed 's/^colo-proxy: warning: //')
say "primary: ${fo_line:-(no FAILOVER logged)}"
fo_ms=$(sj "$P" '"%.1f" % d["checkpoint"]["failover"]["loss_to_failover_ms"]')
say "datapath: passthrough $(sj "$P" '"on" if d["passthrough"] else "off"') (colo_config): the PVM's output goes straight to the client"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" \
	"$fo_ms" "$hbt" || fail "failover took $fo_ms ms, more than the heartbeat timeout ($hbt ms)"
say "loss to failover $fo_ms ms, counted from the secondary's last heartbeat: within the heartbeat timeout ($hbt ms)"
wait "$cli_pid"
rc=$?
cli_pid=
out=$(cat "$TMP/failover-client.out")
count_client "$out"
say "$out"
[ $rc -eq 0 ] || fail "requests sent across the failover were not all answered: $out"
client 2001:db8::10 --tcp $TCP_PORT --requests 50 --bytes 20000 ||
	fail "TCP over IPv6 after the failover: not every request was answered correctly"

# Figures for the summary, before the instance goes away.
summary=$(sj "$P" '"%d %d %d %d %d %s %d %s" % (
	d["counters"]["mirrored"], d["engine"]["pushed_primary"], d["engine"]["released"] - d["engine"]["flushed_released"],
	d["engine"]["flushed_released"],
	sum(d["engine"]["by_reason"].values()),
	",".join("%s=%d" % kv for kv in d["engine"]["by_reason"].items() if kv[1]) or "none",
	d["checkpoint"]["checkpoints"]["done"],
	",".join("%s=%d" % kv for kv in d["checkpoint"]["checkpoints"]["by_cause"].items() if kv[1]) or "none")')
read -r s_mirrored s_pushed s_released _ s_divs s_reasons s_ckpts s_causes <<<"$summary"
s_reasons=$(sed 's/=/ /g; s/,/, /g' <<<"$s_reasons")	# payload=1,frame=2 -> payload 1, frame 2
s_causes=$(sed 's/=/ /g; s/,/, /g' <<<"$s_causes")

# --- 5: detach ---

heading "5. Detach and clean up"
say "\$ colo-proxy detach --instance $SEC"
"$PROXY" detach --instance "$SEC" 2>&1 | sed 's/^/    /'
say "\$ colo-proxy detach --instance $P"
"$PROXY" detach --instance "$P" 2>&1 | sed 's/^/    /'
wait "$pri_pid" 2>/dev/null
pri_pid=
for ifc in "${P}c" "${P}p" "${P}s"; do
	! xdp_on "$ifc" || fail "XDP is still attached to $ifc after detach"
done
for f in "/sys/fs/bpf/colo/$P" "/sys/fs/bpf/colo/$SEC" "/run/colo-proxy/$P.json" "/run/colo-proxy/$SEC.json"; do
	[ ! -e "$f" ] || fail "$f is still there after detach"
done
say "no XDP program left on ${P}c ${P}p ${P}s; /sys/fs/bpf/colo/$P and $SEC removed"
if [ -s "$pcap" ]; then
	say "the divergence's frames, as --pcap-out wrote them (the SVM flipped a byte of its"
	say "reply and stored, and so echoed, a different value):"
	python3 - "$pcap" <<'EOF' | sed 's/^/    /'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, n = 24, 0
while off + 16 <= len(data):
    caplen = struct.unpack_from("<I", data, off + 8)[0]
    f = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    n += 1
    eth = struct.unpack_from("!H", f, 12)[0]
    if eth == 0x0800:
        ihl = (f[14] & 15) * 4
        proto, l4 = f[23], 14 + ihl
    elif eth == 0x86dd:
        proto, l4 = f[20], 54
    else:
        continue
    if proto == 6:
        pay = f[l4 + (f[l4 + 12] >> 4) * 4:]
    elif proto == 17:
        pay = f[l4 + 8:]
    else:
        continue
    print("%s: %r" % ("PVM" if n % 2 else "SVM", pay.decode(errors="replace")))
EOF
fi
stop_pid "$pvm_pid"
stop_pid "$svm_pid"
pvm_pid=
svm_pid=
"$TOPO" -q down "$P" >/dev/null 2>&1
topo_up=0
for ns in cli pvm svm; do
	[ ! -e "/run/netns/$P-$ns" ] || fail "namespace $P-$ns is still there"
done
say "stand-in VMs stopped, namespaces and veths of $P removed"

# --- summary ---

heading "Summary"
say "requests     $requests sent by the client, $correct answered correctly"
say "frames       $s_mirrored client frames mirrored to both VMs; $s_pushed PVM frames through the comparator, $s_released matched by the SVM's byte for byte"
say "divergences  $s_divs ($s_reasons); the client got the PVM's answer"
say "checkpoints  $s_ckpts (by cause: $s_causes); after each, the SVM's state hash equals the PVM's"
say "failover     the primary served alone $fo_ms ms after the secondary's last heartbeat (heartbeat timeout $hbt ms); requests across it: all answered"
say "run          XDP $mode mode, $(elapsed) s"
echo "demo: ok"
