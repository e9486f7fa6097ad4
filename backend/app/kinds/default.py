"""The kinds the default worker module (worker/) runs, on the `jobs` queue."""

from __future__ import annotations

from pydantic import Field

from app.schemas.common import Input

from .base import JobKind

QUEUE = "jobs"
DEMO_MAX_SECONDS = 60


class DemoParams(Input):
    seconds: float = Field(default=0, ge=0, le=DEMO_MAX_SECONDS, description="How long to sleep")
    fail: bool = Field(default=False, description="Fail at the end instead of succeeding")


DEMO = JobKind(
    name="demo",
    title="Demo",
    description="Sleeps for a while, reporting progress, then succeeds (or fails when asked).",
    params=DemoParams,
    queue=QUEUE,
)

KINDS = [DEMO]
