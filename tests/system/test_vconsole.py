# SPDX-License-Identifier: MIT
"""The virtio console (virtio_console = on, vmm/guest_vconsole.c) with Debian's stock
kernel under QEMU/SVM: guest-tests/linux/vconsole.cfg. Linux's own virtio_console
driver gives /dev/hvc0; what /init writes there reaches Sidecore's console as
"[vc0]" lines through the I/O sidecore, with no port-I/O exit for it (a 6400-byte
burst through the UART would cost about two exits per character), and a line typed
with `console vc0 send` reaches the guest through the device's receiveq."""

import re

from scenarios import fields, fresh_command, image_for, parse_stats
from test_svm import LINUX_BOOT_S, SVM_CPU

GUEST = "vc0"
BURST_LINES = 100  # sidecore.vconsole_lines in vconsole.cfg
BURST_BYTES = 64 * BURST_LINES


def snapshot(m):
    """(vCPU 0's stats, the vconsole line's fields) from one `stats`."""
    text = fresh_command(m, "stats", timeout=120)
    vcpu = parse_stats(text)[(GUEST, 0)]
    line = re.search(rf"^vconsole guest={GUEST} .*$", text, re.M)
    assert line, f"no vconsole line in stats:\n{text}"
    return vcpu, fields(line[0])


def test_svm_linux_virtio_console(machine):
    from test_linux import LinuxRun, linux_dir

    cfg = linux_dir() / "vconsole.cfg"
    # The boot CPU, the guest's core and a sidecore.
    m = machine(image=image_for("linux-vconsole", cfg), emulator="qemu", accel="tcg", smp=3,
                memory=1024, timeout=2 * LINUX_BOOT_S + 300, extra_args=SVM_CPU)
    run = LinuxRun(m, cfg, {GUEST: r"power-off"}, silence_s=LINUX_BOOT_S)
    run.wait(rf"^\[{GUEST}\] LINUX-GUEST: vconsole=(hvc0|missing)\n", LINUX_BOOT_S,
             "the vconsole line")
    assert f"[{GUEST}] LINUX-GUEST: vconsole=hvc0" in m.log, "no /dev/hvc0 in the guest"
    assert f"guest {GUEST}: virtio console at 00:" in m.log
    run.wait(rf"^\[{GUEST}\] VCONSOLE: ready\n", 120, "VCONSOLE: ready")

    before_cpu, before = snapshot(m)
    assert before["state"] == "ok" and before["io"] == "sidecore", before
    assert before["tx_bytes"] >= len("VCONSOLE: ready\n"), before

    m.command(f"console {GUEST} send hello sidecore", timeout=60)
    run.wait(rf"^\[{GUEST}\] VCONSOLE: got=hello sidecore\n", 120, "the typed line")
    run.wait(rf"^\[{GUEST}\] VCONSOLE: burst done lines={BURST_LINES} bytes={BURST_BYTES}\n",
             300, "the end of the burst")
    after_cpu, after = snapshot(m)

    burst = [l for l in run.guest_output(GUEST) if l.startswith("VCONSOLE: burst 0")]
    assert len(burst) == BURST_LINES, f"{len(burst)} burst lines arrived"
    assert all(l.endswith("0123456789ABCDE") for l in burst), burst[:3]

    tx = after["tx_bytes"] - before["tx_bytes"]
    port_io = after_cpu["exit_io"] - before_cpu["exit_io"]
    print(f"vconsole: {tx} bytes through the device in "
          f"{after['tx_chains'] - before['tx_chains']} chains; port-I/O exits {port_io}, "
          f"I/O-caused exits {after_cpu['exits_io'] - before_cpu['exits_io']}, interrupts "
          f"{after['interrupts'] - before['interrupts']}, exits in all "
          f"{after_cpu['exits'] - before_cpu['exits']}")
    assert tx >= BURST_BYTES, (before, after)
    # Through the UART this burst costs about 2 * BURST_BYTES port-I/O exits (LSR
    # read, THR write). The guest's clock is the TSC (tsc=reliable in the
    # scenario), so no other port I/O is expected while it writes.
    assert port_io < BURST_BYTES // 50, (port_io, before_cpu, after_cpu)
    assert after["rx_bytes"] >= len("hello sidecore\r"), after
    assert after["kicks"] == 0, after  # polled: the driver never notifies
    assert after["tx_truncated"] == 0 and after["in_dropped"] == 0, after

    m.command(f"console {GUEST} send bye", timeout=60)
    run.wait(rf"^\[{GUEST}\] VCONSOLE: bye=bye\n", 120, "the last line")
    run.wait(rf"^sidecore: guest {GUEST} stopped: power-off", 120, "power-off")
