"""The base of every worker task: it binds the request id the API sent in the
task's message headers (app.queue) for as long as the task runs, so that the
task's log lines and error-tracking events carry it."""

from __future__ import annotations

from typing import Any

from celery import Task

from app.core import request_context


def message_request_id(task: Task) -> str | None:
    """The request id in the running task's message headers, if well formed: a
    worker reads it as a request attribute, `apply()` (tests) under `headers`."""
    value = getattr(task.request, request_context.MESSAGE_HEADER, None)
    if value is None:
        value = (getattr(task.request, "headers", None) or {}).get(request_context.MESSAGE_HEADER)
    return request_context.well_formed(value)


class ContextTask(Task):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with request_context.bound(message_request_id(self)):
            return super().__call__(*args, **kwargs)
