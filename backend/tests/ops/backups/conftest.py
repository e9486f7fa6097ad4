"""Databases for the backup tests: each test gets its own, on SQLite, and on
PostgreSQL and MariaDB when TEST_POSTGRES_URL / TEST_MARIADB_URL name a server
(skipped, with the reason, when they do not)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.utils.databases import SERVER_ENV, throwaway_database


def _backend(name: str) -> object:
    env = SERVER_ENV.get(name)
    if env is None:
        return name
    return pytest.param(
        name,
        marks=pytest.mark.skipif(
            not os.environ.get(env), reason=f"{env} is not set: no {name} server to test against"
        ),
    )


BACKENDS = [_backend(name) for name in ("sqlite", "postgresql", "mariadb")]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database, dropped afterwards (this directory's own: the
    suite-wide one is shared and migrated once)."""
    with throwaway_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    if not os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("TEST_POSTGRES_URL is not set: no postgresql server to test against")
    with throwaway_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir()
    return path
