"""Logging set-up shared by the API, the CLI and the worker."""

from __future__ import annotations

import logging
import sys

from app.core.request_context import RequestIdFilter

# `request`: the request id of the API request or of the job it enqueued, if any.
FORMAT = "%(asctime)s %(levelname)s [%(name)s]%(request)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_app_handler", False) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    handler._app_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
