"""Logging set-up shared by the API, the CLI and the worker: one handler on the
root logger, through which every record passes (ours, Celery's, granian's,
werkzeug's), formatted by structlog's pipeline.

LOG_FORMAT=text: one readable line per record, colored when stderr is a terminal.
LOG_FORMAT=json: one JSON object per line, for a log collector:

    {"time": "2026-12-06T21:04:05.123Z", "level": "info", "logger": "app.access",
     "message": "GET /api/v1/users/<int:user_id> 200", "request_id": "...",
     "user_id": 3, "method": "GET", "route": "/api/v1/users/<int:user_id>",
     "status": 200, "duration_ms": 4.2, "bytes": 181}

`time` is ISO 8601 in UTC; `level` is lower case; `request_id`, `user_id`,
`job_id` and `job_kind` are there when known (app.core.request_context), the
access log's fields on its lines (app.web.access_log), `exception` with the
traceback of a record that has one. Messages are what the code wrote: never a
password, a token or a link that carries one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal

import structlog

from app.core import request_context

LogFormat = Literal["text", "json"]

# The work in hand, set on every record (`record.request_id`, ...), None when unknown.
CONTEXT_FIELDS = ("request_id", "user_id", "job_id", "job_kind")
# What a record may carry in `extra=` to become fields of its line (the access log's).
EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "bytes")
# The first keys of a JSON line, in this order; the others follow.
LEADING_KEYS = ("time", "level", "logger", "message")
# Libraries whose verbose levels print data (SQLAlchemy: every statement and its
# parameters): never below this, whatever LOG_LEVEL says.
QUIETER = {"sqlalchemy.engine": logging.WARNING, "sqlalchemy.pool": logging.WARNING}

EventDict = MutableMapping[str, Any]
RecordFactory = Callable[..., logging.LogRecord]


def _context_record_factory(base: RecordFactory) -> RecordFactory:
    """A LogRecord factory that also records the work in hand: each record carries it
    from its creation, whichever handler (or test) reads it."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = base(*args, **kwargs)
        known = request_context.fields()
        for name in CONTEXT_FIELDS:
            setattr(record, name, known.get(name))
        return record

    factory.adds_context = True  # type: ignore[attr-defined]
    return factory


def _record_time(_: Any, __: str, event: EventDict) -> EventDict:
    """When the record was made (not when formatted), ISO 8601 in UTC."""
    record = event.get("_record")
    moment = datetime.fromtimestamp(record.created, UTC) if record else datetime.now(UTC)
    event["time"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return event


def _drop_unknown(_: Any, __: str, event: EventDict) -> EventDict:
    for key in [key for key, value in event.items() if value is None]:
        del event[key]
    return event


def _drop_extra_fields(_: Any, __: str, event: EventDict) -> EventDict:
    """The text format's access lines: the message says it all already."""
    for key in EXTRA_FIELDS:
        event.pop(key, None)
    return event


def _leading_keys_first(_: Any, __: str, event: EventDict) -> EventDict:
    ordered = {key: event.pop(key) for key in LEADING_KEYS if key in event}
    return ordered | dict(event)


def _shared_processors() -> list[Any]:
    """What every record goes through, whatever the format."""
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=CONTEXT_FIELDS + EXTRA_FIELDS),
        _drop_unknown,
        _record_time,
        structlog.processors.StackInfoRenderer(),
    ]


def _renderers(log_format: LogFormat) -> list[Any]:
    if log_format == "json":
        return [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _leading_keys_first,
            structlog.processors.JSONRenderer(),
        ]
    return [
        _drop_extra_fields,
        structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            timestamp_key="time",
            # Plain: rich's tracebacks show local variables, passwords among them.
            exception_formatter=structlog.dev.plain_traceback,
        ),
    ]


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of the root handler: structlog's pipeline for stdlib records."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_renderers(log_format),
        ],
    )


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Set up (or, called again, adjust) the root handler: idempotent, so the app
    factory, the worker and the CLI may each call it."""
    if not getattr(logging.getLogRecordFactory(), "adds_context", False):
        logging.setLogRecordFactory(_context_record_factory(logging.getLogRecordFactory()))
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_app_handler", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._app_handler = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))
    # Python's warnings too (logger py.warnings), instead of lines of their own.
    logging.captureWarnings(True)
    root.setLevel(level.upper())
    for name, floor in QUIETER.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
