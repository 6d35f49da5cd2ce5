#!/bin/bash
# Installs what colo-proxy needs to build and test on Debian 12, and nothing
# when all of it is present. Usage: tools/setup.sh
# QEMU is there for the e2e tests (QMP) and for `make bench`, which races
# QEMU's own colo-compare.
set -eu

pkgs=(make gcc clang llvm pkg-config libbpf-dev libxdp-dev bpftool
      libpcap-dev libcmocka-dev libjansson-dev tcpdump python3 iproute2
      ethtool util-linux qemu-system-x86)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#pkgs[@]} packages present"
	exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: need root to run apt-get; run: sudo $0 $*" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup: apt-get update"
apt-get update -q
echo "setup: apt-get install"
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
