"""A request id on every request: taken from a trusted proxy's X-Request-ID or made
here, returned in the response, and bound for the request's duration
(app.core.request_context) so that its log lines, the tasks it enqueues and its
error-tracking events carry it: a user's report can be matched to all of them.
The authenticated user (app.web.auth binds them) is unbound at the same time, and
the client's address and user agent are bound beside it (the audit log reads them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request

from app.core import request_context

HEADER = "X-Request-ID"


def current() -> str:
    value = g.get("request_id")
    if value is None:
        value = request_context.well_formed(request.headers.get(HEADER)) or uuid.uuid4().hex
        g.request_id = value
    return str(value)


def _bind() -> None:
    g.request_id_token = request_context.bind(current())
    g.user_id_token = request_context.bind_user(None)
    # remote_addr is the client as the trusted proxies say (PROXY_COUNT, ProxyFix),
    # the same address the rate limits count.
    g.client_token = request_context.bind_client(
        request.remote_addr, request.headers.get("User-Agent")
    )
    g.scope_token = request_context.bind_scope(None)


# What _bind binds, by its key in `g`, and how each binding ends.
_UNBINDS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("request_id_token", request_context.unbind),
    ("user_id_token", request_context.unbind_user),
    ("client_token", request_context.unbind_client),
    ("scope_token", request_context.unbind_scope),
)


def _unbind(_: BaseException | None) -> None:
    for key, unbind in _UNBINDS:
        token = g.pop(key, None)
        if token is not None:
            unbind(token)


def _add_header(response: Response) -> Response:
    response.headers[HEADER] = current()
    return response


def init_app(app: Flask) -> None:
    # First, so that the other hooks' log lines carry it too.
    app.before_request_funcs.setdefault(None, []).insert(0, _bind)
    app.after_request(_add_header)
    app.teardown_request(_unbind)
