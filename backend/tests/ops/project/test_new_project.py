"""`make new-project`: a renamed copy of the base in a new repository, with its own secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.core.config import EXAMPLE_SECRETS, Settings
from tests.ops.project.conftest import VENV_DIR, Base, base_env, git, read_env, run

# A tool run end to end: make test-tools, not make test (scripts/test.sh).
pytestmark = pytest.mark.tools

SECRETS = ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH")
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def _python_env(project: Path) -> dict[str, str]:
    """Run the project's own code with the suite's virtualenv, on nothing but SQLite."""
    return base_env(PYTHONPATH=f"{project / 'backend'}:{project / 'worker'}")


@pytest.fixture(scope="module")
def acme(base: Base, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project generated from the base, shared by the tests that only read it."""
    dest = tmp_path_factory.mktemp("generated") / "acme"
    result = base.generate("--name", "Acme Portal", "--domain", "acme.example", dest=dest)
    assert "Acme Portal is ready" in result.stderr
    return dest


def test_generate_project_names_it_everywhere_and_records_its_upstream(
    base: Base, acme: Path
) -> None:
    dest = acme
    for env_file in (".env", ".env.example"):
        values = read_env(dest / env_file)
        assert values["PROJECT_NAME"] == '"Acme Portal"'
        assert values["STACK_NAME"] == "acme-portal"
        assert values["DOMAIN"] == "acme.example"
        assert values["FRONTEND_IMAGE"] == "acme-portal-frontend"
    assert (dest / "README.md").read_text().startswith("# Acme Portal\n")
    base_commit = git(base.path, "rev-parse", "HEAD")
    assert read_env(dest / ".upstream") == {
        "UPSTREAM_URL": str(base.path),
        "UPSTREAM_BRANCH": "main",
        "UPSTREAM_COMMIT": base_commit,
    }
    # One commit of its own, everything in it but the secrets.
    assert git(dest, "rev-list", "--count", "HEAD") == "1"
    assert git(dest, "status", "--porcelain", "--ignored=no") == ""
    assert ".env" not in git(dest, "ls-files").splitlines()
    assert git(dest, "remote", "get-url", "upstream") == str(base.path)
    # The copy is the base's committed tree, apart from the named files.
    git(dest, "fetch", "-q", str(base.path), "main")
    changed = git(dest, "diff", "--name-status", "FETCH_HEAD", "HEAD")
    assert sorted(changed.splitlines()) == ["A\t.upstream", "M\t.env.example", "M\tREADME.md"]


def test_generated_project_runs_with_its_names(acme: Path) -> None:
    dest = acme
    # The backend reads the name and the secrets from the project's .env, and
    # accepts them outside development.
    # (The database and the broker as compose names them.)
    check = (
        "import app, os; from app.core.config import Settings; "
        "s = Settings(ENVIRONMENT='production', REDIS_URL='redis://redis:6379/0', "
        "DATABASE_URL=f\"postgresql://app:{os.environ['POSTGRES_PASSWORD']}@db:5432/app\"); "
        "print(app.__file__); print(s.PROJECT_NAME)"
    )
    password = read_env(dest / ".env")["POSTGRES_PASSWORD"]
    out = run(
        VENV_DIR / "bin/python",
        "-c",
        check,
        cwd=dest / "backend",
        env=_python_env(dest) | {"POSTGRES_PASSWORD": password},
    )
    assert out.stdout.splitlines() == [str(dest / "backend/app/__init__.py"), "Acme Portal"]

    # Compose: the project name, the domain in the routes, the frontend's title.
    config = run(
        VENV_DIR / "bin/docker-compose",
        "--project-directory",
        ".",
        "-f",
        "compose/compose.yaml",
        "config",
        "--format",
        "json",
        cwd=dest,
    )
    compose = json.loads(config.stdout)
    assert compose["name"] == "acme-portal"
    labels = compose["services"]["backend"]["labels"]
    assert "Host(`acme.example`)" in labels["traefik.http.routers.backend.rule"]
    assert compose["services"]["frontend"]["build"]["args"]["PROJECT_NAME"] == "Acme Portal"
    assert compose["services"]["frontend"]["image"].startswith("acme-portal-frontend:")

    # A fast part of the project's own suite, on its own code.
    tests = run(
        VENV_DIR / "bin/python",
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/web/api/test_login.py",
        cwd=dest / "backend",
        env=_python_env(dest) | {"ENV_FILE": "/dev/null"},
    )
    assert re.search(r"\d+ passed", tests.stdout), tests.stdout


def test_generated_secrets_are_fresh_and_url_safe(base: Base, acme: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()  # an existing empty folder is fine
    base.generate("--name", "Beta", dest=tmp_path / "empty")
    example = read_env(base.path / ".env.example")
    projects = [read_env(acme / ".env"), read_env(tmp_path / "empty/.env")]

    seen: set[str] = set()
    for env in projects:
        for key in SECRETS:
            value = env[key].removeprefix("admin:") if key == "FLOWER_BASIC_AUTH" else env[key]
            assert env[key] != example[key]
            assert value not in EXAMPLE_SECRETS
            assert URL_SAFE.fullmatch(value), f"{key} is not URL-safe"
            assert len(value) >= 24
            assert value not in seen, f"{key} repeats a secret"
            seen.add(value)
    assert projects[1]["STACK_NAME"] == "beta"
    assert projects[1]["DOMAIN"] == "localhost"


def test_generated_settings_pass_the_production_checks(acme: Path) -> None:
    env = read_env(acme / ".env")
    settings = Settings(
        _env_file=acme / ".env",
        ENVIRONMENT="production",
        # What compose builds from the generated values.
        DATABASE_URL=f"postgresql://app:{env['POSTGRES_PASSWORD']}@db:5432/app",
        REDIS_URL="redis://redis:6379/0",
    )
    assert settings.SECRET_KEY.get_secret_value() == env["SECRET_KEY"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "!!!"], 'makes the slug ""'),
        (["--name", "Ω"], 'makes the slug ""'),
        (["--name", "A" * 41], "1 to 40 lowercase"),
        (["--name", "Acme", "--slug", "Acme_Portal"], 'the slug "Acme_Portal"'),
        (["--name", 'Say "hi"'], "cannot hold"),
        (["--name", "Price $5"], "cannot hold"),
        (["--name", ""], "give the project a name"),
        (["--name", "Acme", "--domain", "acme_portal.example"], "is not a domain name"),
    ],
)
def test_new_project_refuses_bad_names(
    base: Base, tmp_path: Path, args: list[str], message: str
) -> None:
    dest = tmp_path / "refused"
    result = base.generate(*args, dest=dest, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert not dest.exists()


def test_new_project_refuses_a_folder_that_is_not_empty(base: Base, tmp_path: Path) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    result = base.generate("--name", "Acme", dest=dest, check=False)
    assert result.returncode != 0
    assert "exists and is not empty" in result.stderr
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_new_project_refuses_a_folder_inside_the_base(base: Base) -> None:
    dest = base.path / "acme"
    result = base.generate("--name", "Acme", dest=dest, check=False)
    assert result.returncode != 0
    assert "inside this repository" in result.stderr
    assert not dest.exists()


def test_new_project_copies_only_committed_files(fresh_base: Base, tmp_path: Path) -> None:
    base = fresh_base
    committed = git(base.path, "show", "HEAD:README.md").splitlines()
    (base.path / "uncommitted.txt").write_text("work in progress\n")
    (base.path / "README.md").write_text("# Changed but not committed\n")
    result = base.generate("--name", "Acme", dest=tmp_path / "acme")
    assert "uncommitted changes" in result.stderr
    assert not (tmp_path / "acme/uncommitted.txt").exists()
    readme = (tmp_path / "acme/README.md").read_text().splitlines()
    assert readme == ["# Acme", *committed[1:]]


def _private_engine(checkout: Path) -> list[str]:
    """The private Docker engine's name, home and containerd namespace in CHECKOUT."""
    out = run(
        "bash",
        "-c",
        'source ci/docker-engine.sh && printf "%s\\n" "$PRIVATE_DOCKER_NAME" '
        '"$PRIVATE_DOCKER_DIR" "$PRIVATE_DOCKER_NAMESPACE"',
        cwd=checkout,
        env=base_env(),
    )
    return out.stdout.split()


def test_each_project_has_a_private_docker_engine_of_its_own(base: Base, acme: Path) -> None:
    slug = read_env(acme / ".env.example")["STACK_NAME"]
    name, home, namespace = _private_engine(acme)
    assert name == namespace == slug != "full-stack-flask"
    assert home in (f"/var/lib/{slug}/docker", f"{acme}/.cache/docker")
    # The base keeps its own.
    name, home, namespace = _private_engine(base.path)
    assert name == namespace == "full-stack-flask"
    assert home in ("/var/lib/full-stack-flask/docker", f"{base.path}/.cache/docker")
