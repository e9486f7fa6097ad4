"""The stack's scheduled backups (compose/backup-service.sh), run here for real:
the pruning against file ages set in the past, a backup against PostgreSQL."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.ops.backups.support import SERVICE_SCRIPT, contents, populate, restore, run_script
from tests.utils.databases import throwaway_database

HOUR = 3600
DAY = 24 * HOUR


def _aged(directory: Path, name: str, age_seconds: float) -> Path:
    """A file last modified `age_seconds` ago: the clock the pruning reads."""
    path = directory / name
    path.write_bytes(b"PGDMP")
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def test_prune_deletes_backups_older_than_the_kept_days(backup_dir: Path) -> None:
    old = [
        _aged(backup_dir, "app-20240101T030000Z.dump", 30 * DAY),
        _aged(backup_dir, "app-20240102T030000Z.dump", 7 * DAY + HOUR),
        _aged(backup_dir, "app-20240102T030001Z.dump.partial", 8 * DAY),
    ]
    kept = [
        _aged(backup_dir, "app-20240103T030000Z.dump", 7 * DAY - HOUR),
        _aged(backup_dir, "app-20240109T030000Z.dump", DAY),
        _aged(backup_dir, "app-20240110T030000Z.dump", 0),
        # Not the service's: left alone, however old.
        _aged(backup_dir, "notes.txt", 90 * DAY),
        _aged(backup_dir, "swarm-app-20240101T030000Z.sqlite3", 90 * DAY),
    ]

    # BACKUP_KEEP_DAYS unset: the default, 7.
    done = run_script(SERVICE_SCRIPT, "prune", BACKUP_DIR=str(backup_dir))

    assert done.returncode == 0, done.stderr
    assert sorted(backup_dir.iterdir()) == sorted(kept)
    assert all(path.name in done.stderr for path in old)


def test_prune_keeps_as_many_days_as_asked(backup_dir: Path) -> None:
    _aged(backup_dir, "app-a.dump", DAY + HOUR)
    recent = _aged(backup_dir, "app-b.dump", DAY - HOUR)

    done = run_script(SERVICE_SCRIPT, "prune", BACKUP_DIR=str(backup_dir), BACKUP_KEEP_DAYS="1")

    assert done.returncode == 0, done.stderr
    assert list(backup_dir.iterdir()) == [recent]


@pytest.mark.parametrize(
    ("setting", "value"),
    [("BACKUP_KEEP_DAYS", "0"), ("BACKUP_KEEP_DAYS", "a week"), ("BACKUP_TIME", "25:00")],
)
def test_service_refuses_a_bad_setting(backup_dir: Path, setting: str, value: str) -> None:
    done = run_script(SERVICE_SCRIPT, "prune", BACKUP_DIR=str(backup_dir), **{setting: value})
    assert done.returncode != 0
    assert setting in done.stderr


def test_scheduled_backup_restores_with_make_restore(
    postgres_url: str, backup_dir: Path, tmp_path: Path
) -> None:
    populate(postgres_url)
    rows = contents(postgres_url)
    expired = _aged(backup_dir, "app-20240101T030000Z.dump", 8 * DAY)
    url = make_url(postgres_url)
    # As in the stack: the password comes from a secret's file.
    secret = tmp_path / "postgres_password"
    secret.write_text(url.password or "")

    done = run_script(
        SERVICE_SCRIPT,
        "once",
        BACKUP_DIR=str(backup_dir),
        PGHOST=url.host or "",
        PGPORT=str(url.port or 5432),
        PGUSER=url.username or "",
        PGDATABASE=url.database or "",
        POSTGRES_PASSWORD_FILE=str(secret),
    )

    assert done.returncode == 0, done.stderr
    assert not expired.exists()
    (dump,) = backup_dir.iterdir()
    assert dump.name.startswith(f"{url.database}-") and dump.suffix == ".dump"
    with throwaway_database("postgresql", tmp_path) as elsewhere:
        restored = restore(elsewhere, dump)
        assert restored.returncode == 0, restored.stderr
        assert contents(elsewhere) == rows
