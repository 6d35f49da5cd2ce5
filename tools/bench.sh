#!/bin/bash
# `make bench`: our engine (build/tools/bench, one pinned core, no I/O) and
# QEMU's colo-compare (build/tools/qemu-colo-bench, over its chardev sockets)
# on the same frame streams, then one table with the ratio ours/QEMU.
# Builds nothing (make does). No pass/fail on speed: exit status 1 only when a
# tool could not run or our engine's run was broken (frames not all released).
#   BENCH_ARGS  extra arguments for bench (e.g. "--runs 9")
#   QEMU_ARGS   extra arguments for qemu-colo-bench (e.g. "--runs 5")
#   QEMU        QEMU binary (qemu-system-x86_64)
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
QEMU=${QEMU:-qemu-system-x86_64}
BENCH_ARGS=${BENCH_ARGS:-}
QEMU_ARGS=${QEMU_ARGS:-}
CASES="udp tcp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# field NAME FILE: a number or string from the one-line JSON in FILE
field() {
	sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$2" | head -1
}

# fmt VALUE SCALE DECIMALS: VALUE / SCALE, or "-" when there is no VALUE
fmt() {
	if [ -z "$1" ]; then
		echo "-"
	else
		awk -v v="$1" -v s="$2" -v d="$3" 'BEGIN { printf "%.*f", d, v / s }'
	fi
}

# describe FILE [LABEL]: one line about a run from its JSON
describe() {
	local f=$1
	[ -s "$f" ] || return 0
	printf '  %s: %s primary + %s secondary frames over %s flows, %s runs, median %s s' \
		"${2:-$(field case "$f")}" "$(field primary_frames "$f")" \
		"$(field secondary_frames "$f")" "$(field flows "$f")" \
		"$(field runs "$f")" "$(fmt "$(field wall_s "$f")" 1 3)"
	if [ -n "$(field qemu_cpu_s "$f")" ]; then
		printf ', QEMU CPU %s s' "$(fmt "$(field qemu_cpu_s "$f")" 1 2)"
	fi
	echo
}

ratio() {
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo "-"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'
	fi
}

echo "== colo-core engine: build/tools/bench (CPU 0, frames pre-built, no I/O)"
for c in $CASES; do
	# shellcheck disable=SC2086
	if ! "$BUILD/tools/bench" --case "$c" --json $BENCH_ARGS >"$tmp/ours-$c.json"; then
		echo "bench: the $c case failed (see above); its figures are not valid" >&2
		status=1
	fi
	describe "$tmp/ours-$c.json"
done
# the same TCP stream with the loop prefetching a few frames ahead: how much
# of the time is waiting for frames to come from memory
# shellcheck disable=SC2086
"$BUILD/tools/bench" --case tcp --prefetch 4 --json $BENCH_ARGS >"$tmp/ours-tcp-pf.json" ||
	status=1
describe "$tmp/ours-tcp-pf.json" "tcp, prefetching frame i+4 before pushing frame i"
# and with frames in cache, as the kernel's AF_XDP copy leaves them: each
# window of 256 frames is read untimed before it is pushed
for c in $CASES; do
	# shellcheck disable=SC2086
	"$BUILD/tools/bench" --case "$c" --hot 256 --json $BENCH_ARGS >"$tmp/ours-$c-hot.json" ||
		status=1
	describe "$tmp/ours-$c-hot.json" "$c, frames in cache (--hot 256)"
done

echo
if ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "== QEMU colo-compare: SKIPPED, $QEMU is not installed (tools/setup.sh installs qemu-system-x86)"
	qemu=no
else
	echo "== QEMU colo-compare: build/tools/qemu-colo-bench ($("$QEMU" --version | head -1))"
	qemu=yes
	for c in $CASES; do
		# exit status 1 = QEMU misbehaved (reported in the JSON), not ours
		# shellcheck disable=SC2086
		"$BUILD/tools/qemu-colo-bench" --case "$c" --json --qemu "$QEMU" \
			$QEMU_ARGS >"$tmp/qemu-$c.json"
		if [ "$?" -gt 1 ] || [ ! -s "$tmp/qemu-$c.json" ]; then
			echo "qemu-colo-bench: the $c case could not run (see above)" >&2
			status=1
		fi
		describe "$tmp/qemu-$c.json"
	done
fi

echo
echo "== Summary (median of runs; GB = 1e9 bytes; ratio = ours / QEMU)"
printf '%-4s %-22s %14s %14s %10s\n' case metric ours QEMU ratio
for c in $CASES; do
	o=$tmp/ours-$c.json
	q=$tmp/qemu-$c.json
	[ "$qemu" = yes ] || q=/dev/null
	if [ "$(field valid "$o")" != true ]; then
		printf '%-4s %s\n' "$c" "our run was broken: no figures"
		continue
	fi
	op=$(field pairs_per_s "$o"); qp=$(field pairs_per_s "$q")
	of=$(field frames_per_s "$o"); qf=$(field frames_per_s "$q")
	ob=$(field payload_bytes_per_s "$o"); qb=$(field payload_bytes_per_s "$q")
	on=$(field ns_per_frame "$o"); qn=$(field ns_per_frame "$q")
	printf '%-4s %-22s %14s %14s %10s\n' "$c" "Mpairs/s" \
		"$(fmt "$op" 1e6 3)" "$(fmt "$qp" 1e6 3)" "$(ratio "$op" "$qp")"
	printf '%-4s %-22s %14s %14s %10s\n' "$c" "Mframes/s (both sides)" \
		"$(fmt "$of" 1e6 3)" "$(fmt "$qf" 1e6 3)" "$(ratio "$of" "$qf")"
	printf '%-4s %-22s %14s %14s %10s\n' "$c" "payload GB/s compared" \
		"$(fmt "$ob" 1e9 3)" "$(fmt "$qb" 1e9 4)" "$(ratio "$ob" "$qb")"
	printf '%-4s %-22s %14s %14s\n' "$c" "ns per frame (wall)" \
		"$(fmt "$on" 1 1)" "$(fmt "$qn" 1 1)"
	if [ "$qemu" = yes ] && [ -s "$q" ]; then
		printf '%-4s %-22s %14s %14s\n' "$c" "us CPU per frame" \
			"$(fmt "$on" 1000 3)" "$(fmt "$(field qemu_cpu_us_per_frame "$q")" 1 2)"
		note="QEMU: $(field checkpoints "$q") checkpoint requests, $(field not_released "$q") frames not released"
		[ "$(field qemu_died "$q")" = 0 ] || note="$note, QEMU DIED"
		[ "$(field valid "$q")" = true ] ||
			note="$note; QEMU's figures NOT VALID (they assume every frame came out)"
		if [ "$c" = tcp ]; then
			note="$note; secondary segments $(field secondary_mss "$q") bytes, sequence numbers pre-shifted"
			fb=$(field fallback "$q")
			[ "$fb" = null ] || note="$note (FALLBACK to identical segmentation: $fb)"
		fi
		echo "     $note"
	fi
done
pf=$(field payload_bytes_per_s "$tmp/ours-tcp-pf.json")
[ "$(field valid "$tmp/ours-tcp-pf.json")" = true ] || pf=
printf '%-4s %-22s %14s\n' tcp "GB/s, prefetch i+4" "$(fmt "$pf" 1e9 3)"
hu=$(field pairs_per_s "$tmp/ours-udp-hot.json")
[ "$(field valid "$tmp/ours-udp-hot.json")" = true ] || hu=
ht=$(field payload_bytes_per_s "$tmp/ours-tcp-hot.json")
[ "$(field valid "$tmp/ours-tcp-hot.json")" = true ] || ht=
printf '%-4s %-22s %14s\n' udp "Mpairs/s, in cache" "$(fmt "$hu" 1e6 3)"
printf '%-4s %-22s %14s\n' tcp "GB/s, in cache" "$(fmt "$ht" 1e9 3)"
echo "Targets (one core): udp >= 5 Mpps, tcp >= 5 GB/s compared. Ours excludes I/O;"
echo "QEMU's figures include its socket I/O and parsing (see docs/benchmarks.md)."
echo "'in cache': frames read just before they are pushed (untimed), as frames"
echo "the kernel has just copied into the AF_XDP ring are; the other rows read"
echo "every frame from DRAM (a 1.3 GB TCP stream), the worst case."
exit "$status"
