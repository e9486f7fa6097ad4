"""Logging in, rotating the refresh cookie, logging out, changing the password."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.models import RefreshToken, User
from app.runtime import Runtime
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error, assert_user
from tests.utils.factories import DEFAULT_PASSWORD, make_user, past_reuse_grace

LOGIN = "/api/v1/login/access-token"
REFRESH = "/api/v1/login/refresh"
LOGOUT = "/api/v1/login/logout"
ME = "/api/v1/users/me"
COOKIE = "refresh_token"
COOKIE_PATH = "/api/v1/login"


def login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD) -> TestResponse:
    return client.post(LOGIN, data={"username": email, "password": password})


def bearer(response: TestResponse) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def refresh_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE, path=COOKIE_PATH)
    return cookie.value if cookie is not None else None


def use_refresh_cookie(client: FlaskClient, value: str) -> TestResponse:
    """Refresh presenting `value`, as a client holding that (perhaps stolen) cookie would."""
    client.set_cookie(COOKIE, value, path=COOKIE_PATH)
    return client.post(REFRESH)


def set_cookie_attributes(response: TestResponse) -> dict[str, str]:
    """The refresh cookie's Set-Cookie attributes, names lower-cased (flags map to "")."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, response.headers
    _, *attributes = (part.strip() for part in headers[0].split(";"))
    result = {}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        result[name.lower()] = value
    return result


def assert_token_response(response: TestResponse, runtime: Runtime) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == runtime.settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert response.headers["Cache-Control"] == "no-store"


def test_login_with_form_fields_returns_bearer_token_and_refresh_cookie(
    client: FlaskClient, runtime: Runtime, user: User
) -> None:
    response = client.post(
        LOGIN, data={"username": user.email, "password": DEFAULT_PASSWORD, "grant_type": "password"}
    )
    assert_token_response(response, runtime)
    assert refresh_cookie(client)
    me = client.get(ME, headers=bearer(response))
    assert me.status_code == 200
    assert assert_user(me.get_json())["email"] == user.email


def test_login_with_json_returns_bearer_token(
    client: FlaskClient, runtime: Runtime, user: User
) -> None:
    response = client.post(LOGIN, json={"username": user.email, "password": DEFAULT_PASSWORD})
    assert_token_response(response, runtime)
    assert client.get(ME, headers=bearer(response)).status_code == 200


def test_login_with_email_in_other_case_succeeds(
    client: FlaskClient, runtime: Runtime, user: User
) -> None:
    assert_token_response(login(client, user.email.upper()), runtime)


def test_login_with_wrong_password_or_unknown_email_gives_same_answer(
    client: FlaskClient, user: User
) -> None:
    wrong_password = login(client, user.email, "not-the-password")
    unknown_email = login(client, "nobody@example.com", DEFAULT_PASSWORD)
    assert wrong_password.status_code in (400, 401)
    assert wrong_password.status_code == unknown_email.status_code
    assert assert_error(wrong_password, wrong_password.status_code) == assert_error(
        unknown_email, unknown_email.status_code
    )
    assert wrong_password.get_json()["message"] == "Incorrect email or password"
    assert "Set-Cookie" not in wrong_password.headers
    assert "Set-Cookie" not in unknown_email.headers


def test_login_with_password_over_4_kib_gives_same_answer_for_unknown_and_known_email(
    client: FlaskClient, user: User
) -> None:
    """The password hasher refuses secrets over 4 KiB: that must not tell (a 500 for
    one, a 401 for the other) whether the account exists."""
    huge = "p" * 5000
    known = login(client, user.email, huge)
    unknown = login(client, "nobody@example.com", huge)
    assert known.status_code == unknown.status_code == 401
    assert assert_error(known, 401) == assert_error(unknown, 401)


@pytest.mark.parametrize(
    "grant_type", ["client_credentials", "authorization_code", "refresh_token", ""]
)
def test_login_with_grant_type_other_than_password_is_400(
    client: FlaskClient, user: User, grant_type: str
) -> None:
    response = client.post(
        LOGIN,
        data={"username": user.email, "password": DEFAULT_PASSWORD, "grant_type": grant_type},
    )
    assert_error(response, 400, field="grant_type")
    assert "Set-Cookie" not in response.headers


def test_login_with_grant_type_password_succeeds(
    client: FlaskClient, runtime: Runtime, user: User
) -> None:
    response = client.post(
        LOGIN,
        data={"username": user.email, "password": DEFAULT_PASSWORD, "grant_type": "password"},
    )
    assert_token_response(response, runtime)


def test_login_answers_carry_retry_after_only_when_limited(
    runtime: Runtime, db: Session, user: User
) -> None:
    limited = app_with_settings(
        runtime, RATE_LIMIT_ENABLED=True, RATE_LIMIT_LOGIN_ACCOUNT="2/minute"
    ).test_client()
    ok = login(limited, user.email)
    wrong = login(limited, user.email, "not-the-password")
    refused = login(limited, user.email)
    assert (ok.status_code, wrong.status_code, refused.status_code) == (200, 401, 429)
    assert "Retry-After" not in ok.headers
    assert "Retry-After" not in wrong.headers
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_login_of_inactive_user_is_refused(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    inactive = make_user(db, runtime, is_active=False)
    response = login(client, inactive.email)
    assert response.status_code in (400, 403)
    assert_error(response, response.status_code)
    assert "access_token" not in response.get_json()
    assert "Set-Cookie" not in response.headers


def test_login_without_password_is_rejected_naming_the_field(
    client: FlaskClient, user: User
) -> None:
    response = client.post(LOGIN, data={"username": user.email})
    assert_error(response, response.status_code, field="password")
    assert response.status_code in (400, 422)


def test_refresh_cookie_is_httponly_strict_and_scoped_to_login_path(
    client: FlaskClient, runtime: Runtime, user: User
) -> None:
    attributes = set_cookie_attributes(login(client, user.email))
    assert "httponly" in attributes
    assert attributes["samesite"] == "Strict"
    assert attributes["path"] == COOKIE_PATH
    assert "secure" not in attributes  # REFRESH_COOKIE_SECURE is off by default in local
    lifetime = parsedate_to_datetime(attributes["expires"]) - datetime.now(UTC)
    expected = timedelta(days=runtime.settings.REFRESH_TOKEN_EXPIRE_DAYS)
    assert expected - timedelta(minutes=1) < lifetime <= expected


def test_refresh_cookie_is_secure_when_setting_is_on(
    runtime: Runtime, db: Session, user: User
) -> None:
    secure_client = app_with_settings(runtime, REFRESH_COOKIE_SECURE=True).test_client()
    attributes = set_cookie_attributes(login(secure_client, user.email))
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "Strict"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_refresh_cookie_is_secure_by_default_outside_local(
    runtime: Runtime, db: Session, user: User, environment: str
) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the settings outside local want a database password; SQLite needs none")
    deployed = app_with_settings(runtime, ENVIRONMENT=environment).test_client()
    assert "secure" in set_cookie_attributes(login(deployed, user.email))
    # Turned off explicitly, as for a site tested over plain HTTP.
    plain = app_with_settings(
        runtime, ENVIRONMENT=environment, REFRESH_COOKIE_SECURE=False
    ).test_client()
    assert "secure" not in set_cookie_attributes(login(plain, user.email))


def test_refresh_token_is_stored_only_as_a_hash(
    client: FlaskClient, db: Session, user: User
) -> None:
    login(client, user.email)
    raw = refresh_cookie(client)
    assert raw is not None
    stored = db.scalars(select(RefreshToken.token_hash)).all()
    assert len(stored) == 1
    assert raw not in stored[0]


def test_refresh_rotates_cookie_and_old_one_stops_working(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    login(client, user.email)
    first = refresh_cookie(client)
    response = client.post(REFRESH)
    assert_token_response(response, runtime)
    second = refresh_cookie(client)
    assert second is not None
    assert second != first
    assert client.get(ME, headers=bearer(response)).status_code == 200
    assert set_cookie_attributes(response)["path"] == COOKIE_PATH

    assert first is not None
    past_reuse_grace(db, runtime)
    reused = use_refresh_cookie(client, first)
    assert_error(reused, 401)
    assert reused.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_with_reused_token_revokes_whole_family(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    login(client, user.email)
    stolen = refresh_cookie(client)
    assert client.post(REFRESH).status_code == 200
    newest = refresh_cookie(client)
    assert stolen is not None
    assert newest is not None
    past_reuse_grace(db, runtime)

    assert_error(use_refresh_cookie(client, stolen), 401)
    # The legitimate holder of the newest token is logged out too.
    assert_error(use_refresh_cookie(client, newest), 401)


def test_refresh_reuse_leaves_other_sessions_alone(
    client: FlaskClient, app: Flask, db: Session, runtime: Runtime, user: User
) -> None:
    other_device = app.test_client()
    login(other_device, user.email)
    login(client, user.email)
    stolen = refresh_cookie(client)
    assert client.post(REFRESH).status_code == 200
    assert stolen is not None
    past_reuse_grace(db, runtime)
    assert_error(use_refresh_cookie(client, stolen), 401)
    assert other_device.post(REFRESH).status_code == 200


def test_refresh_twice_with_same_cookie_within_grace_both_succeed_and_family_stays(
    client: FlaskClient, app: Flask, runtime: Runtime, user: User
) -> None:
    """Two tabs waking at once both present the cookie they share."""
    login(client, user.email)
    shared = refresh_cookie(client)
    assert shared is not None
    other_tab = app.test_client()

    first = client.post(REFRESH)
    second = use_refresh_cookie(other_tab, shared)
    assert_token_response(first, runtime)
    assert_token_response(second, runtime)
    for tab in (client, other_tab):
        assert tab.post(REFRESH).status_code == 200
        assert tab.post(REFRESH).status_code == 200


def test_refresh_with_same_cookie_at_the_same_instant_succeeds_twice(
    app: Flask, client: FlaskClient, user: User
) -> None:
    login(client, user.email)
    shared = refresh_cookie(client)
    assert shared is not None
    start = threading.Barrier(2)

    def refresh_in_a_tab() -> int:
        tab = app.test_client()
        tab.set_cookie(COOKIE, shared, path=COOKIE_PATH)
        start.wait()
        return tab.post(REFRESH).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda _: refresh_in_a_tab(), range(2)))
    assert statuses == [200, 200]


def test_refresh_reuse_after_grace_revokes_the_family(
    client: FlaskClient, app: Flask, db: Session, runtime: Runtime, user: User
) -> None:
    login(client, user.email)
    shared = refresh_cookie(client)
    assert shared is not None
    assert client.post(REFRESH).status_code == 200
    past_reuse_grace(db, runtime)

    assert_error(use_refresh_cookie(app.test_client(), shared), 401)
    assert_error(client.post(REFRESH), 401)


def test_refresh_with_expired_token_is_unauthorized(
    client: FlaskClient, db: Session, user: User
) -> None:
    login(client, user.email)
    db.execute(update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    response = client.post(REFRESH)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_without_cookie_is_unauthorized(client: FlaskClient) -> None:
    response = client.post(REFRESH)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_with_unknown_cookie_is_unauthorized(client: FlaskClient) -> None:
    assert_error(use_refresh_cookie(client, "made-up-token"), 401)


def test_refresh_of_deactivated_user_is_unauthorized(
    client: FlaskClient, db: Session, user: User
) -> None:
    login(client, user.email)
    db.execute(update(User).where(User.id == user.id).values(is_active=False))
    db.commit()
    assert_error(client.post(REFRESH), 401)


def test_logout_revokes_refresh_token_and_clears_cookie(client: FlaskClient, user: User) -> None:
    login(client, user.email)
    token = refresh_cookie(client)
    response = client.post(LOGOUT)
    assert response.status_code == 204
    attributes = set_cookie_attributes(response)
    assert attributes["path"] == COOKIE_PATH
    assert attributes["max-age"] == "0"
    assert refresh_cookie(client) is None
    assert token is not None
    assert_error(use_refresh_cookie(client, token), 401)


def test_logout_leaves_other_devices_logged_in(client: FlaskClient, app: Flask, user: User) -> None:
    other_device = app.test_client()
    login(other_device, user.email)
    login(client, user.email)
    assert client.post(LOGOUT).status_code == 204
    assert other_device.post(REFRESH).status_code == 200


def test_logout_when_already_logged_out_returns_no_content(client: FlaskClient, user: User) -> None:
    login(client, user.email)
    assert client.post(LOGOUT).status_code == 204
    assert client.post(LOGOUT).status_code == 204
    assert client.post(LOGOUT, headers={"Cookie": f"{COOKIE}=unknown"}).status_code == 204


def test_test_token_returns_current_user(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/login/test-token", headers=user_headers)
    assert response.status_code == 200
    assert assert_user(response.get_json())["id"] == user.id


def test_test_token_without_token_is_unauthorized(client: FlaskClient) -> None:
    response = client.post("/api/v1/login/test-token")
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_change_password_ends_every_session(client: FlaskClient, app: Flask, user: User) -> None:
    other_device = app.test_client()
    login(other_device, user.email)
    headers = bearer(login(client, user.email))

    response = client.patch(
        f"{ME}/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a-brand-new-secret"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json()["message"]

    stale = client.get(ME, headers=headers)
    assert_error(stale, 401)
    assert stale.headers["WWW-Authenticate"] == "Bearer"
    assert_error(client.post(REFRESH), 401)
    assert_error(other_device.post(REFRESH), 401)
    assert login(client, user.email).status_code in (400, 401)
    assert login(client, user.email, "a-brand-new-secret").status_code == 200


def test_change_password_with_wrong_current_password_is_bad_request(
    client: FlaskClient, user: User
) -> None:
    headers = bearer(login(client, user.email))
    response = client.patch(
        f"{ME}/password",
        json={"current_password": "not-the-password", "new_password": "a-brand-new-secret"},
        headers=headers,
    )
    assert_error(response, 400)
    # Nothing changed: the session goes on and the old password still works.
    assert client.get(ME, headers=headers).status_code == 200
    assert client.post(REFRESH).status_code == 200
    assert login(client, user.email).status_code == 200
