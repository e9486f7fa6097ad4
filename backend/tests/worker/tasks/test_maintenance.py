"""The periodic clean-ups (`maintenance.purge_expired`, `.purge_audit_events`) run
in-process against each database backend, and their place in the beat schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from celery.beat import Scheduler
from sqlalchemy import select
from sqlalchemy.orm import Session
from worker.main import WorkerCelery

from app.core.security import hash_opaque_token
from app.db.base import utcnow
from app.models import (
    AuditEvent,
    EmailVerificationToken,
    Job,
    JobState,
    PasswordResetToken,
    RefreshToken,
    User,
)
from app.queue import MAINTENANCE_QUEUE, PURGE_AUDIT_EVENTS, PURGE_EXPIRED
from app.runtime import Runtime
from app.services import audit, auth
from app.services.errors import AuthenticationFailed
from tests.utils.factories import DEFAULT_PASSWORD, past_reuse_grace
from tests.worker.tasks.conftest import WorkerAppFactory

RETENTION_DAYS = 7


def purge(worker_app: WorkerAppFactory, runtime: Runtime) -> dict[str, int]:
    app = worker_app(runtime.settings.DATABASE_URL, JOBS_RETENTION_DAYS=RETENTION_DAYS)
    result = app.tasks[PURGE_EXPIRED].apply()
    assert result.state == "SUCCESS", result.result
    counts: dict[str, int] = result.result
    return counts


def add_refresh_token(
    db: Session, user: User, name: str, *, expires_at: datetime, revoked_at: datetime | None = None
) -> None:
    db.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_opaque_token(name),
            family_id=name,
            expires_at=expires_at,
            revoked_at=revoked_at,
        )
    )


def add_reset_token(
    db: Session, user: User, name: str, *, expires_at: datetime, used_at: datetime | None = None
) -> None:
    db.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_opaque_token(name),
            expires_at=expires_at,
            used_at=used_at,
        )
    )


def add_verification_token(
    db: Session, user: User, name: str, *, expires_at: datetime, used_at: datetime | None = None
) -> None:
    db.add(
        EmailVerificationToken(
            user_id=user.id,
            email=user.email,
            token_hash=hash_opaque_token(name),
            expires_at=expires_at,
            used_at=used_at,
        )
    )


def add_job(
    db: Session,
    user: User,
    name: str,
    state: JobState,
    *,
    created_at: datetime,
    finished_at: datetime | None = None,
) -> None:
    db.add(
        Job(
            kind="demo",
            params={"name": name},
            owner_id=user.id,
            state=state.value,
            created_at=created_at,
            started_at=None if state is JobState.QUEUED else created_at,
            finished_at=finished_at,
        )
    )


def left(db: Session) -> tuple[set[str], set[str], set[str]]:
    """The refresh tokens, reset tokens (by hash) and jobs (by name) still stored."""
    db.expire_all()
    return (
        set(db.scalars(select(RefreshToken.token_hash))),
        set(db.scalars(select(PasswordResetToken.token_hash))),
        {job.params["name"] for job in db.scalars(select(Job))},
    )


def hashes(*names: str) -> set[str]:
    return {hash_opaque_token(name) for name in names}


def test_purge_expired_deletes_dead_tokens_and_old_jobs_only(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session, user: User
) -> None:
    now = utcnow()
    later, earlier = now + timedelta(days=1), now - timedelta(minutes=1)
    old = now - timedelta(days=RETENTION_DAYS + 1)
    recent = now - timedelta(days=RETENTION_DAYS - 1)

    add_refresh_token(db, user, "refresh-live", expires_at=later)
    # Spent by rotation but not expired: presenting it again must still be detected.
    add_refresh_token(db, user, "refresh-rotated", expires_at=later, revoked_at=earlier)
    add_refresh_token(db, user, "refresh-expired", expires_at=earlier)
    add_refresh_token(db, user, "refresh-rotated-expired", expires_at=earlier, revoked_at=earlier)
    add_reset_token(db, user, "reset-live", expires_at=later)
    add_reset_token(db, user, "reset-used", expires_at=later, used_at=earlier)
    add_reset_token(db, user, "reset-expired", expires_at=earlier)
    add_verification_token(db, user, "verify-live", expires_at=later)
    add_verification_token(db, user, "verify-used", expires_at=later, used_at=earlier)
    add_verification_token(db, user, "verify-expired", expires_at=earlier)
    add_job(db, user, "queued-old", JobState.QUEUED, created_at=old)
    add_job(db, user, "running-old", JobState.RUNNING, created_at=old)
    add_job(db, user, "succeeded-recent", JobState.SUCCEEDED, created_at=old, finished_at=recent)
    add_job(db, user, "failed-recent", JobState.FAILED, created_at=old, finished_at=recent)
    add_job(db, user, "succeeded-old", JobState.SUCCEEDED, created_at=old, finished_at=old)
    add_job(db, user, "failed-old", JobState.FAILED, created_at=old, finished_at=old)
    db.commit()

    counts = purge(worker_app, runtime)

    assert counts == {"tokens": 6, "jobs": 2}
    refresh_tokens, reset_tokens, jobs = left(db)
    assert refresh_tokens == hashes("refresh-live", "refresh-rotated")
    assert reset_tokens == hashes("reset-live")
    assert set(db.scalars(select(EmailVerificationToken.token_hash))) == hashes("verify-live")
    assert jobs == {"queued-old", "running-old", "succeeded-recent", "failed-recent"}


def test_purge_expired_deletes_nothing_when_all_is_live(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session, user: User
) -> None:
    now = utcnow()
    add_refresh_token(db, user, "refresh-live", expires_at=now + timedelta(days=1))
    add_reset_token(db, user, "reset-live", expires_at=now + timedelta(minutes=30))
    add_job(db, user, "done-today", JobState.SUCCEEDED, created_at=now, finished_at=now)
    db.commit()

    assert purge(worker_app, runtime) == {"tokens": 0, "jobs": 0}
    assert left(db) == (hashes("refresh-live"), hashes("reset-live"), {"done-today"})


def test_purge_expired_keeps_reuse_detection_of_rotated_tokens(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session, user: User
) -> None:
    settings = runtime.settings
    first = auth.login(
        session=db,
        hasher=runtime.hasher,
        codec=runtime.tokens,
        settings=settings,
        email=user.email,
        password=DEFAULT_PASSWORD,
    )
    second = auth.refresh(
        session=db, codec=runtime.tokens, settings=settings, refresh_token=first.refresh_token
    )
    db.commit()
    past_reuse_grace(db, runtime)

    purge(worker_app, runtime)

    # The stolen first token comes back: the whole family, second token included, dies.
    with pytest.raises(AuthenticationFailed):
        auth.refresh(
            session=db, codec=runtime.tokens, settings=settings, refresh_token=first.refresh_token
        )
    db.commit()
    with pytest.raises(AuthenticationFailed):
        auth.refresh(
            session=db, codec=runtime.tokens, settings=settings, refresh_token=second.refresh_token
        )


def test_beat_schedule_runs_purge_hourly_on_maintenance_queue(
    worker_app: WorkerAppFactory,
) -> None:
    app: WorkerCelery = worker_app()
    scheduler = Scheduler(app=app, lazy=False)

    entries = [entry for entry in scheduler.schedule.values() if entry.task == PURGE_EXPIRED]

    assert len(entries) == 1
    (entry,) = entries
    assert entry.schedule.run_every == timedelta(hours=1)
    assert PURGE_EXPIRED in app.tasks
    route = app.amqp.router.route(dict(entry.options), entry.task)
    assert route["queue"].name == MAINTENANCE_QUEUE


def test_purge_audit_events_deletes_events_past_retention_only(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session
) -> None:
    now = utcnow()
    for action, days_ago in (("login.failed", 31), ("logout", 29), ("user.created", 0)):
        audit.record(db, action).at = now - timedelta(days=days_ago)
    db.commit()
    app = worker_app(runtime.settings.DATABASE_URL, AUDIT_RETENTION_DAYS=30)

    result = app.tasks[PURGE_AUDIT_EVENTS].apply()

    assert result.state == "SUCCESS", result.result
    assert result.result == {"audit_events": 1}
    db.rollback()
    assert set(db.scalars(select(AuditEvent.action))) == {"logout", "user.created"}


def test_beat_schedule_runs_audit_purge_daily_on_maintenance_queue(
    worker_app: WorkerAppFactory,
) -> None:
    app: WorkerCelery = worker_app()
    scheduler = Scheduler(app=app, lazy=False)

    (entry,) = [e for e in scheduler.schedule.values() if e.task == PURGE_AUDIT_EVENTS]

    assert entry.schedule.run_every == timedelta(days=1)
    route = app.amqp.router.route(dict(entry.options), entry.task)
    assert route["queue"].name == MAINTENANCE_QUEUE
