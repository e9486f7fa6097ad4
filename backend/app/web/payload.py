"""Reading a body that may come as a form (OAuth2 clients, Swagger UI) or as JSON."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHUNK = 64 * 1024


def form_or_json() -> Mapping[str, Any]:
    """The form fields, or the JSON object; empty when the body is neither."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return data if isinstance(data, Mapping) else {}


class UnannouncedBodies:
    """WSGI middleware: a body sent without Content-Length (chunked) is read here, up
    to one byte past the limit, and handed on with its length. werkzeug would read
    such a body only up to MAX_CONTENT_LENGTH and pass it on cut short, as if whole;
    one over the limit is handed on empty, announcing its size, so that the first
    read of it is refused with a 413 as for any announced body."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") in BODY_METHODS
            and not environ.get("CONTENT_LENGTH")
            and environ.get("wsgi.input_terminated")
        ):
            body = _read_up_to(environ["wsgi.input"], self.limit + 1)
            # Now a body of known length: werkzeug ignores Content-Length while
            # Transfer-Encoding says chunked.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(b"" if len(body) > self.limit else body)
        return self.app(environ, start_response)


def _read_up_to(stream: Any, size: int) -> bytes:
    chunks: list[bytes] = []
    read = 0
    while read < size:
        chunk = stream.read(min(CHUNK, size - read))
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
    return b"".join(chunks)
