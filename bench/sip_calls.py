#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent SIP fax calls between two faxd on loopback (bench/run.sh --only sip, 8-12 min).

A sends, B receives; each faxd has its own config and store in a temp dir and one SIP line
(faxd/line_sip.c) with `channels = N`, SIP and RTP/UDPTL on 127.0.0.1, disjoint RTP ranges. For
each medium (G.711 A-law RTP, T.38 UDPTL offered in the first INVITE) and N in a ramp, both faxd
are started afresh, N one-page standard-resolution jobs (mkfaxtiff, as tests/integration/
test_sip.py's doc()) are submitted on A at once (N `faxctl send` in parallel), and the batch is
timed until every job has its final `fax to=` line on A and B has logged N `fax from=` lines. A
batch is complete when every job is `done` with 1/1 pages (`faxctl --json jobs`) and B's store
holds N inbound faxes of 1 page, none partial (read from the store: `faxctl inbound` lists at most
100). CPU of each faxd from /proc/PID/stat (utime + stime) before the submission and after the
batch; per thread from /proc/PID/task/*/stat and schedstat (the busiest thread is the media
thread, which also runs the SIP agent), sampled every 100 ms for its busiest 0.1 s and 1 s. The
ramp stops at the first incomplete batch, at a batch whose calls took over 1.5x the N = 1 batch,
or when the next batch would pass the time budget.

Media deadlines: faxd does not report its media thread's missed 20 ms deadlines
(lines_get_stats() is read only by bench_channels and the unit tests), so when perf can be used
(root, or perf_event_paranoid allowing it) the media thread's clock_nanosleep calls are traced
(two tracepoints, 50 events a second each) and the work between wake-up and the next sleep gives
the ticks that overran 20 ms and 60 ms (the far end's jitter-buffer prefill) and the longest.

Reference, run in the same session: the same document and job path (faxctl send, claim, store)
over faxd's in-process loop line, unpaced (pacing = fast), where one faxd runs both ends of each
call; SIP CPU per call (A + B) / loop CPU per call (median of 3 batches) is the cost of SIP
signalling, RTP or UDPTL over real sockets, the jitter buffer and real-time pacing.

    bench/sip_calls.py [--media audio|t38|both] [--ramp 1,8,32,...] [--budget SECONDS] [--loop-n N]
                      [--keep DIR] [--debug]
Prints a markdown summary on stdout, progress on stderr.
"""
import argparse
import contextlib
import datetime
import json
import os
import pathlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = ROOT / "bin"
MKFAXTIFF = ROOT / "build" / "tests" / "helpers" / "mkfaxtiff"
TCK = os.sysconf("SC_CLK_TCK")
SLOW = 1.5  # a batch whose calls took this much longer than the N = 1 call stops the ramp


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Faxd:
    """One faxd with its own home, config and store."""

    def __init__(self, home, config):
        self.home = home
        home.mkdir()
        conf = home / "faxgate.conf"
        conf.write_text(config)
        self.env = dict(os.environ, FAXGATE_HOME=str(home), FAXGATE_CONFIG=str(conf))
        self.logpath = home / "faxd.log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([str(BIN / "faxd")], env=self.env, cwd=home, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait(lambda: "status=running" in self.text(), 15, "faxd start")

    def text(self):
        return self.logpath.read_text()

    def faxctl(self, *args):
        res = subprocess.run([str(BIN / "faxctl"), *args], env=self.env, cwd=self.home, capture_output=True,
                             text=True, timeout=60)
        if res.returncode != 0:
            raise SystemExit(f"faxctl {args}: exit {res.returncode}: {res.stdout}{res.stderr}")
        return res.stdout

    def cpu(self):
        """CPU seconds of the process (all threads); per thread by tid, CPU seconds and seconds
        spent runnable but waiting for a CPU (schedstat)."""
        total = proc_cpu(f"/proc/{self.proc.pid}/stat")
        threads = {}
        for t in pathlib.Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                wait_ns = int((t / "schedstat").read_text().split()[1])
                threads[t.name] = (proc_cpu(t / "stat"), wait_ns / 1e9)
            except OSError:
                pass
        return total, threads

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class Sampler(threading.Thread):
    """Every 100 ms, each thread's CPU time: the busiest 100 ms and 1 s of a faxd's busiest thread
    show a media thread that fell behind its 20 ms clock (the mean over a batch hides it)."""

    def __init__(self, ends):
        super().__init__(daemon=True)
        self.ends, self.samples, self.stop_ = ends, [], threading.Event()

    def run(self):
        while not self.stop_.is_set():
            row = [time.monotonic()]
            for x in self.ends:
                cpu = {}
                for t in pathlib.Path(f"/proc/{x.proc.pid}/task").iterdir():
                    try:
                        cpu[t.name] = proc_cpu(t / "stat")
                    except (OSError, IndexError):
                        pass
                row.append(cpu)
            self.samples.append(row)
            self.stop_.wait(0.1)

    def peaks(self, tid_of):
        """Per end: (max share of a core in any 0.1 s, in any 1 s, 0.1 s steps at >= 90 %) of thread tid_of[i]."""
        out = []
        for i, tid in enumerate(tid_of):
            pts = [(r[0], r[1 + i].get(tid)) for r in self.samples if r[1 + i].get(tid) is not None]
            def share(k):
                best = 0.0
                for j in range(k, len(pts)):
                    dt = pts[j][0] - pts[j - k][0]
                    if dt > 0:
                        best = max(best, (pts[j][1] - pts[j - k][1]) / dt)
                return best
            steps = [(pts[j][1] - pts[j - 1][1]) / (pts[j][0] - pts[j - 1][0])
                     for j in range(1, len(pts)) if pts[j][0] > pts[j - 1][0]]
            busy = sum(1 for x in steps if x >= 0.9)
            out.append((share(1), share(10), busy))
        return out


class TickTrace:
    """The media thread's ticks from perf's clock_nanosleep tracepoints (when perf is installed and
    allowed): the work between waking and the next sleep is one tick's (or, once behind, several
    ticks' run back to back). Work over 20 ms is a missed deadline; over 60 ms is more than the
    far end's jitter buffer holds back (rtp.c prefill), so G.711 audio is lost; over 200 ms the
    thread re-bases its clock (line.c) and skips the time."""

    EVENTS = "syscalls:sys_enter_clock_nanosleep,syscalls:sys_exit_clock_nanosleep"

    def __init__(self, fx, path):
        self.path, self.proc = path, None
        if PERF:
            self.proc = subprocess.Popen(["perf", "record", "-q", "-e", self.EVENTS, "-p", str(fx.proc.pid),
                                          "-o", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def finish(self):
        """(ticks slept, ticks over 20 ms, over 60 ms, longest ms) of the busiest sleeper, or None."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)
        out = subprocess.run(["perf", "script", "-i", str(self.path), "-F", "tid,time,event"], capture_output=True,
                             text=True).stdout
        events = {}
        for ln in out.splitlines():
            f = ln.split()
            if len(f) >= 3:
                events.setdefault(f[0], []).append((float(f[1].rstrip(":")), "exit" in f[2]))
        if not events:
            return None
        spans, woke = [], None
        for t, is_exit in events[max(events, key=lambda k: len(events[k]))]:
            if is_exit:
                woke = t
            elif woke is not None:
                spans.append(t - woke)
                woke = None
        return (len(spans), sum(x > 0.020 for x in spans), sum(x > 0.060 for x in spans),
                1000 * max(spans, default=0.0))


def perf_usable():
    try:
        res = subprocess.run(["perf", "record", "-q", "-e", TickTrace.EVENTS, "-o", "/dev/null", "true"],
                             capture_output=True, timeout=20)
        return res.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


PERF = False


def proc_cpu(path):
    fields = pathlib.Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK  # utime, stime (fields 14, 15)


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


LOG_LEVEL = "info"


def common_config(node):
    # max_tries/max_dials 1: a failed call ends its job, so a failure shows in the batch it happened
    return (f"[faxgate]\nnode = {node}\nlog_level = {LOG_LEVEL}\n"
            "[faxd]\npoll_interval = 1\nmax_calls_per_destination = 1000\n"
            "[retry]\nmax_tries = 1\nmax_dials = 1\n")


def sip_config(node, ident, listen, peer, rtp_min, rtp_max, media, n):
    return (common_config(node) +
            f"[line sip]\ntype = sip\nident = {ident}\nsip_listen = 127.0.0.1:{listen}\n"
            f"sip_peer = 127.0.0.1:{peer}\nrtp_port_min = {rtp_min}\nrtp_port_max = {rtp_max}\n"
            f"media = {media}\nchannels = {n}\n")


def submit(fx, doc, n):
    """N `faxctl send` at once; returns the job ids."""
    procs = [subprocess.Popen([str(BIN / "faxctl"), "send", "--to", "+12125550100", str(doc)], env=fx.env,
                              cwd=fx.home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(n)]
    jobs = []
    for p in procs:
        out = p.communicate(timeout=120)[0]
        m = re.search(r"^(J[0-9A-Z]{9}): queued", out, re.M)
        if not m:
            raise SystemExit(f"faxctl send: {out}")
        jobs.append(m.group(1))
    return jobs


def final_lines(fx):
    return [ln for ln in fx.text().splitlines() if " fax to=" in ln and " state=queued " not in ln]


def rx_lines(fx):
    return [ln for ln in fx.text().splitlines() if " fax from=" in ln]


def thread_deltas(before, after):
    """(CPU s, runqueue wait s, tid) per thread over the batch, busiest first."""
    return sorted(((c - before.get(t, (0.0, 0.0))[0], w - before.get(t, (0.0, 0.0))[1], t)
                   for t, (c, w) in after.items()), reverse=True)


def stamp(line):
    return datetime.datetime.fromisoformat(line.split()[0]).timestamp()


def call_seconds(fx):
    """Per job: from faxd's `dialing` line to its `fax to=` line (log stamps, ms)."""
    dial, end = {}, {}
    for ln in fx.text().splitlines():
        m = re.search(r" (J[0-9A-Z]{9}): (dialing|fax to=)", ln)
        if m:
            (dial if m.group(2) == "dialing" else end)[m.group(1)] = stamp(ln)
    return sorted(end[j] - dial[j] for j in end if j in dial)


def batch(tmp, doc, media, n, timeout, a_cfg, b_cfg=None, idle_s=0):
    """One batch of N calls A -> B (B None: A's loop line calls its own simulated far end). With
    idle_s, first the CPU each faxd spends per second with no call (the SIP media thread ticks
    every 20 ms regardless)."""
    a = Faxd(tmp / "a", a_cfg)
    b = Faxd(tmp / "b", b_cfg) if b_cfg else None
    ends = [x for x in (a, b) if x]
    try:
        time.sleep(1.0)  # start-up work out of the window
        idle = None
        if idle_s:
            c0 = [x.cpu()[0] for x in ends]
            time.sleep(idle_s)
            idle = [(x.cpu()[0] - c) / idle_s for x, c in zip(ends, c0)]
        load0 = os.getloadavg()[0]
        cpu0 = [x.cpu() for x in ends]
        traces = [TickTrace(x, tmp / f"ticks-{i}.perf") for i, x in enumerate(ends)] if b else []
        time.sleep(0.5 if traces and PERF else 0)  # perf attached
        sampler = Sampler(ends)
        sampler.start()
        t0 = time.monotonic()
        jobs = submit(a, doc, n)
        try:
            wait(lambda: len(final_lines(a)) >= n and (b is None or len(rx_lines(b)) >= n), timeout,
                 f"{n} calls")
            timed_out = False
        except TimeoutError:
            timed_out = True
        wall = time.monotonic() - t0
        cpu1 = [x.cpu() for x in ends]
        sampler.stop_.set()
        sampler.join()
        ticks = [t.finish() for t in traces]
        load1 = os.getloadavg()[0]
        listed = json.loads(a.faxctl("--json", "jobs", "--limit", str(n + 10)))
        by_id = {j.get("job"): j for j in listed}
        done = sum(1 for j in jobs if by_id.get(j, {}).get("state") == "done" and by_id[j].get("pages") == "1/1")
        if b:
            # the store itself: `faxctl inbound` lists at most 100
            with contextlib.closing(sqlite3.connect(f"file:{b.home / 'faxgate.db'}?mode=ro", uri=True)) as db:
                good_rx = db.execute("SELECT count(*) FROM inbound WHERE pages = 1 AND partial = 0").fetchone()[0]
        else:
            good_rx = done
        bad = [ln for x in ends for ln in x.text().splitlines()
               if re.search(r" (warning|error|WARN|ERR)", ln) or (" result=" in ln and " result=ok" not in ln)]
        r = {
            "n": n, "media": media, "wall": wall, "done": done, "rx": good_rx, "timed_out": timed_out,
            "complete": not timed_out and done == n and good_rx == n,
            "cpu": [c1[0] - c0[0] for c0, c1 in zip(cpu0, cpu1)],
            "threads": [thread_deltas(c0[1], c1[1]) for c0, c1 in zip(cpu0, cpu1)],
            "load": (load0, load1), "bad": bad[:8], "nbad": len(bad), "idle": idle, "calls": call_seconds(a),
            "ticks": ticks,
            "peaks": sampler.peaks([thread_deltas(c0[1], c1[1])[0][2] for c0, c1 in zip(cpu0, cpu1)]),
        }
        return r
    finally:
        for x in ends:
            x.stop()


def fmt_threads(deltas):
    top = [f"{c:.1f} s cpu, {w:.2f} s waiting" for c, w, _ in deltas[:2] if c >= 0.05]
    return ", ".join(top) if top else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", default="both", choices=["audio", "t38", "both"])
    ap.add_argument("--ramp", default="1,8,32,64,96,128,192,256")
    ap.add_argument("--budget", type=float, default=660, help="seconds for the SIP ramps, both media")
    ap.add_argument("--loop-n", type=int, default=32, help="calls per loop-line reference batch")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR (created) and keep the homes and logs")
    ap.add_argument("--debug", action="store_true", help="faxd log_level = debug (spandsp's T.30 messages)")
    args = ap.parse_args()
    global LOG_LEVEL, PERF
    if args.debug:
        LOG_LEVEL = "debug"
    PERF = perf_usable()
    if not PERF:
        print("perf not usable: media thread ticks not traced", file=sys.stderr)
    ramp = [int(x) for x in args.ramp.split(",")]
    media_list = ["audio", "t38"] if args.media == "both" else [args.media]
    for need in (BIN / "faxd", BIN / "faxctl", MKFAXTIFF):
        if not need.exists():
            raise SystemExit(f"{need} missing: make all build/tests/helpers/mkfaxtiff")
    host = socket.gethostname()
    print(f"sip_calls: host {host}, {os.cpu_count()} CPUs online, load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; document 1 standard A4 page "
          f"(mkfaxtiff --seed 3), V.17 ECM\n")
    start = time.monotonic()
    results = {}
    loops = {}
    if args.keep:
        os.makedirs(args.keep)
    with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="bench-sip-")) as d:
        tmp = pathlib.Path(d)
        doc = tmp / "doc.tiff"
        subprocess.run([str(MKFAXTIFF), str(doc), "--pages", "1", "--res", "standard", "--seed", "3"], check=True)
        seq = 0
        for media in media_list:
            # reference: the loop line, unpaced, same document, same job path
            # (3 batches, the median CPU is the reference)
            ln = args.loop_n
            cfg = (common_config("L") +
                   f"[line loop]\ntype = loop\npacing = fast\nmedia = {media}\nchannels = {ln}\n")
            runs = []
            for _ in range(3):
                seq += 1
                bdir = tmp / f"run{seq}"
                bdir.mkdir()
                r = batch(bdir, doc, media, ln, 120, cfg)
                runs.append(r)
                print(f"loop {media} N={ln}: complete={r['complete']} wall {r['wall']:.1f} s cpu {r['cpu'][0]:.2f} s",
                      file=sys.stderr)
            runs.sort(key=lambda r: r["cpu"][0])
            loops[media] = dict(runs[1], complete=all(r["complete"] for r in runs),
                                cpu_range=(runs[0]["cpu"][0] / ln, runs[2]["cpu"][0] / ln))
        budget_each = args.budget / len(media_list)
        for media in media_list:
            results[media] = []
            m0 = time.monotonic()
            single = None
            for n in ramp:
                # a batch of calls runs ~35 s plus start-up; stop before passing this medium's budget
                est = (single or 40) * 1.3 + 6
                if results[media] and time.monotonic() - m0 + est > budget_each:
                    print(f"{media}: stopping before N={n}: budget", file=sys.stderr)
                    break
                seq += 1
                bdir = tmp / f"run{seq}"
                bdir.mkdir()
                pa, pb = free_udp_port(), free_udp_port()
                span = max(200, 8 * n)
                a_cfg = sip_config("A", "+1 212 555 0101", pa, pb, 20000, 20000 + span - 1, media, n)
                b_cfg = sip_config("B", "+1 212 555 0102", pb, pa, 24000, 24000 + span - 1, media, n)
                r = batch(bdir, doc, media, n, 3 * (single or 45) + 30, a_cfg, b_cfg, idle_s=0 if single else 10)
                results[media].append(r)
                if single is None:
                    single = r["wall"]
                    print(f"{media}: idle CPU A {1000 * r['idle'][0]:.1f} B {1000 * r['idle'][1]:.1f} ms/s",
                          file=sys.stderr)
                print(f"{media} N={n}: complete={r['complete']} done={r['done']} rx={r['rx']} wall {r['wall']:.1f} s "
                      f"media thread peaks A/B (0.1 s, 1 s, 0.1 s steps >= 90 %) "
                      f"{' '.join(f'{100 * x:.0f}%,{100 * y:.0f}%,{z}' for x, y, z in r['peaks'])} "
                      f"cpu A {r['cpu'][0]:.2f} B {r['cpu'][1]:.2f} s load {r['load'][0]:.2f}->{r['load'][1]:.2f}"
                      f" ticks A/B (slept, >20 ms, >60 ms, longest ms) "
                      f"{' '.join(f'{t[0]},{t[1]},{t[2]},{t[3]:.0f}' if t else '-' for t in r['ticks'])}"
                      f" threads A [{fmt_threads(r['threads'][0])}] B [{fmt_threads(r['threads'][1])}]",
                      file=sys.stderr)
                for ln_ in r["bad"]:
                    print(f"  {ln_}", file=sys.stderr)
                if not r["complete"]:
                    break
                if r["wall"] > SLOW * single:
                    print(f"{media}: N={n} took {r['wall'] / single:.2f}x the single call: stopping", file=sys.stderr)
                    break
    report(media_list, results, loops, time.monotonic() - start)


def report(media_list, results, loops, elapsed):
    names = {"audio": "G.711 A-law (RTP)", "t38": "T.38 (UDPTL, redundancy 3)"}
    print("| media | N | complete | batch wall s | call s median / max | CPU s A (send) · B (receive) | "
          "CPU ms/call A · B | **A+B ms/call** | **ratio to loop** | media thread A · B: % of a core mean / "
          "busiest 1 s / busiest 0.1 s, runqueue wait | media ticks A · B: over 20 ms / over 60 ms / longest ms | "
          "load avg |")
    print("|---|---:|---|---:|---|---|---|---:|---:|---|---|---|")
    for media in media_list:
        lp = loops[media]
        loop_ms = 1000 * lp["cpu"][0] / lp["n"]
        for r in results.get(media, []):
            n = r["n"]
            a_ms, b_ms = 1000 * r["cpu"][0] / n, 1000 * r["cpu"][1] / n
            busy = " · ".join(f"{100 * t[0][0] / r['wall']:.0f} / {100 * pk[1]:.0f} / {100 * pk[0]:.0f} %, "
                              f"{t[0][1]:.2f} s" for t, pk in zip(r["threads"], r["peaks"]))
            ticks = " · ".join(f"{t[1]} / {t[2]} / {t[3]:.0f}" if t else "-" for t in r["ticks"] or [None])
            status = "yes" if r["complete"] else f"**no** ({r['done']} done, {r['rx']} received)"
            calls = r["calls"]
            cs = f"{calls[len(calls) // 2]:.1f} / {calls[-1]:.1f}" if calls else "-"
            print(f"| {names[media]} | {n} | {status} | {r['wall']:.1f} | {cs} | "
                  f"{r['cpu'][0]:.2f} · {r['cpu'][1]:.2f} | "
                  f"{a_ms:.0f} · {b_ms:.0f} | {a_ms + b_ms:.0f} | {(a_ms + b_ms) / loop_ms:.1f} | {busy} | {ticks} | "
                  f"{r['load'][0]:.2f}→{r['load'][1]:.2f} |")
    print()
    print("| media | largest N, all complete | first N not complete | idle CPU per faxd (ms/s) A · B | loop line "
          "reference: N, complete | loop CPU ms/call (both ends), median (range) of 3 | loop wall s |")
    print("|---|---:|---|---|---|---:|---:|")
    for media in media_list:
        rows = results.get(media, [])
        ok = [r["n"] for r in rows if r["complete"]]
        bad = [r["n"] for r in rows if not r["complete"]]
        idle = rows[0]["idle"] if rows and rows[0]["idle"] else None
        idle_s = f"{1000 * idle[0]:.1f} · {1000 * idle[1]:.1f}" if idle else "-"
        lp = loops[media]
        print(f"| {names[media]} | **{max(ok) if ok else 0}** | {bad[0] if bad else 'none (ramp ended)'} | {idle_s} | "
              f"{lp['n']}, {'yes' if lp['complete'] else 'no'} | {1000 * lp['cpu'][0] / lp['n']:.1f} "
              f"({1000 * lp['cpu_range'][0]:.1f}–{1000 * lp['cpu_range'][1]:.1f}) | "
              f"{lp['wall']:.1f} |")
    print(f"\nelapsed {elapsed:.0f} s, load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
