"""The audit log: the events the endpoints record, and reading them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.core.security import new_opaque_token
from app.db.base import utcnow
from app.models import AuditEvent, User
from app.runtime import Runtime
from app.services import audit, auth
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_group, make_user
from tests.utils.mfa import enable_mfa, now_code

EVENTS = "/api/v1/audit-events/"
LOGIN = "/api/v1/login/access-token"
NEW_PASSWORD = "another-fine-passphrase"
EVENT_FIELDS = {
    "id",
    "at",
    "action",
    "actor_id",
    "actor_email",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
}
SECRETS = (DEFAULT_PASSWORD, NEW_PASSWORD, "wrong-password-123")


def events(db: Session, action: str | None = None) -> list[AuditEvent]:
    """The stored events, oldest first (re-read: MariaDB's sessions repeat their reads)."""
    db.rollback()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


def only(db: Session, action: str) -> AuditEvent:
    found = events(db, action)
    assert len(found) == 1, [e.action for e in events(db)]
    return found[0]


def assert_no_secret(event: AuditEvent) -> None:
    text = repr(event.details)
    for secret in SECRETS:
        assert secret not in text


def login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD) -> TestResponse:
    return client.post(
        LOGIN, data={"username": email, "password": password}, headers={"User-Agent": "tests/1"}
    )


# --- what is recorded -------------------------------------------------------


def test_login_succeeded_is_recorded_with_request_fields(
    client: FlaskClient, db: Session, user: User
) -> None:
    response = login(client, user.email)
    assert response.status_code == 200

    event = only(db, "login.succeeded")
    assert (event.actor_id, event.actor_email) == (user.id, user.email)
    assert (event.target_type, event.target_id) == ("user", str(user.id))
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.ip == "127.0.0.1"
    assert event.user_agent == "tests/1"
    assert event.at <= utcnow()
    assert_no_secret(event)


def test_login_failed_with_wrong_password_is_kept_though_the_login_fails(
    client: FlaskClient, db: Session, user: User
) -> None:
    response = login(client, "JANE@Example.com", "wrong-password-123")
    assert response.status_code in (400, 401)

    event = only(db, "login.failed")
    assert event.actor_id == user.id
    assert event.details == {"email": "jane@example.com", "reason": "invalid_credentials"}
    assert event.request_id == response.headers["X-Request-ID"]
    assert events(db, "login.succeeded") == []


def test_login_failed_for_unknown_email_has_no_actor(client: FlaskClient, db: Session) -> None:
    response = login(client, "Nobody@Example.com", "wrong-password-123")
    assert response.status_code in (400, 401)

    event = only(db, "login.failed")
    assert (event.actor_id, event.actor_email, event.target_type) == (None, None, None)
    assert event.details["email"] == "nobody@example.com"
    assert_no_secret(event)


def test_login_failed_for_inactive_user_says_so(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    sleeper = make_user(db, runtime, is_active=False)
    response = login(client, sleeper.email)
    assert response.status_code in (400, 403)

    event = only(db, "login.failed")
    assert event.actor_id == sleeper.id
    assert event.details["reason"] == "inactive"


def test_logout_is_recorded_for_the_session_owner(
    client: FlaskClient, db: Session, user: User
) -> None:
    assert login(client, user.email).status_code == 200
    assert client.post("/api/v1/login/logout").status_code == 204
    assert client.post("/api/v1/login/logout").status_code == 204  # nothing left to end

    event = only(db, "logout")
    assert event.actor_id == user.id


def test_password_change_is_recorded_without_the_passwords(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    response = client.patch(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=user_headers,
    )
    assert response.status_code == 200

    event = only(db, "password.changed")
    assert event.actor_id == user.id
    assert_no_secret(event)


def test_token_created_and_revoked_are_recorded_without_the_token(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/users/me/tokens",
        json={"name": "deploy", "permissions": [], "expires_in_days": 7},
        headers=user_headers,
    )
    assert response.status_code == 201
    created = response.get_json()
    assert (
        client.delete(f"/api/v1/users/me/tokens/{created['id']}", headers=user_headers).status_code
        == 204
    )

    made, revoked = only(db, "token.created"), only(db, "token.revoked")
    for event in (made, revoked):
        assert (event.actor_id, event.target_type) == (user.id, "token")
        assert event.target_id == str(created["id"])
        assert created["token"] not in repr(event.details)
    assert made.details["name"] == "deploy"
    assert made.details["permissions"] == []


def test_mfa_enabled_failed_code_and_disabled_are_recorded_without_codes(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    started = client.post(
        "/api/v1/users/me/mfa/totp", json={"password": DEFAULT_PASSWORD}, headers=user_headers
    )
    secret = started.get_json()["secret"]
    confirmed = client.post(
        "/api/v1/users/me/mfa/totp/confirm", json={"code": now_code(secret)}, headers=user_headers
    )
    assert confirmed.status_code == 200
    recovery = confirmed.get_json()["recovery_codes"]
    mfa_token = login(client, user.email).get_json()["mfa_token"]
    wrong = client.post("/api/v1/login/mfa", json={"mfa_token": mfa_token, "code": "000000"})
    assert wrong.status_code == 401
    assert (
        client.post(
            "/api/v1/users/me/mfa/totp/disable",
            json={"password": DEFAULT_PASSWORD, "code": recovery[0]},
            headers=user_headers,
        ).status_code
        == 204
    )

    for action in ("mfa.enabled", "login.mfa_failed", "mfa.disabled"):
        event = only(db, action)
        assert (event.actor_id, event.target_id) == (user.id, str(user.id))
        for secret_value in (secret, recovery[0], mfa_token, "000000"):
            assert secret_value not in repr(event.details)


def test_admin_mfa_reset_is_recorded_as_the_admin(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    superuser: User,
    superuser_headers: dict[str, str],
) -> None:
    target = make_user(db, runtime)
    enable_mfa(db, runtime, target, DEFAULT_PASSWORD)
    assert (
        client.delete(f"/api/v1/users/{target.id}/mfa", headers=superuser_headers).status_code
        == 204
    )

    event = only(db, "mfa.disabled")
    assert (event.actor_id, event.target_id) == (superuser.id, str(target.id))
    assert event.details == {"reset_by_admin": True}


def test_password_reset_is_recorded(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    token = auth.create_password_reset_token(session=db, settings=runtime.settings, user=user)
    db.commit()
    response = client.post(
        "/api/v1/reset-password/", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200

    event = only(db, "password.reset")
    assert (event.actor_id, event.target_id) == (user.id, str(user.id))
    assert token not in repr(event.details)
    assert_no_secret(event)


def test_user_created_by_admin_and_by_signup_are_recorded(
    client: FlaskClient, db: Session, superuser: User, superuser_headers: dict[str, str]
) -> None:
    made = client.post(
        "/api/v1/users/",
        json={"email": "new@example.com", "password": NEW_PASSWORD},
        headers=superuser_headers,
    )
    assert made.status_code == 201
    signed = client.post(
        "/api/v1/users/signup", json={"email": "self@example.com", "password": NEW_PASSWORD}
    )
    assert signed.status_code == 201

    by_admin, by_signup = events(db, "user.created")
    assert by_admin.actor_id == superuser.id
    assert by_admin.target_id == str(made.get_json()["id"])
    assert by_admin.details["email"] == "new@example.com"
    assert by_signup.actor_id == signed.get_json()["id"]
    for event in (by_admin, by_signup):
        assert_no_secret(event)


def test_user_updated_names_changed_fields_never_the_password(
    client: FlaskClient,
    db: Session,
    superuser: User,
    superuser_headers: dict[str, str],
    user: User,
) -> None:
    response = client.patch(
        f"/api/v1/users/{user.id}",
        json={"full_name": "Jane Q", "password": NEW_PASSWORD, "is_active": True},
        headers=superuser_headers,
    )
    assert response.status_code == 200
    # Nothing changes: nothing recorded.
    again = client.patch(
        f"/api/v1/users/{user.id}", json={"full_name": "Jane Q"}, headers=superuser_headers
    )
    assert again.status_code == 200

    event = only(db, "user.updated")
    assert event.actor_id == superuser.id
    assert event.target_id == str(user.id)
    assert event.details == {"fields": ["full_name", "password"]}
    assert_no_secret(event)


def test_own_account_update_is_recorded(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    response = client.patch(
        "/api/v1/users/me",
        json={"email": "jane.new@example.com", "current_password": DEFAULT_PASSWORD},
        headers=user_headers,
    )
    assert response.status_code == 200

    event = only(db, "user.updated")
    assert event.actor_id == user.id
    # The address itself changes once verified (email.verified says so then).
    assert event.details == {"fields": ["pending_email"]}
    assert_no_secret(event)


def test_user_deleted_keeps_its_events_and_the_email_they_had(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    superuser: User,
    superuser_headers: dict[str, str],
) -> None:
    leaving = make_user(db, runtime, email="leaving@example.com")
    assert login(client, leaving.email).status_code == 200
    leaving_id = leaving.id
    response = client.delete(f"/api/v1/users/{leaving_id}", headers=superuser_headers)
    assert response.status_code == 204

    deleted = only(db, "user.deleted")
    assert (deleted.actor_id, deleted.target_id) == (superuser.id, str(leaving_id))
    assert deleted.details == {"email": "leaving@example.com"}
    logged_in = only(db, "login.succeeded")
    assert (logged_in.actor_id, logged_in.actor_email) == (leaving_id, "leaving@example.com")


def test_own_account_deletion_is_recorded(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    assert client.delete("/api/v1/users/me", headers=user_headers).status_code == 204
    event = only(db, "user.deleted")
    assert (event.actor_id, event.target_id) == (user.id, str(user.id))


def test_group_changes_and_memberships_are_recorded(
    client: FlaskClient,
    db: Session,
    superuser: User,
    superuser_headers: dict[str, str],
    user: User,
) -> None:
    created = client.post(
        "/api/v1/groups/",
        json={"name": "ops", "permissions": ["users:read"]},
        headers=superuser_headers,
    )
    assert created.status_code == 201
    group_id = created.get_json()["id"]
    path = f"/api/v1/groups/{group_id}"
    patched = client.patch(
        path, json={"permissions": ["jobs:run"], "name": "ops"}, headers=superuser_headers
    )
    assert patched.status_code == 200
    member = f"{path}/members/{user.id}"
    assert client.put(member, headers=superuser_headers).status_code == 204
    assert client.put(member, headers=superuser_headers).status_code == 204  # no change
    assert client.delete(member, headers=superuser_headers).status_code == 204
    assert client.delete(member, headers=superuser_headers).status_code == 204  # no change
    assert client.delete(path, headers=superuser_headers).status_code == 204

    recorded = events(db)
    assert [e.action for e in recorded] == [
        "group.created",
        "group.updated",
        "group.member_added",
        "group.member_removed",
        "group.deleted",
    ]
    for event in recorded:
        assert (event.actor_id, event.target_type) == (superuser.id, "group")
        assert event.target_id == str(group_id)
        assert event.details["name"] == "ops"
    assert recorded[0].details["permissions"] == ["users:read"]
    assert recorded[1].details == {
        "name": "ops",
        "fields": ["permissions"],
        "permissions_added": ["jobs:run"],
        "permissions_removed": ["users:read"],
    }
    assert recorded[2].details == {"name": "ops", "user_id": user.id, "email": user.email}


def test_event_and_change_are_committed_together(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    make_group(db, name="taken")
    response = client.post("/api/v1/groups/", json={"name": "TAKEN"}, headers=superuser_headers)
    assert response.status_code == 409
    assert events(db, "group.created") == []


# --- where the client is ------------------------------------------------------


def test_ip_comes_from_forwarded_for_only_behind_a_trusted_proxy(
    db: Session, runtime: Runtime, user: User
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        client = app_with_settings(runtime, PROXY_COUNT=proxies).test_client()
        response = client.post(
            LOGIN,
            data={"username": user.email, "password": DEFAULT_PASSWORD},
            headers=forwarded,
        )
        assert response.status_code == 200
        assert events(db, "login.succeeded")[-1].ip == expected


def test_long_user_agent_is_truncated(client: FlaskClient, db: Session, user: User) -> None:
    response = client.post(
        LOGIN,
        data={"username": user.email, "password": DEFAULT_PASSWORD},
        headers={"User-Agent": "x" * 5000},
    )
    assert response.status_code == 200
    agent = only(db, "login.succeeded").user_agent
    assert agent is not None
    assert 0 < len(agent) <= 512


# --- reading the log ----------------------------------------------------------


def seed(db: Session, actor: User, *actions: str, at_days_ago: int = 0) -> None:
    for action in actions:
        event = audit.record(db, action, actor=actor, details={"n": action})
        event.at = utcnow() - timedelta(days=at_days_ago)
    db.commit()


def read(client: FlaskClient, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    response = client.get(EVENTS + query, headers=headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_read_audit_events_requires_a_token(client: FlaskClient) -> None:
    response = client.get(EVENTS)
    assert_error(response, 401)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_read_audit_events_requires_audit_read(
    client: FlaskClient, db: Session, runtime: Runtime, user_headers: dict[str, str]
) -> None:
    assert_error(client.get(EVENTS, headers=user_headers), 403)
    reader = make_user(db, runtime, permissions=["audit:read"])
    assert client.get(EVENTS, headers=auth_headers(runtime, reader)).status_code == 200


def test_read_audit_events_newest_first_with_every_field(
    client: FlaskClient, db: Session, superuser: User, superuser_headers: dict[str, str]
) -> None:
    seed(db, superuser, "user.created", at_days_ago=2)
    seed(db, superuser, "user.updated", at_days_ago=1)
    seed(db, superuser, "user.deleted")

    body = read(client, superuser_headers)
    assert body["count"] == 3
    assert [e["action"] for e in body["data"]] == ["user.deleted", "user.updated", "user.created"]
    first = body["data"][0]
    assert set(first) == EVENT_FIELDS
    assert first["actor_id"] == superuser.id
    assert first["actor_email"] == superuser.email
    assert first["details"] == {"n": "user.deleted"}


def test_read_audit_events_filters_and_pages(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    superuser: User,
    superuser_headers: dict[str, str],
    user: User,
) -> None:
    seed(db, superuser, "group.created", "group.created", "group.deleted", at_days_ago=3)
    seed(db, user, "login.succeeded", "login.succeeded")

    by_action = read(client, superuser_headers, "?action=group.created")
    assert by_action["count"] == 2
    assert {e["action"] for e in by_action["data"]} == {"group.created"}
    by_actor = read(client, superuser_headers, f"?actor_id={user.id}")
    assert by_actor["count"] == 2
    by_email = read(client, superuser_headers, "?actor_email=JANE@example.com")
    assert by_email["count"] == 2
    since = (utcnow() - timedelta(days=1)).isoformat()
    recent = read(client, superuser_headers, "?since=" + since.replace("+00:00", "Z"))
    assert {e["action"] for e in recent["data"]} == {"login.succeeded"}
    older = read(client, superuser_headers, "?until=" + since.replace("+00:00", "%2B00:00"))
    assert older["count"] == 3
    page = read(client, superuser_headers, "?skip=1&limit=2")
    assert (page["count"], len(page["data"])) == (5, 2)
    capped = read(client, superuser_headers, "?limit=1000")
    assert capped["count"] == 5


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0",
        "?skip=-1",
        "?limit=x",
        "?action=nonsense",
        "?actor_id=0",
        "?actor_id=abc",
        "?since=yesterday",
        "?until=2026-13-45",
        "?since=%00",
        "?since=0001-01-01T00:00:00%2B01:00",
        "?until=9999-12-31T23:59:59-01:00",
    ],
)
def test_read_audit_events_with_bad_query_is_a_client_error(
    client: FlaskClient, superuser_headers: dict[str, str], query: str
) -> None:
    response = client.get(EVENTS + query, headers=superuser_headers)
    assert response.status_code in (400, 422)
    assert "message" in response.get_json()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_no_operation_changes_or_deletes_events(
    client: FlaskClient,
    db: Session,
    superuser: User,
    superuser_headers: dict[str, str],
    method: str,
) -> None:
    seed(db, superuser, "user.created")
    event_id = events(db)[0].id
    response = getattr(client, method)(EVENTS, json={}, headers=superuser_headers)
    assert_error(response, 405)
    # No path names a single event.
    response = getattr(client, method)(f"{EVENTS}{event_id}", json={}, headers=superuser_headers)
    assert response.status_code in (404, 405)
    assert len(events(db)) == 1


def test_catalog_lists_audit_read(client: FlaskClient, user_headers: dict[str, str]) -> None:
    body = client.get("/api/v1/permissions/", headers=user_headers).get_json()
    assert "audit:read" in {entry["name"] for entry in body["data"]}


def test_failed_login_secret_never_appears_in_the_api(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str], user: User
) -> None:
    secret = new_opaque_token()
    login(client, user.email, secret)
    body = client.get(EVENTS, headers=superuser_headers).get_data(as_text=True)
    assert "login.failed" in body
    assert secret not in body
