"""The health check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Output

Status = Literal["ok", "unavailable"]


class Health(Output):
    status: Status
    database: Status
    broker: Status
    message: str | None = Field(default=None, description="When unavailable: what is down")
