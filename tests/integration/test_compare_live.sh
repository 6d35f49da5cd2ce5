#!/bin/bash
# `colo-proxy compare` on captures it has never seen: two independent "VMs"
# (network namespaces with the same MAC and addresses, each with its own
# kernel TCP state: own ISNs, timestamps, IP IDs) run the same service; the
# same client workload runs against each; tcpdump records what each VM sends.
# Equal service output must compare "same"; a service told to diverge must
# be caught at the right place.
# Root only. Everything lives in namespaces this script creates and removes.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
SVC=$BUILD/tools/colo-service
P=cl$$
TMP=$(mktemp -d)
pids=()
passed=0
failed=0

cleanup() {
	local pid i
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for i in 1 2; do
		ip netns del "$P-c$i" 2>/dev/null
		ip netns del "$P-v$i" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

check() {	# NAME CMD...: ok when CMD succeeds
	local name=$1
	shift
	if "$@"; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

in_ns() {	# NS CMD...
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# pair I: client namespace and VM namespace joined by a veth
make_pair() {
	local i=$1 c=$P-c$1 v=$P-v$1
	ip netns add "$c" && ip netns add "$v" || return 1
	ip link add "${P}a$i" netns "$c" type veth peer name "${P}b$i" netns "$v" || return 1
	in_ns "$c" ip link set "${P}a$i" address 02:00:00:00:00:01
	in_ns "$v" ip link set "${P}b$i" address 02:00:00:00:00:10
	in_ns "$c" ip addr add 192.0.2.1/24 dev "${P}a$i"
	in_ns "$v" ip addr add 192.0.2.10/24 dev "${P}b$i"
	in_ns "$c" ip addr add 2001:db8::1/64 dev "${P}a$i" nodad
	in_ns "$v" ip addr add 2001:db8::10/64 dev "${P}b$i" nodad
	# no link-local address (no DAD with its random nonce), no router
	# solicitations, MLD reports over within a millisecond of link up
	for ns in "$c" "$v"; do
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.all.mldv2_unsolicited_report_interval=1 \
			net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 \
			net.ipv6.conf.all.mldv1_unsolicited_report_interval=1 \
			net.ipv6.conf.default.mldv1_unsolicited_report_interval=1 \
			net.ipv6.conf.default.addr_gen_mode=1 2>/dev/null
		in_ns "$ns" ip link set lo up
	done
	in_ns "$c" sysctl -qw "net.ipv6.conf.${P}a$i.addr_gen_mode=1"
	in_ns "$v" sysctl -qw "net.ipv6.conf.${P}b$i.addr_gen_mode=1"
	in_ns "$c" ip link set "${P}a$i" up
	in_ns "$v" ip link set "${P}b$i" up
	# complete checksums in what tcpdump sees, static neighbours: no
	# ARP/ND traffic whose timing differs between the two pairs
	in_ns "$c" ethtool -K "${P}a$i" tx off rx off >/dev/null 2>&1
	in_ns "$v" ethtool -K "${P}b$i" tx off rx off tso off gso off >/dev/null 2>&1
	in_ns "$c" ip neigh replace 192.0.2.10 lladdr 02:00:00:00:00:10 dev "${P}a$i"
	in_ns "$v" ip neigh replace 192.0.2.1 lladdr 02:00:00:00:00:01 dev "${P}b$i"
	in_ns "$c" ip neigh replace 2001:db8::10 lladdr 02:00:00:00:00:10 dev "${P}a$i"
	in_ns "$v" ip neigh replace 2001:db8::1 lladdr 02:00:00:00:00:01 dev "${P}b$i"
}

# the same client workload: fixed client ports so both runs share flow keys;
# KIND all (TCP then UDP, IPv4 and IPv6) or udp
workload() {
	in_ns "$P-c$1" python3 - "$2" <<'PY'
import socket, sys
kind = sys.argv[1]
for fam, addr, port in ((socket.AF_INET, "192.0.2.10", 41000),
                        (socket.AF_INET6, "2001:db8::10", 41001)):
    src = "192.0.2.1" if fam == socket.AF_INET else "2001:db8::1"
    if kind == "udp":
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((src, 42000))
        u.settimeout(2)
        for k in range(20):
            u.sendto(b"ping %d" % k, (addr, 7001))
            u.recv(2000)
        u.close()
        continue
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, port))
    s.connect((addr, 7000))
    f = s.makefile("rb")
    for k in range(30):
        if k % 5 == 0:
            s.sendall(b"bytes 20000\n")
            got = 0
            while got < 20000:
                got += len(s.recv(65536))
        else:
            s.sendall(b"hello %d\n" % k)
            s.recv(65536)
    s.close()
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((src, 42000))
    u.settimeout(2)
    for k in range(20):
        u.sendto(b"ping %d" % k, (addr, 7001))
        u.recv(2000)
    u.close()
PY
}

# capture what VM I sends while the workload runs; DIVERGE=1 flips replies
run_pair() {
	local i=$1 diverge=$2 svc cap
	rm -f "$TMP/diverge$i"
	[ "$diverge" = 1 ] && touch "$TMP/diverge$i"
	# nsenter directly (not through a function): $! is then the process
	nsenter --net="/run/netns/$P-v$i" "$SVC" --tcp 7000 --udp 7001 \
		--diverge-file "$TMP/diverge$i" >"$TMP/svc$i.log" 2>&1 &
	svc=$!
	pids+=("$svc")
	# leave out MLD reports (IPv6 with a hop-by-hop header): housekeeping
	# whose count and timing differ between two independent kernels
	nsenter --net="/run/netns/$P-v$i" tcpdump -Q out -i "${P}b$i" -U -B 16384 \
		-w "$TMP/vm$i.pcap" 'not (ip6 and ip6[6] == 0)' \
		>"$TMP/tcpdump$i.log" 2>&1 &
	cap=$!
	pids+=("$cap")
}

stop_pair() {	# I: stop the service and the capture of pair I
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	pids=()
}

# Both pairs at once, as COLO's two VMs run: the captures share a clock.
run_both() {	# DIVERGE2 KIND
	local w1 w2
	run_pair 1 0
	run_pair 2 "$1"
	sleep 0.7		# listening sockets and captures up
	workload 1 "$2" & w1=$!
	workload 2 "$2" & w2=$!
	wait "$w1" || echo "workload against VM 1 failed" >&2
	wait "$w2" || echo "workload against VM 2 failed" >&2
	sleep 0.3
	stop_pair
}

json_field() {	# FILE EXPR: evaluate EXPR on the JSON object in FILE's last line
	python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"
}

[ "$(id -u)" -eq 0 ] || { echo "needs root"; echo "0 passed, 1 failed"; exit 1; }
make_pair 1 && make_pair 2 || { echo "cannot build the namespaces"; echo "0 passed, 1 failed"; exit 1; }

# 1. the same service in both VMs
run_both 0 all
"$PROXY" compare --json "$TMP/vm1.pcap" "$TMP/vm2.pcap" >"$TMP/same.json" 2>"$TMP/same.err"
rc=$?
check same-exit-0 test "$rc" -eq 0
check same-verdict test "$(json_field "$TMP/same.json" 'd["verdict"]')" = same
# 6 x 20000 bytes and more per TCP connection, two connections
check same-compared-bytes test "$(json_field "$TMP/same.json" 'd["compared_bytes"]')" -gt 240000
check same-all-released test "$(json_field "$TMP/same.json" 'd["released"] == d["primary_packets"] and d["released_flushed"] == 0')" = True
# the kernels chose different ISNs: the engine aligned them itself
isn() { tcpdump -nn -r "$1" 'tcp[tcpflags] & tcp-syn != 0' 2>/dev/null | sed -n 's/.*seq \([0-9]*\).*/\1/p' | head -1; }
check different-isns test "$(isn "$TMP/vm1.pcap")" != "$(isn "$TMP/vm2.pcap")"

# 2. the second VM's service diverges: every reply has one byte flipped (in
# its middle). After the first divergence the replay takes a checkpoint at
# once: the secondary's output already seen is dropped with it, as the live
# proxy would, so only the first divergence is certain; it must be exact.
run_both 1 all
"$PROXY" compare --json --pcap-out "$TMP/div.pcap" "$TMP/vm1.pcap" "$TMP/vm2.pcap" \
	>"$TMP/div.json" 2>"$TMP/div.err"
rc=$?
check diverge-exit-1 test "$rc" -eq 1
check diverge-first-is-payload test "$(json_field "$TMP/div.json" 'd["divergences"][0]["reason"]')" = payload
check diverge-tcp-flow test "$(json_field "$TMP/div.json" 'd["divergences"][0]["flow"]')" = "tcp 192.0.2.10:7000 > 192.0.2.1:41000"
# the first reply is "bytes 20000": its byte 9999 is the flipped one
check diverge-tcp-offset test "$(json_field "$TMP/div.json" 'd["divergences"][0]["offset"]')" = 9999
check diverge-pcap-out test "$(tcpdump -r "$TMP/div.pcap" 2>/dev/null | wc -l)" -ge 2

# 3. datagrams alone: the first reply already differs
run_both 1 udp
"$PROXY" compare --json "$TMP/vm1.pcap" "$TMP/vm2.pcap" >"$TMP/udp.json" 2>"$TMP/udp.err"
rc=$?
check udp-exit-1 test "$rc" -eq 1
check udp-first-is-datagram test "$(json_field "$TMP/udp.json" 'd["divergences"][0]["reason"]')" = datagram
check udp-index-0 test "$(json_field "$TMP/udp.json" 'd["divergences"][0]["offset"]')" = 0

if [ "$failed" -ne 0 ]; then
	echo "--- compare output"
	tail -c 2000 "$TMP"/*.json "$TMP"/*.err "$TMP"/tcpdump*.log 2>/dev/null
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
