"""docs/development.md's "Adding a resource", followed in a temporary copy of the
project: every file the walkthrough shows is written where it says, the
migration is made from the models, the walkthrough's tests run (on every database
the suite runs on), the client is regenerated and the page type-checked and
linted. If a step is missing or a file no longer works with the code around it,
this fails, so the walkthrough cannot rot.

The copy shares this checkout's `.venv` and `frontend/node_modules` (links, never
synced from the copy); the commands are those `make migration` and `make
generate-client` run, without their set-up steps.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# A tool run end to end: make test-tools, not make test (scripts/test.sh).
pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "development.md"
# A fenced block that names its file: ```python title="backend/app/models/thing.py"
FILE_BLOCK = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```$', re.MULTILINE | re.DOTALL)
COMMANDS = ('make migration MSG="add bookmarks"', "make generate-client")


def walkthrough() -> str:
    text = DOC.read_text()
    start = text.index("## Adding a resource")
    return text[start : text.index("\n## ", start + 1)]


def files() -> dict[str, str]:
    return {path: body for path, body in FILE_BLOCK.findall(walkthrough())}


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's files (tracked and new, not ignored), plus the walkthrough's."""
    copy = tmp_path_factory.mktemp("project")
    listed = run("git", "ls-files", "-z", "-co", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(Path(sys.prefix))
    for path, body in files().items():
        (copy / path).parent.mkdir(parents=True, exist_ok=True)
        (copy / path).write_text(body)
    return copy


def backend_env(project: Path, tmp_path: Path) -> dict[str, str]:
    """As make runs commands: the environment's tools on PATH, the copy's `app`
    first on the path, settings from here rather than from any .env."""
    return os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(project / "backend"),
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'walkthrough.db'}",
    }


def test_walkthrough_shows_every_step() -> None:
    text = walkthrough()
    for command in COMMANDS:
        assert command in text
    shown = files()
    for layer in ("app/models/", "app/schemas/", "app/services/", "app/web/api/", "tests/"):
        assert any(path.startswith(f"backend/{layer}") for path in shown), layer
    assert any(path.startswith("frontend/src/pages/") for path in shown)


def test_walkthrough_backend_migrates_and_passes_its_tests(project: Path, tmp_path: Path) -> None:
    backend = project / "backend"
    env = backend_env(project, tmp_path)
    # make migration: the database at the newest revision, then autogenerate.
    run(sys.executable, "-m", "app", "migrate", cwd=backend, env=env)
    run(sys.executable, "-m", "alembic", "revision", "--autogenerate", "-m", "add bookmarks",
        cwd=backend, env=env)  # fmt: skip
    [revision] = (backend / "app" / "migrations" / "versions").glob("*_add_bookmarks.py")
    assert 'create_table(\n        "bookmarks"' in revision.read_text()
    # Nothing left for a second autogenerate to find: the migration is the model.
    run(sys.executable, "-m", "app", "migrate", cwd=backend, env=env)
    run(sys.executable, "-m", "alembic", "check", cwd=backend, env=env)

    tests = [path for path in files() if path.startswith("backend/tests/")]
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        *(path.removeprefix("backend/") for path in tests), cwd=backend, env=env)  # fmt: skip
    python_files = [path for path in files() if path.endswith(".py")]
    run(sys.executable, "-m", "ruff", "check", "--no-cache", *python_files, cwd=project)
    run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *python_files,
        cwd=project)  # fmt: skip


def test_walkthrough_frontend_page_uses_the_generated_client(project: Path, tmp_path: Path) -> None:
    node_modules = ROOT / "frontend" / "node_modules"
    if not (node_modules / ".installed").exists():
        pytest.skip("the frontend's packages are not installed (make test installs them)")
    (project / "frontend" / "node_modules").symlink_to(node_modules)
    frontend = project / "frontend"
    env = backend_env(project, tmp_path)
    # make generate-client
    run("bash", "scripts/generate-client.sh", cwd=frontend, env=env)
    client = (frontend / "src" / "client" / "sdk.gen.ts").read_text()
    assert "export const readBookmarks" in client
    pages = [path.removeprefix("frontend/") for path in files() if path.startswith("frontend/")]
    run("npx", "--no-install", "vue-tsc", "--build", "--force", cwd=frontend, env=env)
    run("npx", "--no-install", "eslint", "--max-warnings=0", *pages, cwd=frontend, env=env)
