"""The request's database session: opened on first use, closed when the request ends.

Handlers commit explicitly; anything left uncommitted is rolled back at the end.
Requests that only read (GET, HEAD, OPTIONS) get a session without a transaction
(no BEGIN/ROLLBACK round trips) that refuses to write: a handler of a safe method
that writes says so with `@transactional` (a session like a POST's) or
`@autocommit` (single statements each committing on their own, as a POST can use
too). Every resource gets this without writing it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session, sessionmaker

from app.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")

# Safe methods only read: a transaction around their statements would only add
# the BEGIN and ROLLBACK round trips (each statement still reads committed data).
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    value = current_app.extensions["runtime"]
    assert isinstance(value, Runtime)
    return value


def session() -> Session:
    value = g.get("db_session")
    if value is None:
        value = _factory(runtime())()
        g.db_session = value
    assert isinstance(value, Session)
    return value


def _factory(rt: Runtime) -> sessionmaker[Session]:
    kind = g.get("db_session_kind")
    if kind == "autocommit":
        return rt.autocommit_sessions
    if kind == "transactional":
        return rt.session_factory
    if has_request_context() and request.method in READ_ONLY_METHODS:
        return rt.read_sessions
    return rt.session_factory


def autocommit(handler: Callable[P, R]) -> Callable[P, R]:
    """Run the handler's statements each in a transaction of its own (AUTOCOMMIT),
    which spares the BEGIN and COMMIT round trips. Only for handlers whose every
    write is one statement that stands alone: nothing is rolled back when they fail
    after writing. The request's session must not be open yet."""

    return _with_session_kind(handler, "autocommit")


def transactional(handler: Callable[P, R]) -> Callable[P, R]:
    """Give a handler of a safe method (GET, HEAD, OPTIONS) that writes the session
    a POST gets: one transaction, committed by the handler, else rolled back."""
    return _with_session_kind(handler, "transactional")


def _with_session_kind(handler: Callable[P, R], kind: str) -> Callable[P, R]:
    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if "db_session" in g:
            raise RuntimeError(f"@{kind}: the request's session was opened before the handler")
        g.db_session_kind = kind
        return handler(*args, **kwargs)

    return wrapper


def _close(_exc: BaseException | None) -> None:
    value = g.pop("db_session", None)
    if value is not None:
        value.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
