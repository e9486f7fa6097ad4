"""Engine and session factory built from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db import drivers


def _normalise_url(url: str) -> str:
    """Pick the drivers the project ships (psycopg 3, PyMySQL) for bare scheme names."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cursor.close()

    return set_pragmas


def create_db_engine(
    settings: Settings, *, statement_timeout: float | None = None, **overrides: Any
) -> Engine:
    """The engine for `settings.DATABASE_URL`, every wait on the database bounded
    (app/db/drivers.py). `statement_timeout` overrides the setting's; 0 means none
    (operations such as migrations, which take the time they take)."""
    url = _normalise_url(settings.DATABASE_URL)
    if statement_timeout is None:
        statement_timeout = settings.DATABASE_STATEMENT_TIMEOUT
    # No pool_pre_ping: it costs a round trip per request. A dropped connection
    # fails one request with 503 and the pool replaces it.
    kwargs: dict[str, Any] = {
        "echo": settings.DATABASE_ECHO,
        # A statement's values (an email, a token's hash) stay out of the errors the
        # logs and error tracking show, unless one asked to see statements.
        "hide_parameters": not settings.DATABASE_ECHO,
    }
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs |= {
            "pool_size": settings.DATABASE_POOL_SIZE,
            "max_overflow": settings.DATABASE_MAX_OVERFLOW,
            # A request waits this long for a free connection, then gets a 503.
            "pool_timeout": settings.DATABASE_CONNECT_TIMEOUT,
            # Servers drop idle connections (MariaDB's wait_timeout); recycle first.
            "pool_recycle": 1800,
            "connect_args": drivers.connect_args(
                make_url(url),
                connect_timeout=settings.DATABASE_CONNECT_TIMEOUT,
                statement_timeout=statement_timeout,
            ),
        }
    kwargs |= overrides
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        busy_ms = drivers.sqlite_busy_timeout_ms(statement_timeout)
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
    drivers.bound_waits(engine, statement_timeout=statement_timeout)
    return engine


class ReadOnlySession(Session):
    """A session for work that only reads: a flush (and so a commit) with changes
    pending raises instead of writing them. The API gives one to every GET, HEAD and
    OPTIONS request, whose statements run without a transaction around them."""

    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise ReadOnlySessionError(READ_ONLY)
        super().flush(objects)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        # INSERT, UPDATE and DELETE statements, which no flush sees.
        if getattr(statement, "is_dml", False):
            raise ReadOnlySessionError(READ_ONLY)
        return super().execute(statement, *args, **kwargs)


READ_ONLY = (
    "this session only reads: a handler of a safe method (GET, HEAD, OPTIONS) that "
    "writes must say so (app/web/db.py: @transactional or @autocommit)"
)


class ReadOnlySessionError(RuntimeError):
    pass


def create_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after the request commits,
    # so responses are serialised without a second round trip.
    cls = ReadOnlySession if read_only else Session
    return sessionmaker(bind=engine, class_=cls, expire_on_commit=False, autoflush=False)
