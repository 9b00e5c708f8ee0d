# Helpers for assembling L0 payloads, shared by the scripts that build them
# (selftests/check.sh, selftests/bench/run.sh). Source it from bash:
#   . selftests/harness/payload.sh

# bundle_libs DIR ROOTFS: copies the shared libraries (and the dynamic
# loader) of every dynamic ELF executable under DIR into ROOTFS at the same
# paths, for mkinitramfs.sh --rootfs: the L0 initramfs has no libc of its
# own, and nested_l2 links glibc and libmnl dynamically (see
# selftests/nested/README.md).
bundle_libs() {
	local dir=$1 rootfs=$2 f lib
	find "$dir" -type f -perm -u+x | while read -r f; do
		# Not "file | grep -q": under pipefail, grep quitting early can
		# make the pipeline fail and skip a dynamic binary.
		case "$(file -b "$f" 2>/dev/null || true)" in
		*'dynamically linked'*) ;;
		*) continue ;;
		esac
		ldd "$f" | grep -oE '/[^ ]+' | while read -r lib; do
			mkdir -p "$rootfs$(dirname "$lib")"
			cp -Ln "$lib" "$rootfs$lib" 2>/dev/null || true
		done
	done
}
