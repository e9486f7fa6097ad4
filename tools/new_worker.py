"""Add a worker module to this project:

    make new-worker NAME=nlp
    python3 tools/new_worker.py nlp

A worker module is its own Python project and image that runs the background jobs
of its kinds, with its own dependencies, on its own queue (docs/development.md,
"Adding a worker module"). This writes, from tools/worker_template/:

- worker-<name>/: its project (pyproject.toml, Dockerfile, worker_<name>/ with its
  Celery app and a sample runner, tests/);
- backend/app/kinds/<name>.py: its kinds' declaration (a sample kind, <name>.echo),
  listed in backend/app/kinds/project.py;
- its service in the compose files, the Swarm stack and `make dev`'s Procfile,
  its scrape job in Prometheus's two configs (compose/prometheus/), and its place
  in the workspace (pyproject.toml).

Then `make lock`, and it works: `make dev` runs it, `make test` tests it.
The standard library only, like tools/new_project.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("worker_template")
NAME = re.compile(r"[a-z][a-z0-9]{0,19}")
# The module's name is also a queue, a kind prefix and a Python name: keep these out.
RESERVED = {"default", "worker", "jobs", "email", "maintenance", "base", "project"}
MARKER = "(make new-worker adds each further worker module's"
# Where each service snippet goes: before the marker line of that file.
SERVICES = {
    "compose.yaml.tmpl": "compose/compose.yaml",
    "compose.dev.yaml.tmpl": "compose/compose.dev.yaml",
    "compose.test.yaml.tmpl": "compose/compose.test.yaml",
    "stack.yaml.tmpl": "compose/stack.yaml",
    "stack.override.yaml.tmpl": "ansible/tests/stack.override.yaml",
    "Procfile.dev.tmpl": "scripts/Procfile.dev",
    "prometheus.yml.tmpl": "compose/prometheus/prometheus.yml",
    "prometheus.stack.yml.tmpl": "compose/prometheus/stack.yml",
}
# The Swarm config made from compose/prometheus/stack.yml: a config cannot change
# once deployed, so its name's suffix goes up with each change.
STACK_CONFIG_NAME = re.compile(r"(_prometheus_config_v)(\d+)\b")


class Refused(Exception):
    """Nothing was written: the message says why."""


def render(text: str, name: str) -> str:
    values = {
        "name": name,
        "NAME": name.upper(),
        "module": name,
        "package": f"worker_{name}",
        "title": name.capitalize(),
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], text)


def check(name: str, root: Path) -> None:
    if not NAME.fullmatch(name) or name in RESERVED:
        raise Refused(
            f"{name!r}: a module's name is 1 to 20 lower-case letters and digits, starting "
            f"with a letter, and not one of {', '.join(sorted(RESERVED))}"
        )
    if (root / f"worker-{name}").exists() or (root / f"backend/app/kinds/{name}.py").exists():
        raise Refused(f"a module named {name!r} exists already (worker-{name}/)")
    for target in SERVICES.values():
        if MARKER not in (root / target).read_text():
            raise Refused(f"{target} has no line saying where a module's service goes")


def planned(name: str, root: Path) -> dict[Path, str]:
    """Every file to write, with its new content."""
    files: dict[Path, str] = {}
    project = root / f"worker-{name}"
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE)
        if relative.parts[0] == "services":
            continue
        target = relative.with_suffix("")  # without .tmpl
        if relative.name == "module.dockerfile.tmpl":  # a name the linters leave alone
            target = Path("Dockerfile")
        if relative.parts[0] == "package":
            target = Path(f"worker_{name}", *relative.parts[1:]).with_suffix("")
        if relative.name == "kinds.py.tmpl":
            files[root / f"backend/app/kinds/{name}.py"] = render(source.read_text(), name)
            continue
        files[project / target] = render(source.read_text(), name)
    for snippet, service_file in SERVICES.items():
        text = (root / service_file).read_text()
        at = text.index(MARKER)
        at = text.rindex("\n", 0, at) + 1  # the start of the marker's line
        added = render((TEMPLATE / "services" / snippet).read_text(), name)
        files[root / service_file] = text[:at] + added + text[at:]
    stack = root / "compose/stack.yaml"
    files[stack] = STACK_CONFIG_NAME.sub(
        lambda match: f"{match.group(1)}{int(match.group(2)) + 1}", files[stack], count=1
    )
    files[root / "backend/app/kinds/project.py"] = _listed(
        (root / "backend/app/kinds/project.py").read_text(), name
    )
    files[root / "pyproject.toml"] = _member((root / "pyproject.toml").read_text(), name)
    return files


def _listed(text: str, name: str) -> str:
    """app/kinds/project.py with the module's kinds in its list."""
    kinds = re.search(r"^KINDS: list\[JobKind\] = \[(.*?)\]$", text, re.MULTILINE | re.DOTALL)
    if kinds is None:
        raise Refused("backend/app/kinds/project.py has no `KINDS: list[JobKind] = [...]`")
    entries = [entry.strip() for entry in kinds.group(1).split(",") if entry.strip()]
    listed = ", ".join([*entries, f"*{name}.KINDS"])
    text = text[: kinds.start()] + f"KINDS: list[JobKind] = [{listed}]" + text[kinds.end() :]
    return text.replace(
        "from .base import JobKind\n", f"from . import {name}\nfrom .base import JobKind\n", 1
    )


def _member(text: str, name: str) -> str:
    """The workspace's pyproject.toml with the module among its members."""
    members = re.search(r"^members = \[(.*?)\]$", text, re.MULTILINE)
    if members is None:
        raise Refused("pyproject.toml has no `members = [...]` line")
    listed = members.group(1).rstrip(", ") + f', "worker-{name}"'
    return text[: members.start()] + f"members = [{listed}]" + text[members.end() :]


def main(argv: list[str] | None = None, root: Path = ROOT_DIR) -> int:
    parser = argparse.ArgumentParser(prog="tools/new_worker.py", description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the module's name, e.g. nlp (worker-nlp/, queue nlp)")
    name = parser.parse_args(argv).name
    try:
        check(name, root)
        files = planned(name, root)
    except Refused as exc:
        print(f"new-worker: {exc}", file=sys.stderr)
        return 1
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(
        f"worker-{name}/ written, with its kind {name}.echo (backend/app/kinds/{name}.py) and its "
        "services.\nNext: `make lock`, then `make dev` runs it and `make test` tests it; "
        f"replace the sample in worker-{name}/worker_{name}/jobs.py and add its libraries to "
        f"worker-{name}/pyproject.toml.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
