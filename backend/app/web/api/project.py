"""This project's own API namespaces, with the path each one is mounted on.

A project generated with `make new-project` registers its namespaces here
rather than in `app/web/api/__init__.py`: the base ships this list empty and
never changes it, so `make update-from-upstream` merges the base's own
namespaces without touching this project's.

    from . import things

    NAMESPACES = [(things.ns, "/things")]
"""

from __future__ import annotations

from flask_restx import Namespace

NAMESPACES: list[tuple[Namespace, str]] = []
