"""The API's Prometheus metrics, served at `GET /metrics` on the server's own port.

Outside /api: the proxy routes /api alone, so the public site never shows them
(its /metrics is the frontend's). Not in the API's docs, not rate-limited. Across
granian's worker processes (app/web/server.py prepares prometheus_client's
multiprocess directory), else this process's own.

    http_requests_total{method,route,status}   requests answered
    http_request_duration_seconds{method,route} time to the answer
    http_requests_in_progress                  requests being served now
    db_pool_connections{state}                 the pools' checked out connections and size
    jobs_created_total{kind}                   jobs started through the API

`route` is the URL rule's template (/api/v1/users/<int:user_id>), never the raw
path, whose every id would be a series of its own; "unmatched" when no rule took
it (404). Methods outside HTTP's own are counted as "other", for the same reason.

A WSGI middleware, like app/web/response_headers.py: it sees every request,
whatever a hook answered; Flask's teardown (which always runs) leaves it the
route in the WSGI environ.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import Engine, event

from app.core import metrics
from app.runtime import Runtime

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PATH = "/metrics"
UNMATCHED = "unmatched"
ROUTE_KEY = "app.metrics.route"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to its answer",
    ["method", "route"],
)
IN_PROGRESS = Gauge(
    "http_requests_in_progress", "HTTP requests being served", multiprocess_mode="livesum"
)
DB_POOL = Gauge(
    "db_pool_connections",
    "Database connections: checked out of the pools, and the pools' size",
    ["state"],
    multiprocess_mode="livesum",
)
JOBS_CREATED = Counter("jobs_created_total", "Jobs created through the API", ["kind"])


def job_created(kind: str) -> None:
    JOBS_CREATED.labels(kind=kind).inc()


class Metrics:
    """Counts and times every request the app answers."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        # The labelled children, kept: prometheus_client's labels() validates and
        # locks on every call, which costs more than the increments themselves.
        self._requests: dict[tuple[str, str, str], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        status = "500"

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status
            status = code[:3]
            return start_response(code, headers, exc_info)

        IN_PROGRESS.inc()
        try:
            return self.app(environ, start)
        finally:
            IN_PROGRESS.dec()
            method = environ.get("REQUEST_METHOD", "")
            if method not in METHODS:
                method = "other"
            self._record(
                method, environ.get(ROUTE_KEY, UNMATCHED), status, time.perf_counter() - started
            )

    def _record(self, method: str, route: str, status: str, seconds: float) -> None:
        counter = self._requests.get((method, route, status))
        if counter is None:
            counter = self._requests[(method, route, status)] = REQUESTS.labels(
                method, route, status
            )
        histogram = self._latency.get((method, route))
        if histogram is None:
            histogram = self._latency[(method, route)] = LATENCY.labels(method, route)
        counter.inc()
        histogram.observe(seconds)


def _remember_route(_exc: BaseException | None) -> None:
    rule = request.url_rule
    if rule is not None:
        request.environ[ROUTE_KEY] = rule.rule


def expose() -> Response:
    """The metrics in Prometheus's text format."""
    directory = metrics.multiprocess_directory()
    if directory is None:
        registry = REGISTRY
    else:
        metrics.forget_dead_processes(directory)
        registry = metrics.multiprocess_registry(directory)
    # The text format every Prometheus 2 reads.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def watch_pool(engine: Engine) -> None:
    """Keep db_pool_connections up to date from the pool's own events."""
    checked_out = DB_POOL.labels(state="checked_out")
    size = getattr(engine.pool, "size", None)
    DB_POOL.labels(state="size").set(size() if callable(size) else 0)
    event.listen(engine, "checkout", lambda *_: checked_out.inc())
    event.listen(engine, "checkin", lambda *_: checked_out.dec())


def init_app(app: Flask, runtime: Runtime) -> None:
    if not runtime.settings.METRICS_ENABLED:
        return
    app.wsgi_app = Metrics(app.wsgi_app)  # type: ignore[method-assign]
    app.teardown_request(_remember_route)
    app.add_url_rule(PATH, endpoint="metrics", view_func=expose, methods=["GET"])
    watch_pool(runtime.engine)
