"""The job task (`jobs.run`) run in-process against each database backend: a job's
transitions, what a redelivered or stale task does, and that the claim is seen by
others before the job's work starts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session
from worker.main import WorkerCelery

from app.db.base import utcnow
from app.models import Job, JobState, User
from app.queue import RUN_JOB
from app.runtime import Runtime
from app.services import jobs
from app.workers import RunningJob
from app.workers import app as worker_app_module
from tests.utils.factories import make_user
from tests.worker.tasks.conftest import WorkerAppFactory


@pytest.fixture
def worker(worker_app: WorkerAppFactory, runtime: Runtime) -> WorkerCelery:
    return worker_app(runtime.settings.DATABASE_URL)


@pytest.fixture
def owner(db: Session, runtime: Runtime) -> User:
    return make_user(db, runtime, permissions=["jobs:run"])


def add_job(db: Session, owner: User, **values: Any) -> Job:
    job = Job(
        kind=values.pop("kind", "demo"),
        params=values.pop("params", {"seconds": 0, "fail": False}),
        owner_id=owner.id,
        state=values.pop("state", JobState.QUEUED.value),
        progress=values.pop("progress", 0),
        **values,
    )
    db.add(job)
    db.commit()
    return job


def run(worker: WorkerCelery, job_id: int) -> None:
    result = worker.tasks[RUN_JOB].apply(args=(job_id,))
    assert result.state == "SUCCESS", result.traceback


def reread(db: Session, job: Job) -> Job:
    """The row as committed now (in a new transaction: MariaDB's keeps its snapshot)."""
    db.rollback()
    db.expire_all()
    found = db.get(Job, job.id)
    assert found is not None
    return found


def test_queued_job_runs_to_success(worker: WorkerCelery, db: Session, owner: User) -> None:
    job = add_job(db, owner, params={"seconds": 0.02, "fail": False})
    run(worker, job.id)
    done = reread(db, job)
    assert done.state == JobState.SUCCEEDED.value
    assert done.progress == 100
    assert done.result == {"slept": 0.02}
    assert done.error is None
    assert done.started_at is not None and done.finished_at is not None
    assert done.created_at <= done.started_at <= done.finished_at


def test_job_asked_to_fail_is_failed_with_its_message(
    worker: WorkerCelery, db: Session, owner: User
) -> None:
    job = add_job(db, owner, params={"seconds": 0, "fail": True})
    run(worker, job.id)
    done = reread(db, job)
    assert done.state == JobState.FAILED.value
    assert done.error == "The demo job failed, as asked"
    assert done.result is None
    assert done.finished_at is not None


def test_claim_is_committed_before_the_work_starts(
    worker: WorkerCelery,
    db: Session,
    owner: User,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, int]] = []

    def probe(running: RunningJob[Any]) -> str:
        # Another connection sees the claim, and each step, as the job runs.
        with runtime.session_factory() as other:
            row = other.get(Job, job.id)
            assert row is not None
            seen.append((row.state, row.progress))
            running.progress(40)
            other.rollback()
            other.expire_all()
            row = other.get(Job, job.id)
            assert row is not None
            seen.append((row.state, row.progress))
        return "probed"

    monkeypatch.setitem(worker.runners, "demo", probe)
    job = add_job(db, owner)
    run(worker, job.id)
    assert seen == [(JobState.RUNNING.value, 0), (JobState.RUNNING.value, 40)]
    done = reread(db, job)
    assert (done.state, done.progress, done.result) == (JobState.SUCCEEDED.value, 100, "probed")


def test_redelivered_running_job_finishes_once_keeping_its_start(
    worker: WorkerCelery, db: Session, owner: User
) -> None:
    # What a worker killed mid-job leaves: running, started, unfinished.
    started = utcnow() - timedelta(minutes=5)
    job = add_job(db, owner, state=JobState.RUNNING.value, progress=30, started_at=started)
    run(worker, job.id)
    done = reread(db, job)
    assert done.state == JobState.SUCCEEDED.value
    assert done.started_at == started
    assert done.finished_at is not None and done.finished_at > started


@pytest.mark.parametrize("state", [JobState.SUCCEEDED.value, JobState.FAILED.value])
def test_finished_job_delivered_again_is_left_alone(
    worker: WorkerCelery, db: Session, owner: User, state: str
) -> None:
    finished = utcnow() - timedelta(minutes=1)
    job = add_job(
        db,
        owner,
        state=state,
        progress=100,
        result={"first": True},
        started_at=finished - timedelta(seconds=3),
        finished_at=finished,
    )
    run(worker, job.id)
    again = reread(db, job)
    assert (again.state, again.result, again.finished_at) == (state, {"first": True}, finished)


def test_vanished_job_is_dropped(worker: WorkerCelery, db: Session, owner: User) -> None:
    job = add_job(db, owner)
    job_id = job.id
    db.delete(job)
    db.commit()
    run(worker, job_id)
    assert db.scalar(select(func.count()).select_from(Job)) == 0


def test_a_job_is_claimed_and_finished_once(worker: WorkerCelery, db: Session, owner: User) -> None:
    """Two deliveries racing on one row, step by step: each transition is applied
    once, whichever delivery comes first."""
    job = add_job(db, owner)
    engine = worker.runtime.autocommit_engine
    with engine.connect() as first, engine.connect() as second:
        assert jobs.claim(connection=first, job_id=job.id) is not None
        claimed = reread(db, job)
        assert claimed.state == JobState.RUNNING.value
        # A second claim of a running job succeeds (its worker died, say) but keeps
        # the first start time.
        again = jobs.claim(connection=second, job_id=job.id)
        assert again is not None and again.started_at == claimed.started_at
        assert jobs.finish(connection=second, job_id=job.id, result={"by": "second"})
        assert not jobs.finish(connection=first, job_id=job.id, error="too late")
        assert jobs.claim(connection=first, job_id=job.id) is None
        assert jobs.claim(connection=first, job_id=job.id + 1000) is None
    done = reread(db, job)
    assert done.state == JobState.SUCCEEDED.value
    assert (done.result, done.error) == ({"by": "second"}, None)


def test_jobs_share_the_connection_until_one_fails(
    worker: WorkerCelery, db: Session, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = worker.runners["demo"]

    def crash_when_asked(running: RunningJob[Any]) -> Any:
        if running.id == crashing.id:
            raise RuntimeError("a bug in the job")
        return demo(running)

    monkeypatch.setitem(worker.runners, "demo", crash_when_asked)
    first, second, crashing, after = (add_job(db, owner) for _ in range(4))
    run(worker, first.id)
    kept = worker.job_connection()
    run(worker, second.id)
    assert worker.job_connection() is kept
    # A job stopped at an unknown point: its outcome is written on a fresh connection.
    run(worker, crashing.id)
    assert worker.job_connection() is not kept
    assert kept.closed
    run(worker, after.id)
    states = [reread(db, job).state for job in (first, second, crashing, after)]
    assert states == ["succeeded", "succeeded", "failed", "succeeded"]


def test_connection_left_idle_goes_back_to_the_pool(
    worker: WorkerCelery, db: Session, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(worker, add_job(db, owner).id)
    kept = worker.job_connection()
    monkeypatch.setattr(worker_app_module, "JOB_CONNECTION_IDLE_SECONDS", -1.0)
    job = add_job(db, owner)
    run(worker, job.id)
    assert kept.closed
    assert reread(db, job).state == JobState.SUCCEEDED.value


def drop_connection(db: Session, victim: Connection) -> None:
    """What a database restart or an idle timeout does to a connection: the server
    ends it (SQLite has no server: the driver's connection is closed under it)."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    elif dialect == "mariadb":
        thread = int(victim.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
        db.connection().exec_driver_sql(f"KILL {thread}")
    else:
        victim.connection.dbapi_connection.close()  # type: ignore[union-attr]
    db.commit()


def test_job_after_the_database_dropped_the_connection_runs(
    worker: WorkerCelery, db: Session, owner: User
) -> None:
    run(worker, add_job(db, owner).id)
    kept = worker.job_connection()
    drop_connection(db, kept)
    job = add_job(db, owner)
    run(worker, job.id)  # fails once on the dropped connection, then retries on a new one
    assert reread(db, job).state == JobState.SUCCEEDED.value
    assert worker.job_connection() is not kept


def test_running_job_cancelled_stops_at_its_next_progress_step(
    worker: WorkerCelery,
    db: Session,
    owner: User,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[int] = []

    def long_job(running: RunningJob[Any]) -> str:
        running.progress(10)
        steps.append(10)
        # Its owner cancels it now, through the API's service.
        with runtime.session_factory() as session:
            jobs.cancel_job(session=session, viewer=owner_in(session), job_id=running.id)
            session.commit()
        running.progress(20)
        steps.append(20)  # never reached
        return "finished anyway"

    def owner_in(session: Session) -> User:
        found = session.get(User, owner.id)
        assert found is not None
        return found

    monkeypatch.setitem(worker.runners, "demo", long_job)
    job = add_job(db, owner)
    run(worker, job.id)
    assert steps == [10]
    done = reread(db, job)
    assert (done.state, done.progress, done.result) == (JobState.CANCELLED.value, 10, None)
    assert done.finished_at is not None


def test_cancelled_job_delivered_is_left_alone(
    worker: WorkerCelery, db: Session, owner: User
) -> None:
    job = add_job(db, owner, state=JobState.CANCELLED.value, finished_at=utcnow())
    run(worker, job.id)
    again = reread(db, job)
    assert (again.state, again.started_at) == (JobState.CANCELLED.value, None)


def test_job_of_an_unknown_kind_fails_saying_so(
    worker: WorkerCelery, db: Session, owner: User
) -> None:
    job = add_job(db, owner, kind="retired_kind", params={})
    run(worker, job.id)
    done = reread(db, job)
    assert (done.state, done.error) == (
        JobState.FAILED.value,
        "No job kind is named 'retired_kind'",
    )


def test_worker_module_without_a_runner_for_one_of_its_kinds_refuses_to_start() -> None:
    from app.kinds import default, ml
    from app.workers import create_worker_app

    with pytest.raises(RuntimeError, match=r"no runner for the job kinds \['demo'\]"):
        create_worker_app(queues=[default.QUEUE], runners={})
    with pytest.raises(RuntimeError, match="run on other queues"):
        create_worker_app(
            queues=[ml.QUEUE],
            runners={ml.TRAIN_CLASSIFIER: lambda job: None, default.DEMO: lambda job: None},
        )
