"""`make dev` (native) from start to Ctrl-C, on free ports and throwaway state: it
says it is ready only once the page and the API answer through the proxy, and
Ctrl-C stops everything quietly, within seconds, without make reporting an error.

Slow (the whole system starts: 10-40 s, longer when the frontend's packages are
not installed yet), so one test covers both ends of the lifecycle."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.core.config import REPO_DIR
from app.devtools.ports import free_ports

# A tool run end to end: make test-tools, not make test (scripts/test.sh).
pytestmark = pytest.mark.tools

READY_TIMEOUT = 240  # a first start installs the frontend's packages
STOP_TIMEOUT = 60
# What a quiet stop never prints: errors, crashes, Traefik's warnings, kills.
NOISE = (
    "ERROR",
    "[error",
    "[critical",
    "Traceback",
    "Unexpected exit",
    " WRN ",
    "SIGKILL",
    "killed",
    "make: ***",
)


class Run:
    """A command in a session of its own, its output collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            args,
            cwd=REPO_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, f"exited before {text!r}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{self.output}"
            time.sleep(0.2)

    def kill_everything(self) -> None:
        """Whatever is left, its descendants in their own sessions included."""
        try:
            family = [psutil.Process(self.process.pid)]
            family += family[0].children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()

    def close(self) -> None:
        self.kill_everything()
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def dev_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    names = ("HTTP_PORT", "API_PORT", "FRONTEND_PORT", "MAIL_SINK_SMTP_PORT", "MAIL_SINK_WEB_PORT")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PORT")}
    env |= dict(zip(names, map(str, free_ports(len(names))), strict=True))
    env |= {
        "DEV_MODE": "native",
        # Set, so that make dev writes no .env and reads none of these from it.
        "SECRET_KEY": "a-key-of-the-tests-own-long-enough-for-hs256",
        "FIRST_SUPERUSER_PASSWORD": "a-password-of-the-tests-own",
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        "BROKER_DATA_DIR": str(tmp_path / "broker"),
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "RATE_LIMIT_STORAGE_URL": "",
        "SMTP_HOST": "",
        "MAIL_SINK_DIR": str(tmp_path / "mail"),
        "BEAT_SCHEDULE_FILE": str(tmp_path / "celerybeat-schedule"),
    }
    yield env


def answers(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return int(response.status)


def test_ready_when_everything_answers_and_ctrl_c_stops_quietly(
    dev_env: dict[str, str],
) -> None:
    run = Run(["make", "--no-print-directory", "dev"], dev_env)
    try:
        run.wait_for_line("==> ready in", READY_TIMEOUT)
        http = dev_env["HTTP_PORT"]
        # Ready means usable: the page and the API through the proxy, the mail sink.
        assert answers(f"http://127.0.0.1:{http}/") == 200
        assert answers(f"http://127.0.0.1:{http}/api/v1/utils/health-check/") == 200
        assert answers(f"http://127.0.0.1:{dev_env['MAIL_SINK_WEB_PORT']}/") == 200
        # The banner follows the readiness checks, which named what they waited for.
        ready_at = next(i for i, line in enumerate(run.lines) if "==> ready in" in line)
        banner_at = next(i for i, line in enumerate(run.lines) if line.strip().startswith("App"))
        waiting = [i for i, line in enumerate(run.lines) if "==> waiting for:" in line]
        assert waiting and waiting[0] < banner_at < ready_at
        assert "worker-ml" in run.lines[waiting[0]]

        # Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
        interrupted = time.monotonic()
        os.killpg(run.process.pid, signal.SIGINT)
        try:
            returncode = run.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_TIMEOUT} s after Ctrl-C:\n{run.output}")
        took = time.monotonic() - interrupted
    finally:
        run.close()
    output = run.output
    # make ends as any interrupted program does, by the signal, and reports no
    # error: the recipe (scripts/dev.sh) exited 0.
    assert returncode == -signal.SIGINT, output
    assert "==> stopped in" in output
    assert took < STOP_TIMEOUT
    assert [word for word in NOISE if word in output] == [], output
