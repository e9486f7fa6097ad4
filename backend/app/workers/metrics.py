"""A worker node's Prometheus metrics, served on WORKER_METRICS_PORT (0: none).

    worker_tasks_total{kind,state}     tasks received, then succeeded, failed,
                                       cancelled or retried
    worker_task_duration_seconds{kind} how long each run took (each attempt of a
                                       retried task is one)
    worker_queue_depth{queue}          messages waiting in each of the node's queues

`kind` is a job's kind for `jobs.run` (the API sends it in the message's headers;
outcomes take it from the job), the task's name for the other tasks. A job's outcome is
the job's (a job that failed is a task that ran well). A job found finished or
cancelled before it started counts as received only.

The HTTP server runs in the node's main process, started when it starts
(`celeryd_init`: `celery worker` only, so beat and Flower serve nothing), and sums
the pool's processes through prometheus_client's multiprocess mode
(app/core/metrics.py). Queue depths are asked of the broker at each scrape,
within QUEUE_DEPTH_TIMEOUT: a broker that hangs leaves them out, never the scrape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from celery import Task
from prometheus_client import Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.core import metrics
from app.queue import JOB_KIND_HEADER

if TYPE_CHECKING:
    from .app import WorkerCelery

logger = logging.getLogger("worker")

RECEIVED, SUCCEEDED, FAILED, CANCELLED, RETRIED = (
    "received",
    "succeeded",
    "failed",
    "cancelled",
    "retried",
)
# Seconds a scrape waits for the broker's queue depths.
QUEUE_DEPTH_TIMEOUT = 2.0
# From e-mails sent in a second to jobs that run for JOB_TIME_LIMIT_SECONDS.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
# Where a task's outcome waits for its end (on the task's request).
_OUTCOME = "metrics_outcome"
# The node's metrics server, in the process that serves it.
_server: WSGIServer | None = None

TASKS = Counter("worker_tasks_total", "Tasks received, and how they ended", ["kind", "state"])
DURATION = Histogram(
    "worker_task_duration_seconds", "Time a task ran", ["kind"], buckets=DURATION_BUCKETS
)


def task_kind(task_name: str, headers: Any) -> str:
    """The job's kind named in the message's headers, else the task's name."""
    kind = headers.get(JOB_KIND_HEADER) if isinstance(headers, dict) else None
    return kind if isinstance(kind, str) and kind else task_name


def kind_of(task: Task) -> str:
    # A worker sees the message's headers as request attributes; `apply()` under `headers`.
    kind = getattr(task.request, JOB_KIND_HEADER, None)
    headers = {JOB_KIND_HEADER: kind} if kind else getattr(task.request, "headers", None)
    return task_kind(task.name, headers)


def received(kind: str) -> None:
    TASKS.labels(kind, RECEIVED).inc()


def finished(kind: str, state: str, seconds: float) -> None:
    TASKS.labels(kind, state).inc()
    DURATION.labels(kind).observe(seconds)


def set_outcome(task: Task, outcome: tuple[str, str] | None) -> None:
    """What the task's own body says of its end, `(kind, state)`, rather than how it
    returned; None: nothing to count (a job that was already finished)."""
    setattr(task.request, _OUTCOME, outcome)


def outcome(task: Task, kind: str) -> tuple[str, str] | None:
    return getattr(task.request, _OUTCOME, (kind, SUCCEEDED))


class QueueDepth(Collector):
    """worker_queue_depth: the messages waiting in each queue, asked of the broker."""

    def __init__(self, app: WorkerCelery) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "worker_queue_depth", "Messages waiting in the queue", labels=["queue"]
        )
        depths: dict[str, int] = {}
        # A thread of its own, given up after the timeout: kombu's waits are not all
        # bounded (a broker that accepts the connection and never answers).
        reader = threading.Thread(
            target=self._read, args=(depths,), name="queue-depth", daemon=True
        )
        reader.start()
        reader.join(QUEUE_DEPTH_TIMEOUT)
        if reader.is_alive():
            logger.warning("queue depths: no answer from the broker in %s s", QUEUE_DEPTH_TIMEOUT)
        else:
            for queue, depth in sorted(depths.items()):
                family.add_metric([queue], depth)
        yield family

    def _read(self, depths: dict[str, int]) -> None:
        try:
            with self.app.connection_for_read() as connection:
                # One attempt: kombu would retry a refused connection for minutes,
                # and each scrape while the broker is down would leave a thread.
                connection.ensure_connection(max_retries=0)
                for queue in self.app.queues:
                    depths[queue] = _depth(connection, queue)
        except Exception as exc:  # the broker is down: say so, serve the rest
            logger.warning("queue depths: broker unavailable: %s", exc)
            depths.clear()


def _depth(connection: Any, queue: str) -> int:
    """A passive declaration answers with the queue's message count on every
    transport: Redis sums its lists, the filesystem counts its files, RabbitMQ
    asks the queue. A queue never declared yet holds nothing."""
    with connection.channel() as channel:
        try:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        except connection.channel_errors:
            return 0


def serve(app: WorkerCelery, port: int, host: str) -> None:
    """Start the node's metrics server; the pool's processes, started after this,
    write to the same directory."""
    registry = metrics.multiprocess_registry(
        metrics.prepare_multiprocess_directory("worker-metrics-")
    )
    registry.register(QueueDepth(app))
    global _server  # one server per node
    try:
        _server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise SystemExit(f"cannot serve the worker's metrics on {host}:{port}: {exc}") from None
    logger.info("metrics at http://%s:%s/metrics", host, port)


def close_inherited_server() -> None:
    """In a pool process: close the listening socket forked with it. Its server
    thread did not come along, and a child holding the port would keep a restarted
    node from serving on it while the child outlives its parent."""
    global _server
    if _server is not None:
        _server.socket.close()
        _server = None


def count_received(app: WorkerCelery, sender: Any, request: Any) -> None:
    if getattr(sender, "app", None) is app:
        received(task_kind(request.name, request.request_dict))
