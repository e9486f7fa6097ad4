"""The default worker module's Celery application: `celery -A worker.main worker`.

It consumes the `jobs` queue (the kinds of app/kinds/default.py), `email` and
`maintenance`, and is also the scheduler (`celery -A worker.main beat`) and Flower's
app. Other modules (worker-<name>/) are built the same way, with their own queues.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery.signals import worker_ready

from app.core.config import Settings, get_settings
from app.kinds import default
from app.queue import (
    EMAIL_QUEUE,
    MAINTENANCE_QUEUE,
    PURGE_AUDIT_EVENTS,
    PURGE_EXPIRED,
    RECOVER_PASSWORD,
    SEND_EMAIL,
    VERIFY_EMAIL,
)
from app.workers import WorkerCelery, create_worker_app

from .jobs import run_demo

logger = logging.getLogger("worker")

QUEUES = [default.QUEUE, EMAIL_QUEUE, MAINTENANCE_QUEUE]
RUNNERS = {default.DEMO: run_demo}
TASK_MODULES = ["worker.tasks.email", "worker.tasks.maintenance"]


def module_config(settings: Settings) -> dict[str, Any]:
    """What this module adds: email retries, and the periodic tasks beat sends."""
    return {
        "task_annotations": {
            name: {"max_retries": settings.EMAIL_MAX_RETRIES}
            for name in (SEND_EMAIL, RECOVER_PASSWORD, VERIFY_EMAIL)
        },
        "beat_schedule": {
            "purge-expired": {"task": PURGE_EXPIRED, "schedule": timedelta(hours=1)},
            "purge-audit-events": {"task": PURGE_AUDIT_EVENTS, "schedule": timedelta(days=1)},
        },
    }


def create_celery_app(settings: Settings | None = None) -> WorkerCelery:
    settings = settings or get_settings()
    return create_worker_app(
        queues=QUEUES,
        name="default",
        runners=RUNNERS,
        settings=settings,
        include=TASK_MODULES,
        config=module_config(settings),
    )


celery_app = create_celery_app()


@worker_ready.connect
def _warn_without_mail_server(**_: Any) -> None:
    settings = celery_app.settings
    if settings.email_backend == "console" and settings.ENVIRONMENT != "local":
        logger.warning("no mail server (SMTP_HOST): emails are not sent, only noted in the log")
