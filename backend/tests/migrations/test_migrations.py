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
