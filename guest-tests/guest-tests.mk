# SPDX-License-Identifier: MIT
# The test guests (see guest-tests/README.md), included by the top Makefile.
# Every output lands in $(BUILD)/guest-tests/ and is appended to GUEST_TESTS:
# one NAME.elf per guest and a copy of each configs/*.cfg beside them, so a
# config's relative "kernel = NAME.elf" paths resolve there:
#   make BUILD=b guest-tests
#   make BUILD=b image CONFIG=b/guest-tests/basic.cfg
# Extra targets: guest-tests-check (image checker, tools/check-guest-image.py)
# and guest-tests-smoke (the 32-bit guests under bare QEMU through GRUB).

# This file is included before the top Makefile's first target; keep that
# target the default goal.
gt_saved_default_goal := $(.DEFAULT_GOAL)

GT_SRC := guest-tests
GT_OUT := $(BUILD)/guest-tests
GT_OBJ := $(GT_OUT)/obj
GT_LDS := $(GT_SRC)/lib/guest.ld

GT_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-builtin \
	-fno-pic -fno-pie -fno-stack-protector -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer -fno-strict-aliasing \
	-I. -I$(GT_SRC)/lib -MMD -MP
GT_CFLAGS32 := $(GT_CFLAGS) -m32 -march=i686
GT_CFLAGS64 := $(GT_CFLAGS) -m64 -mcmodel=small
GT_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none \
	--fatal-warnings -T $(GT_LDS)
GT_LDFLAGS32 := -m elf_i386 $(GT_LDFLAGS)
GT_LDFLAGS64 := -m elf_x86_64 $(GT_LDFLAGS)

# The runtime, once per width. paging64.c is 64-bit only. vdisk.c, smp64.c
# and ap64.asm (the notify tests' driver and second-vCPU start) are linked
# only into the guests that name them in GT_EXTRA_NAME, so every other
# image stays as it was.
GT_LIB_C := $(sort $(wildcard $(GT_SRC)/lib/*.c))
GT_LIB_OPT := %/vdisk.c %/smp64.c
GT_LIB32_OBJ := $(patsubst $(GT_SRC)/lib/%.c,$(GT_OBJ)/32/lib/%.o,$(filter-out %/paging64.c $(GT_LIB_OPT),$(GT_LIB_C))) \
	$(GT_OBJ)/32/lib/entry32.asm.o $(GT_OBJ)/32/lib/trap32.asm.o
GT_LIB64_OBJ := $(patsubst $(GT_SRC)/lib/%.c,$(GT_OBJ)/64/lib/%.o,$(filter-out $(GT_LIB_OPT),$(GT_LIB_C))) \
	$(GT_OBJ)/64/lib/entry64.asm.o $(GT_OBJ)/64/lib/trap64.asm.o
GT_VDISK_OBJ := $(GT_OBJ)/64/lib/vdisk.o $(GT_OBJ)/64/lib/smp64.o $(GT_OBJ)/64/lib/ap64.asm.o
GT_MB2_OBJ := $(GT_OBJ)/32/lib/mb2_header.asm.o
GT_MB1_OBJ := $(GT_OBJ)/32/lib/mb1_header.asm.o

# NAME:FORMAT:SOURCE. FORMAT is mb2 (32-bit with a multiboot2 header), mb1
# (32-bit with a multiboot v1 header), elf32 or elf64; SOURCE is
# guests/SOURCE.c; GT_DEFS_NAME adds compiler flags.
GT_GUEST_LIST := \
	cpuid:mb2:cpuid \
	msr:elf64:msr \
	portio:elf32:portio \
	hlt:elf64:hlt \
	exceptions:elf64:exceptions \
	exceptions32:elf32:exceptions \
	isolation:mb2:isolation \
	isolation-hv:mb2:isolation \
	neighbour:elf32:neighbour \
	counter:elf64:counter \
	counter32:elf32:counter \
	nmi:elf32:nmi \
	apic:elf64:apic \
	mb1info:mb1:mb1info \
	triplefault:elf64:triplefault \
	xsetbv:elf64:xsetbv \
	usermode:elf64:usermode \
	vblk-good:elf64:virtio_blk \
	vblk-bad:elf64:virtio_blk \
	vload-early:elf64:virtio_blk \
	vload-late:elf64:virtio_blk \
	vload-steady:elf64:virtio_blk \
	vload-early-bochs:elf64:virtio_blk \
	vload-late-bochs:elf64:virtio_blk \
	vload-steady-bochs:elf64:virtio_blk \
	vposted:elf64:virtio_blk \
	vbench-qd1:elf64:virtio_blk \
	vbench-qd8:elf64:virtio_blk \
	vbench-qd32:elf64:virtio_blk \
	vnotify:elf64:virtio_notify \
	vnotify-pcicfg:elf64:virtio_notify \
	vnotify-movedbar:elf64:virtio_notify \
	vnotify-vacated:elf64:virtio_notify \
	vnotify-storm:elf64:virtio_notify \
	vnotify-stormspin:elf64:virtio_notify \
	vrate:elf64:virtio_rate \
	vrate-short:elf64:virtio_rate \
	vbreak:elf64:virtio_rate \
	vnetbreak:elf64:virtio_net_break \
	vnetflood:elf64:virtio_net_break
GT_DEFS_isolation-hv := -DISOLATION_TARGET_HV
# The virtio-blk guests and the disk each reads (tag 0x47 'G', 0x42 'B').
GT_DEFS_vblk-good := -DVBLK_DISK_TAG=0x47
GT_DEFS_vblk-bad := -DVBLK_MODE_BAD -DVBLK_DISK_TAG=0x42
# The I/O-core monitor's load (configs/iocm.cfg): one guest cycles lightly
# (20 ms apart) from the start, two more join at full speed later, all on
# copies of vblk-good's disk.
GT_DEFS_vload-early := -DVBLK_DISK_TAG=0x47 -DVBLK_RUN_US=50000000 -DVBLK_PACE_US=20000 \
	-DVBLK_PROGRESS_EVERY=500
GT_DEFS_vload-late := -DVBLK_DISK_TAG=0x47 -DVBLK_START_DELAY_US=10000000 \
	-DVBLK_RUN_US=35000000 -DVBLK_PROGRESS_EVERY=500
# configs/iocm-shell.cfg: verified cycles for 40 s while the shell moves queues.
GT_DEFS_vload-steady := -DVBLK_DISK_TAG=0x47 -DVBLK_RUN_US=40000000 -DVBLK_PROGRESS_EVERY=500
# The same three loads with times cut for Bochs (configs/iocm-bochs.cfg,
# iocm-shell-bochs.cfg), whose emulated second costs minutes of wall time there.
GT_DEFS_vload-early-bochs := -DVBLK_DISK_TAG=0x47 -DVBLK_RUN_US=20000000 -DVBLK_PACE_US=20000 \
	-DVBLK_PROGRESS_EVERY=100
GT_DEFS_vload-late-bochs := -DVBLK_DISK_TAG=0x47 -DVBLK_START_DELAY_US=5000000 \
	-DVBLK_RUN_US=8000000 -DVBLK_PROGRESS_EVERY=100
GT_DEFS_vload-steady-bochs := -DVBLK_DISK_TAG=0x47 -DVBLK_RUN_US=25000000 -DVBLK_PROGRESS_EVERY=100
# Issue 13: after vblk-good's checks, completions waited for halted, while
# exiting and while running (posted interrupts end to end), then 1 s of cycles.
GT_DEFS_vposted := -DVBLK_DISK_TAG=0x47 -DVBLK_POSTED_PHASES -DVBLK_RUN_US=1000000
# The ELVIS scaling benchmark (tools/bench_elvis.py, `make bench-elvis`):
# 4 KiB reads with 1, 8 or 32 in flight for 2 s on a null disk, then counts.
$(foreach q,1 8 32,$(eval GT_DEFS_vbench-qd$(q) := -DVBLK_MODE_BENCH -DVBENCH_QD=$(q)))
# Issue 12's notification-path guests (guests/virtio_notify.c, virtio_rate.c)
# and their disks (tags 'N', 'R', 'K').
GT_DEFS_vnotify := -DVN_PCICFG -DVN_MOVEDBAR -DVN_DISK_TAG=0x4e
GT_DEFS_vnotify-pcicfg := -DVN_PCICFG -DVN_DISK_TAG=0x4e
GT_DEFS_vnotify-movedbar := -DVN_MOVEDBAR -DVN_DISK_TAG=0x4e
GT_DEFS_vnotify-vacated := -DVN_VACATED -DVN_DISK_TAG=0x4e
GT_DEFS_vnotify-storm := -DVN_STORM -DVN_DISK_TAG=0x4e
GT_DEFS_vnotify-stormspin := -DVN_STORM -DVN_SPIN -DVN_DISK_TAG=0x4e
GT_DEFS_vrate := -DVN_DISK_TAG=0x52
GT_DEFS_vrate-short := -DVN_DISK_TAG=0x52 -DVR_RUN_US=3000000
GT_DEFS_vbreak := -DVN_BREAKLOOP -DVN_DISK_TAG=0x4b
# vnetbreak that floods the console queue around its breakage (test_net_break.py).
GT_DEFS_vnetflood := -DVNB_FLOOD
GT_EXTRA_apic := $(GT_OBJ)/64/lib/smp64.o $(GT_OBJ)/64/lib/ap64.asm.o
$(foreach g,vnotify vnotify-pcicfg vnotify-movedbar vnotify-vacated vnotify-storm \
	vnotify-stormspin vrate vrate-short vbreak,$(eval GT_EXTRA_$(g) := $$(GT_VDISK_OBJ)))

gt_field = $(word $(2),$(subst :, ,$(1)))
gt_bits = $(if $(filter elf64,$(1)),64,32)

$(GT_OBJ)/32/lib/%.o: $(GT_SRC)/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GT_CFLAGS32) -c $< -o $@

$(GT_OBJ)/64/lib/%.o: $(GT_SRC)/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	@$(CC) $(GT_CFLAGS64) -c $< -o $@

$(GT_OBJ)/32/lib/%.asm.o: $(GT_SRC)/lib/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM32  $<"
	@$(NASM) -f elf32 -g -w+all -I$(GT_SRC)/lib/ -MD $(@:.o=.d) -MP $< -o $@

$(GT_OBJ)/64/lib/%.asm.o: $(GT_SRC)/lib/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM64  $<"
	@$(NASM) -f elf64 -g -w+all -I$(GT_SRC)/lib/ -MD $(@:.o=.d) -MP $< -o $@

# gt_guest NAME,FORMAT,SOURCE,BITS: the image, and for ELF32 guests a
# multiboot2 twin in smoke/ that GRUB can boot for the bare-QEMU smoke test.
define gt_guest
$(GT_OBJ)/$(4)/guests/$(1).o: $(GT_SRC)/guests/$(3).c
	@mkdir -p $$(dir $$@)
	@echo "  CC$(4)    $$<  ($(1))"
	@$(CC) $(GT_CFLAGS$(4)) -DGUEST_NAME='"$(1)"' $(GT_DEFS_$(1)) -c $$< -o $$@

$(GT_OUT)/$(1).elf: $(GT_OBJ)/$(4)/guests/$(1).o $(GT_LIB$(4)_OBJ) $(GT_EXTRA_$(1)) \
		$(if $(filter mb2,$(2)),$(GT_MB2_OBJ)) $(if $(filter mb1,$(2)),$(GT_MB1_OBJ)) $(GT_LDS)
	@echo "  LD$(4)    $$@"
	@$(LD) $(GT_LDFLAGS$(4)) -o $$@ $$(filter %.o,$$^)

GUEST_TESTS += $(GT_OUT)/$(1).elf
GT_CHECK_ARGS += $(GT_OUT)/$(1).elf:$(2)

ifeq ($(2),elf32)
$(GT_OUT)/smoke/$(1).elf: $(GT_OBJ)/$(4)/guests/$(1).o $(GT_LIB$(4)_OBJ) $(GT_MB2_OBJ) $(GT_LDS)
	@mkdir -p $$(dir $$@)
	@echo "  LD$(4)    $$@"
	@$(LD) $(GT_LDFLAGS$(4)) -o $$@ $$(filter %.o,$$^)
GT_SMOKE += $(GT_OUT)/smoke/$(1).elf
GT_CHECK_ARGS += $(GT_OUT)/smoke/$(1).elf:mb2
endif
ifneq ($(2),elf32)
GT_SMOKE += $(GT_OUT)/$(1).elf
endif
endef

GT_CHECK_ARGS :=
GT_SMOKE :=
$(foreach g,$(GT_GUEST_LIST),$(eval $(call gt_guest,$(call gt_field,$(g),1),$(call \
	gt_field,$(g),2),$(call gt_field,$(g),3),$(call gt_bits,$(call gt_field,$(g),2)))))

# Disk images the configs name (disk = ram:NAME.img): NAME:SECTORS:TAG, written
# by tools/mkdisk.py with the pattern of lib/disk_pattern.h.
GT_DISK_LIST := vblk-good:512:G vblk-bad:512:B vnotify:512:N vrate:512:R vbreak:512:K \
	mb1-module:8:M
define gt_disk
$(GT_OUT)/$(1).img: $(GT_SRC)/tools/mkdisk.py
	@mkdir -p $$(dir $$@)
	@echo "  MKDISK  $$@"
	@python3 $(GT_SRC)/tools/mkdisk.py $$@ $(2) $(3)
GUEST_TESTS += $(GT_OUT)/$(1).img
endef
$(foreach d,$(GT_DISK_LIST),$(eval $(call gt_disk,$(call gt_field,$(d),1),$(call \
	gt_field,$(d),2),$(call gt_field,$(d),3))))

# Configs sit beside the images; each depends on every image so that
# `make image CONFIG=$(GT_OUT)/X.cfg` builds what X names.
GT_IMAGES := $(GUEST_TESTS)
GT_CONFIGS := $(patsubst $(GT_SRC)/configs/%.cfg,$(GT_OUT)/%.cfg,$(wildcard $(GT_SRC)/configs/*.cfg))
$(GT_OUT)/%.cfg: $(GT_SRC)/configs/%.cfg $(GT_IMAGES)
	@echo "  CP      $@"
	@cp $< $@
GUEST_TESTS += $(GT_CONFIGS)

# elf64-boot: a multiboot2 stand-in for Sidecore's ELF64 loader, so the smoke
# test can run the 64-bit guests under bare QEMU too (never part of a config).
GT_BOOT64 := $(GT_OUT)/tools/elf64-boot.elf
GT_BOOT64_OBJ := $(GT_OBJ)/32/tools/elf64-boot/entry.asm.o $(GT_OBJ)/32/tools/elf64-boot/loader.o \
	$(GT_MB2_OBJ) $(addprefix $(GT_OBJ)/32/lib/,printf.o serial.o div64.o string.o)
$(GT_OBJ)/32/tools/elf64-boot/%.o: $(GT_SRC)/tools/elf64-boot/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GT_CFLAGS32) -c $< -o $@
$(GT_OBJ)/32/tools/elf64-boot/%.asm.o: $(GT_SRC)/tools/elf64-boot/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM32  $<"
	@$(NASM) -f elf32 -g -w+all -MD $(@:.o=.d) -MP $< -o $@
$(GT_BOOT64): $(GT_BOOT64_OBJ) $(GT_SRC)/tools/elf64-boot/elf64-boot.ld
	@mkdir -p $(dir $@)
	@echo "  LD32    $@"
	@$(LD) -m elf_i386 $(filter-out -T $(GT_LDS),$(GT_LDFLAGS)) \
		-T $(GT_SRC)/tools/elf64-boot/elf64-boot.ld -o $@ $(GT_BOOT64_OBJ)

# Host test of the virtio guests' pure code (capability walk, disk pattern),
# also run against the built disk images.
$(GT_OUT)/tools/test_virtio_lib: $(GT_SRC)/tools/test_virtio_lib.c $(GT_SRC)/lib/virtio_caps.c \
		$(GT_SRC)/lib/disk_pattern.c $(GT_SRC)/lib/virtio_caps.h $(GT_SRC)/lib/disk_pattern.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
		-fno-sanitize-recover=all -I$(GT_SRC)/lib -o $@ $(filter %.c,$^)

# Host test of the multiboot2 parser (pure C, see lib/mb2_info.h).
$(GT_OUT)/tools/test_mb2_info: $(GT_SRC)/tools/test_mb2_info.c $(GT_SRC)/lib/mb2_info.c \
		$(GT_SRC)/lib/mb2_info.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
		-fno-sanitize-recover=all -I$(GT_SRC)/lib -o $@ $(filter %.c,$^)

.PHONY: guest-tests-check guest-tests-smoke
guest-tests-check: $(GUEST_TESTS) $(GT_SMOKE) $(GT_OUT)/tools/test_mb2_info \
		$(GT_OUT)/tools/test_virtio_lib
	$(GT_OUT)/tools/test_mb2_info
	$(GT_OUT)/tools/test_virtio_lib $(GT_OUT)/vblk-good.img:G $(GT_OUT)/vblk-bad.img:B
	python3 $(GT_SRC)/tools/check-guest-image.py $(GT_CHECK_ARGS)
	@for c in $(GT_CONFIGS); do \
		for f in $$(tools/config-files.sh $$c); do \
			[ -f $(GT_OUT)/$$f ] || { echo "$$c names $$f, which was not built" >&2; exit 1; }; \
		done; \
	done; echo "guest-tests-check: every config names built images"

guest-tests-smoke: $(GT_SMOKE) $(GT_BOOT64)
	$(GT_SRC)/tools/smoke-qemu.sh $(GT_OUT)/smoke-run $(GT_BOOT64) $(GT_SMOKE)

.DEFAULT_GOAL := $(gt_saved_default_goal)
