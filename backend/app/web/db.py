"""The request's database session: opened on first use, closed when the request ends.

Handlers commit explicitly; anything left uncommitted is rolled back at the end.
Requests that only read (GET, HEAD, OPTIONS) and handlers marked `@autocommit`
get a session whose statements each commit on their own instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

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
        rt = runtime()
        value = (rt.autocommit_sessions if _autocommit() else rt.session_factory)()
        g.db_session = value
    assert isinstance(value, Session)
    return value


def _autocommit() -> bool:
    if g.get("db_autocommit"):
        return True
    return has_request_context() and request.method in READ_ONLY_METHODS


def autocommit(handler: Callable[P, R]) -> Callable[P, R]:
    """Run the handler's statements each in a transaction of its own (AUTOCOMMIT),
    which spares the BEGIN and COMMIT round trips. Only for handlers whose every
    write is one statement that stands alone: nothing is rolled back when they fail
    after writing. The request's session must not be open yet."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if "db_session" in g:
            raise RuntimeError("@autocommit: the request's session was opened before the handler")
        g.db_autocommit = True
        return handler(*args, **kwargs)

    return wrapper


def _close(_exc: BaseException | None) -> None:
    value = g.pop("db_session", None)
    if value is not None:
        value.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
