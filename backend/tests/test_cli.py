"""`python -m app ...`: the commands containers run before the app starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from app.core.security import PasswordHasher
from app.models import User
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.utils.databases import available_backends, throwaway_database

BACKEND_DIR = Path(__file__).resolve().parents[1]
SUPERUSER = "root@example.com"
SUPERUSER_PASSWORD = "first-superuser-password"
# What a process needs from its surroundings; every setting is given explicitly.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def _cli_env(database_url: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return env | {
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "FIRST_SUPERUSER": SUPERUSER,
        "FIRST_SUPERUSER_PASSWORD": SUPERUSER_PASSWORD,
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_TIME_COST": "1",
    }


def run_cli(*args: str, database_url: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=BACKEND_DIR,
        env=_cli_env(database_url) | settings,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _users(database_url: str) -> list[User]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(User)).all())
    finally:
        engine.dispose()


def test_prestart_creates_schema_and_first_superuser(tmp_sqlite_url: str) -> None:
    result = run_cli("prestart", database_url=tmp_sqlite_url)

    assert result.returncode == 0, result.stderr
    engine = create_engine(tmp_sqlite_url)
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()
    [user] = _users(tmp_sqlite_url)
    assert user.email == SUPERUSER
    assert user.is_superuser
    assert user.is_active
    assert user.email_verified  # FIRST_SUPERUSER logs in with verification required
    hasher = PasswordHasher(make_settings(tmp_sqlite_url))
    assert hasher.verify(SUPERUSER_PASSWORD, user.hashed_password)[0]


def test_prestart_twice_keeps_one_superuser_and_its_password(tmp_sqlite_url: str) -> None:
    first = run_cli("prestart", database_url=tmp_sqlite_url)
    assert first.returncode == 0, first.stderr
    [created] = _users(tmp_sqlite_url)

    # A changed setting never overwrites the password of an existing account.
    second = run_cli(
        "prestart", database_url=tmp_sqlite_url, FIRST_SUPERUSER_PASSWORD="another-password-42"
    )

    assert second.returncode == 0, second.stderr
    assert "already exists" in second.stderr
    [user] = _users(tmp_sqlite_url)
    assert user.id == created.id
    assert user.hashed_password == created.hashed_password


def test_prestart_with_common_superuser_password_says_so_and_creates_no_one(
    tmp_sqlite_url: str,
) -> None:
    # ENVIRONMENT=local: the settings accept it, the rules for every password do not.
    result = run_cli("prestart", database_url=tmp_sqlite_url, FIRST_SUPERUSER_PASSWORD="iloveyou1")

    assert result.returncode == 1
    assert "FIRST_SUPERUSER_PASSWORD" in result.stderr
    assert "too common" in result.stderr
    assert "Traceback" not in result.stderr
    assert _users(tmp_sqlite_url) == []


def test_run_unknown_command_exits_with_usage_error(tmp_sqlite_url: str) -> None:
    result = run_cli("make-coffee", database_url=tmp_sqlite_url)

    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert not Path(tmp_sqlite_url.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_prestart_run_by_replicas_at_once_migrates_once(backend: str, tmp_path: Path) -> None:
    """Replicas of a new deployment all run prestart together on an empty database."""
    if backend not in available_backends():
        pytest.skip(f"no {backend} server configured")
    with throwaway_database(backend, tmp_path) as url:
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "prestart"],
                cwd=BACKEND_DIR,
                env=_cli_env(url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in processes]
        for process in processes:
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        assert [code for code, _ in outcomes] == [0, 0, 0], [err for _, err in outcomes]
        assert [user.email for user in _users(url)] == [SUPERUSER]
