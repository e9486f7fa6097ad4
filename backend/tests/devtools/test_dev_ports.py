"""make dev (native) checks every port it will listen on before it starts anything,
and names each one taken with the variable that moves it, instead of printing its
banner and then stopping on a line buried in Traefik's log."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from app.core.config import REPO_DIR
from app.devtools.ports import free_port

PORTS = ("HTTP_PORT", "API_PORT", "FRONTEND_PORT", "MAIL_SINK_SMTP_PORT", "MAIL_SINK_WEB_PORT")


@pytest.fixture
def listening() -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    yield sockets
    for each in sockets:
        each.close()


def listen(sockets: list[socket.socket], port: int) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", port))
    server.listen()
    sockets.append(server)


def test_make_dev_names_each_taken_port_and_its_variable(
    listening: list[socket.socket],
) -> None:
    ports = {name: free_port() for name in PORTS}
    listen(listening, ports["API_PORT"])
    listen(listening, ports["MAIL_SINK_WEB_PORT"])
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PORT")}
    env |= {name: str(port) for name, port in ports.items()}
    # A key of the test's own, so that make dev writes no .env.
    env |= {"DEV_MODE": "native", "SECRET_KEY": "a-key-of-the-tests-own-long-enough-for-hs256"}
    done = subprocess.run(
        ["bash", "scripts/dev.sh"],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"port {ports['API_PORT']} (API_PORT)" in done.stderr
    assert f"port {ports['MAIL_SINK_WEB_PORT']} (MAIL_SINK_WEB_PORT)" in done.stderr
    assert "API_PORT=<a free port> make dev" in done.stderr
    # Nothing started: no banner, no process output.
    assert "Mode" not in done.stderr and done.stdout == ""
