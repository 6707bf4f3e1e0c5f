# SPDX-License-Identifier: GPL-3.0-or-later
"""Two real faxd fax each other over SIP on loopback, three pages each way at the same time, with
simulated packet loss in faxd's media path: G.711 only, T.38 in the first offer, and G.711
switched to T.38 by a re-INVITE from the caller or from the callee. Both faxd run their media
clock 4 times faster ([faxd] media_speed = 4: T.30 counts samples, so only the wall clock
shrinks), which keeps a three-page call near 20 s."""
import json
import os
import time

import pytest

from conftest import Home, prog, wait_for
from test_faxd import send, show
from test_sip import configure, doc, free_udp_port

SPEED = 4
LOG_LEVEL = os.environ.get("SIP_TEST_LOG_LEVEL", "info")  # debugging: debug
EXTRA = os.environ.get("SIP_TEST_EXTRA", "")  # debugging: "t30_trace = yes"


def run_pair(tmp_path, line_extra):
    """Both faxd with the same [line sip] extras; each sends the other three pages at once."""
    homes = []
    pa, pb = free_udp_port(), free_udp_port()
    for name, ident, listen, peer, rtp in (("a", "+1 212 555 0101", pa, pb, 34000),
                                           ("b", "+1 212 555 0102", pb, pa, 35000)):
        (tmp_path / name).mkdir()
        h = Home(tmp_path / name)
        configure(h, ident, listen, peer, rtp, f"t38_reinvite_delay_ms = 400\n{line_extra}{EXTRA}\n",
                  faxgate_extra=f"log_level = {LOG_LEVEL}\n", faxd_extra=f"media_speed = {SPEED}\n")
        homes.append(h)
    try:
        procs = [h.start(prog("faxd")) for h in homes]
        for h, p in zip(homes, procs):
            wait_for(lambda: "status=running" in h.log_of(p), what="faxd start")
        t0 = time.monotonic()
        jobs = [send(h, doc(h, pages=3, seed=7), wait=False)[0] for h in homes]
        for h, p, job in zip(homes, procs, jobs):
            info = wait_for(lambda: show(h, job)["state"] in ("done", "failed") and show(h, job), timeout=120,
                            step=0.5, what=f"job {job}")
            assert info["state"] == "done" and info["pages_done"] == 3, (info, h.log_of(p))
        for h, p in zip(homes, procs):
            faxes = wait_for(lambda: [f for f in json.loads(h.faxctl("--json", "inbound").stdout)
                                      if f["partial"] == "no"], timeout=15, what="received fax")
            assert [f["pages"] for f in faxes] == [3], faxes
        print(f"3 pages each way in {time.monotonic() - t0:.1f} s ({line_extra.strip()!r})")
        return [h.log_of(p) for h, p in zip(homes, procs)]
    finally:
        for h in homes:
            h.stop_all()


def test_g711_with_loss(tmp_path):
    """PCMA both ways; 0.1 % of the RTP packets each side receives are dropped (fill-in)."""
    logs = run_pair(tmp_path, "media = audio\nloss_permille = 1\n")
    for log in logs:
        assert log.count("media=pcma") >= 2 and "media=t38" not in log


def test_t38_first_offer_with_loss(tmp_path):
    """T.38 in the first INVITE, taken; 2 % of the UDPTL datagrams lost, redundancy 3 covers it."""
    logs = run_pair(tmp_path, "media = t38\nt38_offer = first\nudptl_redundancy = 3\nloss_permille = 20\n")
    for log in logs:
        assert log.count("media=t38") >= 2 and "media=pcma" not in log


@pytest.mark.parametrize("side", ["caller", "callee"])
def test_g711_then_t38_by_reinvite(tmp_path, side):
    """Each call starts on G.711 and the caller (t38_offer = reinvite) or the callee (t38_request)
    re-INVITEs to T.38; T.30 starts again on T.38 and the fax completes there."""
    extra = ("t38_offer = reinvite\nt38_request = no\n" if side == "caller"
             else "t38_offer = none\nt38_request = yes\n")
    logs = run_pair(tmp_path, "media = t38\n" + extra)
    for log in logs:
        assert log.count("media=pcma") >= 2 and log.count("media=t38") >= 2, log
        assert "T.38 refused" not in log
        ours, theirs = ("outgoing", "incoming") if side == "caller" else ("incoming", "outgoing")
        assert f"asking for T.38 by re-INVITE ({ours} call)" in log
        assert f"({theirs} call)" not in log
