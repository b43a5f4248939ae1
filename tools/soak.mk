# `make soak DURATION=2h` (tools/soak.py): two stock Linux guests doing verified
# disk and network I/O (one served by the I/O sidecore, one trapped, each with a
# Linux peer on its own switch) beside guest-tests' vblk-bad breaking its ring,
# with guest restarts and device resets, in one QEMU run of Sidecore on AMD-V
# (TCG, -cpu EPYC,+svm,+npt; Bochs would take minutes per Linux boot), for
# DURATION (2h, 30m, 300s; default 3m), one key=value line per SOAK_INTERVAL
# seconds. `make test` runs test-soak, the short run (TEST_SOAK_DURATION,
# default 90s; the run goes on until each kind of event has happened once, and
# fails if that takes more than --grace past the duration: 10m, 15m for
# test-soak). SOAK_ARGS go to the script (--restart-every S, --bad-every S,
# --grace D, --smp N).
# Included by the top Makefile after tools/linux-guest/linux-guest.mk.

# Included before the top Makefile's first target: keep that target the default goal.
soak_saved_default_goal := $(.DEFAULT_GOAL)

BUILD ?= build
DURATION ?= 3m
SOAK_INTERVAL ?= 30
SOAK_ARGS ?=

.PHONY: soak test-soak
soak: $(BUILD)/sidecore.elf $(BUILD)/BOOTX64.EFI $(LINUX_GUEST) $(BUILD)/guest-tests/vblk-bad.elf \
		$(BUILD)/guest-tests/vblk-bad.img
	BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tools/soak.py \
		--duration $(DURATION) --interval $(SOAK_INTERVAL) $(SOAK_ARGS) </dev/null

# What `make test` runs: 90 s of soak after Sidecore is up (the run goes on
# until each kind of event has happened once: a restart checked, a device reset,
# a transfer verified per guest, a disk-bad run). Measured here with 8 other
# emulator sessions on 2 cores (QEMU got a quarter of a core): 7.5 and 12.5
# minutes; once a Linux restart alone took over 10 minutes, hence the 15-minute
# grace, which bounds the run at about 20 minutes.
TEST_SOAK_DURATION ?= 90s
TEST_SOAK_GRACE ?= 15m
test-soak: deps
	$(MAKE) soak DURATION=$(TEST_SOAK_DURATION) SOAK_ARGS="--grace $(TEST_SOAK_GRACE) $(SOAK_ARGS)"

.DEFAULT_GOAL := $(soak_saved_default_goal)
