"""The ml worker module for real: its own virtualenv (scikit-learn, no Flask), its
own queue. The API routes an ml job to the `ml` queue, which the default worker
never takes; the ml worker trains and the job succeeds with its figures; a long
one is cancelled between folds."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.runtime import Runtime
from tests.utils.brokers import Broker, filesystem_broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.worker import (
    JOBS,
    Worker,
    client_on_broker,
    read_job,
    running_worker,
    wait_for_job,
    worker_venv,
)

IRIS = {"dataset": "iris", "model": "logistic_regression"}


def start_ml_job(client: FlaskClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    body = {"kind": "ml.train_classifier", "params": IRIS | params}
    response = client.post(JOBS, json=body, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    job: dict[str, Any] = response.get_json()
    return job


def running_kinds(client: FlaskClient, headers: dict[str, str]) -> dict[str, bool]:
    kinds = client.get(f"{JOBS}kinds", headers=headers).get_json()["data"]
    return {kind["name"]: kind["worker_running"] for kind in kinds}


def test_ml_venv_has_scikit_learn_and_no_flask() -> None:
    python = str(worker_venv("ml") / "bin" / "python")
    has = subprocess.run([python, "-c", "import sklearn"], capture_output=True, check=False)
    assert has.returncode == 0, has.stderr
    flask = subprocess.run([python, "-c", "import flask"], capture_output=True, check=False)
    assert flask.returncode != 0


def test_ml_job_waits_for_the_ml_worker_then_succeeds_with_its_figures(
    worker: Worker,
    broker: Broker,
    runtime: Runtime,
    db: Session,
    log_dir: Path,
) -> None:
    headers = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    admin = auth_headers(runtime, make_user(db, runtime, is_superuser=True))
    with client_on_broker(runtime, broker) as client:
        # A superuser sees which kinds have a worker: the default one's, not ml's.
        assert running_kinds(client, admin) == {"demo": True, "ml.train_classifier": False}
        job = start_ml_job(client, headers)
        # The default worker consumes its own queues only: the ml job stays queued.
        time.sleep(2)
        assert read_job(client, headers, job["id"])["state"] == "queued"
        with running_worker(
            database_url=runtime.settings.DATABASE_URL,
            broker_url=broker.url,
            log_dir=log_dir,
            settings=broker.settings,
            module="ml",
        ):
            done = wait_for_job(client, headers, job["id"], timeout=60)
            with client_on_broker(runtime, broker) as fresh:  # the answer is remembered a while
                assert running_kinds(fresh, admin)["ml.train_classifier"] is True
    assert done["state"] == "succeeded", done
    result = done["result"]
    assert result["classes"] == ["setosa", "versicolor", "virginica"]
    assert (result["n_train"], result["n_test"]) == (112, 38)
    assert 0.85 < result["accuracy"] <= 1
    assert sum(map(sum, result["confusion_matrix"])) == 38
    assert done["progress"] == 100
    assert "ml.train_classifier" not in worker.log()


def test_ml_job_cancelled_while_running_stops_between_folds(
    runtime: Runtime, db: Session, log_dir: Path, tmp_path: Path
) -> None:
    # A broker of its own: an ml worker of the test before, still stopping, must not
    # take this job.
    broker = filesystem_broker(tmp_path / "broker")
    headers = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    with (
        client_on_broker(runtime, broker) as client,
        running_worker(
            database_url=runtime.settings.DATABASE_URL,
            broker_url=broker.url,
            log_dir=log_dir,
            settings=broker.settings,
            module="ml",
        ) as ml_worker,
    ):
        # The largest dataset and the slower model: folds of a second or so.
        job = start_ml_job(client, headers, dataset="digits", model="random_forest")
        wait_for_job(client, headers, job["id"], until=lambda j: j["progress"] >= 5, timeout=60)
        cancelled = client.post(f"{JOBS}{job['id']}/cancel", headers=headers)
        assert cancelled.status_code == 202
        assert cancelled.get_json()["state"] == "cancelled"
        ml_worker.wait_for_log(rf"job {job['id']} was cancelled: stopped", timeout=60)
        done = read_job(client, headers, job["id"])
    assert (done["state"], done["result"]) == ("cancelled", None)
    assert done["progress"] < 100
