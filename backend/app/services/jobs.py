"""Jobs: background work whose state lives in a database row.

The web side creates the row (`queued`) and enqueues it on its kind's queue; the
worker module that consumes the queue claims it (`running`), reports progress, and
finishes it (`succeeded` or `failed`). Its owner may cancel it (`cancelled`) until
then. Every transition is a conditional UPDATE, so a redelivered or duplicated
task never finishes a job twice, and a cancelled one is never finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Connection, Row, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.core import request_context
from app.db.base import UTCDateTime, utcnow
from app.db.pages import paginate
from app.kinds import KINDS, JobKind
from app.models import Job, JobState, User
from app.services.errors import Conflict, NotFound, PermissionDenied
from app.services.permissions import acts_as_superuser, has_permission

JOB_NOT_FOUND = "Job not found"
FINISHED = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)


# A job's creation and each of its transitions is one Core statement on the
# table, built once, without the ORM's bookkeeping, which cost as much CPU as
# the round trips (docs/performance.md). Both sides run them in AUTOCOMMIT (the
# API's handler, the worker's connection): a round trip each, with no BEGIN or
# COMMIT around them.

_JOBS = cast(Table, Job.__table__)  # declared as a FromClause
_RUNNING = JobState.RUNNING.value
_NOW = bindparam("now", type_=UTCDateTime())
# The columns not given take their defaults (queued, progress 0, created now).
# Every supported database has INSERT ... RETURNING (MariaDB since 10.5).
_INSERT = insert(_JOBS).returning(*_JOBS.c)
# Failing a job, from whichever state it must still be in (`error`, `now`).
_FAILED = {"state": JobState.FAILED.value, "error": bindparam("error"), "finished_at": _NOW}
# This job, while it is not finished: what a claim and a cancellation both change.
# (Not `NOT IN`: an expanding parameter is rendered into the SQL on every run.)
_UNFINISHED = (
    _JOBS.c.id == bindparam("job_id"),
    *(_JOBS.c.state != state for state in FINISHED),
)
_CANCEL = update(_JOBS).where(*_UNFINISHED).values(state=JobState.CANCELLED.value, finished_at=_NOW)
_FAIL_QUEUED = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.state == JobState.QUEUED.value)
    .values(_FAILED)
)


def create_job(
    *, session: Session, owner: User, kind: JobKind, params: BaseModel | None = None
) -> Row[Any]:
    """Insert a queued job and return its row. `params` were validated by the kind's
    model; left out, they are its defaults. One Core `INSERT ... RETURNING`: the
    ORM's unit of work cost as much CPU again on a path every job takes
    (docs/performance.md)."""
    if not may_run(owner, kind):
        raise PermissionDenied("Not enough permissions")
    params = params if params is not None else kind.params()
    values = {
        "kind": kind.name,
        "params": params.model_dump(mode="json"),
        "owner_id": owner.id,
        "request_id": request_context.current(),
    }
    return session.execute(_INSERT, values).one()


def may_run(user: User, kind: JobKind) -> bool:
    return has_permission(user, kind.permission)


def list_kinds(
    *, viewer: User, consumed_queues: Callable[[], frozenset[str] | None]
) -> list[dict[str, Any]]:
    """Every kind, with whether the viewer may start one and its params' schema; for
    a superuser, also whether a worker consumes its queue now (`consumed_queues`
    asks the workers: only then)."""
    consumed = consumed_queues() if acts_as_superuser(viewer) else None
    return [
        {
            "name": kind.name,
            "title": kind.title,
            "description": kind.description,
            "queue": kind.queue,
            "permission": kind.permission,
            "allowed": may_run(viewer, kind),
            "params_schema": kind.params_schema(),
        }
        | ({"worker_running": kind.queue in consumed} if consumed is not None else {})
        for kind in KINDS.values()
    ]


def cancel_job(*, session: Session, viewer: User, job_id: int) -> Job:
    """Cancel the job at once when queued; when running, its runner stops at its next
    progress step (which finds it no longer running). Conflict when it has finished."""
    job = get_job(session=session, viewer=viewer, job_id=job_id)
    done = session.execute(_CANCEL, {"job_id": job.id, "now": utcnow()})
    cancelled = getattr(done, "rowcount", 0) == 1
    session.refresh(job)
    if not cancelled:
        raise Conflict(f"The job has already {job.state}")
    return job


def _visible(query: Any, viewer: User) -> Any:
    return query if acts_as_superuser(viewer) else query.where(Job.owner_id == viewer.id)


def list_jobs(*, session: Session, viewer: User, skip: int, limit: int) -> tuple[list[Job], int]:
    """Newest first: the viewer's own, or everyone's for a superuser."""
    query = _visible(select(Job), viewer).order_by(Job.created_at.desc(), Job.id.desc())
    return paginate(session, query, skip=skip, limit=limit)


def get_job(*, session: Session, viewer: User, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or (job.owner_id != viewer.id and not acts_as_superuser(viewer)):
        raise NotFound(JOB_NOT_FOUND)
    return job


def fail_unqueued(*, session: Session, job_id: int, error: str) -> None:
    """The job could not be enqueued: it must not stay `queued` forever."""
    session.execute(_FAIL_QUEUED, {"job_id": job_id, "error": error, "now": utcnow()})


# --- used by the worker -------------------------------------------------------
_CLAIM = (
    update(_JOBS)
    .where(*_UNFINISHED)
    # A redelivered job keeps the start of its first claim.
    .values(state=_RUNNING, started_at=func.coalesce(_JOBS.c.started_at, _NOW))
)
_CLAIMED = (_JOBS.c.kind, _JOBS.c.params, _JOBS.c.started_at)
_CLAIM_RETURNING = _CLAIM.returning(*_CLAIMED)
_READ_CLAIMED = select(*_CLAIMED).where(_JOBS.c.id == bindparam("job_id"))
_PROGRESS = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.state == _RUNNING)
    .values(progress=bindparam("progress"))
)
_FINISH_RUNNING = update(_JOBS).where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.state == _RUNNING)
_SUCCEED = _FINISH_RUNNING.values(
    state=JobState.SUCCEEDED.value, result=bindparam("result"), progress=100, finished_at=_NOW
)
_FAIL = _FINISH_RUNNING.values(_FAILED)


@dataclass(frozen=True)
class ClaimedJob:
    """What the worker needs of a job it claimed."""

    id: int
    kind: str
    params: dict[str, Any]
    started_at: datetime


def claim(*, connection: Connection, job_id: int) -> ClaimedJob | None:
    """Mark the job running and return it; None when it is gone or already finished
    (a redelivered task then does nothing)."""
    params = {"job_id": job_id, "now": utcnow()}
    if connection.dialect.update_returning:  # PostgreSQL, SQLite: one statement
        row = connection.execute(_CLAIM_RETURNING, params).one_or_none()
    # MariaDB has no UPDATE ... RETURNING: the claim, then the row.
    elif connection.execute(_CLAIM, params).rowcount == 1:
        row = connection.execute(_READ_CLAIMED, params).one()
    else:
        row = None
    if row is None:
        return None
    return ClaimedJob(id=job_id, kind=row.kind, params=row.params, started_at=row.started_at)


def report_progress(*, connection: Connection, job_id: int, progress: int) -> bool:
    """Record the progress; False when the job is no longer running (cancelled): the
    same single UPDATE tells, so checking for a cancellation costs nothing more."""
    params = {"job_id": job_id, "progress": max(0, min(100, progress))}
    return connection.execute(_PROGRESS, params).rowcount == 1


def finish(
    *, connection: Connection, job_id: int, result: Any = None, error: str | None = None
) -> bool:
    """Record the outcome once: False when another delivery already finished it."""
    if error is None:
        params = {"job_id": job_id, "result": result, "now": utcnow()}
        return connection.execute(_SUCCEED, params).rowcount == 1
    params = {"job_id": job_id, "error": error, "now": utcnow()}
    return connection.execute(_FAIL, params).rowcount == 1


def purge_finished(*, session: Session, older_than: datetime) -> int:
    deleted = session.execute(
        delete(Job)
        .where(
            Job.state.in_(FINISHED),
            Job.finished_at < older_than,
            # Implied by the above (a job is created before it finishes); it lets
            # the database find old rows by the created_at index.
            Job.created_at < older_than,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(deleted, "rowcount", 0))
