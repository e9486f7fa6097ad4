"""The task that runs jobs (`jobs.run`, on every job queue) and the runner API.

The task takes a job id, claims the row, runs the runner its module registered for
the job's kind, and records the outcome. Redelivered tasks are harmless, and a
cancelled job is never finished (see app.services.jobs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import sentry_sdk
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DBAPIError

from app.kinds import get_kind
from app.queue import RUN_JOB
from app.services import jobs

from . import metrics

if TYPE_CHECKING:
    from .app import WorkerCelery

logger = logging.getLogger(__name__)

P = TypeVar("P", bound=BaseModel)


class JobFailed(Exception):
    """The job ended in failure; the message is shown to its owner."""


class JobCancelled(Exception):
    """Raised by `progress()` when the job was cancelled: let it propagate (a runner
    that must clean up does so in `finally`)."""


@dataclass
class RunningJob(Generic[P]):
    """What a runner gets: the job's id, its parameters (validated by its kind's
    model) and `progress()`, which records how far it is and stops it when its owner
    cancelled it."""

    id: int
    kind: str
    params: P
    _report: Callable[[int], bool] = field(repr=False)

    def progress(self, percent: int) -> None:
        """Record progress (0-100); raises JobCancelled if the job was cancelled. Call
        it between steps: it is where a cancellation takes effect."""
        if not self._report(percent):
            raise JobCancelled()


Runner = Callable[[RunningJob[Any]], Any]


@shared_task(
    name=RUN_JOB,
    bind=True,
    # The database unreachable: try again later rather than drop the job, which
    # would then stay queued or running for ever. Claiming is idempotent.
    autoretry_for=(DBAPIError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=20,
)
def run_job(self: Task, job_id: int) -> None:
    app = cast("WorkerCelery", self.app)
    # A scope of its own: the job's error-tracking tags end with it.
    with sentry_sdk.new_scope():
        try:
            metrics.set_outcome(self, _run(app, job_id))
        except BaseException:
            app.drop_job_connection()
            raise


def _run(app: WorkerCelery, job_id: int) -> tuple[str, str] | None:
    """Run the job; its kind and how it ended, None if it was not to run."""
    # Every statement commits on its own: the claim is seen at once, and nothing
    # holds a transaction open while the job runs.
    claimed = jobs.claim(connection=app.job_connection(), job_id=job_id)
    if claimed is None:
        logger.info("job %s is gone, finished or cancelled: nothing to do", job_id)
        return None
    sentry_sdk.set_tags({"job_id": str(claimed.id), "job_kind": claimed.kind})
    logger.info("job %s (%s) started", job_id, claimed.kind)

    def report(value: int) -> bool:
        return jobs.report_progress(connection=app.job_connection(), job_id=job_id, progress=value)

    result: Any = None
    error: str | None = None
    try:
        job = RunningJob(claimed.id, claimed.kind, _params(claimed.kind, claimed.params), report)
        result = app.runner(claimed.kind)(job)
    except JobCancelled:
        logger.info("job %s was cancelled: stopped", job_id)
        return claimed.kind, metrics.CANCELLED
    except JobFailed as exc:
        error = str(exc)
    except SoftTimeLimitExceeded:
        error = "The job ran out of time"
    except DBAPIError:
        raise
    except Exception:
        logger.exception("job %s crashed", job_id)
        error = "The job crashed; the worker's log has the details"
    if error is not None:
        # The job may have been stopped in the middle of a progress statement:
        # finish on a connection in a known state.
        app.drop_job_connection()
    connection = app.job_connection()
    if not jobs.finish(connection=connection, job_id=job_id, result=result, error=error):
        logger.info("job %s was finished by another delivery, or cancelled", job_id)
        # Most often cancelled after its last progress step.
        return claimed.kind, metrics.CANCELLED
    return claimed.kind, metrics.SUCCEEDED if error is None else metrics.FAILED


def _params(kind_name: str, stored: dict[str, Any]) -> BaseModel:
    """The stored parameters as the kind's model (checked when the job was created;
    a kind whose model changed since may refuse old ones: the job fails, saying so)."""
    kind = get_kind(kind_name)
    if kind is None:
        raise JobFailed(f"No job kind is named {kind_name!r}")
    try:
        return kind.params.model_validate(stored, strict=False)
    except PydanticValidationError as exc:
        raise JobFailed(f"The job's parameters are no longer valid: {exc}") from exc
