"""The audit log: an append-only record of security events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow

USER_AGENT_MAX = 512


class AuditEvent(Base):
    """One security event, written once and never changed (app.services.audit).

    The actor is kept by id and by the email it had at the time, with no foreign
    key: deleting the account must neither delete its events nor rewrite them
    (SET NULL would be an UPDATE, which the table refuses)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_actor_id_at", "actor_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column()
    actor_email: Mapped[str | None] = mapped_column(String(255))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
