"""Fixtures: the suite runs once per database backend (see tests/utils/databases.py).

Each backend gets a fresh database migrated to the newest revision; every test
starts from empty tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db import migrate
from app.models import User
from app.runtime import Runtime
from app.web import create_app
from tests.utils.databases import available_backends, empty_tables, throwaway_database
from tests.utils.factories import auth_headers, make_user

# `make test`'s closing summary (TEST_SUMMARY_FILE).
pytest_plugins = ["tests.utils.summary"]

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: nothing read from the environment or `.env`."""
    values: dict[str, object] = {
        "ENVIRONMENT": "local",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "FIRST_SUPERUSER": "admin@example.com",
        "FIRST_SUPERUSER_PASSWORD": "admin-password-123",
        "USERS_OPEN_REGISTRATION": True,
        # Tests that sign up and then log in are about something else; the tests of
        # verification turn it on (tests/web/api/test_email_verification.py).
        "EMAIL_VERIFICATION_REQUIRED": False,
        "RATE_LIMIT_ENABLED": False,
        "EMAIL_BACKEND": "console",
        # Tasks sent by the API stay in memory unless a test runs a real worker.
        "CELERY_BROKER_URL": "memory://",
        # Cheap hashing keeps the suite fast; the defaults are tested on their own.
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "PASSWORD_HASH_TIME_COST": 1,
        "DATABASE_POOL_SIZE": 5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=available_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def runtime(database_url: str) -> Iterator[Runtime]:
    rt = Runtime.from_settings(make_settings(database_url))
    migrate.upgrade(rt.engine)
    yield rt
    rt.engine.dispose()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> Flask:
    flask_app = create_app(runtime=runtime)
    flask_app.testing = True
    return flask_app


@pytest.fixture
def client(app: Flask, db: Session) -> FlaskClient:
    """A test client; depends on `db` so that tables are emptied after the test."""
    return app.test_client()


@pytest.fixture
def db(runtime: Runtime) -> Iterator[Session]:
    """A session for arranging and checking data; every table is emptied afterwards."""
    session = runtime.session_factory()
    yield session
    empty_tables(session)
    session.close()


@pytest.fixture
def superuser(db: Session, runtime: Runtime) -> User:
    return make_user(db, runtime, email="admin@example.com", is_superuser=True, full_name="Admin")


@pytest.fixture
def user(db: Session, runtime: Runtime) -> User:
    return make_user(db, runtime, email="jane@example.com", full_name="Jane")


@pytest.fixture
def superuser_headers(runtime: Runtime, superuser: User) -> dict[str, str]:
    return auth_headers(runtime, superuser)


@pytest.fixture
def user_headers(runtime: Runtime, user: User) -> dict[str, str]:
    return auth_headers(runtime, user)


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"
