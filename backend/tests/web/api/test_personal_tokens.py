from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.core.security import personal_token_prefix
from app.db.base import utcnow
from app.models import GroupPermission, Job, PersonalAccessToken, User
from app.runtime import Runtime
from tests.utils.assertions import assert_client_error, assert_error
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_group, make_user

TOKENS = "/api/v1/users/me/tokens"
ME = "/api/v1/users/me"
TOKEN_FIELDS = {"id", "name", "permissions", "created_at", "expires_at", "last_used_at"}


def _create(client: FlaskClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(TOKENS, json={"name": "ci", "permissions": [], **body}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert isinstance(created, dict)
    return created


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_create_token_returns_it_once_with_the_prefix(
    client: FlaskClient, runtime: Runtime, user_headers: dict[str, str]
) -> None:
    created = _create(client, user_headers, name="deploy")
    assert set(created) == TOKEN_FIELDS | {"token"}
    assert created["name"] == "deploy"
    assert created["last_used_at"] is None
    # The project's own prefix (a generated project has another slug).
    prefix = personal_token_prefix(runtime.settings.PROJECT_SLUG)
    assert runtime.personal_tokens.prefix == prefix
    assert created["token"].startswith(prefix)

    listed = client.get(TOKENS, headers=user_headers).get_json()
    assert listed["count"] == 1
    assert set(listed["data"][0]) == TOKEN_FIELDS
    assert created["token"] not in str(listed)


@pytest.mark.parametrize(
    "slug,prefix",
    [("full-stack-flask", "fsf_pat_"), ("acme", "a_pat_"), ("Data-Lab-API", "dla_pat_")],
)
def test_token_prefix_is_the_slugs_initials(slug: str, prefix: str) -> None:
    assert personal_token_prefix(slug) == prefix


def test_create_token_stores_only_a_keyed_hash(
    client: FlaskClient, db: Session, runtime: Runtime, user_headers: dict[str, str]
) -> None:
    created = _create(client, user_headers)
    db.rollback()
    record = db.scalars(select(PersonalAccessToken)).one()
    raw = created["token"]
    assert raw not in str(vars(record))
    assert record.token_hash == runtime.personal_tokens.hash(raw)
    # Not a plain hash of the token: the table alone cannot confirm a guess.
    assert record.token_hash != hashlib.sha256(raw.encode()).hexdigest()


def test_create_token_without_expiry_expires_in_90_days(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    created = _create(client, user_headers)
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
        created["created_at"]
    )
    assert lifetime == timedelta(days=90)
    # 30.0 is an integer to JSON Schema, as the document says: accepted like 30.
    assert _create(client, user_headers, expires_in_days=30.0)["expires_at"]
    one_day = _create(client, user_headers, expires_in_days=1)
    lifetime = datetime.fromisoformat(one_day["expires_at"]) - datetime.fromisoformat(
        one_day["created_at"]
    )
    assert lifetime == timedelta(days=1)


def test_token_authenticates_as_its_owner(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    token = _create(client, user_headers)["token"]
    response = client.get(ME, headers=_bearer(token))
    assert response.status_code == 200
    assert response.get_json()["id"] == user.id


def test_jwt_still_authenticates_beside_tokens(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    _create(client, user_headers)
    assert client.get(ME, headers=user_headers).status_code == 200


@pytest.mark.parametrize("rest", ["", "nope", "a" * 5000, "\u00e9\u0000"])
def test_unknown_token_returns_401(client: FlaskClient, runtime: Runtime, rest: str) -> None:
    response = client.get(ME, headers=_bearer(runtime.personal_tokens.prefix + rest))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_token_returns_401(client: FlaskClient, user_headers: dict[str, str]) -> None:
    created = _create(client, user_headers)
    assert client.get(ME, headers=_bearer(created["token"])).status_code == 200
    response = client.delete(f"{TOKENS}/{created['id']}", headers=user_headers)
    assert response.status_code == 204
    response = client.get(ME, headers=_bearer(created["token"]))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(TOKENS, headers=user_headers).get_json()["count"] == 0


def test_revoke_token_of_another_user_returns_404(
    client: FlaskClient, db: Session, runtime: Runtime, user_headers: dict[str, str]
) -> None:
    created = _create(client, user_headers)
    other = auth_headers(runtime, make_user(db, runtime))
    assert_error(client.delete(f"{TOKENS}/{created['id']}", headers=other), 404)
    assert_error(client.delete(f"{TOKENS}/99999999999", headers=other), 404)
    assert client.get(ME, headers=_bearer(created["token"])).status_code == 200
    assert client.get(TOKENS, headers=other).get_json()["count"] == 0


def test_expired_token_returns_401(
    client: FlaskClient, db: Session, user_headers: dict[str, str]
) -> None:
    created = _create(client, user_headers)
    db.execute(update(PersonalAccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    response = client.get(ME, headers=_bearer(created["token"]))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_of_deactivated_or_deleted_owner_returns_401(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    owner = make_user(db, runtime)
    token = _create(client, auth_headers(runtime, owner))["token"]
    db.execute(update(User).where(User.id == owner.id).values(is_active=False))
    db.commit()
    assert_error(client.get(ME, headers=_bearer(token)), 401)

    db.execute(update(User).where(User.id == owner.id).values(is_active=True))
    db.commit()
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    assert client.delete(f"/api/v1/users/{owner.id}", headers=superuser_headers).status_code == 204
    assert_error(client.get(ME, headers=_bearer(token)), 401)
    db.rollback()
    assert db.scalars(select(PersonalAccessToken)).all() == []


def test_create_token_with_permission_not_held_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    holder = make_user(db, runtime, permissions=["users:read"])
    headers = auth_headers(runtime, holder)
    response = client.post(
        TOKENS, json={"name": "x", "permissions": ["users:read", "users:write"]}, headers=headers
    )
    assert_error(response, 403)
    assert client.get(TOKENS, headers=headers).get_json()["count"] == 0
    _create(client, headers, permissions=["users:read"])


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "", "permissions": []}, "name"),
        ({"name": " \t ", "permissions": []}, "name"),
        ({"name": "n" * 101, "permissions": []}, "name"),
        ({"permissions": []}, "name"),
        ({"name": "x", "permissions": ["nope:nope"]}, "permissions"),
        ({"name": "x", "permissions": ["users:read", "users:read"]}, "permissions"),
        ({"name": "x", "permissions": "users:read"}, "permissions"),
        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 1.5}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "expires_in_days": "30"}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 10**30}, "expires_in_days"),
        ({"name": "x", "expires_in_days": None}, "expires_in_days"),
        ({"name": "x", "token": "fsf_pat_mine"}, None),
    ],
)
def test_create_token_with_bad_input_returns_4xx(
    client: FlaskClient, superuser_headers: dict[str, str], body: dict[str, Any], field: str | None
) -> None:
    response = client.post(TOKENS, json=body, headers=superuser_headers)
    assert_client_error(response, field=field)
    assert client.get(TOKENS, headers=superuser_headers).get_json()["count"] == 0


def test_create_token_with_malformed_body_returns_4xx(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    for data in ("{", "[]", "null", "\x00"):
        response = client.post(
            TOKENS, data=data, content_type="application/json", headers=user_headers
        )
        assert_client_error(response)


def test_token_permissions_limit_what_it_can_do(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    owner = make_user(db, runtime, permissions=["users:read", "groups:read"])
    headers = auth_headers(runtime, owner)
    token = _bearer(_create(client, headers, permissions=["groups:read"])["token"])
    assert_error(client.get("/api/v1/users/", headers=token), 403)
    assert client.get("/api/v1/users/", headers=headers).status_code == 200
    assert client.get(ME, headers=token).get_json()["permissions"] == ["groups:read"]


def test_token_loses_a_permission_the_owner_loses(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    owner = make_user(db, runtime)
    group = make_group(db, permissions=["users:read"], members=[owner])
    token = _bearer(
        _create(client, auth_headers(runtime, owner), permissions=["users:read"])["token"]
    )
    assert client.get("/api/v1/users/", headers=token).status_code == 200

    db.query(GroupPermission).filter_by(group_id=group.id).delete()
    db.commit()
    assert_error(client.get("/api/v1/users/", headers=token), 403)
    assert client.get(ME, headers=token).get_json()["permissions"] == []


def test_superuser_token_is_never_superuser(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    other = make_user(db, runtime)
    token = _bearer(_create(client, superuser_headers, permissions=["users:read"])["token"])
    assert client.get("/api/v1/users/", headers=token).status_code == 200
    me = client.get(ME, headers=token).get_json()
    assert me["permissions"] == ["users:read"]
    # Superuser-only operations and what users:write would allow are refused.
    assert_error(
        client.patch(f"/api/v1/users/{other.id}", json={"is_superuser": True}, headers=token), 403
    )
    response = client.post("/api/v1/utils/test-email/?email_to=a@example.com", headers=token)
    assert_error(response, 403)
    # Only its listed permissions: not users:write, which a superuser holds.
    assert_error(client.delete(f"/api/v1/users/{other.id}", headers=token), 403)


def test_superuser_token_sees_only_its_owners_jobs(
    client: FlaskClient, db: Session, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    other = make_user(db, runtime)
    db.add(Job(kind="example", owner_id=other.id))
    db.commit()
    token = _bearer(_create(client, superuser_headers)["token"])
    assert client.get("/api/v1/jobs/", headers=superuser_headers).get_json()["count"] == 1
    assert client.get("/api/v1/jobs/", headers=token).get_json()["count"] == 0


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", TOKENS, None),
        ("post", TOKENS, {"name": "more", "permissions": []}),
        ("delete", TOKENS + "/{id}", None),
        (
            "patch",
            "/api/v1/users/me/password",
            {"current_password": DEFAULT_PASSWORD, "new_password": "another-good-password"},
        ),
        (
            "patch",
            ME,
            {"email": "new@example.com", "current_password": DEFAULT_PASSWORD},
        ),
        ("post", "/api/v1/users/me/mfa/totp", {"password": DEFAULT_PASSWORD}),
        ("post", "/api/v1/users/me/mfa/totp/confirm", {"code": "123456"}),
        (
            "post",
            "/api/v1/users/me/mfa/totp/disable",
            {"password": DEFAULT_PASSWORD, "code": "123456"},
        ),
    ],
)
def test_token_cannot_manage_tokens_password_email_or_mfa(
    client: FlaskClient,
    user_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    created = _create(client, user_headers)
    call = getattr(client, method)
    response = call(path.format(id=created["id"]), json=body, headers=_bearer(created["token"]))
    assert_error(response, 403)
    listed = client.get(TOKENS, headers=user_headers).get_json()
    assert listed["count"] == 1


def test_token_can_change_full_name_and_the_use_is_recorded(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    token = _bearer(_create(client, user_headers)["token"])
    response = client.patch(ME, json={"full_name": "Scripted"}, headers=token)
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Scripted"
    listed = client.get(TOKENS, headers=user_headers).get_json()
    assert listed["data"][0]["last_used_at"] is not None


@pytest.fixture
def token_writes(runtime: Runtime) -> Iterator[list[str]]:
    """The writes of last_used_at that requests made while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE personal_access_tokens") and "IS NULL" in statement:
            seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", record)
    yield seen
    event.remove(runtime.engine, "before_cursor_execute", record)


def test_last_used_at_is_written_at_most_once_a_minute(
    client: FlaskClient, db: Session, user_headers: dict[str, str], token_writes: list[str]
) -> None:
    created = _create(client, user_headers)
    token = _bearer(created["token"])
    assert client.get(ME, headers=token).status_code == 200
    assert client.get(ME, headers=token).status_code == 200
    assert len(token_writes) == 1
    db.rollback()
    first = db.scalars(select(PersonalAccessToken.last_used_at)).one()
    assert first is not None
    listed = client.get(TOKENS, headers=user_headers).get_json()
    assert listed["data"][0]["last_used_at"] is not None

    db.execute(update(PersonalAccessToken).values(last_used_at=first - timedelta(seconds=61)))
    db.commit()
    assert client.get(ME, headers=token).status_code == 200
    assert len(token_writes) == 2
    db.rollback()
    assert db.scalars(select(PersonalAccessToken.last_used_at)).one() > first - timedelta(
        seconds=61
    )
