# SPDX-License-Identifier: GPL-3.0-or-later
"""smtpgw against real clients (swaks, Python smtplib, raw sockets): addressing vectors,
pipelining, TLS, AUTH, policy, limits, durability and pipe mode."""
import json
import os
import re
import signal
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest

from conftest import prog, wait_for

DOMAIN = "fax.example.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    def __init__(self, home, extra=""):
        self.home = home
        self.port, self.smtps, self.submission = free_port(), free_port(), free_port()
        self.lmtp = str(home.path / "lmtp.sock")
        cert, key = home.path / "cert.pem", home.path / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        home.write_config(
            f"[faxgate]\nnode = smtptest\n[smtp]\nlisten = 127.0.0.1:{self.port}\n"
            f"smtps_listen = 127.0.0.1:{self.smtps}\nsubmission_listen = 127.0.0.1:{self.submission}\n"
            f"lmtp_listen = unix:{self.lmtp}\ndomains = {DOMAIN}, fax.localhost\n"
            f"tls_cert = {cert}\ntls_key = {key}\n{extra}\n"
            "[dial]\ncountry_code = 1\narea_code = 212\n")
        self.proc = home.start(prog("smtpgw"))
        wait_for(lambda: "status=running" in home.log_of(self.proc) or self.proc.poll() is not None,
                 what="smtpgw start")
        assert self.proc.poll() is None, home.log_of(self.proc)

    def client(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=10)

    def job(self, job_id):
        return json.loads(self.home.faxctl("--json", "show", job_id).stdout)

    def jobs(self):
        return json.loads(self.home.faxctl("--json", "jobs").stdout)


@pytest.fixture
def gw(home):
    return Gateway(home)


def message(subject="Test fax", headers=None, body="Please find the document.\n"):
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = "fax@fax.example.com"
    msg["Subject"] = subject
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    return msg


def queued_ids(reply_text):
    m = re.search(r"queued as ((?:J[0-9A-Z]{9} ?)+)", reply_text)
    assert m, reply_text
    return m.group(1).split()


def send(gw, rcpts, msg=None, sender="alice@example.com"):
    with gw.client() as c:
        c.ehlo("client.example.com")
        c.mail(sender)
        for r in rcpts:
            code, text = c.rcpt(r)
            if code != 250:
                return code, text.decode()
        code, text = c.data((msg or message()).as_bytes(policy=SMTP_POLICY))
        return code, text.decode()


# research/conventions.md §2.8, US profile
VECTORS = [
    ("+15551234567@fax.example.com", "+15551234567", None, {}),
    ("5551234567@fax.example.com", "+15551234567", None, {}),
    ("FAX=+1-555-123-4567@fax.example.com", "+15551234567", None, {}),
    ("/FAX=+1.555.123.4567/@fax.example.com", "+15551234567", None, {}),
    ("FAX=+15551234567/T33S=6377@fax.example.com", "+15551234567", None, {"subaddress": "6377"}),
    ("fax=+15551234567/cover=no@fax.example.com", "+15551234567", None, {"cover": "none"}),
    ("5551234567/to=John_Doe/co=Doe_Sprockets/cp=off@fax.example.com", "+15551234567", "John Doe",
     {"cover": "none", "recipient_company": "Doe Sprockets"}),
    ("/name=John%20Smith/fax=5551234567@fax.example.com", "+15551234567", "John Smith", {}),
    ("5551234567^COMPANY=FaxBack^NOCOVER@fax.example.com", "+15551234567", None,
     {"recipient_company": "FaxBack", "cover": "none"}),
    ("Jane_Doe/Company_Name/FAX=1-555-123-4567@fax.example.com", "+15551234567", "Jane Doe",
     {"recipient_company": "Company Name"}),
    ("Corporate_Fax.5551234567@fax.example.com", "+15551234567", "Corporate Fax", {}),
    ('"John Doe@+1 (555) 123-4567"@fax.example.com', "+15551234567", "John Doe", {}),
    ("IMCEAFAX-John+20Doe+40+2B1+20+28555+29+20123-4567@fax.example.com", "+15551234567", "John Doe", {}),
    ("imceafax-5551234567@fax.example.com", "+15551234567", None, {}),
    ("+15551234567%FAX@fax.example.com", "+15551234567", None, {}),
    ("John_Smith%5551234567%FAX@fax.example.com", "+15551234567", "John Smith", {}),
    ("FAX=+15551234567/POSTD=ww123%23@fax.example.com", "+15551234567", None, {}),
]


@pytest.mark.parametrize("rcpt,number,name,fields", VECTORS, ids=[v[0] for v in VECTORS])
def test_address_vectors_accepted(gw, rcpt, number, name, fields):
    code, text = send(gw, [rcpt])
    assert code == 250, text
    [job_id] = queued_ids(text)
    job = gw.job(job_id)
    assert job["number"] == number
    assert job["state"] == "rendering"
    assert job.get("recipient") == name
    for key, value in fields.items():
        got = job.get("company") if key == "recipient_company" else job.get(key)
        assert got == value, (key, job)


@pytest.mark.parametrize("rcpt,code,enhanced", [
    ("FAX=+1555ABC4567@fax.example.com", 550, "5.1.3"),
    ("+19005551234@fax.example.com", 550, "5.7.1"),
    ("+15551234567@example.org", 550, "5.7.1"),
])
def test_address_vectors_rejected(gw, rcpt, code, enhanced):
    with gw.client() as c:
        c.ehlo()
        c.mail("alice@example.com")
        got, text = c.rcpt(rcpt)
        assert got == code and text.decode().startswith(enhanced), text


def test_unquoted_space_is_a_syntax_error(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(b"EHLO x\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<+4930 1234567@fax.example.com>\r\nQUIT\r\n")
        f.flush()
        replies = [line.decode() for line in f.readlines()]
    rcpt = [r for r in replies if r[:1] in "45"][0]
    assert rcpt[:3] in ("501", "553"), replies


def test_swaks_with_attachment_and_headers(gw, home):
    doc = home.path / "doc.pdf"
    doc.write_bytes(b"%PDF-1.4\n% a tiny test document\n")
    env = dict(home.env, POSIXLY_CORRECT="1")
    res = subprocess.run(["swaks", "--server", f"127.0.0.1:{gw.port}", "--from", "alice@example.com",
                          "--to", "+12125550100@fax.localhost", "--attach", str(doc),
                          "--header", "X-Fax-Resolution: fine", "--header", "X-Fax-Recipient-Name: Bob Jones",
                          "--header", "X-Fax-Client-Ref: order-4711", "--header", "X-Fax-Priority: high",
                          "--header", "X-Fax-Cover-Note: Please sign"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
    m = re.search(r"<[-~] +250 .*queued as (J[0-9A-Z]{9})", res.stdout)
    assert m, res.stdout
    job = gw.job(m.group(1))
    assert job["number"] == "+12125550100"
    assert job["resolution"] == "fine"
    assert job["recipient"] == "Bob Jones"
    assert job["client_ref"] == "order-4711"
    assert job["priority"] == 8
    assert job["cover_note"] == "Please sign"
    assert job["owner"] == "alice@example.com"
    assert job["notify_to"] == "alice@example.com"


def test_bad_header_value_rejects_at_end_of_data(gw):
    code, text = send(gw, ["+12125550100@fax.example.com"], message(headers={"X-Fax-Resolution": "ultra"}))
    assert code == 550 and "X-Fax-Resolution" in text, text
    assert gw.jobs() == []


def test_service_mailbox_takes_numbers_from_header(gw):
    code, text = send(gw, ["fax@fax.example.com"], message(headers={"X-Fax-Number": "+12125550100, 212-555-0101"}))
    assert code == 250, text
    ids = queued_ids(text)
    assert sorted(gw.job(i)["number"] for i in ids) == ["+12125550100", "+12125550101"]
    code, text = send(gw, ["fax@fax.example.com"])
    assert code == 550 and "X-Fax-Number" in text


def test_pipelining(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(b"EHLO client\r\n")
        f.flush()
        ehlo = []
        while True:
            line = f.readline().decode()
            ehlo.append(line)
            if line[3] == " ":
                break
        assert any("PIPELINING" in line for line in ehlo)
        f.write(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<+12125550100@fax.example.com>\r\n"
                b"RCPT TO:<+12125550101@fax.example.com>\r\nDATA\r\n")
        f.flush()
        codes = [f.readline()[:3] for _ in range(4)]
        assert codes == [b"250", b"250", b"250", b"354"]
        f.write(b"Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        f.flush()
        final = f.readline().decode()
        assert final.startswith("250") and len(queued_ids(final)) == 2
        assert f.readline().startswith(b"221")


def test_starttls_and_implicit_tls(gw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with gw.client() as c:
        c.ehlo()
        assert c.has_extn("starttls")
        c.starttls(context=ctx)
        c.ehlo()
        c.mail("alice@example.com")
        assert c.rcpt("+12125550100@fax.example.com")[0] == 250
        code, text = c.data(message().as_bytes(policy=SMTP_POLICY))
        assert code == 250
    with smtplib.SMTP_SSL("127.0.0.1", gw.smtps, context=ctx, timeout=10) as c:
        c.ehlo()
        assert not c.has_extn("starttls")
        c.mail("alice@example.com")
        assert c.rcpt("+12125550100@fax.example.com")[0] == 250
        assert c.data(message().as_bytes(policy=SMTP_POLICY))[0] == 250


def add_user(home, address, password, *extra):
    home.run(prog("faxctl"), "profile", "add", address, "--password-stdin", *extra, input=password + "\n")


def test_auth_on_submission(gw, home):
    add_user(home, "carol@example.com", "correct horse", "--address", "c.smith@example.com")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", gw.submission, timeout=10) as c:
        c.ehlo()
        assert not c.has_extn("auth"), "AUTH must not be offered before TLS"
        c.mail("carol@example.com")
        # missing AUTH
        assert c.rcpt("+12125550100@fax.example.com")[0] in (503, 530)
    with smtplib.SMTP("127.0.0.1", gw.submission, timeout=10) as c:
        c.starttls(context=ctx)
        c.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as bad:
            c.login("carol@example.com", "wrong")
        assert bad.value.smtp_code == 535
    with smtplib.SMTP("127.0.0.1", gw.submission, timeout=10) as c:
        c.starttls(context=ctx)
        c.ehlo()
        c.login("carol@example.com", "correct horse")
        code, text = c.mail("mallory@example.com")
        assert code == 553 and b"5.7.1" in text
        assert c.mail("c.smith@example.com")[0] == 250
        assert c.rcpt("+12125550100@fax.example.com")[0] == 250
        code, text = c.data(message().as_bytes(policy=SMTP_POLICY))
        assert code == 250
        job = gw.job(queued_ids(text.decode())[0])
        assert job["owner"] == "carol@example.com" and job["auth_user"] == "carol@example.com"


def test_relay_attempt(gw):
    with gw.client() as c:
        c.ehlo()
        c.mail("alice@example.com")
        code, text = c.rcpt("bob@example.org")
        assert code == 550 and b"5.7.1" in text


def test_size_limits(home):
    gw = Gateway(home, "max_message_size = 20000")
    with gw.client() as c:
        c.ehlo()
        assert c.has_extn("size")
        code, text = c.mail("alice@example.com", ["SIZE=50000"])
        assert code == 552 and b"5.3.4" in text
        c.rset()
        c.mail("alice@example.com")
        c.rcpt("+12125550100@fax.example.com")
        code, text = c.data(message(body="x" * 60 + "\n" * 1 + ("y" * 70 + "\n") * 400).as_bytes(policy=SMTP_POLICY))
        assert code == 552
    assert gw.jobs() == []


def test_command_line_limit_and_bare_lf(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(b"EHLO " + b"a" * 2042 + b"\r\n")  # 2049 bytes with CRLF
        f.flush()
        assert f.readline().startswith(b"500")
        f.write(b"NOOP " + b"a" * 2041 + b"\r\n")  # exactly 2048
        f.flush()
        assert f.readline().startswith(b"250")
        f.write(b"EHLO client\r\n")
        f.flush()
        line = f.readline()
        while line[3:4] == b"-":
            line = f.readline()
        assert line.startswith(b"250")
        f.write(b"NOOP\n")
        f.flush()
        assert f.readline().startswith(b"500")
        f.write(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<+12125550100@fax.example.com>\r\nDATA\r\n")
        f.flush()
        for _ in range(3):
            f.readline()
        f.write(b"Subject: x\r\n\r\nbare\nLF\r\n.\r\n")
        f.flush()
        assert f.readline().startswith(b"550")
    assert gw.jobs() == []


def test_disconnect_mid_data_leaves_no_job(gw):
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(b"HELO x\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<+12125550100@fax.example.com>\r\nDATA\r\n")
        f.flush()
        for _ in range(4):
            f.readline()
        f.write(b"Subject: half\r\n\r\nhalf a message\r\n")
        f.flush()
    time.sleep(0.5)
    assert gw.jobs() == []
    assert not list((gw.home.path / "spool" / "incoming").iterdir())


def test_idempotent_resubmission(gw):
    msg = message(headers={"X-Fax-Idempotency-Key": "invoice-2026-0042"})
    code1, text1 = send(gw, ["+12125550100@fax.example.com"], msg)
    code2, text2 = send(gw, ["+12125550100@fax.example.com"], msg)
    assert code1 == code2 == 250
    assert queued_ids(text1) == queued_ids(text2)
    assert "already" in text2
    assert len(gw.jobs()) == 1


def test_lmtp_per_recipient_replies(gw):
    with smtplib.LMTP(gw.lmtp, timeout=10) as c:
        c.ehlo()
        c.mail("alice@example.com")
        assert c.rcpt("+12125550100@fax.example.com")[0] == 250
        assert c.rcpt("fax@fax.example.com")[0] == 250  # the service mailbox, but no X-Fax-Number
        c.putcmd("data")
        assert c.getreply()[0] == 354
        c.send(message().as_bytes(policy=SMTP_POLICY) + b".\r\n")
        first = c.getreply()
        second = c.getreply()
    assert first[0] == 250 and b"queued as" in first[1]
    assert second[0] == 550 and b"X-Fax-Number" in second[1]
    assert len(gw.jobs()) == 1


def deliver(home, *args, stdin):
    return home.run(prog("smtpgw"), "deliver", *args, input=stdin, check=False)


def test_pipe_mode_exit_codes(gw, home):
    raw = "From: alice@example.com\nSubject: piped\n\nhello\n"
    res = deliver(home, "-f", "alice@example.com", "+12125550100@fax.example.com", stdin=raw)
    assert res.returncode == 0 and "queued as" in res.stdout
    assert deliver(home, "-f", "a@b", "FAX=+1555ABC4567@fax.example.com", stdin=raw).returncode == 67
    assert deliver(home, "-f", "a@b", "+19005551234@fax.example.com", stdin=raw).returncode == 77
    assert deliver(home, "-f", "a@b", "someone@elsewhere.org", stdin=raw).returncode == 67
    bad = "X-Fax-Resolution: ultra\n" + raw
    assert deliver(home, "-f", "a@b", "+12125550100@fax.example.com", stdin=bad).returncode == 65
    assert home.run(prog("smtpgw"), "deliver", check=False).returncode == 64
    jobs = gw.jobs()
    assert len(jobs) == 1
    stored = home.run("sqlite3", str(home.path / "faxgate.db"),
                      "SELECT data FROM documents WHERE kind = 'message'").stdout
    assert "Subject: piped\r" in stored or "Subject: piped" in stored


def test_sigkill_right_after_250_keeps_the_job(gw, home):
    code, text = send(gw, ["+12125550100@fax.example.com"])
    assert code == 250
    os.killpg(gw.proc.pid, signal.SIGKILL)
    gw.proc.wait()
    [job_id] = queued_ids(text)
    assert gw.job(job_id)["state"] == "rendering"
    home.start(prog("smtpgw"))  # and the restarted daemon still sees it
    assert gw.job(job_id)["number"] == "+12125550100"


def test_store_unavailable_gives_451_and_no_job(home):
    gw = Gateway(home, "")
    with open(home.path / "faxgate.conf", "a") as f:
        f.write("[store]\nbusy_timeout_ms = 300\n")
    os.killpg(gw.proc.pid, signal.SIGTERM)
    gw.proc.wait()
    gw.proc = home.start(prog("smtpgw"))
    wait_for(lambda: home.log_of(gw.proc).count("status=running") >= 1, what="restart")
    lock = sqlite3.connect(home.path / "faxgate.db", timeout=5, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        code, text = send(gw, ["+12125550100@fax.example.com"])
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert code == 451 and "4.3.0" in text, text
    assert gw.jobs() == []


def test_rate_limit_per_user(home):
    gw = Gateway(home, "rate_limit = 2")
    for _ in range(2):
        assert send(gw, ["+12125550100@fax.example.com"])[0] == 250
    with gw.client() as c:
        c.ehlo()
        code, text = c.mail("alice@example.com")
        assert code == 450 and b"4.7.1" in text
    # another sender is not held back
    assert send(gw, ["+12125550100@fax.example.com"], sender="bob@example.com")[0] == 250


def test_untrusted_x_fax_headers_ignored(home):
    gw = Gateway(home, "trusted_networks = 10.99.0.0/16")  # loopback is not trusted here
    home.run(prog("faxctl"), "profile", "add", "dora@example.com", "--password-stdin", input="pw-dora\n")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with gw.client() as c:
        c.ehlo()
        code, text = c.mail("dora@example.com")
        assert code == 530 and b"5.7.0" in text  # no AUTH from an untrusted network
    with gw.client() as c:
        c.starttls(context=ctx)
        c.ehlo()
        c.login("dora@example.com", "pw-dora")
        c.mail("dora@example.com")
        assert c.rcpt("+12125550100@fax.example.com")[0] == 250
        code, text = c.data(message(headers={"X-Fax-TSI": "+1 999 999"}).as_bytes(policy=SMTP_POLICY))
        assert code == 250
        job = gw.job(queued_ids(text.decode())[0])
        assert job["tsi"] == "+1 999 999"  # authenticated users are trusted
