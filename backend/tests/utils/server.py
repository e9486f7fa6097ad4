"""The API's real HTTP server (`python -m app.web.server`) in a process of its own,
for the tests that need granian's processes rather than Flask's test client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from app.core.config import BACKEND_DIR
from app.devtools.ports import free_port


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
