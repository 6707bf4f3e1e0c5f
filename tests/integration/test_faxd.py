# SPDX-License-Identifier: GPL-3.0-or-later
"""faxd against the loop line: real spandsp T.30 on both ends, driven through the real daemons
(faxd, faxctl) and the store. Most calls run unpaced; the cancel test runs in real time."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BUILD, prog, wait_for

MKFAXTIFF = os.environ.get("MKFAXTIFF", str(BUILD / "tests/helpers/mkfaxtiff"))


def make_doc(home, name="doc.tiff", pages=3, seed=1):
    path = home.path / name
    subprocess.run([MKFAXTIFF, str(path), "--pages", str(pages), "--res", "fine", "--seed", str(seed)], check=True)
    return path


def configure(home, line="", retry="", faxd=""):
    return home.write_config(
        f"[faxgate]\nnode = testnode\n[faxd]\npoll_interval = 1\n{faxd}\n"
        f"[retry]\nbusy = 2\nno_answer = 2\nprotocol = 1\nhangup = 1\n{retry}\n"
        f"[line loop]\ntype = loop\n{line}\n")


def show(home, job):
    return json.loads(home.faxctl("--json", "show", job).stdout)


def send(home, doc, *extra, wait=True, timeout=120):
    args = ["send", "--to", "+12125550100", *extra, str(doc)]
    if wait:
        args.insert(1, "--wait")
    res = home.faxctl(*args, check=False, timeout=timeout)
    m = re.search(r"^(J[0-9A-Z]{9}): queued", res.stdout, re.M)
    assert m, res.stdout + res.stderr
    return m.group(1), res


def far_end_records(home):
    """What the loop line's far end received: one key=value .txt per call."""
    records = []
    for txt in sorted((home.path / "loop").glob("*.txt")):
        rec = dict(line.split("=", 1) for line in txt.read_text().splitlines() if "=" in line)
        records.append(rec)
    return records


def tiff_pages(path):
    out = subprocess.run(["tiffinfo", str(path)], capture_output=True, text=True).stdout
    return out.count("TIFF Directory at offset")


@pytest.mark.parametrize("media", ["audio", "t38"])
def test_send_wait_delivers(home, media):
    configure(home, f"media = {media}\nloss_permille = {20 if media == 't38' else 0}\n")
    faxd = home.start(prog("faxd"))
    doc = make_doc(home)
    job, res = send(home, doc)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{job}: done: sent 3 pages" in res.stdout
    info = show(home, job)
    assert info["state"] == "done" and info["pages_done"] == 3
    assert info["remote_ident"] == "+1 212 555 0199"
    [attempt] = info["attempts"]
    assert attempt["outcome"] == "ok" and attempt["pages_sent"] == 3 and attempt["bit_rate"] == 14400
    tiffs = sorted((home.path / "loop").glob(f"*{job}*.tiff"))
    assert len(tiffs) == 1 and tiff_pages(tiffs[0]) == 3
    assert not list((home.path / "spool").glob(f"{job}*")), "spool file left after the job ended"
    assert re.search(rf"{job}: fax to=\+12125550100 .*result=ok", home.log_of(faxd))


def test_busy_then_retried_after_the_busy_interval(home):
    configure(home, "busy_calls = 1\n")
    home.start(prog("faxd"))
    job, res = send(home, make_doc(home))
    assert res.returncode == 0, res.stdout
    info = show(home, job)
    first, second = info["attempts"]
    assert first["outcome"] == "busy" and second["outcome"] == "ok"
    deferred = [e for e in info["events"] if e["to"] == "deferred"]
    assert deferred and "retry in 2s" in deferred[0]["text"]
    assert info["dials"] == 2 and info["tries"] == 1


def test_no_answer_then_retried(home):
    configure(home, "no_answer_calls = 1\n")
    home.start(prog("faxd"))
    job, res = send(home, make_doc(home))
    assert res.returncode == 0
    assert [a["outcome"] for a in show(home, job)["attempts"]] == ["no-answer", "ok"]


def test_far_end_without_fine_fails_clearly(home):
    configure(home, "far_fine = no\n")
    home.start(prog("faxd"))
    job, res = send(home, make_doc(home))
    assert res.returncode == 1
    info = show(home, job)
    assert info["state"] == "failed" and info["result_code"] == "incompatible"
    assert "fine" in info["result_text"].lower()
    assert len(info["attempts"]) == 1


def test_drop_after_page_2_resumes_with_page_3(home):
    configure(home, "drop_after_page = 2\ndrop_calls = 1\n")
    home.start(prog("faxd"))
    doc = make_doc(home, pages=4)
    job, res = send(home, doc)
    assert res.returncode == 0, res.stdout
    info = show(home, job)
    first, second = info["attempts"]
    assert first["outcome"] == "hangup" and first["pages_sent"] == 2
    assert second["first_page"] == 3 and second["pages_sent"] == 2 and second["outcome"] == "ok"
    # The far end has every page exactly once across the two calls.
    received = sorted((home.path / "loop").glob(f"*{job}*.tiff"))
    assert [tiff_pages(t) for t in received] == [2, 2]
    compare = str(BUILD / "tests/helpers/tiffcmp_pages")
    if os.path.exists(compare):
        subprocess.run([compare, str(doc), *map(str, received)], check=True)


def test_max_tries(home):
    configure(home, "drop_after_page = 1\ndrop_calls = 100\n", retry="max_tries = 2\n")
    home.start(prog("faxd"))
    job, res = send(home, make_doc(home, pages=3))
    assert res.returncode == 1
    info = show(home, job)
    assert info["state"] == "failed" and info["result_code"] == "too-many-tries"
    assert [a["first_page"] for a in info["attempts"]] == [1, 2]
    assert info["pages_done"] == 2


def test_expiry(home):
    configure(home, "busy_calls = 100\n", retry="busy = 3\n")
    home.start(prog("faxd"))
    job, res = send(home, make_doc(home), "--expires", "4", timeout=30)
    assert res.returncode == 1
    info = show(home, job)
    assert info["state"] == "expired", info


def test_cancel_during_a_call_hangs_up_within_2s(home):
    configure(home, "pacing = realtime\n")
    home.start(prog("faxd"))
    job, _ = send(home, make_doc(home, pages=2), wait=False)
    wait_for(lambda: (show(home, job).get("progress") or "").startswith("phase="), timeout=20,
             what="call in progress")
    t0 = time.monotonic()
    home.faxctl("cancel", job)
    wait_for(lambda: show(home, job)["attempts"], timeout=5, what="attempt recorded")
    # faxd looks for cancelled jobs once per poll_interval (1 s), then the hang-up takes < 2 s.
    assert time.monotonic() - t0 < 3.0
    info = show(home, job)
    assert info["state"] == "cancelled"
    assert info["attempts"][0]["outcome"] == "cancelled"


def test_sigkill_during_a_call_job_completes_after_lease_expiry(home):
    configure(home, "pacing = realtime\n", faxd="lease = 10\n")
    faxd = home.start(prog("faxd"))
    job, _ = send(home, make_doc(home, pages=2), wait=False)
    wait_for(lambda: show(home, job)["state"] == "sending", timeout=10, what="claimed")
    time.sleep(1)
    os.killpg(faxd.pid, signal.SIGKILL)
    faxd.wait()
    assert show(home, job)["state"] == "sending"  # held by the dead faxd's lease
    # Another node takes it over once the lease has run out, unpaced this time.
    configure(home, "", faxd="lease = 10\n")
    with open(home.path / "faxgate.conf", "a") as f:
        f.write("")
    conf = (home.path / "faxgate.conf").read_text().replace("node = testnode", "node = othernode")
    (home.path / "faxgate.conf").write_text(conf)
    t0 = time.monotonic()
    home.start(prog("faxd"))
    wait_for(lambda: show(home, job)["state"] == "done", timeout=30, what="job done after takeover")
    assert time.monotonic() - t0 > 5  # not before the lease ran out
    info = show(home, job)
    assert any("lease expired" in (e["text"] or "") for e in info["events"])


def test_receive_via_loop_call(home):
    configure(home)
    home.start(prog("faxd"))
    doc = make_doc(home, pages=3, seed=9)
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "100", str(doc))
    rx = wait_for(lambda: json.loads(home.faxctl("--json", "inbound").stdout), timeout=30, what="received fax")
    [fax] = rx
    assert fax["did"] == "100" and fax["caller_id"] == "+12125550199"
    assert fax["pages"] == 3 and fax["partial"] == "no" and fax["resolution"] == "fine"
    assert fax["remote_csid"] == "+1 212 555 0199"
    assert not list((home.path / "spool").glob("rx-*")), "spool file left after storing"


def test_faxd_stops_on_sigterm(home):
    configure(home)
    faxd = home.start(prog("faxd"))
    wait_for(lambda: "status=running" in home.log_of(faxd), what="faxd start")
    os.kill(faxd.pid, signal.SIGTERM)
    faxd.wait(timeout=5)
    assert faxd.returncode == 0


def test_send_at_waits_for_its_time(home):
    configure(home)
    home.start(prog("faxd"))
    t0 = time.time()
    job, res = send(home, make_doc(home, pages=1), "--at", "+3")
    assert res.returncode == 0, res.stdout + res.stderr
    info = show(home, job)
    assert info["send_at"] != "-"
    assert time.time() - t0 >= 3
    res = home.faxctl("send", "--to", "+12125550100", "--at", "tomorrow", str(home.path / "doc.tiff"), check=False)
    assert res.returncode == 64


def test_send_refuses_bad_numbers_and_pages(home):
    configure(home)
    res = home.faxctl("send", "--to", "+1900555123", str(make_doc(home, pages=1)), check=False)
    assert res.returncode == 65 and "+1900555123" in res.stderr
    res = home.faxctl("send", "--to", "+1555ABC4567", str(home.path / "doc.tiff"), check=False)
    assert res.returncode == 65 and "letters" in res.stderr
    res = home.faxctl("send", "--to", "+12125550100", str(home.path / "nosuch.tiff"), check=False)
    assert res.returncode == 66 and "nosuch.tiff" in res.stderr
    assert json.loads(home.faxctl("--json", "jobs").stdout) == []
    # a document that is not fax pages yet goes to the render worker
    (home.path / "note.txt").write_text("hello")
    res = home.faxctl("send", "--to", "+12125550100", str(home.path / "note.txt"))
    assert "to be rendered" in res.stdout
    [job] = json.loads(home.faxctl("--json", "jobs").stdout)
    assert job["state"] == "rendering"
