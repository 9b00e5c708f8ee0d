#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [DIR]: the uapi suite with nestor.ko loaded (TAP on stdout):
# uapi_ioctl, uapi_genl, uapi_lib, uapi_console, uapi_mem, uapi_ident,
# uapi_cap (packet capture), nestorctl-errors.sh loaded.  DIR holds the
# built tests (default: this script's directory).  After rmmod, run
# "nestorctl-errors.sh unloaded" as well.  POSIX sh (busybox).
dir=${1:-$(cd "$(dirname "$0")" && pwd)}
failed=0
for t in uapi_ioctl uapi_genl uapi_lib uapi_console uapi_mem uapi_ident uapi_cap; do
	echo "# $t"
	if [ -x "$dir/$t" ]; then
		"$dir/$t" || failed=1
	else
		echo "not ok - $t: not built (in $dir)"
		failed=1
	fi
done
echo "# nestorctl-errors.sh loaded"
sh "$dir/nestorctl-errors.sh" loaded || failed=1
exit $failed
