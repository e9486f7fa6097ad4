"""Redis that hangs, as the rate limits' store and as the job broker: requests are
answered within seconds, never with a 500, and Redis is used again once it answers."""

from __future__ import annotations

import time

import redis
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.models import Job
from app.runtime import Runtime
from tests.faults.conftest import ANSWER_WITHIN, Proxied, within
from tests.utils.apps import app_with_settings
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user

LOGIN = "/api/v1/login/access-token"
RECOVER = "/api/v1/password-recovery/{}"
JOBS = "/api/v1/jobs/"
HEALTH = "/api/v1/utils/health-check/"


def _login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD) -> int:
    return client.post(LOGIN, data={"username": email, "password": password}).status_code


def _counters(proxied: Proxied) -> int:
    """How many rate-limit counters the Redis server holds."""
    client = redis.Redis.from_url(proxied.direct_url)
    try:
        return len(list(client.scan_iter(match="*ratelimit*")))
    finally:
        client.close()


def test_logins_and_recovery_answer_within_seconds_while_the_limit_store_hangs(
    sqlite_runtime: Runtime, proxied_redis: Proxied
) -> None:
    runtime = sqlite_runtime
    with runtime.session_factory() as db:
        user = make_user(db, runtime)
    app = app_with_settings(
        runtime, RATE_LIMIT_ENABLED=True, RATE_LIMIT_STORAGE_URL=proxied_redis.url
    )
    client = app.test_client()
    assert _login(client, user.email) == 200

    proxied_redis.proxy.blackhole()
    for _ in range(3):
        status, _ = within(ANSWER_WITHIN, lambda: _login(client, user.email))
        assert status == 200
        wrong, _ = within(ANSWER_WITHIN, lambda: _login(client, user.email, "wrong-password"))
        assert wrong == 401
        recovered, _ = within(
            ANSWER_WITHIN, lambda: client.post(RECOVER.format(user.email)).status_code
        )
        assert recovered == 200

    proxied_redis.proxy.heal()
    # Back in Redis: the limiter checks the store again after a few seconds.
    deadline = time.monotonic() + 20
    before = _counters(proxied_redis)
    while time.monotonic() < deadline:
        assert _login(client, f"probe{time.monotonic_ns()}@example.com", "x" * 8) == 401
        if _counters(proxied_redis) > before:
            break
        time.sleep(0.5)
    assert _counters(proxied_redis) > before


def test_jobs_answer_503_within_seconds_while_the_broker_hangs_then_recover(
    sqlite_runtime: Runtime, proxied_redis: Proxied
) -> None:
    runtime = sqlite_runtime
    # A shorter BROKER_TIMEOUT than the default 3 s, to keep the suite quick: what is
    # proven is that the wait is bounded by it.
    app = app_with_settings(runtime, CELERY_BROKER_URL=proxied_redis.url, BROKER_TIMEOUT=1)
    assert app.extensions["runtime"].queue.broker.startswith("redis://")
    client = app.test_client()
    db = runtime.session_factory()
    owner = make_user(db, runtime, permissions=["jobs:run"])
    headers = auth_headers(runtime, owner)
    body = {"kind": "demo", "params": {"seconds": 0}}
    assert client.post(JOBS, json=body, headers=headers).status_code == 202

    proxied_redis.proxy.blackhole()
    response, _ = within(ANSWER_WITHIN, lambda: client.post(JOBS, json=body, headers=headers))
    assert response.status_code == 503
    health, _ = within(ANSWER_WITHIN, lambda: client.get(HEALTH))
    assert health.status_code == 503 and health.get_json()["broker"] == "unavailable"
    recovered, _ = within(ANSWER_WITHIN, lambda: client.post(RECOVER.format(owner.email)))
    assert recovered.status_code == 200
    # The job the broker did not take is not left queued forever.
    queued = db.scalar(select(func.count()).select_from(Job).where(Job.state == "queued"))
    assert queued == 1
    db.close()

    proxied_redis.proxy.heal()
    deadline = time.monotonic() + ANSWER_WITHIN
    while (status := client.post(JOBS, json=body, headers=headers).status_code) != 202:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
