# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering end to end: client-shaped messages go in through smtpgw's pipe mode, the render
daemon turns them into fax pages (cover first), faxd sends them over the loop line, and the far
end has the pages. Hostile input fails the job with a reason and leaves the daemon running."""
import json
import re
import os
import pathlib
import subprocess

import pytest

from conftest import ROOT, prog, wait_for

MAIL = ROOT / "tests/data/mail"


def expected_pages():
    rows = {}
    for line in (MAIL / "expected.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            cols = [c.strip() for c in line.split("|")]
            rows[cols[0]] = int(cols[4])
    return rows


EXPECTED = expected_pages()


def configure(home, extra=""):
    home.write_config("[faxgate]\nnode = rendertest\n[faxd]\npoll_interval = 1\n"
                      "[smtp]\ndomains = fax.example.com\n[render]\nworkers = 2\ntimeout = 60\n"
                      f"{extra}\n[line loop]\ntype = loop\n")


def submit(home, name, rcpt="+12125550100@fax.example.com", sender="anne@example.com"):
    data = (MAIL / name).read_bytes() if (MAIL / name).exists() else name.encode()
    res = subprocess.run([prog("smtpgw"), "deliver", "-f", sender, rcpt], input=data, env=home.env,
                         capture_output=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.decode().split()[-1]


def job(home, job_id):
    return json.loads(home.faxctl("--json", "show", job_id).stdout)


def settled(home, job_id, states=("queued", "failed", "done", "sending", "deferred")):
    return job(home, job_id)["state"] in states


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_renders(home, name):
    configure(home)
    render = home.start(prog("render"))
    job_id = submit(home, name)
    wait_for(lambda: settled(home, job_id), timeout=60, what=f"{name} rendered")
    info = job(home, job_id)
    assert info["state"] == "queued", (info.get("result_text"), home.log_of(render))
    assert info["pages_total"] == EXPECTED[name], info
    assert info["header_line"], "a header line is given to the fax session"


def test_cover_and_pages_reach_the_far_end(home):
    configure(home)
    home.start(prog("render"))
    home.start(prog("faxd"))
    job_id = submit(home, "app-job.eml", rcpt="fax@fax.example.com")
    wait_for(lambda: job(home, job_id)["state"] in ("done", "failed"), timeout=90, what="sent")
    info = job(home, job_id)
    assert info["state"] == "done", info
    assert info["number"] == "+12125550105" and info["recipient"] == "Grace Hopper"
    received = list((home.path / "loop").glob(f"*{job_id}*.tiff"))
    assert len(received) == 1
    out = subprocess.run(["tiffinfo", str(received[0])], capture_output=True, text=True).stdout
    assert out.count("TIFF Directory") == 2
    assert "Image Width: 1728" in out


def test_preview(home):
    configure(home)
    home.start(prog("render"))
    job_id = submit(home, "thunderbird.eml")
    wait_for(lambda: settled(home, job_id), timeout=60, what="rendered")
    png = home.path / "p1.png"
    home.faxctl("preview", job_id, "--page", "1", "--out", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = home.path / "all.pdf"
    home.faxctl("preview", job_id, "--out", str(pdf))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+2$", info, re.M), info


HOSTILE = {
    "unsupported type": ("application/x-msdownload", "setup.exe", b"MZ\x90\x00" + b"\x00" * 200),
    "corrupt TIFF": ("image/tiff", "scan.tif", b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 50),
    "truncated PDF": ("application/pdf", "broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog"),
    "many pages": ("application/postscript", "many.ps", b"%!PS\n1 1 10000 { pop showpage } for\n"),
}


def hostile_message(ctype, fname, data):
    import base64
    body = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return (f"From: x@example.com\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=\"h\"\r\n\r\n--h\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
            f"--h\r\nContent-Type: {ctype}; name=\"{fname}\"\r\nContent-Disposition: attachment; filename=\"{fname}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{body}--h--\r\n")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_attachment_fails_the_job_not_the_daemon(home, kind):
    configure(home, "max_pages = 50")
    render = home.start(prog("render"))
    ctype, fname, data = HOSTILE[kind]
    job_id = submit(home, hostile_message(ctype, fname, data))
    wait_for(lambda: settled(home, job_id), timeout=90, what="failed")
    info = job(home, job_id)
    assert info["state"] == "failed" and info["result_code"] == "format-failed", info
    assert fname in info["result_text"] or "pages" in info["result_text"], info["result_text"]
    assert render.poll() is None, "the render daemon must live on"


def test_mail_with_every_kind_of_attachment_reaches_the_far_end(home):
    """The whole gateway under `faxgate run`: SMTP in, render, send over the loop line."""
    import base64
    import smtplib
    import socket
    import sys
    sys.path.insert(0, str(MAIL))
    import make_corpus  # the corpus generator's tiny real documents
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home.write_config(f"[faxgate]\nnode = e2e\n[faxd]\npoll_interval = 1\n[smtp]\nlisten = 127.0.0.1:{port}\n"
                      "domains = fax.example.com\n[render]\nworkers = 2\n[line loop]\ntype = loop\n")
    sup = home.start(prog("faxgate"), "run")
    # the supervisor and its four programs (faxd, smtpgw, render, mailer) each log status=running
    wait_for(lambda: home.log_of(sup).count("status=running") >= 5 and "kind=smtp" in home.log_of(sup),
             timeout=20, what="all programs up")
    parts = [("application/pdf", "a.pdf", make_corpus.pdf("PDF page")),
             ("text/plain", "b.txt", b"A text attachment\n"),
             ("image/png", "c.png", make_corpus.png(300, 200, 90)),
             ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "d.docx",
              make_corpus.docx("Word page"))]
    msg = ("From: anne@example.com\r\nSubject: Everything\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"all\"\r\n\r\n--all\r\nContent-Type: text/plain\r\n\r\n"
           "Four attachments.\r\n")
    for ctype, name, data in parts:
        msg += (f"--all\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; "
                f"filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(data).decode().replace("\n", "\r\n"))
    msg += "--all--\r\n"
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.sendmail("anne@example.com", ["+12125550100@fax.example.com"], msg.encode())
    [job_id] = [j["job"] for j in json.loads(home.faxctl("--json", "jobs").stdout)]
    wait_for(lambda: job(home, job_id)["state"] in ("done", "failed"), timeout=180, what="sent")
    info = job(home, job_id)
    assert info["state"] == "done", info
    assert info["pages_total"] == 5  # the cover (with the short body) and one page per attachment
    [received] = list((home.path / "loop").glob(f"*{job_id}*.tiff"))
    out = subprocess.run(["tiffinfo", str(received)], capture_output=True, text=True).stdout
    assert out.count("TIFF Directory") == 5


def test_far_end_without_fine_gets_the_job_rendered_again_at_standard(home):
    configure(home)
    with open(home.path / "faxgate.conf", "a") as f:
        f.write("far_fine = no\n")  # appended to [line loop]
    home.start(prog("render"))
    home.start(prog("faxd"))
    job_id = submit(home, "thunderbird.eml")
    wait_for(lambda: job(home, job_id)["state"] in ("done", "failed"), timeout=120, what="sent")
    info = job(home, job_id)
    assert info["state"] == "done", info
    assert info["resolution"] == "standard"
    first, second = info["attempts"]
    assert first["outcome"] == "incompatible" and second["outcome"] == "ok"
    assert any("rendering again at standard" in (e["text"] or "") for e in info["events"])
    [received] = [t for t in (home.path / "loop").glob(f"*{job_id}*.tiff")]
    out = subprocess.run(["tiffinfo", str(received)], capture_output=True, text=True).stdout
    assert "Resolution: 204, 98" in out


def test_endless_conversion_is_killed_at_its_time_limit(home):
    configure(home)
    with open(home.path / "faxgate.conf", "a") as f:
        f.write("[render]\ntimeout = 5\n")
    conf = (home.path / "faxgate.conf").read_text().replace("[render]\nworkers = 2\ntimeout = 60\n", "[render]\nworkers = 2\n")
    (home.path / "faxgate.conf").write_text(conf)
    render = home.start(prog("render"))
    job_id = submit(home, hostile_message("application/postscript", "spin.ps", b"%!PS\n{ 1 pop } loop\n"))
    wait_for(lambda: settled(home, job_id), timeout=60, what="stopped")
    info = job(home, job_id)
    assert info["state"] == "failed" and info["result_code"] == "format-failed", info
    assert "spin.ps" in info["result_text"] or "longer than" in info["result_text"], info["result_text"]
    assert render.poll() is None
    assert not subprocess.run(["pgrep", "-f", "spin.ps"], capture_output=True).stdout


def test_text_sent_as_octet_stream_is_rendered(home):
    configure(home)
    home.start(prog("render"))
    job_id = submit(home, hostile_message("application/octet-stream", "notes.md", b"# Notes\n\nPlain text, sent as bytes.\n"))
    wait_for(lambda: settled(home, job_id), timeout=60, what="rendered")
    info = job(home, job_id)
    assert info["state"] == "queued" and info["pages_total"] == 2, info
