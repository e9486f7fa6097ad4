"""Operational commands, usable without Flask (the worker image has them too).

python -m app wait-for-db        wait until the database answers
python -m app migrate            upgrade the schema to the newest revision
python -m app create-superuser   create FIRST_SUPERUSER if missing (idempotent)
python -m app prestart           all three, in order: what containers run before the app
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.core.config import get_settings
from app.core.logging import configure_logging
from app.db import migrate
from app.runtime import Runtime
from app.services import users

logger = logging.getLogger("app.cli")


def wait_for_db(runtime: Runtime, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with runtime.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except OperationalError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"database not reachable after {timeout:.0f}s: {exc}") from exc
            logger.info("waiting for the database...")
            time.sleep(1)


def create_superuser(runtime: Runtime) -> None:
    settings = runtime.settings
    with runtime.session_factory() as session:
        existing = users.get_user_by_email(session=session, email=settings.FIRST_SUPERUSER)
        if existing is not None:
            logger.info("first superuser %s already exists", existing.email)
            return
        user = users.create_user(
            session=session,
            hasher=runtime.hasher,
            email=settings.FIRST_SUPERUSER,
            password=settings.FIRST_SUPERUSER_PASSWORD.get_secret_value(),
            full_name="Administrator",
            is_superuser=True,
        )
        session.commit()
        logger.info("created first superuser %s", user.email)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", choices=["wait-for-db", "migrate", "create-superuser", "prestart"]
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.LOG_LEVEL)
    runtime = Runtime.from_settings(settings)
    try:
        if args.command in ("wait-for-db", "prestart"):
            wait_for_db(runtime)
        if args.command in ("migrate", "prestart"):
            migrate.upgrade(runtime.engine)
            logger.info("schema is at the newest revision")
        if args.command in ("create-superuser", "prestart"):
            create_superuser(runtime)
    finally:
        runtime.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
