"""`canone serve` as `make run` starts it: one start line once the port is bound, one
access line per request, and a clear message when the port is taken."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

LOG_LINE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO "


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"CANONE_DATABASE_URL": f"sqlite:///{tmp_path / 'canone.db'}",
           "CANONE_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
           "CANONE_SECRET_KEY": "serve-test", "CANONE_TEST_MODE": "1"}
    migrated = subprocess.run([sys.executable, "-m", "canone", "db", "upgrade"],
                              env={**os.environ, **env}, capture_output=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    return env


def lines_of(stream: object) -> queue.Queue[str]:
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:  # type: ignore[attr-defined]
            found.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return found


def test_serve_says_where_it_serves_once_bound_then_one_line_per_request(env) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "canone", "serve", "--port", str(port)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        logged = lines_of(server.stderr)
        start = logged.get(timeout=300)
        # Said once the server listens: a request right now is answered.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=60) as docs:
            assert docs.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/catalog?x=secret",
                                   timeout=60)
        access = [logged.get(timeout=60), logged.get(timeout=60)]
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert re.fullmatch(
        LOG_LINE + rf"canone: serving on http://127\.0\.0\.1:{port} \(Ctrl-C stops\); "
        r"database sqlite:///\S+canone\.db; payments: the sandbox card network at \S+ "
        r"\(demos and tests only; no money moves\); "
        r"test mode ON \(test clock, sandbox-only endpoints\)", start), start
    assert [re.sub(LOG_LINE, "", line).rsplit(" ", 2)[0] for line in access] == [
        "GET /docs 200", "GET /api/v1/catalog 401"]
    assert all(re.fullmatch(LOG_LINE + r"GET \S+ \d{3} \d+\.\d ms", line) for line in access)
    assert logged.empty()
    assert server.stdout is not None and server.stdout.read() == ""


def test_serve_on_a_taken_port_says_which_and_how_to_pick_another(env) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "canone", "serve", "--port", str(port)],
                             env={**os.environ, **env}, capture_output=True, text=True,
                             timeout=300)
    assert run.returncode == 1
    assert run.stderr == (
        f"error: port {port} on 127.0.0.1 is taken: another program (another `canone "
        f"serve`?) listens there. Stop it, or pick another port: `make run PORT={port + 1}` "
        f"or `canone serve --port {port + 1}`.\n")
    assert run.stdout == ""
