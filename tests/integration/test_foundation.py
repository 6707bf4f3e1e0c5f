# SPDX-License-Identifier: GPL-3.0-or-later
"""The foundation: the supervisor on the embedded default, faxctl check-config and the store."""
import json
import os
import shutil
import signal
import sqlite3
import time

from conftest import BIN, prog, wait_for


def test_run_on_embedded_default_and_stop_within_5s(home):
    sup = home.start(prog("faxgate"), "run")
    wait_for(lambda: "status=running" in home.log_of(sup), what="supervisor start")
    assert (home.path / "faxgate.db").exists()
    assert "embedded default" in home.log_of(sup)
    res = home.faxctl("check-config")
    assert "configuration ok: embedded default" in res.stdout
    t0 = time.monotonic()
    os.kill(sup.pid, signal.SIGTERM)
    sup.wait(timeout=5)
    assert time.monotonic() - t0 < 5
    assert sup.returncode == 0
    assert "status=stopped" in home.log_of(sup)
    # Nothing the supervisor started is left running.
    out = home.run("pgrep", "-s", str(sup.pid), check=False)
    left = out.stdout.split()
    details = home.run("ps", "-o", "pid,stat,args", "-p", ",".join(left), check=False).stdout if left else ""
    assert out.stdout.strip() == "", details + home.log_of(sup)


def test_bad_config_refuses_to_start(home):
    home.write_config("[faxgate]\nlog_level = chatty\n[retry]\nbusy = 3 minutes\nunknown_key = 1\n")
    res = home.faxctl("check-config", check=False)
    assert res.returncode == 78
    assert "faxgate.conf:2: [faxgate] log_level" in res.stderr
    assert "faxgate.conf:4: [retry] busy: expected a duration" in res.stderr
    assert "faxgate.conf:5: [retry] unknown_key: unknown key" in res.stderr
    run = home.run(prog("faxgate"), "run", check=False, timeout=10)
    assert run.returncode == 1
    assert "log_level" in run.stderr


def test_config_file_found_by_flag_and_env(home):
    conf = home.path / "other.conf"
    conf.write_text(f"[faxgate]\nhome = {home.path}/elsewhere\n")
    res = home.faxctl("-c", str(conf), "check-config")
    assert f"{home.path}/elsewhere" in res.stdout
    home.env["FAXGATE_CONFIG"] = str(conf)
    res = home.faxctl("--json", "check-config")
    assert json.loads(res.stdout) == {"valid": True, "file": str(conf)}


def make_supervised_bindir(home, child_script):
    """A bin dir with the real faxgate and one program that behaves as the test needs."""
    bindir = home.path / "bin"
    bindir.mkdir()
    shutil.copy(prog("faxgate"), bindir / "faxgate")
    faxd = bindir / "faxd"
    faxd.write_text(child_script)
    faxd.chmod(0o755)
    return bindir


def test_restart_with_backoff_and_reload(home):
    starts = home.path / "starts"
    bindir = make_supervised_bindir(home, f"#!/bin/sh\necho start >> {starts}\nexit 3\n")
    home.write_config("[faxgate]\nprograms = faxd\n[supervisor]\nrestart_delay_min = 0\nrestart_delay_max = 1\n")
    sup = home.start(str(bindir / "faxgate"), "run")
    wait_for(lambda: starts.exists() and len(starts.read_text().split()) >= 3, what="three restarts")
    log = home.log_of(sup)
    assert "program=faxd" in log and "exit=3 status=died" in log
    # After a reload that no longer lists faxd, it is not started again.
    home.write_config("[faxgate]\nprograms = smtpgw\n")
    os.kill(sup.pid, signal.SIGHUP)
    wait_for(lambda: "status=reloaded" in home.log_of(sup), what="reload")
    time.sleep(1.5)
    count = len(starts.read_text().split())
    time.sleep(1.5)
    assert len(starts.read_text().split()) == count
    os.kill(sup.pid, signal.SIGTERM)
    sup.wait(timeout=5)


def test_stop_kills_a_child_that_ignores_sigterm(home):
    ready = home.path / "ready"
    bindir = make_supervised_bindir(home, f"#!/bin/sh\ntrap '' TERM\ntouch {ready}\nwhile :; do sleep 0.1; done\n")
    home.write_config("[faxgate]\nprograms = faxd\n[supervisor]\nstop_timeout = 1\n")
    sup = home.start(str(bindir / "faxgate"), "run")
    wait_for(ready.exists, what="child ignoring SIGTERM")
    t0 = time.monotonic()
    os.kill(sup.pid, signal.SIGTERM)
    sup.wait(timeout=5)
    assert time.monotonic() - t0 < 5
    assert "status=killing" in home.log_of(sup)


def insert_job(db, job_id, state="queued", number="+12125550100"):
    con = sqlite3.connect(db)
    con.execute("INSERT INTO jobs (id, state, number, owner, created_at, updated_at, pages_total)"
                " VALUES (?, ?, ?, 'alice@example.com', strftime('%s','now'), strftime('%s','now'), 2)",
                (job_id, state, number))
    con.commit()
    con.close()


def test_faxctl_reads_and_changes_jobs(home):
    home.faxctl("jobs")  # creates the store
    db = home.path / "faxgate.db"
    insert_job(db, "J0000000A1")
    insert_job(db, "J0000000A2", state="failed")
    res = home.faxctl("--json", "jobs")
    jobs = {j["job"]: j for j in json.loads(res.stdout)}
    assert jobs["J0000000A1"]["state"] == "queued"
    assert jobs["J0000000A1"]["number"] == "+12125550100"
    res = home.faxctl("jobs", "--state", "failed")
    assert "J0000000A2" in res.stdout and "J0000000A1" not in res.stdout
    assert home.faxctl("cancel", "j0000000a1").stdout.strip() == "J0000000A1: cancelled"
    res = home.faxctl("cancel", "J0000000A1", check=False)
    assert res.returncode == 65 and "is cancelled already" in res.stderr
    assert "queued" in home.faxctl("retry", "J0000000A2").stdout
    show = json.loads(home.faxctl("--json", "show", "J0000000A2").stdout)
    assert show["state"] == "queued"
    assert [e["to"] for e in show["events"]] == ["queued"]
    assert show["events"][0]["text"] == "retry now, by operator"
    res = home.faxctl("show", "J0000000ZZ", check=False)
    assert res.returncode == 65 and "no job" in res.stderr


def test_example_config_is_valid(home):
    from conftest import ROOT
    res = home.faxctl("-c", str(ROOT / "etc/faxgate.conf.example"), "check-config")
    assert "configuration ok" in res.stdout
