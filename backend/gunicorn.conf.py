"""gunicorn settings for the API. Environment variables override the defaults:
WEB_CONCURRENCY (worker processes), GUNICORN_THREADS, GUNICORN_TIMEOUT.

Measured with `make bench` (docs/performance.md): on 2 cores, sync workers, one
per core, serve the API faster than threaded (gthread) workers or more processes.
GUNICORN_THREADS above 1 switches to gthread workers, for deployments whose
requests wait longer on the database than here; each thread may hold a database
connection, so it must not exceed DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count())
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
_connections = _int("DATABASE_POOL_SIZE", 10) + _int("DATABASE_MAX_OVERFLOW", 5)
if threads > _connections:
    raise ValueError(
        f"GUNICORN_THREADS={threads} exceeds the database connections a worker may open "
        f"({_connections}, DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW): requests would "
        "queue for a connection and time out"
    )
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
# Logs go to stderr, access lines included, for the container runtime to collect.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
