"""`make shell` and its Jupyter kernel: the app, a session and the models, ready to use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.db import create_db_engine, migrate
from tests.conftest import make_settings

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BACKEND_DIR.parent
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
# Adds a user through the shell's session, then reads it back through the
# request-scoped session of the app's context: the two are one.
SCRIPT = """\
from app.web.db import session as request_session
session.add(User(email="shell@example.com", hashed_password="x", full_name="Shell"))
session.commit()
assert request_session() is session
print(session.scalar(select(func.count(User.id))), Item.__tablename__, settings.ENVIRONMENT)
"""


@pytest.fixture
def shell_env(tmp_sqlite_url: str) -> dict[str, str]:
    engine = create_db_engine(make_settings(tmp_sqlite_url))
    migrate.upgrade(engine)
    engine.dispose()
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return env | {"ENV_FILE": "/dev/null", "ENVIRONMENT": "local", "DATABASE_URL": tmp_sqlite_url}


def test_shell_exits_with_the_scripts_error(shell_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.shell"],
        cwd=BACKEND_DIR,
        env=shell_env,
        input="session.execute(select(NoSuchModel))\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "NameError: name 'NoSuchModel' is not defined" in result.stderr


def test_make_shell_runs_piped_statements(shell_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["make", "-s", "shell"],
        cwd=REPO_DIR,
        env=shell_env | {"VENV_DIR": sys.prefix},
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 items local\n"


def test_jupyter_kernel_starts_with_the_shells_names(
    shell_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ipykernel", reason="the notebook extra is not installed")
    from jupyter_client.manager import start_new_kernel

    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.shell",
            "--install-kernel",
            "--kernel-name",
            "acme",
            "--prefix",
            str(tmp_path),
        ],
        cwd=BACKEND_DIR,
        env=shell_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    spec_dir = tmp_path / "share/jupyter/kernels/acme"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["argv"][0] == os.path.normpath(sys.executable)

    # Jupyter finds the kernel where it was installed.
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share/jupyter"))
    manager, client = start_new_kernel(
        kernel_name="acme",
        cwd=str(tmp_path),
        env=shell_env,
        startup_timeout=60,
    )
    output: list[str] = []
    try:
        reply = client.execute_interactive(
            SCRIPT,
            timeout=30,
            output_hook=lambda msg: output.append(msg["content"].get("text", "")),
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    assert "".join(output) == "1 items local\n"
