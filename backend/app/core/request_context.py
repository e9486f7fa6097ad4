"""The request id of the work in hand, wherever it runs: set by the API for each
request and by the worker for each task the API enqueued, read by the queue (which
passes it on in the task's message headers), by the log lines and by error tracking.
Beside it, for the log lines: the authenticated user of a request, and the job a
worker runs; for the audit log, the client's address and user agent; for the
permission checks, the limits of the credential the request authenticated with (a
personal access token's).

Context variables rather than Flask's `g`, so the Flask-free core and the worker
share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar, Token

# The task message header that carries it from the API to the worker.
MESSAGE_HEADER = "request_id"
VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
_job: ContextVar[tuple[int, str | None] | None] = ContextVar("job", default=None)
_client: ContextVar[tuple[str | None, str | None]] = ContextVar("client", default=(None, None))
# (user id, permission names): the user acts with at most these permissions.
_scope: ContextVar[tuple[int, frozenset[str]] | None] = ContextVar("scope", default=None)


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


def user_id() -> int | None:
    return _user_id.get()


def bind_user(value: int | None) -> Token[int | None]:
    """`value` is the authenticated user's id until `unbind_user` is given the token."""
    return _user_id.set(value)


def unbind_user(token: Token[int | None]) -> None:
    with suppress(ValueError):
        _user_id.reset(token)


def client() -> tuple[str | None, str | None]:
    """The address (as the trusted proxies give it) and user agent of the request's
    client; (None, None) outside a request."""
    return _client.get()


def bind_client(ip: str | None, user_agent: str | None) -> Token[tuple[str | None, str | None]]:
    return _client.set((ip, user_agent))


def unbind_client(token: Token[tuple[str | None, str | None]]) -> None:
    with suppress(ValueError):
        _client.reset(token)


def scope(user_id: int) -> frozenset[str] | None:
    """The permissions the request's credential limits this user to; None: no limit
    (a password login's tokens). Another user than the request's is never limited."""
    value = _scope.get()
    return value[1] if value is not None and value[0] == user_id else None


def bind_scope(
    value: tuple[int, frozenset[str]] | None,
) -> Token[tuple[int, frozenset[str]] | None]:
    """The user (by id) acts with at most these permissions until `unbind_scope`."""
    return _scope.set(value)


def unbind_scope(token: Token[tuple[int, frozenset[str]] | None]) -> None:
    with suppress(ValueError):
        _scope.reset(token)


def job() -> tuple[int, str | None] | None:
    """The id and kind (once known) of the job being run, if any."""
    return _job.get()


@contextmanager
def job_bound(job_id: int) -> Iterator[None]:
    """The job being run inside the block; `set_job_kind` adds its kind once known."""
    token = _job.set((job_id, None))
    try:
        yield
    finally:
        with suppress(ValueError):
            _job.reset(token)


def set_job_kind(kind: str) -> None:
    current_job = _job.get()
    if current_job is not None:
        _job.set((current_job[0], kind))


def fields() -> dict[str, object]:
    """What the log lines carry of the work in hand: only what is known."""
    values: dict[str, object] = {"request_id": _current.get(), "user_id": _user_id.get()}
    current_job = _job.get()
    if current_job is not None:
        values |= {"job_id": current_job[0], "job_kind": current_job[1]}
    return {key: value for key, value in values.items() if value is not None}
