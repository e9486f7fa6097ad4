"""A whole run's logs, in JSON at DEBUG: the production server, a real worker and
the CLI's prestart, through logins, a password reset, authenticated and failing
requests and a job. Every line is a JSON object; each request's access line and
the job's lines carry the request id; no password, token, reset link or signing
key appears anywhere."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from app.core.config import BACKEND_DIR
from app.devtools.ports import free_port
from tests.conftest import TEST_SECRET_KEY
from tests.utils.brokers import Broker
from tests.utils.smtp import RESET_LINK, Mailbox, smtp_server, text_and_html
from tests.utils.worker import Worker, running_worker, wait_until, worker_environment

ADMIN = "log-admin@example.com"
PASSWORD = "first-Pass-phrase-4821"
NEW_PASSWORD = "second-Pass-phrase-9377"
API = "/api/v1"
STARTUP_TIMEOUT = 60.0
SHUTDOWN_NOTICE = "worker: Warm shutdown (MainProcess)"


@dataclass
class Run:
    """The servers of the run and where their output goes."""

    base_url: str
    server: subprocess.Popen[bytes]
    server_log: Path
    prestart_output: str
    worker: Worker
    mailbox: Mailbox

    def call(self, method: str, path: str, request_id: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.base_url + API + path, headers=headers, timeout=10, **kwargs
        )


def _lines(text: str, where: str) -> list[dict[str, Any]]:
    """Every line of `text` as a JSON object (the test fails on the first that is not)."""
    parsed = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"a line of the {where} is not JSON: {line!r}")
        assert isinstance(value, dict), line
        assert {"time", "level", "logger", "message"} <= set(value), line
        parsed.append(value)
    return parsed


@pytest.fixture(scope="module")
def run(broker: Broker, log_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("log-secrets")
    database_url = f"sqlite:///{tmp / 'app.db'}"
    with smtp_server() as mailbox:
        settings = broker.settings | {
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "DEBUG",
            "FIRST_SUPERUSER": ADMIN,
            "FIRST_SUPERUSER_PASSWORD": PASSWORD,
            "FRONTEND_HOST": "https://portal.example.com",
            "EMAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": mailbox.port,
            "SMTP_TLS": False,
            "SMTP_TIMEOUT": 5,
            "WEB_CONCURRENCY": 1,
        }
        env = worker_environment(
            database_url=database_url, broker_url=broker.url, settings=settings
        )
        prestart = subprocess.run(
            [sys.executable, "-m", "app", "prestart"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        with running_worker(
            database_url=database_url, broker_url=broker.url, log_dir=log_dir, settings=settings
        ) as worker:
            port = free_port()
            command = [sys.executable, "-m", "app.web.server", "--host", "127.0.0.1"]
            server_log = tmp / "server.log"
            with server_log.open("wb") as out:
                server = subprocess.Popen(
                    [*command, "--port", str(port)],
                    cwd=BACKEND_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            base_url = f"http://127.0.0.1:{port}"
            try:
                wait_until(
                    lambda: _healthy(base_url, server),
                    timeout=STARTUP_TIMEOUT,
                    what=lambda: f"the server to answer; its log:\n{server_log.read_text()}",
                )
                yield Run(
                    base_url, server, server_log, prestart.stdout + prestart.stderr, worker, mailbox
                )
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def _healthy(base_url: str, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, f"the server exited with {server.returncode}"
    try:
        return requests.get(base_url + API + "/utils/health-check/", timeout=1).ok
    except requests.RequestException:
        return False


def _login(run: Run, request_id: str, password: str) -> requests.Response:
    return run.call(
        "POST", "/login/access-token", request_id, data={"username": ADMIN, "password": password}
    )


def test_a_whole_run_logs_json_lines_with_request_ids_and_no_secret(run: Run) -> None:
    secrets = {"password": PASSWORD, "new password": NEW_PASSWORD, "key": TEST_SECRET_KEY}

    login = _login(run, "req-login-0001", PASSWORD)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    secrets |= {"access token": token, "refresh token": login.cookies["refresh_token"]}
    bearer = {"Authorization": f"Bearer {token}"}
    me = run.call("GET", "/users/me", "req-me-000001", headers=bearer)
    assert me.status_code == 200
    admin_id = me.json()["id"]

    assert run.call("POST", f"/password-recovery/{ADMIN}", "req-recover-01").status_code == 200
    message = wait_until(
        lambda: next(iter(run.mailbox.messages), None),
        timeout=20,
        what=lambda: f"the reset email; {run.worker.describe()}",
    )
    link = RESET_LINK.search(text_and_html(message)[0])
    assert link is not None
    secrets |= {"reset link": link.group(0), "reset token": link.group(1)}
    reset = run.call(
        "POST",
        "/reset-password/",
        "req-reset-001",
        json={"token": link.group(1), "new_password": NEW_PASSWORD},
    )
    assert reset.status_code == 200, reset.text

    assert _login(run, "req-wrong-001", PASSWORD).status_code in (400, 401)
    relogin = _login(run, "req-relogin-1", NEW_PASSWORD)
    assert relogin.status_code == 200, relogin.text
    token = relogin.json()["access_token"]
    secrets |= {"second access token": token}
    bearer = {"Authorization": f"Bearer {token}"}
    assert run.call("GET", "/users/987654", "req-missing-1", headers=bearer).status_code == 404
    forged = {"Authorization": "Bearer x.y.z"}
    assert run.call("GET", "/users/me", "req-badtoken1", headers=forged).status_code == 401

    demo = {"kind": "demo", "params": {"seconds": 0}}
    job = run.call("POST", "/jobs/", "req-job-00001", headers=bearer, json=demo)
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    poll = f"/jobs/{job_id}"
    wait_until(
        lambda: (
            run.call("GET", poll, "req-poll-0001", headers=bearer).json()["state"] == "succeeded"
        ),
        timeout=20,
        what=lambda: f"job {job_id} to succeed; {run.worker.describe()}",
    )
    run.worker.wait_for_log(rf'"message": "job {job_id} \(demo\) started"')

    # Stop both, so that every line they would write is written.
    run.server.send_signal(signal.SIGTERM)
    run.server.wait(timeout=15)
    run.worker.stop()

    server_lines = _lines(run.server_log.read_text(), "server's log")
    worker_lines = _lines(_without_banner(run.worker.log()), "worker's log")
    _lines(run.prestart_output, "prestart's output")
    everything = "\n".join([run.server_log.read_text(), run.worker.log(), run.prestart_output])
    for name, secret in secrets.items():
        assert secret not in everything, f"the {name} is in the logs"
    assert "reset-password?token" not in everything

    access = {line["request_id"]: line for line in server_lines if line["logger"] == "app.access"}
    assert access["req-login-0001"] | {"duration_ms": 0} == access["req-login-0001"] | {
        "method": "POST",
        "route": "/api/v1/login/access-token",
        "status": 200,
        "duration_ms": 0,
    }
    assert access["req-me-000001"]["user_id"] == admin_id
    assert access["req-recover-01"]["route"] == "/api/v1/password-recovery/<string:email>"
    assert access["req-missing-1"]["status"] == 404
    assert access["req-missing-1"]["route"] == "/api/v1/users/<int:user_id>"
    assert access["req-badtoken1"]["status"] == 401
    assert "user_id" not in access["req-badtoken1"]
    assert access["req-wrong-001"]["status"] in (400, 401)
    assert all(isinstance(line["bytes"], int) for line in access.values())

    job_lines = [line for line in worker_lines if line.get("job_id") == job_id]
    assert {line["message"] for line in job_lines} >= {f"job {job_id} (demo) started"}
    assert all(
        line["request_id"] == "req-job-00001" and line["job_kind"] == "demo" for line in job_lines
    )
    recovery = [line for line in worker_lines if line.get("request_id") == "req-recover-01"]
    assert any(line["message"] == f"sent reset_password email to {ADMIN}" for line in recovery)


def _without_banner(log: str) -> str:
    """The worker's log without the notice Celery prints (not a log record) when told
    to stop: the only such line (the start-up banner is left out in JSON)."""
    lines = [line for line in log.splitlines() if line]  # it starts with a new line
    assert [line for line in lines if not line.startswith("{")] == [SHUTDOWN_NOTICE], log
    return "\n".join(line for line in lines if line != SHUTDOWN_NOTICE)
