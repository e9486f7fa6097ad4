"""make dev's local SECRET_KEY (scripts/lib.sh: ensure_local_secret_key): a random key
of the checkout's own in .env instead of the example's public, too short
`changethis` (which made PyJWT warn at every start); never anyone else's key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.core.config import REPO_DIR


def dev_start(env_file: Path, **environment: str) -> str:
    """What make dev does first: .env read, then the key made if needed."""
    script = (
        f'source scripts/lib.sh && load_dotenv "{env_file}" && ensure_local_secret_key "{env_file}"'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ENVIRONMENT")}
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO_DIR,
        env=env | environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr


def keys(env_file: Path) -> list[str]:
    return [
        line.removeprefix("SECRET_KEY=")
        for line in env_file.read_text().splitlines()
        if line.startswith("SECRET_KEY=")
    ]


def test_first_start_writes_a_random_key_then_keeps_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    assert "wrote a random SECRET_KEY" in dev_start(env_file)
    [key] = keys(env_file)
    assert len(key) >= 64 and key != "changethis"
    assert dev_start(env_file) == ""
    assert keys(env_file) == [key]
    other = tmp_path / "other.env"
    dev_start(other)
    assert keys(other) != [key]


def test_example_key_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PROJECT_NAME=Acme\nSECRET_KEY=changethis\nAPI_PORT=9001\n")
    dev_start(env_file)
    lines = env_file.read_text().splitlines()
    assert lines[0] == "PROJECT_NAME=Acme" and lines[2] == "API_PORT=9001"
    assert keys(env_file)[0] != "changethis"


@pytest.mark.parametrize(
    ("content", "environment"),
    [
        ("SECRET_KEY=a-key-of-this-team-of-their-own-choosing-long-enough\n", {}),
        ("", {"SECRET_KEY": "from-the-environment-long-enough-for-hs256-signing"}),
        ("SECRET_KEY=changethis\n", {"ENVIRONMENT": "production"}),
    ],
    ids=["own key in .env", "own key in the environment", "not local"],
)
def test_a_key_of_ones_own_or_another_environment_is_left_alone(
    tmp_path: Path, content: str, environment: dict[str, str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(content)
    assert dev_start(env_file, **environment) == ""
    assert env_file.read_text() == content
