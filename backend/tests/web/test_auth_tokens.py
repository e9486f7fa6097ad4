"""Access tokens: only a valid HS256 access token of an existing, current user gets in.

Bad tokens are built with PyJWT directly, the way an attacker would build them.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy.orm import Session

from app.models import User
from app.runtime import Runtime
from tests.utils.assertions import assert_error
from tests.utils.factories import auth_headers, make_user

ME = "/api/v1/users/me"
OTHER_KEY = "another-secret-key-that-is-long-enough-too"


def claims(user: User, **changes: Any) -> dict[str, Any]:
    """The claims of a valid access token for `user`; `None` values drop a claim."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "sub": str(user.id),
        "stamp": user.security_stamp,
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=15),
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def signed_with(algorithm: str, payload: dict[str, Any], key: str) -> str:
    """A token signed with another HMAC algorithm (PyJWT warns the key is short for it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key, algorithm=algorithm)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    """An `alg: none` token, its signature left empty."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    return f"{header}.{body}."


def with_payload_of(token: str, payload: dict[str, Any]) -> str:
    """`token`'s header and signature around another payload (a forged claim)."""
    header, _, signature = token.split(".")
    body = b64url(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    return f"{header}.{body}.{signature}"


TokenBuilder = Callable[[str, User, User], str]

BAD_TOKENS: dict[str, TokenBuilder] = {
    "garbage": lambda key, user, other: "not-a-jwt",
    "three garbage parts": lambda key, user, other: "abc.def.ghi",
    "expired": lambda key, user, other: jwt.encode(
        claims(
            user,
            iat=datetime.now(UTC) - timedelta(minutes=20),
            exp=datetime.now(UTC) - timedelta(minutes=5),
        ),
        key,
        algorithm="HS256",
    ),
    "not yet valid": lambda key, user, other: jwt.encode(
        claims(user, nbf=datetime.now(UTC) + timedelta(minutes=5)), key, algorithm="HS256"
    ),
    "signed with another key": lambda key, user, other: jwt.encode(
        claims(user), OTHER_KEY, algorithm="HS256"
    ),
    "payload swapped for another user": lambda key, user, other: with_payload_of(
        jwt.encode(claims(user), key, algorithm="HS256"), claims(other)
    ),
    "signature stripped": lambda key, user, other: (
        jwt.encode(claims(user), key, algorithm="HS256").rsplit(".", 1)[0] + "."
    ),
    "alg none": lambda key, user, other: unsigned(claims(user)),
    "alg none via pyjwt": lambda key, user, other: jwt.encode(claims(user), None, algorithm="none"),
    "HS512 with the same key": lambda key, user, other: signed_with("HS512", claims(user), key),
    "HS384 with the same key": lambda key, user, other: signed_with("HS384", claims(user), key),
    "type refresh": lambda key, user, other: jwt.encode(
        claims(user, type="refresh"), key, algorithm="HS256"
    ),
    "no type": lambda key, user, other: jwt.encode(claims(user, type=None), key, algorithm="HS256"),
    "no sub": lambda key, user, other: jwt.encode(claims(user, sub=None), key, algorithm="HS256"),
    "no exp": lambda key, user, other: jwt.encode(claims(user, exp=None), key, algorithm="HS256"),
    "no iat": lambda key, user, other: jwt.encode(claims(user, iat=None), key, algorithm="HS256"),
    "sub not a user id": lambda key, user, other: jwt.encode(
        claims(user, sub="jane@example.com"), key, algorithm="HS256"
    ),
    "stale security stamp": lambda key, user, other: jwt.encode(
        claims(user, stamp="0" * 32), key, algorithm="HS256"
    ),
    "no security stamp": lambda key, user, other: jwt.encode(
        claims(user, stamp=None), key, algorithm="HS256"
    ),
    "sub past any id": lambda key, user, other: jwt.encode(
        claims(user, sub=str(10**20)), key, algorithm="HS256"
    ),
    "sub not a decimal id": lambda key, user, other: jwt.encode(
        claims(user, sub=f" {user.id}"), key, algorithm="HS256"
    ),
}


@pytest.fixture
def key(runtime: Runtime) -> str:
    return runtime.settings.SECRET_KEY.get_secret_value()


@pytest.fixture
def other_user(db: Session, runtime: Runtime) -> User:
    return make_user(db, runtime, email="mallory@example.com")


def assert_unauthorized(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get(ME, headers=headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_read_me_with_token_built_like_the_server_succeeds(
    client: FlaskClient, key: str, user: User
) -> None:
    # The builder below is right: only what each bad token changes makes it fail.
    token = jwt.encode(claims(user), key, algorithm="HS256")
    response = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["id"] == user.id


@pytest.mark.parametrize("build", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_read_me_with_bad_token_is_unauthorized(
    client: FlaskClient, key: str, user: User, other_user: User, build: TokenBuilder
) -> None:
    assert_unauthorized(client, {"Authorization": f"Bearer {build(key, user, other_user)}"})


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Token abc", "Basic amFuZUBleGFtcGxlLmNvbTpwYXNzd29yZA=="],
    ids=["missing", "empty", "scheme only", "scheme and space", "other scheme", "basic"],
)
def test_read_me_without_bearer_token_is_unauthorized(
    client: FlaskClient, header: str | None
) -> None:
    assert_unauthorized(client, {} if header is None else {"Authorization": header})


def test_read_me_with_refresh_cookie_as_bearer_token_is_unauthorized(
    client: FlaskClient, user: User
) -> None:
    login = client.post(
        "/api/v1/login/access-token",
        data={"username": user.email, "password": "correct-horse-battery"},
    )
    assert login.status_code == 200
    cookie = client.get_cookie("refresh_token", path="/api/v1/login")
    assert cookie is not None
    assert_unauthorized(client, {"Authorization": f"Bearer {cookie.value}"})


def test_read_me_with_token_of_deleted_user_is_unauthorized(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    doomed = make_user(db, runtime)
    headers = auth_headers(runtime, doomed)
    assert client.get(ME, headers=headers).status_code == 200
    db.delete(doomed)
    db.commit()
    assert_unauthorized(client, headers)


def test_read_me_after_user_deleted_themselves_is_unauthorized(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    assert client.delete(ME, headers=user_headers).status_code == 204
    assert_unauthorized(client, user_headers)


def test_read_me_after_deactivation_by_admin_is_refused(
    client: FlaskClient, user: User, user_headers: dict[str, str], superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=superuser_headers
    )
    assert response.status_code == 200
    refused = client.get(ME, headers=user_headers)
    assert refused.status_code in (401, 403)
    assert_error(refused, refused.status_code)


def test_read_me_after_password_set_by_admin_is_unauthorized(
    client: FlaskClient, user: User, user_headers: dict[str, str], superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"/api/v1/users/{user.id}",
        json={"password": "set-by-the-admin"},
        headers=superuser_headers,
    )
    assert response.status_code == 200
    assert_unauthorized(client, user_headers)
