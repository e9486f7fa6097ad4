"""What the backup tests share: running the real commands (`python -m app backup`,
as make runs it), a database's full contents and shape, and data written through
the app's services."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from app.db import migrate
from app.db.session import _normalise_url
from app.kinds.default import DEMO, DemoParams
from app.runtime import Runtime
from app.services import audit, auth, groups, items, jobs, users
from app.services.permissions import Permission
from tests.conftest import make_settings

REPO_DIR = Path(__file__).resolve().parents[4]
SERVICE_SCRIPT = REPO_DIR / "compose" / "backup-service.sh"
PASSWORD = "backup-test-password"
# What a command needs from its surroundings; every setting is given explicitly.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def run_script(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A shell script, as make would run it."""
    return _run(["bash", str(script), *args], env)


def run_app(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS`, as make runs it."""
    return _run([sys.executable, "-m", "app", *args], env)


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Without a terminal: nothing can be asked."""
    base = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return subprocess.run(
        command,
        env=base | {"ENV_FILE": "/dev/null"} | env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def backup(database_url: str, backup_dir: Path) -> Path:
    """`make backup` on the database; the file it wrote."""
    done = run_app("backup", DATABASE_URL=database_url, BACKUP_DIR=str(backup_dir))
    assert done.returncode == 0, done.stderr
    (file,) = backup_dir.iterdir()
    return file


def restore(
    database_url: str, file: Path, *, ask: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """`make restore FILE=... FORCE=1`, or without FORCE when `ask`."""
    args = ["restore", str(file)] + ([] if ask else ["--yes"])
    return run_app(*args, DATABASE_URL=database_url, **env)


def populate(database_url: str) -> None:
    """A migrated schema, and rows in every table the app fills, written as the app
    writes them: users, groups with permissions and members, items (unicode,
    quotes, control characters, NULLs), a job with JSON, tokens."""
    runtime = Runtime.from_settings(make_settings(database_url))
    try:
        migrate.upgrade(runtime.engine)
        with runtime.session_factory() as session:
            hasher = runtime.hasher
            admin = users.create_user(
                session=session,
                hasher=hasher,
                email="admin@example.com",
                password=PASSWORD,
                full_name="Zoë Ådmin",
                is_superuser=True,
            )
            jane = users.create_user(
                session=session,
                hasher=hasher,
                email="jane@example.com",
                password=PASSWORD,
                full_name="山田 Jane 😀",
            )
            users.create_user(
                session=session,
                hasher=hasher,
                email="gone@example.com",
                password=PASSWORD,
                full_name=None,
                is_active=False,
            )
            editors = groups.create_group(
                session=session,
                name="Éditeurs ✍",
                description="Line one\nline two, with 'quotes' and \"doubles\" and \\ and\ttabs",
                permissions=[Permission.ITEMS_READ_ALL, Permission.ITEMS_WRITE_ALL],
            )
            groups.create_group(session=session, name="empty", permissions=[])
            groups.add_member(session=session, group=editors, user=jane)
            groups.add_member(session=session, group=editors, user=admin)
            for n in range(40):
                items.create_item(
                    session=session,
                    owner=jane if n % 2 else admin,
                    title=f"Café ☕ №{n} — ünïcödé 🚀",
                    description=None if n % 3 == 0 else "x" * n + " ∑ 𝄞 𠜎",
                )
            jobs.create_job(session=session, owner=admin, kind=DEMO, params=DemoParams(seconds=0))
            session.commit()
            auth.login(
                session=session,
                hasher=hasher,
                codec=runtime.tokens,
                settings=runtime.settings,
                email="jane@example.com",
                password=PASSWORD,
            )
            auth.create_password_reset_token(session=session, settings=runtime.settings, user=jane)
            audit.record(
                session,
                audit.Action.GROUP_CREATED,
                actor=admin,
                target=("group", editors.id),
                details={"name": editors.name, "permissions": ["items:read_all"]},
            )
            session.commit()
    finally:
        runtime.engine.dispose()


def audit_update_refused(database_url: str) -> bool:
    """Whether the database still refuses to change an audit event (its triggers)."""
    engine = create_engine(_normalise_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET action = 'changed'"))
    except DatabaseError:
        return True
    finally:
        engine.dispose()
    return False


def write_more(database_url: str) -> int:
    """Writes through the services after a restore; the new item's id."""
    runtime = Runtime.from_settings(make_settings(database_url))
    try:
        with runtime.session_factory() as session:
            owner = users.get_user_by_email(session=session, email="jane@example.com")
            assert owner is not None
            item = items.create_item(session=session, owner=owner, title="After the restore")
            session.commit()
            return item.id
    finally:
        runtime.engine.dispose()


def contents(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the migrations' own included), in key order."""
    engine = create_engine(_normalise_url(database_url))
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            result = {}
            for name, table in sorted(metadata.tables.items()):
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(select(table).order_by(*order)).all()
                result[name] = [tuple(row) for row in rows]
            return result
    finally:
        engine.dispose()


def shape(database_url: str) -> dict[str, Any]:
    """Each table's columns, keys, indexes and constraints, as the database reports them."""
    engine = create_engine(_normalise_url(database_url))
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            return {
                name: {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(name)
                    ],
                    "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
                    "foreign_keys": sorted(
                        (tuple(fk["constrained_columns"]), fk["referred_table"], str(fk["options"]))
                        for fk in inspector.get_foreign_keys(name)
                    ),
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in inspector.get_indexes(name)
                    ),
                    "unique": sorted(
                        tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
                    ),
                }
                for name in sorted(inspector.get_table_names())
            }
    finally:
        engine.dispose()


def drop_database(database_url: str) -> None:
    """Gone entirely: the file, or the database on its server."""
    url = make_url(_normalise_url(database_url))
    if url.get_backend_name() == "sqlite":
        assert url.database
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        return
    name = url.database
    assert name and name.isidentifier()
    server = url.set(database="postgres" if url.get_backend_name() == "postgresql" else None)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            force = " WITH (FORCE)" if url.get_backend_name() == "postgresql" else ""
            connection.execute(text(f"DROP DATABASE {name}{force}"))
    finally:
        engine.dispose()


def change_everything(database_url: str) -> None:
    """Rows added, changed and deleted, a table added, the schema's revision moved:
    all of it must be gone after a restore."""
    engine = create_engine(_normalise_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM items WHERE id % 5 = 0"))
            connection.execute(text("UPDATE users SET full_name = 'changed'"))
            connection.execute(text("DELETE FROM group_members"))
            connection.execute(text("UPDATE alembic_version SET version_num = 'elsewhere'"))
            connection.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, note TEXT)"))
            connection.execute(text("INSERT INTO scratch (id, note) VALUES (1, 'left over')"))
    finally:
        engine.dispose()
