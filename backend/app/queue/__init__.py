"""The task queue as both sides see it: broker settings, task names, enqueueing.

Plumbing, beside `app/db/`: the domain rules in `app/services/` send work through
it. Its two transports adjust kombu's where kombu falls short (see each module).

The web side sends tasks by name and never imports the worker's code; the worker
builds its Celery app from the same `celery_config()`, so both agree on broker,
serializer and routes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue
from kombu.exceptions import KombuError, OperationalError
from sqlalchemy.engine import make_url

from app import kinds
from app.core import request_context, tracing
from app.core.config import Settings
from app.services.errors import Unavailable

logger = logging.getLogger(__name__)

# Task names: the contract between the web side and the worker.
RUN_JOB = "jobs.run"
SEND_EMAIL = "email.send"
# A password reset asked for an address: the worker looks the account up.
RECOVER_PASSWORD = "email.recover_password"  # noqa: S105 (a task name)
# An address to verify: the worker issues the link (the token never travels
# through the broker).
VERIFY_EMAIL = "email.verify_address"
PURGE_EXPIRED = "maintenance.purge_expired"
PURGE_AUDIT_EVENTS = "maintenance.purge_audit_events"

JOBS_QUEUE = "jobs"
EMAIL_QUEUE = "email"
MAINTENANCE_QUEUE = "maintenance"
# The default worker module's, then each further module's (its kinds': app/kinds).
QUEUES = tuple(dict.fromkeys((JOBS_QUEUE, EMAIL_QUEUE, MAINTENANCE_QUEUE, *kinds.queues())))
ROUTES = {
    RUN_JOB: JOBS_QUEUE,
    SEND_EMAIL: EMAIL_QUEUE,
    RECOVER_PASSWORD: EMAIL_QUEUE,
    VERIFY_EMAIL: EMAIL_QUEUE,
    PURGE_EXPIRED: MAINTENANCE_QUEUE,
    PURGE_AUDIT_EVENTS: MAINTENANCE_QUEUE,
}

# The message header naming the kind of the job a `jobs.run` task runs.
JOB_KIND_HEADER = "job_kind"

BROKER_UNAVAILABLE = "The job queue is unavailable, try again later"
# How long the workers have to say which queues they consume, and how long their
# answer is kept (a worker that starts or stops shows within that).
PRESENCE_TIMEOUT = 1.0
PRESENCE_TTL = 15.0


def broker_kind(url: str) -> str:
    return url.split("://", 1)[0].split("+", 1)[0] or "unknown"


def describe_broker(url: str) -> str:
    """The broker URL without its password, for logs."""
    if url.startswith("filesystem://"):
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an RFC-1738 URL; say only which kind it is
        return f"{broker_kind(url)}://..."


def _filesystem_options(settings: Settings) -> dict[str, Any]:
    folder = Path(settings.BROKER_DATA_DIR)
    (folder / "control").mkdir(parents=True, exist_ok=True)
    # One folder for both directions: producers and consumers meet there.
    # Polling every 0.1 s keeps jobs snappy in development at negligible cost.
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        # Broadcast messages (worker control): kept beside the queues, not in the cwd.
        "control_folder": str(folder / "control"),
        "polling_interval": 0.1,
    }


def _transport(url: str) -> str | None:
    """kombu's transport for the URL, or the project's variant of it (see there)."""
    # Named, not imported: kombu imports the one in use (Redis's client alone
    # takes a third of a second to import).
    if url.startswith("filesystem://"):
        return "app.queue.filesystem_transport:Transport"
    if broker_kind(url) in ("redis", "rediss"):
        return "app.queue.redis_transport:Transport"
    return None


def _with_host(url: str) -> str:
    """The URL with a host: kombu warns at every connection to a URL without one
    ("No hostname was supplied"), which the in-process transports (the embedded
    broker's files, memory) have no use for."""
    scheme, _, rest = url.partition("://")
    if scheme in ("filesystem", "memory") and rest.strip("/") == "":
        return f"{scheme}://localhost//"
    return url


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings shared by the web side and the worker."""
    url = settings.broker_url
    transport_options: dict[str, Any] = {}
    if url.startswith("filesystem://"):
        transport_options |= _filesystem_options(settings)
    if broker_kind(url) in ("redis", "rediss"):
        transport_options |= {
            "visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT,
            # Look for messages past their visibility timeout (a dead worker's) at
            # least that often; kombu's default looks only every ~100 s, so a short
            # timeout would not take effect until then.
            "unacked_restore_interval": min(10, settings.CELERY_VISIBILITY_TIMEOUT),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": settings.BROKER_TIMEOUT,
            "socket_timeout": settings.BROKER_TIMEOUT,
        }
    return {
        "broker_url": _with_host(url),
        # What connections use: Celery prefers the CELERY_BROKER_URL environment
        # variable to broker_url (our setting of that name may be set there, hostless),
        # but not to these.
        "broker_read_url": _with_host(url),
        "broker_write_url": _with_host(url),
        "broker_transport": _transport(url),
        "broker_transport_options": transport_options,
        "broker_connection_timeout": settings.BROKER_TIMEOUT,
        "broker_connection_retry_on_startup": True,
        # Job state lives in the database; Celery keeps no results.
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # One direct exchange per queue, named after it: each task lands in
        # exactly one queue, on either side.
        "task_queues": [
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
        ],
        "task_routes": ROUTES,
        "task_default_queue": JOBS_QUEUE,
        "task_default_exchange": JOBS_QUEUE,
        "task_default_routing_key": JOBS_QUEUE,
        "timezone": "UTC",
        "enable_utc": True,
    }


class TaskQueue:
    """The web side's handle on the broker: send tasks by name, check the broker."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._celery: Celery | None = None
        self._presence: tuple[float, frozenset[str]] | None = None

    @property
    def celery(self) -> Celery:
        if self._celery is None:
            client = Celery("web-client", set_as_current=False)
            client.conf.update(celery_config(self._settings))
            self._celery = client
        return self._celery

    @property
    def broker(self) -> str:
        return describe_broker(self._settings.broker_url)

    def enqueue(
        self, task: str, *args: Any, queue: str | None = None, job_kind: str | None = None
    ) -> None:
        """Publish `task` once, on `queue` (default: the task's route); Unavailable
        when the broker can't take it. The current request id goes with it, in the
        message's headers, for the worker to bind while the task runs; so does the
        kind of the job it runs, which the worker's metrics count it by before they
        read the job, and the trace context when tracing is on (app.core.tracing)."""
        # Only when given: the routes (ROUTES) name the queue otherwise.
        destination = {"queue": queue} if queue else {}
        request_id = request_context.current()
        headers = {request_context.MESSAGE_HEADER: request_id} if request_id else {}
        if job_kind:
            headers[JOB_KIND_HEADER] = job_kind
        try:
            # With tracing on, the trace context goes in the headers too.
            with tracing.sending(task, queue or ROUTES.get(task), headers):
                self.celery.send_task(
                    task,
                    args=args,
                    retry=True,
                    retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
                    headers=headers or None,
                    **destination,
                )
        except (OperationalError, KombuError, OSError) as exc:
            logger.error("enqueueing %s failed, broker %s: %s", task, self.broker, exc)
            raise Unavailable(BROKER_UNAVAILABLE) from exc

    def consumed_queues(self) -> frozenset[str] | None:
        """The queues that some worker consumes now, asked of every worker over the
        broker (an answer takes up to PRESENCE_TIMEOUT seconds, so it is remembered
        for PRESENCE_TTL); None when the broker cannot be asked."""
        now = time.monotonic()
        if self._presence is not None and now - self._presence[0] < PRESENCE_TTL:
            return self._presence[1]
        try:
            replies = self.celery.control.inspect(timeout=PRESENCE_TIMEOUT).active_queues() or {}
        except (OperationalError, KombuError, OSError) as exc:
            logger.warning(
                "asking the workers for their queues failed, broker %s: %s", self.broker, exc
            )
            return None
        consumed = frozenset(queue["name"] for queues in replies.values() for queue in queues)
        self._presence = (now, consumed)
        return consumed

    def ping(self) -> bool:
        """Whether the broker accepts a connection now."""
        try:
            with self.celery.connection_for_write() as connection:
                # One retry, at once: kombu's default first waits 2 s, longer than
                # BROKER_TIMEOUT lets a health check take.
                connection.ensure_connection(
                    max_retries=1, interval_start=0, timeout=self._settings.BROKER_TIMEOUT
                )
        except (OperationalError, KombuError, OSError) as exc:
            logger.warning("broker %s unavailable: %s", self.broker, exc)
            return False
        return True

    def close(self) -> None:
        if self._celery is not None:
            self._celery.close()
