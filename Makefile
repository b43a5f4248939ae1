# Sidecore build. `make` builds every image; `make test` runs every test;
# `make run` boots the hypervisor in an emulator. See README.md.

BUILD   := build
CONFIG  ?= boot/sidecore.cfg

CC      := gcc
NASM    := nasm
LD      := ld
HOSTCC  := gcc

# Every .c and .asm under these directories is part of the hypervisor,
# except the UEFI loader, which is its own program.
KERNEL_DIRS := boot kernel drivers vmm virtio
KERNEL_C    := $(sort $(shell find $(KERNEL_DIRS) -name '*.c' -not -path 'boot/efi/*'))
KERNEL_ASM  := $(sort $(shell find $(KERNEL_DIRS) -name '*.asm' -not -path 'boot/efi/*'))
KERNEL_OBJ  := $(KERNEL_C:%.c=$(BUILD)/k/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/k/%.asm.o)

KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-builtin -nostdlib -fno-stack-protector -fno-pic -fno-pie \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mcmodel=kernel \
	-fno-omit-frame-pointer -fno-strict-aliasing -fno-asynchronous-unwind-tables \
	-I. -MMD -MP
# The kernel is linked in the low 2 GiB (identity mapped), so -mcmodel=kernel
# does not fit; small code model with absolute addresses does.
KCFLAGS := $(filter-out -mcmodel=kernel,$(KCFLAGS)) -mcmodel=small
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T linker/kernel.ld

# The UEFI loader (GNU-EFI).
EFI_C    := $(sort $(wildcard boot/efi/*.c))
EFI_OBJ  := $(EFI_C:%.c=$(BUILD)/efi/%.o)
EFI_INC  := /usr/include/efi
EFI_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fpic -ffreestanding -fno-stack-protector -fshort-wchar -mno-red-zone \
	-maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI -I. -I$(EFI_INC) \
	-I$(EFI_INC)/x86_64 -MMD -MP

# Host unit tests: tests/unit/test_*.c, each naming the sources it links in a
# comment line "test-sources: a.c b.c".
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
HOSTCFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-omit-frame-pointer -I. -DSIDECORE_HOST
unit_sources = $(shell sed -n 's/.*test-sources:\(.*\)/\1/p' tests/unit/$(1).c | sed 's,\*/,,')

# Fuzz targets: tests/fuzz/fuzz_*.c, libFuzzer (clang), each naming its
# sources in a comment line "fuzz-sources: a.c b.c". `make fuzz` runs each
# for FUZZ_SECONDS on its corpus (tests/fuzz/corpus/NAME/); a crash it finds
# belongs in that corpus afterwards as a regression input.
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 15
fuzz_sources = $(shell sed -n 's/.*fuzz-sources:\(.*\)/\1/p' tests/fuzz/$(1).c | sed 's,\*/,,')

# Test guests (guest-tests/guest-tests.mk builds them into $(BUILD)/guest-tests/).
GUEST_TESTS :=
-include guest-tests/guest-tests.mk
# The default Linux guest (Debian's kernel, a busybox initramfs) and its
# scenarios; bench-boot compares its boot bare and under Sidecore, bench-io the
# virtio-blk workload served by the I/O sidecore and trapped.
-include tools/linux-guest/linux-guest.mk
# bench-nvme: 4 KiB random reads through blktest, bare Linux+fio and a Linux guest
# of Sidecore (QEMU/SVM) with fio, same QEMU.
-include tools/bench-nvme.mk
# bochs: the project's own Bochs 3.0, built from Debian's source (tools/bochs/).
-include tools/bochs/bochs.mk
-include tools/soak.mk
# bench-elvis: the ELVIS scaling benchmark (bare test guests on one sidecore).
-include tools/bench-elvis.mk

.PHONY: all kernel efi images image iso usb pxe test unit system deps run clean format format-check \
	fuzz guest-tests acpi-check test-linux-disk test-linux-net
all: images

kernel: $(BUILD)/sidecore.elf
efi: $(BUILD)/BOOTX64.EFI
images: $(BUILD)/sidecore.iso $(BUILD)/sidecore-usb.img $(BUILD)/pxe/BOOTX64.EFI
# `make image CONFIG=path/to.cfg` rebuilds every image around that config.
image: images

# Two link passes: the second adds the symbol table of the first (for
# symbolized backtraces). The table lives in .rodata, after .text, so no
# function moves between the passes; the check below makes sure.
$(BUILD)/sidecore.elf: $(KERNEL_OBJ) linker/kernel.ld tools/gen-ksyms.sh
	@echo "  LD      $@"
	@tools/gen-ksyms.sh > $(BUILD)/ksyms0.c
	@$(CC) $(KCFLAGS) -c $(BUILD)/ksyms0.c -o $(BUILD)/ksyms0.o
	@$(LD) $(KLDFLAGS) -o $@.pass1 $(KERNEL_OBJ) $(BUILD)/ksyms0.o
	@tools/gen-ksyms.sh $@.pass1 > $(BUILD)/ksyms.c
	@$(CC) $(KCFLAGS) -c $(BUILD)/ksyms.c -o $(BUILD)/ksyms.o
	@$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJ) $(BUILD)/ksyms.o
	@tools/gen-ksyms.sh $@ | cmp -s - $(BUILD)/ksyms.c || \
		{ echo "symbol table moved between link passes" >&2; rm -f $@; exit 1; }

$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -g -I$(dir $<) -MD $(@:.o=.d) -MP $< -o $@

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-EFI  $<"
	@$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/BOOTX64.so: $(EFI_OBJ)
	$(LD) -nostdlib -znocombreloc -shared -Bsymbolic -T /usr/lib/elf_x86_64_efi.lds \
		/usr/lib/crt0-efi-x86_64.o $(EFI_OBJ) -o $@ -L/usr/lib -lefi -lgnuefi

$(BUILD)/BOOTX64.EFI: $(BUILD)/BOOTX64.so
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# Every image is rebuilt whenever the config, or anything it names, changes:
# tools/mkimage.sh reads the config to find the files.
IMAGE_INPUTS := $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(CONFIG) tools/mkimage.sh \
	boot/grub/grub.cfg.in FORCE
$(BUILD)/sidecore.iso $(BUILD)/sidecore-usb.img $(BUILD)/pxe/BOOTX64.EFI &: $(IMAGE_INPUTS)
	tools/mkimage.sh $(BUILD) $(CONFIG)
iso: $(BUILD)/sidecore.iso
usb: $(BUILD)/sidecore-usb.img
pxe: $(BUILD)/pxe/BOOTX64.EFI
FORCE:

$(BUILD)/unit/%: tests/unit/%.c FORCE
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) $(HOSTCFLAGS) -o $@ $< $(call unit_sources,$*) -lcmocka

$(BUILD)/fuzz/%: tests/fuzz/%.c FORCE
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@clang -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -I. -DSIDECORE_HOST \
		-o $@ $< $(call fuzz_sources,$*)

fuzz: deps $(FUZZ_BIN)
	tools/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

guest-tests: $(GUEST_TESTS)

# The guest ACPI tables, decoded and recompiled by acpica-tools' iasl.
acpi-check: deps
	tools/check-acpi-iasl.sh $(BUILD)

deps:
	tools/install-deps.sh

unit: deps $(UNIT_BIN)
	BUILD=$(BUILD) tools/run-unit.sh $(UNIT_BIN)

system: deps images guest-tests linux-guest bochs bochs-selftest
	tools/run-system.sh

# Stock Linux using its virtio-blk disk in both I/O modes (two runs of the
# project's Bochs, about 1.5 min on an idle machine, the sidecore one with posted
# interrupts; also part of `make system`).
test-linux-disk: deps images linux-guest bochs
	tools/run-system.sh tests/system/test_linux_disk.py

# Two stock Linux guests on one virtio-net switch, sidecore and trap mode (two
# Bochs runs, about 2 min on an idle machine; also part of `make system`).
test-linux-net: deps images linux-guest
	tools/run-system.sh tests/system/test_linux_net.py

# Adaptive interrupt coalescing measured: stock Linux on a null disk, coalescing on
# and off side by side (the project's Bochs at 4G instructions per emulated second,
# about 10 min on the loaded 2-core machine; QEMU/SVM, 2 min). Also part of
# `make system`.
.PHONY: test-coalesce
test-coalesce: deps images linux-guest bochs
	tools/run-system.sh tests/system/test_coalesce_linux.py

test: deps
	$(MAKE) format-check
	$(MAKE) images
	$(MAKE) unit
	$(MAKE) acpi-check
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(MAKE) system
	$(MAKE) test-soak

run: deps images linux-guest
	tools/run.sh

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

format-check:
	@out=$$(for f in $$(git ls-files '*.c' '*.h'); do \
		clang-format --dry-run --Werror $$f 2>&1 >/dev/null || echo $$f; done); \
	if [ -n "$$out" ]; then echo "not clang-formatted:"; echo "$$out"; exit 1; fi; \
	echo "format-check: ok"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
