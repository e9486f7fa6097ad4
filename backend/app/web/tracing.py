"""The API's request spans (OpenTelemetry's Flask instrumentation): imported only
once tracing is on (app.core.tracing)."""

from __future__ import annotations

from flask import Flask
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.trace import Span

from app.core import tracing
from app.web.request_id import HEADER

REQUEST_ID_ATTRIBUTE = "app.request_id"


def instrument(app: Flask) -> None:
    """A server span per request, around everything else the app does (call it
    last), with the request's id: the same as in the logs and the job."""
    FlaskInstrumentor.instrument_app(
        app, tracer_provider=tracing.provider(), response_hook=_with_request_id
    )


def _with_request_id(span: Span, _status: str, headers: list[tuple[str, str]]) -> None:
    if span.is_recording():
        for name, value in headers:
            if name.lower() == HEADER.lower():
                span.set_attribute(REQUEST_ID_ATTRIBUTE, value)
