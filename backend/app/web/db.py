"""The request's database session: opened on first use, closed when the request ends.

Handlers commit explicitly; anything left uncommitted is rolled back at the end.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from app.runtime import Runtime


def runtime() -> Runtime:
    value = current_app.extensions["runtime"]
    assert isinstance(value, Runtime)
    return value


def session() -> Session:
    value = g.get("db_session")
    if value is None:
        value = runtime().session_factory()
        g.db_session = value
    assert isinstance(value, Session)
    return value


def _close(_exc: BaseException | None) -> None:
    value = g.pop("db_session", None)
    if value is not None:
        value.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
