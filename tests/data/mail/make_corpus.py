#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the client-shaped test messages of tests/data/mail/ (run it again to re-make them).
Each message follows the MIME structure the named client emits; attachments are real, tiny
documents so the renderer can turn them into pages."""
import base64
import struct
import zlib


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def b64(data):
    return base64.encodebytes(data).decode()


def pdf(text):
    """A one-page A4 PDF showing a line of text (Helvetica), written by hand."""
    stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def png(w, h, grey):
    raw = b"".join(b"\0" + bytes([grey]) * w for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def docx(text):
    """A minimal Word document (Office Open XML), enough for LibreOffice."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                   f'<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>')
    return buf.getvalue()


PDF_DOC = b64(pdf("Invoice 4711 - please pay"))
DOCX_DOC = b64(docx("Quotation 2026-88: 12 chairs"))
PNG_LOGO = b64(png(16, 16, 40))
PNG_CHART = b64(png(200, 120, 128))

MESSAGES = {
    # Outlook 2016+: mixed > related > alternative (text, html), inline logo by cid, PDF attachment
    "outlook-html.eml": f"""From: "Anne Anderson" <anne@example.com>
To: "Bob Jones" <+12125550100@fax.example.com>
Subject: Invoice 4711
Date: Mon, 23 Nov 2026 09:00:00 +0000
Message-ID: <outlook-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="_004_"

--_004_
Content-Type: multipart/related; boundary="_003_"; type="multipart/alternative"

--_003_
Content-Type: multipart/alternative; boundary="_000_"

--_000_
Content-Type: text/plain; charset="us-ascii"

Hello Bob, the invoice is attached.

Anne
--_000_
Content-Type: text/html; charset="us-ascii"

<html><body><p>Hello Bob, the invoice is attached.</p><p>Anne</p><img src="cid:image001.png@01DB0000.00000000"></body></html>
--_000_--

--_003_
Content-Type: image/png; name="image001.png"
Content-Description: image001.png
Content-Disposition: inline; filename="image001.png"
Content-ID: <image001.png@01DB0000.00000000>
Content-Transfer-Encoding: base64

{PNG_LOGO}
--_003_--

--_004_
Content-Type: application/pdf; name="invoice-4711.pdf"
Content-Disposition: attachment; filename="invoice-4711.pdf"
Content-Transfer-Encoding: base64

{PDF_DOC}
--_004_--
""",
    # Thunderbird: mixed (text/plain format=flowed, PDF)
    "thunderbird.eml": f"""From: Carol <carol@example.com>
To: FAX=+1-212-555-0101@fax.example.com
Subject: Signed contract
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="------------tb1"
User-Agent: Mozilla Thunderbird

This is a multi-part message in MIME format.
--------------tb1
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Dear Dan,

here is the signed contract. Grüße,
Carol

--------------tb1
Content-Type: application/pdf; name="contract.pdf"
Content-Disposition: attachment; filename="contract.pdf"
Content-Transfer-Encoding: base64

{PDF_DOC}
--------------tb1--
""",
    # Apple Mail: mixed with an inline image between two text parts
    "applemail.eml": f"""From: Dave <dave@example.com>
To: 2125550102@fax.example.com
Subject: Chart
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Content-Type: multipart/mixed; boundary="Apple-Mail=_A1"

--Apple-Mail=_A1
Content-Transfer-Encoding: 7bit
Content-Type: text/plain; charset=us-ascii

See the chart:
--Apple-Mail=_A1
Content-Disposition: inline; filename=chart.png
Content-Type: image/png; name="chart.png"
Content-Transfer-Encoding: base64

{PNG_CHART}
--Apple-Mail=_A1
Content-Transfer-Encoding: 7bit
Content-Type: text/plain; charset=us-ascii

Regards, Dave
--Apple-Mail=_A1--
""",
    # Gmail: mixed > alternative (text, html) + PNG attachment
    "gmail.eml": f"""From: Erin <erin.example@gmail.com>
To: +12125550103@fax.example.com
Subject: Scan
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="000000000000g1"

--000000000000g1
Content-Type: multipart/alternative; boundary="000000000000g2"

--000000000000g2
Content-Type: text/plain; charset="UTF-8"

Scan attached.

--000000000000g2
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Scan attached.</div>

--000000000000g2--
--000000000000g1
Content-Type: image/png; name="scan.png"
Content-Disposition: attachment; filename="scan.png"
Content-Transfer-Encoding: base64
X-Attachment-Id: f_1

{PNG_CHART}
--000000000000g1--
""",
    # Lotus Notes / Domino: ISO-8859-1 quoted-printable body, octet-stream attachment
    "notes.eml": """From: Frank Meyer <frank.meyer@example.com>
To: Frank_Meyer%2125550104%FAX@fax.example.com
Subject: Lieferschein
MIME-Version: 1.0
X-Mailer: Lotus Notes Release 9.0.1
Content-Type: multipart/mixed; boundary="=_mixed 0001"

--=_mixed 0001
Content-Type: text/plain; charset="ISO-8859-1"
Content-Transfer-Encoding: quoted-printable

Sehr geehrte Damen und Herren,
anbei der Lieferschein f=FCr die Bestellung.
Mit freundlichen Gr=FC=DFen

--=_mixed 0001
Content-Type: application/octet-stream; name="lieferschein.txt"
Content-Disposition: attachment; filename="lieferschein.txt"
Content-Transfer-Encoding: base64

""" + b64("Lieferschein 2026-117\n1 x Faxgerät\n".encode("utf-8")) + """--=_mixed 0001--
""",
    # An application's structured job: X-Fax-* headers, short note, PDF
    "app-job.eml": f"""From: billing-system@example.com
To: fax@fax.example.com
Subject: Statement November
X-Fax-Number: +12125550105
X-Fax-Recipient-Name: Grace Hopper
X-Fax-Recipient-Company: Navy Labs
X-Fax-Cover: default
X-Fax-Cover-Note: Your statement for November.
X-Fax-Resolution: fine
X-Fax-Client-Ref: stmt-2026-11-0001
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="app"

--app
Content-Type: text/plain; charset=us-ascii

Statement attached.
--app
Content-Type: application/pdf; name="statement.pdf"
Content-Disposition: attachment; filename="statement.pdf"
Content-Transfer-Encoding: base64

{PDF_DOC}
--app--
""",
    # A forwarded message (message/rfc822 attachment)
    "forwarded.eml": f"""From: Heidi <heidi@example.com>
To: +12125550106@fax.example.com
Subject: Fwd: Invoice
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fw"

--fw
Content-Type: text/plain; charset=us-ascii

Forwarding the invoice below.
--fw
Content-Type: message/rfc822

From: Anne <anne@example.com>
To: Heidi <heidi@example.com>
Subject: Invoice
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain; charset=us-ascii

Original invoice text.
--inner
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

{PDF_DOC}
--inner--
--fw--
""",
    # S/MIME clear-signed: the content, not the signature
    "smime-signed.eml": """From: Ivan <ivan@example.com>
To: +12125550107@fax.example.com
Subject: Signed note
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sig"

--sig
Content-Type: text/plain; charset=us-ascii

This note is signed.
--sig
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Disposition: attachment; filename="smime.p7s"
Content-Transfer-Encoding: base64

MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIB
--sig--
""",
    # Outlook with a Word attachment
    "office-docx.eml": f"""From: "Jack Miller" <jack@example.com>
To: +12125550109@fax.example.com
Subject: Quotation
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="_docx_"

--_docx_
Content-Type: text/plain; charset="us-ascii"

Our quotation is attached.
--_docx_
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name="quotation.docx"
Content-Disposition: attachment; filename="quotation.docx"
Content-Transfer-Encoding: base64

{DOCX_DOC}
--_docx_--
""",
    # HTML only (a web form's notification): the HTML is the body
    "html-only.eml": """From: webform@example.com
To: +12125550108@fax.example.com
Subject: Order form
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><h1>Order 99</h1><p>2 x Toner</p></body></html>
""",
}

if __name__ == "__main__":
    for name, text in MESSAGES.items():
        with open(name, "w", newline="", encoding="utf-8") as f:
            f.write(crlf(text))
