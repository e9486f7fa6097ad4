"""The Celery application: `celery -A worker.main worker`.

Building the Celery object reads settings but opens nothing; the database
engine and the other long-lived objects are made on first use in each worker
process (see `runtime()`), never at import.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown, worker_ready
from sqlalchemy import Connection

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.queue import (
    PURGE_EXPIRED,
    RECOVER_PASSWORD,
    SEND_EMAIL,
    celery_config,
    describe_broker,
)
from app.runtime import Runtime

logger = logging.getLogger("worker")

# A job connection left idle longer than this goes back to the pool before the
# next job, so that the pool's recycling (pool_recycle) applies to it as to any.
JOB_CONNECTION_IDLE_SECONDS = 60.0

TASK_MODULES = ["worker.tasks.jobs", "worker.tasks.email", "worker.tasks.maintenance"]


def worker_config(settings: Settings) -> dict[str, Any]:
    """The shared queue settings plus what only a worker needs."""
    return celery_config(settings) | {
        "include": TASK_MODULES,
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
        "task_annotations": {
            name: {"max_retries": settings.EMAIL_MAX_RETRIES}
            for name in (SEND_EMAIL, RECOVER_PASSWORD)
        },
        "beat_schedule": {
            "purge-expired": {"task": PURGE_EXPIRED, "schedule": timedelta(hours=1)},
        },
    }


class WorkerCelery(Celery):
    """A Celery app that carries the project's settings and, per process, a Runtime."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("worker")
        self.settings = settings
        self._runtime: Runtime | None = None
        self._local = threading.local()
        self.conf.update(worker_config(settings))

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


def create_celery_app(settings: Settings | None = None) -> WorkerCelery:
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)
    return WorkerCelery(settings)


celery_app = create_celery_app()


@worker_ready.connect
def _announce(**_: Any) -> None:
    settings = celery_app.settings
    logger.info("worker ready; broker: %s", describe_broker(settings.broker_url))
    if settings.email_backend == "console" and settings.ENVIRONMENT != "local":
        logger.warning("no mail server (SMTP_HOST): emails are not sent, only noted in the log")


@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    celery_app.dispose()
