#!/bin/sh
# L0 suite fragment (see selftests/l0-suite.sh): the uapi negative tests,
# with nestor.ko loaded.  The "unloaded" checks run after rmmod.
exec sh /nestor/bin/run.sh /nestor/bin
