"""Periodic clean-up (Celery beat): expired tokens and old finished jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task

from app.db.base import utcnow
from app.queue import PURGE_EXPIRED
from app.services import auth, jobs

logger = logging.getLogger(__name__)


@shared_task(name=PURGE_EXPIRED, bind=True)
def purge_expired(self: Task) -> dict[str, int]:
    runtime = self.app.runtime
    now = utcnow()
    with runtime.session_factory() as session:
        tokens = auth.purge_expired_tokens(session=session, now=now)
        old_jobs = jobs.purge_finished(
            session=session,
            older_than=now - timedelta(days=runtime.settings.JOBS_RETENTION_DAYS),
        )
        session.commit()
    counts = {"tokens": tokens, "jobs": old_jobs}
    logger.info("purged %s", counts)
    return counts
