# SPDX-License-Identifier: GPL-3.0-or-later
"""bin/ldapsync against a real slapd (tests/helpers/slapd.py): a full sync of 1,000 entries
compared field by field, then RFC 4533 incremental syncs of adds, modifies, renames and deletes,
the present phase after a slapd restart, kill -9 at any moment, entries that cannot be mapped,
local profiles, groups, --dry-run, failover, StartTLS and ldaps."""
import contextlib
import pathlib
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import prog

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "helpers"))
import slapd  # noqa: E402
from slapd import BASE, SYNC_DN, SERVICE_PW  # noqa: E402

STATS = re.compile(r"ldapsync mode=(\w+) added=(\d+) changed=(\d+) deleted=(\d+) unchanged=(\d+) "
                   r"skipped=(\d+) seconds=([\d.]+)")


def conf(d, uri=None, **extra):
    """faxgate.conf for the sync account (no size limit) against slapd d."""
    keys = {"bind_dn": SYNC_DN, "bind_password": SERVICE_PW, "sync_interval": "0"}
    if uri:
        keys["uri"] = uri
    keys.update(extra)
    groups = keys.pop("groups", "")
    return d.config(**keys) + groups


def sync(home, *args, check=True):
    """One ldapsync --once run: (result, stats dict or None)."""
    res = home.run(prog("ldapsync"), "--once", *args, check=False, timeout=60)
    m = STATS.search(res.stderr)
    if check:
        assert res.returncode == 0 and m, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    stats = None
    if m:
        stats = dict(mode=m[1], added=int(m[2]), changed=int(m[3]), deleted=int(m[4]), unchanged=int(m[5]),
                     skipped=int(m[6]))
    return res, stats


def counts(stats):
    return {k: stats[k] for k in ("mode", "added", "changed", "deleted", "unchanged", "skipped")}


def store(home):
    """Every profile by source_uuid (directory) or primary address (local)."""
    db = sqlite3.connect(home.path / "faxgate.db")
    out = {}
    for (pid, addr, name, company, dept, phone, fax, may_send, classes, source, uuid, dn,
         resolution) in db.execute(
            "SELECT id, primary_address, name, company, department, phone, fax, may_send, permission_class,"
            " source, source_uuid, source_dn, resolution FROM profiles"):
        addrs = {a for (a,) in db.execute("SELECT address FROM profile_addresses WHERE profile_id = ?", (pid,))}
        dids = {d for (d,) in db.execute("SELECT did FROM profile_dids WHERE profile_id = ?", (pid,))}
        out[uuid if source == "directory" else addr] = dict(
            id=pid, address=addr, name=name, company=company, department=dept, phone=phone, fax=fax,
            may_send=may_send, classes=classes, source=source, dn=dn, addresses=addrs, dids=dids,
            resolution=resolution)
    db.close()
    return out


def sync_state(home):
    db = sqlite3.connect(home.path / "faxgate.db")
    state = dict(db.execute("SELECT name, value FROM sync_state"))
    db.close()
    return state


def directory(d, flt="(objectClass=inetOrgPerson)"):
    """The entries under ou=People as ldapsearch shows them: uuid -> attributes (lists)."""
    entries, cur = {}, None
    for line in d.search(flt, "*", "entryUUID", base="ou=People," + BASE).splitlines() + [""]:
        if not line:
            if cur and "entryUUID" in cur:
                entries[cur["entryUUID"][0]] = cur
            cur = None
            continue
        k, _, v = line.partition(": ")
        if cur is None:
            cur = {"dn": [v]}
        else:
            cur.setdefault(k, []).append(v)
    return entries


def e164(fax):
    """The test data's fax numbers are NANP numbers written '+1 (646) 555-0001'."""
    return "+" + re.sub(r"\D", "", fax)


def assert_exact(home, d):
    """The directory profiles are exactly the directory's mappable entries, field by field."""
    want = directory(d)
    got = {u: p for u, p in store(home).items() if p["source"] == "directory"}
    assert set(got) == set(want)
    for uuid, e in want.items():
        p = got[uuid]
        assert p["address"] == e["mail"][0].lower()
        assert p["addresses"] == {m.lower() for m in e["mail"]}
        assert p["name"] == e.get("displayName", e["cn"])[0]
        assert p["company"] == e["o"][0]
        assert p["department"] == e["ou"][0]
        assert p["phone"] == e["telephoneNumber"][0]
        assert p["fax"] == e164(e["facsimileTelephoneNumber"][0])
        assert p["dids"] == {e164(f) for f in e["facsimileTelephoneNumber"]}
        assert p["dn"].lower() == e["dn"][0].lower()
        assert p["may_send"] == 1 and p["classes"] is None


def ldif_modify(dn, **attrs):
    out = f"dn: {dn}\nchangetype: modify\n"
    for k, v in attrs.items():
        out += f"replace: {k}\n{k}: {v}\n-\n"
    return out + "\n"


def ldif_add(i, **over):
    return slapd.user(i, **over).replace("\nobjectClass:", "\nchangetype: add\nobjectClass:", 1)


@contextlib.contextmanager
def running(folder, ldif, **kw):
    """A throwaway slapd loaded with ldif, stopped at the end."""
    d = slapd.Slapd(folder, **kw)
    d.init(ldif)
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    with running(tmp_path_factory.mktemp("ldap") / "d", slapd.skeleton() + slapd.users(1000)) as d:
        yield d


def test_full_then_incremental_then_present_phase(home, big):
    d = big
    home.write_config(conf(d))
    t0 = time.monotonic()
    _, st = sync(home)
    full_s = time.monotonic() - t0
    assert counts(st) == dict(mode="full", added=1000, changed=0, deleted=0, unchanged=0, skipped=0)
    assert_exact(home, d)
    assert full_s < 10
    state = sync_state(home)
    assert state["ldapsync:cookie"].startswith("rid=") and state["ldapsync:query"] and state["ldapsync:last_full"]

    # nothing changed: an incremental run that touches nothing
    _, st = sync(home)
    assert counts(st) == dict(mode="incremental", added=0, changed=0, deleted=0, unchanged=0, skipped=0)
    before = store(home)
    ids = {u: p["id"] for u, p in before.items()}
    by_addr = {p["address"]: u for u, p in before.items()}

    # add 2, modify 3, rename 1 (same entryUUID, new DN), delete 2
    d.modify(ldif_add(2001) + ldif_add(2002, fax="+1 646 555 7777$fineResolution")
             + ldif_modify(slapd.user_dn(10), displayName="Ten Changed")
             + ldif_modify(slapd.user_dn(11), mail="eleven@example.com")
             + ldif_modify(slapd.user_dn(12), facsimileTelephoneNumber="+1 (212) 555-0112")
             + f"dn: {slapd.user_dn(13)}\nchangetype: modrdn\nnewrdn: uid=renamed13\ndeleteoldrdn: 0\n\n"
             + f"dn: {slapd.user_dn(14)}\nchangetype: delete\n\n"
             + f"dn: {slapd.user_dn(15)}\nchangetype: delete\n\n")
    # --dry-run reports exactly these and changes nothing
    db_before = (home.path / "faxgate.db").read_bytes()
    res = home.run(prog("ldapsync"), "--dry-run", timeout=60)
    lines = sorted(res.stdout.splitlines())
    assert lines == sorted([
        f"add user02001@example.com uid=user02001,ou=People,{BASE}",
        f"add user02002@example.com uid=user02002,ou=People,{BASE}",
        f"change user00010@example.com uid=user00010,ou=People,{BASE}",
        f"change eleven@example.com uid=user00011,ou=People,{BASE}",
        f"change user00012@example.com uid=user00012,ou=People,{BASE}",
        f"change user00013@example.com uid=renamed13,ou=People,{BASE}",
        f"delete user00014@example.com uid=user00014,ou=People,{BASE}",
        f"delete user00015@example.com uid=user00015,ou=People,{BASE}",
    ]), res.stdout
    assert "dry_run=yes" in res.stderr
    assert store(home) == before and sync_state(home)["ldapsync:cookie"] == state["ldapsync:cookie"]
    del db_before

    _, st = sync(home)
    assert counts(st) == dict(mode="incremental", added=2, changed=4, deleted=2, unchanged=0, skipped=0)
    assert_exact(home, d)
    after = store(home)
    u13 = by_addr["user00013@example.com"]
    assert after[u13]["id"] == ids[u13] and after[u13]["dn"] == f"uid=renamed13,ou=People,{BASE}"
    assert after[by_addr["user00010@example.com"]]["name"] == "Ten Changed"
    assert after[by_addr["user00011@example.com"]]["id"] == ids[by_addr["user00011@example.com"]]
    new2 = next(p for p in after.values() if p["address"] == "user02002@example.com")
    assert new2["resolution"] == "fine" and new2["fax"] == "+16465557777"
    assert sync_state(home)["ldapsync:cookie"] != state["ldapsync:cookie"]

    # a delete, then a restart: the sessionlog is gone, the server sends a present list
    d.modify(f"dn: {slapd.user_dn(16)}\nchangetype: delete\n\n")
    d.stop()
    d.start()
    res, st = sync(home)
    assert counts(st) == dict(mode="incremental", added=0, changed=0, deleted=1, unchanged=0, skipped=0), res.stderr
    assert "present list" in res.stderr
    assert_exact(home, d)
    assert not any(p["address"] == "user00016@example.com" for p in store(home).values())

    # --full re-reads everything and rewrites nothing
    _, st = sync(home, "--full")
    assert counts(st) == dict(mode="full", added=0, changed=0, deleted=0, unchanged=999, skipped=0)


def test_killed_at_any_moment_then_correct(home, tmp_path):
    with running(tmp_path / "d", slapd.skeleton() + slapd.users(1000)) as d:
        home.write_config(conf(d))
        sync(home)
        t0 = time.monotonic()
        sync(home, "--full")
        run_s = time.monotonic() - t0
        d.modify("".join(ldif_add(3000 + i) for i in range(50))
                 + "".join(ldif_modify(slapd.user_dn(i), displayName=f"Renamed {i}") for i in range(100, 150))
                 + "".join(f"dn: {slapd.user_dn(i)}\nchangetype: delete\n\n" for i in range(200, 250)))
        old_n, new_n = 1000, 1000
        killed = 0
        for fraction in (0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3):
            delay = fraction * run_s
            p = subprocess.Popen([prog("ldapsync"), "--once", "--full"], env=home.env, cwd=home.path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            # all or nothing: the old state or the new one, never half
            profiles = store(home)
            renamed = sum(1 for v in profiles.values() if (v["name"] or "").startswith("Renamed "))
            assert (len(profiles), renamed) in ((old_n, 0), (new_n, 50)), (delay, len(profiles), renamed)
            killed += p.returncode == -signal.SIGKILL
        assert killed >= 3
        # slapd frozen half-way through the refresh: the watchdog gives up after [ldap] timeout
        # (libldap's refresh loop alone would wait for ever); or it froze too late to matter
        p = subprocess.Popen([prog("ldapsync"), "--once", "--full"], env=home.env, cwd=home.path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3 * run_s)
        d.freeze()
        try:
            _, err = p.communicate(timeout=10)
        finally:
            d.thaw()
        assert p.returncode == 0 or (p.returncode == 75 and "error=" in err), err
        # slapd frozen: connects succeed, nothing answers; the run gives up within the timeout
        d.freeze()
        t0 = time.monotonic()
        res, _ = sync(home, check=False)
        d.thaw()
        assert res.returncode == 75 and time.monotonic() - t0 < 10, res.stderr
        sync(home)
        assert_exact(home, d)


@pytest.fixture
def small(tmp_path):
    people = slapd.users(5)
    people += slapd.user(6, uid="badfax", fax="+1 (555) 01x-2001")
    people += slapd.user(7, uid="nomail").replace("mail: nomail@example.com\n", "")
    people += slapd.user(8, uid="twin", mail="user00001@example.com")
    people += slapd.user(9, uid="local", mail="boss@example.com")
    people += slapd.user(10, uid="aliases", mail="Primary@Example.com").replace(
        "mail: Primary@Example.com\n", "mail: Primary@Example.com\nmail: alias@example.com\n")
    groups = (slapd.group("fax-users", [slapd.user_dn(1), slapd.user_dn(2)])
              + slapd.group("fax-intl", [slapd.user_dn(1)]))
    with running(tmp_path / "d", slapd.skeleton() + people + groups) as d:
        yield d


def test_unmappable_local_and_twins_are_reported_and_skipped(home, small):
    d = small
    home.write_config(conf(d))
    home.faxctl("profile", "add", "boss@example.com", "--name", "Local Boss")
    res, st = sync(home)
    assert counts(st) == dict(mode="full", added=6, changed=0, deleted=0, unchanged=0, skipped=4), res.stderr
    err = res.stderr
    assert re.search(r'skip dn="uid=badfax,ou=People,[^"]*" reason="fax number .*01x-2001', err), err
    assert re.search(r'skip dn="uid=nomail,ou=People,[^"]*" reason="no mail attribute"', err), err
    assert re.search(r'skip dn="uid=local,[^"]*" reason="address boss@example.com belongs to the local profile', err)
    assert re.search(r'skip dn="uid=twin,[^"]*" reason="address user00001@example.com is already claimed by '
                     r'uid=user00001', err), err
    profiles = store(home)
    assert profiles["boss@example.com"]["name"] == "Local Boss"
    assert profiles["boss@example.com"]["source"] == "local"
    owner = [p for p in profiles.values() if "user00001@example.com" in p["addresses"]]
    assert len(owner) == 1 and owner[0]["dn"].startswith("uid=user00001,")
    al = next(p for p in profiles.values() if p["address"] == "primary@example.com")
    assert al["addresses"] == {"primary@example.com", "alias@example.com"}
    # still skipped, and still reported, on the next full run; nothing rewritten
    res, st = sync(home, "--full")
    assert counts(st) == dict(mode="full", added=0, changed=0, deleted=0, unchanged=6, skipped=4)
    # the fax number fixed: the entry comes in
    d.modify(ldif_modify(f"uid=badfax,ou=People,{BASE}", facsimileTelephoneNumber="+1 (555) 010-2001"))
    _, st = sync(home)
    assert counts(st) == dict(mode="incremental", added=1, changed=0, deleted=0, unchanged=0, skipped=0)


def test_groups_give_send_and_classes(home, small):
    d = small
    groups = (f"[ldapgroup users]\ndn = cn=fax-users,ou=Groups,{BASE}\nsend = yes\nclasses = local,national\n"
              f"[ldapgroup intl]\ndn = cn=FAX-INTL, ou=Groups, {BASE}\nclasses = international\n")
    home.write_config(conf(d, groups=groups))
    sync(home)
    by_addr = {p["address"]: p for p in store(home).values()}
    assert (by_addr["user00001@example.com"]["may_send"], by_addr["user00001@example.com"]["classes"]) == \
        (1, "local,national,international")
    assert (by_addr["user00002@example.com"]["may_send"], by_addr["user00002@example.com"]["classes"]) == \
        (1, "local,national")
    assert (by_addr["user00003@example.com"]["may_send"], by_addr["user00003@example.com"]["classes"]) == (0, None)
    # a group change alone (users untouched) shows up on the next incremental run
    d.modify(f"dn: cn=fax-users,ou=Groups,{BASE}\nchangetype: modify\nadd: member\nmember: {slapd.user_dn(3)}\n\n")
    res, st = sync(home, "--dry-run")
    assert f"change user00003@example.com uid=user00003,ou=People,{BASE} (groups)" in res.stdout
    _, st = sync(home)
    assert counts(st) == dict(mode="incremental", added=0, changed=1, deleted=0, unchanged=0, skipped=0)
    p3 = next(p for p in store(home).values() if p["address"] == "user00003@example.com")
    assert (p3["may_send"], p3["classes"]) == (1, "local,national")
    # a group DN that does not exist fails the run and changes nothing
    home.write_config(conf(d, groups=f"[ldapgroup gone]\ndn = cn=nope,ou=Groups,{BASE}\n"))
    res, _ = sync(home, check=False)
    assert res.returncode == 75 and "group not found" in res.stderr


def test_no_directory_configured(home):
    res = home.run(prog("ldapsync"), "--once")
    assert res.stdout.strip() == "ldapsync: no directory configured ([ldap] uri)"
    home.write_config("[ldap]\nuri = ldap://127.0.0.1:1\nbind_dn = cn=x\n")
    res = home.run(prog("ldapsync"), "--once", check=False)
    assert res.returncode == 78 and "bind_password" in res.stderr


def test_failover_and_periodic_mode(home, small):
    d = small
    closed = slapd.free_port()
    home.write_config(conf(d, uri=f"ldap://127.0.0.1:{closed} {d.uri}", sync_interval="1h"))
    p = home.start(prog("ldapsync"))
    deadline = time.monotonic() + 10
    while "ldapsync mode=full" not in home.log_of(p) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "ldapsync mode=full added=7" in home.log_of(p)
    d.modify(ldif_modify(slapd.user_dn(4), displayName="Four Changed"))
    p.send_signal(signal.SIGHUP)  # run now
    while "mode=incremental" not in home.log_of(p) and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    assert "ldapsync mode=incremental added=0 changed=1" in home.log_of(p)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    assert p.wait(5) == 0 and time.monotonic() - t0 < 2


def test_starttls_and_ldaps(home, tmp_path):
    with running(tmp_path / "d", slapd.skeleton() + slapd.users(20), tls=True) as d:
        home.write_config(conf(d, starttls="yes", ca_file=d.ca_file))
        _, st = sync(home)
        assert st["added"] == 20
        home.write_config(conf(d, uri=d.ldaps_uri, ca_file=d.ca_file))
        _, st = sync(home, "--full")
        assert st["unchanged"] == 20
        # the system's CAs do not know the throwaway CA: refused, nothing changed
        home.write_config(conf(d, uri=d.ldaps_uri))
        res, _ = sync(home, check=False)
        assert res.returncode == 75
        assert len(store(home)) == 20


def test_supervisor_starts_ldapsync_only_with_a_directory(home, small):
    home.write_config("[faxgate]\nprograms = ldapsync\n")
    sup = home.start(prog("faxgate"), "run")
    deadline = time.monotonic() + 10
    while "status=running" not in home.log_of(sup) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "programs=0" in home.log_of(sup) and "program=ldapsync pid=" not in home.log_of(sup)
    sup.send_signal(signal.SIGTERM)
    sup.wait(5)
    home.write_config("[faxgate]\nprograms = ldapsync\n" + conf(small, sync_interval="1h"))
    sup = home.start(prog("faxgate"), "run")
    while "ldapsync mode=full" not in home.log_of(sup) and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    assert "program=ldapsync pid=" in home.log_of(sup) and "ldapsync mode=full added=7" in home.log_of(sup)
    sup.send_signal(signal.SIGTERM)
    assert sup.wait(5) == 0
