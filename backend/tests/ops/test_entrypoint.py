"""The images' entrypoint (app/ops/entrypoint.py), run as the images run it: it
refuses to start a process without the settings it needs, and otherwise becomes
the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NAMED = {"DATABASE_URL": "sqlite:////tmp/never-opened.db", "REDIS_URL": "redis://127.0.0.1:1/0"}


def entrypoint(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.ops.entrypoint", *command],
        env={"PATH": os.environ["PATH"], "ENV_FILE": "/dev/null"} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("command", "unset", "missing"),
    [
        (["python", "-m", "app.web.server"], "DATABASE_URL", "set DATABASE_URL"),
        (["python", "-m", "app.web.server"], "REDIS_URL", "set REDIS_URL or CELERY_BROKER_URL"),
        (["celery", "-A", "worker.main", "worker"], "DATABASE_URL", "set DATABASE_URL"),
        (["celery", "-A", "worker.main", "beat"], "REDIS_URL", "set REDIS_URL or CELERY_BR"),
        (["celery", "-A", "worker.main", "flower"], "", "set FLOWER_BASIC_AUTH"),
    ],
)
def test_a_process_without_its_settings_is_refused_with_their_names(
    command: list[str], unset: str, missing: str
) -> None:
    # The embedded defaults would live and die inside the container: never there.
    done = entrypoint(*command, **{k: v for k, v in NAMED.items() if k != unset})
    assert done.returncode == 1
    assert missing in done.stderr
    assert "Traceback" not in done.stderr


def test_weak_settings_are_refused_without_a_traceback() -> None:
    done = entrypoint(
        "python", "-m", "app.web.server", **NAMED, ENVIRONMENT="production", SECRET_KEY="short"
    )
    assert done.returncode == 1
    assert "SECRET_KEY must be a random value" in done.stderr
    assert "Traceback" not in done.stderr


def test_other_commands_run_as_given_and_a_file_secret_becomes_its_variable(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "flower_basic_auth"
    secret.write_text("admin:from-the-secret\n")
    done = entrypoint("env", FLOWER_BASIC_AUTH_FILE=str(secret))
    assert done.returncode == 0, done.stderr
    variables = dict(line.split("=", 1) for line in done.stdout.splitlines())
    # Flower refuses FLOWER_* variables it does not know, so the _FILE one is gone.
    assert variables["FLOWER_BASIC_AUTH"] == "admin:from-the-secret"
    assert "FLOWER_BASIC_AUTH_FILE" not in variables


def test_a_command_that_does_not_exist_is_named() -> None:
    done = entrypoint("no-such-command")
    assert done.returncode == 127
    assert "no-such-command: command not found" in done.stderr
    assert "Traceback" not in done.stderr
