"""The base of every worker task: it binds the request id the API sent in the
task's message headers (app.queue) for as long as the task runs, so that the
task's log lines and error-tracking events carry it, and counts and times the
task for the node's metrics (app.workers.metrics)."""

from __future__ import annotations

import time
from typing import Any

from celery import Task
from celery.exceptions import Retry

from app.core import request_context

from . import metrics


def message_request_id(task: Task) -> str | None:
    """The request id in the running task's message headers, if well formed: a
    worker reads it as a request attribute, `apply()` (tests) under `headers`."""
    value = getattr(task.request, request_context.MESSAGE_HEADER, None)
    if value is None:
        value = (getattr(task.request, "headers", None) or {}).get(request_context.MESSAGE_HEADER)
    return request_context.well_formed(value)


class ContextTask(Task):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        kind = metrics.kind_of(self)
        ended: tuple[str, str] | None = (kind, metrics.FAILED)
        try:
            with request_context.bound(message_request_id(self)):
                result = super().__call__(*args, **kwargs)
            ended = metrics.outcome(self, kind)
            return result
        except Retry:
            ended = (kind, metrics.RETRIED)
            raise
        finally:
            if ended is not None:
                metrics.finished(*ended, time.perf_counter() - started)
