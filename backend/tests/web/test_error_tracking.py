"""Error tracking on the API: an unhandled error sends one event, through the SDK's
real transport to a receiver on loopback, tagged with the request id and free of
secrets; without SENTRY_DSN nothing is set up."""

from __future__ import annotations

import sentry_sdk
from flask import Flask, request
from sqlalchemy.orm import Session

from app.runtime import Runtime
from app.web import create_app
from tests.utils.apps import app_with_settings
from tests.utils.sentry import flush, receiving, switch_off

SECRETS = [
    "bearer-secret-0x51",
    "cookie-secret-0x52",
    "query-secret-0x53",
    "body-password-0x54",
]


def _failing(app: Flask) -> Flask:
    @app.post("/api/v1/explode")
    def explode() -> str:
        # A local variable the event's stack frame must not show.
        password = request.get_json()["password"]
        raise RuntimeError(f"exploded with {len(password)} and {request.args.get('page')}")

    return app


def test_unhandled_error_sends_one_event_with_request_id_and_no_secrets(
    runtime: Runtime, db: Session
) -> None:
    with receiving() as receiver:
        client = _failing(app_with_settings(runtime, SENTRY_DSN=receiver.dsn)).test_client()
        client.set_cookie("refresh_token", "cookie-secret-0x52")
        response = client.post(
            "/api/v1/explode?page=2&token=query-secret-0x53",
            json={"email": "a@example.com", "password": "body-password-0x54"},
            headers={
                "Authorization": "Bearer bearer-secret-0x51",
                "X-Request-ID": "edge-req-0001",
            },
        )
        assert response.status_code == 500
        flush()
        events = receiver.events()
        raw = receiver.raw()

    assert len(events) == 1, events
    event = events[0]
    assert event["tags"]["request_id"] == "edge-req-0001"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["environment"] == "local"
    assert b"edge-req-0001" in raw
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    assert b"Bearer" not in raw


def test_handled_errors_send_nothing(runtime: Runtime, db: Session) -> None:
    with receiving() as receiver:
        client = app_with_settings(runtime, SENTRY_DSN=receiver.dsn).test_client()
        assert client.get("/api/v1/nothing-here").status_code == 404
        assert client.get("/api/v1/users/me").status_code == 401
        flush()
        assert receiver.events() == []


def test_without_dsn_nothing_is_set_up(runtime: Runtime) -> None:
    switch_off()
    assert runtime.settings.SENTRY_DSN is None
    create_app(runtime=runtime)
    assert not sentry_sdk.get_client().is_active()
