# SPDX-License-Identifier: GPL-3.0-or-later
"""Packet capture for the SIP tests: dumpcap records a call's loopback traffic, tshark (an
independent SIP/SDP/RTP/UDPTL/T.38/T.30 implementation) decodes it afterwards. Both come with
the Debian package tshark (deps/packages.debian)."""
import os
import re
import selectors
import signal
import subprocess
import time

# Expert-info severities of tshark's _ws.expert.severity (epan/proto.h PI_*): note, warn, error.
SEVERITY_NOTE, SEVERITY_WARN, SEVERITY_ERROR = 0x00400000, 0x00600000, 0x00800000


class Capture:
    """dumpcap on the loopback interface, restricted to the given UDP ports and port ranges.
    start() returns once dumpcap says it is capturing (the filter is set by then); stop() ends
    it and returns the number of packets it wrote to path. Also a context manager."""

    def __init__(self, path, ports=(), ranges=(), iface="lo"):
        self.path = path
        terms = [f"port {p}" for p in ports] + [f"portrange {lo}-{hi}" for lo, hi in ranges]
        self.bpf = f"udp and ({' or '.join(terms)})"
        self.iface = iface
        self.proc = None
        self.log = ""
        self.packets = self.dropped = None

    def start(self, timeout=15.0):
        self.proc = subprocess.Popen(["dumpcap", "-i", self.iface, "-f", self.bpf, "-w", str(self.path)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stderr, selectors.EVENT_READ)
            while "Capturing on" not in self.log:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                line = self.proc.stderr.readline()
                if not line:  # dumpcap exited (no such interface, not permitted, bad filter)
                    break
                self.log += line
        if "Capturing on" not in self.log:
            self.stop(settle=0)
            raise AssertionError(f"dumpcap -i {self.iface} -f '{self.bpf}' did not start capturing: {self.log}")
        return self

    def stop(self, settle=0.5):
        """Stop dumpcap (SIGTERM: it closes the file cleanly). settle: seconds to wait first, as
        libpcap hands packets over in blocks (dumpcap reads with a 250 ms timeout) and the last
        ones sent would be lost."""
        if self.proc is None:
            return self.packets
        if self.proc.poll() is None:
            time.sleep(settle)
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, rest = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, rest = self.proc.communicate()
        self.log += rest or ""
        self.proc = None
        if m := re.search(r"^Packets captured: (\d+)", self.log, re.M):
            self.packets = int(m[1])
        if m := re.search(r"^Packets received/dropped on interface .*: \d+/(\d+)", self.log, re.M):
            self.dropped = int(m[1])
        return self.packets

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(settle=0)


FIELDS = ["frame.number", "udp.srcport", "udp.dstport", "_ws.col.Protocol", "sip.Method", "sip.Status-Code",
          "sip.CSeq.method", "sdp.media", "rtp.p_type", "t38.seq_number", "t30.FacsimileControl",
          "_ws.expert.severity", "_ws.expert.message", "_ws.malformed", "udp.payload", "_ws.col.Info"]


def decode(pcap, sip_ports=(), decode_as=(), prefs=()):
    """tshark's dissection of a capture, one dict per frame keyed by FIELDS (a field that occurs
    more than once holds its values joined by ';', one that is absent is ''). sip_ports are
    dissected as SIP; SDP then sets up the RTP and UDPTL conversations it describes."""
    cmd = ["tshark", "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=;"]
    for port in sip_ports:
        cmd += ["-d", f"udp.port=={port},sip"]
    for rule in decode_as:
        cmd += ["-d", rule]
    for pref in prefs:
        cmd += ["-o", pref]
    for f in FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ, LC_ALL="C"))
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr}")
    return [dict(zip(FIELDS, line.split("\t", len(FIELDS) - 1))) for line in res.stdout.splitlines()]


def severities(frame):
    return [int(s) for s in frame["_ws.expert.severity"].split(";") if s]


def errors(frames):
    """Frames tshark marks malformed or with an expert item of severity error."""
    return [f for f in frames if f["_ws.malformed"] or any(s >= SEVERITY_ERROR for s in severities(f))]
