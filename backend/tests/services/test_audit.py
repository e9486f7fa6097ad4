"""The audit log's service: recording outside a request, what details keep, and
the append-only guarantee each database gives, with the purge its one exception."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from app.core import request_context
from app.db.base import utcnow
from app.models import AuditEvent, User
from app.runtime import Runtime
from app.services import audit


def stored(db: Session) -> list[AuditEvent]:
    db.rollback()
    return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def add(db: Session, action: str, *, days_ago: float = 0) -> AuditEvent:
    event = audit.record(db, action)
    event.at = utcnow() - timedelta(days=days_ago)
    db.commit()
    return event


def dialect(db: Session) -> str:
    return db.get_bind().dialect.name


# --- recording ----------------------------------------------------------------


def test_record_outside_a_request_leaves_request_fields_empty(db: Session, user: User) -> None:
    audit.record(db, audit.Action.PASSWORD_RESET, actor=user, target=("user", user.id))
    db.commit()

    (event,) = stored(db)
    assert (event.ip, event.user_agent, event.request_id) == (None, None, None)
    assert (event.actor_id, event.actor_email) == (user.id, user.email)
    assert (event.target_type, event.target_id) == ("user", str(user.id))
    assert event.details == {}


def test_record_in_a_task_keeps_the_request_id_it_carried(db: Session) -> None:
    with request_context.bound("req-from-the-api-0001"):
        audit.record(db, audit.Action.EMAIL_VERIFIED)
    db.commit()
    assert stored(db)[0].request_id == "req-from-the-api-0001"


def test_record_is_undone_with_the_change_it_records(db: Session) -> None:
    audit.record(db, audit.Action.GROUP_CREATED)
    db.rollback()
    assert stored(db) == []


@pytest.mark.parametrize(
    ("details", "kept"),
    [
        ({"password": "hunter2!!", "email": "a@example.com"}, {"email": "a@example.com"}),
        ({"new_password": "x", "current_password": "y"}, {}),
        ({"access_token": "t", "refresh-token": "t", "Authorization": "Bearer t"}, {}),
        ({"totp_code": "123456", "recovery_codes": ["a", "b"], "otp": "1"}, {}),
        ({"client_secret": "s", "api_key": "k", "password_hash": "h"}, {}),
        ({"outer": {"inner": {"token": "t", "ok": 1}}}, {"outer": {"inner": {"ok": 1}}}),
        ({"list": [{"secret": "s", "name": "n"}, "plain"]}, {"list": [{"name": "n"}, "plain"]}),
    ],
)
def test_details_never_keep_secrets(
    db: Session, details: dict[str, Any], kept: dict[str, Any]
) -> None:
    audit.record(db, audit.Action.USER_UPDATED, details=details)
    db.commit()
    (event,) = stored(db)

    def without_filtered(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_filtered(v) for k, v in value.items() if v != audit.FILTERED}
        if isinstance(value, list):
            return [without_filtered(v) for v in value]
        return value

    assert without_filtered(event.details) == kept
    for secret in ("hunter2!!", "123456", "Bearer t"):
        assert secret not in repr(event.details)


def test_details_keep_names_of_changed_fields(db: Session) -> None:
    # A list of field names is no secret: only keys' values are filtered.
    audit.record(db, audit.Action.USER_UPDATED, details={"fields": ["email", "password"]})
    db.commit()
    assert stored(db)[0].details == {"fields": ["email", "password"]}


def test_actions_cover_the_contract() -> None:
    assert set(audit.ACTIONS) >= {
        "login.succeeded",
        "login.failed",
        "login.mfa_failed",
        "logout",
        "password.changed",
        "password.reset",
        "email.verified",
        "mfa.enabled",
        "mfa.disabled",
        "token.created",
        "token.revoked",
        "sso.login",
        "user.created",
        "user.updated",
        "user.deleted",
        "group.created",
        "group.updated",
        "group.deleted",
        "group.member_added",
        "group.member_removed",
    }


# --- append-only ----------------------------------------------------------------


def test_update_of_an_event_is_refused(db: Session) -> None:
    event = add(db, audit.Action.LOGIN_FAILED)
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(action="x"))
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("UPDATE audit_events SET details = '{}'"))
    db.rollback()
    assert [e.action for e in stored(db)] == ["login.failed"]


def test_delete_of_an_event_is_refused_where_the_database_can(db: Session) -> None:
    if dialect(db) == "sqlite":
        pytest.skip("SQLite has no session state to tell the purge apart: DELETE stays open")
    add(db, audit.Action.LOGIN_FAILED, days_ago=1000)
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(delete(AuditEvent))
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("DELETE FROM audit_events"))
    db.rollback()
    assert len(stored(db)) == 1


def test_truncate_is_refused_on_postgresql(db: Session) -> None:
    if dialect(db) != "postgresql":
        pytest.skip("PostgreSQL only")
    add(db, audit.Action.LOGIN_FAILED)
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("TRUNCATE audit_events"))
    db.rollback()
    assert len(stored(db)) == 1


def test_purge_permission_ends_with_the_block(db: Session) -> None:
    if dialect(db) == "sqlite":
        pytest.skip("SQLite has no session state to tell the purge apart: DELETE stays open")
    add(db, audit.Action.LOGIN_FAILED)
    with audit.purge_allowed(db):
        pass
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(delete(AuditEvent))
    db.rollback()
    assert len(stored(db)) == 1


# --- retention ------------------------------------------------------------------


def test_purge_before_deletes_only_older_events(db: Session) -> None:
    add(db, "login.failed", days_ago=400)
    add(db, "login.succeeded", days_ago=366)
    add(db, "logout", days_ago=364)
    add(db, "user.created")

    gone = audit.purge_before(session=db, cutoff=utcnow() - timedelta(days=365))
    db.commit()

    assert gone == 2
    assert [e.action for e in stored(db)] == ["logout", "user.created"]
    # The purge's permission is over: the events left are still append-only.
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(update(AuditEvent).values(action="x"))
    db.rollback()


def test_purge_before_on_a_fresh_connection_after_a_purge_refuses_deletes(
    runtime: Runtime, db: Session
) -> None:
    """A pooled connection that ran a purge gives no one else the right to delete."""
    if dialect(db) == "sqlite":
        pytest.skip("SQLite has no session state to tell the purge apart: DELETE stays open")
    add(db, "login.failed", days_ago=10)
    with runtime.session_factory() as other:
        audit.purge_before(session=other, cutoff=utcnow() - timedelta(days=30))
        other.commit()
        with pytest.raises(DatabaseError, match="append-only"):
            other.execute(delete(AuditEvent))
        other.rollback()
    assert len(stored(db)) == 1
