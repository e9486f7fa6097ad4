"""Reading a body that may come as a form (OAuth2 clients, Swagger UI) or as JSON."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHUNK = 64 * 1024
# A refused body is read to its end up to this size, so the connection ends cleanly.
DISCARD_AT_MOST = 16 * 1024 * 1024


def form_or_json() -> Mapping[str, Any]:
    """The form fields, or the JSON object; empty when the body is neither."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return data if isinstance(data, Mapping) else {}


class BodyLimit:
    """WSGI middleware: a body over MAX_CONTENT_LENGTH is refused with a 413 only
    once it has been received, and a body sent without Content-Length (chunked) is
    measured like one that announces it.

    werkzeug refuses an announced body at its first read without reading it, and
    would read a chunked one only up to the limit and pass it on cut short, as if
    whole. A server that answers before the body is in closes the connection on
    the unread rest, and the kernel resets it: a proxy still sending the body
    (Traefik) then reports a 502 instead of our 413. So the rest is read and
    dropped first, up to DISCARD_AT_MOST; past that the connection is given up."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in BODY_METHODS:
            stream = environ["wsgi.input"]
            announced = _announced_length(environ)
            if not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
                body = _read_up_to(stream, self.limit + 1)
                # Now a body of known length: werkzeug ignores Content-Length while
                # Transfer-Encoding says chunked.
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                environ["CONTENT_LENGTH"] = str(len(body))
                if len(body) > self.limit:
                    # Handed on empty, announcing its size: its first read is a 413.
                    _discard(stream, DISCARD_AT_MOST)
                    body = b""
                environ["wsgi.input"] = io.BytesIO(body)
            elif self.limit < announced <= DISCARD_AT_MOST:
                _discard(stream, announced)
                environ["wsgi.input"] = io.BytesIO(b"")
        return self.app(environ, start_response)


def _announced_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # werkzeug treats it as no body


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


def _discard(stream: Any, size: int) -> None:
    read = 0
    while read < size:
        chunk = stream.read(min(CHUNK, size - read))
        if not chunk:
            return
        read += len(chunk)
