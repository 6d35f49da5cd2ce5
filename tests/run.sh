#!/bin/bash
# Runs every test layer this machine supports and ends with one line
# "N passed, N failed" over all of them. Exit status 1 if anything failed.
#   unit         cmocka binaries build/tests/test_* (always)
#   cli          tests/cli/*.sh against build/colo-proxy (always)
#   bpf          cmocka binaries build/tests/bpf/test_* (root only; BPF_PROG_TEST_RUN)
#   integration  tests/integration/*.sh (root only; network namespaces)
#   e2e          build/tests/e2e/test_* and tests/e2e/*.sh (real QEMU, when installed)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
passed=0
failed=0

count_cmocka() {	# $1 = output file
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -1)
	echo "${p:-0} ${f:-0}"
}

count_plain() {		# last "N passed, N failed" line of a script
	sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$1" | tail -1
}

run_layer() {		# $1 = layer name, $2 = counter, rest = commands
	local layer=$1 counter=$2 t out rc p f
	shift 2
	for t in "$@"; do
		out=$(mktemp)
		"$t" >"$out" 2>&1
		rc=$?
		read -r p f <<<"$($counter "$out")"
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1	# crashed or failed without saying how many
		fi
		if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
			cat "$out"
		fi
		printf '%-12s %-40s %4d passed %4d failed\n' "$layer" "${t##*/}" "$p" "$f"
		passed=$((passed + p))
		failed=$((failed + f))
		rm -f "$out"
	done
}

shopt -s nullglob

programs() {		# the executables among the arguments (not .o/.d files)
	local f
	for f in "$@"; do
		case $f in *.o|*.d) continue ;; esac
		[ -x "$f" ] && [ -f "$f" ] && echo "$f"
	done
}

mapfile -t units < <(programs "$BUILD"/tests/test_*)
[ ${#units[@]} -gt 0 ] || { echo "no unit test binaries in $BUILD/tests: run make" >&2; exit 1; }
run_layer unit count_cmocka "${units[@]}"
run_layer cli count_plain tests/cli/*.sh

root_layer() {		# $1 = layer, $2 = counter, rest = tests
	local layer=$1 counter=$2
	shift 2
	if [ $# -eq 0 ]; then
		echo "$layer: no tests in this layer yet"
	elif [ "$(id -u)" -ne 0 ]; then
		echo "$layer: skipped (needs root)"
	else
		run_layer "$layer" "$counter" "$@"
	fi
}

mapfile -t bpf_bins < <(programs "$BUILD"/tests/bpf/test_*)
root_layer bpf count_cmocka "${bpf_bins[@]}"
root_layer integration count_plain tests/integration/*.sh
mapfile -t e2e_bins < <(programs "$BUILD"/tests/e2e/test_*)
e2e_scripts=(tests/e2e/*.sh)
if [ $((${#e2e_bins[@]} + ${#e2e_scripts[@]})) -eq 0 ]; then
	echo "e2e: no tests in this layer yet"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	echo "e2e: skipped (qemu-system-x86_64 not installed: tools/setup.sh installs it)"
else
	run_layer e2e count_cmocka "${e2e_bins[@]}"
	run_layer e2e count_plain "${e2e_scripts[@]}"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
