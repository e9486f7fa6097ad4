"""One log line per request (logger `app.access`, WEB_ACCESS_LOG): method, route
template, status, duration and response size, with the request id and the user
like every line of the request (app.core.logging).

The route is the URL rule (`/api/v1/users/<int:user_id>`), "unmatched" when no
rule matched: never the raw path or its query string, which may carry ids or a
token.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

logger = logging.getLogger("app.access")
# Prometheus's scrapes of /metrics (app/web/metrics.py), every 15 s from each
# Prometheus: left out, they would be most of a quiet API's log.
SCRAPE_ENDPOINT = "metrics"


def _start() -> None:
    g.access_started = time.perf_counter()


def _log(response: Response) -> Response:
    if request.endpoint == SCRAPE_ENDPOINT:
        return response
    started = g.get("access_started")
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    # None for a streamed body, whose size is not known yet.
    size = response.calculate_content_length()
    logger.info(
        "%s %s %s in %s ms, %s bytes",
        request.method,
        route,
        response.status_code,
        duration_ms,
        "?" if size is None else size,
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "bytes": size,
        },
    )
    return response


def init_app(app: Flask, *, enabled: bool = True) -> None:
    if not enabled:
        return
    # First of the before-request hooks, so the duration covers the others (rate
    # limits, authentication).
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # Registered before the other after-request hooks run last: the status is final.
    app.after_request_funcs.setdefault(None, []).insert(0, _log)
