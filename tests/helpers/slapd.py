# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway OpenLDAP slapd for the tests (research/ldap.md §1): its own slapd.conf, mdb
database, loopback port and ldapi socket in a private folder, syncprov for RFC 4533, never the
system instance. Also the test directory's data: users, contacts, groups, service accounts.

    d = Slapd(tmp_path / "ldap", port=free_port())
    d.init(users(1000))           # slapadd, offline
    d.start()
    d.modify(ldif)                # ldapmodify as the root DN
    d.stop(); d.start()           # restart (the in-memory sessionlog is gone)
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

BASE = "dc=example,dc=com"
ROOT_DN = "cn=admin," + BASE
ROOT_PW = "admin"
LOOKUP_DN = "cn=faxgw,ou=Services," + BASE
SYNC_DN = "cn=faxsync,ou=Services," + BASE
SERVICE_PW = "faxgw-pw"
USER_PW = "Secret-1"
ENV = dict(os.environ, LDAPNOINIT="1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hash_password(pw):
    return subprocess.run(["slappasswd", "-h", "{SSHA}", "-s", pw], capture_output=True, text=True,
                          check=True).stdout.strip()


def _conf(d, sizelimit, tls):
    tls_lines = ""
    if tls:
        tls_lines = (f"TLSCACertificateFile {d}/tls/ca.crt\nTLSCertificateFile {d}/tls/server.crt\n"
                     f"TLSCertificateKeyFile {d}/tls/server.key\n")
    return f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {d}/run/slapd.pid
argsfile {d}/run/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
loglevel none
sizelimit {sizelimit}
idletimeout 0
{tls_lines}
database mdb
maxsize 1073741824
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {hash_password(ROOT_PW)}
directory {d}/db
index objectClass eq
index mail,cn,sn,displayName,uid eq,sub
index member eq
index entryCSN,entryUUID eq
limits dn.exact="{LOOKUP_DN}" size.soft={sizelimit} size.hard={sizelimit} size.pr=1000 size.prtotal=unlimited
limits dn.exact="{SYNC_DN}" size=unlimited time=unlimited
access to attrs=userPassword
    by self =xw
    by anonymous auth
    by * none
access to *
    by dn.exact="{LOOKUP_DN}" read
    by dn.exact="{SYNC_DN}" read
    by self read
    by * none
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog 2000
"""


class Slapd:
    def __init__(self, folder, port=None, sizelimit=10, tls=False):
        self.dir = pathlib.Path(folder)
        self.port = port or free_port()
        self.tls_port = free_port() if tls else None
        self.sizelimit = sizelimit
        self.tls = tls
        self.proc = None
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.tls_port}" if tls else None
        self.ca_file = str(self.dir / "tls" / "ca.crt") if tls else None

    # --- set-up -----------------------------------------------------------------------------
    def init(self, ldif):
        """A fresh database loaded with ldif (text) offline."""
        if self.dir.exists():
            shutil.rmtree(self.dir)
        for sub in ("db", "run"):
            (self.dir / sub).mkdir(parents=True)
        if self.tls:
            self._make_certs()
        (self.dir / "slapd.conf").write_text(_conf(self.dir, self.sizelimit, self.tls))
        (self.dir / "data.ldif").write_text(ldif)
        subprocess.run(["slapadd", "-f", str(self.dir / "slapd.conf"), "-b", BASE, "-l",
                        str(self.dir / "data.ldif"), "-q"], env=ENV, check=True, capture_output=True)

    def _make_certs(self):
        t = self.dir / "tls"
        t.mkdir(parents=True)
        run = lambda *a: subprocess.run(list(a), cwd=t, check=True, capture_output=True)
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=faxgate test CA")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        (t / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext")

    # --- life -------------------------------------------------------------------------------
    def start(self, timeout=10.0):
        urls = self.uri + "/"
        if self.tls:
            urls += " " + self.ldaps_uri + "/"
        log = open(self.dir / "run" / "slapd.log", "a")
        self.proc = subprocess.Popen(["slapd", "-n", "slapd-faxgate-test", "-h", urls, "-f",
                                      str(self.dir / "slapd.conf"), "-d", "none"], env=ENV, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(["ldapsearch", "-x", "-H", self.uri, "-b", "", "-s", "base", "-LLL",
                                "namingContexts"], env=ENV, capture_output=True)
            if r.returncode == 0:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited: " + (self.dir / "run" / "slapd.log").read_text())
            time.sleep(0.03)
        raise RuntimeError("slapd did not answer")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def freeze(self):
        """SIGSTOP: connects still succeed (the kernel backlog) but nothing answers."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    # --- changes ----------------------------------------------------------------------------
    def modify(self, ldif):
        """ldapmodify as the root DN (changetype lines in ldif)."""
        r = subprocess.run(["ldapmodify", "-x", "-H", self.uri, "-D", ROOT_DN, "-w", ROOT_PW], input=ldif,
                           text=True, env=ENV, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"ldapmodify: {r.stderr}")

    def search(self, flt, *attrs, base=BASE):
        r = subprocess.run(["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.uri, "-D", ROOT_DN,
                            "-w", ROOT_PW, "-b", base, flt, *attrs], text=True, env=ENV, capture_output=True,
                           check=True)
        return r.stdout

    def config(self, **extra):
        """An [ldap] section for faxgate.conf using the lookup account."""
        lines = {"uri": self.uri, "bind": "simple", "bind_dn": LOOKUP_DN, "bind_password": SERVICE_PW,
                 "base": "ou=People," + BASE, "network_timeout": "1s", "timeout": "2s"}
        lines.update(extra)
        return "[ldap]\n" + "".join(f"{k} = {v}\n" for k, v in lines.items())


# --- test data ------------------------------------------------------------------------------
def _entry(dn, attrs):
    out = [f"dn: {dn}"]
    for k, v in attrs:
        out.append(f"{k}: {v}")
    return "\n".join(out) + "\n\n"


def skeleton():
    pw = hash_password(SERVICE_PW)
    s = _entry(BASE, [("objectClass", "dcObject"), ("objectClass", "organization"), ("dc", "example"),
                      ("o", "Example Corp")])
    for ou in ("People", "Contacts", "Groups", "Services"):
        s += _entry(f"ou={ou},{BASE}", [("objectClass", "organizationalUnit"), ("ou", ou)])
    for cn in ("faxgw", "faxsync"):
        s += _entry(f"cn={cn},ou=Services,{BASE}", [("objectClass", "organizationalRole"),
                                                     ("objectClass", "simpleSecurityObject"), ("cn", cn),
                                                     ("userPassword", pw)])
    return s


def user(i, pw_hash=None, **over):
    """User number i: uid user<i>, mail user<i>@example.com, fax +1 212 555 <i>, DID the fax."""
    uid = over.pop("uid", f"user{i:05d}")
    a = [("objectClass", "inetOrgPerson"), ("uid", uid), ("cn", over.pop("cn", f"User {i:05d}")),
         ("sn", f"{i:05d}"), ("displayName", over.pop("displayName", f"User {i:05d}")),
         ("mail", over.pop("mail", f"{uid}@example.com")), ("o", over.pop("o", "Example Corp")),
         ("ou", over.pop("ou", "Sales")), ("telephoneNumber", over.pop("phone", f"+1 212 555 {1000 + i % 9000}"))]
    fax = over.pop("fax", f"+1 (646) 555-{i % 10000:04d}")
    if fax:
        a.append(("facsimileTelephoneNumber", fax))
    if pw_hash:
        a.append(("userPassword", pw_hash))
    for k, v in over.items():
        for one in (v if isinstance(v, list) else [v]):
            a.append((k, one))
    return _entry(f"uid={uid},ou=People,{BASE}", a)


def users(n, first=1, pw_hash=None):
    return "".join(user(i, pw_hash) for i in range(first, first + n))


def group(cn, member_dns):
    a = [("objectClass", "groupOfNames"), ("cn", cn)] + [("member", m) for m in member_dns]
    return _entry(f"cn={cn},ou=Groups,{BASE}", a)


def user_dn(i):
    return f"uid=user{i:05d},ou=People,{BASE}"
