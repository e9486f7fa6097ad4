"""The request id the API sends with a task: bound while the task runs, and on the
error-tracking event of a job that crashes, with the job's id and kind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session
from worker.main import WorkerCelery

from app.core import request_context
from app.models import JobState, User
from app.queue import RUN_JOB
from app.runtime import Runtime
from app.workers import RunningJob
from tests.utils.sentry import flush, receiving
from tests.worker.tasks.conftest import WorkerAppFactory
from tests.worker.tasks.test_jobs import add_job, owner, reread  # noqa: F401 (a fixture)

REQUEST_ID = "edge-req-0042"


def run_with(worker: WorkerCelery, job_id: int, request_id: str) -> None:
    headers = {request_context.MESSAGE_HEADER: request_id}
    result = worker.tasks[RUN_JOB].apply(args=(job_id,), headers=headers)
    assert result.state == "SUCCESS", result.traceback


def test_job_runs_with_the_request_id_of_its_message(
    worker_app: WorkerAppFactory,
    runtime: Runtime,
    db: Session,
    owner: User,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = worker_app(runtime.settings.DATABASE_URL)
    seen: list[str | None] = []

    def probe(job: RunningJob[Any]) -> None:
        seen.append(request_context.current())

    monkeypatch.setitem(worker.runners, "demo", probe)
    run_with(worker, add_job(db, owner).id, REQUEST_ID)
    run_with(worker, add_job(db, owner).id, "not well formed!")
    assert seen == [REQUEST_ID, None]
    assert request_context.current() is None


def test_crashing_job_sends_one_event_with_its_ids_and_no_secrets(
    worker_app: WorkerAppFactory,
    runtime: Runtime,
    db: Session,
    owner: User,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(job: RunningJob[Any]) -> None:
        # A local variable the event must not show (made here: not in the source).
        token = "-".join(["job", "token", "0x61"])
        raise RuntimeError(f"crashed holding a {len(token)}-character token")

    with receiving() as receiver:
        worker = worker_app(runtime.settings.DATABASE_URL, SENTRY_DSN=receiver.dsn)
        monkeypatch.setitem(worker.runners, "demo", crash)
        job = add_job(db, owner)
        run_with(worker, job.id, REQUEST_ID)
        flush()
        events = receiver.events()
        raw = receiver.raw()

    assert reread(db, job).state == JobState.FAILED.value
    assert len(events) == 1, events
    tags = events[0]["tags"]
    assert tags["request_id"] == REQUEST_ID
    assert tags["job_id"] == str(job.id)
    assert tags["job_kind"] == "demo"
    assert b"job-token-0x61" not in raw
