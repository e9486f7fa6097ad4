"""Jobs: background work run by the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.models.job import JobState
from app.services.jobs import DEMO_MAX_SECONDS

from .common import Input, Output, Page


class DemoJobParams(Input):
    seconds: float = Field(default=0, ge=0, le=DEMO_MAX_SECONDS)
    fail: bool = False


class JobCreate(Input):
    kind: Literal["demo"]
    params: DemoJobParams | None = None


class JobPublic(Output):
    id: int
    kind: str = Field(examples=["demo"])
    state: JobState
    progress: int = Field(ge=0, le=100)
    result: Any = Field(description="The job's output (JSON)")
    error: str | None
    owner_id: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobsPage(Page[JobPublic]):
    pass
