"""A database error's message, which the logs and error tracking show, names the
statement but never its values (an email, a token's hash) unless DATABASE_ECHO
asked to see them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db.session import create_db_engine
from app.runtime import Runtime
from tests.conftest import make_settings

VALUE = "value-that-must-stay-out-of-logs"


def _failing_statement_message(database_url: str, **overrides: object) -> str:
    engine = create_db_engine(make_settings(database_url, **overrides))
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as failed:
            statement = text("SELECT * FROM no_such_table WHERE name = :name")
            connection.execute(statement, {"name": VALUE})
        return str(failed.value)
    finally:
        engine.dispose()


def test_database_error_names_the_statement_without_its_values(runtime: Runtime) -> None:
    message = _failing_statement_message(runtime.settings.DATABASE_URL)

    assert "no_such_table" in message
    assert VALUE not in message


def test_database_error_shows_values_when_statements_are_echoed(runtime: Runtime) -> None:
    message = _failing_statement_message(runtime.settings.DATABASE_URL, DATABASE_ECHO=True)

    assert VALUE in message
