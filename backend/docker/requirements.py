"""Print the dependencies that pyproject.toml files declare, one per line.

    python requirements.py 'backend/pyproject.toml[web]' 'worker/pyproject.toml[flower]'

Each argument is a pyproject.toml, optionally followed by the extras to include.
The Dockerfiles install this list (with the constraints) before they copy the
code, so that the layer holding the dependencies is rebuilt only when a
pyproject.toml or the constraints change, not on every change to the code.
Requirements on the projects named in the arguments are left out: those are
installed from their source afterwards.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ARGUMENT = re.compile(r"^(?P<path>[^\[\]]+)(?:\[(?P<extras>[^\[\]]*)\])?$")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalized_name(requirement: str) -> str:
    """The distribution's name as PEP 503 compares it: `Flask_Limiter` == `flask-limiter`."""
    match = NAME.match(requirement)
    if match is None:
        raise SystemExit(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirements(arguments: list[str]) -> list[str]:
    own: set[str] = set()
    found: list[str] = []
    for argument in arguments:
        match = ARGUMENT.match(argument)
        if match is None:
            raise SystemExit(f"not PATH or PATH[extra,...]: {argument!r}")
        path = Path(match["path"])
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        own.add(normalized_name(project["name"]))
        found += project.get("dependencies", [])
        optional = project.get("optional-dependencies", {})
        for extra in filter(None, (e.strip() for e in (match["extras"] or "").split(","))):
            if extra not in optional:
                raise SystemExit(f"{path}: no extra named {extra!r}")
            found += optional[extra]
    unique = dict.fromkeys(r.strip() for r in found)
    return [r for r in unique if normalized_name(r) not in own]


def main(arguments: list[str]) -> int:
    if not arguments:
        raise SystemExit(__doc__)
    print("\n".join(requirements(arguments)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
