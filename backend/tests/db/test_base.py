"""What every model shares: ids are never handed out twice."""

from __future__ import annotations

from sqlalchemy import Integer

from app.db import Base


def test_every_table_with_an_id_never_reuses_ids_on_sqlite() -> None:
    """A model that sets its own __table_args__ must keep `sqlite_autoincrement`."""
    with_ids = [
        table
        for table in Base.metadata.sorted_tables
        if len(table.primary_key.columns) == 1
        and isinstance(next(iter(table.primary_key.columns)).type, Integer)
        and not next(iter(table.primary_key.columns)).foreign_keys
    ]
    assert {table.name for table in with_ids} >= {"users", "groups", "items", "jobs"}
    missing = [t.name for t in with_ids if not t.dialect_options["sqlite"]["autoincrement"]]
    assert missing == []
