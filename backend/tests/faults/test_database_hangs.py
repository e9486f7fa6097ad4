"""A database that hangs: requests get a 503 within seconds, the docs are served
without it, and everything comes back by itself once it answers again."""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient

from app.runtime import Runtime
from app.web import create_app
from tests.conftest import make_settings
from tests.faults.conftest import ANSWER_WITHIN, Proxied, within
from tests.utils.factories import auth_headers, make_user

ME = "/api/v1/users/me"
HEALTH = "/api/v1/utils/health-check/"


def _app(url: str) -> tuple[Flask, Runtime]:
    # The default connect and statement timeouts: those are what must hold.
    runtime = Runtime.from_settings(make_settings(url, DATABASE_POOL_SIZE=2))
    app = create_app(runtime=runtime)
    return app, runtime


def _status(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> int:
    return client.get(path, headers=headers or {}).status_code


def test_requests_answer_503_within_seconds_while_the_database_hangs_then_recover(
    proxied_database: Proxied,
) -> None:
    app, runtime = _app(proxied_database.url)
    client = app.test_client()
    try:
        with runtime.session_factory() as session:
            headers = auth_headers(runtime, make_user(session, runtime))
        # A connection sits in the pool, as on a server that has been serving.
        assert _status(client, ME, headers) == 200

        proxied_database.proxy.blackhole()
        # The pooled connection waits for an answer that never comes...
        status, _ = within(ANSWER_WITHIN, lambda: _status(client, ME, headers))
        assert status == 503
        # ...and a new one for a server that accepted and then says nothing.
        health, _ = within(ANSWER_WITHIN, lambda: client.get(HEALTH))
        assert health.status_code == 503
        assert health.get_json()["database"] == "unavailable"
        # The docs never touch the database.
        spec, elapsed = within(ANSWER_WITHIN, lambda: client.get("/api/v1/swagger.json"))
        assert spec.status_code == 200 and elapsed < 1

        proxied_database.proxy.heal()
        deadline = time.monotonic() + ANSWER_WITHIN
        while (status := _status(client, ME, headers)) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 200
    finally:
        runtime.engine.dispose()
