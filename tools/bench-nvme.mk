# `make bench-nvme` (tools/bench_nvme.py; not part of `make test`): 4 KiB random
# reads at queue depths 1, 8 and 32 on one QEMU NVMe device, through Sidecore's
# `blktest`, through Linux's nvme driver with fio, and with fio in a Linux guest
# of Sidecore under QEMU/SVM whose virtio disk is the namespace; several rounds,
# medians and spreads, and a JSON file of every run.
# Included by the top Makefile after tools/linux-guest/linux-guest.mk. Builds
# $(BUILD)/linux/initrd-fio.gz (tools/linux-guest/build-fio-initramfs.sh: busybox,
# tools/linux-guest/init-fio, the nvme modules, Debian's fio and its libraries).
# BENCH_NVME_ARGS go to the script (--count N, --qd 1,8,32, --rounds N,
# --only blktest,linux,guest, --json FILE, --image-mib N, --smp N, --memory MiB).

# Included before the top Makefile's first target: keep that target the default goal.
bn_saved_default_goal := $(.DEFAULT_GOAL)

BUILD ?= build
BN_LINUX := $(BUILD)/linux
BENCH_NVME_ARGS ?=

# fio comes from Debian like everything else, but only this benchmark needs it
# (with the Ceph and GlusterFS libraries it links), so `make deps` leaves it out.
.PHONY: bench-nvme bench-nvme-deps
bench-nvme-deps:
	tools/install-deps.sh fio

# The modules come with the kernel (fetch-kernel.sh); fio is checked by the script.
$(BN_LINUX)/initrd-fio.gz: tools/linux-guest/build-fio-initramfs.sh tools/linux-guest/init-fio \
		tools/linux-guest/build-initramfs.sh $(BN_LINUX)/vmlinuz | bench-nvme-deps
	@echo "  INITRD  $@"
	@tools/linux-guest/build-fio-initramfs.sh $@ $(BN_LINUX)/modules

bench-nvme: bench-nvme-deps $(BUILD)/sidecore.iso $(BN_LINUX)/vmlinuz $(BN_LINUX)/vmlinux \
		$(BN_LINUX)/initrd-fio.gz
	BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tools/bench_nvme.py \
		$(BENCH_NVME_ARGS) </dev/null

.DEFAULT_GOAL := $(bn_saved_default_goal)
