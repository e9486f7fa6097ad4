"""The API server's spans reach an OTLP/HTTP collector from its worker processes
(tracing is set up in each, by the app factory, after granian starts it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from app.core.config import BACKEND_DIR
from app.devtools.ports import free_port
from tests.conftest import TEST_SECRET_KEY
from tests.utils.otlp import collecting
from tests.utils.worker import wait_until

PATH = "/api/v1/openapi.json"


def test_server_processes_export_their_request_spans(tmp_path: Path) -> None:
    port = free_port()
    with collecting() as collector:
        env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
        env |= {
            "ENV_FILE": "/dev/null",
            "ENVIRONMENT": "local",
            "SECRET_KEY": TEST_SECRET_KEY,
            "DATABASE_URL": f"sqlite:///{tmp_path}/db",
            "WEB_CONCURRENCY": "2",
            "PROJECT_SLUG": "served",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "app.web.server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=BACKEND_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:

            def served() -> bool:
                try:
                    return requests.get(f"http://127.0.0.1:{port}{PATH}", timeout=2).ok
                except requests.RequestException:
                    return False

            wait_until(served, timeout=30, what="the server to answer", interval=0.2)
            for _ in range(10):
                assert requests.get(f"http://127.0.0.1:{port}{PATH}", timeout=5).ok

            spans = wait_until(
                lambda: [s for s in collector.spans if s.name == f"GET {PATH}"],
                timeout=15,
                what=lambda: f"request spans (received: {collector.spans})",
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)

    assert {s.service for s in spans} == {"served-api"}
    assert all(s.attributes.get("http.status_code") == 200 for s in spans)
