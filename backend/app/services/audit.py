"""The audit log: who did what, when, from where. Append-only.

`record` is the one way in. It adds the event to the caller's session, so the
event and the change it records are committed together (or not at all); the
caller commits. Outside a request (worker, command line) the address, user agent
and request id are simply unknown (or, in a task the API enqueued, the request id
is the one it carried).

An event's `details` never hold a secret: `scrub` replaces the value of every key
that names one (passwords, tokens, codes, secrets...), at any depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.core import request_context
from app.db.pages import paginate
from app.models import AuditEvent, User
from app.models.audit import USER_AGENT_MAX
from app.services import users


class Action:
    """The actions recorded (the API contract lists them)."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_MFA_FAILED = "login.mfa_failed"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 (an action name)
    PASSWORD_RESET = "password.reset"  # noqa: S105 (an action name)
    EMAIL_VERIFIED = "email.verified"
    MFA_ENABLED = "mfa.enabled"
    MFA_DISABLED = "mfa.disabled"
    TOKEN_CREATED = "token.created"  # noqa: S105 (an action name)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 (an action name)
    SSO_LOGIN = "sso.login"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    GROUP_CREATED = "group.created"
    GROUP_UPDATED = "group.updated"
    GROUP_DELETED = "group.deleted"
    GROUP_MEMBER_ADDED = "group.member_added"
    GROUP_MEMBER_REMOVED = "group.member_removed"


ACTIONS: tuple[str, ...] = tuple(
    value for name, value in vars(Action).items() if not name.startswith("_")
)

FILTERED = "[filtered]"
# A key containing any of these names a secret: its value is never stored.
SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "code",
    "otp",
    "hash",
    "credential",
    "cookie",
    "authorization",
    "api_key",
    "apikey",
    "private_key",
    "session",
)
MAX_DEPTH = 8


def is_secret_key(key: object) -> bool:
    normalized = str(key).lower().replace("-", "_")
    return any(part in normalized for part in SECRET_KEY_PARTS)


def scrub(value: Any, _depth: int = 0) -> Any:
    """`value` as JSON, with the value of every secret-naming key replaced."""
    if _depth > MAX_DEPTH:
        return FILTERED
    if isinstance(value, Mapping):
        return {
            str(key): FILTERED if is_secret_key(key) else scrub(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(item, _depth + 1) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    target: tuple[str, object] | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to `session` (the caller commits it with the change it records).

    `actor`: who did it (None: nobody authenticated); `target`: what it was done to,
    as (type, id), e.g. ("user", 7); `details`: a JSON object, scrubbed of secrets."""
    ip, user_agent = request_context.client()
    target_type, target_id = target if target is not None else (None, None)
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=ip,
        user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None,
        request_id=request_context.current(),
        details=scrub(dict(details or {})),
    )
    session.add(event)
    return event


def list_events(
    *,
    session: Session,
    skip: int,
    limit: int,
    action: str | None = None,
    actor_id: int | None = None,
    actor_email: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEvent], int]:
    """Newest first (the id breaks ties between equal times)."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if actor_email:
        query = query.where(AuditEvent.actor_email == users.login_key(actor_email))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return paginate(session, query, skip=skip, limit=limit)


@contextmanager
def purge_allowed(session: Session) -> Iterator[None]:
    """Inside the block, this session may delete events: the databases' triggers
    refuse it otherwise (migration 9c4e2b7d5a31). Only the retention purge (and
    tests emptying tables) should need it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Transaction-local: it ends with the transaction, whatever happens.
        session.execute(text("SELECT set_config('app.audit_purge', 'on', true)"))
        yield
        session.execute(text("SELECT set_config('app.audit_purge', 'off', true)"))
    elif dialect in ("mysql", "mariadb"):
        # A session variable: the pooled connection must not keep it.
        session.execute(text("SET @audit_purge = 1"))
        try:
            yield
        finally:
            session.execute(text("SET @audit_purge = NULL"))
    else:
        yield


def purge_before(*, session: Session, cutoff: datetime) -> int:
    """Delete the events older than `cutoff` (the retention period); the caller commits."""
    with purge_allowed(session):
        result = session.execute(
            delete(AuditEvent)
            .where(AuditEvent.at < cutoff)
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0))
