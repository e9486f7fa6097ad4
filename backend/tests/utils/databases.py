"""Throwaway databases on the servers the suite is pointed at.

SQLite always runs. PostgreSQL and MariaDB run when `TEST_POSTGRES_URL` and
`TEST_MARIADB_URL` name a server (an account that may create databases); each
run creates a database with a fresh name and drops it at the end.
A test marked `same_on_every_database` runs on SQLite alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from app.db import Base
from app.db.session import _normalise_url
from app.services import audit

SERVER_ENV = {"postgresql": "TEST_POSTGRES_URL", "mariadb": "TEST_MARIADB_URL"}
# A throwaway database needs no durability: each commit on PostgreSQL returns
# without waiting for its WAL to reach the disk (it is as visible, as isolated
# and as constrained as before; only a crash of the server could lose it). The
# suite commits after nearly every step, and that wait was most of its time on
# PostgreSQL. Every process given the URL (workers, servers, pg_dump) inherits it.
NO_DISK_WAIT = "--synchronous_commit=off"  # no space: libpq reads no "+" in a URL as one


# Where SQLite's throwaway databases go when it exists, for the same reason.
SHM = Path("/dev/shm")  # noqa: S108 (a private folder is made inside with mkdtemp)


def available_backends() -> list[str]:
    return ["sqlite"] + [name for name, env in SERVER_ENV.items() if os.environ.get(env)]


def _options(url: URL, extra: str) -> str:
    given = url.query.get("options")
    return f"{given} {extra}" if isinstance(given, str) else extra


@contextmanager
def _memory_backed(tmp_dir: Path) -> Iterator[Path]:
    """A folder in memory (/dev/shm) when the machine has one, else `tmp_dir`: SQLite
    syncs its file at every commit, and a throwaway database needs no durability."""
    if not (SHM.is_dir() and os.access(SHM, os.W_OK)):
        yield tmp_dir
        return
    directory = Path(tempfile.mkdtemp(prefix="test-db-", dir=SHM))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def throwaway_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        with _memory_backed(tmp_dir) as directory:
            yield f"sqlite:///{directory / (name + '.db')}"
        return
    server_url = _normalise_url(os.environ[SERVER_ENV[backend]])
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if backend == "mariadb":
                connection.execute(
                    text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                )
            else:
                connection.execute(text(f"CREATE DATABASE {name}"))
        url = make_url(server_url).set(database=name)
        if backend == "postgresql":
            url = url.update_query_dict({"options": _options(url, NO_DISK_WAIT)})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if backend == "postgresql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


# For a test that exercises nothing that differs between databases (a request
# refused before any query, a header, a document): it runs on SQLite alone rather
# than once per server, with the suite's SQLite database.
same_on_every_database = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def empty_tables(session: Session) -> None:
    """Delete every row of every table and commit; the audit log's rows too, which
    only its purge may delete (app.services.audit)."""
    session.rollback()
    with audit.purge_allowed(session):
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    session.commit()
