"""The metrics Prometheus's rules and the Grafana dashboard read
(compose/prometheus/rules.yml, compose/grafana/dashboard.json) are ones the API
and a worker module really expose: both scraped, the API after requests and a
job, the worker (a real one, its endpoint on WORKER_METRICS_PORT) after running it."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.devtools.ports import free_port
from app.runtime import Runtime
from tests.utils.brokers import Broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.prometheus import exposed_names, names_queried
from tests.utils.worker import Worker, client_on_broker, running_worker, start_job, wait_for_job


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def worker(broker: Broker, runtime: Runtime, log_dir: Path, metrics_port: int) -> Iterator[Worker]:
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=log_dir,
        settings=broker.settings | {"WORKER_METRICS_PORT": metrics_port},
    ) as started:
        yield started


def test_rules_and_dashboard_read_only_metrics_that_are_exposed(
    runtime: Runtime, broker: Broker, worker: Worker, metrics_port: int, db: Session
) -> None:
    headers = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    with client_on_broker(runtime, broker) as client:
        job = start_job(client, headers)
        assert wait_for_job(client, headers, job["id"], worker=worker)["state"] == "succeeded"
        assert client.get("/api/v1/utils/health-check/").status_code == 200
        assert client.get("/api/v1/no-such-thing").status_code == 404
        response = client.get("/metrics")
        assert response.status_code == 200
        api = exposed_names(response.get_data(as_text=True))
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as page:
        workers = exposed_names(page.read().decode())

    assert {"http_requests_total", "jobs_created_total"} <= api
    assert {"worker_tasks_total", "worker_queue_depth"} <= workers
    queried = names_queried()
    assert queried >= {"http_requests_total", "worker_tasks_total"}
    assert queried - (api | workers) == set()
