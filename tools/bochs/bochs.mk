# SPDX-License-Identifier: MIT
# `make bochs`: the project's own Bochs 3.0 (posted interrupts, the IF=0
# erratum fixed) in $(BUILD)/bochs/bin/bochs. tools/bochs/build.sh decides
# whether anything needs doing: it keys the build by the tarballs' sums, the
# patches and its own text, and copies a cached build (outside the tree)
# when there is one, so the rule always runs and is quick when current.
.PHONY: bochs
bochs:
	tools/bochs/build.sh $(BUILD)/bochs

# `make bochs-selftest`: vmxpi (tools/bochs/selftest/README.md), a bare-metal
# multiboot2 program that checks the emulator's posted interrupts without
# Sidecore, on a GRUB ISO at $(BUILD)/bochs-selftest/vmxpi.iso.
BST_SRC := tools/bochs/selftest
BST_OUT := $(BUILD)/bochs-selftest
BST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-builtin \
	-fno-pic -fno-pie -fno-stack-protector -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-fno-asynchronous-unwind-tables
.PHONY: bochs-selftest
bochs-selftest: $(BST_OUT)/vmxpi.iso
$(BST_OUT)/vmxpi.elf: $(BST_SRC)/boot.asm $(BST_SRC)/vmxpi.c $(BST_SRC)/vmxpi.ld
	@mkdir -p $(BST_OUT)
	@echo "  VMXPI   $@"
	@$(NASM) -f elf64 $(BST_SRC)/boot.asm -o $(BST_OUT)/boot.o
	@$(CC) $(BST_CFLAGS) -c $(BST_SRC)/vmxpi.c -o $(BST_OUT)/vmxpi.o
	@$(LD) -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments --build-id=none \
		-T $(BST_SRC)/vmxpi.ld $(BST_OUT)/boot.o $(BST_OUT)/vmxpi.o -o $@
$(BST_OUT)/vmxpi.iso: $(BST_OUT)/vmxpi.elf
	@rm -rf $(BST_OUT)/iso && mkdir -p $(BST_OUT)/iso/boot/grub
	@cp $< $(BST_OUT)/iso/boot/vmxpi.elf
	@printf 'set timeout=0\nset default=0\nserial --unit=0 --speed=115200\nterminal_output serial\nmenuentry vmxpi {\n  multiboot2 /boot/vmxpi.elf\n  boot\n}\n' \
		> $(BST_OUT)/iso/boot/grub/grub.cfg
	@grub-mkrescue -o $@ $(BST_OUT)/iso > $(BST_OUT)/grub-mkrescue.log 2>&1 || \
		{ cat $(BST_OUT)/grub-mkrescue.log >&2; exit 1; }
