#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Directory lookup latency (bench/run.sh --only ldap-lookup): faxgate's ldapsync/directory.c
(uncached: a search on the reused connection plus mapping; cached) beside python-ldap doing the
same searches on one bound connection (the reference: libldap with nothing of ours), against a
throwaway slapd with 10,000 users on loopback. Prints the markdown rows of docs/PERFORMANCE.md."""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
import slapd  # noqa: E402

import ldap  # noqa: E402  (python3-ldap)

COUNT = 2000


def reference(d, count):
    conn = ldap.initialize(d.uri)
    conn.simple_bind_s(slapd.LOOKUP_DN, slapd.SERVICE_PW)
    us = []
    for i in range(count):
        t = time.perf_counter()
        res = conn.search_ext_s("ou=People," + slapd.BASE, ldap.SCOPE_SUBTREE,
                                f"(&(objectClass=inetOrgPerson)(|(mail=user{i + 1:05d}@example.com)))",
                                None, sizelimit=2)
        us.append((time.perf_counter() - t) * 1e6)
        assert len(res) == 1
    conn.unbind_s()
    us.sort()
    return us[len(us) // 2], us[len(us) * 99 // 100]


def main():
    with tempfile.TemporaryDirectory(prefix="fgbench-") as tmp:
        d = slapd.Slapd(pathlib.Path(tmp) / "ldap")
        d.init(slapd.skeleton() + slapd.users(10000))
        d.start()
        try:
            conf = pathlib.Path(tmp) / "faxgate.conf"
            conf.write_text(f"[faxgate]\nhome = {tmp}\n" + d.config(cache_ttl="1h") +
                            "[dial]\ncountry_code = 1\narea_code = 212\n")
            out = subprocess.run([str(ROOT / "build/bench/dirlookup_bench"), str(conf), str(COUNT)],
                                 capture_output=True, text=True, check=True).stdout
            ours = {}
            for line in out.splitlines():
                name, rest = line.split(":", 1)
                kv = dict(x.split("=") for x in rest.split())
                ours[name] = (float(kv["median_us"]), float(kv["p99_us"]))
            ref = reference(d, COUNT)
        finally:
            d.stop()
    print(f"| lookup, uncached (search + map) | {ours['uncached_first'][0]:.0f} µs | {ours['uncached_first'][1]:.0f} µs |"
          f" python-ldap search {ref[0]:.0f} µs / {ref[1]:.0f} µs | {ours['uncached_first'][0] / ref[0]:.2f} |")
    print(f"| lookup, cached | {ours['cached'][0]:.1f} µs | {ours['cached'][1]:.1f} µs | (no directory call) | "
          f"{ours['cached'][0] / ref[0]:.3f} |")


if __name__ == "__main__":
    main()
