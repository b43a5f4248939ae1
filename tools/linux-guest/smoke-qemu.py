#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks the default Linux guest without Sidecore (`make linux-guest-smoke`): the
kernel and initramfs of DIR (BUILD/linux) booted bare under QEMU (-kernel, TCG),
once per sidecore.test= mode, and every LINUX-GUEST line and behaviour checked:
nproc, memory, the timer readings, power-off, reboot (twice, two boot ids), panic,
the heartbeat, the interactive shell, and that the modules initramfs loads its
modules. Usage: tools/linux-guest/smoke-qemu.py DIR"""

import sys
import time

import pexpect

LINE = r"LINUX-GUEST: "


def boot(d, cmdline, smp=1, mem=128, initrd="initrd.gz", reboot=False, extra=()):
    args = ["-kernel", f"{d}/vmlinuz", "-initrd", f"{d}/{initrd}", "-append",
            f"console=ttyS0 {cmdline}", "-m", str(mem), "-smp", str(smp), "-nographic",
            "-nic", "none", *extra]
    if not reboot:
        args.append("-no-reboot")
    return pexpect.spawn("qemu-system-x86_64", args, timeout=90, encoding="utf-8",
                         codec_errors="replace")


def lines(c, smp, mem):
    """Waits for the report lines and checks them; returns the boot_id."""
    c.expect(LINE + r"userspace uptime=([0-9.]+) kernel=(\S+) test=(\S+) boot_id=(\S+)")
    boot_id = c.match.group(4)
    c.expect(LINE + r"nproc=(\d+)")
    assert int(c.match.group(1)) == smp, f"nproc={c.match.group(1)}, want {smp}"
    c.expect(LINE + r"memtotal_kb=(\d+)")
    kb = int(c.match.group(1))
    assert mem * 1024 // 2 < kb <= mem * 1024, f"memtotal_kb={kb} for {mem}M"
    c.expect(LINE + r"timer_irqs=(\d+)")
    t1 = int(c.match.group(1))
    c.expect(LINE + r"timer_irqs=(\d+)")
    t2 = int(c.match.group(1))
    assert t2 > t1, f"timer_irqs did not advance: {t1} then {t2}"
    c.expect(LINE + r"uptime=([0-9.]+)")
    return boot_id


def check(name, fn):
    start = time.monotonic()
    try:
        fn()
    except (AssertionError, pexpect.ExceptionPexpect) as e:
        print(f"FAIL {name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
        return False
    print(f"ok   {name} ({time.monotonic() - start:.1f} s)")
    return True


def main(d):
    def poweroff(smp):
        c = boot(d, "sidecore.test=poweroff", smp=smp)
        lines(c, smp, 128)
        c.expect(LINE + "action=poweroff")
        c.expect("reboot: Power down")
        c.expect(pexpect.EOF)

    def reboot():
        c = boot(d, "sidecore.test=reboot", reboot=True)
        first = lines(c, 1, 128)
        c.expect(LINE + "action=reboot")
        c.expect("reboot: Restarting system")
        second = lines(c, 1, 128)
        assert first != second, "the same boot_id after a reboot"
        c.terminate(force=True)

    def panic():
        c = boot(d, "sidecore.test=panic panic=1")
        lines(c, 1, 128)
        c.expect(LINE + "action=panic")
        c.expect("Kernel panic - not syncing: sysrq triggered crash")
        c.expect("Rebooting in 1 seconds")
        c.expect(pexpect.EOF)  # -no-reboot: the reset ends QEMU

    def heartbeat():
        c = boot(d, "sidecore.test=heartbeat sidecore.heartbeat=1")
        lines(c, 1, 128)
        for n in (1, 2, 3):
            c.expect(LINE + rf"heartbeat={n} uptime=")
        c.terminate(force=True)

    def shell():
        c = boot(d, "sidecore.test=shell", mem=256)
        lines(c, 1, 256)
        c.expect(r"linux-guest:/# ")
        c.send("echo sum=$((40+2)); sleep 30\r")
        c.expect("sum=42")
        time.sleep(1)
        c.send("\x03")  # Ctrl-C reaches the shell's job: the console is its tty
        c.expect(r"linux-guest:/# ", timeout=10)
        c.send("exit\r")  # a new shell replaces it
        c.expect(r"linux-guest:/# ")
        c.send("poweroff -f\r")
        c.expect("reboot: Power down")
        c.expect(pexpect.EOF)

    def modules():
        c = boot(d, "sidecore.test=shell", initrd="initrd-modules.gz",
                 extra=("-device", "virtio-net-pci"))
        i = c.expect([LINE + r"insmod (\S+) failed", LINE + "nproc="])
        assert i == 1, f"insmod {c.match.group(1)} failed"
        c.expect(r"linux-guest:/# ")
        c.send("wc -l < /proc/modules; ls /sys/class/net\r")
        c.expect(r"[\r\n]+(\d+)[\r\n]+")
        want = len(open(f"{d}/modules/load-order").read().split())
        assert int(c.match.group(1)) == want, f"{c.match.group(1)} modules loaded, want {want}"
        c.expect(r"eth0")  # virtio_net bound the virtio-net-pci device
        c.send("poweroff -f\r")
        c.expect(pexpect.EOF)

    results = [check("poweroff, 1 CPU", lambda: poweroff(1)),
               check("poweroff, 2 CPUs", lambda: poweroff(2)),
               check("reboot comes back with a new boot_id", reboot),
               check("panic", panic),
               check("heartbeat", heartbeat),
               check("interactive shell", shell),
               check("modules initramfs", modules)]
    print(f"linux-guest-smoke: {sum(results)} of {len(results)} passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
