# SPDX-License-Identifier: GPL-3.0-or-later
"""The mailer's transports (smtpgw/relay.c, relay_conn.c, maildir.c, mailroute.c) driven by
`faxctl test-mail` against a real SMTP server (tests/helpers/smtp_sink.py): plain SMTP,
opportunistic and required STARTTLS, implicit TLS, AUTH, certificate and name verification, a relay
that is down, silent or busy, refused recipients, rate limits, and a Maildir route."""
import base64
import json
import socket
import sys
import time

import pytest

from conftest import ROOT, prog

sys.path.insert(0, str(ROOT / "tests" / "helpers"))
from smtp_sink import SinkProcess, make_cert  # noqa: E402

USER, PASSWORD = "relay-user", "Corr3ct-h0rse"
RCPT = "someone@example.com"


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """Self-signed for localhost and 127.0.0.1 (the relay's address in every route)."""
    return make_cert(tmp_path_factory.mktemp("cert"))


@pytest.fixture
def sink(tmp_path):
    started = []

    def start(*args):
        d = tmp_path / f"sink{len(started)}"
        d.mkdir()
        started.append(SinkProcess(d, *args))
        return started[-1]

    yield start
    for s in started:
        s.stop()


def configure(home, port, **keys):
    route = "".join(f"{k} = {v}\n" for k, v in keys.items())
    return home.write_config("[mail]\nfrom = Fax Gateway <fax@gw.example>\nhostname = gw.example\n"
                             "[mailroute relay]\ntransport = smtp\nhost = 127.0.0.1\n"
                             f"port = {port}\ntimeout = 5s\n{route}")


def send_test_mail(home, conf, *args, timeout=30):
    """bin/faxctl -c CONF test-mail RCPT ARGS..."""
    return home.run(prog("faxctl"), "-c", str(conf), "test-mail", RCPT, *args, check=False, timeout=timeout)


def last_line(res):
    return res.stdout.strip().splitlines()[-1]


def delivered(res, s, tls=False):
    assert res.returncode == 0 and last_line(res) == "delivered", res.stdout + res.stderr
    got = s.messages()
    assert len(got) == 1, got
    m = got[0]
    assert m["mail_from"] == "fax@gw.example" and m["rcpt_tos"] == [RCPT] and m["tls"] == tls
    text = open(m["file"], "rb").read().decode()
    assert "From: Fax Gateway <fax@gw.example>\r\n" in text and f"To: {RCPT}\r\n" in text
    assert "Subject: faxgate test message\r\n" in text and "Route: relay (smtp 127.0.0.1:" in text
    assert "C: EHLO gw.example" in res.stdout and "S: 250 " in res.stdout and "C: <message, " in res.stdout
    return m


def failed(res, s, start):
    assert res.returncode == 1, res.stdout + res.stderr
    assert last_line(res).startswith("failed: " + start), res.stdout
    assert s is None or s.messages() == []


def no_secrets(res):
    out = res.stdout + res.stderr
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    assert PASSWORD not in out and plain not in out and base64.b64encode(PASSWORD.encode()).decode() not in out


def test_plain(home, sink):
    s = sink()
    res = send_test_mail(home, configure(home, s.port, tls="none"))
    delivered(res, s)
    assert "STARTTLS" not in res.stdout


def test_opportunistic_starttls(home, sink, cert):
    s = sink("--starttls", "--cert", cert[0], "--key", cert[1])
    res = send_test_mail(home, configure(home, s.port, tls="opportunistic", verify="no"))
    delivered(res, s, tls=True)
    assert "C: STARTTLS\nS: 220 Ready to start TLS\nTLS: TLSv1.3 " in res.stdout
    assert res.stdout.count("C: EHLO gw.example") == 2  # again under TLS
    assert res.stdout.count("S: 220 sink.test") == 1  # the greeting libESMTP is given again is not shown twice


def test_opportunistic_without_starttls_sends_plain(home, sink):
    s = sink()
    delivered(send_test_mail(home, configure(home, s.port, tls="opportunistic")), s)


def test_required_starttls_not_offered(home, sink):
    s = sink()
    res = send_test_mail(home, configure(home, s.port, tls="starttls", verify="no"))
    failed(res, s, "0 the relay does not offer STARTTLS")


def test_implicit_tls(home, sink, cert):
    s = sink("--implicit-tls", "--cert", cert[0], "--key", cert[1])
    res = send_test_mail(home, configure(home, s.port, tls="implicit", verify="no"))
    delivered(res, s, tls=True)
    assert res.stdout.startswith("TLS: TLSv1.3 ") and "certificate not checked (verify = no)\nS: 220 sink.test" in res.stdout


def test_starttls_auth_plain(home, sink, cert):
    s = sink("--starttls", "--cert", cert[0], "--key", cert[1], "--auth", f"{USER}:{PASSWORD}",
             "--auth-mechanisms", "PLAIN")
    res = send_test_mail(home, configure(home, s.port, tls="starttls", verify="no", user=USER, password=PASSWORD))
    m = delivered(res, s, tls=True)
    assert m["auth"] == USER
    assert "C: AUTH PLAIN ****\nS: 235" in res.stdout
    no_secrets(res)


def test_implicit_tls_auth_login(home, sink, cert):
    s = sink("--implicit-tls", "--cert", cert[0], "--key", cert[1], "--auth", f"{USER}:{PASSWORD}",
             "--auth-mechanisms", "LOGIN")
    res = send_test_mail(home, configure(home, s.port, tls="implicit", verify="no", user=USER, password=PASSWORD))
    assert delivered(res, s, tls=True)["auth"] == USER
    # libESMTP sends the user name as the initial response; the password answers the 334
    assert "C: AUTH LOGIN ****\nS: 334 " in res.stdout and "C: ****\nS: 235" in res.stdout
    no_secrets(res)


def test_auth_on_plaintext_when_configured(home, sink):
    s = sink("--auth", f"{USER}:{PASSWORD}", "--auth-plaintext")
    res = send_test_mail(home, configure(home, s.port, tls="none", user=USER, password=PASSWORD))
    assert delivered(res, s)["auth"] == USER
    no_secrets(res)


def test_wrong_password_is_temporary_535(home, sink, cert):
    s = sink("--starttls", "--cert", cert[0], "--key", cert[1], "--auth", f"{USER}:{PASSWORD}")
    res = send_test_mail(home, configure(home, s.port, tls="starttls", verify="no", user=USER, password="wrong"))
    failed(res, s, "535 5.7.8")
    assert "S: 530" in res.stdout  # libESMTP went on to MAIL; the AUTH reply is what is reported
    no_secrets(res)


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_verify_self_signed(home, sink, cert, tls):
    s = sink(f"--{tls}" if tls == "starttls" else "--implicit-tls", "--cert", cert[0], "--key", cert[1])
    res = send_test_mail(home, configure(home, s.port, tls=tls, verify="yes"))
    failed(res, s, "0 TLS: certificate of 127.0.0.1 not accepted: self-signed certificate")
    delivered(send_test_mail(home, configure(home, s.port, tls=tls, verify="yes", ca_file=cert[0])), s, tls=True)


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_verify_name_mismatch(home, sink, tmp_path, tls):
    other = make_cert(tmp_path, "other.example", ip=None)
    s = sink(f"--{tls}" if tls == "starttls" else "--implicit-tls", "--cert", other[0], "--key", other[1])
    res = send_test_mail(home, configure(home, s.port, tls=tls, verify="yes", ca_file=other[0]))
    failed(res, s, "0 TLS: certificate of 127.0.0.1 not accepted: ")
    assert "mismatch" in last_line(res)
    delivered(send_test_mail(home, configure(home, s.port, tls=tls, verify="no", ca_file=other[0])), s, tls=True)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_relay_down(home):
    t0 = time.monotonic()
    res = send_test_mail(home, configure(home, closed_port(), timeout="2s"))
    failed(res, None, "0 connect to 127.0.0.1:")
    assert "Connection refused" in res.stdout and time.monotonic() - t0 < 5


def test_silent_relay_times_out(home):
    with socket.socket() as quiet:  # accepts (the kernel does) and never says a word
        quiet.bind(("127.0.0.1", 0))
        quiet.listen(4)
        t0 = time.monotonic()
        res = send_test_mail(home, configure(home, quiet.getsockname()[1], timeout="2s"))
        took = time.monotonic() - t0
    failed(res, None, "0 no reply from the relay within 2 s")
    assert 1.5 < took < 8, took


def test_greeting_421(home, sink, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"down": True}))
    s = sink("--script", script)
    res = send_test_mail(home, configure(home, s.port))
    failed(res, s, "421 4.3.2 Service not available")


def test_recipient_refused_550(home, sink, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"rcpt": {RCPT: "550 5.1.1 no such user"}}))
    s = sink("--script", script)
    res = send_test_mail(home, configure(home, s.port))
    failed(res, s, "550 5.1.1 no such user")


def test_sender_refused(home, sink, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"mail": {"fax@gw.example": "553 5.7.1 not yours"}}))
    s = sink("--script", script)
    failed(send_test_mail(home, configure(home, s.port)), s, "553 5.7.1 not yours")


def test_rate_limited_then_accepted(home, sink, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"data_reply": "451 4.7.1 slow down", "data_reply_count": 1}))
    s = sink("--script", script)
    conf = configure(home, s.port)
    failed(send_test_mail(home, conf), s, "451 4.7.1 slow down")
    delivered(send_test_mail(home, conf), s)


def test_from_option_and_route_choice(home, sink, tmp_path):
    s = sink()
    conf = home.write_config(f"[mailroute local]\ntransport = maildir\nmaildir = {tmp_path / 'md'}\n"
                             "domains = local.test\n"
                             f"[mailroute relay]\ntransport = smtp\nhost = 127.0.0.1\nport = {s.port}\n")
    res = send_test_mail(home, conf, "--from", "ops@gw.example")
    assert res.returncode == 0 and s.messages()[0]["mail_from"] == "ops@gw.example", res.stdout
    assert send_test_mail(home, conf, "--route", "nosuch").returncode == 64


def test_maildir_route(home, tmp_path):
    md = tmp_path / "Maildir"
    conf = home.write_config(f"[mail]\nfrom = fax@gw.example\n[mailroute local]\ntransport = maildir\nmaildir = {md}\n")
    res = send_test_mail(home, conf)
    assert res.returncode == 0 and last_line(res) == "delivered", res.stdout + res.stderr
    files = list((md / "new").iterdir())
    assert len(files) == 1 and list((md / "tmp").iterdir()) == [] and (md / "cur").is_dir()
    assert f"delivered to new/{files[0].name}" in res.stdout
    text = files[0].read_text()
    assert "Subject: faxgate test message\n" in text and "Route: local (maildir " in text


def test_maildir_blocked_by_a_file(home, tmp_path):
    md = tmp_path / "Maildir"
    md.mkdir()
    (md / "new").write_text("not a directory")
    conf = home.write_config(f"[mailroute local]\ntransport = maildir\nmaildir = {md}\n")
    res = send_test_mail(home, conf)
    assert res.returncode == 1 and "Not a directory" in last_line(res), res.stdout


def test_bad_route_is_a_config_error(home):
    conf = home.write_config("[mailroute relay]\ntransport = smtp\nhost = 127.0.0.1\npassword = x\n")
    res = send_test_mail(home, conf)
    assert res.returncode == 78 and "password: set without a user" in res.stderr
