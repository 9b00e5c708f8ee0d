#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh PAYLOAD ROOTFS: adds what the capture suite (and the capture
# benchmark) need to an L0 payload: iproute2's ip (netns, veth), nft,
# iperf3, OpenBSD nc, tshark, tcpdump from Debian (installed with apt when
# missing; their libraries are bundled by payload.sh's bundle_libs), the
# data tshark reads, and a "modules" file: the kernel modules the suite
# loads (make_payload passes it to mkinitramfs.sh --modules).
set -euo pipefail

p=${1:?payload dir}
rootfs=${2:?rootfs dir}

pkgs=(iproute2 nftables iperf3 netcat-openbsd tshark tcpdump libpcap-dev)
missing=()
for pkg in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$pkg")
done
if ((${#missing[@]})); then
	echo "capture/build.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update >&2 &&
		  apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
fi

mkdir -p "$p/bin" "$rootfs/usr/share" "$rootfs/run/netns" "$rootfs/etc"
# Names in /nestor/bin come first in PATH: iproute2's ip hides busybox's.
cp /usr/sbin/ip "$p/bin/ip"
cp /usr/sbin/nft /usr/bin/iperf3 /usr/bin/tshark /usr/bin/tcpdump "$p/bin/"
cp "$(readlink -f /bin/nc.openbsd)" "$p/bin/nc"
cp -r /usr/share/wireshark "$rootfs/usr/share/"
# tshark wants to know who it runs as; iperf3 and nc look up services.
[[ -f /etc/services ]] && cp /etc/services "$rootfs/etc/"
cp "$(dirname "${BASH_SOURCE[0]}")"/*.sh "$p/bin/" 2>/dev/null || true
rm -f "$p/bin/build.sh"
echo "veth tun macvtap nf_tables nft_nat nft_chain_nat nft_masq nft_ct nf_conntrack" \
	>"$p/modules"
