"""Jobs run end to end on each broker: the API enqueues, a real worker runs them,
the API shows their progress and outcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.runtime import Runtime
from tests.utils.brokers import Broker, filesystem_broker, rabbitmq_broker, redis_broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.worker import (
    Worker,
    client_on_broker,
    running_worker,
    start_job,
    wait_for_job,
)

# A Redis database of these tests' own (the redelivery tests use another), emptied
# once before its worker starts: the keys the worker keeps there must stay while it runs.
REDIS_DB = 5
# The workers here stop a job after this many seconds.
TIME_LIMIT = 2


@pytest.fixture(scope="module", params=["redis", "rabbitmq", "filesystem"])
def broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Broker]:
    if request.param == "redis":
        yield redis_broker(REDIS_DB)
    elif request.param == "rabbitmq":
        with rabbitmq_broker() as found:
            yield found
    else:
        yield filesystem_broker(tmp_path_factory.mktemp("broker"))


@pytest.fixture(scope="module")
def worker(broker: Broker, runtime: Runtime, log_dir: Path) -> Iterator[Worker]:
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=log_dir,
        concurrency=2,
        settings=broker.settings | {"JOB_TIME_LIMIT_SECONDS": TIME_LIMIT},
    ) as started:
        yield started


@pytest.fixture
def api(runtime: Runtime, broker: Broker, worker: Worker, db: Session) -> Iterator[FlaskClient]:
    with client_on_broker(runtime, broker) as client:
        yield client


@pytest.fixture
def runner_headers(runtime: Runtime, db: Session) -> dict[str, str]:
    return auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))


def test_run_demo_job_reports_progress_then_success(
    api: FlaskClient, runner_headers: dict[str, str], worker: Worker
) -> None:
    created = start_job(api, runner_headers, seconds=1)
    assert created["state"] == "queued"

    running = wait_for_job(
        api,
        runner_headers,
        created["id"],
        until=lambda job: job["state"] == "running" and 0 < job["progress"] < 100,
        worker=worker,
    )
    assert running["started_at"] is not None
    assert running["finished_at"] is None

    done = wait_for_job(api, runner_headers, created["id"], worker=worker)
    assert done["state"] == "succeeded"
    assert done["progress"] == 100
    assert done["result"] == {"slept": 1}
    assert done["error"] is None
    assert done["started_at"] == running["started_at"]
    created_at, started_at, finished_at = (
        datetime.fromisoformat(done[key]) for key in ("created_at", "started_at", "finished_at")
    )
    assert created_at <= started_at <= finished_at


def test_job_log_lines_carry_the_request_id_that_enqueued_it(
    api: FlaskClient, runner_headers: dict[str, str], worker: Worker
) -> None:
    request_id = f"edge-{uuid.uuid4().hex[:12]}"
    created = start_job(api, runner_headers | {"X-Request-ID": request_id}, seconds=0)
    wait_for_job(api, runner_headers, created["id"], worker=worker)
    line = worker.wait_for_log(rf"job {created['id']} \(demo\) started.*")
    assert f"request_id={request_id}" in line.group(0)
    assert f"job_id={created['id']} job_kind=demo" in line.group(0)


def test_run_demo_job_asked_to_fail_reports_failure(
    api: FlaskClient, runner_headers: dict[str, str], worker: Worker
) -> None:
    created = start_job(api, runner_headers, seconds=0, fail=True)
    done = wait_for_job(api, runner_headers, created["id"], worker=worker)
    assert done["state"] == "failed"
    assert "failed" in done["error"]
    assert done["result"] is None
    assert done["started_at"] is not None
    assert done["finished_at"] is not None


def test_run_several_jobs_finishes_each_with_its_own_result(
    api: FlaskClient, runner_headers: dict[str, str], worker: Worker
) -> None:
    seconds = [0, 0.1, 0.2, 0.3]
    created = [start_job(api, runner_headers, seconds=s) for s in seconds]
    done = [wait_for_job(api, runner_headers, job["id"], worker=worker) for job in created]
    assert [job["state"] for job in done] == ["succeeded"] * len(seconds)
    assert [job["result"] for job in done] == [{"slept": s} for s in seconds]
    listed = api.get("/api/v1/jobs/", headers=runner_headers).get_json()
    assert listed["count"] == len(seconds)


def test_run_demo_job_longer_than_time_limit_reports_failure(
    api: FlaskClient, runner_headers: dict[str, str], worker: Worker
) -> None:
    created = start_job(api, runner_headers, seconds=TIME_LIMIT + 2)
    done = wait_for_job(api, runner_headers, created["id"], worker=worker)
    assert done["state"] == "failed"
    assert done["error"] == "The job ran out of time"
    assert 0 < done["progress"] < 100
    assert done["result"] is None
    started_at, finished_at = (
        datetime.fromisoformat(done[key]) for key in ("started_at", "finished_at")
    )
    # Stopped at the limit (counted from the task's start, a moment before the claim),
    # well before the job's own end.
    assert TIME_LIMIT - 1 < (finished_at - started_at).total_seconds() < TIME_LIMIT + 1.5
