from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Item, Job, User
from app.runtime import Runtime
from app.services import auth
from app.services.permissions import ALL_PERMISSIONS
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error, assert_user
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_group, make_item, make_user

USERS = "/api/v1/users/"


def _count(db: Session, model: Any, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    db.expire_all()
    return db.scalar(query) or 0


# --- GET /users/ -------------------------------------------------------------


def test_read_users_returns_page_and_total_count(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    for _ in range(3):
        make_user(db, runtime)
    response = client.get(USERS + "?skip=1&limit=2", headers=superuser_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"data", "count"}
    assert body["count"] == 4
    assert len(body["data"]) == 2
    for user in body["data"]:
        assert_user(user)


def test_read_users_caps_limit_at_100(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    db.add_all(
        User(email=f"bulk{n}@example.com", hashed_password="unused", full_name=None)
        for n in range(105)
    )
    db.commit()
    response = client.get(USERS + "?limit=1000", headers=superuser_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["data"]) == 100
    assert body["count"] == 106


def test_read_users_lists_newest_first(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    older = make_user(db, runtime, email="older@example.com")
    newer = make_user(db, runtime, email="newer@example.com")
    # Created in the same instant: the id decides.
    newer.created_at = older.created_at
    db.commit()
    body = client.get(USERS + "?email=er@", headers=superuser_headers).get_json()
    assert [u["email"] for u in body["data"]] == ["newer@example.com", "older@example.com"]
    first = client.get(USERS + "?limit=1", headers=superuser_headers).get_json()
    assert first["data"][0]["email"] == "newer@example.com"


def test_read_users_filters_by_email_text_without_regard_to_case(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    make_user(db, runtime, email="alice@example.com")
    make_user(db, runtime, email="bob@example.com")
    body = client.get(USERS + "?email=ALI", headers=superuser_headers).get_json()
    assert [u["email"] for u in body["data"]] == ["alice@example.com"]
    assert body["count"] == 1


@pytest.mark.parametrize("text", ["%", "_", "\\"])
def test_read_users_treats_wildcards_in_email_search_literally(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str], text: str
) -> None:
    make_user(db, runtime, email="alice@example.com")
    response = client.get(USERS, query_string={"email": text}, headers=superuser_headers)
    assert response.status_code == 200
    assert response.get_json() == {"data": [], "count": 0}


def test_read_users_without_permission_returns_403(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    assert_error(client.get(USERS, headers=user_headers), 403)


def test_read_users_with_users_read_from_a_group_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    reader = make_user(db, runtime, permissions=["users:read"])
    response = client.get(USERS, headers=auth_headers(runtime, reader))
    assert response.status_code == 200
    assert response.get_json()["count"] == 1


def test_read_users_without_token_returns_401(client: FlaskClient) -> None:
    response = client.get(USERS)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- POST /users/ ------------------------------------------------------------


def test_create_user_returns_it_without_password(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.post(
        USERS,
        json={"email": "New@Example.com", "password": "a-long-password", "full_name": "New"},
        headers=superuser_headers,
    )
    assert response.status_code == 201
    body = assert_user(response.get_json())
    assert body["email"] == "new@example.com"
    assert body["full_name"] == "New"
    assert body["is_active"] is True
    assert body["is_superuser"] is False
    assert body["groups"] == []
    assert body["permissions"] == []
    assert "a-long-password" not in response.get_data(as_text=True)


def test_create_user_lets_new_user_log_in(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    client.post(
        USERS,
        json={"email": "new@example.com", "password": "a-long-password"},
        headers=superuser_headers,
    )
    response = client.post(
        "/api/v1/login/access-token",
        data={"username": "new@example.com", "password": "a-long-password"},
    )
    assert response.status_code == 200


def test_create_user_without_permission_returns_403(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        USERS, json={"email": "x@example.com", "password": "a-long-password"}, headers=user_headers
    )
    assert_error(response, 403)


def test_create_user_with_users_write_from_a_group_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.post(
        USERS,
        json={"email": "x@example.com", "password": "a-long-password"},
        headers=auth_headers(runtime, admin),
    )
    assert response.status_code == 201


def test_create_user_as_non_superuser_granting_superuser_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.post(
        USERS,
        json={"email": "x@example.com", "password": "a-long-password", "is_superuser": True},
        headers=auth_headers(runtime, admin),
    )
    assert_error(response, 403)
    assert _count(db, User, email="x@example.com") == 0


def test_create_user_as_superuser_granting_superuser_succeeds(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.post(
        USERS,
        json={"email": "x@example.com", "password": "a-long-password", "is_superuser": True},
        headers=superuser_headers,
    )
    assert response.status_code == 201
    assert response.get_json()["is_superuser"] is True
    assert sorted(response.get_json()["permissions"]) == sorted(ALL_PERMISSIONS)


@pytest.mark.parametrize("email", ["jane@example.com", "JANE@example.com", "Jane@Example.COM"])
def test_create_user_with_taken_email_in_any_case_returns_409(
    client: FlaskClient, user: User, superuser_headers: dict[str, str], email: str
) -> None:
    response = client.post(
        USERS, json={"email": email, "password": "a-long-password"}, headers=superuser_headers
    )
    assert_error(response, 409, field="email")


@pytest.mark.parametrize("length", [8, 128])
def test_create_user_with_password_at_length_bounds_succeeds(
    client: FlaskClient, superuser_headers: dict[str, str], length: int
) -> None:
    # Not one character repeated: "pppppppp" is a common password.
    password = ("pa5s-" * 26)[:length]
    response = client.post(
        USERS, json={"email": "x@example.com", "password": password}, headers=superuser_headers
    )
    assert response.status_code == 201


@pytest.mark.parametrize("length", [0, 7, 129])
def test_create_user_with_password_outside_length_bounds_returns_422(
    client: FlaskClient, superuser_headers: dict[str, str], length: int
) -> None:
    response = client.post(
        USERS, json={"email": "x@example.com", "password": "p" * length}, headers=superuser_headers
    )
    assert_error(response, 422, field="password")


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_create_user_with_invalid_email_returns_422(
    client: FlaskClient, superuser_headers: dict[str, str], email: str
) -> None:
    response = client.post(
        USERS, json={"email": email, "password": "a-long-password"}, headers=superuser_headers
    )
    assert_error(response, 422, field="email")


# --- POST /users/signup --------------------------------------------------------


def test_signup_creates_plain_active_user(client: FlaskClient, db: Session) -> None:
    response = client.post(
        USERS + "signup",
        json={"email": "Me@Example.com", "password": "a-long-password", "full_name": "Me"},
    )
    assert response.status_code == 201
    body = assert_user(response.get_json())
    assert body["email"] == "me@example.com"
    assert body["is_superuser"] is False
    assert body["is_active"] is True
    assert body["permissions"] == []


def test_signup_asking_for_superuser_returns_422(client: FlaskClient, db: Session) -> None:
    response = client.post(
        USERS + "signup",
        json={"email": "me@example.com", "password": "a-long-password", "is_superuser": True},
    )
    assert_error(response, 422, field="is_superuser")
    assert _count(db, User) == 0


def test_signup_with_taken_email_returns_409(client: FlaskClient, user: User) -> None:
    response = client.post(
        USERS + "signup", json={"email": "JANE@example.com", "password": "a-long-password"}
    )
    assert_error(response, 409, field="email")


def test_signup_when_registration_closed_returns_403(runtime: Runtime, db: Session) -> None:
    closed = app_with_settings(runtime, USERS_OPEN_REGISTRATION=False).test_client()
    response = closed.post(
        USERS + "signup", json={"email": "me@example.com", "password": "a-long-password"}
    )
    assert_error(response, 403)
    assert _count(db, User) == 0


# --- /users/me -----------------------------------------------------------------


def test_read_user_me_returns_caller_with_groups_and_permissions(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    me = make_user(db, runtime, permissions=["items:read_all", "users:read"])
    response = client.get(USERS + "me", headers=auth_headers(runtime, me))
    assert response.status_code == 200
    body = assert_user(response.get_json())
    assert body["id"] == me.id
    assert body["email"] == me.email
    assert [g["id"] for g in body["groups"]] == [g.id for g in me.groups]
    assert body["permissions"] == ["items:read_all", "users:read"]


def test_update_user_me_changes_name_and_asks_for_the_new_email(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    """The new address waits, pending, for its link (tests/web/api/test_email_verification.py)."""
    response = client.patch(
        USERS + "me",
        json={
            "full_name": "Jane Q",
            "email": "Jane.Q@example.com",
            "current_password": DEFAULT_PASSWORD,
        },
        headers=user_headers,
    )
    assert response.status_code == 200
    body = assert_user(response.get_json())
    assert (body["full_name"], body["email"]) == ("Jane Q", user.email)
    assert (body["pending_email"], body["email_verified"]) == ("jane.q@example.com", True)
    assert client.get(USERS + "me", headers=user_headers).get_json() == body


def test_update_user_me_name_alone_needs_no_password(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    response = client.patch(
        USERS + "me", json={"full_name": "Jane Q", "email": user.email}, headers=user_headers
    )
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Jane Q"


@pytest.mark.parametrize(
    "password", [None, "wrong-password", ""], ids=["missing", "wrong", "empty"]
)
def test_update_user_me_email_without_the_right_current_password_returns_400(
    client: FlaskClient, user: User, user_headers: dict[str, str], password: str | None
) -> None:
    body: dict[str, object] = {"email": "taken-over@example.com"}
    if password is not None:
        body["current_password"] = password
    response = client.patch(USERS + "me", json=body, headers=user_headers)
    assert_error(response, 400, field="current_password")
    assert client.get(USERS + "me", headers=user_headers).get_json()["email"] == user.email


def test_update_user_me_email_kills_outstanding_reset_links(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, user_headers: dict[str, str]
) -> None:
    token = auth.create_password_reset_token(session=db, settings=runtime.settings, user=user)
    db.commit()
    changed = client.patch(
        USERS + "me",
        json={"email": "moved@example.com", "current_password": DEFAULT_PASSWORD},
        headers=user_headers,
    )
    assert changed.status_code == 200
    reset = client.post(
        "/api/v1/reset-password/", json={"token": token, "new_password": "a-brand-new-secret"}
    )
    assert_error(reset, 400)


def test_update_user_me_to_taken_email_returns_409(
    client: FlaskClient, superuser: User, user_headers: dict[str, str]
) -> None:
    response = client.patch(
        USERS + "me",
        json={"email": "ADMIN@example.com", "current_password": DEFAULT_PASSWORD},
        headers=user_headers,
    )
    assert_error(response, 409, field="email")


@pytest.mark.parametrize(
    "field, value", [("is_superuser", True), ("is_active", False), ("password", "a-new-password")]
)
def test_update_user_me_with_protected_field_returns_422(
    client: FlaskClient, user_headers: dict[str, str], field: str, value: object
) -> None:
    response = client.patch(USERS + "me", json={field: value}, headers=user_headers)
    assert_error(response, 422, field=field)
    assert client.get(USERS + "me", headers=user_headers).get_json()["is_superuser"] is False


def test_update_password_me_lets_user_log_in_with_new_password_only(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    response = client.patch(
        USERS + "me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a-new-password"},
        headers=user_headers,
    )
    assert response.status_code == 200
    assert isinstance(response.get_json()["message"], str)
    login = "/api/v1/login/access-token"
    new = client.post(login, data={"username": user.email, "password": "a-new-password"})
    old = client.post(login, data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert new.status_code == 200
    assert old.status_code in (400, 401)


def test_update_password_me_ends_existing_access_tokens(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    client.patch(
        USERS + "me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a-new-password"},
        headers=user_headers,
    )
    assert_error(client.get(USERS + "me", headers=user_headers), 401)


def test_update_password_me_with_wrong_current_password_returns_400(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.patch(
        USERS + "me/password",
        json={"current_password": "wrong-password", "new_password": "a-new-password"},
        headers=user_headers,
    )
    assert_error(response, 400, field="current_password")
    assert client.get(USERS + "me", headers=user_headers).status_code == 200


@pytest.mark.parametrize("length", [7, 129])
def test_update_password_me_with_bad_length_returns_422(
    client: FlaskClient, user_headers: dict[str, str], length: int
) -> None:
    response = client.patch(
        USERS + "me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "p" * length},
        headers=user_headers,
    )
    assert_error(response, 422, field="new_password")


def test_delete_user_me_removes_account_with_items_and_jobs(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    make_item(db, user)
    db.add(Job(kind="demo", owner_id=user.id))
    db.commit()
    response = client.delete(USERS + "me", headers=user_headers)
    assert response.status_code == 204
    assert _count(db, User, id=user.id) == 0
    assert _count(db, Item) == 0
    assert _count(db, Job) == 0


def test_delete_user_me_as_superuser_returns_403(
    client: FlaskClient, db: Session, superuser: User, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.delete(USERS + "me", headers=superuser_headers), 403)
    assert _count(db, User, id=superuser.id) == 1


# --- GET /users/{id} -------------------------------------------------------------


def test_read_user_by_id_self_without_permission_succeeds(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    response = client.get(f"{USERS}{user.id}", headers=user_headers)
    assert response.status_code == 200
    assert assert_user(response.get_json())["id"] == user.id


def test_read_user_by_id_of_someone_else_without_permission_returns_403(
    client: FlaskClient, superuser: User, user_headers: dict[str, str]
) -> None:
    assert_error(client.get(f"{USERS}{superuser.id}", headers=user_headers), 403)


def test_read_user_by_id_with_users_read_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    reader = make_user(db, runtime, permissions=["users:read"])
    response = client.get(f"{USERS}{user.id}", headers=auth_headers(runtime, reader))
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email


def test_read_user_by_id_missing_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.get(f"{USERS}987654", headers=superuser_headers), 404)


# --- PATCH /users/{id} -------------------------------------------------------------


def test_update_user_changes_fields(
    client: FlaskClient, user: User, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"{USERS}{user.id}",
        json={"full_name": None, "email": "JQ@example.com", "is_active": False},
        headers=superuser_headers,
    )
    assert response.status_code == 200
    body = assert_user(response.get_json())
    assert (body["full_name"], body["email"], body["is_active"]) == (None, "jq@example.com", False)
    assert client.get(f"{USERS}{user.id}", headers=superuser_headers).get_json() == body


def test_update_user_password_lets_them_log_in_with_it(
    client: FlaskClient, user: User, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"{USERS}{user.id}", json={"password": "set-by-admin"}, headers=superuser_headers
    )
    assert response.status_code == 200
    login = client.post(
        "/api/v1/login/access-token", data={"username": user.email, "password": "set-by-admin"}
    )
    assert login.status_code == 200


def test_update_user_without_permission_returns_403(
    client: FlaskClient, superuser: User, user_headers: dict[str, str]
) -> None:
    response = client.patch(f"{USERS}{superuser.id}", json={"full_name": "x"}, headers=user_headers)
    assert_error(response, 403)


def test_update_user_with_users_write_from_a_group_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.patch(
        f"{USERS}{user.id}", json={"full_name": "Renamed"}, headers=auth_headers(runtime, admin)
    )
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Renamed"


def test_update_user_as_non_superuser_granting_superuser_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    headers = auth_headers(runtime, admin)
    assert_error(
        client.patch(f"{USERS}{user.id}", json={"is_superuser": True}, headers=headers), 403
    )
    assert_error(
        client.patch(f"{USERS}{admin.id}", json={"is_superuser": True}, headers=headers), 403
    )
    db.expire_all()
    assert db.get(User, user.id).is_superuser is False  # type: ignore[union-attr]
    assert db.get(User, admin.id).is_superuser is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "changes", [{"full_name": "x"}, {"password": "taken-over-now"}, {"is_active": False}]
)
def test_update_user_as_non_superuser_changing_superuser_returns_403(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    superuser: User,
    changes: dict[str, object],
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.patch(
        f"{USERS}{superuser.id}", json=changes, headers=auth_headers(runtime, admin)
    )
    assert_error(response, 403)
    assert client.get(USERS + "me", headers=auth_headers(runtime, superuser)).status_code == 200


def test_update_user_to_taken_email_returns_409(
    client: FlaskClient, user: User, superuser: User, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"{USERS}{user.id}", json={"email": "Admin@Example.com"}, headers=superuser_headers
    )
    assert_error(response, 409, field="email")


def test_update_user_deactivating_oneself_returns_403(
    client: FlaskClient, superuser: User, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"{USERS}{superuser.id}", json={"is_active": False}, headers=superuser_headers
    )
    assert_error(response, 403)


def test_update_user_missing_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(f"{USERS}987654", json={"full_name": "x"}, headers=superuser_headers)
    assert_error(response, 404)


def test_update_user_with_short_password_returns_422(
    client: FlaskClient, user: User, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(
        f"{USERS}{user.id}", json={"password": "short"}, headers=superuser_headers
    )
    assert_error(response, 422, field="password")


# --- DELETE /users/{id} -------------------------------------------------------------


def test_delete_user_removes_their_items_and_jobs_only(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, superuser: User
) -> None:
    make_item(db, user)
    kept = make_item(db, superuser)
    db.add_all([Job(kind="demo", owner_id=user.id), Job(kind="demo", owner_id=superuser.id)])
    make_group(db, members=[user])
    db.commit()
    response = client.delete(f"{USERS}{user.id}", headers=auth_headers(runtime, superuser))
    assert response.status_code == 204
    assert response.get_data() == b""
    assert _count(db, User, id=user.id) == 0
    assert _count(db, Item) == 1
    assert _count(db, Item, id=kept.id) == 1
    assert _count(db, Job) == 1
    assert _count(db, Job, owner_id=superuser.id) == 1


def test_delete_user_oneself_returns_403(
    client: FlaskClient, db: Session, superuser: User, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.delete(f"{USERS}{superuser.id}", headers=superuser_headers), 403)
    assert _count(db, User, id=superuser.id) == 1


def test_delete_user_without_permission_returns_403(
    client: FlaskClient, db: Session, superuser: User, user_headers: dict[str, str]
) -> None:
    assert_error(client.delete(f"{USERS}{superuser.id}", headers=user_headers), 403)
    assert _count(db, User, id=superuser.id) == 1


def test_delete_user_with_users_write_from_a_group_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.delete(f"{USERS}{user.id}", headers=auth_headers(runtime, admin))
    assert response.status_code == 204
    assert _count(db, User, id=user.id) == 0


def test_delete_user_as_non_superuser_deleting_superuser_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime, superuser: User
) -> None:
    admin = make_user(db, runtime, permissions=["users:write"])
    response = client.delete(f"{USERS}{superuser.id}", headers=auth_headers(runtime, admin))
    assert_error(response, 403)
    assert _count(db, User, id=superuser.id) == 1


def test_delete_user_missing_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.delete(f"{USERS}987654", headers=superuser_headers), 404)


@pytest.mark.parametrize(
    "first, second",
    [
        ("zoe@example.com", "zoë@example.com"),
        ("a😀@example.com", "a🎉@example.com"),
        ("strasse@example.com", "straße@example.com"),
    ],
)
def test_create_user_with_email_differing_only_in_non_ascii_letter_succeeds(
    client: FlaskClient, superuser_headers: dict[str, str], first: str, second: str
) -> None:
    for email in (first, second):
        response = client.post(
            USERS, json={"email": email, "password": "a-long-password"}, headers=superuser_headers
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["email"] == email
    found = client.get(USERS, query_string={"email": second}, headers=superuser_headers).get_json()
    assert [user["email"] for user in found["data"]] == [second]
