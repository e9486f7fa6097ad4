"""Two-factor authentication: enrollment, the login's second step, recovery codes,
turning it off, and an admin's reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.models import MfaChallenge, MfaRecoveryCode, RefreshToken, User
from app.runtime import Runtime
from tests.utils.assertions import assert_client_error, assert_error, assert_user
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.utils.mfa import enable_mfa, now_code

LOGIN = "/api/v1/login/access-token"
LOGIN_MFA = "/api/v1/login/mfa"
ME = "/api/v1/users/me"
START = "/api/v1/users/me/mfa/totp"
CONFIRM = "/api/v1/users/me/mfa/totp/confirm"
DISABLE = "/api/v1/users/me/mfa/totp/disable"
RESET = "/api/v1/users/{}/mfa"
COOKIE = "refresh_token"
COOKIE_PATH = "/api/v1/login"


def login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD) -> TestResponse:
    return client.post(LOGIN, data={"username": email, "password": password})


def mfa_token(client: FlaskClient, email: str) -> str:
    """The mfa_token a login with the right password gets."""
    response = login(client, email)
    assert response.status_code == 403, response.get_data(as_text=True)
    token = response.get_json()["mfa_token"]
    assert isinstance(token, str)
    return token


def login_mfa(client: FlaskClient, token: str, code: str) -> TestResponse:
    return client.post(LOGIN_MFA, json={"mfa_token": token, "code": code})


def refresh_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE, path=COOKIE_PATH)
    return cookie.value if cookie is not None else None


def me(client: FlaskClient, headers: dict[str, str]) -> dict[str, object]:
    response = client.get(ME, headers=headers)
    assert response.status_code == 200
    return assert_user(response.get_json())


def enroll(client: FlaskClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    """Turn MFA on through the API: the secret and the recovery codes."""
    started = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=headers)
    assert started.status_code == 200, started.get_data(as_text=True)
    secret = started.get_json()["secret"]
    confirmed = client.post(CONFIRM, json={"code": now_code(secret)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    return secret, confirmed.get_json()["recovery_codes"]


# --- enrollment --------------------------------------------------------------


def test_start_enrollment_returns_secret_and_otpauth_uri_for_the_account(
    client: FlaskClient, runtime: Runtime, user: User, user_headers: dict[str, str]
) -> None:
    response = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=user_headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"secret", "otpauth_uri"}
    assert response.headers["Cache-Control"] == "no-store"
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    issuer = runtime.settings.PROJECT_NAME
    assert unquote(uri.path) == f"/{issuer}:{user.email}"
    query = parse_qs(uri.query)
    assert query["secret"] == [body["secret"]]
    assert query["issuer"] == [issuer]
    # Not on until a code confirms it.
    assert me(client, user_headers)["mfa_enabled"] is False
    assert login(client, user.email).status_code == 200


def test_start_enrollment_stores_the_secret_encrypted(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    response = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=user_headers)
    secret = response.get_json()["secret"]
    db.rollback()
    stored = db.scalar(select(User.mfa_secret).where(User.id == user.id))
    assert stored is not None
    assert secret not in stored
    assert secret.lower() not in stored.lower()


def test_start_enrollment_with_wrong_password_is_refused(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.post(START, json={"password": "not-my-password"}, headers=user_headers)
    assert_error(response, 400, field="password")


def test_start_enrollment_needs_a_token(client: FlaskClient) -> None:
    assert_error(client.post(START, json={"password": DEFAULT_PASSWORD}), 401)


def test_start_enrollment_again_replaces_the_pending_secret(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    first = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=user_headers)
    second = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=user_headers)
    old, new = first.get_json()["secret"], second.get_json()["secret"]
    assert old != new
    refused = client.post(CONFIRM, json={"code": now_code(old)}, headers=user_headers)
    assert_error(refused, 400, field="code")
    accepted = client.post(CONFIRM, json={"code": now_code(new)}, headers=user_headers)
    assert accepted.status_code == 200


def test_confirm_turns_mfa_on_and_returns_ten_recovery_codes_stored_hashed(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    _, codes = enroll(client, user_headers)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert me(client, user_headers)["mfa_enabled"] is True
    db.rollback()
    stored = db.scalars(
        select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == user.id)
    ).all()
    assert len(stored) == 10
    assert not {code.replace("-", "") for code in codes} & {h.replace("-", "") for h in stored}
    assert not any(code in h for code in codes for h in stored)


def test_confirm_with_wrong_code_is_refused_and_leaves_mfa_off(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    started = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=user_headers)
    secret = started.get_json()["secret"]
    wrong = "000000" if now_code(secret) != "000000" else "111111"
    assert_error(client.post(CONFIRM, json={"code": wrong}, headers=user_headers), 400)
    assert_error(client.post(CONFIRM, json={"code": "abc"}, headers=user_headers), 400)
    assert me(client, user_headers)["mfa_enabled"] is False


def test_confirm_before_starting_is_refused(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    assert_error(client.post(CONFIRM, json={"code": "123456"}, headers=user_headers), 400)


def test_start_enrollment_when_already_on_is_a_conflict(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    enroll(client, user_headers)
    response = client.post(START, json={"password": DEFAULT_PASSWORD}, headers=user_headers)
    body = assert_error(response, 409)
    assert "already on" in body["message"]
    assert_error(client.post(CONFIRM, json={"code": "123456"}, headers=user_headers), 409)


# --- logging in ----------------------------------------------------------------


def test_login_with_mfa_on_answers_403_with_a_token_and_sets_no_cookie(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    enable_mfa(db, runtime, user, DEFAULT_PASSWORD)
    response = login(client, user.email)
    body = assert_error(response, 403)
    assert body["mfa_required"] is True
    assert isinstance(body["mfa_token"], str)
    assert set(body) == {"message", "mfa_required", "mfa_token"}
    assert "Set-Cookie" not in response.headers
    assert refresh_cookie(client) is None
    # The mfa_token is no access token.
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {body['mfa_token']}"}), 401)


def test_login_with_mfa_and_a_wrong_password_is_refused_as_without(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    enable_mfa(db, runtime, user, DEFAULT_PASSWORD)
    body = assert_client_error(login(client, user.email, "wrong-password"))
    assert "mfa_token" not in body


def test_login_mfa_with_code_logs_in_with_a_refresh_cookie(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    response = login_mfa(client, mfa_token(client, user.email), now_code(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert response.headers["Cache-Control"] == "no-store"
    assert refresh_cookie(client)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert me(client, headers)["mfa_enabled"] is True
    # The cookie refreshes like any login's.
    assert client.post("/api/v1/login/refresh").status_code == 200


@pytest.mark.parametrize("steps", [-1, 1])
def test_login_mfa_accepts_the_code_of_the_next_or_previous_step(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, steps: int
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    response = login_mfa(client, mfa_token(client, user.email), now_code(secret, steps))
    assert response.status_code == 200


@pytest.mark.parametrize("steps", [-2, 2])
def test_login_mfa_refuses_a_code_far_from_now(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, steps: int
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    response = login_mfa(client, mfa_token(client, user.email), now_code(secret, steps))
    assert_error(response, 401)
    assert refresh_cookie(client) is None


def test_login_mfa_refuses_a_code_used_before(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    code = now_code(secret)
    assert login_mfa(client, mfa_token(client, user.email), code).status_code == 200
    assert_error(login_mfa(client, mfa_token(client, user.email), code), 401)
    # Nor an earlier step's, once a later one was used.
    assert_error(login_mfa(client, mfa_token(client, user.email), now_code(secret, -1)), 401)


def test_login_mfa_with_wrong_code_is_401_and_the_token_may_try_again(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    token = mfa_token(client, user.email)
    wrong = "000000" if now_code(secret) != "000000" else "111111"
    assert_error(login_mfa(client, token, wrong), 401)
    assert_error(login_mfa(client, token, "not-a-recovery-code"), 401)
    assert refresh_cookie(client) is None
    assert login_mfa(client, token, now_code(secret)).status_code == 200


def test_login_mfa_token_is_spent_after_five_wrong_codes(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    token = mfa_token(client, user.email)
    for _ in range(5):
        assert_error(login_mfa(client, token, "wrong-code"), 401)
    assert_error(login_mfa(client, token, now_code(secret)), 401)


def test_login_mfa_token_works_once(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    token = mfa_token(client, user.email)
    assert login_mfa(client, token, now_code(secret)).status_code == 200
    body = assert_error(login_mfa(client, token, now_code(secret, 1)), 401)
    assert "token" in body["message"]


def test_login_mfa_token_expires(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    token = mfa_token(client, user.email)
    db.execute(update(MfaChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    assert_error(login_mfa(client, token, now_code(secret)), 401)


def test_login_mfa_token_lasts_five_minutes(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    enable_mfa(db, runtime, user, DEFAULT_PASSWORD)
    before = datetime.now(UTC)
    mfa_token(client, user.email)
    db.rollback()
    expires_at = db.scalar(select(MfaChallenge.expires_at))
    assert expires_at is not None
    assert timedelta(minutes=4) < expires_at - before <= timedelta(minutes=5, seconds=5)


def test_login_mfa_token_dies_with_a_password_change(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    token = mfa_token(client, user.email)
    changed = client.patch(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "another-long-passphrase"},
        headers=auth_headers(runtime, user),
    )
    assert changed.status_code == 200
    assert_error(login_mfa(client, token, now_code(secret)), 401)
    # MFA stays on after the change.
    response = login(client, user.email, "another-long-passphrase")
    assert response.get_json()["mfa_required"] is True


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    ],
)
def test_login_mfa_with_an_invalid_token_is_401(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, token: str
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    assert_error(login_mfa(client, token, now_code(secret)), 401)


def test_login_mfa_refuses_an_access_token_as_mfa_token(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    access = auth_headers(runtime, user)["Authorization"].removeprefix("Bearer ")
    assert_error(login_mfa(client, access, now_code(secret)), 401)


def test_login_mfa_with_a_recovery_code_works_once(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    codes = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).recovery_codes
    # As typed from a printout: any case, without the dash.
    typed = codes[0].upper().replace("-", " ")
    assert login_mfa(client, mfa_token(client, user.email), typed).status_code == 200
    assert_error(login_mfa(client, mfa_token(client, user.email), codes[0]), 401)
    assert login_mfa(client, mfa_token(client, user.email), codes[1]).status_code == 200


def test_login_mfa_refuses_another_users_recovery_code(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    enable_mfa(db, runtime, user, DEFAULT_PASSWORD)
    other = make_user(db, runtime)
    other_codes = enable_mfa(db, runtime, other, DEFAULT_PASSWORD).recovery_codes
    assert_error(login_mfa(client, mfa_token(client, user.email), other_codes[0]), 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mfa_token": "x"},
        {"code": "123456"},
        {"mfa_token": 1, "code": "123456"},
        {"mfa_token": "x", "code": 123456},
        {"mfa_token": "x", "code": "1" * 65},
        {"mfa_token": "x" * 5000, "code": "123456"},
        {"mfa_token": "x", "code": "12\x003456"},
        {"mfa_token": "x", "code": "١٢٣٤٥٦"},
        {"mfa_token": "x", "code": "123456", "extra": 1},
        [],
        "text",
    ],
)
def test_login_mfa_refuses_bad_input_with_4xx(client: FlaskClient, body: object) -> None:
    assert_client_error(client.post(LOGIN_MFA, json=body))


def test_login_mfa_refuses_non_json(client: FlaskClient) -> None:
    assert_client_error(client.post(LOGIN_MFA, data={"mfa_token": "x", "code": "123456"}))
    assert_client_error(
        client.post(LOGIN_MFA, data="{", headers={"Content-Type": "application/json"})
    )


def test_login_mfa_refuses_odd_codes_with_a_valid_token(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    enable_mfa(db, runtime, user, DEFAULT_PASSWORD)
    token = mfa_token(client, user.email)
    for code in ("١٢٣٤٥٦", " ", "-", "999999999", "ß" * 64):
        assert_error(login_mfa(client, token, code), 401)


# --- turning it off ------------------------------------------------------------


def test_disable_with_password_and_code_turns_mfa_off(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    secret, _ = enroll(client, user_headers)
    response = client.post(
        DISABLE,
        json={"password": DEFAULT_PASSWORD, "code": now_code(secret, 1)},
        headers=user_headers,
    )
    assert response.status_code == 204, response.get_data(as_text=True)
    assert me(client, user_headers)["mfa_enabled"] is False
    db.rollback()
    assert db.scalar(select(User.mfa_secret).where(User.id == user.id)) is None
    assert db.scalars(select(MfaRecoveryCode)).all() == []
    assert login(client, user.email).status_code == 200


def test_disable_with_a_recovery_code_turns_mfa_off(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    _, codes = enroll(client, user_headers)
    response = client.post(
        DISABLE, json={"password": DEFAULT_PASSWORD, "code": codes[3]}, headers=user_headers
    )
    assert response.status_code == 204
    assert me(client, user_headers)["mfa_enabled"] is False


def test_disable_with_wrong_password_or_code_is_refused(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    secret, _ = enroll(client, user_headers)
    wrong_password = client.post(
        DISABLE,
        json={"password": "not-my-password", "code": now_code(secret, 1)},
        headers=user_headers,
    )
    assert_error(wrong_password, 400, field="password")
    wrong_code = client.post(
        DISABLE, json={"password": DEFAULT_PASSWORD, "code": "wrong-code"}, headers=user_headers
    )
    assert_error(wrong_code, 400, field="code")
    assert me(client, user_headers)["mfa_enabled"] is True


def test_disable_when_off_is_refused(client: FlaskClient, user_headers: dict[str, str]) -> None:
    response = client.post(
        DISABLE, json={"password": DEFAULT_PASSWORD, "code": "123456"}, headers=user_headers
    )
    assert_error(response, 400)


# --- an admin's reset ------------------------------------------------------------


def test_reset_needs_users_write(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    enable_mfa(db, runtime, user, DEFAULT_PASSWORD)
    reader = make_user(db, runtime, permissions=["users:read"])
    assert_error(client.delete(RESET.format(user.id), headers=auth_headers(runtime, reader)), 403)
    assert_error(client.delete(RESET.format(user.id)), 401)
    db.rollback()
    assert db.get(User, user.id).mfa_enabled  # type: ignore[union-attr]


def test_reset_turns_mfa_off_and_ends_the_users_sessions(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    secret = enable_mfa(db, runtime, user, DEFAULT_PASSWORD).secret
    user_headers = auth_headers(runtime, user)
    assert login_mfa(client, mfa_token(client, user.email), now_code(secret)).status_code == 200
    admin = make_user(db, runtime, permissions=["users:write", "users:read"])
    response = client.delete(RESET.format(user.id), headers=auth_headers(runtime, admin))
    assert response.status_code == 204, response.get_data(as_text=True)
    assert_error(client.get(ME, headers=user_headers), 401)
    db.rollback()
    assert db.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id)).all() == []
    assert login(client, user.email).status_code == 200
    shown = client.get(f"/api/v1/users/{user.id}", headers=auth_headers(runtime, admin))
    assert shown.get_json()["mfa_enabled"] is False


def test_reset_of_an_unknown_user_is_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.delete(RESET.format(999999), headers=superuser_headers), 404)


def test_reset_of_a_superuser_needs_a_superuser(
    client: FlaskClient, db: Session, runtime: Runtime, superuser: User
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.delete(RESET.format(superuser.id), headers=auth_headers(runtime, admin))
    assert_error(response, 403)
