"""The API over real HTTP.

With `LIVE_API_URL` set (e.g. `https://example.com`, the site's origin), the tests
talk to that deployment and log in as `FIRST_SUPERUSER` / `FIRST_SUPERUSER_PASSWORD`
from the environment. Without it, they start the production server
(`python -m app.web.server`) on a loopback port against a throwaway SQLite
database, after `python -m app prestart`, and stop it at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app.devtools.ports import free_port
from tests.conftest import TEST_SECRET_KEY

BACKEND_DIR = Path(__file__).resolve().parents[2]
HEALTH_PATH = "/api/v1/utils/health-check/"
STARTUP_TIMEOUT = 30.0
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


# The refresh reuse grace window of the server started here; against a deployment,
# LIVE_REFRESH_REUSE_GRACE_SECONDS says its own (the setting's default otherwise).
LOCAL_REUSE_GRACE_SECONDS = 1


@dataclass(frozen=True)
class LiveApi:
    base_url: str
    superuser_email: str
    superuser_password: str
    refresh_reuse_grace_seconds: int = 10

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def _server_env(database_url: str, superuser: str, password: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return env | {
        "ENV_FILE": "/dev/null",
        "ENVIRONMENT": "local",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "FIRST_SUPERUSER": superuser,
        "FIRST_SUPERUSER_PASSWORD": password,
        "USERS_OPEN_REGISTRATION": "true",
        "RATE_LIMIT_ENABLED": "false",
        "EMAIL_BACKEND": "console",
        # No worker here: tasks the server sends stay in its memory.
        "CELERY_BROKER_URL": "memory://",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_TIME_COST": "1",
        "WEB_CONCURRENCY": "2",
        "WEB_ACCESS_LOG": "false",
        "REFRESH_REUSE_GRACE_SECONDS": str(LOCAL_REUSE_GRACE_SECONDS),
        "LOG_LEVEL": "WARNING",
    }


def _wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if requests.get(base_url + HEALTH_PATH, timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Not listening yet, or listening before a worker is up (the request then
            # waits in the backlog): either means "not yet".
            pass
        time.sleep(0.05)  # polling interval, not a wait for a condition
    pytest.fail(f"the server did not answer within {STARTUP_TIMEOUT:.0f}s:\n{log.read_text()}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="session")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    external = os.environ.get("LIVE_API_URL")
    if external:
        credentials = ("FIRST_SUPERUSER", "FIRST_SUPERUSER_PASSWORD")
        missing = [name for name in credentials if name not in os.environ]
        if missing:
            pytest.fail(f"LIVE_API_URL is set: set {' and '.join(missing)} too")
        yield LiveApi(
            base_url=external,
            superuser_email=os.environ["FIRST_SUPERUSER"],
            superuser_password=os.environ["FIRST_SUPERUSER_PASSWORD"],
            refresh_reuse_grace_seconds=int(
                os.environ.get("LIVE_REFRESH_REUSE_GRACE_SECONDS", "10")
            ),
        )
        return

    tmp = tmp_path_factory.mktemp("live")
    api = LiveApi(
        base_url="",
        superuser_email="live-admin@example.com",
        superuser_password="live-admin-password",
    )
    env = _server_env(f"sqlite:///{tmp / 'app.db'}", api.superuser_email, api.superuser_password)
    subprocess.run(
        [sys.executable, "-m", "app", "prestart"],
        cwd=BACKEND_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )

    port = free_port()
    log = tmp / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.web.server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=BACKEND_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, server, log)
        yield LiveApi(
            base_url=base_url,
            superuser_email=api.superuser_email,
            superuser_password=api.superuser_password,
            refresh_reuse_grace_seconds=LOCAL_REUSE_GRACE_SECONDS,
        )
    finally:
        _stop(server)
