"""The images' entrypoint: `python -m app.ops.entrypoint COMMAND...`.

Checks the settings the command cannot do without, runs prestart (wait for the
database, migrate, create the first superuser) before the API server unless
RUN_PRESTART=0, then becomes the command (exec: it gets the signals). Any other
command (`python -m app migrate`, a shell) runs as given.

In a container the embedded defaults would be files inside it, lost with it and
unseen by the other containers: so even with ENVIRONMENT=local the database and
the broker must be named here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Literal

from app.core.config import Settings

Role = Literal["api", "worker", "beat", "flower", "celery"]


def role_of(command: Sequence[str]) -> Role | None:
    if list(command[:3]) == ["python", "-m", "app.web.server"]:
        return "api"
    if command and command[0] == "celery":
        for role in ("worker", "beat", "flower"):
            if role in command:
                return role
        return "celery"
    return None


def missing_settings(role: Role, settings: Settings) -> list[str]:
    named = settings.model_fields_set
    missing = []
    if role in ("api", "worker") and "DATABASE_URL" not in named:
        missing.append("set DATABASE_URL (or DATABASE_URL_FILE)")
    if not named & {"CELERY_BROKER_URL", "REDIS_URL"}:
        missing.append("set REDIS_URL or CELERY_BROKER_URL (or their *_FILE)")
    if role == "flower" and settings.FLOWER_BASIC_AUTH is None:
        missing.append(
            "set FLOWER_BASIC_AUTH=user:password (or FLOWER_BASIC_AUTH_FILE): "
            "Flower never runs without a login"
        )
    return missing


def read_file_variable(name: str) -> None:
    """NAME from the file NAME_FILE names (a Docker secret), as docker-library's
    images do. The settings read *_FILE themselves; Flower does not, and takes every
    FLOWER_* variable for one of its options, refusing one it does not know: so
    NAME_FILE is removed once read."""
    path = os.environ.pop(f"{name}_FILE", "")
    if not path:
        return
    if os.environ.get(name):
        fail(f"both {name} and {name}_FILE are set; set only one")
    try:
        with open(path, encoding="utf-8") as file:
            os.environ[name] = file.read().strip()
    except OSError as exc:
        fail(f"{name}_FILE={path} cannot be read: {exc.strerror}")


def log(message: str) -> None:
    print(f"entrypoint: {message}", file=sys.stderr, flush=True)


def fail(message: str) -> None:
    log(f"error: {message}")
    raise SystemExit(1)


def main(command: Sequence[str]) -> None:
    if not command:
        fail("no command to run")
    read_file_variable("FLOWER_BASIC_AUTH")
    role = role_of(command)
    if role is not None:
        # Imported here: a shell or a one-off command starts without them.
        from app import cli

        settings = cli.load_settings()
        problems = missing_settings(role, settings)
        if problems:
            fail("; ".join(problems))
        if role == "api" and os.environ.get("RUN_PRESTART", "1") != "0":
            log("prestart: wait for the database, migrate, create the first superuser")
            cli.main(["prestart"])
    try:
        os.execvp(command[0], list(command))
    except FileNotFoundError:
        log(f"error: {command[0]}: command not found")
        raise SystemExit(127) from None


if __name__ == "__main__":
    main(sys.argv[1:])
