"""The audit log: the shape of its events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from .common import Output, Page


class AuditEventPublic(Output):
    id: int
    at: datetime
    action: str
    actor_id: int | None = Field(description="Who did it; null: nobody authenticated")
    actor_email: str | None = Field(description="The actor's email when it happened")
    target_type: str | None
    target_id: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None = Field(description="The X-Request-ID of the request that did it")
    details: dict[str, Any] = Field(description="More about it; never a secret")


class AuditEventsPage(Page[AuditEventPublic]):
    pass
