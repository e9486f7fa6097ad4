"""Personal access tokens: the shapes of their requests and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.services.permissions import Permission

from .common import Input, Integer, Output, Page, not_blank
from .groups import PermissionNames

Name = Annotated[str, *not_blank(max_length=100)]
# Every token expires: a forgotten one stops working on its own.
DEFAULT_EXPIRES_IN_DAYS = 90
MAX_EXPIRES_IN_DAYS = 365


class PersonalTokenCreate(Input):
    name: Name
    permissions: PermissionNames = Field(default_factory=list)
    expires_in_days: Integer = Field(
        default=DEFAULT_EXPIRES_IN_DAYS,
        ge=1,
        le=MAX_EXPIRES_IN_DAYS,
        description=f"Days until it expires; {DEFAULT_EXPIRES_IN_DAYS} when left out",
    )


class PersonalTokenPublic(Output):
    id: int
    name: str
    permissions: list[Permission]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class PersonalTokenCreated(PersonalTokenPublic):
    token: str = Field(description="The token itself: shown only in this answer")


class PersonalTokensPage(Page[PersonalTokenPublic]):
    pass
