"""What a job kind is: one declaration that the API and the worker modules both read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from app.services.permissions import Permission


@dataclass(frozen=True)
class JobKind:
    """A kind of background job.

    The API reads it to check who may start one (`permission`), to validate its
    parameters (`params`, a pydantic model: its JSON Schema is what the frontend
    renders the start form from) and to route it (`queue`). The worker module that
    consumes `queue` runs it with the runner it registers under `name`; the API
    never imports that module or its dependencies.
    """

    name: str
    title: str
    description: str
    params: type[BaseModel]
    # A worker module's queue: "jobs" for the default module, its name for others.
    queue: str
    permission: Permission = Permission.JOBS_RUN

    def params_schema(self) -> dict[str, Any]:
        """The parameters as JSON Schema (2020-12), nested models inlined."""
        return self.params.model_json_schema(mode="validation")
