"""The request id of the work in hand, wherever it runs: set by the API for each
request and by the worker for each task the API enqueued, read by the queue (which
passes it on in the task's message headers), by the log lines and by error tracking.

A context variable rather than Flask's `g`, so the Flask-free core and the worker
share it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar, Token

# The task message header that carries it from the API to the worker.
MESSAGE_HEADER = "request_id"
VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    return _current.get()


def well_formed(value: object) -> str | None:
    """`value` when it can be a request id, else None (a header is untrusted input)."""
    return value if isinstance(value, str) and VALID.match(value) else None


def bind(value: str | None) -> Token[str | None]:
    """`value` is the current request id until `unbind` is given the token."""
    return _current.set(value)


def unbind(token: Token[str | None]) -> None:
    # A token from another context (a copied one): the binding ends with it.
    with suppress(ValueError):
        _current.reset(token)


@contextmanager
def bound(value: str | None) -> Iterator[None]:
    """`value` is the current request id inside the block (None: there is none)."""
    token = bind(value)
    try:
        yield
    finally:
        unbind(token)


class RequestIdFilter(logging.Filter):
    """Gives each record `request` (" [request <id>]", or "" outside a request or a
    job it enqueued), which the log format shows, and `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        value = current()
        record.request_id = value
        record.request = f" [request {value}]" if value else ""
        return True
