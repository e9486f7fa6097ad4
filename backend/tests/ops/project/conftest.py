"""A base repository to generate projects from, and the commands to do it.

The base is a snapshot of this checkout as it would be committed (tracked and
new files, as they are on disk), committed in a temporary repository: the
generator copies the committed tree only, so this tests the working copy's
scripts and code, not the last commit's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[4]
# The virtualenv running the suite: generated projects reuse it rather than
# install their own.
VENV_DIR = Path(sys.prefix)
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    # Nothing from this machine's git configuration (signing, hooks, aliases).
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def base_env(**extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return env | GIT_IDENTITY | extra


def run(
    *args: str | Path, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env or base_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited with {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def git(repo: Path, *args: str, check: bool = True) -> str:
    return run("git", *args, cwd=repo, check=check).stdout.strip()


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


@dataclass
class Base:
    """The repository projects are generated from."""

    path: Path

    def generate(
        self, *args: str, dest: Path, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(
            # The machine's Python: the generator needs nothing installed.
            "python3",
            self.path / "tools/new_project.py",
            *args,
            "--dest",
            dest,
            cwd=self.path,
            check=check,
        )

    def commit(self, message: str, files: dict[str, str]) -> str:
        """Write the files and commit them; returns the new commit."""
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)
        return git(self.path, "rev-parse", "HEAD")


def _snapshot(source: Path, target: Path) -> None:
    listed = run(
        "git",
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        cwd=source,
    ).stdout
    for name in filter(None, listed.split("\0")):
        origin = source / name
        if origin.is_file():  # deleted but not yet staged: gone from the snapshot
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, destination)


@pytest.fixture(scope="session")
def base_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("base-snapshot")
    _snapshot(REPO_DIR, path)
    return path


def _make_base(snapshot: Path, path: Path) -> Base:
    """A base repository with one commit: the snapshot."""
    shutil.copytree(snapshot, path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "The base")
    return Base(path)


@pytest.fixture(scope="session")
def base(base_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Base:
    """A base shared by the tests that only generate from it."""
    return _make_base(base_snapshot, tmp_path_factory.mktemp("shared") / "base")


@pytest.fixture
def fresh_base(base_snapshot: Path, tmp_path: Path) -> Base:
    """A base of the test's own, to change."""
    return _make_base(base_snapshot, tmp_path / "base")
