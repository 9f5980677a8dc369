# SPDX-License-Identifier: GPL-2.0-or-later
#
# Top-level driver of the fork.  Every target installs what is missing
# (buildsys/install-deps.sh) and prepares the QEMU tree (./configure) first,
# so that each of them works on a fresh Debian 12 machine.
#
#   make            build qemu-system-x86_64 and the qtests
#   make check      run every test; ends with "N passed, N failed"
#   make demo       boot a Linux guest on the split-header device, then
#                   on the vhost-user backend (make demo-vhost-user: alone)
#   make bench      receive-path instructions per frame (callgrind): classic,
#                   split, inline, RSS, a tap peer; a plot of them
#   make bench-vhost-user  the vhost-user backend: receive instructions
#                   per frame beside the device's, packet rate against
#                   DPDK's vhost PMD (installs DPDK first: bench-deps)
#   make guest      test guest image: Debian's 6.12 cloud kernel, the
#                   patched virtio_net (guest/linux/patches), tcp_mmap,
#                   ethtool, guest/tools (xdp-probe)
#   make e2e        tcp_mmap between two guests (guest/e2e-tcp-mmap.sh)
#   make bench-e2e  tcp_mmap MB/s and CPU per MB: stock vs patched driver
#   make guest-kasan  the test guest with a KASAN kernel, virtio_net built
#                   in (build/guest-kasan)
#   make checkpatch the guest driver series through the kernel's checkpatch
#   make tools      our programs outside QEMU (top-level meson.build)
#   make check-sanitize / check-fuzz / check-selftest
#                   one part of make check alone
#   make fuzz-long [TARGET=virtio-net-split-hdr] [FUZZ_SECONDS=3600]
#                   one fuzz target for that long, its corpus kept in
#                   build/fuzz-long/TARGET from run to run; TARGET is
#                   policy, generic-fuzz or virtio-net-split-hdr
#   make refresh-patches   export hook commits of build/qemu to patches/

SRC := $(CURDIR)
BUILD ?= $(SRC)/build
TREE := $(BUILD)/qemu
QBUILD := $(TREE)/build
GUEST := $(BUILD)/guest
GUEST_KASAN := $(BUILD)/guest-kasan
LINUX := $(BUILD)/linux
# The guest's own programs: guest/tools/NAME.c is /bin/NAME in the image.
GUEST_TOOLS := $(BUILD)/guest-tools
GUEST_TOOL_FILES := $(foreach t,$(basename $(notdir $(wildcard guest/tools/*.c))),\
	$(GUEST_TOOLS)/$(t):/bin/$(t))
NINJA_TARGETS := qemu-system-x86_64 tests/qtest/qos-test \
	contrib/vhost-user-net-split/vhost-user-net-split

# Let clones in other folders (CI's) share ccache's results.
export CCACHE_BASEDIR := $(SRC)
export CCACHE_NOHASHDIR := true

# Things that change the prepared tree, not just its build.
PREP_INPUTS := configure $(wildcard patches/*.patch) \
	$(shell git -C $(SRC) ls-files --cached --others --exclude-standard \
	    hw include tests docs contrib qapi 2>/dev/null)

.PHONY: all deps prepare build tools guest guest-kasan check demo demo-vhost-user bench e2e bench-e2e checkpatch \
	bench-deps bench-vhost-user bench-vhost-user-callgrind bench-vhost-user-rate \
	sanitize-build fuzz-build check-sanitize check-fuzz check-selftest \
	fuzz-long \
	refresh-patches clean distclean

all: build

deps:
	@NEED_DEB_SRC=$$(test -f downloads/qemu_10.0.2+ds.orig.tar.xz || \
	    test -f $(TREE)/.git/splithdr-source || echo 1) \
	    buildsys/install-deps.sh

$(QBUILD)/.splithdr-prepared: $(PREP_INPUTS) | deps
	./configure --builddir=$(BUILD)
	@touch $@

prepare: deps $(QBUILD)/.splithdr-prepared

build: prepare
	@echo "build: ninja $(NINJA_TARGETS) (a full build takes ~15 min on 2 cores)"
	ninja -C $(QBUILD) $(NINJA_TARGETS)
	$(MAKE) -s -C $(QBUILD) pc-bios/optionrom/all

# Our own programs (top-level meson.build), built against the prepared tree.
tools: prepare
	@test -f $(BUILD)/tools/build.ninja || \
	    meson setup $(BUILD)/tools $(SRC) \
	        -Dqemu_tree=$(patsubst $(SRC)/%,%,$(TREE))
	ninja -C $(BUILD)/tools

# The kernel set is the newest complete Debian 6.12 cloud one apt knows;
# every step has its own stamp, so a changed patch series rebuilds the
# module and then the image, and nothing else.
guest: deps
	guest/linux/fetch-kernel.sh $(LINUX)
	guest/linux/build-driver.sh $(LINUX) $(LINUX)/driver
	guest/linux/build-tcp-mmap.sh $(LINUX) $(LINUX)/tcp_mmap
	guest/tools/build-tools.sh $(GUEST_TOOLS)
	GUEST_KERNEL_DEB=$(LINUX)/$$(cat $(LINUX)/image-deb) \
	GUEST_HOST_BINARIES="ethtool $${GUEST_HOST_BINARIES:-}" \
	GUEST_EXTRA_FILES="$(LINUX)/driver/virtio_net.ko:/lib/modules/split/virtio_net.ko $(LINUX)/tcp_mmap/tcp_mmap:/bin/tcp_mmap $(GUEST_TOOL_FILES) $${GUEST_EXTRA_FILES:-}" \
	    guest/build-image.sh $(GUEST)

# A small KASAN kernel (allnoconfig + guest/linux/kasan.config) from the
# same linux-source, the series applied, virtio_net built in (~15 min on
# two busy cores with a cold ccache, ~2 min warm; stamped: a changed patch
# or fragment rebuilds incrementally, in seconds to minutes), then
# build/guest's initramfs with it.
guest-kasan: guest
	guest/linux/build-kasan-kernel.sh $(LINUX) $(BUILD)/linux-kasan
	guest/build-kasan-image.sh $(GUEST) $(BUILD)/linux-kasan $(GUEST_KASAN)

checkpatch: deps
	guest/linux/fetch-kernel.sh $(LINUX)
	guest/linux/checkpatch.sh $(LINUX)

# QEMU built by clang with ASan, UBSan and libFuzzer hooks, in
# build/qemu/build-sanitize: sanitized qtests and qemu-fuzz-x86_64.
sanitize-build: prepare
	./configure --builddir=$(BUILD) --enable-sanitizers
	@echo "sanitize-build: ninja (a full build takes ~15 min on 2 cores)"
	ninja -C $(TREE)/build-sanitize $(NINJA_TARGETS) qemu-fuzz-x86_64

# The policy's libFuzzer target (top-level meson.build, clang).
fuzz-build: prepare
	@test -f $(BUILD)/fuzz/build.ninja || \
	    CC=clang-14 meson setup $(BUILD)/fuzz $(SRC) -Dfuzzing=true \
	        -Dqemu_tree=$(patsubst $(SRC)/%,%,$(TREE))
	ninja -C $(BUILD)/fuzz

check: build tools guest guest-kasan sanitize-build fuzz-build
	buildsys/run-checks.sh --build $(BUILD)

check-sanitize: sanitize-build
	buildsys/run-checks.sh --build $(BUILD) --suite sanitize

check-fuzz: fuzz-build sanitize-build
	buildsys/run-checks.sh --build $(BUILD) --suite fuzz --suite qemu-fuzz

# The accounting of run-checks.sh on fake runners: needs nothing built.
check-selftest:
	@mkdir -p $(BUILD)
	buildsys/run-checks.sh --build $(BUILD) --suite selftest

TARGET ?= virtio-net-split-hdr
FUZZ_SECONDS ?= 3600
fuzz-long: $(if $(filter policy,$(TARGET)),fuzz-build,sanitize-build)
	buildsys/run-checks.sh --build $(BUILD) --fuzz-long $(TARGET) \
	    --seconds $(FUZZ_SECONDS)

demo: build guest
	guest/demo.sh --qemu $(QBUILD)/qemu-system-x86_64 --image $(GUEST) \
	    --backend $(QBUILD)/contrib/vhost-user-net-split/vhost-user-net-split

# Part 3 of the demo alone: the guest on the vhost-user backend (slirp).
demo-vhost-user: build guest
	guest/demo.sh --qemu $(QBUILD)/qemu-system-x86_64 --image $(GUEST) \
	    --backend $(QBUILD)/contrib/vhost-user-net-split/vhost-user-net-split \
	    --only vhost-user

bench: build
	bench/splithdr-bench.sh --build $(BUILD)

# DPDK for the vhost-user benchmarks only: make check does not need it.
bench-deps: deps
	buildsys/install-deps.sh --bench

# The callgrind half runs make bench's device figures too (it prints them
# beside the backend's); the rate half wants an idle machine to mean much.
bench-vhost-user: bench-vhost-user-callgrind bench-vhost-user-rate

bench-vhost-user-callgrind: build bench-deps
	bench/vhost-user-callgrind.sh --build $(BUILD)

bench-vhost-user-rate: build bench-deps
	bench/vhost-user-rate.sh --build $(BUILD)

e2e: build guest
	guest/e2e-tcp-mmap.sh --qemu $(QBUILD)/qemu-system-x86_64 --image $(GUEST)

bench-e2e: build guest
	bench/e2e-bench.sh --qemu $(QBUILD)/qemu-system-x86_64 --image $(GUEST)

refresh-patches:
	buildsys/refresh-patches.sh $(TREE) $(SRC)/patches

clean:
	if [ -d $(QBUILD) ]; then ninja -C $(QBUILD) clean; fi

distclean:
	rm -rf $(BUILD)
