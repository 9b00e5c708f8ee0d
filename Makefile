# SPDX-License-Identifier: GPL-2.0
#
# nestor: kernel module (kmod/nestor.ko) and tools.
#
#   make                 module against KDIR, the tools, the L2 guest module
#   make check           the whole test suite (emulated L0s: SVM and VMX)
#   make demo [VMX=1]    a sandbox L0 running a real L1 and L2s
#   make bench           the benchmarks (hook overhead, capture, console,
#                        introspection, remote ps); figures go to
#                        $(NESTOR_BUILD)/bench
#   make style | sparse  checkpatch --strict, sparse
#   make install | clean

KDIR ?= /lib/modules/$(shell uname -r)/build
NESTOR_CACHE ?= $(CURDIR)/.cache
NESTOR_BUILD ?= $(CURDIR)/build
export NESTOR_CACHE NESTOR_BUILD

KERNEL_SOURCES := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h \
					  netfilter/*.c netfilter/*.h)) \
		  uapi/linux/nestor.h

.PHONY: all module tools guest install modules_install clean style sparse \
	check unit demo bench

all: module tools guest

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools

# The L2 guest module (Documentation/identity.rst), for an L2 kernel:
# GUEST_KDIR defaults to KDIR (Debian 6.1 headers in CI).
GUEST_KDIR ?= $(KDIR)
guest:
	$(MAKE) -C tools/guest KDIR=$(GUEST_KDIR)

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) modules_install

# The tools' install also puts uapi/linux/nestor.h under PREFIX/include.
install: modules_install
	$(MAKE) -C tools install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		find kmod netfilter -name '*.o' -o -name '*.ko' -o -name '*.mod*' \
			-o -name '.*.cmd' | xargs rm -f
	$(MAKE) -C tools clean
	rm -rf $(NESTOR_BUILD)

# checkpatch.pl comes from Debian's linux-source-6.1 (never vendored).
CHECKPATCH_DIR := $(NESTOR_CACHE)/checkpatch
style:
	selftests/harness/get-linux-source.sh $(CHECKPATCH_DIR) \
		scripts/checkpatch.pl scripts/spelling.txt \
		scripts/const_structs.checkpatch
	$(CHECKPATCH_DIR)/scripts/checkpatch.pl --strict --no-tree \
		--show-types --terse -f $(KERNEL_SOURCES)

sparse:
	@command -v sparse >/dev/null || \
		apt-get install -y --no-install-recommends sparse
	mkdir -p $(NESTOR_BUILD)
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 W=1 modules 2>&1 | \
		tee $(NESTOR_BUILD)/sparse.log
	@! grep -E "(warning|error):" $(NESTOR_BUILD)/sparse.log

unit:
	$(MAKE) -C selftests/unit run

check:
	selftests/check.sh

demo:
	selftests/realistic/demo.sh $(if $(VMX),--backend vmx,--backend svm)

# Every benchmark runs; any failing fails the target.
bench:
	selftests/bench/run.sh; rc=$$?; selftests/bench/capture.sh || rc=1; \
		selftests/bench/console.sh || rc=1; \
		selftests/bench/introspect.sh || rc=1; \
		selftests/bench/ps-remote.sh || rc=1; exit $$rc
