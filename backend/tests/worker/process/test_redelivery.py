"""A worker killed in the middle of a job: the broker gives the job's message back
and the next worker finishes it, once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job
from app.runtime import Runtime
from tests.utils.brokers import Broker, rabbitmq_broker, redis_broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.worker import (
    Worker,
    client_on_broker,
    read_job,
    start_job,
    start_worker,
    wait_for_job,
)

# A Redis database of these tests' own (the round trips use another).
REDIS_DB = 6
# Redis gives an unacknowledged message back this many seconds after its delivery.
# It must exceed the job below: a live worker's job is given back too once it is older.
VISIBILITY_TIMEOUT = 4
JOB_SECONDS = 1.5


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    if request.param == "redis":
        yield redis_broker(REDIS_DB)
    else:
        with rabbitmq_broker() as found:
            yield found


@pytest.fixture
def api(runtime: Runtime, broker: Broker, db: Session) -> Iterator[FlaskClient]:
    with client_on_broker(runtime, broker) as client:
        yield client


def test_kill_worker_mid_job_lets_next_worker_finish_it_once(
    api: FlaskClient, broker: Broker, runtime: Runtime, db: Session, log_dir: Path
) -> None:
    owner = make_user(db, runtime, permissions=["jobs:run"])
    headers = auth_headers(runtime, owner)

    def start() -> Worker:
        return start_worker(
            database_url=runtime.settings.DATABASE_URL,
            broker_url=broker.url,
            log_dir=log_dir,
            settings={"CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT},
        )

    first = start()
    try:
        created = start_job(api, headers, seconds=JOB_SECONDS)
        running = wait_for_job(
            api,
            headers,
            created["id"],
            until=lambda job: job["state"] == "running" and job["progress"] > 0,
            worker=first,
        )
        task_id = first.wait_for_log(r"Task jobs\.run\[([0-9a-f-]+)\] received").group(1)
        first.kill()
    finally:
        first.stop()

    # The job's row still says what the dead worker left: running, unfinished.
    interrupted = read_job(api, headers, created["id"])
    assert interrupted["state"] == "running"
    assert interrupted["finished_at"] is None
    assert re.search(rf"jobs\.run\[{task_id}\] succeeded", first.log()) is None

    second = start()
    try:
        done = wait_for_job(api, headers, created["id"], worker=second, timeout=30)
        second.wait_for_log(rf"Task jobs\.run\[{task_id}\] succeeded")
    finally:
        second.stop(wait=False)

    assert done["state"] == "succeeded"
    assert done["progress"] == 100
    assert done["result"] == {"slept": JOB_SECONDS}
    assert done["error"] is None
    # The first claim's start time stands; the job was finished once, by the second worker.
    assert done["started_at"] == running["started_at"]
    assert done["finished_at"] is not None
    assert db.scalar(select(func.count()).select_from(Job)) == 1
    listed = api.get("/api/v1/jobs/", headers=headers).get_json()
    assert [job["id"] for job in listed["data"]] == [created["id"]]
