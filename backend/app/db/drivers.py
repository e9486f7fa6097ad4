"""Deadlines on every database call, per driver: a database that stops answering
fails the call within a bounded time instead of holding its request forever.

- PostgreSQL (psycopg 3): libpq's `connect_timeout`, the server's
  `statement_timeout`, and a client-side deadline on every wait for the server
  (`DeadlineConnection`): libpq itself has no read timeout, so a server that
  accepted the query and then fell silent (a network partition, a frozen host)
  would otherwise be waited for forever.
- MariaDB (PyMySQL): `connect_timeout`, `read_timeout`, `write_timeout`, and the
  server's `max_statement_time`.
- SQLite: `busy_timeout`, how long to wait for another writer's lock.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL

RV = TypeVar("RV")

# Beyond the server's own statement timeout, how long the client waits for an
# answer: long enough for the server's cancellation to arrive first.
CLIENT_MARGIN_SECONDS = 1.0


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server has a deadline.

    psycopg consumes each operation (query, fetch, commit) through `wait()`, which
    takes a timeout (psycopg 3.3) but is given none by those operations. This
    supplies one. When it passes, the connection's state is unknown (a query may be
    running): it is closed, so SQLAlchemy sees a disconnect, discards it from the
    pool and the next checkout connects afresh. Checked against psycopg 3.3
    (pinned below 3.4 in pyproject.toml); tests/faults/ hang a real server to
    prove it still works.
    """

    read_timeout: float | None = None

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        # 0.1: psycopg's own interval, how often a wait checks for Ctrl-C.
        timeout = timeout if timeout is not None else self.read_timeout
        try:
            return super().wait(gen, interval, timeout)
        except pg_errors._WaitTimeout as exc:
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {timeout:g} s"
            ) from exc


def connect_args(url: URL, *, connect_timeout: int, statement_timeout: float) -> dict[str, Any]:
    """The driver's connection arguments that bound its waits."""
    backend = url.get_backend_name()
    client_timeout = statement_timeout + CLIENT_MARGIN_SECONDS if statement_timeout else None
    if backend == "postgresql":
        args: dict[str, Any] = {"connect_timeout": connect_timeout}
        if statement_timeout:
            options = f"-c statement_timeout={math.ceil(statement_timeout * 1000)}"
            given = url.query.get("options")
            args["options"] = f"{given} {options}" if isinstance(given, str) else options
        return args
    if backend in ("mysql", "mariadb"):
        args = {"connect_timeout": connect_timeout}
        if client_timeout:
            args |= {"read_timeout": client_timeout, "write_timeout": client_timeout}
        if statement_timeout and backend == "mariadb":
            # MariaDB's own limit (MySQL's max_execution_time covers SELECTs only).
            args["init_command"] = f"SET SESSION max_statement_time={statement_timeout:g}"
        return args
    return {}


def bound_waits(engine: Engine, *, statement_timeout: float) -> None:
    """Install the client-side deadline where the driver has no setting for it."""
    if engine.dialect.driver != "psycopg" or not statement_timeout:
        return
    read_timeout = statement_timeout + CLIENT_MARGIN_SECONDS

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> DeadlineConnection:
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.read_timeout = read_timeout
        return connection


def sqlite_busy_timeout_ms(statement_timeout: float) -> int:
    """How long SQLite waits for another writer's lock: the statement timeout, or
    5 s when there is none (a lock is never held for long by this app)."""
    return math.ceil((statement_timeout or 5) * 1000)
