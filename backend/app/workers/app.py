"""A worker module's Celery application: the shared queue settings (app.queue), the
module's own queues, the job task and the module's runners.

Building it reads settings but opens nothing; the database engine and the other
long-lived objects are made on first use in each worker process (`runtime`), never
at import.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from celery import Celery
from celery.signals import (
    celeryd_init,
    task_received,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)
from kombu.entity import Exchange, Queue
from sqlalchemy import Connection

from app.core import error_tracking, tracing
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.kinds import KINDS, JobKind
from app.queue import celery_config, describe_broker
from app.runtime import Runtime

from . import metrics
from .context import ContextTask
from .jobs import JobFailed, Runner

logger = logging.getLogger("worker")

# A job connection left idle longer than this goes back to the pool before the
# next job, so that the pool's recycling (pool_recycle) applies to it as to any.
JOB_CONNECTION_IDLE_SECONDS = 60.0


def worker_config(settings: Settings, queues: Iterable[str]) -> dict[str, Any]:
    """The shared queue settings plus what only a worker needs."""
    return celery_config(settings) | {
        # The queues this module consumes (`celery worker` without -Q): its own only.
        "task_queues": [
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in queues
        ],
        "include": ["app.workers.jobs"],
        # Acknowledge after the task ran, and give the message back when the worker
        # process dies mid-task, so another worker redelivers it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Jobs are long: take one message at a time per process instead of hoarding.
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.JOB_TIME_LIMIT_SECONDS + 30,
        "task_soft_time_limit": settings.JOB_TIME_LIMIT_SECONDS,
        # Task events cost about a third of the throughput of short tasks; Flower
        # switches them on in every worker while it runs (its --enable-events).
        "worker_send_task_events": False,
        "worker_hijack_root_logger": False,
    }


class WorkerCelery(Celery):
    """A Celery app that carries the project's settings, the module's runners and,
    per process, a Runtime."""

    def __init__(
        self, settings: Settings, *, queues: Iterable[str], runners: Mapping[str, Runner]
    ) -> None:
        super().__init__("worker", task_cls=ContextTask)
        self.settings = settings
        self.queues = list(queues)
        self.runners = dict(runners)
        self._runtime: Runtime | None = None
        self._local = threading.local()
        self.conf.update(worker_config(settings, self.queues))

    def runner(self, kind: str) -> Runner:
        runner = self.runners.get(kind)
        if runner is None:
            raise JobFailed(f"No worker knows how to run a {kind!r} job")
        return runner

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime.from_settings(self.settings)
        return self._runtime

    def job_connection(self) -> Connection:
        """This thread's connection for job transitions (AUTOCOMMIT: each is a single
        conditional UPDATE, committed on its own), kept from one job to the next:
        checking one out of the pool and setting its isolation level for every job
        cost more CPU than the job's statements (docs/performance.md)."""
        now = time.monotonic()
        if now - getattr(self._local, "job_connection_used", now) > JOB_CONNECTION_IDLE_SECONDS:
            self.drop_job_connection()
        self._local.job_connection_used = now
        connection: Connection | None = getattr(self._local, "job_connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self.runtime.autocommit_engine.connect()
            self._local.job_connection = connection
        return connection

    def drop_job_connection(self) -> None:
        """Give the connection back to the pool, which resets it or discards it: after
        an error, or a job stopped at an unknown point, the next one starts afresh."""
        connection: Connection | None = getattr(self._local, "job_connection", None)
        self._local.job_connection = None
        if connection is not None:
            connection.close()

    def dispose(self) -> None:
        self.drop_job_connection()
        if self._runtime is not None:
            self._runtime.engine.dispose()
            self._runtime = None


def create_worker_app(
    *,
    queues: Iterable[str],
    runners: Mapping[JobKind, Runner],
    settings: Settings | None = None,
    include: Iterable[str] = (),
    config: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> WorkerCelery:
    """The module's Celery app: it consumes `queues` and runs each kind declared on
    them with its runner. A kind on those queues without a runner, or a runner for
    a kind on another queue, is a mistake caught here, at start-up. `name`: the
    module's (its traces' service name), by default its first queue's."""
    queues = list(queues)
    name = name or queues[0]
    _check_runners(queues, runners)
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL, settings.log_format)
    error_tracking.init(settings, "celery")
    app = WorkerCelery(
        settings, queues=queues, runners={kind.name: run for kind, run in runners.items()}
    )
    app.conf.include = [*app.conf.include, *include]
    if config:
        app.conf.update(config)

    @celeryd_init.connect(weak=False)
    def quiet(instance: Any = None, **_: Any) -> None:
        # Celery's start-up banner is printed, not logged: in JSON it would be the
        # only lines a log collector cannot read (its ready line is logged).
        if getattr(instance, "app", None) is app and settings.log_format == "json":
            instance.quiet = True

    @worker_ready.connect(weak=False)
    def announce(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is not app:
            return
        logger.info(
            "worker ready; queues: %s; broker: %s",
            ", ".join(queues),
            describe_broker(settings.broker_url),
        )
        if settings.WORKER_READY_FILE is not None:
            settings.WORKER_READY_FILE.touch()

    def start_tracing() -> None:
        tracing.init(settings, f"worker-{name}", engines=[app.runtime.engine], celery=True)

    # Tracing's exporter runs a thread: set it up in the processes that run tasks,
    # after the fork (a prefork pool's children), or in the worker itself otherwise.
    @worker_process_init.connect(weak=False)
    def start_pool_process(**_: Any) -> None:
        metrics.close_inherited_server()
        start_tracing()

    @worker_init.connect(weak=False)
    def trace_worker(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is app and not _forks(sender):
            start_tracing()

    @worker_process_shutdown.connect(weak=False)
    def close(**_: Any) -> None:
        tracing.shutdown()
        app.dispose()

    @celeryd_init.connect(weak=False)
    def serve_metrics(instance: Any = None, **_: Any) -> None:
        if getattr(instance, "app", None) is app and settings.WORKER_METRICS_PORT:
            metrics.serve(app, settings.WORKER_METRICS_PORT, settings.WORKER_METRICS_HOST)

    @task_received.connect(weak=False)
    def count_received(sender: Any = None, request: Any = None, **_: Any) -> None:
        metrics.count_received(app, sender, request)

    return app


def _forks(worker: Any) -> bool:
    """Whether the worker's pool runs tasks in child processes (prefork)."""
    pool = getattr(worker, "pool_cls", None)
    return "prefork" in (pool if isinstance(pool, str) else getattr(pool, "__module__", ""))


def _check_runners(queues: list[str], runners: Mapping[JobKind, Runner]) -> None:
    mine = {kind.name for kind in KINDS.values() if kind.queue in queues}
    given = {kind.name for kind in runners}
    if missing := sorted(mine - given):
        raise RuntimeError(f"no runner for the job kinds {missing} on the queues {queues}")
    if elsewhere := sorted(given - mine):
        raise RuntimeError(f"runners for job kinds {elsewhere} that run on other queues")
