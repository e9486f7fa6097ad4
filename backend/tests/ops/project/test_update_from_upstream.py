"""`make update-from-upstream`: a generated project takes the base's later changes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from app.db import migrate
from tests.ops.project.conftest import VENV_DIR, Base, base_env, git, read_env, run

# A tool run end to end: make test-tools, not make test (scripts/test.sh).
pytestmark = pytest.mark.tools

# What a project adds to the base: a model, its migration and a namespace, in
# modules of its own and the two lists kept for them.
NOTE_MODEL = """\
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
"""
NOTE_NAMESPACE = '''\
from typing import Any

from flask_restx import Namespace, Resource
from sqlalchemy import select

from app.models.note import Note
from app.web.db import session

ns = Namespace("notes", description="Notes")


@ns.route("")
class NoteList(Resource):
    @ns.doc("readNotes")
    def get(self) -> dict[str, Any]:
        """List the notes."""
        return {"data": [note.text for note in session().scalars(select(Note))]}
'''


def _migration(revision: str, parent: str, body: str) -> str:
    return textwrap.dedent(f'''\
        import sqlalchemy as sa
        from alembic import op

        revision = "{revision}"
        down_revision = "{parent}"
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
            {body}


        def downgrade() -> None:
            pass
        ''')


def _head() -> str:
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    return head


def _update(project: Path, *args: str, check: bool = True, upstream: str = "") -> tuple[int, str]:
    result = run(
        "bash",
        project / "scripts/update-from-upstream.sh",
        *args,
        cwd=project,
        check=check,
        env=base_env(VENV_DIR=str(VENV_DIR), UPSTREAM=upstream),
    )
    return result.returncode, result.stderr


def _commit(repo: Path, message: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def _append(path: Path, text: str) -> str:
    return path.read_text(encoding="utf-8") + text


@pytest.fixture
def project(fresh_base: Base, tmp_path: Path) -> Path:
    dest = tmp_path / "acme"
    fresh_base.generate("--name", "Acme Portal", "--domain", "acme.example", dest=dest)
    return dest


def test_update_merges_upstream_changes_around_the_projects_own(
    fresh_base: Base, project: Path, tmp_path: Path
) -> None:
    base = fresh_base
    head = _head()
    # The project: its settings, a model with its migration, and an endpoint.
    env_file = project / ".env"
    env_file.write_text(_append(env_file, "LOG_LEVEL=DEBUG\n"))
    _commit(
        project,
        "Notes",
        {
            "backend/app/models/note.py": NOTE_MODEL,
            "backend/app/models/project.py": (
                'from app.models.note import Note\n\n__all__ = ["Note"]\n'
            ),
            "backend/app/migrations/versions/20990101_a0000000000a_add_notes.py": _migration(
                "a0000000000a",
                head,
                'op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True), '
                'sa.Column("text", sa.String(200), nullable=False))',
            ),
            "backend/app/web/api/notes.py": NOTE_NAMESPACE,
            "backend/app/web/api/project.py": (
                "from flask_restx import Namespace\n\nfrom . import notes\n\n"
                'NAMESPACES: list[tuple[Namespace, str]] = [(notes.ns, "/notes")]\n'
            ),
        },
    )
    # The base, meanwhile: its docs, the two registries and a migration of its own.
    docs = base.path / "docs/development.md"
    models_init = base.path / "backend/app/models/__init__.py"
    api_init = base.path / "backend/app/web/api/__init__.py"
    upstream = base.commit(
        "Upstream work",
        {
            "docs/development.md": _append(docs, "\nA line the base added.\n"),
            "backend/app/models/__init__.py": models_init.read_text().replace(
                "one module per aggregate", "one module per aggregate (changed upstream)"
            ),
            "backend/app/web/api/__init__.py": api_init.read_text().replace(
                "Authenticate with the Authorize button", "Authorize first"
            ),
            "backend/app/migrations/versions/20990101_b0000000000b_upstream.py": _migration(
                "b0000000000b", head, "pass"
            ),
        },
    )

    status, log = _update(project)

    assert status == 0, log
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD^2") == upstream
    assert read_env(project / ".upstream")["UPSTREAM_COMMIT"] == upstream
    assert "A line the base added." in (project / "docs/development.md").read_text()
    assert "Authorize first" in (project / "backend/app/web/api/__init__.py").read_text()
    assert "Note" in (project / "backend/app/models/project.py").read_text()
    assert (project / ".env").read_text().endswith("LOG_LEVEL=DEBUG\n")
    assert "adding a merge revision" in log

    # The merged project migrates (both branches, joined) and serves its endpoint.
    check = textwrap.dedent(f"""\
        from app.core.config import Settings
        from app.db import migrate
        from app.web import create_app
        app = create_app(Settings(_env_file=None, DATABASE_URL="sqlite:///{tmp_path}/m.db"))
        migrate.upgrade(app.extensions["runtime"].engine)
        print(app.test_client().get("/api/v1/notes").get_json())
        """)
    out = run(
        VENV_DIR / "bin/python",
        "-c",
        check,
        cwd=project / "backend",
        env=base_env(PYTHONPATH=str(project / "backend"), ENV_FILE="/dev/null"),
    )
    assert out.stdout.strip().endswith("{'data': []}")

    # Nothing new: nothing to do. Then the next change merges from the last one.
    assert "already up to date" in _update(project)[1]
    upstream = base.commit(
        "More upstream work",
        {
            "docs/development.md": _append(docs, "Another line.\n"),
        },
    )
    status, log = _update(project)
    assert status == 0, log
    assert git(project, "rev-parse", "HEAD^2") == upstream
    assert (project / "docs/development.md").read_text().endswith("Another line.\n")


def test_update_stops_on_a_conflict_for_the_user_to_resolve(
    fresh_base: Base, project: Path
) -> None:
    readme = project / "README.md"
    _commit(project, "Our intro", {"README.md": readme.read_text().replace("A base", "Our app", 1)})
    base_readme = fresh_base.path / "README.md"
    upstream = fresh_base.commit(
        "Their intro",
        {
            "README.md": base_readme.read_text().replace("A base", "The base", 1),
        },
    )

    status, log = _update(project, check=False)

    assert status != 0
    assert "README.md" in log
    assert "git merge --abort" in log
    assert git(project, "rev-parse", "MERGE_HEAD") == upstream
    # .upstream already names the merged commit: committing the resolution records it.
    assert read_env(project / ".upstream")["UPSTREAM_COMMIT"] == upstream


def test_update_refuses_uncommitted_changes(project: Path) -> None:
    (project / "README.md").write_text("# Half done\n")
    status, log = _update(project, check=False)
    assert status != 0
    assert "commit or stash your changes first" in log


def test_update_with_nothing_new_upstream_changes_nothing(fresh_base: Base, project: Path) -> None:
    head = git(project, "rev-parse", "HEAD")
    upstream_file = (project / ".upstream").read_text()

    status, log = _update(project, check=False)

    assert status == 0, log
    assert f"upstream: {fresh_base.path}" in log
    assert "already up to date" in log
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""
    assert (project / ".upstream").read_text() == upstream_file


def test_update_from_another_upstream_given_by_upstream(
    fresh_base: Base, project: Path, tmp_path: Path
) -> None:
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "-q", str(fresh_base.path), str(fork))
    readme = fork / "README.md"
    _commit(fork, "The fork's line", {"README.md": _append(readme, "\nA line of the fork.\n")})
    forked = git(fork, "rev-parse", "HEAD")

    status, log = _update(project, upstream=str(fork))

    assert status == 0, log
    assert f"upstream: {fork} (from UPSTREAM=" in log
    assert git(project, "rev-parse", "HEAD^2") == forked
    assert (project / "README.md").read_text().endswith("A line of the fork.\n")
    assert read_env(project / ".upstream")["UPSTREAM_URL"] == str(fork)
