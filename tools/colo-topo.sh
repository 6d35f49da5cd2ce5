#!/bin/bash
# Builds (and removes) the single-host COLO test topology out of network
# namespaces and veth pairs:
#
#   PREFIX-cli ns             root ns                    PREFIX-pvm ns
#   cli0 192.0.2.1  ---veth--- PREFIXc  (client NIC)
#        2001:db8::1            PREFIXp  (PVM tap) ---veth--- vm0 192.0.2.10
#                               PREFIXs  (SVM tap) ---veth--- vm0 (PREFIX-svm ns)
#
# The PVM and the SVM have the same MAC (02:00:00:00:00:10) and the same
# addresses (192.0.2.10/24, 2001:db8::10/64). The root-ns ends carry no
# address and no IPv6; without XDP on them, frames go nowhere.
#
# Usage: colo-topo.sh up PREFIX        create it (fails if PREFIX-cli exists)
#        colo-topo.sh down PREFIX      remove everything (idempotent)
#        colo-topo.sh bridge PREFIX    plain mode: bridge br-PREFIX joins the
#                                      client NIC and the PVM tap
#        colo-topo.sh unbridge PREFIX  remove the bridge (idempotent)
# PREFIX: letters, digits, '-', at most 12 characters (br-PREFIX <= 15).
# Prints every command it runs; -q as first argument makes it quiet.
#
# Inside the namespaces: IPv6 without DAD, router solicitations or RAs, MLD
# reports repeated within milliseconds (so the unsolicited noise is over
# before a test starts), GRO on (native XDP redirect into a veth needs it on
# the receiving end) and tx checksum offload off (so no frame leaves a
# namespace with a partial checksum: XDP and AF_XDP carry bytes, not the
# skb's checksum state; it also turns TSO off, as a VM's NIC would segment).
set -u

VM_MAC=02:00:00:00:00:10
CLI_MAC=02:00:00:00:00:01
quiet=0

say() {
	[ "$quiet" -eq 1 ] || echo "+ $*"
}

run() {		# CMD...: print and run, fail loudly
	say "$@"
	"$@" || { echo "colo-topo: failed: $*" >&2; return 1; }
}

try() {		# CMD...: print and run, ignore failure (for teardown)
	say "$@"
	"$@" 2>/dev/null || true
}

in_ns() {	# NS CMD...: run CMD in the network namespace NS
	local ns=$1
	shift
	run nsenter --net="/run/netns/$ns" "$@"
}

ns_sysctls() {	# NS IFACE: quiet IPv6 in namespace NS on IFACE
	local ns=$1 ifc=$2 c
	for c in all default "$ifc"; do
		in_ns "$ns" sysctl -q -w \
			"net.ipv6.conf.$c.accept_ra=0" \
			"net.ipv6.conf.$c.router_solicitations=0" \
			"net.ipv6.conf.$c.accept_dad=0" \
			"net.ipv6.conf.$c.dad_transmits=0" \
			"net.ipv6.conf.$c.mldv1_unsolicited_report_interval=1" \
			"net.ipv6.conf.$c.mldv2_unsolicited_report_interval=1" || return 1
	done
}

# make_end NS IFACE ROOTIF MAC: veth ROOTIF (root ns) <-> IFACE in NS.
make_end() {
	local ns=$1 ifc=$2 rootif=$3 mac=$4
	run ip link add "$rootif" type veth peer name "$ifc" netns "$ns" &&
	run sysctl -q -w "net.ipv6.conf.$rootif.disable_ipv6=1" &&
	run ip link set "$rootif" up &&
	ns_sysctls "$ns" "$ifc" &&
	run ip -n "$ns" link set "$ifc" address "$mac" &&
	run ip -n "$ns" link set "$ifc" up &&
	in_ns "$ns" ethtool -K "$ifc" gro on tx off >/dev/null
}

addrs() {	# NS IFACE V4 V6
	run ip -n "$1" addr add "$3/24" dev "$2" &&
	run ip -n "$1" addr add "$4/64" dev "$2" nodad
}

topo_up() {
	local p=$1 ns
	for ns in cli pvm svm; do
		run ip netns add "$p-$ns" &&
		run ip -n "$p-$ns" link set lo up || return 1
	done
	make_end "$p-cli" cli0 "${p}c" "$CLI_MAC" &&
	addrs "$p-cli" cli0 192.0.2.1 2001:db8::1 &&
	make_end "$p-pvm" vm0 "${p}p" "$VM_MAC" &&
	addrs "$p-pvm" vm0 192.0.2.10 2001:db8::10 &&
	make_end "$p-svm" vm0 "${p}s" "$VM_MAC" &&
	addrs "$p-svm" vm0 192.0.2.10 2001:db8::10 || return 1
	say "topology $p up: client ${p}c, PVM tap ${p}p, SVM tap ${p}s"
}

topo_unbridge() {
	local p=$1
	if ip link show "br-$p" >/dev/null 2>&1; then
		try ip link del "br-$p"
	fi
}

topo_down() {
	local p=$1 ifc ns
	topo_unbridge "$p"
	for ifc in "${p}c" "${p}p" "${p}s"; do
		if ip link show "$ifc" >/dev/null 2>&1; then
			try ip link del "$ifc"
		fi
	done
	for ns in cli pvm svm; do
		if [ -e "/run/netns/$p-$ns" ]; then
			try ip netns del "$p-$ns"
		fi
	done
	return 0
}

topo_bridge() {
	local p=$1 br=br-$1
	ip link show "${p}c" >/dev/null 2>&1 ||
		{ echo "colo-topo: no ${p}c: run '$0 up $p' first" >&2; return 1; }
	run ip link add "$br" type bridge stp_state 0 forward_delay 0 &&
	run sysctl -q -w "net.ipv6.conf.$br.disable_ipv6=1" &&
	run ip link set "${p}c" master "$br" &&
	run ip link set "${p}p" master "$br" &&
	run ip link set "$br" up
}

if [ "${1:-}" = -q ]; then
	quiet=1
	shift
fi
if [ $# -ne 2 ] || ! [[ $2 =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,11}$ ]]; then
	echo "Usage: $0 [-q] up|down|bridge|unbridge PREFIX (PREFIX: [A-Za-z0-9-], 1..12 chars)" >&2
	exit 2
fi
case $1 in
up)
	if [ -e "/run/netns/$2-cli" ] || ip link show "${2}c" >/dev/null 2>&1; then
		echo "colo-topo: $2 already exists: run '$0 down $2' first" >&2
		exit 1
	fi
	topo_up "$2" || { topo_down "$2" >/dev/null; exit 1; } ;;
down)
	topo_down "$2" ;;
bridge)
	topo_bridge "$2" || { topo_unbridge "$2"; exit 1; } ;;
unbridge)
	topo_unbridge "$2" ;;
*)
	echo "colo-topo: unknown command '$1'; use up, down, bridge or unbridge" >&2
	exit 2 ;;
esac
