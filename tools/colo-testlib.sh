# shellcheck shell=bash
# shellcheck disable=SC2153,SC2154  # the caller defines the variables below
# Helpers shared by the namespace tests (tests/integration, tests/e2e),
# tools/demo.sh and tools/bench-datapath.sh. Sourced, never run, from the
# repository root. The caller defines the variables a helper names: P (the
# colo-topo.sh prefix), PROXY, INST/SINST and primary_pid/secondary_pid
# (the two proxies), TMP, PY and STPY (a Python helper with `eval` and
# `get`), PLOG/SLOG (the proxies' logs), passed/failed/t_start.

stop_pid() {	# PID: SIGTERM, wait up to 5 s, then SIGKILL; only our own children
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# stop_proxies: both proxies, and the pins and programs a killed one left
stop_proxies() {
	stop_pid "$secondary_pid"
	stop_pid "$primary_pid"
	secondary_pid=
	primary_pid=
	if [ -x "$PROXY" ]; then
		"$PROXY" detach --instance "$SINST" >/dev/null 2>&1
		"$PROXY" detach --instance "$INST" >/dev/null 2>&1
	fi
}

in_ns() {	# NS CMD...: nsenter, not ip netns exec (/sys/fs/bpf must stay); it execs
	local ns=$1
	shift
	nsenter --net="/run/netns/$P-$ns" "$@"
}

xdp_on() {	# IFACE: 0 when an XDP program is attached to IFACE
	ip -d link show dev "$1" 2>/dev/null | grep -q xdp
}

# check NAME CMD...: CMD succeeds, or prints why it did not (with the tails
# of $PLOG and $SLOG). CMD runs in this shell: it may set variables. Lines
# CMD prints starting with '#' are shown.
check() {
	local name=$1 why f
	shift
	if "$@" >"$TMP/why" 2>&1; then
		grep '^#' "$TMP/why"
		echo "ok $name"
		passed=$((passed + 1))
	else
		why=$(grep -v '^#' "$TMP/why")
		echo "FAIL $name: ${why:-command failed}"
		grep '^#' "$TMP/why" | sed 's/^/  /'
		for f in "$PLOG" "$SLOG"; do
			[ -s "$f" ] || continue
			echo "  --- tail of $(basename "$f") ---"
			grep -v 'libbpf\|libxdp' "$f" | tail -n 8 | sed 's/^/  | /'
		done
		failed=$((failed + 1))
	fi
}

finish() {	# the summary line, then exit 1 on any failure (XDP mode if xdp_mode is set)
	echo "# $((SECONDS - t_start)) s${xdp_mode:+, XDP in $xdp_mode mode}"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# st p|s EXPR: `colo-proxy status --instance ... --json` of the primary (p)
# or the secondary (s) makes the Python expression EXPR true (see $STPY).
st() {
	local inst=$INST
	[ "$1" = s ] && inst=$SINST
	"$PROXY" status --instance "$inst" --json >"$TMP/st.$1" 2>"$TMP/st.err" ||
		{ echo "status --instance $inst failed: $(head -c 300 "$TMP/st.err")"; return 1; }
	"$PY" "$STPY" eval "$TMP/st.$1" "$2"
}

stget() {	# p|s EXPR: print EXPR over the last status (after st)
	"$PY" "$STPY" get "$TMP/st.$1" "$2"
}

st_wait() {	# p|s EXPR [SECONDS]: st holds within SECONDS (default 5)
	local n=$((${3:-5} * 20))
	for _ in $(seq "$n"); do
		st "$1" "$2" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	st "$1" "$2"
}

# VM [ARGS...]: colo-service on TCP_PORT and UDP_PORT in namespace $P-VM with
# ARGS, log in $TMP/VM.log, PID in VM_pid; 0 once it says it is serving
start_service() {
	local vm=$1 pid
	shift
	# nsenter directly, not in_ns: nsenter execs, so $! is the service's PID
	nsenter --net="/run/netns/$P-$vm" "$SVC" --tcp "$TCP_PORT" --udp "$UDP_PORT" \
		"$@" >"$TMP/$vm.log" 2>&1 &
	pid=$!
	eval "${vm}_pid=$pid"
	for _ in $(seq 50); do
		grep -q serving "$TMP/$vm.log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "colo-service in $vm did not start: $(cat "$TMP/$vm.log")"
	return 1
}
