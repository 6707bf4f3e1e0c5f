# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/helpers/faxpeer, the media endpoint behind SIPp in the SIP tests, checked on its own:
two faxpeers back to back on loopback, without SIP (--remote-* instead of latching), send a
one-page fax over G.711, over T.38, and over G.711 with packet loss. A faxpeer that cannot do
this would make every SIP test fail for the wrong reason."""
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import BUILD

FAXPEER = os.environ.get("FAXPEER", str(BUILD / "tests/helpers/faxpeer"))
MKFAXTIFF = os.environ.get("MKFAXTIFF", str(BUILD / "tests/helpers/mkfaxtiff"))
FAXPIXELS = os.environ.get("FAXPIXELS", str(BUILD / "tests/helpers/faxpixels"))
SPEED = "4"


def free_udp_ports(n):
    """n UDP ports free on loopback just now (the sockets are held until all are picked)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_peer(tmp_path, name, ports, remote_ports, *args):
    audio, image = ports
    ra, ri = remote_ports
    err = open(tmp_path / f"{name}.err", "w")
    p = subprocess.Popen([FAXPEER, "--bind", "127.0.0.1", "--audio-port", str(audio), "--image-port", str(image),
                          "--remote-audio", f"127.0.0.1:{ra}", "--remote-image", f"127.0.0.1:{ri}",
                          "--speed", SPEED, "--timeout", "40", *args],
                         stdout=subprocess.PIPE, stderr=err, text=True)
    p.name, p.errfile = name, err
    assert p.stdout.readline().strip() == "ready", f"{name} not ready: {(tmp_path / f'{name}.err').read_text()}"
    return p


def finish_peer(tmp_path, p):
    out, _ = p.communicate(timeout=60)
    p.errfile.close()
    stderr = (tmp_path / f"{p.name}.err").read_text()
    assert p.returncode == 0, f"{p.name} exited {p.returncode}: {stderr}"
    lines = out.strip().splitlines()
    assert len(lines) == 1, f"{p.name} printed {lines!r}"
    return json.loads(lines[0])


def pixels(path):
    return subprocess.run([FAXPIXELS, str(path)], check=True, capture_output=True, text=True).stdout.splitlines()


def fax_a_to_b(tmp_path, a_args=(), b_args=()):
    """Peer A sends a one-page standard-resolution fax to peer B: both JSON results, and the time."""
    doc, out = tmp_path / "doc.tif", tmp_path / "out.tif"
    subprocess.run([MKFAXTIFF, str(doc), "--pages", "1", "--res", "standard"], check=True)
    pa, qa, pb, qb = free_udp_ports(4)
    t0 = time.monotonic()
    b = start_peer(tmp_path, "B", (pb, qb), (pa, qa), "--receive", str(out), "--ident", "+1 555 0102", *b_args)
    a = start_peer(tmp_path, "A", (pa, qa), (pb, qb), "--send", str(doc), "--ident", "+1 555 0101", *a_args)
    ra, rb = finish_peer(tmp_path, a), finish_peer(tmp_path, b)
    elapsed = time.monotonic() - t0
    print(f"fax A->B {a_args} {b_args}: {elapsed:.1f} s")
    assert ra["outcome"] == "ok" and rb["outcome"] == "ok", (ra, rb)
    assert ra["pages"] == 1 and rb["pages"] == 1
    assert ra["remote_ident"] == "+1 555 0102" and rb["remote_ident"] == "+1 555 0101"
    assert pixels(out) == pixels(doc)  # one page, and the same one
    return ra, rb, elapsed


def test_fax_over_audio(tmp_path):
    ra, rb, _ = fax_a_to_b(tmp_path)
    assert ra["media"] == rb["media"] == "audio"
    assert not ra["switched"] and not rb["switched"]


def test_fax_over_t38(tmp_path):
    ra, rb, _ = fax_a_to_b(tmp_path, ("--start-t38",), ("--start-t38",))
    assert ra["media"] == rb["media"] == "t38"


def test_first_udptl_datagram_switches_to_t38(tmp_path):
    """B starts on audio; A's first UDPTL datagram moves it to T.38, as a re-INVITE would."""
    ra, rb, _ = fax_a_to_b(tmp_path, ("--start-t38",), ())
    assert rb["media"] == "t38" and rb["switched"]
    assert ra["media"] == "t38" and not ra["switched"]


def test_fax_over_audio_with_loss(tmp_path):
    ra, rb, _ = fax_a_to_b(tmp_path, ("--loss", "0.001", "--seed", "7"), ("--loss", "0.001", "--seed", "9"))
    assert ra["media"] == rb["media"] == "audio"


@pytest.mark.parametrize("args", [
    [],
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002"],  # neither --send nor --receive
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--send", "a", "--receive", "b"],
    ["--bind", "127.0.0.1", "--audio-port", "0", "--image-port", "40002", "--receive", "b"],
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--receive", "b", "--speed", "0"],
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--receive", "b", "--codec", "g729"],
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--receive", "b", "--ec", "x"],
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--receive", "b", "--loss", "1.5"],
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--receive", "b", "--bogus"],
    ["--bind", "localhost", "--audio-port", "40000", "--image-port", "40002", "--receive", "b"],  # not numeric
    ["--bind", "127.0.0.1", "--audio-port", "40000", "--image-port", "40002", "--receive", "b",
     "--remote-audio", "127.0.0.1"],
])
def test_bad_arguments_exit_2(args):
    res = subprocess.run([FAXPEER, *args], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2, res
    assert res.stdout == "" and res.stderr != ""


def test_port_in_use_exits_2():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        res = subprocess.run([FAXPEER, "--bind", "127.0.0.1", "--audio-port", str(port), "--image-port", str(port + 1),
                              "--receive", "out.tif"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2 and "cannot bind" in res.stderr
