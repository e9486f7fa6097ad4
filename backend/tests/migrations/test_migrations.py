"""The migrations build the schema the models describe, and undo it, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from app.db import Base, create_db_engine, migrate
from tests.conftest import make_settings
from tests.utils.databases import available_backends, throwaway_database

MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=available_backends())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of each backend."""
    with throwaway_database(request.param, tmp_path) as url:
        db_engine = create_db_engine(make_settings(url))
        yield db_engine
        db_engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _current_revisions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(MigrationContext.configure(connection).get_current_heads())


def _head() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


def test_upgrade_creates_every_model_table_from_empty(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert _tables(engine) == MODEL_TABLES | {"alembic_version"}
    assert _current_revisions(engine) == [_head()]


def test_downgrade_to_base_drops_every_table_and_upgrade_rebuilds_them(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    # Alembic keeps its (now empty) version table: nothing of the application is left.
    assert _tables(engine) == {"alembic_version"}
    assert _current_revisions(engine) == []

    migrate.upgrade(engine)
    assert _tables(engine) == MODEL_TABLES | {"alembic_version"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM users")).scalar_one() == 0


def test_compare_metadata_finds_no_difference_between_models_and_migrations(
    engine: Engine,
) -> None:
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_a_no_op_when_already_at_head(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert _current_revisions(engine) == [_head()]


BEFORE_STAMPS = "60c74f9f0127"


def test_upgrade_to_stamps_keeps_rows_and_references_and_never_reuses_ids(engine: Engine) -> None:
    """The revision that copies tables on SQLite (AUTOINCREMENT) must not lose a row:
    dropping the original `users` with foreign keys on would cascade to its items."""
    migrate.upgrade(engine, BEFORE_STAMPS)
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        for n in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO users (email, hashed_password, is_active, is_superuser,"
                    " token_version, created_at, updated_at)"
                    " VALUES (:email, 'x', true, false, 0, :now, :now)"
                ),
                {"email": f"u{n}@example.com", "now": now},
            )
        newest = connection.execute(text("SELECT MAX(id) FROM users")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO items (title, owner_id, created_at, updated_at)"
                " VALUES ('kept', :owner, :now, :now)"
            ),
            {"owner": newest, "now": now},
        )

    migrate.upgrade(engine)

    with engine.begin() as connection:
        stamps = connection.execute(text("SELECT security_stamp FROM users")).scalars().all()
        assert len(stamps) == 2 and len(set(stamps)) == 2 and all(len(s) == 32 for s in stamps)
        assert connection.execute(text("SELECT owner_id FROM items")).scalars().all() == [newest]
        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": newest})
        assert connection.execute(text("SELECT COUNT(*) FROM items")).scalar_one() == 0
        connection.execute(
            text(
                "INSERT INTO users (email, hashed_password, is_active, is_superuser,"
                " security_stamp, created_at, updated_at)"
                " VALUES ('new@example.com', 'x', true, false, :stamp, :now, :now)"
            ),
            {"stamp": "s" * 32, "now": now},
        )
        new_id = connection.execute(
            text("SELECT id FROM users WHERE email = 'new@example.com'")
        ).scalar_one()
    assert new_id > newest


def test_upgrade_to_email_verification_marks_existing_users_verified(engine: Engine) -> None:
    """Accounts made before addresses were checked keep logging in."""
    migrate.upgrade(engine, "9c4e2f7a1b35")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, hashed_password, is_active, is_superuser,"
                " security_stamp, created_at, updated_at)"
                " VALUES ('old@example.com', 'x', true, false, :stamp, :now, :now)"
            ),
            {"stamp": "s" * 32, "now": "2026-01-01 00:00:00"},
        )
    migrate.upgrade(engine)
    with engine.begin() as connection:
        row = connection.execute(text("SELECT email_verified, pending_email FROM users")).one()
    assert (bool(row[0]), row[1]) == (True, None)
