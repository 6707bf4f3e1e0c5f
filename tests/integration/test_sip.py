# SPDX-License-Identifier: GPL-3.0-or-later
"""The SIP line (faxd/line_sip.c) between two real faxd: A sends a job over SIP on loopback, with
G.711 (PCMA) RTP or T.38 over UDPTL offered in the first INVITE; B answers and stores it. Real
time: a one-page fax takes some 15 s."""
import json
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOT, Home, prog, wait_for
from test_faxd import MKFAXTIFF, send, show


def doc(home):
    """One standard-resolution page: some 15 s of V.17 in real time (a fine one takes 40 s)."""
    path = home.path / "doc.tiff"
    subprocess.run([MKFAXTIFF, str(path), "--pages", "1", "--res", "standard", "--seed", "3"], check=True)
    return path


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(home, ident, listen, peer, rtp_min, extra=""):
    return home.write_config(
        f"[faxgate]\nnode = {ident}\n[faxd]\npoll_interval = 1\n"
        f"[retry]\nbusy = 1\nno_answer = 1\nprotocol = 1\nhangup = 1\n"
        f"[line sip]\ntype = sip\nident = {ident}\nsip_listen = 127.0.0.1:{listen}\n"
        f"sip_peer = 127.0.0.1:{peer}\nrtp_port_min = {rtp_min}\nrtp_port_max = {rtp_min + 99}\n{extra}\n")


def start_both(pair, a_extra="", b_extra=""):
    """Append to each side's [line sip], start both faxd and wait until they run."""
    procs = []
    for h, extra in zip(pair, (a_extra, b_extra)):
        conf = h.path / "faxgate.conf"
        conf.write_text(conf.read_text() + extra)
        procs.append(h.start(prog("faxd")))
    for h, f in zip(pair, procs):
        wait_for(lambda: "status=running" in h.log_of(f), what="faxd start")
    return procs


@pytest.fixture
def pair(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = Home(tmp_path / "a"), Home(tmp_path / "b")
    pa, pb = free_udp_port(), free_udp_port()
    configure(a, "+1 212 555 0101", pa, pb, 31000)
    configure(b, "+1 212 555 0102", pb, pa, 32000)
    yield a, b
    a.stop_all()
    b.stop_all()


@pytest.mark.parametrize("media", ["audio", "t38"])
def test_call_a_to_b(pair, media):
    a, b = pair
    fa, fb = start_both(pair, f"media = {media}\n", f"media = {media}\n")
    t0 = time.monotonic()
    job, res = send(a, doc(a), timeout=80)
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stdout + res.stderr + a.log_of(fa) + b.log_of(fb)
    assert f"{job}: done: sent 1 page" in res.stdout
    info = show(a, job)
    assert info["state"] == "done" and info["pages_done"] == 1
    assert info["remote_ident"] == "+1 212 555 0102"
    rx = wait_for(lambda: json.loads(b.faxctl("--json", "inbound").stdout), timeout=15, what="received fax")
    [fax] = rx
    assert fax["pages"] == 1 and fax["partial"] == "no"
    assert fax["did"] == "+12125550100" and fax["caller_id"] == "+12125550101"
    assert fax["remote_csid"] == "+1 212 555 0101"
    want = "media=t38" if media == "t38" else "media=pcma"
    assert want in a.log_of(fa) and want in b.log_of(fb)
    print(f"one page A -> B over {media} in {elapsed:.1f} s")


def test_t38_offer_falls_back_to_g711(pair):
    """A offers audio and T.38, B's line is audio only: B answers PCMA and declines the image
    stream, and both use G.711 (checked once the media is up; the fax itself is the test above)."""
    a, b = pair
    fa, fb = start_both(pair, a_extra="media = t38\n")
    send(a, doc(a), wait=False)
    wait_for(lambda: "media=pcma" in a.log_of(fa) and "media=pcma" in b.log_of(fb), timeout=15,
             what="G.711 media on both sides")
    # A stops mid-call: it hangs up with BYE and exits cleanly; B sees the far end hang up.
    fa.send_signal(signal.SIGTERM)
    assert fa.wait(timeout=10) == 0, a.log_of(fa)
    wait_for(lambda: "result=hangup" in b.log_of(fb) or "result=no-fax" in b.log_of(fb)
             or "result=protocol" in b.log_of(fb), timeout=10, what="B's call ended")


def test_busy_when_the_far_line_only_sends(pair):
    """B's line takes no incoming calls: it answers the INVITE 486, which A records as busy."""
    a, b = pair
    start_both(pair, b_extra="direction = send\n")
    job, _ = send(a, doc(a), wait=False)
    attempts = wait_for(lambda: show(a, job)["attempts"], timeout=15, what="first attempt")
    assert attempts[0]["outcome"] == "busy", attempts
    assert json.loads(b.faxctl("--json", "inbound").stdout) == []


@pytest.mark.parametrize("status,phrase,outcome", [(486, "Busy Here", "busy"), (404, "Not Found", "invalid-number"),
                                                   (480, "Temporarily Unavailable", "no-answer")])
def test_sipp_far_end_refusals_map_to_fax_outcomes(tmp_path, status, phrase, outcome):
    """SIPp (an independent SIP implementation) as the far end refuses our INVITE: 100 Trying, then
    the final status; faxd ACKs it and records the attempt's outcome by the status class."""
    home = Home(tmp_path)
    sipp_port = free_udp_port()
    configure(home, "+1 212 555 0101", free_udp_port(), sipp_port, 33000)
    scenario = tmp_path / "uas.xml"
    scenario.write_text((ROOT / "tests/data/sipp/uas_reject.xml").read_text()
                        .replace("@STATUS@", str(status)).replace("@PHRASE@", phrase))
    with open(tmp_path / "sipp.out", "w") as out:
        sipp = subprocess.Popen(["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(sipp_port), "-m", "1"],
                                cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        faxd = home.start(prog("faxd"))
        wait_for(lambda: "status=running" in home.log_of(faxd), what="faxd start")
        job, _ = send(home, doc(home), wait=False)
        attempts = wait_for(lambda: show(home, job)["attempts"], timeout=15, what="first attempt")
        assert attempts[0]["outcome"] == outcome, (attempts, home.log_of(faxd))
        assert sipp.wait(timeout=10) == 0, (tmp_path / "sipp.out").read_text()[-2000:]  # ACK seen: call done
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait()
        home.stop_all()
