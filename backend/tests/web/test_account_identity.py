"""A token names one account for good: ids are never handed out twice, and a token
of a deleted account never authenticates whoever comes after it, on every database."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import User
from app.runtime import Runtime
from app.services import users
from tests.utils.assertions import assert_error
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user

ME = "/api/v1/users/me"
USERS = "/api/v1/users/"


def _login(client: FlaskClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/login/access-token", data={"username": email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def test_create_user_after_deleting_the_newest_gets_a_new_id(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    created = client.post(
        USERS,
        json={"email": "x@example.com", "password": DEFAULT_PASSWORD},
        headers=superuser_headers,
    )
    old_id = created.get_json()["id"]
    assert client.delete(f"{USERS}{old_id}", headers=superuser_headers).status_code == 204

    again = client.post(
        USERS,
        json={"email": "y@example.com", "password": DEFAULT_PASSWORD},
        headers=superuser_headers,
    )
    assert again.status_code == 201
    assert again.get_json()["id"] != old_id


def test_read_me_with_deleted_users_token_is_refused_after_a_superuser_is_created(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    client.post(
        USERS,
        json={"email": "x@example.com", "password": DEFAULT_PASSWORD},
        headers=superuser_headers,
    )
    old_token = _login(client, "x@example.com")
    old_id = client.get(ME, headers=old_token).get_json()["id"]
    assert client.delete(f"{USERS}{old_id}", headers=superuser_headers).status_code == 204

    client.post(
        USERS,
        json={"email": "root@example.com", "password": DEFAULT_PASSWORD, "is_superuser": True},
        headers=superuser_headers,
    )
    assert_error(client.get(ME, headers=old_token), 401)


def test_read_me_with_deleted_users_token_is_refused_when_the_id_is_taken_again(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    """Even if a database handed the id out again (an old table, a restored dump), the
    token names the account it was issued to, not the id alone."""
    gone = make_user(db, runtime, email="gone@example.com")
    old_token = auth_headers(runtime, gone)
    gone_id = gone.id
    users.delete_user(session=db, user=gone)
    db.commit()

    newcomer = users.create_user(
        session=db,
        hasher=runtime.hasher,
        email="newcomer@example.com",
        password=DEFAULT_PASSWORD,
        is_superuser=True,
    )
    newcomer.id = gone_id
    db.commit()
    assert db.get(User, gone_id) is not None

    assert_error(client.get(ME, headers=old_token), 401)
    assert client.get(ME, headers=auth_headers(runtime, newcomer)).status_code == 200


def test_signup_after_self_deletion_does_not_revive_the_old_token(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    make_user(db, runtime, email="self@example.com")
    old_token = _login(client, "self@example.com")
    assert client.delete(ME, headers=old_token).status_code == 204

    signed_up = client.post(
        "/api/v1/users/signup", json={"email": "next@example.com", "password": DEFAULT_PASSWORD}
    )
    assert signed_up.status_code == 201
    assert_error(client.get(ME, headers=old_token), 401)
