#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SMTP benchmark's test message (bench/smtp_bench.sh): a MIME multipart/mixed mail of about
SIZE bytes with a short text part and one base64 PDF attachment (a valid one-page PDF whose
content stream is padded to the size), as a fax user would send it.

    smtp_message.py OUT_CRLF OUT_LF [--size 20480] [--to ADDR] [--from ADDR]

OUT_CRLF is the message as it goes on the wire (CRLF line ends, no line starts with '.');
OUT_LF is the same text with LF line ends for `smtp-source -F`, which appends CRLF to every line
it reads. Deterministic: the same arguments give the same bytes.
"""
import argparse
import base64
import random
import sys


def make_pdf(stream_len):
    """A valid one-page A4 PDF; its page content is text lines padded to about stream_len bytes."""
    rng = random.Random(20480)
    words = ["fax", "page", "invoice", "total", "amount", "due", "order", "number", "customer",
             "delivery", "address", "date", "reference", "signature", "quantity", "price"]
    lines = ["BT /F1 10 Tf 50 800 Td 12 TL"]
    size = len(lines[0]) + 1
    while size < stream_len:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(6, 11)))
        text += " %06d" % rng.randint(0, 999999)
        line = "(%s) '" % text
        lines.append(line)
        size += len(line) + 1
    lines.append("ET")
    content = ("\n".join(lines) + "\n").encode("ascii")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def make_message(size, sender, to, pdf_len):
    boundary = "=_faxgate_bench_5f3a9c"
    head = [
        "From: Bench Sender <%s>" % sender,
        "To: <%s>" % to,
        "Subject: Invoice 4711 for fax",
        "Date: Thu, 20 Nov 2025 10:00:00 +0000",
        "Message-ID: <bench-20kb-1att@example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="%s"' % boundary,
        "",
        "This is a multi-part message in MIME format.",
        "",
        "--" + boundary,
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
        "",
        "Hello,",
        "",
        "please find the invoice attached. It is sent by the faxgate SMTP benchmark.",
        "",
        "Regards,",
        "Bench Sender",
        "",
        "--" + boundary,
        'Content-Type: application/pdf; name="invoice-4711.pdf"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="invoice-4711.pdf"',
        "",
    ]
    b64 = base64.b64encode(make_pdf(pdf_len)).decode("ascii")
    body = [b64[i:i + 76] for i in range(0, len(b64), 76)]
    tail = ["", "--" + boundary + "--", ""]
    lines = head + body + tail
    return "\r\n".join(lines).encode("ascii")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_crlf")
    ap.add_argument("out_lf")
    ap.add_argument("--size", type=int, default=20480)
    ap.add_argument("--from", dest="sender", default="bench@example.com")
    ap.add_argument("--to", default="+12125550100@fax.example.com")
    args = ap.parse_args()
    # Find the PDF stream length that brings the whole message closest to --size.
    lo, hi = 0, args.size
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(make_message(args.size, args.sender, args.to, mid)) <= args.size:
            lo = mid
        else:
            hi = mid - 1
    msg = make_message(args.size, args.sender, args.to, lo)
    assert all(not line.startswith(b".") for line in msg.split(b"\r\n"))
    assert b"\n" not in msg.replace(b"\r\n", b"")
    with open(args.out_crlf, "wb") as f:
        f.write(msg)
    with open(args.out_lf, "wb") as f:
        f.write(msg.replace(b"\r\n", b"\n"))


if __name__ == "__main__":
    main()
