# SPDX-License-Identifier: MIT
# `make bench-elvis` (tools/bench_elvis.py; not part of `make test`, run after
# bench-io's own table by `make bench-io`): the ELVIS scaling benchmark. 1, 2,
# 4 and 7 bare-metal test guests (guest-tests' vbench-qd1/8/32) on one I/O
# sidecore and trapped, 4 KiB reads at 1, 8 and 32 in flight on null disks,
# sides alternating over rounds; the table and a JSON file of every run in
# $(BUILD)/bench-elvis.{txt,json}. QEMU TCG with AMD-V by default;
# BENCH_ELVIS_ARGS go to the script (--emulator bochs, --guests 1,2,4,
# --qd 1,32, --rounds N, --latency 20us, --json PATH).
# Included by the top Makefile.

# Included before the top Makefile's first target: keep that target the default goal.
be_saved_default_goal := $(.DEFAULT_GOAL)

BUILD ?= build
BENCH_ELVIS_ARGS ?=

.PHONY: bench-elvis
bench-elvis: $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(GUEST_TESTS)
	BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tools/bench_elvis.py \
		$(BENCH_ELVIS_ARGS) </dev/null

.DEFAULT_GOAL := $(be_saved_default_goal)
