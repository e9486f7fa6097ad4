"""Every error on the API is JSON with a message, and every response carries a request id."""

from __future__ import annotations

import io
import logging
import re
import uuid

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder, TestResponse, run_wsgi_app
from werkzeug.wrappers import Request

from app.models import User
from app.runtime import Runtime
from app.services import items as items_service
from app.web import create_app
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error
from tests.utils.brokers import REDIS_URL
from tests.utils.databases import same_on_every_database
from tests.utils.unreachable import app_without_database

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@same_on_every_database
@pytest.mark.parametrize(
    "path", ["/api/nothing-here", "/api/v1/nothing-here", "/api/v1/items/abc", "/api/v2/items/"]
)
def test_request_unknown_api_path_returns_json_404(client: FlaskClient, path: str) -> None:
    assert_error(client.get(path), 404)


@same_on_every_database
@pytest.mark.parametrize(
    "method, path",
    [
        ("put", "/api/v1/items/"),
        ("delete", "/api/v1/users/"),
        ("post", "/api/v1/utils/health-check/"),
        ("get", "/api/v1/login/access-token"),
    ],
)
def test_request_with_wrong_method_returns_json_405(
    client: FlaskClient, method: str, path: str
) -> None:
    response = getattr(client, method)(path)
    assert_error(response, 405)
    assert "Allow" in response.headers


@same_on_every_database
def test_request_with_body_over_limit_returns_json_413(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    body = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/items/", data=body, content_type="application/json", headers=user_headers
    )
    assert_error(response, 413)


@same_on_every_database
def test_request_with_body_over_configured_limit_returns_413(runtime: Runtime, db: Session) -> None:
    small = app_with_settings(runtime, MAX_CONTENT_LENGTH=2048).test_client()
    response = small.post(
        "/api/v1/users/signup", json={"email": "a@example.com", "password": "p" * 4000}
    )
    assert_error(response, 413)


def chunked(client: FlaskClient, path: str, body: bytes, content_type: str) -> TestResponse:
    """A request as granian passes a chunked upload on: Transfer-Encoding chunked, no
    CONTENT_LENGTH, wsgi.input_terminated, the de-chunked body as the input. Run
    straight through the WSGI app: the test client would rebuild the environ."""
    environ = EnvironBuilder(
        path=path,
        method="POST",
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = True
    app_iter, status, headers = run_wsgi_app(client.application, environ, buffered=True)
    return TestResponse(app_iter, status, headers, request=Request(environ))


@same_on_every_database
@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        (
            "/api/v1/login/access-token",
            "application/json",
            b'{"username": "' + b"u" * 2**21 + b'"}',
        ),
        (
            "/api/v1/login/access-token",
            "application/x-www-form-urlencoded",
            b"username=" + b"u" * 2**21,
        ),
        ("/api/v1/users/signup", "application/json", b'{"email": "' + b"e" * 2**21 + b'"}'),
    ],
    ids=["login json", "login form", "signup"],
)
@pytest.mark.parametrize("limits", [False, True], ids=["limits off", "limits on"])
def test_request_with_chunked_body_over_limit_returns_json_413(
    runtime: Runtime, db: Session, path: str, content_type: str, body: bytes, limits: bool
) -> None:
    client = app_with_settings(runtime, RATE_LIMIT_ENABLED=limits).test_client()
    assert_error(chunked(client, path, body, content_type), 413)


@same_on_every_database
def test_login_with_body_over_limit_leaves_the_limits_in_their_store(
    runtime: Runtime, db: Session
) -> None:
    """An oversized body must not make the limiter give up its store (Redis) for the
    per-process fallback, which would let each process count on its own."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is unreachable at {REDIS_URL}")
    marker = uuid.uuid4().hex
    app = app_with_settings(runtime, RATE_LIMIT_ENABLED=True, RATE_LIMIT_STORAGE_URL=REDIS_URL)
    limited = app.test_client()
    try:
        big = b'{"username": "' + b"u" * 2**21 + b'"}'
        assert_error(chunked(limited, "/api/v1/login/access-token", big, "application/json"), 413)
        login = {"username": f"{marker}@example.com", "password": "wrong-password"}
        assert limited.post("/api/v1/login/access-token", data=login).status_code == 401
        assert list(client.scan_iter(match=f"*{marker}*"))
    finally:
        for key in client.scan_iter(match=f"*{marker}*"):
            client.delete(key)
        client.close()


def _app_with_failing_route(runtime: Runtime) -> Flask:
    app = create_app(runtime=runtime)

    @app.get("/api/v1/explode")
    def explode() -> str:
        raise RuntimeError("secret detail: hunter2")

    return app


@same_on_every_database
def test_unhandled_error_returns_json_500_with_request_id_and_no_details(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    client = _app_with_failing_route(runtime).test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/explode")
    body = assert_error(response, 500)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text
    assert "Traceback" not in text
    request_id = response.headers["X-Request-ID"]
    assert body["request_id"] == request_id
    # The id is a field of the record (a field of the line), not repeated in the message.
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert logged
    assert logged[0].levelno == logging.ERROR
    assert logged[0].getMessage() == "unhandled error"
    assert logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])


@same_on_every_database
def test_unhandled_error_in_api_resource_returns_json_500_and_is_logged(
    runtime: Runtime,
    user: User,
    user_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(**_: object) -> None:
        raise ZeroDivisionError("secret detail: hunter2")

    monkeypatch.setattr(items_service, "list_items", fail)
    client = create_app(runtime=runtime).test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/items/", headers=user_headers)
    body = assert_error(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert body["request_id"] == response.headers["X-Request-ID"]
    [logged] = [r for r in caplog.records if r.exc_info]
    assert getattr(logged, "request_id", None) == body["request_id"]
    # The user the token named, bound when the resource authenticated them.
    assert getattr(logged, "user_id", None) == user.id


@same_on_every_database
def test_unhandled_error_keeps_request_id_sent_by_proxy(runtime: Runtime) -> None:
    client = _app_with_failing_route(runtime).test_client()
    response = client.get("/api/v1/explode", headers={"X-Request-ID": "edge-1234-abcd"})
    assert response.headers["X-Request-ID"] == "edge-1234-abcd"
    assert response.get_json()["request_id"] == "edge-1234-abcd"


@same_on_every_database
@pytest.mark.parametrize("path", ["/api/v1/utils/health-check/", "/api/v1/users/me", "/api/nope"])
def test_response_carries_generated_request_id(client: FlaskClient, path: str) -> None:
    first = client.get(path).headers["X-Request-ID"]
    second = client.get(path).headers["X-Request-ID"]
    assert GENERATED_ID.match(first)
    assert first != second


@same_on_every_database
def test_response_echoes_valid_request_id(client: FlaskClient) -> None:
    response = client.get("/api/v1/utils/health-check/", headers={"X-Request-ID": "abc.DEF-123_4"})
    assert response.headers["X-Request-ID"] == "abc.DEF-123_4"


@same_on_every_database
@pytest.mark.parametrize(
    "sent", ["short", "has spaces in it", "x" * 65, "semi;colon-1234", "ünïcode-12345"]
)
def test_response_replaces_invalid_request_id(client: FlaskClient, sent: str) -> None:
    response = client.get("/api/v1/utils/health-check/", headers={"X-Request-ID": sent})
    assert GENERATED_ID.match(response.headers["X-Request-ID"])


def test_request_needing_database_when_it_is_down_returns_json_503() -> None:
    with app_without_database() as (app, down_runtime):
        token = down_runtime.tokens.create_access_token(user_id=1, stamp="s" * 32)
        response = app.test_client().get(
            "/api/v1/items/", headers={"Authorization": f"Bearer {token}"}
        )
    body = assert_error(response, 503)
    assert "database" in body["message"].lower()
