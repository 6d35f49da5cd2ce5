#!/bin/bash
# CLI tests for `colo-proxy compare` and the command dispatch, run against the
# fixture captures in tests/data (see tests/data/README.md).
# Prints "ok NAME" / "FAIL NAME: why" per check, then "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PROXY=$BUILD/colo-proxy
DATA=tests/data
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# check NAME CMD...: CMD succeeds, or prints why it did not.
check() {
	local name=$1 why
	shift
	if why=$("$@" 2>&1); then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: ${why:-command failed}"
		failed=$((failed + 1))
	fi
}

# run ARGS...: run colo-proxy; stdout in $TMP/out, stderr in $TMP/err, status in $rc.
run() {
	"$PROXY" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

status_is() {	# EXPECTED: the last run's exit status
	[ "$rc" -eq "$1" ] && return 0
	echo "exit status $rc, expected $1; stderr: $(head -c 300 "$TMP/err")"
	return 1
}

out_has() {	# REGEX: a line of the last run's stdout matches
	grep -Eq -- "$1" "$TMP/out" && return 0
	echo "stdout lacks /$1/: $(head -c 300 "$TMP/out")"
	return 1
}

err_has() {	# STRING: the last run's stderr contains it
	grep -Fq -- "$1" "$TMP/err" && return 0
	echo "stderr lacks '$1': $(head -c 300 "$TMP/err")"
	return 1
}

out_empty() {
	[ ! -s "$TMP/out" ] && return 0
	echo "stdout not empty: $(head -c 300 "$TMP/out")"
	return 1
}

# json_ok EXPR: the last line of stdout is a JSON object d for which the
# Python expression EXPR holds.
json_ok() {
	python3 -c '
import json, sys
lines = open(sys.argv[1], "rb").read().decode("utf-8").splitlines()
if not lines:
    sys.exit("no output")
d = json.loads(lines[-1])
if not isinstance(d, dict):
    sys.exit("last line is not a JSON object")
if not eval("(" + sys.argv[2] + "\n)"):
    sys.exit("false: %s\n  json: %s" % (sys.argv[2], lines[-1][:600]))
' "$TMP/out" "$1"
}

pair() {	# NAME: the primary and secondary capture paths
	local n ext
	for ext in pcap pcapng; do
		if [ -e "$DATA/$1-primary.$ext" ]; then
			echo "$DATA/$1-primary.$ext $DATA/$1-secondary.$ext"
			return
		fi
	done
	echo "$DATA/$1-primary.pcap $DATA/$1-secondary.pcap"
}

# --- dispatch, help, version ---

t_help() {
	run "$@" && status_is 0 && out_has '^Usage: colo-proxy' &&
		out_has '^  compare ' || return 1
}

t_noargs() {
	run
	status_is 2 && out_empty && err_has 'Usage: colo-proxy'
}

t_version() {
	run --version
	status_is 0 && out_has "^colo-proxy $(cat VERSION)( |\$)"
}

t_cmd_help() {
	run "$@"
	status_is 0 && out_has '^Usage: colo-proxy compare ' &&
		out_has '--json' && out_has '--timeout' && out_has '--pcap-out'
}

t_unknown() {
	run frobnicate a b
	status_is 2 && out_empty && err_has "frobnicate" && err_has "--help"
}

t_help_unknown() {
	run help frobnicate
	status_is 2 && err_has "frobnicate"
}

t_bad_usage() {	# ARGS...: exit 2, nothing on stdout, a pointer to --help
	run compare "$@"
	status_is 2 && out_empty && err_has "--help"
}

check help "t_help" --help
check help-short "t_help" -h
check help-cmd "t_help" help
check no-args t_noargs
check version t_version
check help-compare t_cmd_help help compare
check compare-help t_cmd_help compare --help
check compare-help-short t_cmd_help compare -h
check unknown-command t_unknown
check help-unknown-command t_help_unknown
check bad-option t_bad_usage --frobnicate $(pair demo)
check missing-args t_bad_usage "$DATA/demo-primary.pcap"
check too-many-args t_bad_usage $(pair demo) "$DATA/demo-primary.pcap"
check timeout-zero t_bad_usage --timeout 0 $(pair demo)
check timeout-negative t_bad_usage --timeout -5 $(pair demo)
check timeout-words t_bad_usage --timeout soon $(pair demo)
check timeout-suffix t_bad_usage --timeout 10ms $(pair demo)
check timeout-no-arg t_bad_usage --timeout

# --- verdicts ---

no_div_lines() {
	grep -q '^divergence #' "$TMP/out" || return 0
	echo "unexpected divergence line: $(grep -m1 '^divergence #' "$TMP/out")"
	return 1
}

t_same() {	# NAME
	run compare $(pair "$1")
	status_is 0 && out_has '^verdict: +same$' && out_has '^divergences: +0$' &&
		no_div_lines
}

t_same_json() {	# NAME
	run compare --json $(pair "$1")
	status_is 0 || return 1
	[ "$(wc -l <"$TMP/out")" -eq 1 ] || { echo "more than one line on stdout"; return 1; }
	json_ok 'd["verdict"] == "same" and d["divergences"] == [] and d["checkpoints"] == 0
		 and d["primary_packets"] > 0 and d["secondary_packets"] > 0
		 and d["released"] == d["primary_packets"] and d["dropped"] == d["secondary_packets"]
		 and d["compared_bytes"] > 0 and d["flows"] > 0'
}

for n in demo same-tcp same-ipv6; do
	check "same-$n" t_same "$n"
	check "same-$n-json" t_same_json "$n"
done

t_demo_counts() {
	run compare --json $(pair demo)
	status_is 0 && json_ok 'd["primary_packets"] == 24 and d["secondary_packets"] == 24
		and d["flows"] == 9'
}
check demo-counts t_demo_counts

# t_diverge NAME PYTHON-EXPR-ON-d: exit 1, a divergence line, and the JSON holds.
t_diverge() {
	run compare $(pair "$1")
	status_is 1 && out_has '^verdict: +diverge$' &&
		out_has '^divergence #1 at [0-9]+\.[0-9]{6}s: [a-z-]+ .* offset [0-9]+ byte ([0-9]+|-) primary frame ([0-9]+|-) secondary frame ([0-9]+|-)$' &&
		out_has '^checkpoints: +[1-9]' || return 1
	run compare --json $(pair "$1")
	status_is 1 && json_ok 'd["verdict"] == "diverge" and len(d["divergences"]) >= 1
		and d["divergence_count"] == len(d["divergences"]) and d["checkpoints"] >= 1
		and sum(d["by_reason"].values()) == d["divergence_count"]' &&
		json_ok "$2"
}

check diverge-tcp t_diverge diverge-tcp \
	'any(x["reason"] == "payload" and x["offset"] == 2000 and x["byte"] == 552
	     and "192.0.2.10:80" in x["flow"] and x["primary_frame"] and x["secondary_frame"]
	     for x in d["divergences"])'
t_diverge_tcp_line() {
	run compare $(pair diverge-tcp)
	status_is 1 &&
		out_has '^divergence #1 at [0-9.]+s: payload tcp 192\.0\.2\.10:80 > 192\.0\.2\.1:40000 offset 2000 byte 552 primary frame [0-9]+ secondary frame [0-9]+$' &&
		out_has '^divergences: +1 \(payload 1\)$'
}
check diverge-tcp-line t_diverge_tcp_line
check diverge-udp t_diverge diverge-udp \
	'any(x["reason"] == "datagram" and ":33002" in x["flow"] and x["offset"] == 2
	     for x in d["divergences"])'
check diverge-fin t_diverge diverge-fin \
	'any(x["reason"] == "tcp-fin" and x["offset"] == 2990 for x in d["divergences"])'
check missing t_diverge missing \
	'any(x["reason"] == "timeout" and ":33003" in x["flow"]
	     and x["primary_frame"] is not None and x["secondary_frame"] is None
	     for x in d["divergences"])'
check vlan-diverge t_diverge vlan-diverge \
	'all(x["reason"] == "timeout" for x in d["divergences"])
	 and any("vlan 10" in x["flow"] for x in d["divergences"])
	 and any("vlan 20" in x["flow"] for x in d["divergences"])'

t_quiet() {
	run compare -q $(pair diverge-tcp)
	status_is 1 && out_has '^verdict: +diverge$' && no_div_lines
}
check quiet t_quiet

t_timeout_opt() {
	run compare --json --timeout 50 $(pair demo)
	status_is 0 && json_ok 'd["timeout_ms"] == 50' || return 1
	run compare --json -t 1 $(pair missing)
	status_is 1 && json_ok 'd["timeout_ms"] == 1 and "timeout" in d["by_reason"]'
}
check timeout-option t_timeout_opt

t_stdin() {
	local p s
	read -r p s <<<"$(pair diverge-tcp)"
	"$PROXY" compare --json - "$s" <"$p" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	status_is 1 && json_ok 'd["divergences"][0]["offset"] == 2000'
}
check stdin-primary t_stdin

# --- bad input: exit 2, the file named on stderr ---

t_bad_input() {	# FILE-NAMED PRIMARY SECONDARY
	local named=$1
	shift
	run compare "$@"
	status_is 2 && err_has "$named" || return 1
	if grep -q '^verdict' "$TMP/out"; then
		echo "a verdict was printed"
		return 1
	fi
	run compare --json "$@"
	status_is 2 && err_has "$named" && out_empty
}

t_truncated() {
	t_bad_input truncated-primary.pcap $(pair truncated) && err_has "frame 24"
}
check truncated t_truncated
check truncated-as-secondary t_bad_input truncated-primary.pcap \
	"$DATA/demo-primary.pcap" "$DATA/truncated-primary.pcap"
check not-a-capture t_bad_input notacapture.pcap \
	"$DATA/notacapture.pcap" "$DATA/demo-secondary.pcap"
check not-a-capture-secondary t_bad_input notacapture.pcap \
	"$DATA/demo-primary.pcap" "$DATA/notacapture.pcap"
check nonexistent t_bad_input no-such-file.pcap \
	"$DATA/demo-primary.pcap" "$DATA/no-such-file.pcap"
check directory t_bad_input "$TMP" "$TMP" "$DATA/demo-secondary.pcap"

t_linktype() {	# a valid pcap that is not Ethernet (LINUX_SLL, 113)
	python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,65535,113))' \
		"$TMP/sll.pcap" || return 1
	t_bad_input sll.pcap "$TMP/sll.pcap" "$DATA/demo-secondary.pcap" && err_has "Ethernet"
}
check unsupported-linktype t_linktype

# --- --pcap-out ---

# t_pcap_out NAME: the divergence frames land in a pcap tcpdump can read.
t_pcap_out() {
	local f=$TMP/$1-div.pcap n want
	rm -f "$f"
	run compare --json --pcap-out "$f" $(pair "$1")
	status_is 1 || return 1
	want=$(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
n = sum((x["primary_frame"] is not None) + (x["secondary_frame"] is not None)
        for x in d["divergences"])
print(n if d["pcap_out"]["frames"] == n else -1)' "$TMP/out") || return 1
	[ "$want" -gt 0 ] || { echo "pcap_out.frames does not match the divergences"; return 1; }
	n=$(tcpdump -nr "$f" 2>"$TMP/tcpdump.err" | wc -l)
	[ "$n" -eq "$want" ] ||
		{ echo "tcpdump read $n frames, expected $want: $(cat "$TMP/tcpdump.err")"; return 1; }
	run compare -q -w "$f" $(pair "$1")
	out_has "^pcap-out: +$want frames? written to "
}
check pcap-out-tcp t_pcap_out diverge-tcp
check pcap-out-missing t_pcap_out missing
check pcap-out-vlan t_pcap_out vlan-diverge

t_pcap_out_tcp_frames() {	# the primary's frame first, then the secondary's
	tcpdump -nr "$TMP/diverge-tcp-div.pcap" 2>/dev/null | head -1 | grep -q 'length 1448' ||
		{ echo "first frame is not the primary's 1448-byte segment"; return 1; }
}
check pcap-out-order t_pcap_out_tcp_frames

t_pcap_out_same() {
	local f=$TMP/same.pcap
	run compare --pcap-out "$f" $(pair demo)
	status_is 0 && out_has '^pcap-out: +0 frames' || return 1
	[ "$(tcpdump -nr "$f" 2>/dev/null | wc -l)" -eq 0 ] || { echo "frames in $f"; return 1; }
}
check pcap-out-same t_pcap_out_same

t_pcap_out_bad() {
	run compare --pcap-out "$TMP/no/such/dir/x.pcap" $(pair diverge-tcp)
	status_is 2 && err_has "$TMP/no/such/dir/x.pcap"
}
check pcap-out-unwritable t_pcap_out_bad

t_pcap_out_error_removed() {
	local f=$TMP/err-out.pcap
	run compare --pcap-out "$f" $(pair truncated)
	status_is 2 || return 1
	[ ! -e "$f" ] || { echo "$f left behind after an error"; return 1; }
}
check pcap-out-removed-on-error t_pcap_out_error_removed

# --- JSON string escaping: file names are bytes ---

t_json_names() {
	local weird
	weird=$TMP/$(printf 'q"b\\s t\tn\001-\xff-\xc3\xbc.pcap')
	cp "$DATA/demo-primary.pcap" "$weird" || return 1
	run compare --json "$weird" "$DATA/demo-secondary.pcap"
	status_is 0 || return 1
	WEIRD=$weird json_ok 'd["primary_file"] == __import__("os").environ["WEIRD"].encode("utf-8", "surrogateescape").decode("utf-8", "replace")'
}
check json-escaping t_json_names

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
