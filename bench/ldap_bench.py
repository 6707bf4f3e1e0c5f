#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Directory sync benchmarks (bench/run.sh --only ldap), against a throwaway slapd on loopback
(tests/helpers/slapd.py) holding 10,000 inetOrgPerson entries:

1. full sync: `ldapsync --once --full` into an empty store (RFC 4533 refresh without a cookie,
   every entry mapped, 10,000 profiles written in one transaction), side by side with the
   reference tool dumping the same entries, attributes and filter as the same account:
   `ldapsearch -E pr=1000/noprompt` (LDIF to /dev/null).
2. incremental sync of 100 modified entries: `ldapsync --once` from the stored cookie, side by
   side with `ldapsearch -E sync=ro/COOKIE` from the same cookie.

Each figure is the median of RUNS wall-clock runs of the whole process (start-up included).
"""
import os
import pathlib
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
import slapd  # noqa: E402

BIN = ROOT / "bin"
ENTRIES = 10000
CHANGES = 100
RUNS = 5
ATTRS = ["entryUUID", "mail", "uid", "displayName", "cn", "o", "ou", "departmentNumber", "telephoneNumber",
         "facsimileTelephoneNumber", "preferredLanguage"]


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def median(fn, runs=RUNS, before=None):
    times = []
    for _ in range(runs):
        if before:
            before()
        times.append(timed(fn))
    return statistics.median(times)


def run(args, env, **kw):
    r = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"{args[0]} exited {r.returncode}: {r.stderr}")
    return r


def main():
    with tempfile.TemporaryDirectory(prefix="ldapbench-") as tmp:
        tmp = pathlib.Path(tmp)
        d = slapd.Slapd(tmp / "d")
        t0 = time.monotonic()
        d.init(slapd.skeleton() + slapd.users(ENTRIES))
        d.start()
        print(f"slapd with {ENTRIES} entries ready in {time.monotonic() - t0:.1f}s")
        try:
            home = tmp / "home"
            home.mkdir()
            conf = home / "faxgate.conf"
            conf.write_text(d.config(bind_dn=slapd.SYNC_DN, sync_interval="0", timeout="30s"))
            env = dict(os.environ, FAXGATE_HOME=str(home), FAXGATE_CONFIG=str(conf))
            ldap_env = dict(os.environ, LDAPNOINIT="1")
            base = ["ldapsearch", "-x", "-LLL", "-H", d.uri, "-D", slapd.SYNC_DN, "-w", slapd.SERVICE_PW,
                    "-b", "ou=People," + slapd.BASE]
            flt = "(objectClass=inetOrgPerson)"
            db = home / "faxgate.db"

            def fresh_store():
                for f in home.glob("faxgate.db*"):
                    f.unlink()

            # 1. full sync
            sync_full = median(lambda: run([str(BIN / "ldapsync"), "--once", "--full"], env), before=fresh_store)
            n = sqlite3.connect(db).execute("SELECT count(*) FROM profiles").fetchone()[0]
            assert n == ENTRIES, n
            dump = median(lambda: run(base + ["-E", "pr=1000/noprompt", flt] + ATTRS, ldap_env))

            # 2. incremental: the store and its cookie as after the full sync, then 100 changes
            saved = tmp / "saved"
            saved.mkdir()
            for f in home.glob("faxgate.db*"):
                shutil.copy(f, saved / f.name)
            cookie = sqlite3.connect(db).execute(
                "SELECT value FROM sync_state WHERE name = 'ldapsync:cookie'").fetchone()[0]
            step = ENTRIES // CHANGES
            d.modify("".join(f"dn: {slapd.user_dn(i)}\nchangetype: modify\nreplace: displayName\n"
                             f"displayName: Bench {i}\n-\n\n" for i in range(1, ENTRIES + 1, step)))

            def restore():
                fresh_store()
                for f in saved.iterdir():
                    shutil.copy(f, home / f.name)

            stats = []

            def incremental():
                r = run([str(BIN / "ldapsync"), "--once"], env)
                stats.append(r.stderr.strip().splitlines()[-1])

            sync_inc = median(incremental, before=restore)
            assert f"mode=incremental added=0 changed={CHANGES} " in stats[-1], stats[-1]
            ref_inc = median(lambda: run(base + ["-E", f"sync=ro/{cookie}", flt] + ATTRS, ldap_env))
        finally:
            d.stop()

    print(f"\n| task | ldapsync | reference tool | ratio |")
    print("|---|---|---|---|")
    print(f"| full sync, {ENTRIES} entries | {sync_full:.2f} s | `ldapsearch -E pr=1000/noprompt` {dump:.2f} s "
          f"| {sync_full / dump:.1f}× |")
    print(f"| incremental, {CHANGES} changed entries | {sync_inc:.3f} s | `ldapsearch -E sync=ro/COOKIE` "
          f"{ref_inc:.3f} s | {sync_inc / ref_inc:.1f}× |")
    print(f"\nlast incremental run: {stats[-1]}")


if __name__ == "__main__":
    main()
