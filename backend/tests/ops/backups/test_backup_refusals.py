"""What `make restore` refuses, and says why, before touching the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.backups.support import backup, contents, populate, restore, run_app


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    populate(url)
    return url


def test_restore_without_a_file_names_the_variable(sqlite_url: str, backup_dir: Path) -> None:
    backup(sqlite_url, backup_dir)
    done = run_app("restore", DATABASE_URL=sqlite_url, BACKUP_DIR=str(backup_dir))
    assert done.returncode != 0
    assert "FILE=" in done.stderr
    assert "sqlite-app-" in done.stderr  # the newest backups, to pick from


def test_restore_of_a_missing_file_says_so(sqlite_url: str, tmp_path: Path) -> None:
    done = restore(sqlite_url, tmp_path / "nothing.sqlite3")
    assert done.returncode != 0
    assert "no such backup file" in done.stderr


def test_restore_of_a_file_that_is_no_backup_says_so(sqlite_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.dump"
    bogus.write_text("not a backup\n")
    rows = contents(sqlite_url)
    done = restore(sqlite_url, bogus)
    assert done.returncode != 0
    assert "not a backup" in done.stderr
    assert contents(sqlite_url) == rows


def test_restore_without_a_terminal_needs_force(
    sqlite_url: str, backup_dir: Path, tmp_path: Path
) -> None:
    file = backup(sqlite_url, backup_dir)
    elsewhere = f"sqlite:///{tmp_path / 'other.db'}"
    done = restore(elsewhere, file, ask=True)
    assert done.returncode != 0
    assert "FORCE=1" in done.stderr
    assert not (tmp_path / "other.db").exists()


def test_restore_into_another_kind_of_database_is_refused(
    sqlite_url: str, backup_dir: Path
) -> None:
    file = backup(sqlite_url, backup_dir)
    done = restore("postgresql://nobody@127.0.0.1:1/none", file)
    assert done.returncode != 0
    assert "backup of a SQLite database" in done.stderr
