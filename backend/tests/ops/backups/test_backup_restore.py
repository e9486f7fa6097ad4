"""`make backup` and `make restore` (`python -m app backup/restore`) on real databases: what
the app wrote comes back row for row, whatever became of the database meanwhile."""

from __future__ import annotations

from pathlib import Path

from tests.ops.backups.support import (
    audit_update_refused,
    backup,
    change_everything,
    contents,
    drop_database,
    populate,
    restore,
    shape,
    write_more,
)

FILLED_TABLES = {
    "users",
    "groups",
    "group_members",
    "group_permissions",
    "items",
    "jobs",
    "refresh_tokens",
    "password_reset_tokens",
    "audit_events",
    "alembic_version",
}


def test_restore_brings_back_every_row_after_the_database_is_dropped(
    database_url: str, backup_dir: Path
) -> None:
    populate(database_url)
    rows, schema = contents(database_url), shape(database_url)
    assert all(rows[name] for name in FILLED_TABLES), "the data set must fill every table"
    file = backup(database_url, backup_dir)

    drop_database(database_url)
    done = restore(database_url, file)

    assert done.returncode == 0, done.stderr
    assert contents(database_url) == rows
    assert shape(database_url) == schema
    # The audit log's triggers came back with it: it is still append-only.
    assert audit_update_refused(database_url)
    # The app carries on: new rows get fresh ids (sequences came back too).
    assert write_more(database_url) > max(row[0] for row in rows["items"])


def test_restore_replaces_a_changed_database_entirely(database_url: str, backup_dir: Path) -> None:
    populate(database_url)
    rows = contents(database_url)
    file = backup(database_url, backup_dir)
    change_everything(database_url)
    assert contents(database_url) != rows

    done = restore(database_url, file)

    assert done.returncode == 0, done.stderr
    assert contents(database_url) == rows  # the added table is gone too


def test_restore_of_a_truncated_backup_changes_nothing(database_url: str, backup_dir: Path) -> None:
    populate(database_url)
    file = backup(database_url, backup_dir)
    change_everything(database_url)
    changed = contents(database_url)
    data = file.read_bytes()
    file.write_bytes(data[: len(data) * 3 // 4])

    done = restore(database_url, file)

    assert done.returncode != 0
    assert "truncated or corrupt" in done.stderr
    assert contents(database_url) == changed
