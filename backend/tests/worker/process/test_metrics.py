"""A worker node's Prometheus metrics (app/workers/metrics.py), scraped from a real
worker on each broker while it runs jobs that succeed, fail and are cancelled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from app.devtools.ports import free_port
from app.runtime import Runtime
from tests.utils.brokers import Broker, filesystem_broker, redis_broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.worker import (
    Worker,
    client_on_broker,
    running_worker,
    start_job,
    wait_for_job,
    wait_until,
)

# A Redis database of these tests' own, emptied before the worker starts.
REDIS_DB = 9
# Long enough to still be running when the queue is looked at, stopped by a cancel.
SLOW_SECONDS = 20


@pytest.fixture(scope="module", params=["redis", "filesystem"])
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Broker:
    if request.param == "redis":
        return redis_broker(REDIS_DB)
    return filesystem_broker(tmp_path_factory.mktemp("broker"))


@pytest.fixture(scope="module")
def metrics_url(broker: Broker) -> str:
    # A port for each broker's worker: the previous one may still be stopping.
    return f"http://127.0.0.1:{free_port()}/metrics"


@pytest.fixture(scope="module")
def worker(broker: Broker, runtime: Runtime, log_dir: Path, metrics_url: str) -> Iterator[Worker]:
    port = metrics_url.rsplit(":", 1)[1].split("/")[0]
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=log_dir,
        concurrency=2,
        settings=broker.settings
        | {"WORKER_METRICS_PORT": port, "WORKER_METRICS_HOST": "127.0.0.1"},
    ) as started:
        yield started


@pytest.fixture
def api(runtime: Runtime, broker: Broker, worker: Worker, db: Session) -> Iterator[FlaskClient]:
    with client_on_broker(runtime, broker) as client:
        yield client


@pytest.fixture
def runner_headers(runtime: Runtime, db: Session) -> dict[str, str]:
    return auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def tasks(found: dict[tuple[str, frozenset[tuple[str, str]]], float], state: str) -> float:
    key = frozenset({("kind", "demo"), ("state", state)})
    return found.get(("worker_tasks_total", key), 0.0)


def depth(found: dict[tuple[str, frozenset[tuple[str, str]]], float], queue: str) -> float | None:
    return found.get(("worker_queue_depth", frozenset({("queue", queue)})))


def test_worker_metrics_count_jobs_by_outcome_and_show_waiting_ones(
    api: FlaskClient, runner_headers: dict[str, str], worker: Worker, metrics_url: str
) -> None:
    before = scrape(metrics_url)
    assert depth(before, "jobs") == 0
    assert depth(before, "email") == 0

    succeeding = start_job(api, runner_headers, seconds=0)
    failing = start_job(api, runner_headers, fail=True)
    for job in (succeeding, failing):
        wait_for_job(api, runner_headers, job["id"], worker=worker)

    # Both pool processes busy: the next two wait in the queue.
    slow = [start_job(api, runner_headers, seconds=SLOW_SECONDS) for _ in range(2)]
    for job in slow:
        wait_for_job(
            api, runner_headers, job["id"], until=lambda j: j["state"] == "running", worker=worker
        )
    waiting = [start_job(api, runner_headers, seconds=SLOW_SECONDS) for _ in range(2)]
    wait_until(
        lambda: depth(scrape(metrics_url), "jobs") == 2,
        timeout=10,
        what=lambda: f"2 jobs waiting, saw {depth(scrape(metrics_url), 'jobs')}",
    )

    for job in slow + waiting:
        assert (
            api.post(f"/api/v1/jobs/{job['id']}/cancel", headers=runner_headers).status_code == 202
        )
    for job in slow:
        assert wait_for_job(api, runner_headers, job["id"], worker=worker)["state"] == "cancelled"

    # The cancelled ones that never started were not timed.
    duration = ("worker_task_duration_seconds_count", frozenset({("kind", "demo")}))

    def settled() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
        # A job's row says "cancelled" before its task returns and is counted: wait
        # for all six to arrive and the four that ran to end.
        found = scrape(metrics_url)
        received = tasks(found, "received") - tasks(before, "received")
        ended = found.get(duration, 0.0) - before.get(duration, 0.0)
        return found if (received, ended) == (6, 4) else None

    after = wait_until(settled, timeout=20, what="6 jobs received and 4 ended")
    wait_until(lambda: depth(scrape(metrics_url), "jobs") == 0, timeout=20, what="an empty queue")
    for state, count in (("succeeded", 1), ("failed", 1), ("cancelled", 2), ("retried", 0)):
        assert tasks(after, state) - tasks(before, state) == count, state


def test_only_the_node_listens_on_its_metrics_port(worker: Worker, metrics_url: str) -> None:
    """The pool's processes are forked after the server started: they must not keep
    its socket (a child outliving its node would hold the port)."""
    port = int(metrics_url.rsplit(":", 1)[1].split("/")[0])
    node = psutil.Process(worker.pid)
    children = wait_until(
        lambda: node.children(recursive=True) or None, timeout=20, what="the pool's processes"
    )

    def listens(process: psutil.Process) -> bool:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in process.net_connections(kind="tcp")
        )

    assert [process for process in [node, *children] if listens(process)] == [node]
