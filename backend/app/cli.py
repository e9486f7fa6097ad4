"""Operational commands, usable without Flask (the worker image has them too).

python -m app wait-for-db        wait until the database answers
python -m app migrate            upgrade the schema to the newest revision
python -m app create-superuser   create FIRST_SUPERUSER if missing (idempotent)
python -m app prestart           all three, in order: what containers run before the app
python -m app check-settings     read the settings, and say what is wrong with them
python -m app backup             back up the database (make backup; app/ops/backups.py)
python -m app restore FILE       replace the database's contents with a backup (make restore)
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db import migrate
from app.ops import backups
from app.runtime import Runtime
from app.services import users
from app.services.errors import InvalidInput

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
        try:
            user = users.create_user(
                session=session,
                hasher=runtime.hasher,
                email=settings.FIRST_SUPERUSER,
                password=settings.FIRST_SUPERUSER_PASSWORD.get_secret_value(),
                full_name="Administrator",
                is_superuser=True,
            )
        except InvalidInput as exc:
            # The settings refuse such a password outside local; locally the same
            # rules as for anyone else apply, said without a traceback.
            reasons = "; ".join(exc.errors.values()) or exc.message
            raise SystemExit(
                f"error: FIRST_SUPERUSER_PASSWORD (or FIRST_SUPERUSER) is refused: {reasons}"
            ) from None
        session.commit()
        logger.info("created first superuser %s", user.email)


# An arbitrary 64-bit key naming the prestart lock on PostgreSQL.
PRESTART_LOCK_KEY = 7_364_712_095_331_187
PRESTART_LOCK_NAME = "app-prestart"


@contextmanager
def prestart_lock(runtime: Runtime, timeout: int = 300) -> Iterator[None]:
    """Serialise migrations and superuser creation across processes: several
    replicas starting together would otherwise race to create the same tables.
    A database-side lock, held on its own connection; SQLite has one writer anyway."""
    dialect = runtime.engine.dialect.name
    if dialect not in ("postgresql", "mysql", "mariadb"):
        yield
        return
    with runtime.engine.connect() as connection:
        if dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PRESTART_LOCK_KEY})
        else:
            got = connection.execute(
                text("SELECT GET_LOCK(:name, :timeout)"),
                {"name": PRESTART_LOCK_NAME, "timeout": timeout},
            ).scalar()
            if got != 1:
                raise SystemExit(f"another process held the prestart lock for {timeout}s")
        connection.commit()
        try:
            yield
        finally:
            if dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": PRESTART_LOCK_KEY}
                )
            else:
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": PRESTART_LOCK_NAME})
            connection.commit()


def load_settings() -> Settings:
    """The settings, or a clear refusal without a traceback."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  {error['msg'].removeprefix('Value error, ')}" for error in exc.errors()
        )
        raise SystemExit(f"error: the settings are not usable:\n{problems}") from None


def run_database_steps(command: str, settings: Settings) -> None:
    # No statement timeout: a migration takes the time it takes, and the start-up
    # lock waits for the replica that holds it.
    runtime = Runtime.from_settings(settings, statement_timeout=0)
    try:
        if command in ("wait-for-db", "prestart"):
            wait_for_db(runtime)
        with prestart_lock(runtime):
            if command in ("migrate", "prestart"):
                migrate.upgrade(runtime.engine)
                logger.info("schema is at the newest revision")
            if command in ("create-superuser", "prestart"):
                create_superuser(runtime)
    finally:
        runtime.engine.dispose()


def run_backup_command(args: argparse.Namespace) -> None:
    options = backups.BackupSettings()
    # Only the native target reads the app's settings (its DATABASE_URL).
    settings = load_settings() if options.BACKUP_TARGET == "native" else None
    try:
        database = backups.target_database(options, settings)
        if args.command == "backup":
            backups.backup(database, options.BACKUP_DIR)
        else:
            backups.restore(database, args.file, backup_dir=options.BACKUP_DIR, assume_yes=args.yes)
    except backups.BackupError as exc:
        raise SystemExit(f"error: {exc}") from None


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in DATABASE_STEPS.items():
        commands.add_parser(name, help=help_text)
    commands.add_parser("check-settings", help="read the settings, and say what is wrong with them")
    commands.add_parser("backup", help="back up the database into BACKUP_DIR (app/ops/backups.py)")
    restore = commands.add_parser("restore", help="replace the database's contents with a backup")
    restore.add_argument("file", nargs="?", type=Path, help="the backup file")
    restore.add_argument("--yes", action="store_true", help="without asking")
    return parser


DATABASE_STEPS = {
    "wait-for-db": "wait until the database answers",
    "migrate": "upgrade the schema to the newest revision",
    "create-superuser": "create FIRST_SUPERUSER if missing (idempotent)",
    "prestart": "all three, in order: what containers run before the app",
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in ("backup", "restore"):
        run_backup_command(args)
        return 0
    settings = load_settings()
    configure_logging(settings.LOG_LEVEL, settings.log_format)
    if args.command in DATABASE_STEPS:
        run_database_steps(args.command, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
