"""Running jobs: each task takes a job id, claims the row, does the work, records
the outcome. Redelivered tasks are harmless (see app.services.jobs)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import DBAPIError

from app.queue import RUN_JOB
from app.services import jobs

if TYPE_CHECKING:
    from worker.main import WorkerCelery

logger = logging.getLogger(__name__)

DEMO_STEPS = 10

Progress = Callable[[int], None]


class JobFailed(Exception):
    """The job ended in failure; the message is shown to its owner."""


def run_demo(params: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Sleep `seconds` in steps, reporting progress; fail at the end when asked.
    A 0-second job has no steps: finishing it sets progress to 100."""
    seconds = float(params.get("seconds", 0))
    if seconds:
        for step in range(1, DEMO_STEPS + 1):
            time.sleep(seconds / DEMO_STEPS)
            progress(step * 100 // DEMO_STEPS)
    if params.get("fail"):
        raise JobFailed("The demo job failed, as asked")
    return {"slept": params.get("seconds", 0)}


RUNNERS: dict[str, Callable[[Mapping[str, Any], Progress], Any]] = {"demo": run_demo}


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
    try:
        _run(app, job_id)
    except BaseException:
        app.drop_job_connection()
        raise


def _run(app: WorkerCelery, job_id: int) -> None:
    # Every statement commits on its own: the claim is seen at once, and nothing
    # holds a transaction open while the job runs.
    job = jobs.claim(connection=app.job_connection(), job_id=job_id)
    if job is None:
        logger.info("job %s is gone or already finished: nothing to do", job_id)
        return
    runner = RUNNERS.get(job.kind)

    def progress(value: int) -> None:
        jobs.report_progress(connection=app.job_connection(), job_id=job_id, progress=value)

    result: Any = None
    error: str | None = None
    try:
        if runner is None:
            raise JobFailed(f"No worker knows how to run a {job.kind!r} job")
        result = runner(job.params, progress)
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
        logger.info("job %s was finished by another delivery", job_id)
