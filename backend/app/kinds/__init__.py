"""Job kinds: each declared once (app/kinds/<module>.py), read by the API and by
the worker module that runs it. Flask-free, and free of any module's dependencies.

    from app.kinds import get_kind
    kind = get_kind("demo")          # None when unknown
"""

from __future__ import annotations

from . import default, ml, project
from .base import JobKind

KINDS: dict[str, JobKind] = {}
for _kind in (*default.KINDS, *ml.KINDS, *project.KINDS):
    if _kind.name in KINDS:
        raise RuntimeError(f"job kind {_kind.name!r} is declared twice")
    KINDS[_kind.name] = _kind


def get_kind(name: str) -> JobKind | None:
    return KINDS.get(name)


def queues() -> list[str]:
    """Every queue a kind runs on, in declaration order."""
    return list(dict.fromkeys(kind.queue for kind in KINDS.values()))


__all__ = ["KINDS", "JobKind", "get_kind", "queues"]
