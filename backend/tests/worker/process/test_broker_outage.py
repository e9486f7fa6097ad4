"""The broker goes down and comes back: the API says so quickly, keeps serving
what does not need it, leaves no job queued forever, and runs jobs again once
the broker is back."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.runtime import Runtime
from tests.utils.assertions import assert_error
from tests.utils.brokers import Broker, private_redis
from tests.utils.factories import auth_headers, make_item, make_user
from tests.utils.smtp import LOOPBACK
from tests.utils.worker import client_on_broker, running_worker, start_job, wait_for_job

HEALTH = "/api/v1/utils/health-check/"
# The API's BROKER_TIMEOUT in these tests, and how long it may take to answer
# while the broker is down: that timeout plus a margin.
BROKER_TIMEOUT = 0.5
QUICK = 1.5


def timed(call: Callable[[], TestResponse]) -> TestResponse:
    """The response, asserting it came back quickly."""
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < QUICK, f"answered in {elapsed:.1f} s"
    return response


def test_broker_down_then_back_fails_fast_then_runs_jobs_again(
    runtime: Runtime, db: Session, tmp_path: Path, log_dir: Path
) -> None:
    owner = make_user(db, runtime, permissions=["jobs:run"])
    headers = auth_headers(runtime, owner)
    make_item(db, owner, title="Still readable")
    admin = make_user(db, runtime, is_superuser=True)
    with (
        private_redis(tmp_path) as server,
        running_worker(
            database_url=runtime.settings.DATABASE_URL, broker_url=server.url, log_dir=log_dir
        ) as worker,
        client_on_broker(runtime, Broker(server.url), BROKER_TIMEOUT=BROKER_TIMEOUT) as api,
    ):
        before = start_job(api, headers)
        assert wait_for_job(api, headers, before["id"], worker=worker)["state"] == "succeeded"

        server.stop()

        refused = timed(lambda: api.post("/api/v1/jobs/", json={"kind": "demo"}, headers=headers))
        assert_error(refused, 503)
        listed = timed(lambda: api.get("/api/v1/jobs/", headers=headers))
        assert listed.status_code == 200
        newest = listed.get_json()["data"][0]
        assert newest["id"] != before["id"]
        assert newest["state"] == "failed"
        assert newest["error"]
        assert newest["finished_at"] is not None

        health = timed(lambda: api.get(HEALTH))
        assert health.status_code == 503
        body = health.get_json()
        assert body["status"] == "unavailable"
        assert body["broker"] == "unavailable"
        assert body["database"] == "ok"
        assert "broker" in body["message"]

        me = timed(lambda: api.get("/api/v1/users/me", headers=headers))
        assert me.status_code == 200
        assert me.get_json()["email"] == owner.email
        items = timed(lambda: api.get("/api/v1/items/", headers=headers))
        assert items.status_code == 200
        assert [item["title"] for item in items.get_json()["data"]] == ["Still readable"]
        # Signing up needs no broker: the account exists, only its welcome email is lost.
        signup = timed(
            lambda: api.post(
                "/api/v1/users/signup",
                json={"email": "during-outage@example.com", "password": "a-long-password"},
            )
        )
        assert signup.status_code == 201
        # A test email can't be queued: the superuser is told so.
        mail = timed(
            lambda: api.post(
                "/api/v1/utils/test-email/",
                query_string={"email_to": "ops@example.com"},
                headers=auth_headers(runtime, admin),
            )
        )
        assert_error(mail, 503)

        server.start()

        assert timed(lambda: api.get(HEALTH)).status_code == 200
        after = start_job(api, headers, seconds=0.1)
        done = wait_for_job(api, headers, after["id"], worker=worker, timeout=30)
        assert done["state"] == "succeeded"
        assert done["result"] == {"slept": 0.1}


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a hung broker."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_create_job_with_hung_broker_answers_503_within_timeout(
    runtime: Runtime, db: Session, scheme: str
) -> None:
    headers = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    with (
        silent_server() as port,
        client_on_broker(
            runtime, Broker(f"{scheme}://{LOOPBACK}:{port}/"), BROKER_TIMEOUT=BROKER_TIMEOUT
        ) as api,
    ):
        assert_error(
            timed(lambda: api.post("/api/v1/jobs/", json={"kind": "demo"}, headers=headers)), 503
        )
        health = timed(lambda: api.get(HEALTH))
    assert health.status_code == 503
    assert health.get_json()["broker"] == "unavailable"
    [job] = api.get("/api/v1/jobs/", headers=headers).get_json()["data"]
    assert job["state"] == "failed"
