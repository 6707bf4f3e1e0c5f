#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mailer benchmarks (bench/run.sh --only mail), against a real SMTP sink (aiosmtpd) on loopback:

1. received fax to relay: the time from the end of a received call (faxd's "fax from=" log line)
   to the relay's 250 (the sink's record), for 3-page faxes on the loop line; aim under 1 s.
2. notifications per second: N finished jobs are put in the store with their "done" events, the
   mailer composes and delivers a notification for each through the sink; side by side, Postfix's
   smtp-source sends N messages of the same size to the same sink with the same parallelism, so
   the ratio says how much of the rate is the mailer and how much the sink.
"""
import datetime
import json
import os
import pathlib
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
from smtp_sink import SinkProcess  # noqa: E402

BIN = ROOT / "bin"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def write_config(home, sink_port, connections):
    conf = home / "faxgate.conf"
    conf.write_text(
        "[faxgate]\nnode = bench\n[faxd]\npoll_interval = 1\n"
        "[mail]\npoll_interval_ms = 50\nfrom = Fax Gateway <fax-gw@example.com>\n"
        "[routes]\n100 = alice@example.com, format=pdf\n"
        f"[mailroute relay]\ntransport = smtp\nhost = 127.0.0.1\nport = {sink_port}\ntls = none\n"
        f"connections = {connections}\n[line loop]\ntype = loop\n")
    return dict(os.environ, FAXGATE_HOME=str(home), FAXGATE_CONFIG=str(conf))


def start(env, home, name):
    log = open(home / f"{name}.log", "w")
    return subprocess.Popen([str(BIN / name)], env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(procs):
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)


def wait(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise SystemExit("timed out")


def call_end_times(home):
    """R-id -> end of the received call (faxd's local-time log stamp) as a Unix time."""
    ends = {}
    for line in (home / "faxd.log").read_text().splitlines():
        if " fax from=" in line and ": R" in line:
            stamp = datetime.datetime.fromisoformat(line.split()[0]).timestamp()
            ends[line.split(": ")[1]] = stamp
    return ends


def bench_received(count=10):
    with tempfile.TemporaryDirectory() as d:
        home = pathlib.Path(d)
        sink = SinkProcess(home)
        env = write_config(home, sink.port, 2)
        procs = [start(env, home, "faxd"), start(env, home, "mailer")]
        doc = home / "doc.tiff"
        subprocess.run([str(ROOT / "build/tests/helpers/mkfaxtiff"), str(doc), "--pages", "3", "--res", "fine",
                        "--seed", "1"], check=True)
        latencies = []
        for i in range(count):
            subprocess.run([str(BIN / "faxctl"), "loop-call", "--did", "100", str(doc)], env=env, check=True,
                           capture_output=True)
            wait(lambda: len(sink.messages()) > i)
        for m in sink.messages():
            text = pathlib.Path(m["file"]).read_bytes().decode("utf-8", "replace")
            rid = next(line.split(": ")[1].strip() for line in text.splitlines()
                       if line.lower().startswith("x-fax-job-id:"))
            latencies.append(m["time"] - call_end_times(home)[rid])
        stop(procs)
        sink.stop()
    latencies.sort()
    print(f"received 3-page fax -> relay 250: n={count} median={statistics.median(latencies) * 1000:.0f} ms "
          f"p90={latencies[int(0.9 * (count - 1))] * 1000:.0f} ms max={latencies[-1] * 1000:.0f} ms")


def job_id(n):
    s = ""
    for _ in range(9):
        s = CROCKFORD[n % 32] + s
        n //= 32
    return "J" + s


def seed_jobs(home, env, n):
    subprocess.run([str(BIN / "faxctl"), "status"], env=env, check=True, capture_output=True)  # creates the store
    db = sqlite3.connect(home / "faxgate.db")
    now = int(time.time())
    for i in range(n):
        jid = job_id(1000 + i)
        db.execute("INSERT INTO jobs (id, state, owner, sender, number, notify, notify_to, created_at, updated_at,"
                   " completed_at, pages_total, pages_done, result_code, result_text, remote_ident)"
                   " VALUES (?, 'done', 'anne@example.com', 'anne@example.com', '+12125550100', 'always',"
                   " 'anne@example.com', ?, ?, ?, 3, 3, 'sent', 'sent 3 pages', '+1 212 555 0199')",
                   (jid, now, now, now))
        db.execute("INSERT INTO job_events (job_id, at, node, from_state, to_state, text)"
                   " VALUES (?, ?, 'bench', 'sending', 'done', 'sent')", (jid, now))
    db.commit()
    db.close()


def bench_notices(n=500, connections=4):
    with tempfile.TemporaryDirectory() as d:
        home = pathlib.Path(d)
        sink = SinkProcess(home)
        env = write_config(home, sink.port, connections)
        seed_jobs(home, env, n)
        t0 = time.monotonic()
        procs = [start(env, home, "mailer")]
        wait(lambda: len(sink.messages()) >= n, timeout=600)
        ours = time.monotonic() - t0
        size = int(statistics.mean(m["size"] for m in sink.messages()))
        stop(procs)
        sink.stop()
        ref_sink = SinkProcess(home / "ref" if (home / "ref").mkdir() is None else home)
        t0 = time.monotonic()
        subprocess.run(["smtp-source", "-m", str(n), "-s", str(connections), "-l", str(size), "-f", "a@example.com",
                        "-t", "b@example.com", f"127.0.0.1:{ref_sink.port}"], check=True)
        wait(lambda: len(ref_sink.messages()) >= n, timeout=600)
        ref = time.monotonic() - t0
        ref_sink.stop()
    print(f"notifications: n={n} size~{size} B connections={connections}: mailer {n / ours:.0f}/s "
          f"(compose + deliver), smtp-source {n / ref:.0f}/s to the same sink: ratio {ref / ours:.2f}")


if __name__ == "__main__":
    bench_received()
    bench_notices()
