# SPDX-License-Identifier: GPL-3.0-or-later
"""faxd's SIP line against SIPp (Debian's sip-tester), an independent SIP implementation, as the far
end: trunks that ring forever, fail over, challenge for digest credentials or register us; and
calls with real fax media, where SIPp's SDP points at tests/helpers/faxpeer (a spandsp T.30
endpoint on an RTP and a UDPTL port) and SIPp refuses our T.38 re-INVITE, refreshes the session
mid-page, hangs up during T.38 or answers our re-INVITE with 491 and sends its own. faxd and
faxpeer run their media clocks 4 times faster ([faxd] media_speed) to keep each call near 10 s."""
import json
import subprocess
import time

import pytest

from conftest import BUILD, ROOT, Home, prog, wait_for
from test_faxd import send, show
from test_sip import doc, free_udp_port

SPEED = 4
FAXPEER = str(BUILD / "tests/helpers/faxpeer")
SIPP_DIR = ROOT / "tests/data/sipp"


def configure(home, line_extra="", trunks="", retry_hangup="1", rtp=(36000, 36099)):
    """One faxd with [line sip] (sip_peer or [trunk] sections given by the test)."""
    home.write_config(
        f"[faxgate]\nnode = sipp-test\n[faxd]\npoll_interval = 1\nmedia_speed = {SPEED}\n"
        f"[retry]\nbusy = 1h\nno_answer = 1h\nprotocol = 1h\nhangup = {retry_hangup}\n"
        f"[line sip]\ntype = sip\nident = +1 212 555 0101\nsip_listen = 127.0.0.1:{free_udp_port()}\n"
        f"rtp_port_min = {rtp[0]}\nrtp_port_max = {rtp[1]}\nt38_reinvite_delay_ms = 400\n{line_extra}\n{trunks}")


def sdp(audio=0, image=0):
    """The far end's SDP: G.711 on faxpeer's audio port, or audio declined and T.38 on its image port."""
    lines = ["v=0", "o=sipp 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
    if audio:
        lines += [f"m=audio {audio} RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "a=ptime:20"]
    else:
        lines += ["m=audio 0 RTP/AVP 8"]
    if image:
        lines += [f"m=image {image} udptl t38", "a=T38FaxVersion:0", "a=T38MaxBitRate:14400",
                  "a=T38FaxRateManagement:transferredTCF", "a=T38FaxMaxDatagram:400",
                  "a=T38FaxUdpEC:t38UDPRedundancy"]
    return "\n".join(lines)


STARTED = []  # SIPp and faxpeer processes of the running test, killed when it ends


@pytest.fixture(autouse=True)
def no_leftovers():
    """A failing test leaves no SIPp or faxpeer behind (they would wait for calls for ever)."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Sipp:
    """SIPp running one of tests/data/sipp/*.xml with @NAME@ placeholders filled in."""

    def __init__(self, tmp_path, scenario, calls=1, **subs):
        self.port = free_udp_port()
        text = (SIPP_DIR / scenario).read_text()
        for key, value in subs.items():
            text = text.replace(f"@{key}@", str(value))
        path = tmp_path / f"{self.port}-{scenario}"
        path.write_text(text)
        self.out = tmp_path / f"sipp-{self.port}.out"
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen(
                ["sipp", "-sf", str(path), "-i", "127.0.0.1", "-p", str(self.port), "-m", str(calls),
                 "-trace_msg", "-message_file", str(tmp_path / f"sipp-{self.port}.msg"), "-nostdin"],
                cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        STARTED.append(self.proc)
        self.msg = tmp_path / f"sipp-{self.port}.msg"

    def messages(self):
        return self.msg.read_text() if self.msg.exists() else ""

    def wait(self, timeout=30):
        """SIPp's exit status: 0 when every call went through the scenario."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Faxpeer:
    """tests/helpers/faxpeer receiving one fax on two fresh ports."""

    def __init__(self, tmp_path, audio=None, image=None, extra=()):
        self.audio, self.image = audio or free_udp_port(), image or free_udp_port()
        self.proc = subprocess.Popen(
            [FAXPEER, *extra, "--bind", "127.0.0.1", "--audio-port", str(self.audio), "--image-port", str(self.image),
             "--receive", str(tmp_path / f"rx-{self.audio}.tif"), "--speed", str(SPEED), "--timeout", "60",
             "--ident", "+1 555 0199"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        STARTED.append(self.proc)
        assert self.proc.stdout.readline().strip() == "ready"

    def result(self, timeout=60):
        out, _ = self.proc.communicate(timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def home(tmp_path):
    h = Home(tmp_path)
    yield h
    h.stop_all()


def start_faxd(home):
    faxd = home.start(prog("faxd"))
    wait_for(lambda: "status=running" in home.log_of(faxd), what="faxd start")
    return faxd


def first_attempt(home, job, faxd):
    attempts = wait_for(lambda: show(home, job)["attempts"], timeout=30, what="first attempt")
    return attempts[0]["outcome"], home.log_of(faxd)


def test_no_answer_is_cancelled_after_ring_timeout(home, tmp_path):
    sipp = Sipp(tmp_path, "uas_noanswer.xml")
    configure(home, f"sip_peer = 127.0.0.1:{sipp.port}\nring_timeout = 2s\n")
    faxd = start_faxd(home)
    t0 = time.monotonic()
    job, _ = send(home, doc(home), wait=False)
    outcome, log = first_attempt(home, job, faxd)
    assert outcome == "no-answer", log
    assert 1.5 < time.monotonic() - t0 < 10
    assert "no answer in 2 s, CANCEL" in log
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]


def test_503_fails_over_to_the_next_trunk(home, tmp_path):
    """Trunk main (priority 10) answers 503, trunk backup (priority 20) 486: the same attempt tries
    both, in order, and ends as busy."""
    main = Sipp(tmp_path, "uas_reject.xml", STATUS=503, PHRASE="Service Unavailable")
    backup = Sipp(tmp_path, "uas_reject.xml", STATUS=486, PHRASE="Busy Here")
    configure(home, trunks=f"[trunk backup]\nline = sip\nhost = 127.0.0.1:{backup.port}\npriority = 20\n"
                           f"[trunk main]\nline = sip\nhost = 127.0.0.1:{main.port}\npriority = 10\n")
    faxd = start_faxd(home)
    job, _ = send(home, doc(home), wait=False)
    outcome, log = first_attempt(home, job, faxd)
    assert outcome == "busy", log
    assert log.index("trunk=main") < log.index("trunk=backup")
    assert "sip: 503 Service Unavailable (trunk=main)" in log
    assert len(show(home, job)["attempts"]) == 1
    assert main.wait() == 0 and backup.wait() == 0


@pytest.mark.parametrize("password,outcome", [("Secret-7", "busy"), ("wrong", "rejected")])
def test_digest_challenge_is_answered(home, tmp_path, password, outcome):
    """A trunk challenging the INVITE with 401: faxd answers with the trunk's credentials; SIPp
    checks the digest (486 when right, so the attempt is busy; 403 when wrong: rejected)."""
    sipp = Sipp(tmp_path, "uas_digest.xml", PASSWORD="Secret-7")
    configure(home, trunks=f"[trunk carrier]\nline = sip\nhost = 127.0.0.1:{sipp.port}\n"
                           f"username = faxuser\npassword = {password}\n")
    faxd = start_faxd(home)
    job, _ = send(home, doc(home), wait=False)
    got, log = first_attempt(home, job, faxd)
    assert got == outcome, (log, sipp.messages()[-3000:])
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]
    assert "\nAuthorization: Digest" in sipp.messages()


def test_registration_with_digest_and_refresh(home, tmp_path):
    """register = yes: REGISTER challenged 401, answered; the registrar grants 10 s and sofia
    refreshes before they run out (challenged and answered again)."""
    sipp = Sipp(tmp_path, "uas_register.xml", PASSWORD="Secret-7")
    configure(home, trunks=f"[trunk carrier]\nline = sip\nhost = 127.0.0.1:{sipp.port}\nregister = yes\n"
                           f"username = faxuser\npassword = Secret-7\nregister_expires = 60s\n")
    faxd = start_faxd(home)
    wait_for(lambda: "trunk=carrier registered" in home.log_of(faxd), timeout=10, what="registration")
    t0 = time.monotonic()
    assert sipp.wait(timeout=20) == 0, (sipp.out.read_text()[-2000:], home.log_of(faxd))
    assert time.monotonic() - t0 < 12  # the refresh came inside the 10 s granted
    assert sipp.messages().count("REGISTER sip:") >= 4
    assert "registration refused" not in home.log_of(faxd)


def media_call(home, tmp_path, scenario, line_extra, retry_hangup="1", calls=1, **subs):
    peer = Faxpeer(tmp_path)
    sipp = Sipp(tmp_path, scenario, calls=calls, SDP_AUDIO=sdp(audio=peer.audio), SDP_IMAGE=sdp(image=peer.image), **subs)
    configure(home, f"sip_peer = 127.0.0.1:{sipp.port}\n{line_extra}", retry_hangup=retry_hangup)
    faxd = start_faxd(home)
    job, _ = send(home, doc(home), wait=False)
    return peer, sipp, faxd, job


def wait_done(home, job, faxd):
    info = wait_for(lambda: show(home, job)["state"] in ("done", "failed", "deferred") and show(home, job),
                    timeout=60, step=0.3, what="job end")
    assert info["state"] == "done" and info["pages_done"] == 1, (info, home.log_of(faxd))


def test_488_to_t38_reinvite_finishes_on_g711_and_is_remembered(home, tmp_path):
    peer, sipp, faxd, job = media_call(home, tmp_path, "uas_t38_refused.xml",
                                       "media = t38\nt38_offer = reinvite\n", calls=2)
    wait_done(home, job, faxd)
    rx = peer.result()
    assert rx["outcome"] == "ok" and rx["pages"] == 1 and rx["media"] == "audio", rx
    log = home.log_of(faxd)
    assert "asking for T.38 by re-INVITE (outgoing call)" in log and "T.38 refused (488)" in log
    # the next call to the number through the trunk stays on G.711: no re-INVITE (learned fallback)
    peer2 = Faxpeer(tmp_path, peer.audio, peer.image)
    job2, _ = send(home, doc(home), wait=False)
    wait_done(home, job2, faxd)
    assert peer2.result()["outcome"] == "ok"
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]
    second = home.log_of(faxd)[len(log):]
    assert "sip: INVITE" in second and "asking for T.38" not in second, second


def test_session_refresh_mid_page(home, tmp_path):
    peer, sipp, faxd, job = media_call(home, tmp_path, "uas_refresh.xml", "media = audio\n", PAUSE=4000)
    watch = wait_for(lambda: [l for l in home.faxctl("watch", "--once").stdout.splitlines() if "media=pcma" in l],
                     timeout=10, what="faxctl watch showing the call")
    assert "sip out +12125550100" in watch[0] and "trunk=sip media=pcma reinvite=none" in watch[0], watch
    wait_done(home, job, faxd)
    rx = peer.result()
    assert rx["outcome"] == "ok" and rx["pages"] == 1, rx
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]
    msgs = sipp.messages()
    assert "Session-Expires: 90;refresher=uas" in msgs
    assert msgs.count("SIP/2.0 200 OK") >= 2  # ours to the refresh, besides SIPp's own


def test_bye_during_t38(home, tmp_path):
    peer, sipp, faxd, job = media_call(home, tmp_path, "uas_bye_t38.xml", "media = t38\nt38_offer = first\n",
                                       retry_hangup="1h", PAUSE=3000)
    outcome, log = first_attempt(home, job, faxd)
    assert outcome == "hangup", log
    assert "media=t38" in log
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]
    assert show(home, job)["state"] == "deferred"
    peer.proc.kill()


def test_491_glare_then_their_t38_reinvite(home, tmp_path):
    peer, sipp, faxd, job = media_call(home, tmp_path, "uas_glare.xml", "media = t38\nt38_offer = reinvite\n")
    wait_for(lambda: "trunk=sip media=t38 reinvite=theirs" in home.faxctl("watch", "--once").stdout,
             timeout=10, what="faxctl watch: T.38 by their re-INVITE")
    wait_done(home, job, faxd)
    rx = peer.result()
    assert rx["outcome"] == "ok" and rx["pages"] == 1 and rx["media"] == "t38" and rx["switched"], rx
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]
    log = home.log_of(faxd)
    assert log.count("media=t38") == 1 and "T.38 refused" not in log
    assert sipp.messages().count("SIP/2.0 491") == 1


@pytest.mark.parametrize("did_source,answered", [("diversion", True), ("request", False)])
def test_forwarded_call_routed_by_diversion(home, tmp_path, did_source, answered):
    """SIPp as a PBX forwarding a call: Request-URI +12125550100 (not on the line), Diversion
    +12125550142 (on the line). did_source = diversion answers it; request refuses it 404."""
    configure(home, f"dids = +12125550142\ndid_source = {did_source}\n")
    port = int(home.path.joinpath("faxgate.conf").read_text().split("sip_listen = 127.0.0.1:")[1].split()[0])
    faxd = start_faxd(home)
    scenario = (SIPP_DIR / "uac_diversion.xml").read_text().replace("@REQUEST_USER@", "+12125550100") \
        .replace("@DIVERTED@", "+12125550142")
    (tmp_path / "uac.xml").write_text(scenario)
    res = subprocess.run(["sipp", "-sf", str(tmp_path / "uac.xml"), "-i", "127.0.0.1", "-p", str(free_udp_port()),
                          "-m", "1", "-nostdin", "-timeout", "20", f"127.0.0.1:{port}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stdout[-2000:] + home.log_of(faxd)
    log = home.log_of(faxd)
    if answered:
        assert "did=+12125550142" in log and "status=answered" in log, log
    else:
        assert "is not on this line, refused" in log, log


def test_trunk_over_tcp(home, tmp_path):
    """transport = tcp: the INVITE goes over a TCP connection (;transport=tcp) to SIPp listening
    on TCP, which refuses it 486: busy."""
    port = free_udp_port()
    scenario = tmp_path / "uas_tcp.xml"
    scenario.write_text((SIPP_DIR / "uas_reject.xml").read_text().replace("@STATUS@", "486")
                        .replace("@PHRASE@", "Busy Here"))
    with open(tmp_path / "sipp-tcp.out", "w") as out:
        sipp = subprocess.Popen(["sipp", "-sf", str(scenario), "-t", "t1", "-i", "127.0.0.1", "-p", str(port),
                                 "-m", "1", "-nostdin", "-trace_msg", "-message_file", str(tmp_path / "tcp.msg")],
                                cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        configure(home, trunks=f"[trunk tcp]\nline = sip\nhost = 127.0.0.1:{port}\ntransport = tcp\n")
        faxd = start_faxd(home)
        job, _ = send(home, doc(home), wait=False)
        outcome, log = first_attempt(home, job, faxd)
        assert outcome == "busy", log
        assert sipp.wait(timeout=10) == 0, (tmp_path / "sipp-tcp.out").read_text()[-2000:]
        msgs = (tmp_path / "tcp.msg").read_text()
        assert "TCP message received" in msgs and "SIP/2.0/TCP" in msgs and ";transport=tcp" in msgs
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait()


def test_outbound_proxy_gets_every_request(home, tmp_path):
    """outbound_proxy: the INVITE for sip:NUMBER@carrier.invalid goes to the proxy (SIPp) with a
    pre-loaded Route; SIPp refuses it 486 and faxd records busy (no DNS lookup of the trunk)."""
    sipp = Sipp(tmp_path, "uas_reject.xml", STATUS=486, PHRASE="Busy Here")
    configure(home, trunks=f"[trunk carrier]\nline = sip\nhost = carrier.invalid\n"
                           f"outbound_proxy = sip:127.0.0.1:{sipp.port}\n")
    faxd = start_faxd(home)
    job, _ = send(home, doc(home), wait=False)
    outcome, log = first_attempt(home, job, faxd)
    assert outcome == "busy", log
    assert sipp.wait() == 0, sipp.out.read_text()[-2000:]
    msgs = sipp.messages()
    assert "INVITE sip:+12125550100@carrier.invalid SIP/2.0" in msgs
    assert f"Route: <sip:127.0.0.1:{sipp.port};lr>" in msgs


def test_silent_trunk_times_out_to_the_next(home, tmp_path):
    """A trunk that never answers (a UDP socket that swallows everything): after sip_timeout the
    INVITE fails with sofia's own 408 and the same attempt goes on to the next trunk (SIPp, 486)."""
    import socket
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    backup = Sipp(tmp_path, "uas_reject.xml", STATUS=486, PHRASE="Busy Here")
    try:
        configure(home, "sip_timeout = 2s\n",
                  trunks=f"[trunk silent]\nline = sip\nhost = 127.0.0.1:{silent.getsockname()[1]}\npriority = 1\n"
                         f"[trunk backup]\nline = sip\nhost = 127.0.0.1:{backup.port}\npriority = 2\n")
        faxd = start_faxd(home)
        t0 = time.monotonic()
        job, _ = send(home, doc(home), wait=False)
        outcome, log = first_attempt(home, job, faxd)
        assert outcome == "busy", log
        assert 1.5 < time.monotonic() - t0 < 8
        assert "sip: 408" in log and "(trunk=silent)" in log and "trunk=backup" in log
        assert silent.recv(4096).startswith(b"INVITE ")
        assert backup.wait() == 0
    finally:
        silent.close()


def test_rtp_latch_sends_where_the_media_comes_from(home, tmp_path):
    """NAT as faxd sees it: the SDP names a port nothing listens on (9), the far end's RTP comes
    from another (faxpeer's, sending first to faxd's only RTP port). rtp_latch = yes sends there,
    and the fax goes through."""
    peer = Faxpeer(tmp_path, extra=("--remote-audio", "127.0.0.1:36200"))
    sipp = Sipp(tmp_path, "uas_t38_refused.xml", SDP_AUDIO=sdp(audio=9), SDP_IMAGE="")
    configure(home, f"sip_peer = 127.0.0.1:{sipp.port}\nmedia = audio\nrtp_latch = yes\n", rtp=(36200, 36201))
    faxd = start_faxd(home)
    job, _ = send(home, doc(home), wait=False)
    wait_done(home, job, faxd)
    assert peer.result()["outcome"] == "ok"
    assert sipp.wait() == 0
    assert f"sip: media from 127.0.0.1:{peer.audio}, sending there (rtp_latch)" in home.log_of(faxd)
