"""The main flows over real HTTP, with nothing but `requests`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.live.conftest import LiveApi

pytestmark = pytest.mark.live

TIMEOUT = 10
REFRESH_COOKIE = "refresh_token"
REFRESH_COOKIE_PATH = "/api/v1/login"


def login(api: LiveApi, email: str, password: str, session: Any = requests) -> requests.Response:
    return session.post(
        api.url("/api/v1/login/access-token"),
        data={"username": email, "password": password},
        timeout=TIMEOUT,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def superuser_headers(live_api: LiveApi) -> dict[str, str]:
    response = login(live_api, live_api.superuser_email, live_api.superuser_password)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def test_health_check_reports_ok(live_api: LiveApi) -> None:
    response = requests.get(live_api.url("/api/v1/utils/health-check/"), timeout=TIMEOUT)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_get_docs_serves_swagger_ui_and_spec(live_api: LiveApi) -> None:
    docs = requests.get(live_api.url("/api/docs"), timeout=TIMEOUT)
    spec = requests.get(live_api.url("/api/v1/swagger.json"), timeout=TIMEOUT)

    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")
    assert "swagger" in docs.text.lower()
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert {"/login/access-token", "/items/", "/users/me"} <= set(paths)


def test_login_as_first_superuser_returns_bearer_token(live_api: LiveApi) -> None:
    response = login(live_api, live_api.superuser_email, live_api.superuser_password)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = requests.post(
        live_api.url("/api/v1/login/test-token"),
        headers=bearer(body["access_token"]),
        timeout=TIMEOUT,
    )
    assert me.status_code == 200
    assert me.json()["email"] == live_api.superuser_email
    assert me.json()["is_superuser"] is True


def test_login_with_wrong_password_is_refused(live_api: LiveApi) -> None:
    response = login(live_api, live_api.superuser_email, "not-the-password")

    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


def test_item_create_read_update_delete(
    live_api: LiveApi, superuser_headers: dict[str, str]
) -> None:
    created = requests.post(
        live_api.url("/api/v1/items/"),
        json={"title": "Live item", "description": "over HTTP"},
        headers=superuser_headers,
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    item_url = live_api.url(f"/api/v1/items/{created.json()['id']}")

    read = requests.get(item_url, headers=superuser_headers, timeout=TIMEOUT)
    assert read.status_code == 200
    assert read.json()["title"] == "Live item"

    updated = requests.patch(
        item_url, json={"title": "Renamed"}, headers=superuser_headers, timeout=TIMEOUT
    )
    assert updated.status_code == 200
    assert updated.json()["title"] == "Renamed"
    assert updated.json()["description"] == "over HTTP"

    deleted = requests.delete(item_url, headers=superuser_headers, timeout=TIMEOUT)
    assert deleted.status_code == 204
    gone = requests.get(item_url, headers=superuser_headers, timeout=TIMEOUT)
    assert gone.status_code == 404
    assert "message" in gone.json()


def test_signup_then_login_as_new_user(
    live_api: LiveApi, superuser_headers: dict[str, str]
) -> None:
    """With email verification required (the default), the login waits until the
    address is verified: here, by an administrator, as no mailbox is read."""
    email = f"live-{uuid.uuid4().hex[:12]}@example.com"
    password = "a-new-users-password"
    signup = requests.post(
        live_api.url("/api/v1/users/signup"),
        json={"email": email, "password": password, "full_name": "Live User"},
        timeout=TIMEOUT,
    )
    if signup.status_code == 403:
        pytest.skip("open registration is off on this deployment")
    assert signup.status_code == 201, signup.text
    assert signup.json()["is_superuser"] is False
    assert signup.json()["email_verified"] is False

    response = login(live_api, email, password)
    if response.status_code == 403:
        assert response.json()["email_verification_required"] is True, response.text
        marked = requests.patch(
            live_api.url(f"/api/v1/users/{signup.json()['id']}"),
            json={"email_verified": True},
            headers=superuser_headers,
            timeout=TIMEOUT,
        )
        assert marked.status_code == 200, marked.text
        response = login(live_api, email, password)
    assert response.status_code == 200, response.text
    me = requests.get(
        live_api.url("/api/v1/users/me"),
        headers=bearer(response.json()["access_token"]),
        timeout=TIMEOUT,
    )
    assert me.status_code == 200
    assert me.json()["email"] == email
    assert me.json()["full_name"] == "Live User"
    assert "password" not in me.text


def test_refresh_cookie_rotates_and_reuse_revokes_the_login(live_api: LiveApi) -> None:
    with requests.Session() as browser:
        logged_in = login(live_api, live_api.superuser_email, live_api.superuser_password, browser)
        assert logged_in.status_code == 200
        [cookie] = [c for c in browser.cookies if c.name == REFRESH_COOKIE]
        assert cookie.path == REFRESH_COOKIE_PATH
        assert cookie.has_nonstandard_attr("HttpOnly")
        first_token = cookie.value

        refreshed = browser.post(live_api.url("/api/v1/login/refresh"), timeout=TIMEOUT)
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["access_token"]
        second_token = browser.cookies.get(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
        assert second_token not in (None, first_token)

        # A second tab presenting the rotated token at once still gets in...
        other_tab = replay(live_api, first_token)
        assert other_tab.status_code == 200, other_tab.text
        # ...but past the grace window, a replay means it leaked: the login is revoked.
        time.sleep(live_api.refresh_reuse_grace_seconds + 1)
        assert replay(live_api, first_token).status_code == 401
        after_replay = browser.post(live_api.url("/api/v1/login/refresh"), timeout=TIMEOUT)
        assert after_replay.status_code == 401


def replay(live_api: LiveApi, token: str) -> requests.Response:
    return requests.post(
        live_api.url("/api/v1/login/refresh"), cookies={REFRESH_COOKIE: token}, timeout=TIMEOUT
    )


def test_login_with_chunked_body_over_the_limit_is_413(live_api: LiveApi) -> None:
    """A body sent without a length (chunked) is measured all the same."""

    def body() -> Iterator[bytes]:
        yield b"username="
        for _ in range(40):
            yield b"u" * 64 * 1024

    response = requests.post(
        live_api.url("/api/v1/login/access-token"),
        data=body(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 413
    assert response.json()["message"]


def test_logout_revokes_refresh_cookie(live_api: LiveApi) -> None:
    with requests.Session() as browser:
        login(live_api, live_api.superuser_email, live_api.superuser_password, browser)
        token = browser.cookies.get(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)

        logout = browser.post(live_api.url("/api/v1/login/logout"), timeout=TIMEOUT)

        assert logout.status_code == 204
        assert browser.cookies.get(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH) is None
        reused = requests.post(
            live_api.url("/api/v1/login/refresh"),
            cookies={REFRESH_COOKIE: token or ""},
            timeout=TIMEOUT,
        )
        assert reused.status_code == 401


def test_request_without_token_is_401_with_bearer_challenge(live_api: LiveApi) -> None:
    response = requests.get(live_api.url("/api/v1/users/me"), timeout=TIMEOUT)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["message"]
