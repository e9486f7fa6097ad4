"""The production server's settings (app/web/server.py); tests/live serves through it."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from app.core.config import Settings
from app.web.server import announce_rate_limits, build
from tests.utils.server import api_server

BACKEND_DIR = Path(__file__).resolve().parents[2]


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_build_server_takes_workers_and_threads_from_settings() -> None:
    server = build(settings(WEB_CONCURRENCY=3, WEB_THREADS=4), host="127.0.0.1", port=8000)

    assert (server.workers, server.blocking_threads) == (3, 4)


def test_build_server_runs_one_worker_when_reloading() -> None:
    server = build(settings(WEB_CONCURRENCY=3), host="127.0.0.1", port=8000, reload=True)

    assert server.workers == 1


def test_build_server_refuses_more_threads_than_pooled_connections() -> None:
    with pytest.raises(SystemExit, match="WEB_THREADS=11 exceeds DATABASE_POOL_SIZE=10"):
        build(settings(WEB_THREADS=11, DATABASE_POOL_SIZE=10), host="127.0.0.1", port=8000)


@pytest.mark.parametrize(
    ("values", "processes", "level", "says"),
    [
        ({"REDIS_URL": "redis://cache:6379/0"}, 4, logging.INFO, "counted in redis, shared"),
        ({}, 4, logging.WARNING, "with 4 server processes every limit lets up to 4 times"),
        ({}, 1, logging.INFO, "counted in memory (one server process)"),
        ({"RATE_LIMIT_ENABLED": False}, 4, logging.INFO, "off"),
    ],
    ids=["redis", "memory, several processes", "memory, one process", "off"],
)
def test_start_says_where_rate_limits_are_counted(
    caplog: pytest.LogCaptureFixture,
    values: dict[str, object],
    processes: int,
    level: int,
    says: str,
) -> None:
    with caplog.at_level(logging.INFO, logger="app.web.server"):
        announce_rate_limits(settings(**values), processes)
    [record] = caplog.records
    assert record.levelno == level
    assert says in record.getMessage()


def test_serve_on_a_port_in_use_says_so_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.web.server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=BACKEND_DIR,
            env={**os.environ, "ENV_FILE": "/dev/null", "DATABASE_URL": f"sqlite:///{tmp_path}/db"},
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_reloading_server_serves_the_edited_code(tmp_path: Path) -> None:
    """Edit a module under a running `--reload` server (in a copy of app/): the next
    answers come from the new code, not from modules a restarted worker inherited."""
    shutil.copytree(
        BACKEND_DIR / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {
        "PYTHONPATH": str(tmp_path),
        "ENVIRONMENT": "local",
        "SECRET_KEY": "reload-test-secret-key-long-enough-for-hs256",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db",
    }
    with api_server("--reload", env=env, cwd=tmp_path) as (base, _):
        url = f"{base}/api/v1/openapi.json"

        def title() -> str | None:
            try:
                return str(requests.get(url, timeout=2).json()["info"]["title"])
            except (requests.RequestException, ValueError):
                return None

        assert wait_for(title, timeout=30) == "Full Stack Flask API"
        module = tmp_path / "app/web/api/__init__.py"
        module.write_text(module.read_text().replace('f"{title} API"', 'f"{title} API, edited"'))
        assert wait_for(lambda: (t := title()) and "edited" in t and t, timeout=30)


def wait_for(check: Callable[[], str | None], *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"nothing within {timeout} s (last: {check()!r})")


def test_server_started_during_setup_serves_once_the_setup_is_done(tmp_path: Path) -> None:
    """make dev starts the API while the database is prepared (SETUP_DONE_FILE):
    nothing is answered until the file says that is done."""
    done = tmp_path / "setup-done"
    env = {
        "ENVIRONMENT": "local",
        "SECRET_KEY": "setup-test-secret-key-long-enough-for-hs256",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db",
        "SETUP_DONE_FILE": str(done),
    }
    with api_server(env=env) as (base, _):

        def answer() -> str | None:
            try:
                return str(
                    requests.get(f"{base}/api/v1/utils/health-check/", timeout=1).status_code
                )
            except requests.RequestException:
                return None

        # Long enough for the worker to import the app and serve, were it not waiting.
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            assert answer() is None
            time.sleep(0.2)
        done.touch()
        assert wait_for(answer, timeout=30) == "200"


def test_server_refuses_a_port_another_server_listens_on(tmp_path: Path) -> None:
    """granian's SO_REUSEPORT would let a second server share the port, each taking
    some of the connections: it must stop and say why instead."""
    env = {
        "ENVIRONMENT": "local",
        "SECRET_KEY": "port-test-secret-key-long-enough-for-hs256",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db",
    }

    def health(base: str) -> str | None:
        try:
            return str(requests.get(f"{base}/api/v1/utils/health-check/", timeout=1).status_code)
        except requests.RequestException:
            return None

    with api_server(env=env) as (base, _):
        assert wait_for(lambda: health(base), timeout=30) == "200"
        port = base.rsplit(":", 1)[1]
        second = subprocess.Popen(
            [sys.executable, "-m", "app.web.server", "--host", "127.0.0.1", "--port", port],
            cwd=BACKEND_DIR,
            env={**os.environ, "ENV_FILE": "/dev/null", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = second.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
            second.communicate()
            raise AssertionError("a second server started on a port in use") from None

    assert second.returncode != 0
    assert f"cannot serve on 127.0.0.1:{port}" in output.decode()
    assert "API_PORT" in output.decode()
