"""The production HTTP server: granian's WSGI interface serving `create_app()`.

    python -m app.web.server [--host 0.0.0.0] [--port 8000] [--reload]

What `make api`, `make dev`, the backend image and the live tests run. Settings
come from the environment, as for the app: WEB_CONCURRENCY (worker processes,
default one per core), WEB_THREADS (threads per worker serving requests,
default 2, at most DATABASE_POOL_SIZE). Why granian and these numbers:
docs/performance.md. Granian's own lines go through the app's logging
(app/core/logging.py); its access log stays off: the app writes one line per
request (app/web/access_log.py, WEB_ACCESS_LOG) with the route and request id,
which granian does not know.

Under `make dev`, the server starts while the database is being prepared: its
worker imports the app meanwhile, and serves once SETUP_DONE_FILE appears
(app/devtools/supervisor.py's --during-setup), so no request meets a schema
half migrated.

With METRICS_ENABLED, this process prepares the directory in which the workers
write their metrics (app/core/metrics.py), empty, before it starts them: each
scrape of /metrics, whichever worker answers it, sums them all.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

from granian import Granian
from granian.constants import Interfaces
from granian.server import MPServer, MTServer

from app.core import metrics
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger("app.web.server")

APP_DIR = Path(__file__).resolve().parents[1]
TARGET = "app.web.application:create_app"
SETUP_TARGET = "app.web.server:create_app_after_setup"
# Seconds a worker gets to finish its requests on shutdown or reload before it
# is killed: Swarm's and compose's stop grace period is 10 s by default.
KILL_TIMEOUT = 8
# Granian's loggers hand their records to the root handler (configure_logging)
# instead of printing them in a format of their own.
GRANIAN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {},
    "handlers": {},
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    },
}


def worker_count(settings: Settings) -> int:
    return settings.WEB_CONCURRENCY or os.cpu_count() or 1


def check(settings: Settings) -> None:
    """Refuse settings under which requests would queue for a database connection."""
    if settings.WEB_THREADS > settings.DATABASE_POOL_SIZE:
        raise SystemExit(
            f"WEB_THREADS={settings.WEB_THREADS} exceeds DATABASE_POOL_SIZE="
            f"{settings.DATABASE_POOL_SIZE}: give each thread of a worker a pooled connection"
        )


def announce_rate_limits(settings: Settings, processes: int) -> None:
    """Say where the rate limits are counted: without a shared store each server
    process counts its own, so every limit is multiplied by their number."""
    if not settings.RATE_LIMIT_ENABLED:
        logger.info("rate limits: off (RATE_LIMIT_ENABLED=false)")
    elif settings.rate_limit_storage_url != "memory://":
        store = settings.rate_limit_storage_url.split("://", 1)[0]
        logger.info("rate limits: counted in %s, shared by every server process", store)
    elif processes > 1:
        logger.warning(
            "rate limits: counted in each process's memory (no RATE_LIMIT_STORAGE_URL or "
            "REDIS_URL), so with %d server processes every limit lets up to %d times as "
            "many requests through; set REDIS_URL to share them",
            processes,
            processes,
        )
    else:
        logger.info("rate limits: counted in memory (one server process)")


def refuse_a_port_in_use(host: str, port: int) -> None:
    """Stop when another program listens on the port. granian binds with
    SO_REUSEPORT, so a second server on a port in use would not fail: the system
    would hand each connection to one or the other (an old server's code, say)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Connections of a server just stopped (TIME_WAIT) do not hold the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"cannot serve on {host}:{port}: {exc.strerror or exc}: another program "
                "(an API server still running?) listens there; API_PORT moves make api's port"
            ) from None


def create_app_after_setup() -> Flask:
    """The app, returned to the worker once SETUP_DONE_FILE exists."""
    from app.web.application import create_app  # in the worker only

    app = create_app()
    done = Path(os.environ["SETUP_DONE_FILE"])
    while not done.exists():
        time.sleep(0.05)
    return app


def build(settings: Settings, *, host: str, port: int, reload: bool = False) -> MPServer | MTServer:
    check(settings)
    return Granian(
        SETUP_TARGET if os.environ.get("SETUP_DONE_FILE") else TARGET,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        # Explicit: granian's default for WSGI is hundreds of threads per worker,
        # far past the database pool (docs/performance.md).
        blocking_threads=settings.WEB_THREADS,
        workers=1 if reload else worker_count(settings),
        websockets=False,
        log_dictconfig=GRANIAN_LOGGING,
        log_access=False,
        # A worker that dies (out of memory, a crash in C code) is replaced.
        respawn_failed_workers=True,
        workers_kill_timeout=KILL_TIMEOUT,
        reload=reload,
        reload_paths=[APP_DIR],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.web.server", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a container's interface)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--reload", action="store_true", help="one worker, restarted when app/ changes (dev)"
    )
    args = parser.parse_args(argv)
    if args.reload:
        # A reloaded worker must import the code anew. Forked (Linux's default), it
        # would inherit this process's modules, and serve the old code however often
        # it is restarted: spawned, it starts from a fresh interpreter.
        multiprocessing.set_start_method("spawn", force=True)
    refuse_a_port_in_use(args.host, args.port)
    settings = get_settings()
    configure_logging(settings.LOG_LEVEL, settings.log_format)
    server = build(settings, host=args.host, port=args.port, reload=args.reload)
    if settings.METRICS_ENABLED:
        # Before any worker starts, as they inherit it; a reloaded worker keeps it,
        # so its counters go on from where the previous one left them.
        metrics.prepare_multiprocess_directory("api-metrics-")
    announce_rate_limits(settings, server.workers)
    try:
        server.serve()
    except RuntimeError as exc:
        # granian reports a failed bind as a RuntimeError carrying a Rust backtrace.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SystemExit(f"cannot serve on {args.host}:{args.port}: {reason}") from None


if __name__ == "__main__":
    main()
