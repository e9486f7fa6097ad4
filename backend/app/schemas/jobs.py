"""Jobs: background work run by the worker modules. The body that starts one is
one shape per kind (app/kinds), told apart by `kind`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, RootModel, create_model

from app.kinds import KINDS, JobKind
from app.models.job import JobState
from app.services.permissions import Permission

from .common import Input, Output, Page


def _create_model(kind: JobKind) -> type[Input]:
    """`{"kind": <name>, "params": <its params>}`; params may be left out when every
    one of them has a default. Named after the kind: demo -> DemoJobCreate."""
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", kind.name))
    optional = not any(field.is_required() for field in kind.params.model_fields.values())
    params: Any = (kind.params | None, None) if optional else (kind.params, ...)
    return create_model(
        f"{name}JobCreate",
        __base__=Input,
        __doc__=f"Start a {kind.name!r} job: {kind.description}",
        kind=(Literal[kind.name], ...),  # type: ignore[arg-type]
        params=params,
    )


_VARIANTS = tuple(_create_model(kind) for kind in KINDS.values())


class JobCreate(RootModel[Any]):
    """A job to start: its kind, and the parameters that kind takes."""

    root: Annotated[Union[_VARIANTS], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007

    @property
    def kind(self) -> str:
        return str(self.root.kind)  # type: ignore[attr-defined]

    @property
    def params(self) -> BaseModel | None:
        """The kind's params model, or None for its defaults."""
        params: BaseModel | None = self.root.params  # type: ignore[attr-defined]
        return params


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


class JobKindPublic(Output):
    name: str = Field(examples=["demo"])
    title: str
    description: str
    queue: str
    permission: Permission
    allowed: bool = Field(description="Whether you may start one")
    params_schema: dict[str, Any] = Field(description="JSON Schema of its params")
    worker_running: bool = Field(
        default=None,  # type: ignore[assignment]
        description="Superusers only: whether a worker consumes its queue now "
        "(false: its jobs wait until one starts)",
    )


class JobKinds(Output):
    data: list[JobKindPublic]
