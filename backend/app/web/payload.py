"""Reading a body that may come as a form (OAuth2 clients, Swagger UI) or as JSON."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHUNK = 64 * 1024


def form_or_json() -> Mapping[str, Any]:
    """The form fields, or the JSON object; empty when the body is neither."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return data if isinstance(data, Mapping) else {}


def _read_body_within_limit() -> None:
    """Read the body once, before anything else does. One over MAX_CONTENT_LENGTH
    (chunked too, where no length is announced) is refused here with a 413, instead
    of failing inside the rate limiter's key function: the limiter takes any error
    there for its store being down and falls back to counting in this process."""
    if request.method not in BODY_METHODS:
        return
    environ = request.environ
    if "CONTENT_LENGTH" not in environ and environ.get("wsgi.input_terminated"):
        _buffer_unannounced_body(environ, current_app.config["MAX_CONTENT_LENGTH"])
    request.get_data(cache=True)


def _buffer_unannounced_body(environ: dict[str, Any], limit: int) -> None:
    """A body sent without Content-Length (chunked), read up to one byte past the
    limit: werkzeug stops reading such a body at the limit and passes it on cut
    short, as if it were whole. Within the limit, it is handed on with its length."""
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    body = b"".join(chunks)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def init_app(app: Flask) -> None:
    """Before the rate limiter's own check: register it first."""
    app.before_request(_read_body_within_limit)
