"""This project's own job kinds.

A project made with `make new-project` declares its kinds in modules of its own
(`app/kinds/<module>.py`, one per worker module) and lists them here, which the
base ships empty and never changes, so that `make update-from-upstream` merges the
base's kinds without touching this project's.

    from app.kinds import nlp

    KINDS = [*nlp.KINDS]
"""

from __future__ import annotations

from .base import JobKind

KINDS: list[JobKind] = []
