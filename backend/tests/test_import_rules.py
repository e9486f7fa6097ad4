"""The core (settings, database, models, services, runtime, CLI) works without Flask:
the worker installs and imports it without the web dependencies."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ["app.core", "app.db", "app.models", "app.services"]
CORE_MODULES = ["app.runtime", "app.cli"]
WEB_PACKAGES = ["flask", "werkzeug", "flask_restx", "flask_cors", "flask_limiter", "app.web"]

# Runs in a fresh interpreter: importing any web package fails there, as it would in
# the worker's image, where they aren't installed.
SCRIPT = textwrap.dedent(
    """
    import importlib
    import pkgutil
    import sys

    BLOCKED = {blocked!r}

    class BlockWeb:
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"{{name}} is not available in the core")
            return None

    sys.meta_path.insert(0, BlockWeb())

    imported = []
    for package_name in {packages!r}:
        package = importlib.import_module(package_name)
        imported.append(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            importlib.import_module(module.name)
            imported.append(module.name)
    for module_name in {modules!r}:
        importlib.import_module(module_name)
        imported.append(module_name)
    print("\\n".join(imported))
    """
)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BACKEND_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_import_core_succeeds_without_web_packages() -> None:
    result = run_python(
        SCRIPT.format(blocked=WEB_PACKAGES, packages=CORE_PACKAGES, modules=CORE_MODULES)
    )

    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    assert {"app.core.config", "app.models.user", "app.services.users", "app.cli"} <= imported


def test_import_web_fails_when_web_packages_are_blocked() -> None:
    """The blocking itself works: the web layer's app, which needs Flask, fails under it."""
    result = run_python(
        SCRIPT.format(blocked=["flask"], packages=[], modules=["app.web.application"])
    )

    assert result.returncode != 0
    assert "flask is not available in the core" in result.stderr


# Imported only when in use: each adds a noticeable fraction of a second to every
# start of the API, a worker or a CLI command.
OPTIONAL_AT_START = ["sentry_sdk", "redis", "kombu.transport.redis"]


def test_the_api_and_a_worker_start_without_what_their_settings_leave_off() -> None:
    code = textwrap.dedent(
        """
        import os, sys
        for name in ("SENTRY_DSN", "REDIS_URL", "CELERY_BROKER_URL"):
            os.environ.pop(name, None)
        from app.web import create_app
        create_app()
        import app.workers.app, worker.main
        print(",".join(m for m in {optional!r} if m in sys.modules))
        """
    ).format(optional=OPTIONAL_AT_START)
    result = run_python(code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported at start: {result.stdout.strip()}"
