#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes outlook-winmail.eml: an Outlook/Exchange message whose attachments travel inside a
winmail.dat (TNEF, MS-OXTNEF). Kept so the binary can be checked and made again."""
import base64
import struct


def attribute(level, attr_id, data):
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attr_id, len(data)) + data + struct.pack("<H", checksum)


def tnef(attachments):
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attribute(1, 0x00078008, b"IPM.Note\0")  # attMessageClass
    for name, data in attachments:
        out += attribute(2, 0x00069002, struct.pack("<HIIIHI", 1, 0xFFFFFFFF, 0, 0, 0, 0))  # attAttachRendData
        out += attribute(2, 0x00018010, name.encode() + b"\0")  # attAttachTitle
        out += attribute(2, 0x0006800F, data)  # attAttachData
    return out


TEXT = b"Quarterly figures attached, as discussed.\r\n"
dat = tnef([("figures.txt", TEXT)])
body = base64.encodebytes(dat).decode().replace("\n", "\r\n")
msg = (
    "From: \"Exchange User\" <exuser@example.com>\r\n"
    "To: IMCEAFAX-Bob+20Jones+40+2B1+20+28212+29+20555-0100@fax.example.com\r\n"
    "Subject: Figures via Exchange\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"EXCH\"\r\n"
    "\r\n"
    "--EXCH\r\n"
    "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
    "\r\n"
    "Please fax the attached figures.\r\n"
    "--EXCH\r\n"
    "Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
    "\r\n" + body + "--EXCH--\r\n"
)
with open("outlook-winmail.eml", "w", newline="") as f:
    f.write(msg)
