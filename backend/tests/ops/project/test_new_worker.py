"""make new-worker (tools/new_worker.py), in a copy of this checkout: the module it
writes passes its own tests in its own environment (after `make lock`'s uv lock),
type-checks and lints, its kind is declared and accepted by the API's model, and
its service is in every compose file, the stack, make dev's Procfile and
Prometheus's configs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ops.project.conftest import REPO_DIR, VENV_DIR, base_env, run
from tests.utils.prometheus import promtool

# A tool run end to end: make test-tools, not make test (scripts/test.sh).
pytestmark = pytest.mark.tools


def uv_command() -> str:
    """The uv that scripts/lib.sh runs (the machine's, else the one it installs)."""
    found = subprocess.run(
        ["bash", "-c", 'source scripts/lib.sh && ensure_uv && printf %s "$UV"'],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout


class ComposeLoader(yaml.SafeLoader):
    """YAML as compose writes it: its own tags (!reset, !override) read as plain values."""


ComposeLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_scalar(node)
    ),
)


@pytest.fixture(scope="module")
def project(base_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("new-worker") / "project"
    shutil.copytree(base_snapshot, path)
    run("python3", "tools/new_worker.py", "nlp", cwd=path)
    return path


def test_module_passes_its_own_tests_in_its_own_environment(project: Path) -> None:
    uv = uv_command()
    # As scripts/lib.sh runs uv: the machine's certificates, the shared cache.
    env = base_env(UV_PROJECT_ENVIRONMENT=str(project / ".venv-nlp"), UV_SYSTEM_CERTS="1")
    env |= {k: v for k, v in os.environ.items() if k.startswith("UV_") and k not in env}
    run(uv, "lock", "--quiet", cwd=project, env=env)
    run(uv, "sync", "--quiet", "--frozen", "--package", "app-worker-nlp", "--all-extras",
        cwd=project, env=env)  # fmt: skip
    python = project / ".venv-nlp/bin/python"
    flask = subprocess.run([python, "-c", "import flask"], capture_output=True, check=False)
    assert flask.returncode != 0, "the module's environment has Flask"
    run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project / "worker-nlp",
        env=base_env(ENV_FILE="/dev/null"))  # fmt: skip
    run(VENV_DIR / "bin/mypy", "--python-executable", python, "worker_nlp", "tests",
        cwd=project / "worker-nlp")  # fmt: skip
    run(VENV_DIR / "bin/ruff", "check", "--no-cache", "worker-nlp", "backend/app/kinds",
        cwd=project)  # fmt: skip
    run(VENV_DIR / "bin/ruff", "format", "--check", "--no-cache", "worker-nlp",
        "backend/app/kinds", cwd=project)  # fmt: skip


def test_module_kind_is_declared_and_its_params_checked(project: Path) -> None:
    script = (
        "from app.kinds import KINDS\n"
        "from app.schemas.jobs import JobCreate\n"
        "kind = KINDS['nlp.echo']\n"
        "assert kind.queue == 'nlp', kind\n"
        "JobCreate.model_validate({'kind': 'nlp.echo', 'params': {'message': 'hi'}})\n"
        "print(sorted(KINDS))\n"
    )
    done = run(sys.executable, "-c", script, cwd=project / "backend",
               env=base_env(PYTHONPATH=str(project / "backend")))  # fmt: skip
    assert "nlp.echo" in done.stdout and "ml.train_classifier" in done.stdout


@pytest.mark.parametrize(
    "path",
    [
        "compose/compose.yaml",
        "compose/compose.dev.yaml",
        "compose/compose.test.yaml",
        "compose/stack.yaml",
        "ansible/tests/stack.override.yaml",
    ],
)
def test_module_service_is_in_each_compose_file(project: Path, path: str) -> None:
    # A SafeLoader that also reads compose's tags.
    services = yaml.load((project / path).read_text(), Loader=ComposeLoader)["services"]  # noqa: S506
    assert "worker-nlp" in services
    assert "worker-ml" in services  # the others stay


def test_module_is_scraped_by_prometheus(project: Path) -> None:
    """A job of its own in both configs, which promtool accepts; the Swarm
    config's name changes with its file (a deployed config cannot change)."""
    folder = project / "compose/prometheus"
    for config, target in [
        ("prometheus.yml", {"static_configs": [{"targets": ["worker-nlp:9540"]}]}),
        (
            "stack.yml",
            {
                "dns_sd_configs": [
                    {
                        "names": ["tasks.worker-nlp"],
                        "type": "A",
                        "port": 9540,
                        "refresh_interval": "15s",
                    }
                ]
            },
        ),
    ]:
        jobs = {
            job.pop("job_name"): job
            for job in yaml.safe_load((folder / config).read_text())["scrape_configs"]
        }
        assert jobs["worker-nlp"] == target
        assert "worker-ml" in jobs
    result = promtool("check", "config", "prometheus.yml", "stack.yml", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    stack = (project / "compose/stack.yaml").read_text()
    assert "_prometheus_config_v2\n" in stack
    assert "_prometheus_config_v1" not in stack


def test_module_runs_in_make_dev(project: Path) -> None:
    procfile = (project / "scripts/Procfile.dev").read_text()
    assert "worker-nlp: env WORKER_METRICS_PORT=0 " in procfile
    assert "../.venv-nlp/bin/watchfiles" in procfile
    assert "-A worker_nlp.main worker" in procfile
    assert '"worker-nlp"' in (project / "pyproject.toml").read_text()


@pytest.mark.parametrize("name", ["ml", "jobs", "Nlp", "9x", "a-b", ""])
def test_new_worker_refuses_a_taken_or_bad_name(base_snapshot: Path, name: str) -> None:
    done = run("python3", "tools/new_worker.py", name, cwd=base_snapshot, check=False)
    assert done.returncode != 0
    assert "new-worker:" in done.stderr or "usage" in done.stderr
