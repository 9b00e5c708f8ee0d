#!/bin/bash
# Extracts some paths of Debian's linux-source-6.1 tarball into DEST (under
# NESTOR_CACHE): checkpatch, KVM's selftest library.  Never committed.
# usage: get-linux-source.sh DEST PATH...
set -euo pipefail

dest=$1
shift
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
if [[ -z $tarball ]]; then
	apt-get install -y --no-install-recommends linux-source-6.1 >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends linux-source-6.1 >/dev/null; }
	tarball=/usr/src/linux-source-6.1.tar.xz
fi
stamp="$dest/.stamp-$(stat -c %Y "$tarball")"
missing=()
for p in "$@"; do
	[[ -e $dest/$p && -e $stamp ]] || missing+=("linux-source-6.1/$p")
done
((${#missing[@]})) || exit 0
mkdir -p "$dest"
tar -xJf "$tarball" -C "$dest" --strip-components=1 "${missing[@]}"
touch "$stamp"
