# SPDX-License-Identifier: GPL-3.0-or-later
"""faxctl profile with the real programs: add, set, show, list and del; CSV export -> import into a
second home gives the same export byte for byte; an import with a bad row changes nothing; and a
fax received for a group profile's DID lands in its members' mail."""
import json
import subprocess

from conftest import Home, prog
from test_mailer import configure, make_doc, wait_mails


def show(home, address):
    return json.loads(home.faxctl("--json", "profile", "show", address).stdout)


def export(home, *args):
    """The CSV as bytes (CRLF kept)."""
    return subprocess.run([prog("faxctl"), "profile", "export", *args], env=home.env, cwd=home.path,
                          capture_output=True, check=True).stdout


def test_add_set_show_list_del(home):
    home.faxctl("profile", "add", "Alice@Example.com", "--name", "Alice Smith", "--company", "ACME",
                "--department", "Sales", "--phone", "+1 212 555 0100", "--fax", "+12125550199",
                "--address", "asmith@example.com", "--did", "100", "--did", "+12125550100",
                "--cover", "confidential", "--resolution", "fine", "--paper", "letter",
                "--tsi", "ACME FAX", "--billing-code", "CC-1", "--header-line", "%d.%m.%Y ACME")
    p = show(home, "asmith@example.com")
    assert p["address"] == "alice@example.com" and p["kind"] == "user"
    assert p["addresses"] == "alice@example.com,asmith@example.com"
    assert p["dids"] == "+12125550100,100" and p["may_send"] == "yes" and p["password"] == "none"
    assert (p["department"], p["phone"], p["fax"]) == ("Sales", "+1 212 555 0100", "+12125550199")
    assert (p["cover"], p["resolution"], p["paper"], p["tsi"]) == ("confidential", "fine", "letter", "ACME FAX")
    assert (p["billing_code"], p["header_line"], p["source"]) == ("CC-1", "%d.%m.%Y ACME", "local")

    home.faxctl("profile", "set", "alice@example.com", "name=Alice Jones", "may_send=no", "dids=200",
                "company=")
    p = show(home, "alice@example.com")
    assert (p["name"], p["may_send"], p["dids"], p["company"]) == ("Alice Jones", "no", "200", None)
    text = home.faxctl("profile", "show", "alice@example.com").stdout
    assert "name             Alice Jones" in text and "company" not in text

    bad = home.faxctl("profile", "set", "alice@example.com", "resolution=ultra", check=False)
    assert bad.returncode == 65 and "resolution: expected one of standard, fine, superfine" in bad.stderr
    assert home.faxctl("profile", "set", "alice@example.com", "nosuch=1", check=False).returncode == 64
    assert home.faxctl("profile", "set", "nobody@example.com", "name=X", check=False).returncode == 65
    taken = home.faxctl("profile", "add", "bob@example.com", "--address", "ASMITH@example.com", check=False)
    assert taken.returncode == 65
    assert "address asmith@example.com belongs to another profile (alice@example.com)" in taken.stderr

    home.faxctl("profile", "add", "sales@example.com", "--group", "--member", "bob@example.com",
                "--member", "carol@example.com")
    rows = json.loads(home.faxctl("--json", "profile", "list").stdout)
    assert [r["address"] for r in rows] == ["alice@example.com", "sales@example.com"]
    assert rows[0] == {"address": "alice@example.com", "name": "Alice Jones", "fax": "+12125550199",
                       "dids": "200", "source": "local", "may_send": "no"}
    listing = home.faxctl("profile", "list").stdout.splitlines()
    assert listing[0].split() == ["address", "name", "fax", "dids", "source", "may_send"]
    assert len(listing) == 3
    assert json.loads(home.faxctl("--json", "profile", "list", "--source", "directory").stdout) == []

    assert home.faxctl("profile", "del", "asmith@example.com").stdout == "asmith@example.com: deleted\n"
    assert home.faxctl("profile", "del", "alice@example.com", check=False).returncode == 65
    assert home.faxctl("profile", "show", "alice@example.com", check=False).returncode == 65
    assert [r["address"] for r in json.loads(home.faxctl("--json", "profile", "list").stdout)] == \
        ["sales@example.com"]


def fill(home):
    home.faxctl("profile", "add", "alice@example.com", "--name", 'Müller, "Al"', "--did", "100",
                "--address", "al@example.com", "--classes", "local,national", "--language", "de",
                "--notify", "failure+delay", "--rx-format", "both", "--header-line", "%d, %m")
    home.run(prog("faxctl"), "profile", "add", "bob@example.com", "--no-send", "--password-stdin",
             input="secret\n")
    home.faxctl("profile", "add", "desk@example.com", "--group", "--did", "200", "--member", "alice@example.com",
                "--member", "bob@example.com")


def test_export_import_round_trip(home, tmp_path):
    fill(home)
    exported = export(home)
    assert exported.startswith(b"address,kind,name,") and exported.count(b"\r\n") == 4
    assert b"secret" not in exported and b"$y$" not in exported and b"password" not in exported
    csv = tmp_path / "profiles.csv"
    csv.write_bytes(exported)
    (tmp_path / "two").mkdir()
    two = Home(tmp_path / "two")
    dry = two.faxctl("profile", "import", "--dry-run", str(csv))
    assert dry.stdout == "would import 3 profiles (3 added, 0 changed)\n"
    assert two.faxctl("profile", "list").stdout == "no profiles\n"
    assert two.faxctl("profile", "import", str(csv)).stdout == "imported 3 profiles (3 added, 0 changed)\n"
    assert export(two) == exported
    assert two.faxctl("profile", "import", str(csv)).stdout == "imported 3 profiles (0 added, 0 changed)\n"
    # an existing profile keeps its id and its password
    before = show(home, "bob@example.com")
    home.faxctl("profile", "import", str(csv))
    after = show(home, "bob@example.com")
    assert after["id"] == before["id"] and after["password"] == "set"
    assert export(two, "--source", "directory") == exported.splitlines(True)[0]
    assert export(two, "--source", "local") == exported


def test_import_with_a_bad_row_changes_nothing(home, tmp_path):
    fill(home)
    before = export(home)
    csv = tmp_path / "bad.csv"
    csv.write_text('address,name,resolution\r\nalice@example.com,Changed,fine\r\n'
                   'new@example.com,"multi\r\nline, ok",\r\nbad@example.com,Bad,ultra\r\n')
    res = home.faxctl("profile", "import", str(csv), check=False)
    assert res.returncode == 65
    assert "line 3: name: control characters are not allowed (nothing imported)" in res.stderr
    csv.write_text('address,name,resolution\nalice@example.com,Changed,fine\nbad@example.com,Bad,ultra\n')
    res = home.faxctl("profile", "import", str(csv), check=False)
    assert res.returncode == 65 and "line 3: resolution: expected one of" in res.stderr
    csv.write_text('address,nmae\nalice@example.com,x\n')
    res = home.faxctl("profile", "import", str(csv), check=False)
    assert res.returncode == 65 and "line 1: unknown column 'nmae'" in res.stderr
    assert export(home) == before


def test_fax_to_a_group_did_goes_to_its_members(home):
    configure(home)
    home.start(prog("faxd"))
    home.start(prog("mailer"))
    home.faxctl("profile", "add", "sales@example.com", "--group", "--did", "100", "--rx-format", "tiff",
                "--member", "bob@example.com", "--member", "carol@example.com")
    home.faxctl("profile", "add", "carol@example.com", "--did", "100")
    home.faxctl("profile", "add", "desk@example.com", "--group", "--did", "200")
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "100", str(make_doc(home, pages=1)))
    msgs = wait_mails(home.path / "mail", 2)
    assert sorted(m["To"] for m in msgs) == ["bob@example.com", "carol@example.com"]
    assert all(m["X-Fax-Routed-By"] == "profile" for m in msgs)
    # a group without members: its own address
    home.faxctl("loop-call", "--from", "+12125550199", "--did", "200", str(make_doc(home, pages=1)))
    msgs = wait_mails(home.path / "mail", 3)
    assert sorted(m["To"] for m in msgs) == ["bob@example.com", "carol@example.com", "desk@example.com"]
