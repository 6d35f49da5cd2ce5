#!/bin/bash
# Datapath benchmark on the namespace topology of tools/colo-topo.sh (no
# pass/fail; figures and how they were taken: docs/benchmarks-datapath.md).
#
# Usage: tools/bench-datapath.sh [--mode native|skb] [--seconds S]
#
# Four set-ups, one after the other, on the same namespaces:
#   plain      client <-> bridge <-> PVM (kernel bridge between the veths)
#   bare       bpf/bench_bcast.bpf.c on the client NIC: every frame to both
#              VM taps (devmap broadcast and nothing else); on the PVM tap,
#              the same program with the client NIC as its one target
#              carries the replies back
#   mirror     the proxy's colo_client_in alone (loaded with bpftool, no
#              comparator) on the client NIC; replies back as in bare
#   full       colo-proxy attach: mirror, capture, compare, release
#
# Two kinds of figures:
#   service    tools/colo-service's UDP client in the client namespace against
#              colo-service in the VMs: round-trip latency p50/p99 at 10 kpps
#              open loop (added latency: against plain), and replies/s at the
#              highest rate the client can send (userspace-bound)
#   live       BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: the kernel
#              runs the attached program on one frame N times and really
#              redirects each copy, so no generator limits the rate:
#              frames/s through the client NIC's program (bare: also with one
#              target), and comparator frame pairs/s (the same UDP datagram
#              injected as PVM output and as SVM output, batch by batch;
#              pairs counted from the comparator's released counter; losses
#              from its AF_XDP sockets' counters)
# Released frames of the pair test go to a UDP port in the client namespace
# where a socket that never reads absorbs them (no ICMP port unreachable
# coming back through the mirror).
# Root only. Traffic stays inside the namespaces it creates; all removed at
# the end, also on failure.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
SVC=$BUILD/tools/colo-service
BCAST_OBJ=$BUILD/bpf/bench_bcast.bpf.o
TOPO=tools/colo-topo.sh
P=bd$$
INST=bd$$
VM_MAC=02:00:00:00:00:10
SINK_PORT=40001		# where the pair test's released frames go
mode=native
secs=3
TMP=$(mktemp -d /tmp/bench-datapath-XXXXXX)	# no dot: libbpf turns
PIN=$TMP/bpffs		# dots in pin paths into '_'; a private bpffs mount for
			# the hand-wired programs
proxy_pid=
pids=()

while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	*) echo "Usage: $0 [--mode native|skb] [--seconds S]" >&2; exit 2 ;;
	esac
done
case $mode in
native) xdpmode=xdpdrv ;;
skb) xdpmode=xdpgeneric ;;
*) echo "bench-datapath: --mode native or skb" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "bench-datapath: needs root" >&2; exit 1; }
for f in "$PROXY" "$SVC" "$BCAST_OBJ" "$BUILD/bpf/colo.bpf.o"; do
	[ -e "$f" ] || { echo "bench-datapath: no $f: run make first" >&2; exit 1; }
done

# stop_pid, in_ns
# shellcheck source=tools/colo-testlib.sh
. tools/colo-testlib.sh || exit 1

xdp_off() {
	local ifc
	for ifc in "${P}c" "${P}p" "${P}s"; do
		ip link set dev "$ifc" xdp off 2>/dev/null
	done
}

cleanup() {
	local pid
	stop_pid "$proxy_pid"
	"$PROXY" detach --instance "$INST" >/dev/null 2>&1
	xdp_off
	mountpoint -q "$PIN" && umount "$PIN"	# unpins everything
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

def frames(client_if, seconds):
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
    e["xsk_lost"] = sum(v for k, v in e.items() if k.startswith("xsk_ring_full_") or
                        k.startswith("xsk_dropped_"))
    return e

def cpu_ns(pid):
    """Time the process ran (user, system, and the softirq work it did)."""
    return int(open("/proc/%s/schedstat" % pid).read().split()[0])

def pairs(pvm_if, svm_if, proxy, inst, pid, seconds, rate, sink_port, batch=64):
    """The same datagram as PVM output and as SVM output, batch by batch
    (each side BATCH frames per call), RATE pairs/s offered (0: as fast as
    possible; paced by busy waiting): comparator pairs released per s."""
    pfd, sfd = prog_fd(xdp_prog_id(pvm_if)), prog_fd(xdp_prog_id(svm_if))
    pi, si = ifindex(pvm_if), ifindex(svm_if)
    f = udp4("02:00:00:00:00:01", "02:00:00:00:00:10", "192.0.2.10",
             "192.0.2.1", 7001, sink_port, b"p" * 18)
    e0, c0, t0 = engine(proxy, inst), cpu_ns(pid), time.monotonic()
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
    e1, c1 = engine(proxy, inst), cpu_ns(pid)
    d = lambda k: e1[k] - e0[k]
    print(json.dumps({
        "offered": sent / (t1 - t0),
        "engine": d("pushed_primary") / (t1 - t0),
        "released": d("released") / (t1 - t0),
        "lost_per_side": d("xsk_lost") / 2 / (t1 - t0),
        "divergences": d("divergences"),
        "cpu": (c1 - c0) / 1e9 / (t1 - t0),	# over the sending time
        "us_per_pair": (c1 - c0) / 1e3 / max(d("released"), 1),
        "tx": "AF_XDP" if e1.get("tx_af_xdp") else "a packet socket"}))

def pairs_line(path, rate):
    r = json.load(open(path))
    print("full     live     comparator: offered %.0f pairs/s%s, %.0f reached the "
          "engine, %.0f released/s, %.0f/s lost per side in the AF_XDP rx rings, "
          "%d divergences; attach process %.0f%% CPU, %.2f us per pair; released "
          "through %s" %
          (r["offered"], "" if rate else " (as fast as possible)", r["engine"],
           r["released"], r["lost_per_side"], r["divergences"], 100 * r["cpu"],
           r["us_per_pair"], r["tx"]))
    print("full pairs_%d %.0f" % (rate, r["released"]), file=sys.stderr)

def summary(path):
    r = {}
    for l in open(path):
        k = l.split()
        if len(k) == 3 and k[2] not in ("", "-"):
            r[(k[0], k[1])] = float(k[2])
    g = lambda s, k: r.get((s, k))
    print("summary")
    for s in ("plain", "bare", "mirror", "full"):
        line = "  %-7s" % s
        p50, p99 = g(s, "p50"), g(s, "p99")
        if p50 is not None and p99 is not None:
            line += " 10 kpps p50/p99 %4.0f/%4.0f us" % (p50 * 1e3, p99 * 1e3)
            if s != "plain" and g("plain", "p50") is not None:
                line += " (added %+4.0f/%+4.0f us)" % (
                    (p50 - g("plain", "p50")) * 1e3, (p99 - g("plain", "p99")) * 1e3)
        if g(s, "frames"):
            line += "; live %.0f k frames/s" % (g(s, "frames") / 1e3)
        print(line)
    b = g("bare", "frames")
    if b:
        for s in ("mirror", "full"):
            if g(s, "frames"):
                print("  %s / bare broadcast: %.0f %%" % (s, 100 * g(s, "frames") / b))
        if g("bare", "frames_one-target"):
            print("  bare broadcast (2 targets) / one target: %.0f %%" %
                  (100 * b / g("bare", "frames_one-target")))
    m = max([v for (s, k), v in r.items() if k.startswith("pairs_")] or [0])
    if m:
        print("  full path: at best %.0f k frame pairs/s released" % (m / 1e3))

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "frames":
        frames(sys.argv[2], float(sys.argv[3]))
    elif cmd == "pairs":
        pairs(*sys.argv[2:7], float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9]))
    elif cmd == "pairs-line":
        pairs_line(sys.argv[2], int(sys.argv[3]))
    elif cmd == "summary":
        summary(sys.argv[2])
EOF

# field NAME FILE: the number after NAME in the client's summary line
field() {
	sed -n "s/.* $1 \([0-9.-]*\).*/\1/p" "$2" | tail -1
}

# result SETUP KEY VALUE: kept for the summary
result() {
	echo "$1 $2 $3" >>"$TMP/results"
}

# service_figures SETUP: p50/p99 at 10 kpps, replies/s at full speed
service_figures() {
	local label=$1 n=$((secs * 10000)) max=$((secs * 400000))
	in_ns cli ip neigh flush all
	in_ns cli "$SVC" --client 192.0.2.10 --udp 7001 --requests $n --rate 10000 \
		--timeout 1000 >"$TMP/lat.out" 2>&1
	in_ns cli "$SVC" --client 192.0.2.10 --udp 7001 --requests $max \
		--rate 100000000 --timeout 1000 >"$TMP/max.out" 2>&1
	printf '%-8s service  10 kpps: p50 %s ms, p99 %s ms (%s of %s replies)\n' \
		"$label" "$(field p50 "$TMP/lat.out")" "$(field p99 "$TMP/lat.out")" \
		"$(field correct "$TMP/lat.out")" "$n"
	printf '%-8s service  full speed: sent %s/s, replies %s/s\n' "$label" \
		"$(field tx_pps "$TMP/max.out")" "$(field rx_pps "$TMP/max.out")"
	result "$label" p50 "$(field p50 "$TMP/lat.out")"
	result "$label" p99 "$(field p99 "$TMP/lat.out")"
}

# live_frames SETUP [VARIANT]: frames/s through the client NIC's program
live_frames() {
	local fps
	fps=$(python3 "$TMP/xdplive.py" frames "${P}c" "$secs")
	printf '%-8s live     frames/s through the client NIC%s: %s\n' "$1" \
		"${2:+ ($2)}" "$fps"
	result "$1" "frames${2:+_$2}" "$fps"
}

le() { printf '%02x %02x %02x %02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }

# devmap_add MAP IFINDEX: a broadcast target (struct bpf_devmap_val without
# a devmap program)
devmap_add() {
	bpftool map update pinned "$1" key hex $(le "$2") value hex $(le "$2") 0 0 0 0
}

# bcast_load NAME IFINDEX...: bench_bcast pinned as $PIN/NAME, its map under
# $PIN/NAME_maps (bpffs refuses dots in names), the given devices its targets
bcast_load() {
	local name=$1 i
	shift
	mkdir -p "$PIN/${name}_maps" &&
	bpftool prog load "$BCAST_OBJ" "$PIN/$name" type xdp pinmaps "$PIN/${name}_maps" ||
		return 1
	for i in "$@"; do
		devmap_add "$PIN/${name}_maps/colo_bench_devs" "$i" || return 1
	done
}

# mirror_load: colo_client_in wired by hand (colo_config, both taps in
# colo_mirror, no devmap program on the SVM's entry)
mirror_load() {
	mkdir -p "$PIN/colo" "$PIN/colo_maps" &&
	bpftool prog loadall "$BUILD/bpf/colo.bpf.o" "$PIN/colo" pinmaps "$PIN/colo_maps" &&
	bpftool map update pinned "$PIN/colo_maps/colo_config" key hex 0 0 0 0 value hex \
		02 00 00 00 00 10 00 00 01 00 00 00 00 00 00 00 \
		$(le "$ci") $(le "$pi") $(le "$si") 00 00 00 00 00 00 00 00 00 00 00 00 &&
	devmap_add "$PIN/colo_maps/colo_mirror" "$pi" &&
	devmap_add "$PIN/colo_maps/colo_mirror" "$si"
}

xdp_on() {	# IF PINNED-PROGRAM
	ip link set dev "$1" "$xdpmode" pinned "$2"
}

# --- topology, services, the sink ---
"$TOPO" -q up "$P" || exit 1
for vm in pvm svm; do	# nsenter execs: $! is the service's pid
	nsenter --net="/run/netns/$P-$vm" "$SVC" --tcp 7000 --udp 7001 >"$TMP/$vm.log" 2>&1 &
	pids+=($!)
done
# The pair test's released frames: a socket on their port that never reads
# takes them, and the kernel drops them quietly once its small buffer is
# full (nothing listening would answer each with ICMP port unreachable,
# which the mirror would carry to both VMs: work charged to the proxy).
nsenter --net="/run/netns/$P-cli" python3 -c '
import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.bind(("192.0.2.1", int(sys.argv[1])))
signal.pause()' "$SINK_PORT" &
pids+=($!)
ci=$(cat "/sys/class/net/${P}c/ifindex")
pi=$(cat "/sys/class/net/${P}p/ifindex")
si=$(cat "/sys/class/net/${P}s/ifindex")
mkdir -p "$PIN" && mount -t bpf bpf "$PIN" || { say "cannot mount bpffs on $PIN"; exit 1; }
sleep 0.5
echo "# $(date -u +%F) $(uname -r), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "# each figure over ${secs} s; mode $mode"

# --- plain: bridge ---
"$TOPO" -q bridge "$P" || exit 1
service_figures plain
"$TOPO" -q unbridge "$P"

# --- bare: bench_bcast both ways ---
if bcast_load in "$pi" "$si" && bcast_load out "$ci" &&
   xdp_on "${P}p" "$PIN/out" && xdp_on "${P}c" "$PIN/in"; then
	service_figures bare
	live_frames bare
	bpftool map delete pinned "$PIN/in_maps/colo_bench_devs" key hex $(le "$si") &&
		live_frames bare one-target
else
	say "could not wire bench_bcast; bare figures skipped"
fi
ip link set dev "${P}c" xdp off 2>/dev/null

# --- mirror: colo_client_in alone, replies back through bench_bcast ---
if [ -e "$PIN/out" ] && mirror_load && xdp_on "${P}c" "$PIN/colo/colo_client_in"; then
	service_figures mirror
	live_frames mirror
else
	say "could not wire colo_client_in by hand; mirror figures skipped"
fi
xdp_off
rm -rf "$PIN/in" "$PIN/in_maps" "$PIN/out" "$PIN/out_maps" "$PIN/colo" "$PIN/colo_maps"

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
live_frames full
for rate in 250000 500000 1000000 0; do
	python3 "$TMP/xdplive.py" pairs "${P}p" "${P}s" "$PROXY" "$INST" "$proxy_pid" \
		"$secs" "$rate" "$SINK_PORT" >"$TMP/pairs.json" &&
	python3 "$TMP/xdplive.py" pairs-line "$TMP/pairs.json" "$rate" 2>>"$TMP/results"
done
python3 "$TMP/xdplive.py" summary "$TMP/results"
