"""Periodic clean-up (Celery beat): expired tokens, old finished jobs, old audit events."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task

from app.db.base import utcnow
from app.queue import PURGE_AUDIT_EVENTS, PURGE_EXPIRED
from app.services import audit, auth, jobs

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


@shared_task(name=PURGE_AUDIT_EVENTS, bind=True)
def purge_audit_events(self: Task) -> dict[str, int]:
    """Audit events past AUDIT_RETENTION_DAYS: the only deletion the log allows."""
    runtime = self.app.runtime
    cutoff = utcnow() - timedelta(days=runtime.settings.AUDIT_RETENTION_DAYS)
    with runtime.session_factory() as session:
        gone = audit.purge_before(session=session, cutoff=cutoff)
        session.commit()
    counts = {"audit_events": gone}
    logger.info("purged %s", counts)
    return counts
