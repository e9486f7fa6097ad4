"""The worker needs no Flask: it runs from a virtualenv that has none."""

from __future__ import annotations

import subprocess
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.runtime import Runtime
from tests.utils.brokers import Broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.worker import (
    Worker,
    client_on_broker,
    start_job,
    wait_for_job,
    worker_venv,
)


def test_worker_venv_cannot_import_flask() -> None:
    python = worker_venv() / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "import flask"], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "No module named 'flask'" in done.stderr


def test_run_job_with_worker_from_flask_free_venv(
    worker: Worker, broker: Broker, runtime: Runtime, db: Session
) -> None:
    # The running worker is the virtualenv's Python, not this suite's.
    command = Path(f"/proc/{worker.pid}/cmdline").read_bytes().split(b"\0")
    assert Path(command[0].decode()).parent == worker_venv() / "bin"

    headers = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    client: FlaskClient
    with client_on_broker(runtime, broker) as client:
        created = start_job(client, headers, seconds=0.2)
        done = wait_for_job(client, headers, created["id"], worker=worker)
    assert done["state"] == "succeeded"
    assert done["result"] == {"slept": 0.2}
