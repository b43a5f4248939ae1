# The default Linux guest (see docs/linux-guest.md), included by the top Makefile.
# Everything lands in $(BUILD)/linux/:
#   vmlinuz            Debian's stock kernel (tools/linux-guest/fetch-kernel.sh;
#                      the .deb is downloaded once and cached in LINUX_DEB_CACHE)
#   vmlinux            the same kernel uncompressed, for the PVH entry
#                      (tools/linux-guest/vmlinux-pvh.py): no self-decompression
#   initrd.gz          busybox initramfs with tools/linux-guest/init
#   modules/           virtio, nvme and pvpanic modules of the same kernel, and
#   initrd-modules.gz  the initramfs with them (make linux-guest-modules)
#   linux0-disk.img    the default guest's 16 MiB RAM disk (empty)
#   *.cfg              guest-tests/linux/*.cfg, beside the files they name:
#                      default.cfg is what `make run` boots, the others are the
#                      scenarios of tests/system/test_linux.py
# Targets: linux-guest (all of the above but the modules initramfs),
# linux-guest-smoke (every init mode under bare QEMU), bench-boot (boot time and
# exits, bare against under Sidecore in one emulator, Bochs or with EMULATOR=svm
# QEMU/SVM, over rounds; not part of `make test`).

# Included before the top Makefile's first target: keep that target the default goal.
lg_saved_default_goal := $(.DEFAULT_GOAL)

# Set by the top Makefile; the default lets the tests run this file on its own
# (make -f tools/linux-guest/linux-guest.mk BUILD=DIR linux-guest).
BUILD ?= build
HOSTCC ?= gcc
LG_SRC   := guest-tests/linux
LG_TOOLS := tools/linux-guest
LG_OUT   := $(BUILD)/linux
LINUX_DEB_CACHE ?= $(LG_OUT)/debs
export LINUX_DEB_CACHE

LG_CONFIGS := $(patsubst $(LG_SRC)/%.cfg,$(LG_OUT)/%.cfg,$(wildcard $(LG_SRC)/*.cfg))
LINUX_GUEST := $(LG_OUT)/vmlinuz $(LG_OUT)/vmlinux $(LG_OUT)/initrd.gz $(LG_OUT)/initrd-modules.gz $(LG_CONFIGS)
# What `make run` boots.
LINUX_GUEST_DEFAULT := $(LG_OUT)/default.cfg

# Rerunning the script only re-unpacks the cached package.
$(LG_OUT)/vmlinuz: $(LG_TOOLS)/fetch-kernel.sh
	@echo "  KERNEL  $@"
	@$(LG_TOOLS)/fetch-kernel.sh $(LG_OUT)

$(LG_OUT)/vmlinux: $(LG_TOOLS)/vmlinux-pvh.py $(LG_OUT)/vmlinuz
	@echo "  VMLINUX $@"
	@$(LG_TOOLS)/vmlinux-pvh.py $(LG_OUT)/vmlinuz $@

$(LG_OUT)/initrd.gz: $(LG_TOOLS)/build-initramfs.sh $(LG_TOOLS)/init
	@echo "  INITRD  $@"
	@$(LG_TOOLS)/build-initramfs.sh $@ $(LG_TOOLS)/init >/dev/null

$(LG_OUT)/initrd-modules.gz: $(LG_TOOLS)/build-initramfs.sh $(LG_TOOLS)/init $(LG_OUT)/vmlinuz
	@echo "  INITRD  $@"
	@$(LG_TOOLS)/build-initramfs.sh $@ $(LG_TOOLS)/init $(LG_OUT)/modules >/dev/null

$(LG_OUT)/linux0-disk.img:
	@mkdir -p $(dir $@)
	@echo "  DISK    $@"
	@truncate -s 16M $@

# A config is copied once the files it names exist, so `make image
# CONFIG=$(LG_OUT)/X.cfg` (tools/mkimage.sh) finds them beside it.
$(LG_OUT)/%.cfg: $(LG_SRC)/%.cfg $(LG_OUT)/vmlinuz $(LG_OUT)/vmlinux $(LG_OUT)/initrd.gz $(LG_OUT)/initrd-modules.gz $(LG_OUT)/linux0-disk.img
	@echo "  CP      $@"
	@cp $< $@

.PHONY: linux-guest linux-guest-modules linux-guest-smoke bench-boot bench-io bench-net bench-io-halt
linux-guest: $(LINUX_GUEST)
linux-guest-modules: $(LG_OUT)/initrd-modules.gz

linux-guest-smoke: $(LINUX_GUEST) $(LG_OUT)/initrd-modules.gz
	$(LG_TOOLS)/smoke-qemu.py $(LG_OUT)

# EMULATOR=svm boots both sides in QEMU's TCG with AMD-V (default: Bochs, VT-x);
# BENCH_BOOT_ARGS go to the script (--rounds N, --json FILE, --only ...).
EMULATOR ?= bochs
BENCH_BOOT_ARGS ?=
bench-boot: $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(LINUX_GUEST)
	BUILD=$(BUILD) tools/bench-boot.sh --emulator $(EMULATOR) $(BENCH_BOOT_ARGS)

# The same virtio-blk workload served by the I/O sidecore and trapped, side by side.
bench-io: $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(LINUX_GUEST) bochs
	BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tools/bench_io.py </dev/null
	$(MAKE) --no-print-directory bench-elvis

# bench-io's workload with halt = hypervisor and halt = guest (HLT not intercepted).
# BENCH_IO_HALT_ARGS: e.g. --bochs own (posted interrupts), --settings hypervisor,guest,haltpoll.
bench-io-halt: $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(LINUX_GUEST)
	BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tools/bench_io_halt.py $(BENCH_IO_HALT_ARGS) </dev/null

# Guest-to-guest virtio-net frames through a switch, sidecore and trap taking turns
# over rounds; BENCH_NET_ARGS go to the script (--rounds, --pings, --sizes, --emulator).
bench-net: $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(LINUX_GUEST)
	BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tools/bench_net.py $(BENCH_NET_ARGS) </dev/null

# The coalescing measurement (tests/system/test_coalesce_linux.py): a static reader
# with a fixed queue depth, and an initramfs whose /init runs it (init-vic).
$(LG_OUT)/qdread: $(LG_TOOLS)/qdread.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(HOSTCC) -static -O2 -Wall -Wextra -o $@ $<

$(LG_OUT)/initrd-vic.gz: $(LG_TOOLS)/build-vic-initramfs.sh $(LG_TOOLS)/build-initramfs.sh $(LG_TOOLS)/init-vic $(LG_OUT)/vmlinuz $(LG_OUT)/qdread
	@echo "  INITRD  $@"
	@$(LG_TOOLS)/build-vic-initramfs.sh $@ $(LG_OUT)/modules $(LG_OUT)/qdread

linux-guest: $(LG_OUT)/initrd-vic.gz

.DEFAULT_GOAL := $(lg_saved_default_goal)
