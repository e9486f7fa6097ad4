"""Items, the example resource: the shapes of its requests and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .common import Input, Output, Page, not_blank, printable

Title = Annotated[str, *not_blank(max_length=255)]
Description = Annotated[str, printable(max_length=10_000)]


class ItemCreate(Input):
    title: Title
    description: Description | None = None


class ItemUpdate(Input):
    """The fields to change; those left out stay as they are."""

    # Left out: unchanged. Never null (an item always has a title): so the type has
    # no None, only the default, which is never validated (nor documented).
    title: Title = Field(default=None)  # type: ignore[assignment]
    description: Description | None = None


class ItemPublic(Output):
    id: int
    title: str
    description: str | None
    owner_id: int
    created_at: datetime
    updated_at: datetime


class ItemsPage(Page[ItemPublic]):
    pass
