#!/bin/bash
# Datapath benchmark on the namespace topology of tools/colo-topo.sh (no
# pass/fail; figures and how they were taken: docs/benchmarks-datapath.md).
#
# Usage: tools/bench-datapath.sh [--mode native|skb] [--seconds S]
#
#   plain      client -> bridge -> PVM (kernel bridge between the veths)
#   mirror     the proxy's colo_client_in alone (loaded with bpftool, no
#              comparator): client frames broadcast to both VM taps
#   full       colo-proxy attach: mirror, capture, compare, release
#
# Two kinds of figures:
#   service    tools/colo-service's UDP client in the client namespace against
#              colo-service in the VMs: replies/s at the highest rate the
#              client can send (userspace-bound: a lower bound of the path),
#              and round-trip latency p50/p99 at 10 kpps open loop
#   live       BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: the kernel
#              runs the attached program on one frame N times and really
#              redirects each copy, so no generator limits the rate:
#              mirror frames/s, and comparator frame pairs/s (the same UDP
#              datagram injected as PVM output and as SVM output, batch by
#              batch; pairs counted from the comparator's released counter)
# Root only. Traffic stays inside the namespaces it creates; all removed at
# the end, also on failure.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
SVC=$BUILD/tools/colo-service
TOPO=tools/colo-topo.sh
P=bd$$
INST=bd$$
PIN=/sys/fs/bpf/colo-bench-$$
VM_MAC=02:00:00:00:00:10
mode=native
secs=3
TMP=$(mktemp -d)
proxy_pid=
pids=()

while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	*) echo "Usage: $0 [--mode native|skb] [--seconds S]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench-datapath: needs root" >&2; exit 1; }

stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local pid
	stop_pid "$proxy_pid"
	"$PROXY" detach --instance "$INST" >/dev/null 2>&1
	ip link set dev "${P}c" xdp off 2>/dev/null
	rm -rf "$PIN"
	for pid in "${pids[@]}"; do
		stop_pid "$pid"
	done
	"$TOPO" -q down "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() { echo "bench-datapath: $*" >&2; }

# --- the live-frames driver (python3, bpf(2) through ctypes) ---
cat >"$TMP/xdplive.py" <<'EOF'
import ctypes, json, os, socket, struct, subprocess, sys, time

SYS_BPF = 321 if os.uname().machine == "x86_64" else 280
BPF_PROG_TEST_RUN, BPF_PROG_GET_FD_BY_ID = 10, 13
BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    if libc.syscall(SYS_BPF, cmd, buf, 128) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def prog_fd(prog_id):
    buf = ctypes.create_string_buffer(struct.pack("<III", prog_id, 0, 0), 128)
    fd = libc.syscall(SYS_BPF, BPF_PROG_GET_FD_BY_ID, buf, 128)
    if fd < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return fd

def run(fd, frame, ifindex, repeat):
    """Runs the program REPEAT times on FRAME as if received on IFINDEX
    (queue 0), redirecting for real; returns the kernel's ns per frame."""
    data = ctypes.create_string_buffer(frame, len(frame))
    ctx = ctypes.create_string_buffer(
        struct.pack("<6I", 0, len(frame), 0, ifindex, 0, 0), 24)
    attr = struct.pack("<IIIIQQIIIIQQIII", fd, 0, len(frame), 0,
                       ctypes.addressof(data), 0, repeat, 0, 24, 0,
                       ctypes.addressof(ctx), 0, BPF_F_TEST_XDP_LIVE_FRAMES, 0, 0)
    buf = ctypes.create_string_buffer(attr, 128)
    if libc.syscall(SYS_BPF, BPF_PROG_TEST_RUN, buf, 128) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return struct.unpack_from("<I", buf.raw, 36)[0]

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def udp4(dst_mac, src_mac, src, dst, sport, dport, payload):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    c = csum(s + d + struct.pack("!BBH", 0, 17, ulen) +
             struct.pack("!HHHH", sport, dport, ulen, 0) + payload) or 0xffff
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    return (mac(dst_mac) + mac(src_mac) + b"\x08\x00" + ip +
            struct.pack("!HHHH", sport, dport, ulen, c) + payload)

def ifindex(name):
    return int(open("/sys/class/net/%s/ifindex" % name).read())

def xdp_prog_id(name):
    out = subprocess.run(["ip", "-d", "-j", "link", "show", "dev", name],
                         capture_output=True, text=True, check=True).stdout
    x = json.loads(out)[0].get("xdp", {})
    return x.get("prog", {}).get("id") or x.get("attached", [{}])[0].get("prog", {}).get("id")

def mirror(client_if, seconds):
    """Client frames for the VM's MAC (to an address the VMs do not have, so
    they drop them quietly): frames/s through the client NIC's program."""
    fd = prog_fd(xdp_prog_id(client_if))
    f = udp4("02:00:00:00:00:10", "02:00:00:00:00:01", "192.0.2.1",
             "192.0.2.99", 40000, 9, b"m" * 18)
    run(fd, f, ifindex(client_if), 10000)
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        run(fd, f, ifindex(client_if), 1000000)
        n += 1000000
    print("%.0f" % (n / (time.monotonic() - t0)))

def engine(proxy, inst):
    """The comparator's published counters (status --json, "engine")."""
    out = subprocess.run([proxy, "status", "--instance", inst, "--json"],
                         capture_output=True, text=True).stdout.splitlines()
    e = json.loads(out[-1])["engine"]
    e["divergences"] = sum(e["by_reason"].values())
    return e

def pairs(pvm_if, svm_if, proxy, inst, seconds, rate, batch=64):
    """The same datagram as PVM output and as SVM output, batch by batch
    (each side BATCH frames per call), RATE pairs/s offered (0: as fast as
    possible; paced by busy waiting): comparator pairs released per s."""
    pfd, sfd = prog_fd(xdp_prog_id(pvm_if)), prog_fd(xdp_prog_id(svm_if))
    pi, si = ifindex(pvm_if), ifindex(svm_if)
    f = udp4("02:00:00:00:00:01", "02:00:00:00:00:10", "192.0.2.10",
             "192.0.2.1", 7001, 40001, b"p" * 18)
    e0, t0 = engine(proxy, inst), time.monotonic()
    sent = 0
    while time.monotonic() - t0 < seconds:
        for _ in range(100):
            if rate:
                while time.monotonic() < t0 + sent / rate:
                    pass
            run(pfd, f, pi, batch)
            run(sfd, f, si, batch)
            sent += batch
    t1 = time.monotonic()
    time.sleep(1)		# let the comparator drain what it holds
    e1 = engine(proxy, inst)
    d = lambda k: e1[k] - e0[k]
    print("%.0f %.0f %.0f %d" % (d("released") / (t1 - t0), sent / (t1 - t0),
                                 d("pushed_primary") / (t1 - t0), d("divergences")))

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "mirror":
        mirror(sys.argv[2], float(sys.argv[3]))
    elif cmd == "pairs":
        pairs(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]),
              float(sys.argv[7]))
EOF

in_ns() {	# NS CMD...
	local ns=$1
	shift
	nsenter --net="/run/netns/$P-$ns" "$@"
}

# field NAME FILE: the number after NAME in the client's summary line
field() {
	sed -n "s/.* $1 \([0-9.-]*\).*/\1/p" "$2" | tail -1
}

# service_figures LABEL: replies/s at full speed, p50/p99 at 10 kpps
service_figures() {
	local label=$1 n=$((secs * 10000)) max=$((secs * 400000))
	in_ns cli "$SVC" --client 192.0.2.10 --udp 7001 --requests $n --rate 10000 \
		--timeout 1000 >"$TMP/lat.out" 2>&1
	in_ns cli "$SVC" --client 192.0.2.10 --udp 7001 --requests $max \
		--rate 100000000 --timeout 1000 >"$TMP/max.out" 2>&1
	printf '%-8s service  10 kpps: p50 %s ms, p99 %s ms (%s of %s replies)\n' \
		"$label" "$(field p50 "$TMP/lat.out")" "$(field p99 "$TMP/lat.out")" \
		"$(field correct "$TMP/lat.out")" "$n"
	printf '%-8s service  full speed: sent %s/s, replies %s/s\n' "$label" \
		"$(field tx_pps "$TMP/max.out")" "$(field rx_pps "$TMP/max.out")"
	echo "$label $(field p50 "$TMP/lat.out") $(field p99 "$TMP/lat.out")" >>"$TMP/lat.all"
}

# --- topology and services ---
"$TOPO" -q up "$P" || exit 1
for vm in pvm svm; do
	nsenter --net="/run/netns/$P-$vm" "$SVC" --tcp 7000 --udp 7001 >"$TMP/$vm.log" 2>&1 &
	pids+=($!)
done
sleep 0.5
echo "# $(date -u +%F) $(uname -r), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "# each figure over ${secs} s; mode $mode"

# --- plain: bridge ---
"$TOPO" -q bridge "$P" || exit 1
service_figures plain
"$TOPO" -q unbridge "$P"
for ns in cli pvm svm; do ip -n "$P-$ns" neigh flush all; done

# --- mirror: colo_client_in alone, wired with bpftool ---
le() { printf '%02x %02x %02x %02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
mount | grep -q ' /sys/fs/bpf type bpf' || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$PIN/maps"
ci=$(cat "/sys/class/net/${P}c/ifindex")
pi=$(cat "/sys/class/net/${P}p/ifindex")
si=$(cat "/sys/class/net/${P}s/ifindex")
if bpftool prog loadall "$BUILD/bpf/colo.bpf.o" "$PIN" pinmaps "$PIN/maps" &&
   bpftool map update pinned "$PIN/maps/colo_config" key hex 0 0 0 0 value hex \
	02 00 00 00 00 10 00 00 01 00 00 00 00 00 00 00 \
	$(le "$ci") $(le "$pi") $(le "$si") 00 00 00 00 00 00 00 00 00 00 00 00 &&
   bpftool map update pinned "$PIN/maps/colo_mirror" key hex $(le "$pi") value hex $(le "$pi") 0 0 0 0 &&
   bpftool map update pinned "$PIN/maps/colo_mirror" key hex $(le "$si") value hex $(le "$si") 0 0 0 0 &&
   ip link set dev "${P}c" "xdp$([ "$mode" = native ] && echo drv || echo generic)" \
	pinned "$PIN/colo_client_in"; then
	printf '%-8s live     mirror frames/s %s\n' mirror \
		"$(python3 "$TMP/xdplive.py" mirror "${P}c" "$secs")"
else
	say "could not wire colo_client_in by hand; mirror figures skipped"
fi
ip link set dev "${P}c" xdp off 2>/dev/null
rm -rf "$PIN"

# --- full: colo-proxy attach ---
"$PROXY" attach --instance "$INST" --vm-mac $VM_MAC --client "${P}c" --pvm "${P}p" \
	--svm "${P}s" --mode "$mode" >"$TMP/proxy.log" 2>&1 &
proxy_pid=$!
for i in $(seq 100); do
	"$PROXY" status --instance "$INST" --json >/dev/null 2>&1 && break
	sleep 0.1
done
if ! "$PROXY" status --instance "$INST" --json >/dev/null 2>&1; then
	say "attach failed: $(tail -5 "$TMP/proxy.log")"
	exit 1
fi
service_figures full
printf '%-8s live     mirror frames/s %s\n' full \
	"$(python3 "$TMP/xdplive.py" mirror "${P}c" "$secs")"
cpu_ticks() {	# utime + stime of the attach process, in clock ticks
	awk '{ print $14 + $15 }' "/proc/$proxy_pid/stat"
}
for rate in 250000 500000 1000000 0; do
	c0=$(cpu_ticks)
	t0=$(date +%s.%N)
	read -r rel inj pushed ndiv <<<"$(python3 "$TMP/xdplive.py" pairs "${P}p" "${P}s" \
		"$PROXY" "$INST" "$secs" "$rate")"
	cpu=$(python3 -c "import os, sys; print('%.0f' % (100 * (int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf('SC_CLK_TCK') / (float(sys.argv[4]) - float(sys.argv[3]))))" \
		"$c0" "$(cpu_ticks)" "$t0" "$(date +%s.%N)")
	printf '%-8s live     comparator: offered %s pairs/s, %s reached the engine, %s released/s, %s divergences, attach process %s%% CPU\n' \
		full "$inj" "$pushed" "$rel" "$ndiv" "$cpu"
done
python3 - "$TMP/lat.all" <<'EOF'
import sys
r = {l.split()[0]: list(map(float, l.split()[1:])) for l in open(sys.argv[1])}
if "plain" in r and "full" in r:
    print("full     added latency at 10 kpps: p50 %.0f us, p99 %.0f us" %
          ((r["full"][0] - r["plain"][0]) * 1e3, (r["full"][1] - r["plain"][1]) * 1e3))
EOF
