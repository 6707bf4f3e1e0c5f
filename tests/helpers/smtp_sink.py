#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real SMTP server that keeps what it gets, for the integration tests (the far end of a mail
route). aiosmtpd 1.4 from Debian: run it with /usr/bin/python3.

    smtp_sink.py [--host 127.0.0.1] [--port 0] [--implicit-tls | --starttls [--require-starttls]]
                 [--cert PEM --key PEM] [--auth USER:PASSWORD [--auth-plaintext]
                 [--auth-mechanisms PLAIN,LOGIN]] [--maildir DIR] [--log FILE] [--script FILE]

The first line on stdout is "port N" (flushed): with --port 0 the system picks it. SIGTERM or
SIGINT stops it cleanly (exit 0).

--implicit-tls: TLS from the first byte (SMTPS). --starttls: STARTTLS is offered;
--require-starttls: and nothing but EHLO/NOOP/QUIT before it. Both need --cert and --key.
--auth USER:PASSWORD: AUTH is required before MAIL (PLAIN and LOGIN unless --auth-mechanisms names
fewer), offered only under TLS unless --auth-plaintext.

Every accepted message is written to DIR/N.eml (N = 1, 2, ... as received; the bytes after
dot-unstuffing) and one JSON line is appended to the log (--log, default DIR/../sink.jsonl):
    {"n": 1, "mail_from": "a@x", "rcpt_tos": ["b@y"], "size": 1234, "time": 1700000000.5,
     "file": "DIR/1.eml", "auth": "USER" or null, "tls": true}
so a test counts what was accepted by counting lines (make_cert and read_log below help).

--script FILE: a JSON object read again at every connection and command, so that a test changes
a running sink by replacing the file (write another and rename it over). Every key is optional:
    "down": true                       greet with "421 4.3.2 Service not available" and close
    "greeting": "421 4.7.0 too busy"   greet with this instead of 220, and close
    "mail": {"a@x": "550 5.7.1 no"}    the reply to MAIL FROM:<a@x>
    "rcpt": {"b@y": "550 5.1.1 no such user"}   the reply to RCPT TO:<b@y>
    "data_delay": 3                    wait this many seconds before answering the end of DATA
                                       (the message is kept even if the client has gone by then)
    "data_reply": "421 4.7.0 slow down", "data_reply_count": 3
                                       the reply to the end of DATA of the next 3 messages (no
                                       count: of every one); those are not kept. The count
                                       starts again whenever the file's content changes.
Addresses are compared without regard to case.
"""
import argparse
import asyncio
import json
import pathlib
import signal
import ssl
import subprocess
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_cert(directory, name="localhost", ip="127.0.0.1"):
    """A self-signed certificate for name (and ip, when given) in directory: (cert, key) paths."""
    directory = pathlib.Path(directory)
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    san = f"DNS:{name}" + (f",IP:{ip}" if ip else "")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}"],
                   check=True, capture_output=True)
    return cert, key


def read_log(path):
    """The JSON lines a sink wrote, as a list of dicts ([] before the first message)."""
    path = pathlib.Path(path)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class SinkProcess:
    """A sink run for a test, its files under workdir: .port, .maildir, .log, .messages(), .stop()."""

    def __init__(self, workdir, *args):
        workdir = pathlib.Path(workdir)
        self.maildir, self.log = workdir / "sink-mail", workdir / "sink.jsonl"
        self.err = open(workdir / "sink.err", "w+")
        self.proc = subprocess.Popen(["/usr/bin/python3", __file__, "--port", "0", "--maildir", str(self.maildir),
                                      "--log", str(self.log), *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            self.err.seek(0)
            raise RuntimeError(f"smtp_sink did not start: {line!r} {self.err.read()}")
        self.port = int(line.split()[1])

    def messages(self):
        return read_log(self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc.stdout.close()
        self.err.close()


class Script:
    """The --script file, read again each time; remembers how many scripted DATA replies it gave."""

    def __init__(self, path):
        self.path, self.text, self.data, self.used = path, None, {}, 0

    def get(self):
        if self.path is None:
            return {}
        try:
            text = pathlib.Path(self.path).read_text()
        except FileNotFoundError:
            text = ""
        if text != self.text:
            self.text, self.data, self.used = text, json.loads(text) if text.strip() else {}, 0
        return self.data

    def reply_for(self, key, address):
        table = {k.lower(): v for k, v in self.get().get(key, {}).items()}
        return table.get((address or "").lower())

    def data_reply(self):
        script = self.get()
        reply, count = script.get("data_reply"), script.get("data_reply_count")
        if not reply or (count is not None and self.used >= count):
            return None
        self.used += 1
        return reply


class Handler:
    def __init__(self, script, maildir, log):
        self.script, self.maildir, self.log, self.count = script, maildir, log, 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.script.reply_for("mail", address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.script.reply_for("rcpt", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        delay = self.script.get().get("data_delay")
        if delay:
            await asyncio.sleep(float(delay))
        reply = self.script.data_reply()
        if reply:
            return reply
        self.count += 1
        content = envelope.original_content or b""
        record = {"n": self.count, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "size": len(content), "time": time.time(), "file": None,
                  "auth": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
                  "tls": session.ssl is not None or server.implicit_tls}
        if self.maildir is not None:
            path = self.maildir / f"{self.count}.eml"
            path.write_bytes(content)
            record["file"] = str(path)
        if self.log is not None:
            with open(self.log, "a") as f:
                f.write(json.dumps(record) + "\n")
        return f"250 2.0.0 OK queued as {self.count}"


class SinkSMTP(SMTP):
    """aiosmtpd's server with a scripted greeting; AUTH counts as under TLS on an SMTPS port."""

    def __init__(self, handler, *, script, implicit_tls, **kw):
        super().__init__(handler, **kw)
        self.script, self.implicit_tls = script, implicit_tls
        if implicit_tls:
            self._auth_require_tls = False

    async def _handle_client(self):
        script = self.script.get()
        greeting = script.get("greeting") or ("421 4.3.2 Service not available" if script.get("down") else None)
        if greeting:
            await self.push(greeting)
            self.transport.close()
            return
        await super()._handle_client()


def authenticator_for(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticator


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP sink for the faxgate tests")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    p.add_argument("--auth-plaintext", action="store_true")
    p.add_argument("--auth-mechanisms", default="PLAIN,LOGIN")
    p.add_argument("--maildir")
    p.add_argument("--log")
    p.add_argument("--script")
    args = p.parse_args(argv)
    if (args.implicit_tls or args.starttls) and not (args.cert and args.key):
        p.error("--implicit-tls and --starttls need --cert and --key")
    if args.auth and ":" not in args.auth:
        p.error("--auth USER:PASSWORD")
    return args


def server_kwargs(args):
    kw = {"hostname": "sink.test", "decode_data": False}
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    if args.starttls:
        kw.update(tls_context=tls, require_starttls=args.require_starttls)
    if args.auth:
        user, password = args.auth.split(":", 1)
        allowed = {m.strip().upper() for m in args.auth_mechanisms.split(",")}
        kw.update(authenticator=authenticator_for(user, password), auth_required=True,
                  auth_require_tls=not args.auth_plaintext,
                  auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in allowed])
    return kw, tls if args.implicit_tls else None


async def serve(args):
    maildir = pathlib.Path(args.maildir) if args.maildir else None
    if maildir is not None:
        maildir.mkdir(parents=True, exist_ok=True)
    log = args.log or (str(maildir.parent / "sink.jsonl") if maildir is not None else None)
    script = Script(args.script)
    handler = Handler(script, maildir, log)
    kw, implicit = server_kwargs(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SinkSMTP(handler, script=script, implicit_tls=implicit is not None, **kw),
        host=args.host, port=args.port, ssl=implicit)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv):
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
