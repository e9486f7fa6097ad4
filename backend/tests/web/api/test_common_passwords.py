"""Every way a password is set refuses the most common ones, at the password field."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.core.passwords import TOO_COMMON
from app.core.security import PasswordHasher
from app.models import User
from app.runtime import Runtime
from app.services import auth
from tests.utils.assertions import assert_error
from tests.utils.databases import same_on_every_database
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user

USERS = "/api/v1/users/"
LOGIN = "/api/v1/login/access-token"
# On the list in some case: the comparison ignores case.
COMMON = ["12345678", "Password1", "QWERTYUIOP"]


def _assert_too_common(response: object, field: str) -> None:
    body = assert_error(response, 422, field=field)  # type: ignore[arg-type]
    assert body["errors"][field] == TOO_COMMON


@same_on_every_database
@pytest.mark.parametrize("password", COMMON)
def test_signup_with_common_password_returns_422_at_password(
    client: FlaskClient, password: str
) -> None:
    response = client.post(
        USERS + "signup", json={"email": "new@example.com", "password": password}
    )
    _assert_too_common(response, "password")


@same_on_every_database
@pytest.mark.parametrize("password", COMMON)
def test_create_user_with_common_password_returns_422_at_password(
    client: FlaskClient, superuser_headers: dict[str, str], password: str
) -> None:
    response = client.post(
        USERS, json={"email": "new@example.com", "password": password}, headers=superuser_headers
    )
    _assert_too_common(response, "password")


@same_on_every_database
def test_update_user_with_common_password_returns_422_and_keeps_old_one(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    user = make_user(db, runtime)
    response = client.patch(
        f"{USERS}{user.id}", json={"password": "iloveyou"}, headers=superuser_headers
    )
    _assert_too_common(response, "password")
    login = client.post(LOGIN, data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 200


@same_on_every_database
def test_update_password_me_with_common_new_password_returns_422(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    user = make_user(db, runtime)
    response = client.patch(
        USERS + "me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "1q2w3e4r5t"},
        headers=auth_headers(runtime, user),
    )
    _assert_too_common(response, "new_password")


@same_on_every_database
def test_update_password_me_from_common_password_to_another_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    """An account whose password was set before the list refused it can leave it."""
    user = make_user(db, runtime)
    stored = db.get(User, user.id)
    assert stored is not None
    stored.hashed_password = PasswordHasher(runtime.settings).hash("12345678")
    db.commit()
    response = client.patch(
        USERS + "me/password",
        json={"current_password": "12345678", "new_password": "a-far-better-one"},
        headers=auth_headers(runtime, user),
    )
    assert response.status_code == 200, response.get_data(as_text=True)


@same_on_every_database
def test_reset_password_with_common_password_returns_422_and_keeps_token(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    user = make_user(db, runtime)
    token = auth.create_password_reset_token(session=db, settings=runtime.settings, user=user)
    db.commit()
    response = client.post(
        "/api/v1/reset-password/", json={"token": token, "new_password": "password123"}
    )
    _assert_too_common(response, "new_password")
    # The link still works for a better choice.
    retry = client.post(
        "/api/v1/reset-password/", json={"token": token, "new_password": "a-far-better-one"}
    )
    assert retry.status_code == 200, retry.get_data(as_text=True)
