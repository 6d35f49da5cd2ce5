#!/bin/bash
# Integration test of failover in the checkpoint loop (process driver,
# single-host layout; the harness of test_checkpoint.sh): one proxy is
# stopped at an exact step of the checkpoint protocol by the test hook
# COLO_TEST_STOP_AT=STEP:N (docs/operations.md, "Testing hooks") and then
# SIGKILLed, for every step
#   checkpoint-request checkpoint-reply vmstate-send vmstate-size
#   vmstate-bytes vmstate-received vmstate-loaded
# of checkpoint N (whichever side sends the message stops right after
# sending it, the other right after reading it, before acting on it), in
# periodic mode (--interval 200) and in hybrid mode (--interval 200: the
# SVM runs between the checkpoints).
#   secondary killed: the primary fails over (status: failed-over, reason,
#     loss to failover) within the heartbeat timeout (+ 300 ms) of the
#     kill, after the checkpoint the step implies; its output goes straight
#     to the client (passthrough); the PVM runs; open-loop TCP and UDP
#     clients running across the fault get every reply exactly once
#     (missing 0, duplicate/extra 0, wrong 0)
#   primary killed: the secondary takes over (status and log) within the
#     same bound, after the checkpoint the step implies (which is the
#     number of states its colo-service loaded), and its VM runs
#     (colo-service not paused, answers on the SVM namespace's loopback).
#     In the single-host layout nothing forwards the SVM's output once the
#     primary's process is gone, so the clients are not checked.
# Root only. "ok NAME" / "FAIL NAME: why" per case, then "N passed, N
# failed"; exit status 1 on any failure. About 100 s.
set -u
CK_PREFIX=ckf$$
# shellcheck source=tests/integration/test_checkpoint.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_checkpoint.sh" || exit 1

STEPS="checkpoint-request checkpoint-reply vmstate-send vmstate-size vmstate-bytes vmstate-received vmstate-loaded"
STOP_N=5		# the hook stops at checkpoint 5 (1: the initial sync)
PERIOD=200
HB_TIMEOUT=1000
MARGIN=300		# ms over the heartbeat timeout
LOOP_ARGS="--heartbeat 100 --heartbeat-timeout $HB_TIMEOUT"
cli_tcp=
cli_udp=
stopkill_pid=

stop_clients() {
	stop_pid "$stopkill_pid"
	stopkill_pid=
	stop_pid "$cli_tcp"
	stop_pid "$cli_udp"
	cli_tcp=
	cli_udp=
}

# sender STEP: which side sends the message (the other one receives it)
sender() {
	case $1 in
	checkpoint-reply|vmstate-received|vmstate-loaded) echo secondary ;;
	*) echo primary ;;
	esac
}

# after_expected SIDE STEP: the checkpoint the survivor has completed when
# SIDE stops at STEP of checkpoint N
after_expected() {
	local side=$1 step=$2
	if [ "$side" = secondary ]; then
		# the primary completes N only with vmstate-loaded
		[ "$step" = vmstate-loaded ] && echo $STOP_N || echo $((STOP_N - 1))
	else
		# the secondary loads N once it has all the state bytes
		case $step in
		vmstate-bytes|vmstate-received|vmstate-loaded) echo $STOP_N ;;
		*) echo $((STOP_N - 1)) ;;
		esac
	fi
}

# start_clients: an open-loop TCP client (40 `set`s, about 40 ms apart) and
# an open-loop UDP one (colo-service, 40 requests at 25/s), about 1.6 s
# each: they run across the fault (the hook stops a proxy about 0.8 s after
# the first checkpoint).
start_clients() {
	rm -f "$TMP/cli_tcp.json"
	in_ns cli "$PY" "$CKPY" timed tcp $VM_IP $TCP_PORT 40 40 f "$TMP/cli_tcp.json" \
		>"$TMP/cli_tcp.out" 2>&1 &
	cli_tcp=$!
	in_ns cli "$SVC" --client $VM_IP --udp $UDP_PORT --requests 40 --rate 25 \
		--timeout 1000 >"$TMP/cli_udp.out" 2>&1 &
	cli_udp=$!
}

clients_running() {	# both clients are still running (the fault is in their midst)
	kill -0 "$cli_tcp" 2>/dev/null && kill -0 "$cli_udp" 2>/dev/null && return 0
	echo "a client had finished before the kill: the fault was not in the midst of its requests"
	return 1
}

clients_ok() {	# both clients: every reply once, none wrong
	local rc=0
	wait "$cli_tcp" || rc=1
	wait "$cli_udp" || rc=1
	cli_tcp=
	cli_udp=
	grep -q 'wrong 0 missing 0 duplicate 0 errors 0' "$TMP/cli_udp.out" || rc=1
	[ $rc -eq 0 ] && ckpy timed_ok "$TMP/cli_tcp.json" >"$TMP/cli_tcp.sum" 2>&1 || rc=1
	[ $rc -eq 0 ] ||
		{ echo "clients: tcp $(cat "$TMP/cli_tcp.out" "$TMP/cli_tcp.sum" 2>/dev/null) / udp $(cat "$TMP/cli_udp.out")"; return 1; }
	echo "# clients: tcp $(sed 's/.*: //' "$TMP/cli_tcp.sum"); udp $(sed 's/ rx_bytes.*//;s/.*: //' "$TMP/cli_udp.out")"
}

# t_fault MODE SIDE STEP: SIDE (primary|secondary) stops at STEP of
# checkpoint STOP_N and is SIGKILLed; the other side fails over.
t_fault() {
	local cmode=$1 side=$2 step=$3 victim survivor vlog slog kill_ns tmo exp how
	local text
	PRI_ENV='' SEC_ENV=''
	if [ "$side" = primary ]; then
		PRI_ENV="COLO_TEST_STOP_AT=$step:$STOP_N"
		survivor=s vlog=$PLOG slog=$SLOG
	else
		SEC_ENV="COLO_TEST_STOP_AT=$step:$STOP_N"
		survivor=p vlog=$SLOG slog=$PLOG
	fi
	start_pair "$cmode" --interval $PERIOD || return 1
	if [ "$side" = primary ]; then victim=$primary_pid; else victim=$secondary_pid; fi
	# watch for the stop before the clients start, and kill at once
	tmo=$((STOP_N * PERIOD + 5000))
	ckpy stopkill "$victim" $tmo >"$TMP/kill_ns" 2>&1 &
	stopkill_pid=$!
	start_clients
	wait "$stopkill_pid" || { stopkill_pid=; stop_clients; cat "$TMP/kill_ns"; return 1; }
	stopkill_pid=
	kill_ns=$(cat "$TMP/kill_ns")
	clients_running || { stop_clients; return 1; }
	wait "$victim" 2>/dev/null
	if [ "$side" = primary ]; then primary_pid=; else secondary_pid=; fi
	how=$(sed -n 's/.*test hook: stopping (SIGSTOP) right after \(.*\)/\1/p' "$vlog")
	[ "$(sender "$step")" = "$side" ] && exp="sending $step" || exp="receiving $step"
	[[ $how == "$exp"* ]] || { stop_clients; echo "the hook stopped $side after '$how', not after '$exp'"; return 1; }
	# the survivor leaves COLO within the heartbeat timeout of the kill
	if ! st_wait $survivor 'c["failover"]["state"] != "none"' $(((HB_TIMEOUT + MARGIN) / 1000 + 1)); then
		stop_clients
		return 1
	fi
	st $survivor "c['failover']['state'] == 'failed-over' and
		      c['failover']['reason'] in ('connection-lost', 'heartbeat-lost') and
		      c['failover']['loss_to_failover_ms'] <= $HB_TIMEOUT + $MARGIN and
		      c['failover']['at_ns'] - $kill_ns <= ($HB_TIMEOUT + $MARGIN) * 10**6 and
		      c['failover']['after_checkpoint'] == $(after_expected "$side" "$step")" ||
		{ stop_clients; return 1; }
	echo "# $side stopped after $how, killed; $(stget $survivor '"%s: failover %.1f ms after the kill, loss to failover %.1f ms (detection %.1f, action %.1f), after checkpoint %d" % (c["failover"]["reason"], (c["failover"]["at_ns"] - '"$kill_ns"') / 1e6, c["failover"]["loss_to_failover_ms"], c["failover"]["detection_ms"], c["failover"]["action_ms"], c["failover"]["after_checkpoint"])')"
	# and so does the status for people
	text=$("$PROXY" status --instance "$([ $survivor = p ] && echo "$INST" || echo "$SINST")" 2>&1 |
	       grep 'failover:')
	[[ $text == *"failover: failed-over at "*" ("*"): "*"; loss to failover "*" ms ("* ]] ||
		{ stop_clients; echo "status shows '$text'"; return 1; }
	if [ "$side" = primary ]; then
		stop_clients	# nothing forwards the SVM's output any more
		[[ $text == *"the secondary took over"* ]] || { echo "status: '$text'"; return 1; }
		grep -q 'FAILOVER: the secondary took over' "$slog" ||
			{ echo "no takeover in the secondary's log"; return 1; }
		[ "$(svc_field svm paused)" = 0 ] || { echo "the SVM's service is still paused"; return 1; }
		# it runs on the state of the checkpoint status names (one load each)
		[ "$(svc_field svm loads)" = "$(after_expected "$side" "$step")" ] ||
			{ echo "the SVM loaded $(svc_field svm loads) checkpoints, status says it took over after $(after_expected "$side" "$step")"; return 1; }
		in_ns svm "$SVC" --client 127.0.0.1 --tcp $TCP_PORT --requests 3 >"$TMP/svm_local.out" 2>&1 ||
			{ echo "the SVM does not answer: $(cat "$TMP/svm_local.out")"; return 1; }
	else
		clients_ok || return 1
		st p 'c["output"]["mode"] == "passthrough" and d["passthrough"]' || return 1
		grep -q 'FAILOVER: the primary runs alone' "$slog" ||
			{ echo "no failover in the primary's log"; return 1; }
		[ "$(svc_field pvm paused)" = 0 ] || { echo "the PVM's service is still paused"; return 1; }
	fi
}

main_faults() {
	local cmode side step
	trap 'stop_clients; cleanup' EXIT
	trap 'exit 1' INT TERM HUP PIPE
	preconditions
	for cmode in periodic hybrid; do
		for side in secondary primary; do
			for step in $STEPS; do
				check "$cmode-$side-killed-at-$step" t_fault $cmode $side $step
			done
		done
	done
	finish
}

main_faults
