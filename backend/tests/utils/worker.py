"""A real Celery worker in a subprocess, run from the worker's own Flask-free
virtualenv, and helpers to wait for what it does.

The worker is started as `celery -A worker.main worker` in its own process group
(so a test can kill it and its pool children at once), configured only through
its environment, and logs to a file that failures show.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask.testing import FlaskClient

from app.core.config import BACKEND_DIR, REPO_DIR, Settings
from app.devtools.supervisor import group_alive
from app.queue import TaskQueue
from app.runtime import Runtime
from app.services.email import EmailSender
from app.services.jobs import FINISHED
from app.web import create_app
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.utils.brokers import Broker
from tests.utils.smtp import Mailbox

T = TypeVar("T")

READY = re.compile(r"@\S+ ready\.")
POLL_INTERVAL = 0.05
# A deadline, not a wait: a worker module importing scikit-learn on a busy
# two-core machine has been seen to need more than 30 s.
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
# An idle worker's warm shutdown takes a second or two (several on the filesystem
# broker, which polls); tests have nothing left in flight by then.
STOP_GRACE = 3.0
LOG_TAIL = 6000
JOBS = "/api/v1/jobs/"

# Every worker started in this run, for the logs shown when a test fails.
STARTED: list[Worker] = []

# The worker reads these from its environment; the suite's own values must not leak in.
_SETTING_NAMES = frozenset(Settings.model_fields)


def worker_venv(module: str = "default") -> Path:
    """A worker module's virtualenv: the default module's is WORKER_VENV_DIR, else
    the repository's .venv-worker; another module's is .venv-<name>."""
    if module == "default":
        venv = Path(os.environ.get("WORKER_VENV_DIR") or REPO_DIR / ".venv-worker")
        create = "ensure_worker_venv"
    else:
        venv, create = REPO_DIR / f".venv-{module}", "ensure_module_venvs"
    if not (venv / "bin" / "celery").is_file():
        pytest.fail(
            f"the worker's virtualenv {venv} is missing (or has no celery): create it with "
            f"`source scripts/lib.sh && {create}` (scripts/test.sh does so)",
            pytrace=False,
        )
    return venv


def celery_app_module(module: str = "default") -> str:
    """What `celery -A` takes for a worker module: worker.main, worker_<name>.main."""
    return "worker.main" if module == "default" else f"worker_{module.replace('-', '_')}.main"


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def worker_environment(
    *, database_url: str, broker_url: str, settings: Mapping[str, object]
) -> dict[str, str]:
    """The environment of a worker: this process's, minus any setting, plus the test's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SETTING_NAMES
        and not (key.endswith("_FILE") and key[: -len("_FILE")] in _SETTING_NAMES)
    }
    env |= {
        "ENV_FILE": "/dev/null",
        "ENVIRONMENT": "local",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_TIME_COST": "1",
        "DATABASE_POOL_SIZE": "2",
        "EMAIL_BACKEND": "console",
    }
    env |= {key: _env_value(value) for key, value in settings.items()}
    return env


class Worker:
    """A running worker: its main process (leader of its own group) and its log."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: Path, name: str) -> None:
        self.process = process
        self.log_path = log_path
        self.name = name
        self.started_at = time.monotonic()
        STARTED.append(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self) -> str:
        text = self.log()
        return text if len(text) <= LOG_TAIL else "...\n" + text[-LOG_TAIL:]

    def describe(self) -> str:
        return f"worker {self.name} (pid {self.pid}), log {self.log_path}:\n{self.log_tail()}"

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not READY.search(self.log()):
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited with {self.process.returncode} before it was ready; "
                    + self.describe()
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker was not ready in {timeout} s; {self.describe()}")
            time.sleep(POLL_INTERVAL)

    def wait_for_log(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """The first match of `pattern` in the log, once it appears."""
        compiled = re.compile(pattern)
        return wait_until(
            lambda: compiled.search(self.log()),
            timeout=timeout,
            what=lambda: f"{pattern!r} in the log of {self.describe()}",
        )

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole worker at once: the main process and its pool children."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        # The pool children die with the group; wait until none is left.
        wait_until(
            lambda: not group_alive(self.process.pid),
            timeout=STOP_TIMEOUT,
            what=f"the processes of worker {self.name} to end",
        )

    def stop(self, *, wait: bool = True) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL for whatever is left.

        Without `wait`, the worker is told to stop and the rest happens in the
        background (the interpreter still waits for it before exiting): an idle
        worker's shutdown takes seconds that the tests need not spend.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        if wait:
            self._finish_stopping()
        else:
            threading.Thread(target=self._finish_stopping, name=f"stop {self.name}").start()

    def _finish_stopping(self) -> None:
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE)
        self._signal_group(signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT)


def workers_since(moment: float) -> list[Worker]:
    """The workers still running, or started since `moment` (time.monotonic())."""
    return [w for w in STARTED if w.process.poll() is None or w.started_at >= moment]


def start_worker(
    *,
    database_url: str,
    broker_url: str,
    log_dir: Path,
    concurrency: int = 1,
    settings: Mapping[str, object] | None = None,
    module: str = "default",
) -> Worker:
    """Start a worker module from its own Flask-free virtualenv and wait until it
    consumes (its own queues: the module's app names them)."""
    venv = worker_venv(module)
    name = f"test-{uuid.uuid4().hex[:8]}"
    log_path = log_dir / f"{name}.log"
    command = [
        str(venv / "bin" / "celery"),
        "-A",
        celery_app_module(module),
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{name}@%h",
    ]
    env = worker_environment(
        database_url=database_url, broker_url=broker_url, settings=settings or {}
    )
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=BACKEND_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, log_path, name)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker


@contextmanager
def running_worker(
    *,
    database_url: str,
    broker_url: str,
    log_dir: Path,
    concurrency: int = 1,
    settings: Mapping[str, object] | None = None,
    module: str = "default",
) -> Iterator[Worker]:
    """A worker for the duration of the block; told to stop afterwards, whatever happens."""
    worker = start_worker(
        database_url=database_url,
        broker_url=broker_url,
        log_dir=log_dir,
        concurrency=concurrency,
        settings=settings,
        module=module,
    )
    try:
        yield worker
    finally:
        worker.stop(wait=False)


@contextmanager
def client_on_broker(
    runtime: Runtime, broker: Broker, **overrides: object
) -> Iterator[FlaskClient]:
    """A test client of an app that sends its tasks to `broker` (on the suite's database)."""
    settings = make_settings(
        runtime.settings.DATABASE_URL,
        CELERY_BROKER_URL=broker.url,
        **(broker.settings | overrides),
    )
    queue = TaskQueue(settings)
    app = create_app(
        runtime=dataclasses.replace(
            runtime, settings=settings, queue=queue, email_sender=EmailSender(settings)
        )
    )
    app.testing = True
    try:
        yield app.test_client()
    finally:
        queue.close()


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: Callable[[], str] | str,
    interval: float = POLL_INTERVAL,
) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"waited {timeout} s in vain for {described}")
        time.sleep(interval)


def read_job(client: FlaskClient, headers: Mapping[str, str], job_id: int) -> dict[str, Any]:
    response = client.get(f"{JOBS}{job_id}", headers=dict(headers))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def wait_for_job(
    client: FlaskClient,
    headers: Mapping[str, str],
    job_id: int,
    *,
    until: Callable[[dict[str, Any]], bool] = lambda job: job["state"] in FINISHED,
    worker: Worker | None = None,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Poll GET /jobs/{id} until `until(job)` (by default: finished); the job then."""
    last: dict[str, Any] = {}

    def check() -> dict[str, Any] | None:
        nonlocal last
        last = read_job(client, headers, job_id)
        return last if until(last) else None

    return wait_until(
        check,
        timeout=timeout,
        what=lambda: (
            f"job {job_id}, last seen {last}; " + (worker.describe() if worker else "no worker")
        ),
    )


def start_job(client: FlaskClient, headers: Mapping[str, str], **params: object) -> dict[str, Any]:
    """POST a demo job; the 202 body."""
    response = client.post(JOBS, json={"kind": "demo", "params": params}, headers=dict(headers))
    assert response.status_code == 202, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def mail_to(
    mailbox: Mailbox, address: str, *, worker: Worker | None = None, timeout: float = 15.0
) -> EmailMessage:
    """The first message delivered to `address`, once it arrives."""

    def find() -> EmailMessage | None:
        return next((m for m in mailbox.messages if m["To"] == address), None)

    return wait_until(
        find,
        timeout=timeout,
        what=lambda: (
            f"mail to {address} (received: {[m['To'] for m in mailbox.messages]}); "
            + (worker.describe() if worker else "no worker")
        ),
    )


class Inbox:
    """What a mailbox receives from now on: a test's view of a mailbox it shares."""

    def __init__(self, mailbox: Mailbox, worker: Worker | None = None) -> None:
        self.mailbox = mailbox
        self.worker = worker
        self._start = len(mailbox.messages)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages[self._start :]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The first `count` new messages, once that many have arrived."""
        return wait_until(
            lambda: self.messages[:count] if len(self.messages) >= count else None,
            timeout=timeout,
            what=lambda: (
                f"{count} message(s), got {len(self.messages)}; "
                + (self.worker.describe() if self.worker else "no worker")
            ),
        )
