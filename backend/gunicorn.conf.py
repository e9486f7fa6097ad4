"""gunicorn settings for the API. Environment variables override the defaults:
WEB_CONCURRENCY (worker processes), GUNICORN_THREADS, GUNICORN_TIMEOUT.

Measured with `make bench` (docs/performance.md): on 2 cores, sync workers, one
per core, served the API as fast as threaded (gthread) workers or a third
process, within run-to-run noise; granian served it faster than any of them.
GUNICORN_THREADS above 1 switches to gthread workers. Each thread may hold a
database connection, so it must not exceed DATABASE_POOL_SIZE: past the pool,
connections are opened and closed per request, and past the overflow, requests
wait for one.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count())
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
_pool_size = _int("DATABASE_POOL_SIZE", 10)  # the default of app.core.config
if threads > _pool_size:
    raise ValueError(
        f"GUNICORN_THREADS={threads} exceeds DATABASE_POOL_SIZE={_pool_size}: "
        "give each thread of a worker a pooled database connection"
    )
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
# Logs go to stderr, access lines included, for the container runtime to collect.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
