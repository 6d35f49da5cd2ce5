#!/bin/bash
# Integration test of the checkpoint loop with the process driver, single-host
# layout (docs/operations.md, "The checkpoint loop"): tools/colo-topo.sh
# namespaces, tools/colo-service --control in the PVM and the SVM namespace,
# the primary's `colo-proxy attach ... --listen 127.0.0.1:PORT --driver
# process` and the secondary's `attach --role secondary --no-datapath --peer`.
#   p  periodic output commit (--interval 300): open-loop TCP and UDP
#      clients whose requests leave at random phases; no reply arrives
#      before the checkpoint that started after its request (times from the
#      primary's status file); status counts the periodic checkpoints; the
#      SVM stays paused and never serves; afterwards SVM hash == PVM hash
#   h  hybrid: `diverge 1` on the SVM makes one `set` reply (TCP: payload,
#      UDP: datagram) and the stored value differ; the client still gets the
#      PVM's answer, status counts a divergence checkpoint, and afterwards
#      the two services' state hashes are equal again
#   a  adaptive (--adaptive-high 3/1000 --adaptive-low 1/2000): a burst of
#      divergences switches hybrid -> periodic (status: switch and reason),
#      quiet switches back
# Faults (a proxy killed at each protocol step) are in
# test_checkpoint_faults.sh, which sources this file for its helpers.
# Root only. Prints "ok NAME" / "FAIL NAME: why" per check, then
# "N passed, N failed"; exit status 1 on any failure. About 20 s.
# COLO_TEST_MODE=skb attaches in skb mode (default native, skb if that fails).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
SVC=$BUILD/tools/colo-service
TOPO=tools/colo-topo.sh
VM_MAC=02:00:00:00:00:10
VM_IP=192.0.2.10
TCP_PORT=7000
UDP_PORT=7001
P=${CK_PREFIX:-ck$$}	# topology prefix (<= 12 chars); also the primary's instance
INST=$P
SINST=$P-sec		# the secondary's instance
TMP=$(mktemp -d)
CKPY=$TMP/ck.py
STPY=$CKPY		# st, stget (tools/colo-testlib.sh): c is the status's "checkpoint",
			# e its "engine", d all of it
PY=python3
PLOG=$TMP/primary.log
SLOG=$TMP/secondary.log
xdp_mode=${COLO_TEST_MODE:-native}	# native (falls back to skb) or skb
PORT=
primary_pid=
secondary_pid=
pvm_pid=
svm_pid=
watch_pid=
tpid=
upid=
passed=0
failed=0
t_start=$SECONDS

# --- process and cleanup helpers (and check, finish, in_ns, st) ---

# shellcheck source=tools/colo-testlib.sh
. tools/colo-testlib.sh || exit 1

# stop_pair: both proxies and both services, and whatever a killed proxy left
stop_pair() {
	stop_proxies
	stop_pid "$pvm_pid"
	stop_pid "$svm_pid"
	pvm_pid=
	svm_pid=
}

cleanup() {
	stop_pid "$tpid"
	stop_pid "$upid"
	stop_pid "$watch_pid"
	stop_pair
	"$TOPO" -q down "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}

# --- the Python half: control sockets, status, timed clients ---

write_ckpy() {
	cat >"$CKPY" <<'EOF'
import json, os, random, select, socket, sys, time

def now():
    return time.monotonic_ns()

def ctl(path, *words):
    """One request on colo-service's control socket; its reply line."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(path)
    s.sendall((" ".join(words) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf.decode().strip()

def svc_status(path):
    w = ctl(path, "status").split()
    if not w or w[0] != "status":
        raise SystemExit("not a status reply: %r" % " ".join(w))
    return dict(zip(w[1::2], w[2::2]))

def last_json(path):
    lines = open(path).read().splitlines()
    if not lines:
        raise SystemExit("status printed nothing")
    return json.loads(lines[-1])

def cmd_ctl(a):
    print(ctl(a[0], *a[1:]))

def cmd_field(a):		# SOCK FIELD
    print(svc_status(a[0])[a[1]])

def cmd_eval(a):		# STATUSFILE EXPR: c = checkpoint object
    d = last_json(a[0])
    c = d.get("checkpoint") or {}
    e = d.get("engine") or {}
    ok = eval("(" + a[1] + "\n)")
    if not ok:
        raise SystemExit("false: %s\n  checkpoint: %s" % (a[1], json.dumps(c)[:900]))

def cmd_get(a):			# STATUSFILE EXPR: print EXPR
    d = last_json(a[0])
    c = d.get("checkpoint") or {}
    e = d.get("engine") or {}
    print(eval(a[1]))

def cmd_req(a):
    """tcp|udp ADDR PORT LINE...: lock step, one reply per request; prints
    each reply (one line each), exit 1 on a missing reply."""
    proto, addr, port, lines = a[0], a[1], int(a[2]), a[3:]
    if proto == "tcp":
        s = socket.create_connection((addr, port), timeout=5)
        f = s.makefile("rb")
        for l in lines:
            s.sendall(l.encode() + b"\n")
            r = f.readline()
            if not r:
                raise SystemExit("no reply to %r" % l)
            print(r.decode().rstrip("\n"))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect((addr, port))
        for l in lines:
            s.send(l.encode())
            print(s.recv(2048).decode().rstrip("\n"))

def cmd_timed(a):
    """tcp|udp ADDR PORT N GAP_MS TAG OUT: open loop, N 'set' requests
    about GAP_MS apart at random phases; then 300 ms more for replies nobody
    asked for. Writes {"res": [[sent_ns, reply_ns|null, ok], ...],
    "extra": replies (UDP) or bytes (TCP) beyond the N replies} to OUT."""
    proto, addr, port, n, gap, tag, out = a[0], a[1], int(a[2]), int(a[3]), \
        float(a[4]), a[5], a[6]
    reqs = ["set %s%d v%d.%s" % (tag, i, i, tag) for i in range(n)]
    res = [[0, None, False] for _ in range(n)]
    extra = 0
    if proto == "tcp":
        s = socket.create_connection((addr, port), timeout=5)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((addr, port))
    s.setblocking(False)
    buf, got, nxt = b"", 0, 0
    t_next = now()
    deadline = None
    while True:
        t = now()
        if nxt < n and t >= t_next:
            line = reqs[nxt].encode()
            s.send(line + b"\n" if proto == "tcp" else line)
            res[nxt][0] = now()
            nxt += 1
            t_next = t + int(gap * random.uniform(0.5, 1.5) * 1e6)
            if nxt == n:
                deadline = now() + 3 * 10**9
        if got == n and deadline > t + 3 * 10**8:
            deadline = t + 3 * 10**8	# the tail: anything more is extra
        if deadline and t > deadline:
            break
        wait = (t_next - t) / 1e9 if nxt < n else (deadline - t) / 1e9
        r, _, _ = select.select([s], [], [], max(wait, 0))
        if not r:
            continue
        t = now()
        try:
            d = s.recv(65536)
        except ConnectionError:
            break
        if proto == "tcp":
            if not d:
                break
            buf += d
            while b"\n" in buf and got < n:
                line, buf = buf.split(b"\n", 1)
                res[got][1] = t
                res[got][2] = line.decode() == reqs[got]
                got += 1
            if got == n:
                extra += len(buf)
                buf = b""
        else:
            d = d.decode().rstrip("\n")
            i = reqs.index(d) if d in reqs else -1
            if i < 0 or res[i][1] is not None:
                extra += 1
            else:
                res[i][1] = t
                res[i][2] = True
                got += 1
    json.dump({"res": res, "extra": extra}, open(out, "w"))

def cmd_timed_ok(a):
    """OUT...: every reply of the timed clients arrived, right, once."""
    msg = []
    for f in a:
        r = json.load(open(f))
        miss = sum(1 for x in r["res"] if x[1] is None)
        wrong = sum(1 for x in r["res"] if x[1] is not None and not x[2])
        msg.append("%s: requests %d correct %d wrong %d missing %d extra %d" %
                   (os.path.basename(f), len(r["res"]), len(r["res"]) - miss - wrong,
                    wrong, miss, r["extra"]))
        if miss or wrong or r["extra"]:
            raise SystemExit("; ".join(msg))
    print("# " + "; ".join(msg))

def cmd_watch(a):
    """STATUSJSON STOPFILE OUT: until STOPFILE exists (at most 2 minutes),
    read the primary's status file every 20 ms; writes {seq: [start_ns,
    end_ns, cause]} of every checkpoint seen as the last one."""
    path, stop, out = a
    seen = {}
    t_end = now() + 120 * 10**9
    while os.path.isdir(os.path.dirname(stop)) and now() < t_end:
        try:
            d = json.load(open(path))
            l = d["checkpoints"]["last"]
            end = d["updated_ns"] - l["ago_ms"] * 10**6	# ms precision
            seen.setdefault(l["seq"], [end - int(l["duration_ms"] * 1e6), end,
                                       l["cause"]])
        except (OSError, ValueError, KeyError):
            pass
        if os.path.exists(stop):
            break
        time.sleep(0.02)
    if os.path.isdir(os.path.dirname(out)):
        json.dump(seen, open(out, "w"))

def cmd_commit(a):
    """WATCH TOL_MS CLIENT...: every reply arrived, correct, and not before
    the first checkpoint that started after its request (TOL_MS for the
    status file's millisecond precision), nor after the third one."""
    seen = {int(k): v for k, v in json.load(open(a[0])).items()}
    tol = float(a[1]) * 1e6
    seqs = sorted(seen)
    if not seqs or seqs[-1] - seqs[0] + 1 != len(seqs):
        raise SystemExit("checkpoints missing from the watch: %s" % seqs)
    starts = [seen[s][0] for s in seqs]
    ends = [seen[s][1] for s in seqs]
    early = late = bad = 0
    lat, wait = [], []
    for f in a[2:]:
        for sent, got, ok in json.load(open(f))["res"]:
            if got is None or not ok:
                bad += 1
                continue
            nxt = [i for i in range(len(starts)) if starts[i] >= sent]
            if len(nxt) < 3:
                raise SystemExit("the watch ended before the checkpoints after a request")
            i = nxt[0]
            lat.append((got - sent) / 1e6)
            wait.append((starts[i] - sent) / 1e6)
            if got < starts[i] - tol:
                early += 1
                print("early: request at %d, reply %.1f ms later, the next checkpoint "
                      "started %.1f ms after the request" %
                      (sent, (got - sent) / 1e6, (starts[i] - sent) / 1e6))
            if got > ends[nxt[2]] + tol:
                late += 1
    print("# %d replies, latency %.1f..%.1f ms, time to the next checkpoint %.1f..%.1f ms, "
          "%d checkpoints (#%d..#%d)" % (len(lat), min(lat), max(lat), min(wait),
                                         max(wait), len(seqs), seqs[0], seqs[-1]))
    if bad or early or late:
        raise SystemExit("%d missing or wrong, %d before their checkpoint, %d held "
                         "past three checkpoints" % (bad, early, late))

def cmd_stopkill(a):
    """PID TIMEOUT_MS: wait until PID is stopped (state T), SIGKILL it,
    print the CLOCK_MONOTONIC ns of the kill and how long it was stopped
    before (at most). Exit 1 if it did not stop in time."""
    pid, tmo = int(a[0]), int(a[1])
    t_end = now() + tmo * 10**6
    while True:
        try:
            st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
        except OSError:
            raise SystemExit("process %d is gone" % pid)
        if st in "tT":
            break
        if now() > t_end:
            raise SystemExit("process %d did not stop within %d ms (state %s)" %
                             (pid, tmo, st))
        time.sleep(0.002)
    t = now()
    os.kill(pid, 9)
    print(t)

cmds = {k[4:]: v for k, v in globals().items() if k.startswith("cmd_")}
cmds[sys.argv[1]](sys.argv[2:])
EOF
}

ckpy() {
	"$PY" "$CKPY" "$@"
}

ctl() {		# VM CMD...: colo-service's control socket in namespace VM
	local vm=$1
	shift
	ckpy ctl "$TMP/$vm.ctl" "$@"
}

svc_field() {	# VM FIELD: a field of the service's `status`
	ckpy field "$TMP/$1.ctl" "$2"
}

# --- the pair ---

free_port() {	# a TCP port on 127.0.0.1 nobody listens on
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_primary ARGS...: the primary's attach with checkpoint options ARGS
# (environment from PRI_ENV, e.g. COLO_TEST_STOP_AT=...); waits until status
# answers. Native mode, skb if native fails.
start_primary() {
	local m
	for m in $xdp_mode skb; do
		: >"$PLOG"
		# shellcheck disable=SC2086 # PRI_ENV: NAME=VALUE words
		env ${PRI_ENV:-} "$PROXY" attach --instance "$INST" --vm-mac $VM_MAC --client "${P}c" \
			--pvm "${P}p" --svm "${P}s" --mode "$m" --timeout 2000 \
			--listen "127.0.0.1:$PORT" --driver process --vm "$TMP/pvm.ctl" \
			-v "$@" >>"$PLOG" 2>&1 &
		primary_pid=$!
		for _ in $(seq 200); do
			kill -0 "$primary_pid" 2>/dev/null || break
			"$PROXY" status --instance "$INST" >/dev/null 2>&1 && { xdp_mode=$m; return 0; }
			sleep 0.05
		done
		stop_pid "$primary_pid"
		primary_pid=
		"$PROXY" detach --instance "$INST" >/dev/null 2>&1
		[ "$m" = skb ] && break
	done
	echo "the primary's attach did not come up: $(grep -v 'libbpf\|libxdp' "$PLOG" | tail -3)"
	return 1
}

# start_secondary ARGS...: the secondary's attach (environment from
# SEC_ENV, e.g. COLO_TEST_STOP_AT=...); waits until the primary took the
# first checkpoint (the SVM then holds the PVM's state).
start_secondary() {
	: >"$SLOG"
	# shellcheck disable=SC2086 # SEC_ENV: NAME=VALUE words
	env ${SEC_ENV:-} "$PROXY" attach --role secondary --instance "$SINST" \
		--no-datapath --peer "127.0.0.1:$PORT" --driver process \
		--vm "$TMP/svm.ctl" -v "$@" >>"$SLOG" 2>&1 &
	secondary_pid=$!
	st_wait p 'c["phase"] == "colo" and c["checkpoints"]["done"] >= 1' 10 ||
		{ echo "no first checkpoint: $(tail -3 "$SLOG")"; return 1; }
}

# start_pair MODE PRIMARY_ARGS...: fresh services and both proxies; both get
# LOOP_ARGS (e.g. heartbeat options).
start_pair() {
	local m=$1
	shift
	stop_pair
	PORT=$(free_port)
	rm -f "$TMP/pvm.ctl" "$TMP/svm.ctl"
	start_service pvm --control "$TMP/pvm.ctl" &&
		start_service svm --control "$TMP/svm.ctl" || return 1
	# shellcheck disable=SC2086 # LOOP_ARGS: option words
	start_primary --checkpoint "$m" ${LOOP_ARGS:-} "$@" || return 1
	# shellcheck disable=SC2086
	start_secondary --checkpoint "$m" ${LOOP_ARGS:-}
}

# hashes_equal: the services' state hashes agree (and the state is not empty)
hashes_equal() {
	local hp hs kp
	hp=$(svc_field pvm hash) && hs=$(svc_field svm hash) && kp=$(svc_field pvm keys) ||
		return 1
	echo "# PVM hash $hp ($kp keys), SVM hash $hs"
	[ "$hp" = "$hs" ] || { echo "the SVM's state hash $hs differs from the PVM's $hp"; return 1; }
	[ "$kp" -gt 0 ] || { echo "the PVM holds no keys: nothing was compared"; return 1; }
}

preconditions() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "FAIL root: this test needs root (network namespaces, XDP)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	for f in "$PROXY" "$SVC"; do
		[ -x "$f" ] || { echo "FAIL build: $f missing: run make"; echo "0 passed, 1 failed"; exit 1; }
	done
	# the interpreter itself, not a wrapper script (pyenv): it starts faster
	PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$PY" ] ||
		{ echo "FAIL python3: needed for the clients"; echo "0 passed, 1 failed"; exit 1; }
	write_ckpy
	t_topo() {
		"$TOPO" up "$P" >"$TMP/topo.log" 2>&1 || { tail -5 "$TMP/topo.log"; return 1; }
	}
	check topology-up t_topo
	[ "$failed" -eq 0 ] || finish
}

# ===================== the modes =====================

# --- p: periodic output commit ---

t_periodic() {
	local rc=0 paused=
	start_pair periodic --interval 300 || return 1
	st p 'c["mode"]["in_force"] == "periodic" and c["output"]["mode"] == "commit"' ||
		return 1
	st p 'True' && n0=$(stget p 'c["checkpoints"]["by_cause"]["period"]')	# for t_periodic_count
	rm -f "$TMP/watch.stop"
	ckpy watch "/run/colo-proxy/$INST.json" "$TMP/watch.stop" "$TMP/watch.json" &
	watch_pid=$!
	in_ns cli "$PY" "$CKPY" timed tcp $VM_IP $TCP_PORT 12 130 t "$TMP/tcp.json" &
	tpid=$!
	in_ns cli "$PY" "$CKPY" timed udp $VM_IP $UDP_PORT 12 130 u "$TMP/udp.json" &
	upid=$!	# tpid, upid: global, for cleanup
	# meanwhile the SVM's service stays paused
	while kill -0 "$tpid" 2>/dev/null || kill -0 "$upid" 2>/dev/null; do
		paused+=$(svc_field svm paused)
		sleep 0.1
	done
	wait "$tpid" || rc=1
	wait "$upid" || rc=1
	tpid='' upid=''
	sleep 0.7	# two more periods: the watch sees the checkpoints after the last request
	touch "$TMP/watch.stop"
	wait "$watch_pid"
	watch_pid=
	[ $rc -eq 0 ] || { echo "a client failed"; return 1; }
	ckpy timed_ok "$TMP/tcp.json" "$TMP/udp.json" || return 1
	echo "# SVM paused samples: $paused"
	[[ $paused =~ ^1+$ ]] || { echo "the SVM's service ran between checkpoints: paused samples $paused"; return 1; }
	ckpy commit "$TMP/watch.json" 2 "$TMP/tcp.json" "$TMP/udp.json"
}
t_periodic_count() {
	local n1
	st p 'True' && n1=$(stget p 'c["checkpoints"]["by_cause"]["period"]') || return 1
	echo "# periodic checkpoints: $n0 before the clients, $n1 after"
	# the clients ran about 2 s: 300 ms period, at least 5
	[ $((n1 - n0)) -ge 5 ] || { echo "only $((n1 - n0)) periodic checkpoints during the clients"; return 1; }
	st p 'c["checkpoints"]["aborted"] == 0 and c["output"]["held_frames"] == 0'
}
t_svm_never_served() {
	local r
	r=$(svc_field svm tcp_requests)/$(svc_field svm udp_requests) || return 1
	[ "$r" = 0/0 ] || { echo "the SVM served tcp/udp requests: $r"; return 1; }
	[ "$(svc_field svm paused)" = 1 ] || { echo "the SVM is not paused"; return 1; }
}
t_periodic_hash() {
	local s
	st p 'True' && s=$(stget p 'c["seq"]') || return 1
	st_wait p "c['seq'] > $s" 2 || return 1	# a checkpoint after the last request
	hashes_equal
}

# --- h: hybrid, an injected divergence ---

t_hybrid_start() {
	start_pair hybrid --interval 60000 || return 1
	st p 'c["mode"]["in_force"] == "hybrid" and c["output"]["mode"] == "compare"'
}

# t_hybrid_agree: state-changing requests, both VMs agree: no checkpoint
t_hybrid_agree() {
	local out d0
	st p 'True' && d0=$(stget p 'c["checkpoints"]["done"]') || return 1
	out=$(in_ns cli "$PY" "$CKPY" req tcp $VM_IP $TCP_PORT "set a 1" "set b two" "get a" count) ||
		return 1
	[ "$(echo $out)" = "set a 1 set b two get a 1 count 4" ] ||
		{ echo "unexpected replies: $(echo $out)"; return 1; }
	sleep 0.3
	st p "c['checkpoints']['done'] == $d0 and c['mode']['divergences'] == 0" &&
	hashes_equal
}

# t_hybrid_diverge PROTO KEY REASON: `diverge 1`, one `set`: the PVM's
# reply, a divergence checkpoint, the SVM's stored value differed (its
# `diverged` counter) and equals the PVM's after.
t_hybrid_diverge() {
	local proto=$1 key=$2 reason=$3 port=$TCP_PORT out dv0 dv1 dc0 r0
	[ "$proto" = udp ] && port=$UDP_PORT
	st p 'True' || return 1
	dc0=$(stget p 'c["checkpoints"]["by_cause"]["divergence"]')
	r0=$(stget p 'e.get("by_reason", {}).get("'"$reason"'", 0)')
	dv0=$(svc_field svm diverged) || return 1
	[ "$(ctl svm diverge 1)" = "ok diverge 1" ] || { echo "diverge 1 refused"; return 1; }
	out=$(in_ns cli "$PY" "$CKPY" req "$proto" $VM_IP $port "set $key value-$key") ||
		{ echo "no reply: $out"; return 1; }
	[ "$out" = "set $key value-$key" ] ||
		{ echo "the client got '$out', not the PVM's 'set $key value-$key'"; return 1; }
	dv1=$(svc_field svm diverged)
	[ "$dv1" -eq $((dv0 + 1)) ] || { echo "the SVM diverged $((dv1 - dv0)) times, not once"; return 1; }
	st_wait p "c['checkpoints']['by_cause']['divergence'] == $dc0 + 1 and
		   e['by_reason']['$reason'] == $r0 + 1 and c['protocol'] == 'running'" 3 ||
		return 1
	st p 'True' && echo "# checkpoint #$(stget p 'c["checkpoints"]["last"]["seq"]') ($(stget p 'c["checkpoints"]["last"]["cause"]')): $(stget p 'c["checkpoints"]["last"]["duration_ms"]') ms, output held $(stget p 'c["checkpoints"]["last"]["held_ms"]') ms"
	hashes_equal || return 1
	out=$(in_ns cli "$PY" "$CKPY" req tcp $VM_IP $TCP_PORT "get $key") &&
	[ "$out" = "get $key value-$key" ] || { echo "get $key afterwards: '$out'"; return 1; }
	st p "c['checkpoints']['by_cause']['divergence'] == $dc0 + 1" ||
		{ echo "the SVM disagreed again after the checkpoint"; return 1; }
}

# --- a: adaptive ---

t_adaptive_start() {
	start_pair adaptive --interval 60000 --period 100 \
		--adaptive-high 3/1000 --adaptive-low 1/2000 || return 1
	st p 'c["mode"]["configured"] == "adaptive" and c["mode"]["in_force"] == "hybrid"'
}
t_adaptive_burst() {
	local i reqs=()
	for i in $(seq 8); do reqs+=("set burst$i v$i"); done
	[ "$(ctl svm diverge on)" = "ok diverge on" ] || return 1
	in_ns cli "$PY" "$CKPY" req tcp $VM_IP $TCP_PORT "${reqs[@]}" >"$TMP/burst.out" ||
		{ ctl svm diverge off; echo "burst: $(cat "$TMP/burst.out")"; return 1; }
	ctl svm diverge off >/dev/null
	[ "$(sed -n 8p "$TMP/burst.out")" = "set burst8 v8" ] ||
		{ echo "burst replies: $(tr '\n' ' ' <"$TMP/burst.out")"; return 1; }
	st_wait p 'c["mode"]["in_force"] == "periodic" and c["mode"]["switches"] == 1 and
		   c["mode"]["last_switch"]["text"].startswith("hybrid -> periodic") and
		   "divergence checkpoints within 1000 ms" in c["mode"]["last_switch"]["text"]' 2 ||
		return 1
	echo "# switch: $(stget p 'c["mode"]["last_switch"]["text"]') (reason $(stget p 'c["mode"]["last_switch"]["reason"]'))"
}
t_adaptive_quiet() {
	local t0=$SECONDS
	st_wait p 'c["mode"]["in_force"] == "hybrid" and c["mode"]["switches"] == 2 and
		   c["mode"]["last_switch"]["text"].startswith("periodic -> hybrid")' 8 ||
		return 1
	echo "# back after about $((SECONDS - t0)) s: $(stget p 'c["mode"]["last_switch"]["text"]') (reason $(stget p 'c["mode"]["last_switch"]["reason"]'))"
	grep -q 'checkpoint mode switch: hybrid -> periodic' "$PLOG" &&
	grep -q 'checkpoint mode switch: periodic -> hybrid' "$PLOG" ||
		{ echo "the switches are not in the primary's log"; return 1; }
}
t_adaptive_after() {	# hybrid again: replies right away, states equal
	local out
	out=$(in_ns cli "$PY" "$CKPY" req tcp $VM_IP $TCP_PORT "set after 1" "get burst8") &&
	[ "$(echo $out)" = "set after 1 get burst8 v8" ] || { echo "replies: $(echo $out)"; return 1; }
	st p 'c["output"]["mode"] == "compare"' && hashes_equal
}

main() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
	preconditions

	check p-periodic-commit t_periodic
	check p-periodic-counted t_periodic_count
	check p-svm-paused-never-served t_svm_never_served
	check p-state-equal-after-checkpoint t_periodic_hash

	check h-hybrid-start t_hybrid_start
	check h-agree-no-checkpoint t_hybrid_agree
	check h-tcp-diverge-payload t_hybrid_diverge tcp kt payload
	check h-udp-diverge-datagram t_hybrid_diverge udp ku datagram

	check a-adaptive-start t_adaptive_start
	check a-burst-to-periodic t_adaptive_burst
	check a-quiet-to-hybrid t_adaptive_quiet
	check a-hybrid-again t_adaptive_after
	finish
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main
fi
