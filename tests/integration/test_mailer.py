# SPDX-License-Identifier: GPL-3.0-or-later
"""The mailer (bin/mailer) with the real daemons: faxes received on the loop line land in a Maildir
as mails with the fax attached, and jobs submitted by SMTP end in the notifications their headers
asked for, checked by Python's email parser."""
import email
import email.policy
import json
import os
import pathlib
import signal
import smtplib
import socket
import subprocess
import sys
import time

import pytest

from conftest import BUILD, prog, wait_for

MKFAXTIFF = os.environ.get("MKFAXTIFF", str(BUILD / "tests/helpers/mkfaxtiff"))
FAXPIXELS = os.environ.get("FAXPIXELS", str(BUILD / "tests/helpers/faxpixels"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(home, extra="", line=""):
    return home.write_config(
        "[faxgate]\nnode = mailtest\n[faxd]\npoll_interval = 1\n"
        "[mail]\npoll_interval_ms = 50\nfrom = Fax Gateway <fax-gw@example.com>\nadmin = postmaster@example.com\n"
        f"{extra}\n[line loop]\ntype = loop\n{line}\n")


def make_doc(home, name="doc.tiff", pages=3, seed=1):
    path = home.path / name
    subprocess.run([MKFAXTIFF, str(path), "--pages", str(pages), "--res", "fine", "--seed", str(seed)], check=True)
    return path


def maildir_messages(path):
    new = pathlib.Path(path) / "new"
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            for f in sorted(new.glob("*"))] if new.exists() else []


def wait_mails(path, count, timeout=30):
    return wait_for(lambda: (lambda m: m if len(m) >= count else None)(maildir_messages(path)),
                    timeout=timeout, what=f"{count} mails in {path}")


def pixels(*paths):
    out = subprocess.run([FAXPIXELS, *map(str, paths)], capture_output=True, text=True, check=True).stdout
    return out.split("\n")[:-1]


def attachments(msg):
    return {part.get_filename(): part for part in msg.iter_attachments() if part.get_filename()}


def pdf_pixels(home, pdf_bytes):
    pdf = home.path / "got.pdf"
    pdf.write_bytes(pdf_bytes)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    outdir = home.path / "pdfimages"
    outdir.mkdir(exist_ok=True)
    subprocess.run(["pdfimages", "-tiff", str(pdf), str(outdir / "p")], check=True)
    return pages, pixels(*sorted(outdir.glob("p-*.tif")))


def test_received_fax_for_a_routed_did_lands_as_pdf_and_tiff(home):
    configure(home, "[routes]\n100 = alice@example.com, format=both\n")
    home.start(prog("faxd"))
    mailer = home.start(prog("mailer"))
    doc = make_doc(home, pages=3, seed=5)
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "100", str(doc))
    [msg] = wait_mails(home.path / "mail", 1)
    assert msg["To"] == "alice@example.com"
    assert msg["From"].addresses[0].addr_spec == "+12125550199@fax.localhost"
    assert msg["Content-Class"] == "fax" and msg["Message-Context"] == "fax-message"
    assert msg["X-CallingTelephoneNumber"] == "+12125550199" and msg["X-FaxNumberOfPages"] == "3"
    assert msg["X-Fax-Called-Number"] == "100" and msg["X-Fax-Receive-Status"] == "complete"
    assert msg["X-Fax-Routed-By"] == "route" and msg["X-Fax-Remote-TSI"] == "+1 212 555 0199"
    files = attachments(msg)
    [pdf] = [p for n, p in files.items() if n.endswith(".pdf")]
    [tif] = [p for n, p in files.items() if n.endswith(".tif")]
    assert pdf.get_content_type() == "application/pdf" and tif.get_content_type() == "image/tiff"
    pages, got = pdf_pixels(home, pdf.get_content())
    assert pages == 3 and got == pixels(doc), "PDF pages differ from the pages sent"
    (home.path / "got.tif").write_bytes(tif.get_content())
    assert pixels(home.path / "got.tif") == pixels(doc)
    rx = json.loads(home.faxctl("--json", "inbound").stdout)
    assert [r["state"] for r in rx] == ["mailed"], home.log_of(mailer)


def test_unknown_did_goes_to_the_fallback_mailbox(home):
    configure(home, "fallback = faxdesk@example.com\n[routes]\n100 = alice@example.com\n")
    home.start(prog("faxd"))
    home.start(prog("mailer"))
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "999", str(make_doc(home, pages=1)))
    [msg] = wait_mails(home.path / "mail", 1)
    assert msg["To"] == "faxdesk@example.com" and msg["X-Fax-Routed-By"] == "default"
    assert [n for n in attachments(msg) if n.endswith(".pdf")], "PDF is the default format"


def test_rule_by_caller_id_comes_before_the_route(home):
    configure(home, "[routes]\n100 = alice@example.com\n"
              "[rxrule vip]\ncaller_id = +1212555*\nto = bob@example.com, carol@example.com\nformat = none\n")
    home.start(prog("faxd"))
    home.start(prog("mailer"))
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "100", str(make_doc(home, pages=1)))
    msgs = wait_mails(home.path / "mail", 2)
    assert sorted(m["To"] for m in msgs) == ["bob@example.com", "carol@example.com"]
    assert all(m["X-Fax-Routed-By"] == "rule" and not attachments(m) for m in msgs)


def test_bad_template_is_a_start_up_error(home):
    tdir = home.path / "mail-templates"
    tdir.mkdir()
    (tdir / "sent.en.txt").write_text("Subject: Fax {nosuchfield}\n\nbody\n")
    configure(home)
    res = home.run(prog("mailer"), check=False, timeout=10)
    assert res.returncode == 78 and "sent.en.txt" in res.stdout + res.stderr and "nosuchfield" in res.stdout + res.stderr


# ---- notifications of jobs submitted by SMTP ----

class Chain:
    """smtpgw, render, faxd and the mailer on one home: a mail in, a fax out, a notice back."""

    def __init__(self, home, extra="", line=""):
        self.home = home
        self.port = free_port()
        configure(home, f"{extra}\n[smtp]\nlisten = 127.0.0.1:{self.port}\ndomains = fax.example.com\n"
                  "[render]\nworkers = 1\n[retry]\nbusy = 1\nmax_tries = 1\nmax_dials = 1\n", line)
        self.smtpgw = home.start(prog("smtpgw"))
        wait_for(lambda: "status=running" in home.log_of(self.smtpgw), what="smtpgw start")
        for p in ("render", "faxd", "mailer"):
            home.start(prog(p))

    def submit(self, headers, rcpt="+12125550100@fax.example.com", rcpt_options=(), msgid="<orig-1@example.com>"):
        msg = email.message.EmailMessage()
        msg["From"] = "Anne Example <anne@example.com>"
        msg["To"] = rcpt
        msg["Subject"] = "Quarterly report"
        msg["Message-ID"] = msgid
        for k, v in headers.items():
            msg[k] = v
        msg.set_content("Please find the figures.\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
            c.ehlo("client.example.com")
            c.mail("anne@example.com")
            code, text = c.rcpt(rcpt, list(rcpt_options))
            assert code == 250, text
            code, text = c.data(msg.as_bytes(policy=email.policy.SMTP))
            assert code == 250, text
        return text.decode().split()[-1]


def parts_of(msg):
    """The first part of each type (the blocks of a delivery-status parse as text/plain too)."""
    parts = {}
    for p in msg.walk():
        parts.setdefault(p.get_content_type(), p)
    return parts


def test_success_notice_with_dsn_and_json_parts(home):
    chain = Chain(home)
    job = chain.submit({"X-Fax-Notify": "always", "X-Fax-Notify-Format": "json", "X-Fax-Client-Ref": "PO-4711"},
                       rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
    [msg] = wait_mails(home.path / "mail", 1, timeout=90)
    assert msg["To"] == "anne@example.com"
    assert msg["X-Fax-Job-ID"] == job and msg["X-Fax-Status"] == "sent"
    assert msg["X-Fax-Client-Ref"] == "PO-4711" and msg["X-Fax-Number"] == "+12125550100"
    info = json.loads(home.faxctl("--json", "show", job).stdout)
    assert msg["X-Fax-Pages"] == f"{info['pages_total']}/{info['pages_total']}"
    assert msg["In-Reply-To"] == "<orig-1@example.com>" and "<orig-1@example.com>" in msg["References"]
    assert msg["Auto-Submitted"].startswith("auto-")
    assert msg.get_content_type() == "multipart/report"
    parts = parts_of(msg)
    dsn = parts["message/delivery-status"].as_string()
    assert "Action: delivered" in dsn and "Status: 2.0.0" in dsn
    assert "Final-Recipient: rfc822;" in dsn.replace("; ", ";") and "+12125550100@fax.example.com" in dsn
    fields = json.loads(parts["application/json"].get_content())
    assert fields["job_id"] == job and fields["status"] == "sent" and fields["client_ref"] == "PO-4711"
    assert "text/plain" in parts and "text/html" in parts


def test_failure_notice_in_german_and_never_means_none(home):
    chain = Chain(home, line="busy_calls = 100\n")
    home.faxctl("profile", "add", "anne@example.com", "--language", "de")
    quiet = chain.submit({"X-Fax-Notify": "never"}, msgid="<quiet@example.com>")
    job = chain.submit({"X-Fax-Notify": "failure", "X-Fax-Notify-Format": "dsn"}, rcpt="+12125550101@fax.example.com")
    [msg] = wait_mails(home.path / "mail", 1, timeout=90)
    assert msg["X-Fax-Job-ID"] == job and msg["X-Fax-Status"] == "failed"
    assert msg["X-Fax-Result-Code"] in ("busy", "too-many-dials", "too-many-tries")
    text = parts_of(msg)["text/plain"].get_content()
    assert "Fax" in text and ("nicht" in text or "fehlgeschlagen" in text), text
    dsn = parts_of(msg)["message/delivery-status"].as_string()
    assert "Action: failed" in dsn
    info = json.loads(home.faxctl("--json", "show", quiet).stdout)
    assert info["state"] == "failed"
    assert len(maildir_messages(home.path / "mail")) == 1, "X-Fax-Notify: never sent a notice"


# ---- delivery through a relay (a real SMTP sink on loopback) ----

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "helpers"))
from smtp_sink import SinkProcess  # noqa: E402


@pytest.fixture
def sink(home):
    script = home.path / "sink-script.json"
    script.write_text("{}")
    s = SinkProcess(home.path, "--script", str(script))
    s.script = script
    yield s
    s.stop()


def set_script(sink, value):
    tmp = sink.script.with_suffix(".tmp")
    tmp.write_text(json.dumps(value))
    tmp.rename(sink.script)


def relay_config(home, sink, recipients, extra=""):
    configure(home, "retry_min = 1s\nretry_max = 2s\nrate_pause = 3s\nadmin = postmaster@localhost\n"
              f"{extra}\n[routes]\n100 = {recipients}, format=pdf\n"
              f"[mailroute local]\ntransport = maildir\ndomains = localhost\nmaildir = {home.path}/adminmail\n"
              f"[mailroute relay]\ntransport = smtp\ndomains = *\nhost = 127.0.0.1\nport = {sink.port}\n"
              "tls = none\ntimeout = 5s\nconnections = 2\n")


def status(home):
    return {(r["what"], r["name"].split(" ")[0]): r["value"]
            for r in json.loads(home.faxctl("--json", "status").stdout)}


def receive_one(home, pages=1):
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "100", str(make_doc(home, pages=pages)))


def test_relay_down_for_a_while_then_everything_is_delivered(home, sink):
    set_script(sink, {"down": True})
    relay_config(home, sink, "a@example.com, b@example.com")
    home.start(prog("faxd"))
    mailer = home.start(prog("mailer"))
    receive_one(home)
    wait_for(lambda: home.log_of(mailer).count("status=deferred") >= 2, timeout=30, what="deferrals")
    assert sink.messages() == []
    set_script(sink, {})
    wait_for(lambda: len(sink.messages()) == 2, timeout=30, what="delivery after the relay returned")
    assert sorted(m["rcpt_tos"][0] for m in sink.messages()) == ["a@example.com", "b@example.com"]
    wait_for(lambda: status(home).get(("outbox", "sent")) == "2", what="rows sent")
    assert "status=deferred" in home.log_of(mailer)


def test_rate_limit_pauses_the_route_and_resumes(home, sink):
    set_script(sink, {"data_reply": "421 4.7.0 slow down", "data_reply_count": 1})
    relay_config(home, sink, "a@example.com, b@example.com, c@example.com", "retry_min = 60s\nretry_max = 60s\n")
    home.start(prog("faxd"))
    home.start(prog("mailer"))
    receive_one(home)
    paused = wait_for(lambda: (lambda v: v if v.startswith("rate limited until") else None)(
        status(home).get(("route", "relay"), "")), timeout=30, what="route paused")
    t_paused = time.time()
    assert "rate limited until" in paused
    wait_for(lambda: len(sink.messages()) == 3, timeout=30, what="all three delivered after the pause")
    late = [m for m in sink.messages() if m["time"] >= t_paused + 1.5]
    assert late, "nothing waited for the pause to end"
    wait_for(lambda: status(home)[("route", "relay")] == "ready", timeout=10, what="route ready again")


def test_permanent_failure_goes_to_the_admin_mailbox(home, sink):
    set_script(sink, {"rcpt": {"nobody@example.com": "550 5.1.1 no such user"}})
    relay_config(home, sink, "nobody@example.com")
    home.start(prog("faxd"))
    home.start(prog("mailer"))
    receive_one(home)
    [report] = wait_mails(home.path / "adminmail", 1)
    assert report["To"] == "postmaster@localhost"
    text = parts_of(report)["text/plain"].get_content()
    assert "nobody@example.com" in text and "550" in text
    assert status(home).get(("outbox", "failed")) == "1" and sink.messages() == []


def test_mailer_killed_in_mid_delivery_delivers_after_restart(home, sink):
    set_script(sink, {"data_delay": 3})
    relay_config(home, sink, "a@example.com")
    home.start(prog("faxd"))
    mailer = home.start(prog("mailer"))
    receive_one(home)
    wait_for(lambda: status(home).get(("outbox", "sending")) == "1", timeout=30, what="delivery under way")
    time.sleep(1)
    os.killpg(mailer.pid, signal.SIGKILL)
    mailer.wait()
    set_script(sink, {})
    mailer2 = home.start(prog("mailer"))
    wait_for(lambda: status(home).get(("outbox", "sent")) == "1", timeout=30, what="delivered after restart")
    time.sleep(3.5)  # the first connection's DATA reply comes now, to a dead client
    got = sink.messages()
    dups = int(status(home)[("mailer", "possible")])
    assert dups == 1 and "may arrive twice" in home.log_of(mailer2)
    assert 1 <= len(got) <= 1 + dups, got
