# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the integration tests: they drive the real programs in bin/."""
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("FAXGATE_BIN", ROOT / "bin"))
BUILD = pathlib.Path(os.environ.get("FAXGATE_BUILD", ROOT / "build"))


def prog(name):
    return str(BIN / name)


class Home:
    """A throwaway $FAXGATE_HOME with an optional config file."""

    def __init__(self, path):
        self.path = path
        self.env = dict(os.environ, FAXGATE_HOME=str(path))
        self.env.pop("FAXGATE_CONFIG", None)
        self.procs = []

    def write_config(self, text):
        conf = self.path / "faxgate.conf"
        conf.write_text(text)
        self.env["FAXGATE_CONFIG"] = str(conf)
        return conf

    def run(self, *args, check=True, timeout=60, **kw):
        res = subprocess.run(list(args), env=self.env, cwd=self.path, capture_output=True, text=True,
                             timeout=timeout, **kw)
        if check and res.returncode != 0:
            raise AssertionError(f"{args} exited {res.returncode}\nstdout:{res.stdout}\nstderr:{res.stderr}")
        return res

    def faxctl(self, *args, **kw):
        return self.run(prog("faxctl"), *args, **kw)

    def start(self, *args, **kw):
        log = open(self.path / f"{pathlib.Path(args[0]).name}-{len(self.procs)}.log", "w+")
        p = subprocess.Popen(list(args), env=self.env, cwd=self.path, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, **kw)
        p.logfile = log
        self.procs.append(p)
        return p

    def log_of(self, p):
        p.logfile.flush()
        return pathlib.Path(p.logfile.name).read_text()

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()


@pytest.fixture
def home(tmp_path):
    h = Home(tmp_path)
    yield h
    h.stop_all()


def wait_for(predicate, timeout=10.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
