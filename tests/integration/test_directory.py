# SPDX-License-Identifier: GPL-3.0-or-later
"""The directory at submission time, against a real slapd: the job's cover-page and TSI fields
from the sender's entry (online, and synced when the directory is down), "fax a colleague by
name", SMTP AUTH by an LDAP bind (right, wrong, empty, unknown, directory down -> 454),
hostile values as lookup keys, bounded lookups when the directory hangs, and the whole chain:
a mail from a directory user leaves with their TSI, a fax to their DID lands in their inbox."""
import base64
import email
import email.policy
import json
import pathlib
import smtplib
import sys
import time

import pytest

from conftest import ROOT, prog, wait_for

sys.path.insert(0, str(ROOT / "tests" / "helpers"))
import slapd  # noqa: E402

from test_mailer import configure, make_doc, wait_mails  # noqa: E402
from test_smtpgw import free_port  # noqa: E402

DOMAIN = "fax.example.com"


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    d = slapd.Slapd(tmp_path_factory.mktemp("ldap") / "d")
    pw = slapd.hash_password(slapd.USER_PW)
    people = slapd.users(20, pw_hash=pw)
    people += slapd.user(30, pw, uid="jsmith", cn="John Smith", displayName="John Smith",
                         mail="john.smith@example.com", o="Smith & Sons", ou="Accounts")
    people += slapd.user(31, pw, uid="nofax", fax=None, mail="no.fax@example.com")
    people += slapd.user(32, pw, uid="twin1", cn="Jo Twin", displayName="Jo Twin", mail="jo.twin@example.com")
    people += slapd.user(33, pw, uid="twin2", cn="Jo Twin", displayName="Jo Twin", mail="jo.twin2@example.com")
    people += slapd.user(34, pw, uid="star", mail="star*user@example.com")
    groups = slapd.group("fax-users", [slapd.user_dn(i) for i in range(1, 21)] +
                         [f"uid={u},ou=People,{slapd.BASE}" for u in ("jsmith", "nofax", "twin1", "twin2", "star")])
    d.init(slapd.skeleton() + people + groups)
    d.start()
    yield d
    d.stop()


def ldap_config(d, **extra):
    base = {"online": "yes", "auth": "yes", "cache_ttl": "0s", "sync_interval": "0"}
    base.update(extra)
    return d.config(**base) + f"[ldapgroup users]\ndn = cn=fax-users,ou=Groups,{slapd.BASE}\nclasses = local,national\n"


class Gateway:
    def __init__(self, home, d, extra="", **ldap):
        self.home = home
        self.port = free_port()
        home.write_config(
            f"[faxgate]\nnode = dirtest\n[smtp]\nlisten = 127.0.0.1:{self.port}\ndomains = {DOMAIN}\n"
            f"auth_plaintext = yes\n[dial]\ncountry_code = 1\narea_code = 212\n{ldap_config(d, **ldap)}{extra}")
        self.proc = home.start(prog("smtpgw"))
        wait_for(lambda: "status=running" in home.log_of(self.proc) or self.proc.poll() is not None,
                 what="smtpgw start")
        assert self.proc.poll() is None, home.log_of(self.proc)

    def submit(self, sender="user00001@example.com", rcpt="+12125550100@" + DOMAIN, login=None, headers=None):
        msg = email.message.EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, rcpt, "Directory test"
        for k, v in (headers or {}).items():
            msg[k] = v
        msg.set_content("Hello.\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as c:
            c.ehlo("client.example.com")
            if login:
                c.login(*login)
            c.mail(sender)
            code, text = c.rcpt(rcpt)
            if code != 250:
                return code, text.decode()
            code, text = c.data(msg.as_bytes(policy=email.policy.SMTP))
            return code, text.decode()

    def auth(self, user, password):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as c:
            c.ehlo("client.example.com")
            token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            code, text = c.docmd("AUTH", "PLAIN " + token)
            return code, text.decode()

    def job(self, reply):
        job_id = reply.split()[-1]
        return json.loads(self.home.faxctl("--json", "show", job_id).stdout)


def fields_of(job):
    return job.get("fields", job)


def test_submission_enriched_from_the_directory_online(home, directory):
    gw = Gateway(home, directory)
    code, text = gw.submit()
    assert code == 250, text
    job = gw.job(text)
    f = fields_of(job)
    assert f["sender_name"] == "User 00001" and f["sender_company"] == "Example Corp"
    assert f["sender_department"] == "Sales" and f["sender_email"] == "user00001@example.com"
    assert job["tsi"] == "+16465550001"
    # an X-Fax header still wins over the directory (research/conventions.md §3.1)
    code, text = gw.submit(headers={"X-Fax-Sender-Name": "Front Desk", "X-Fax-TSI": "+1 212 555 0000"})
    assert code == 250, text
    job = gw.job(text)
    assert fields_of(job)["sender_name"] == "Front Desk" and job["tsi"] == "+1 212 555 0000"
    assert fields_of(job)["sender_company"] == "Example Corp"  # what the headers leave is the directory's


def test_domain_defaults_below_the_profile(home, directory):
    gw = Gateway(home, directory, extra="[domain elsewhere.example]\ncompany = Elsewhere Ltd\n"
                 "billing_code = CC-7\n")
    code, text = gw.submit(sender="someone@elsewhere.example")
    assert code == 250, text
    f = fields_of(gw.job(text))
    assert f["sender_company"] == "Elsewhere Ltd" and f["billing_code"] == "CC-7"


def test_directory_down_falls_back_to_synced_profiles(home, directory):
    home.faxctl("profile", "add", "user00002@example.com", "--name", "Synced Two", "--company", "Synced Co")
    gw = Gateway(home, directory)
    directory.stop()
    try:
        code, text = gw.submit(sender="user00002@example.com")
    finally:
        directory.start()
    assert code == 250, text
    f = fields_of(gw.job(text))
    assert f["sender_name"] == "Synced Two" and f["sender_company"] == "Synced Co"


def test_a_restarted_directory_is_reconnected_once_transparently(home, directory):
    gw = Gateway(home, directory)
    code, text = gw.submit(sender="user00008@example.com")
    assert code == 250 and fields_of(gw.job(text))["sender_name"] == "User 00008", text
    directory.stop()
    directory.start()  # the service connection smtpgw holds is dead now
    code, text = gw.submit(sender="user00009@example.com")
    assert code == 250, text
    assert fields_of(gw.job(text))["sender_name"] == "User 00009"  # from the directory, not a fallback
    assert "sender lookup failed" not in home.log_of(gw.proc)


def test_a_hung_directory_costs_a_bounded_wait(home, directory):
    gw = Gateway(home, directory, network_timeout="1s", timeout="1s")
    directory.freeze()
    try:
        t = time.monotonic()
        code, text = gw.submit(sender="user00003@example.com")
        took = time.monotonic() - t
    finally:
        directory.thaw()
    assert code == 250, text
    assert took < 6, f"submission waited {took:.1f}s on a hung directory"


def test_fax_a_colleague_by_name(home, directory):
    gw = Gateway(home, directory)
    code, text = gw.submit(rcpt="john.smith@" + DOMAIN)
    assert code == 250, text
    job = gw.job(text)
    assert job["number"] == "+16465550030" and job["recipient"] == "John Smith"
    assert job["company"] == "Smith & Sons"
    code, text = gw.submit(rcpt="John_Smith@" + DOMAIN)
    assert code == 250 and gw.job(text)["number"] == "+16465550030", text
    code, text = gw.submit(rcpt="jo.twin@" + DOMAIN)  # the mail local part is unique
    assert code == 250, text
    code, text = gw.submit(rcpt="Jo_Twin@" + DOMAIN)  # two people of that name
    assert code == 550 and "5.1.4" in text, text
    code, text = gw.submit(rcpt="no.fax@" + DOMAIN)
    assert code == 550 and "no fax number" in text, text
    code, text = gw.submit(rcpt="nobody.here@" + DOMAIN)
    assert code == 550 and "5.1.3" in text, text


@pytest.mark.parametrize("local", ["*", "star*", "x)(uid=*", "*)(|(mail=*", "a\\2a", "j" * 400])
def test_hostile_values_never_match_someone_else(home, directory, local):
    gw = Gateway(home, directory)
    code, text = gw.submit(rcpt=f"{local}@{DOMAIN}")
    assert code in (501, 550, 553), text
    code, text = gw.submit(sender=f"{local}@example.com")
    if code == 250:
        f = fields_of(gw.job(text))
        assert "sender_name" not in f or not f["sender_name"].startswith("User"), f
    assert gw.proc.poll() is None


def test_auth_by_bind(home, directory):
    gw = Gateway(home, directory)
    assert gw.auth("user00004@example.com", slapd.USER_PW)[0] == 235
    assert gw.auth("user00004", slapd.USER_PW)[0] == 235  # the login attribute
    assert gw.auth("user00004@example.com", "wrong")[0] == 535
    assert gw.auth("user00004@example.com", "")[0] in (501, 535)
    assert gw.auth("nobody@example.com", slapd.USER_PW)[0] == 535
    assert gw.auth("*", slapd.USER_PW)[0] == 535
    code, text = gw.submit(sender="user00004@example.com", login=("user00004@example.com", slapd.USER_PW))
    assert code == 250, text
    directory.stop()
    try:
        code, text = gw.auth("user00005@example.com", slapd.USER_PW)
    finally:
        directory.start()
    assert code == 454 and "4.7.0" in text, text


def test_directory_user_mail_leaves_with_their_tsi_and_their_did_reaches_their_inbox(home, directory):
    port = free_port()
    d = directory
    configure(home, f"[smtp]\nlisten = 127.0.0.1:{port}\ndomains = {DOMAIN}\n[render]\nworkers = 1\n"
              f"[dial]\ncountry_code = 1\narea_code = 212\n"
              f"{ldap_config(d, online='no', bind_dn=slapd.SYNC_DN)}")
    home.run(prog("ldapsync"), "--once")
    smtpgw = home.start(prog("smtpgw"))
    wait_for(lambda: "status=running" in home.log_of(smtpgw), what="smtpgw start")
    for p in ("render", "faxd", "mailer"):
        home.start(prog(p))
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "user00006@example.com", "+12125550100@" + DOMAIN, "Order"
    msg.set_content("Please deliver.\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.sendmail("user00006@example.com", ["+12125550100@" + DOMAIN], msg.as_bytes(policy=email.policy.SMTP))
    loop = pathlib.Path(home.path / "loop")
    txt = wait_for(lambda: [p for p in loop.glob("*.txt")], timeout=90, what="the far end's record")
    record = dict(line.split("=", 1) for line in txt[0].read_text().splitlines() if "=" in line)
    assert record["remote_ident"] == "+16465550006", record
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "+16465550007", str(make_doc(home, pages=1)))
    mails = wait_mails(home.path / "mail", 2, timeout=60)
    received = [m for m in mails if m["X-Fax-Called-Number"]]
    assert [m["To"] for m in received] == ["user00007@example.com"]
