# SPDX-License-Identifier: GPL-3.0-or-later
"""The SIP line (faxd/line_sip.c) between two real faxd: A sends a job over SIP on loopback, with
G.711 (PCMA) RTP or T.38 over UDPTL offered in the first INVITE; B answers and stores it. Real
time: a one-page fax takes some 15 s. The calls are captured (dumpcap) and decoded by tshark, an
independent SIP/SDP/RTP/T.38 implementation: no packet of ours may be malformed."""
import json
import re
import signal
import socket
import subprocess
import time

import pytest

import capture
from conftest import ROOT, Home, prog, wait_for
from test_faxd import MKFAXTIFF, send, show


def doc(home, pages=1, seed=3):
    """Standard-resolution pages: some 33 s of V.17 and T.30 in real time for one."""
    path = home.path / f"doc{pages}.tiff"
    subprocess.run([MKFAXTIFF, str(path), "--pages", str(pages), "--res", "standard", "--seed", str(seed)],
                   check=True)
    return path


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(home, ident, listen, peer, rtp_min, extra="", faxgate_extra="", faxd_extra=""):
    return home.write_config(
        f"[faxgate]\nnode = {ident}\n{faxgate_extra}[faxd]\npoll_interval = 1\n{faxd_extra}"
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
    a.sip_port, a.rtp_ports = pa, (31000, 31099)
    b.sip_port, b.rtp_ports = pb, (32000, 32099)
    yield a, b
    a.stop_all()
    b.stop_all()


@pytest.fixture
def sip_capture(pair, tmp_path):
    """dumpcap on loopback for the pair's SIP ports and RTP/UDPTL port ranges, capturing before
    the test starts any faxd; the test stops it (stop()) to decode the file, else the teardown."""
    a, b = pair
    with capture.Capture(tmp_path / "sip.pcapng", ports=(a.sip_port, b.sip_port),
                         ranges=(a.rtp_ports, b.rtp_ports)) as cap:
        yield cap


# tshark's T.38 dissector reassembles per direction and does not recognise a repeated datagram
# (same sequence number, same bytes: spandsp asks for `count` copies of indicator and end-of-data
# IFPs, udptl.h). The first copy of a t4-non-ecm-sig-end ends the reassembly; the later copies
# find none and are flagged Error/Malformed with this text (copies of HDLC ends get a Note).
T38_REPEAT_ERROR = "[RECEIVED END OF FRAGMENT W/OUT ANY FRAGMENT DATA]"


def split_errors(frames):
    """tshark's error frames: (real ones, repeats of a datagram decoded without error before)."""
    err = {f["frame.number"] for f in capture.errors(frames)}
    clean, real, repeats = set(), [], []
    for f in frames:
        key = (f["udp.srcport"], f["udp.dstport"], f["udp.payload"])
        if f["frame.number"] not in err:
            clean.add(key)
        elif key in clean and set(f["_ws.expert.message"].split(";")) == {T38_REPEAT_ERROR}:
            repeats.append(f)
        else:
            real.append(f)
    return real, repeats


def in_ports(port, ports):
    return port != "" and ports[0] <= int(port) <= ports[1]


def check_capture(cap, a, b, media):
    """Decode A's call to B with tshark: SIP dialog with SDP, then PCMA both ways or T.38 with
    the T.30 frames of the call; nothing malformed. Only our packets count: the SIP ports' and the
    media port pairs of the SDP (other tests running at the same time on this host may use the
    same RTP ranges; their packets are counted as foreign). Returns a one-line summary."""
    t0 = time.monotonic()
    frames = capture.decode(cap.path, sip_ports=(a.sip_port, b.sip_port))
    took = time.monotonic() - t0
    sip_ports = {str(a.sip_port), str(b.sip_port)}
    sip = [f for f in frames if f["sip.CSeq.method"] and {f["udp.srcport"], f["udp.dstport"]} <= sip_ports]

    def first(pred):
        return next((f for f in sip if pred(f)), None)
    invite = first(lambda f: f["sip.Method"] == "INVITE" and f["udp.srcport"] == str(a.sip_port))
    ok = first(lambda f: f["sip.Status-Code"] == "200" and f["sip.CSeq.method"] == "INVITE")
    offer = invite["sdp.media"].split(";") if invite else []
    answer = ok["sdp.media"].split(";") if ok else []
    ports_a = {m.split()[1] for m in offer if len(m.split()) > 1} - {"0"}
    ports_b = {m.split()[1] for m in answer if len(m.split()) > 1} - {"0"}
    pairs = {(p, q) for p in sip_ports for q in sip_ports}
    pairs |= {(p, q) for p in ports_a for q in ports_b} | {(q, p) for p in ports_a for q in ports_b}
    ours = [f for f in frames if (f["udp.srcport"], f["udp.dstport"]) in pairs]
    rtp = [f for f in ours if f["rtp.p_type"]]
    t38 = [f for f in ours if f["t38.seq_number"]]

    def way(fs, src, dst):
        return [f for f in fs
                if in_ports(f["udp.srcport"], src.rtp_ports) and in_ports(f["udp.dstport"], dst.rtp_ports)]

    def fcfs(src):  # T.30 frames reassembled from the T.38 of one side, by abbreviation
        return [m[1] for f in way(t38, src, b if src is a else a) if f["t30.FacsimileControl"]
                for m in [re.search(r"Reassembled: ([A-Z]{2,4}) - ", f["_ws.col.Info"])] if m]

    real, repeats = split_errors(ours)
    sev = [s for f in ours for s in capture.severities(f)]
    summary = (f"{media}: {len(ours)} packets ours, {len(frames) - len(ours)} foreign (dumpcap: {cap.packets} "
               f"captured, {cap.dropped} dropped), "
               f"sip {' '.join(f['sip.Method'] or f['sip.Status-Code'] + '/' + f['sip.CSeq.method'] for f in sip)}, "
               f"sdp offer {offer} answer {answer}, "
               f"rtp A>B {len(way(rtp, a, b))} B>A {len(way(rtp, b, a))} pt {sorted({f['rtp.p_type'] for f in rtp})}, "
               f"t38 A>B {len(way(t38, a, b))} B>A {len(way(t38, b, a))}, "
               f"t30 A {','.join(dict.fromkeys(fcfs(a)))} B {','.join(dict.fromkeys(fcfs(b)))}, "
               f"expert errors {len(real)} (+{len(repeats)} repeats) "
               f"warnings {sum(capture.SEVERITY_WARN <= s < capture.SEVERITY_ERROR for s in sev)} "
               f"notes {sum(capture.SEVERITY_NOTE <= s < capture.SEVERITY_WARN for s in sev)}; tshark {took:.1f} s")
    print(summary)
    assert not real, summary + "".join(f"\n  frame {f['frame.number']} {f['udp.srcport']}>{f['udp.dstport']}: "
                                       f"{f['_ws.expert.message']} | {f['_ws.col.Info'][:200]}" for f in real)
    assert len(frames) == cap.packets, summary
    assert invite and ok, f"no INVITE from A or no 200 to it decoded: {summary}"
    for what, pred in (("ACK", lambda f: f["sip.Method"] == "ACK"), ("BYE", lambda f: f["sip.Method"] == "BYE"),
                       ("200 to the BYE", lambda f: f["sip.Status-Code"] == "200" and f["sip.CSeq.method"] == "BYE")):
        assert first(pred), f"no {what} decoded: {summary}"
    if media == "audio":
        assert [m for m in offer if re.fullmatch(r"audio 310\d\d RTP/AVP 8\b.*", m)], summary
        assert [m for m in answer if re.fullmatch(r"audio 320\d\d RTP/AVP 8", m)], summary
        assert len(way(rtp, a, b)) > 500 and len(way(rtp, b, a)) > 500, summary
        assert {f["rtp.p_type"] for f in rtp} == {"8"}, summary
    else:
        assert [m for m in offer if re.fullmatch(r"image 310\d\d udptl t38", m)], summary
        assert [m for m in answer if re.fullmatch(r"image 320\d\d udptl t38", m)], summary
        assert len(t38) > 50 and way(t38, a, b) and way(t38, b, a), summary
        assert {"TSI", "DCS", "FCD", "DCN"} <= set(fcfs(a)) and {"CSI", "DIS", "CFR", "MCF"} <= set(fcfs(b)), summary
        # the identities as tshark reads them out of the T.30 frames
        assert any("TSI - Transmitting Subscriber Identification - Number:+1 212 555 0101" in f["_ws.col.Info"]
                   for f in t38), summary
        assert any("CSI - Called Subscriber Identification - Number:+1 212 555 0102" in f["_ws.col.Info"]
                   for f in t38), summary
    return summary


@pytest.mark.parametrize("media", ["audio", "t38"])
def test_call_a_to_b(pair, sip_capture, media):
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
    sip_capture.stop()
    check_capture(sip_capture, a, b, media)


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


def test_trunk_over_tls(tmp_path):
    """transport = tls between two faxd, each with a certificate (tls_certificate_dir, sofia's
    agent.pem + cafile.pem): A's INVITE goes over TLS to B's sips port (sip_listen + 1); B only
    sends, so it refuses 486 and A records busy. Without TLS working the INVITE could not arrive
    (nothing else listens there) and the attempt would fail as line."""
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(certs / "key.pem"),
                    "-out", str(certs / "cafile.pem"), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    (certs / "agent.pem").write_text((certs / "key.pem").read_text() + (certs / "cafile.pem").read_text())
    homes = []
    pb = free_udp_port()
    for name, extra in (("a", f"[trunk tls]\nline = sip\nhost = 127.0.0.1:{pb + 1}\ntransport = tls\n"),
                        ("b", "direction = send\n")):
        (tmp_path / name).mkdir()
        h = Home(tmp_path / name)
        listen = free_udp_port() if name == "a" else pb
        h.write_config(f"[faxgate]\nnode = {name}\n[retry]\nbusy = 1h\n[line sip]\ntype = sip\n"
                       f"sip_listen = 127.0.0.1:{listen}\nrtp_port_min = 38000\nrtp_port_max = 38099\n"
                       f"tls_certificate_dir = {certs}\n" + (extra if name == "b" else "") +
                       (extra if name == "a" else ""))
        homes.append(h)
    a, b = homes
    try:
        procs = [h.start(prog("faxd")) for h in homes]
        for h, p in zip(homes, procs):
            wait_for(lambda: "status=running" in h.log_of(p), what="faxd start")
        job, _ = send(a, doc(a), wait=False)
        attempts = wait_for(lambda: show(a, job)["attempts"], timeout=15, what="first attempt")
        assert attempts[0]["outcome"] == "busy", (attempts, a.log_of(procs[0]), b.log_of(procs[1]))
        assert ";transport=tls" in a.log_of(procs[0])
    finally:
        a.stop_all()
        b.stop_all()
