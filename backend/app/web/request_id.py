"""A request id on every request: taken from a trusted proxy's X-Request-ID or made
here, returned in the response and written in error logs, so a user's report can
be matched to the log line."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current() -> str:
    value = g.get("request_id")
    if value is None:
        incoming = request.headers.get(HEADER, "")
        value = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        g.request_id = value
    return str(value)


def _add_header(response: Response) -> Response:
    response.headers[HEADER] = current()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_header)
