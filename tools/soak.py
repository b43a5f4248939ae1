#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Soak test (`make soak DURATION=2h`): stock Linux guests doing verified disk and
network I/O for as long as asked, in one QEMU run of Sidecore on AMD-V (TCG, -cpu
EPYC,+svm,+npt: Linux boots in about 20 s there, minutes under Bochs).

BUILD/linux/soak.cfg (guest-tests/linux/soak.cfg) has five guests on one I/O
sidecore: soak-sc (Linux, its virtio-blk disk and virtio-net device served by the
polling sidecore), soak-trap (Linux, the same served the conventional way, io =
trap), their network peers peer-sc and peer-trap (Linux, each alone with its
guest on a switch: lan-sc polled by the sidecore, lan-trap by the notifying
vCPU), and disk-bad (guest-tests' vblk-bad: it breaks its ring with a looping
descriptor chain, sees DEVICE_NEEDS_RESET, resets its device and reads again).

The Linux guests run /init's soak mode (tools/linux-guest/init): rounds of random
self-describing 4 KiB blocks written and read back O_DIRECT against a table of what
each block must hold, a virtio device reset (driver unbind + bind) every few
rounds, 64 KiB of fresh random data sent to the peer over TCP (the peer prints
the md5 of each transfer it took: each must be the next one sent), and after each
round one line with the guest's counts, then an idle pause, then a `soak resume`
line before any I/O. In that pause (nothing touches the disk or the switch) the
harness checks
  - Sidecore's `stats` for the guest's queues: requests completed == the requests
    the guest's kernel completed (summed over device resets and guest restarts),
    nothing in flight, no errors;
  - on the guest's switch, frames the guests sent == frames they received + the
    frames the switch counted dropped or filtered; and the guest's kernel's eth0
    tx/rx packet counts == Sidecore's for its device;
whether the count was read in the pause is decided from the log, not a clock: if
the guest's `soak resume` line comes before the figures in the log, the pause was
over (the console prints what guests queued before its own lines), and then
only "Sidecore >= the guest" holds (`late`; the next round compares exactly
again, the counts being cumulative). At intervals it restarts a Linux guest
(`guest restart`, also in the pause); the new boot reads every block back, checks
it against its own header and rebuilds the table, whose digest must equal the
one the previous boot printed last: a write lost, torn or undone across a
restart shows there. disk-bad is restarted each time it has finished, so it
breaks its ring again and again beside the Linux guests; each of its runs must
pass.

Every --interval seconds it prints one line, `soak t=ISO-UTC elapsed=S key=value
...` (counts summed over all boots), to follow or plot a run; at the end `soak
result=pass|fail ...` and the reasons. `mem`'s exact allocator_bytes line is read
once every guest is in its soak loop and at the end: free bytes must not drop.
At the end every transfer sent must have reached the peer intact and each
switch's frames must add up (sent = received + dropped + filtered).
Exit status 0 on pass."""

import argparse
import datetime
import re
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

from machine import Machine, MachineError, build_dir  # noqa: E402
from scenarios import GUEST_LINE_RE, disk_stats, fields, fresh_command, image_for  # noqa: E402

SVM_CPU = ["-cpu", "EPYC,+svm,+npt"]
LINUX = ("soak-sc", "soak-trap")
PEERS = {"soak-sc": "peer-sc", "soak-trap": "peer-trap"}  # each on its own switch
SWITCHES = {"soak-sc": "lan-sc", "soak-trap": "lan-trap"}
BAD = "disk-bad"
DISK_MB = 4
ROUND_RE = re.compile(r"^\[(soak-sc|soak-trap)\] LINUX-GUEST: soak round=.*$", re.M)
SENT_RE = re.compile(r"^\[(soak-sc|soak-trap)\] LINUX-GUEST: soak net sent (.*)$", re.M)
RECV_RE = re.compile(r"^\[(peer-sc|peer-trap)\] LINUX-GUEST: soak net recv (.*)$", re.M)
START_RE = re.compile(r"^\[(soak-sc|soak-trap)\] LINUX-GUEST: soak start .*$", re.M)
TROUBLE_RE = re.compile(r"^\[(soak-sc|soak-trap)\] LINUX-GUEST: soak (mismatch|scan bad|"
                        r"write error|read error|device gone|disk=missing|net send failed|net=missing).*$", re.M)
PEER_TROUBLE_RE = re.compile(r"^\[(peer-sc|peer-trap)\] LINUX-GUEST: soak net=missing.*$", re.M)
STOPPED_RE = re.compile(r"^sidecore: guest (\S+) stopped: (.*)$", re.M)
BROKEN_RE = re.compile(rf"^sidecore: guest {BAD}: disk \d+ broken: .*$", re.M)
RESULT_RE = re.compile(rf"^\[{BAD}\] RESULT (\d+) passed, (\d+) failed", re.M)
ALLOC_RE = re.compile(r"^allocator_bytes: total=(\d+) free=(\d+)", re.M)


def parse_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 2h, 10m, 300s)")
    return float(m[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m[2]]


def net_stats(text):
    """`stats` output -> ({guest: summed netq fields}, {switch: summed switchport fields})."""
    guests, switches = {}, {}
    for line in GUEST_LINE_RE.sub("", text).splitlines():
        if line.startswith("netq guest="):
            f = fields(line)
            g = guests.setdefault(f["guest"], dict.fromkeys(
                ("rx_packets", "tx_packets", "rx_drops", "tx_drops", "rx_filtered"), 0))
            for k in g:
                g[k] += f.get(k, 0)
        elif line.startswith("switchport switch="):
            f = fields(line)
            sw = switches.setdefault(f["switch"], dict.fromkeys(
                ("rx", "tx", "drops", "filtered", "ports"), 0))
            sw["ports"] += 1
            for k in ("rx", "tx", "drops", "filtered"):
                sw[k] += f.get(k, 0)
    return guests, switches


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class GuestTrack:
    """One Linux guest's counts: the finished boots' totals and the current boot's."""

    def __init__(self, name):
        self.name = name
        self.boots = 0
        self.done = {"rounds": 0, "writes": 0, "reads": 0, "verified": 0, "mismatches": 0,
                     "resets": 0, "kreqs": 0, "ntx": 0, "nrx": 0}
        self.cur = dict.fromkeys(self.done, 0)
        self.last_state = None  # the table digest the current boot printed last
        self.restart_pending = False
        self.restarts = 0
        self.mid_round_restart = False  # restarted after its pause had ended
        # After such a restart Sidecore may have counted requests and frames the
        # killed kernel never did: the next check in a pause takes the difference
        # as the new offset (rebase), and the checks after it compare exactly.
        self.rebase = False
        self.off = {"kreqs": 0, "ntx": 0, "nrx": 0}
        self.sent = []  # (bytes, md5) of transfers to the peer not yet matched
        self.recv = []  # (bytes, md5) the peer received, not yet matched
        self.net_sent = self.net_verified = self.net_cut = 0

    def total(self, key):
        return self.done[key] + self.cur[key]

    def new_boot(self):
        for k in self.done:
            self.done[k] += self.cur[k]
        self.cur = dict.fromkeys(self.done, 0)
        self.boots += 1


class Soak:
    def __init__(self, m, a):
        self.m, self.a = m, a
        self.g = {n: GuestTrack(n) for n in LINUX}
        self.pos = 0
        self.failures = []
        self.checks = 0  # request-count comparisons that held
        self.late = 0  # round lines the harness reached after the pause was over
        self.bad_runs = self.bad_passed = 0
        self.mem_start = self.mem_last = None
        self.bad_stopped_at = None
        self.restart_checks = 0  # boots after a restart whose disk state was checked
        self.sc_requests = {n: 0 for n in LINUX}
        self.net_checks = 0  # packet-count comparisons in a pause that held
        self.restart_mid = 0  # restarts that turned out to fall after a pause
        self.net_last = ({}, {})  # the last `stats` figures for the network
        self.t0 = time.monotonic()

    def fail(self, why):
        self.failures.append(why)
        print(f"soak: FAIL {why}", flush=True)

    def stats(self):
        disks, queues, _ = disk_stats(fresh_command(self.m, "stats", timeout=300))
        return disks, queues

    def mem_free(self):
        out = fresh_command(self.m, "mem", timeout=300)
        found = ALLOC_RE.search(GUEST_LINE_RE.sub("", out))
        if not found:
            self.fail(f"`mem` printed no allocator_bytes line: {out[-300:]!r}")
            return None
        return int(found[2])

    def on_start(self, line):
        name = re.match(r"\[(\S+)\]", line)[1]
        t = self.g[name]
        f = fields(line.split("soak ", 1)[1])
        if t.boots:
            t.new_boot()
        else:
            t.boots = 1
        if f.get("bad", 0):
            self.fail(f"{name} boot {t.boots}: {f['bad']} blocks failed their own check at start")
        if t.mid_round_restart:
            # Stopped in its next round: the disk may hold a write the last line
            # does not know of. Every block still had to pass its own check.
            t.mid_round_restart = False
            t.rebase = True
            self.restart_mid += 1
        elif t.last_state is not None and f["state"] != t.last_state:
            self.fail(f"{name} boot {t.boots}: the disk holds table {f['state']}, the previous "
                      f"boot left {t.last_state}")
        elif t.last_state is not None:
            self.restart_checks += 1
        t.last_state = f["state"]

    def moved_on(self, name, since, until):
        """True if guest name printed a soak line after position since and before
        until in the log: its pause was over by then. Causal, not timed: the guest
        prints `soak resume` before any I/O of its next round, from its vCPU into
        the console queue, and the console CPU prints what is queued before each
        line of its own (kernel/console/console.c), so a count that includes the
        next round's I/O comes after that line in the log."""
        moved = re.compile(rf"^\[{re.escape(name)}\] LINUX-GUEST: soak (resume|round|start)",
                           re.M)
        return moved.search(self.m.log, since, until) is not None

    def on_round(self, mt):
        line = mt.group(0)
        name = mt[1]
        t = self.g[name]
        f = fields(line.split("soak ", 1)[1])
        t.cur = {k: f.get(k, 0) for k in ("writes", "reads", "verified", "mismatches", "resets",
                                          "kreqs", "ntx", "nrx")}
        t.cur["rounds"] = f["round"]
        t.last_state = f["state"]
        start = len(self.m.log)
        out = fresh_command(self.m, "stats", timeout=300)
        disks, queues, _ = disk_stats(out)
        qpos = self.m.log.find(f"queue guest={name} ", start)
        late = qpos < 0 or self.moved_on(name, mt.end(), qpos)
        qs = [q for (g, *_rest), q in queues.items() if g == name and len(_rest) == 2]
        sc = sum(q["requests"] for q in qs)
        self.sc_requests[name] = sc
        if t.rebase and not late and not any(q["inflight"] for q in qs):
            t.off["kreqs"] = sc - t.total("kreqs")
        guest = t.total("kreqs") + t.off["kreqs"]
        if any(q["errors"] for q in qs):
            self.fail(f"{name}: queue errors {[q['errors'] for q in qs]}")
        if disks.get(name, {}).get("state") != "ok":
            self.fail(f"{name}: disk state {disks.get(name, {}).get('state')}")
        if late:
            self.late += 1  # the guest is in its next round: only <= holds
            if sc < guest:
                self.fail(f"{name} round {f['round']}: Sidecore completed {sc} requests, the "
                          f"guest's kernel {guest}")
        elif sc != guest or any(q["inflight"] for q in qs):
            self.fail(f"{name} round {f['round']}: Sidecore completed {sc} requests "
                      f"(inflight {[q['inflight'] for q in qs]}), the guest's kernel {guest}")
        else:
            self.checks += 1
        self.check_net(name, f["round"], out, late or self.moved_on(name, mt.end(),
                                                                     len(self.m.log)))
        if t.restart_pending and not late:
            t.restart_pending = False
            start = len(self.m.log)
            out = fresh_command(self.m, f"guest restart {name}", timeout=300)
            if "restarted" not in out and f"guest {name} restarted" not in self.m.log[-4000:]:
                self.fail(f"guest restart {name}: {out.strip()[-200:]}")
            stop = self.m.log.find(f"sidecore: guest {name} stopped: restart requested", start)
            if self.moved_on(name, mt.end(), stop if stop >= 0 else len(self.m.log)):
                t.mid_round_restart = True
            t.restarts += 1

    def check_net(self, name, rnd, out, late):
        """In the pause after a round (nothing crosses the guest's switch then: its
        peer only answers it, ARP entries are static, IPv6 is off), on the guest's
        switch: the frames the guests' drivers handed to their virtio-net devices
        (tx_packets, counted in virtio/virtio_net_tx.c) are the frames the devices
        gave to guests (rx_packets, virtio/virtio_net_rx.c) plus those the switch
        counted as dropped or filtered (vmm/net/switch.c); and the guest's kernel
        counted (eth0 statistics, summed over its boots) what Sidecore counted."""
        nets, switches = net_stats(out)
        if not nets:
            return
        self.net_last = (nets, switches)
        t = self.g[name]
        sw, peer = SWITCHES[name], PEERS[name]
        mine = nets.get(name)
        port = switches.get(sw)
        if mine is None or port is None or peer not in nets:
            self.fail(f"{name}: `stats` shows no network device or switch {sw}: {nets} {switches}")
            return
        sent = mine["tx_packets"] + nets[peer]["tx_packets"]
        got = mine["rx_packets"] + nets[peer]["rx_packets"] + port["drops"] + port["filtered"]
        if t.rebase and not late:
            t.rebase = False
            t.off["ntx"] = mine["tx_packets"] - t.total("ntx")
            t.off["nrx"] = mine["rx_packets"] - t.total("nrx")
            print(f"soak t={now_iso()} {name}: counts rebased after a restart that fell in a "
                  f"round: {t.off}", flush=True)
        ktx, krx = t.total("ntx") + t.off["ntx"], t.total("nrx") + t.off["nrx"]
        if late:
            if ktx > mine["tx_packets"] or krx > mine["rx_packets"]:
                self.fail(f"{name} round {rnd}: the guest's kernel sent {ktx} and received {krx} "
                          f"frames, Sidecore counted {mine['tx_packets']} and "
                          f"{mine['rx_packets']}")
            return
        bad = []
        if sent != got:
            bad.append(f"switch {sw}: the guests sent {sent} frames, received "
                       f"{got - port['drops'] - port['filtered']}, {port['drops']} dropped, "
                       f"{port['filtered']} filtered")
        if ktx != mine["tx_packets"] or krx != mine["rx_packets"]:
            bad.append(f"the guest's kernel sent {ktx} and received {krx} frames, Sidecore "
                       f"counted {mine['tx_packets']} and {mine['rx_packets']}")
        if bad:
            self.fail(f"{name} round {rnd}: " + "; ".join(bad))
        else:
            self.net_checks += 1

    def on_sent(self, mt):
        t = self.g[mt[1]]
        f = fields(mt[2])
        t.net_sent += 1
        t.sent.append((f["bytes"], f["md5"]))
        self.match(t)

    def on_recv(self, mt):
        t = self.g[next(n for n, p in PEERS.items() if p == mt[1])]
        f = fields(mt[2])
        t.recv.append((f["bytes"], f["md5"]))
        self.match(t)

    def match(self, t):
        """Each transfer the peer received must be the next one the guest sent,
        byte for byte (md5). A transfer cut by a restart that fell in a round
        (mid_round_restart) reaches the peer short and was never printed as sent."""
        while t.sent and t.recv:
            s, r = t.sent[0], t.recv.pop(0)
            if r == s:
                t.sent.pop(0)
                t.net_verified += 1
            elif t.net_cut < self.restart_mid:
                t.net_cut += 1
            else:
                t.sent.pop(0)
                self.fail(f"{PEERS[t.name]} received {r[0]} bytes md5 {r[1]}, {t.name} sent "
                          f"{s[0]} bytes md5 {s[1]}")

    def on_bad_stopped(self, reason):
        """disk-bad finished a run: it must have passed (its RESULT line, 0 failed);
        then it starts again, to break its ring once more."""
        self.bad_runs += 1
        results = RESULT_RE.findall(self.m.log)
        ok = len(results) > self.bad_passed and int(results[-1][0]) > 0 and \
            int(results[-1][1]) == 0
        self.bad_passed = len(results)
        if not ok:
            self.fail(f"{BAD} run {self.bad_runs} did not pass (stopped: {reason}, "
                      f"last RESULT {results[-1:]})")
        self.bad_stopped_at = time.monotonic()

    def restart_bad_when_due(self):
        if self.bad_stopped_at is not None and \
                time.monotonic() - self.bad_stopped_at >= self.a.bad_every:
            self.bad_stopped_at = None
            out = fresh_command(self.m, f"guest restart {BAD}", timeout=300)
            if "restarted" not in out and f"guest {BAD} restarted" not in self.m.log[-4000:]:
                self.fail(f"guest restart {BAD}: {out.strip()[-200:]}")

    def interval_line(self):
        free = self.mem_free()
        self.mem_last = free
        parts = [f"t={now_iso()}", f"elapsed={time.monotonic() - self.t0:.0f}"]
        for n, t in self.g.items():
            p = n.replace("soak-", "")
            parts += [f"{p}_boots={t.boots}", f"{p}_rounds={t.total('rounds')}",
                      f"{p}_writes={t.total('writes')}", f"{p}_verified={t.total('verified')}",
                      f"{p}_mismatches={t.total('mismatches')}", f"{p}_resets={t.total('resets')}",
                      f"{p}_kreqs={t.total('kreqs')}", f"{p}_sc_requests={self.sc_requests[n]}"]
            nets, switches = self.net_last
            mine, sw = nets.get(n, {}), switches.get(SWITCHES[n], {})
            parts += [f"{p}_net_sent={t.net_sent}", f"{p}_net_verified={t.net_verified}",
                      f"{p}_ktx={t.total('ntx')}", f"{p}_krx={t.total('nrx')}",
                      f"{p}_sc_tx={mine.get('tx_packets', 0)}",
                      f"{p}_sc_rx={mine.get('rx_packets', 0)}",
                      f"{p}_sw_in={sw.get('rx', 0)}", f"{p}_sw_out={sw.get('tx', 0)}",
                      f"{p}_sw_drops={sw.get('drops', 0) + sw.get('filtered', 0)}"]
        parts += [f"bad_runs={self.bad_runs}", f"bad_breaks={len(BROKEN_RE.findall(self.m.log))}",
                  f"restart_checks={self.restart_checks}", f"restart_mid={self.restart_mid}",
                  f"checks={self.checks}", f"net_checks={self.net_checks}",
                  f"late={self.late}", f"free_bytes={free}",
                  f"failures={len(self.failures)}"]
        print("soak " + " ".join(parts), flush=True)

    def events(self):
        """The new lines that matter, in log order."""
        log = self.m.log
        end = log.rfind("\n") + 1
        found = []
        for regex, kind in ((ROUND_RE, "round"), (START_RE, "start"), (TROUBLE_RE, "trouble"),
                            (PEER_TROUBLE_RE, "trouble"), (STOPPED_RE, "stopped"),
                            (SENT_RE, "sent"), (RECV_RE, "recv")):
            for mt in regex.finditer(log, self.pos, end):
                found.append((mt.start(), kind, mt))
        self.pos = end
        return sorted(found, key=lambda e: e[0])

    def enough(self):
        """However short the run, each kind of event happened at least once: every
        Linux guest did rounds, a guest restart was checked, a device reset, a run
        of disk-bad."""
        return self.mem_start is not None and self.bad_runs > 0 and \
            (self.restart_checks > 0 or not self.a.restart_every) and \
            all(t.total("resets") > 0 and t.net_verified > 0 for t in self.g.values())

    def run(self):
        a = self.a
        self.m.expect(r"^sidecore: ready", 300, what="'sidecore: ready'")
        deadline = time.monotonic() + a.duration
        next_line = time.monotonic() + a.interval
        next_restart = 0  # the first restart as soon as every guest is in its loop
        which = 0
        while True:
            if not self.m.running():
                self.fail("the emulator exited")
                return
            for _, kind, mt in self.events():
                line = mt.group(0)
                if kind == "start":
                    self.on_start(line)
                elif kind == "round":
                    self.on_round(mt)
                    if self.mem_start is None and all(t.total("rounds") > 0
                                                      for t in self.g.values()):
                        self.mem_start = self.mem_free()
                        print(f"soak t={now_iso()} baseline free_bytes={self.mem_start}",
                              flush=True)
                elif kind == "sent":
                    self.on_sent(mt)
                elif kind == "recv":
                    self.on_recv(mt)
                elif kind == "trouble":
                    self.fail(line)
                elif kind == "stopped":
                    if mt[1] == BAD:
                        self.on_bad_stopped(mt[2])
                    elif (mt[1] in self.g or mt[1] in PEERS.values()) and \
                            "restart requested" not in mt[2]:
                        self.fail(line)
            now = time.monotonic()
            self.restart_bad_when_due()
            if a.restart_every and now >= next_restart and self.mem_start is not None:
                self.g[LINUX[which % len(LINUX)]].restart_pending = True
                which += 1
                next_restart = now + a.restart_every
            if now >= next_line:
                self.interval_line()
                next_line = now + a.interval
            if now >= deadline and self.enough():
                break
            if now >= deadline + a.grace:
                self.fail(f"not every kind of event happened within {a.grace:.0f} s past the "
                          "duration (rounds, a restart checked, a device reset and a "
                          "transfer per guest, a disk-bad run)")
                return
            time.sleep(0.5)
        # The end. A guest being restarted holds a few pages for a moment (seen:
        # 12 KiB, back at the next look): a drop must persist for 30 s to count.
        self.interval_line()
        for _ in range(3):
            if self.mem_last is None or self.mem_start is None or \
                    self.mem_last >= self.mem_start:
                break
            time.sleep(10)
            self.mem_last = self.mem_free()
        if self.mem_last is not None and self.mem_start is not None and \
                self.mem_last < self.mem_start:
            self.fail(f"the allocator's free bytes dropped from {self.mem_start} to "
                      f"{self.mem_last}")
        for t in self.g.values():
            if t.total("rounds") == 0:
                self.fail(f"{t.name} completed no round")
            if t.total("verified") == 0:
                self.fail(f"{t.name} verified nothing")
        if self.bad_runs == 0:
            self.fail(f"{BAD} never finished a run")
        if self.checks == 0:
            self.fail("no request-count comparison was made in a pause")
        self.end_net()

    def end_net(self):
        """The network at the end: every transfer the guests printed as sent reached
        the peer intact (the last one may still be on its way: a few seconds), and
        on each switch the frames sent are the frames received plus the counted
        drops, read in a moment when no frame is in flight (the guests keep
        running: up to a minute of tries)."""
        for _ in range(30):
            for _, kind, mt in self.events():
                if kind == "sent":
                    self.on_sent(mt)
                elif kind == "recv":
                    self.on_recv(mt)
            if all(not t.sent for t in self.g.values()):
                break
            time.sleep(2)
        for t in self.g.values():
            if t.sent:
                self.fail(f"{t.name}: {len(t.sent)} transfer(s) never reached {PEERS[t.name]}")
            if t.net_verified == 0:
                self.fail(f"{t.name}: no network transfer verified")
        last = None
        for _ in range(30):
            nets, switches = net_stats(fresh_command(self.m, "stats", timeout=300))
            last = {}
            for name, sw in SWITCHES.items():
                port = switches.get(sw, {})
                sent = sum(nets.get(g, {}).get("tx_packets", 0) for g in (name, PEERS[name]))
                got = sum(nets.get(g, {}).get("rx_packets", 0) for g in (name, PEERS[name]))
                last[sw] = (sent, got, port.get("drops", 0), port.get("filtered", 0))
            if all(v[0] == v[1] + v[2] + v[3] and v[0] > 0 for v in last.values()):
                break
            time.sleep(2)
        else:
            self.fail(f"the switches' frames never added up (sent, received, dropped, "
                      f"filtered): {last}")
        self.net_end = last
        print(f"soak t={now_iso()} net_end " + " ".join(
            f"{sw}_sent={v[0]} {sw}_received={v[1]} {sw}_dropped={v[2]} {sw}_filtered={v[3]}"
            for sw, v in last.items()), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=parse_duration, default=parse_duration("5m"),
                    help="how long the guests run after Sidecore is up (2h, 10m, 300s)")
    ap.add_argument("--interval", type=float, default=30, help="seconds between lines")
    ap.add_argument("--restart-every", type=float, default=60,
                    help="seconds between Linux guest restarts (alternating guests; 0: none)")
    ap.add_argument("--bad-every", type=float, default=30,
                    help=f"seconds between {BAD}'s end and its restart")
    ap.add_argument("--grace", type=parse_duration, default=parse_duration("10m"),
                    help="how long past the duration the run may go on until each kind of "
                    "event has happened once (then it fails)")
    ap.add_argument("--smp", type=int, default=7, help="QEMU CPUs (boot + sidecore + 5 guests)")
    a = ap.parse_args()
    cfg = build_dir() / "linux" / "soak.cfg"
    if not cfg.exists():
        raise SystemExit(f"soak: {cfg} not found (make linux-guest)")
    a.idle = int(re.search(r"sidecore\.soak_idle=(\d+)", cfg.read_text())[1])
    gt = build_dir() / "guest-tests"
    for f in ("vblk-bad.elf", "vblk-bad.img"):
        if not (gt / f).exists():
            raise SystemExit(f"soak: {gt / f} not found (make guest-tests)")
        shutil.copy(gt / f, cfg.parent / f)
    for g in LINUX:
        with open(cfg.parent / f"{g}.img", "wb") as f:
            f.truncate(DISK_MB * 2**20)
    print(f"soak t={now_iso()} begin duration={a.duration:.0f} interval={a.interval:.0f} "
          f"restart_every={a.restart_every:.0f} emulator=qemu-tcg-svm smp={a.smp} "
          f"guests={','.join(LINUX)},{','.join(PEERS.values())},{BAD} "
          f"io=sidecore,trap,sidecore,trap,sidecore", flush=True)
    m = Machine("soak", emulator="qemu", accel="tcg", smp=a.smp, memory=1024,
                image=image_for("soak", cfg), timeout=int(a.duration) + 1800,
                extra_args=SVM_CPU)
    s = None
    try:
        with m:
            s = Soak(m, a)
            s.run()
    except MachineError as e:
        if s is None:
            print(f"soak: {e}", file=sys.stderr)
            return 1
        s.fail(str(e).splitlines()[0])
    res = "pass" if not s.failures else "fail"
    t = s.g
    print(f"soak t={now_iso()} result={res} elapsed={time.monotonic() - s.t0:.0f} "
          f"verified={sum(x.total('verified') for x in t.values())} "
          f"mismatches={sum(x.total('mismatches') for x in t.values())} "
          f"restarts={sum(x.restarts for x in t.values())} "
          f"resets={sum(x.total('resets') for x in t.values())} bad_runs={s.bad_runs} "
          f"net_verified={sum(x.net_verified for x in t.values())} "
          f"restart_checks={s.restart_checks} restart_mid={s.restart_mid} checks={s.checks} "
          f"net_checks={s.net_checks} late={s.late} free_start={s.mem_start} "
          f"free_end={s.mem_last} "
          f"failures={len(s.failures)}", flush=True)
    for f in s.failures[:20]:
        print(f"soak: failure: {f}", flush=True)
    print(f"soak: log {m.log_path}", flush=True)
    return 0 if res == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
