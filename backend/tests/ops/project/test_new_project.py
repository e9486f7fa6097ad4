"""`make new-project`: a renamed copy of the base in a new repository, with its own secrets,
whose every tool names it even in a fresh clone (no .env): project.env holds its identity."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from app.core.config import EXAMPLE_SECRETS, Settings
from tests.ops.project.conftest import REPO_DIR, VENV_DIR, Base, base_env, git, read_env, run

# A tool run end to end: make test-tools, not make test (scripts/test.sh).
pytestmark = pytest.mark.tools

SECRETS = ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH")
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
IDENTITY = {
    "PROJECT_NAME": '"Acme Portal"',
    "PROJECT_SLUG": "acme-portal",
    "STACK_NAME": "acme-portal",
    "DOMAIN": "acme.example",
    "BACKEND_IMAGE": "acme-portal-backend",
    "WORKER_IMAGE": "acme-portal-worker",
    "FRONTEND_IMAGE": "acme-portal-frontend",
}
# What compose requires, given as CI gives it (the clone has no .env).
COMPOSE_SECRETS = {
    "SECRET_KEY": "k" * 48,
    "FIRST_SUPERUSER_PASSWORD": "p" * 18,
    "POSTGRES_PASSWORD": "d" * 24,
    "FLOWER_BASIC_AUTH": "admin:" + "f" * 18,
}


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


@pytest.fixture(scope="module")
def acme_clone(acme: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the generated project, as CI or a colleague gets it: no .env."""
    clone = tmp_path_factory.mktemp("clone") / "acme"
    git(acme, "clone", "-q", str(acme), str(clone))
    assert not (clone / ".env").exists()
    return clone


def _with_settings(command: str) -> list[str]:
    """COMMAND in bash after scripts/lib.sh's load_dotenv, as the scripts run compose."""
    return ["bash", "-c", f"source scripts/lib.sh && load_dotenv && {command}"]


def test_generate_project_names_it_everywhere_and_records_its_upstream(
    base: Base, acme: Path
) -> None:
    dest = acme
    identity = read_env(dest / "project.env")
    assert {key: identity[key] for key in IDENTITY} == IDENTITY
    # .env holds the secrets alone: the names are the committed file's.
    for env_file in (".env", ".env.example"):
        assert not set(read_env(dest / env_file)) & set(IDENTITY)
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
    # The copy is the base's committed tree, apart from the named files
    # (.upstream is new, unless the base is itself a generated project).
    git(dest, "fetch", "-q", str(base.path), "main")
    changed = git(dest, "diff", "--name-status", "FETCH_HEAD", "HEAD")
    upstream = "M" if (base.path / ".upstream").exists() else "A"
    assert sorted(changed.splitlines()) == sorted(
        [
            f"{upstream}\t.upstream",
            "M\tREADME.md",
            "M\tansible/inventories/example/group_vars/managers/main.yml",
            "M\tansible/inventories/example/group_vars/managers/vault.yml",
            "M\tfrontend/openapi/openapi.json",
            "M\tproject.env",
        ]
    )


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
    beta = read_env(tmp_path / "empty/project.env")
    assert (beta["PROJECT_NAME"], beta["STACK_NAME"], beta["DOMAIN"]) == (
        '"Beta"',
        "beta",
        "localhost",
    )
    # No domain: the example inventory keeps the base's example site.
    inventory = tmp_path / "empty/ansible/inventories/example/group_vars/managers/main.yml"
    assert "\n  example.com:\n" in inventory.read_text()


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


def test_each_project_has_a_private_docker_engine_of_its_own(base: Base, acme_clone: Path) -> None:
    name, home, namespace = _private_engine(acme_clone)
    assert name == namespace == "acme-portal"
    assert home in ("/var/lib/acme-portal/docker", f"{acme_clone}/.cache/docker")
    # The base keeps its own: its slug (the base may itself be a generated project).
    base_slug = read_env(base.path / "project.env")["PROJECT_SLUG"]
    name, home, namespace = _private_engine(base.path)
    assert name == namespace == base_slug != "acme-portal"
    assert home in (f"/var/lib/{base_slug}/docker", f"{base.path}/.cache/docker")


# --- A fresh clone: no .env, yet every tool names the project -----------------------------


def test_fresh_clone_backend_names_the_project(acme_clone: Path, tmp_path: Path) -> None:
    backend = acme_clone / "backend"
    env = _python_env(acme_clone)
    settings = "from app.core.config import Settings; print(Settings().PROJECT_NAME)"
    out = run(VENV_DIR / "bin/python", "-c", settings, cwd=backend, env=env)
    assert out.stdout.strip() == "Acme Portal"
    # make backup finds its compose project (BACKUP_TARGET=compose) by the same file.
    backups = "from app.ops.backups import BackupSettings; print(BackupSettings().STACK_NAME)"
    out = run(VENV_DIR / "bin/python", "-c", backups, cwd=backend, env=env)
    assert out.stdout.strip() == "acme-portal"
    # The API's document names it, and is the committed one (the client's check passes).
    spec = tmp_path / "openapi.json"
    run(VENV_DIR / "bin/python", "-m", "app.web.api.export", spec, cwd=backend, env=env)
    assert json.loads(spec.read_text())["info"]["title"] == "Acme Portal API"
    assert spec.read_text() == (acme_clone / "frontend/openapi/openapi.json").read_text()
    # A machine's .env (here ENV_FILE) overrides the committed name.
    local = tmp_path / "local.env"
    local.write_text("PROJECT_NAME=Acme on my machine\n")
    out = run(
        VENV_DIR / "bin/python", "-c", settings, cwd=backend, env=env | {"ENV_FILE": str(local)}
    )
    assert out.stdout.strip() == "Acme on my machine"


def test_fresh_clone_frontend_build_names_the_project(acme_clone: Path, tmp_path: Path) -> None:
    node_modules = REPO_DIR / "frontend" / "node_modules"
    if not (node_modules / ".installed").exists():
        pytest.skip("the frontend's packages are not installed (make test installs them)")
    frontend = acme_clone / "frontend"
    (frontend / "node_modules").symlink_to(node_modules)
    try:
        out = tmp_path / "dist"
        run("npx", "--no-install", "vite", "build", "--outDir", out, cwd=frontend)
    finally:
        (frontend / "node_modules").unlink()
    assert "<title>Acme Portal</title>" in (out / "index.html").read_text()
    bundles = "".join(path.read_text() for path in (out / "assets").glob("*.js"))
    assert "Acme Portal" in bundles
    assert "Full Stack Flask" not in bundles


def test_fresh_clone_images_are_named_for_the_project(acme_clone: Path) -> None:
    plan = run("scripts/images.sh", "plan", "v1", cwd=acme_clone).stdout.splitlines()
    builds = [line for line in plan if line.startswith("docker build ")]
    tags = [line.split(" -t ")[1].split()[0] for line in builds]
    assert tags == [
        "acme-portal-backend:v1",
        "acme-portal-worker:v1",
        "acme-portal-worker-ml:v1",
        "acme-portal-frontend:v1",
    ]
    assert r"--build-arg PROJECT_NAME=Acme\ Portal" in builds[-1]
    # Under a registry's path (CI's), the same names.
    env = base_env(REGISTRY="registry.example.com/acme/")
    plan = run("scripts/images.sh", "plan", "v1", cwd=acme_clone, env=env).stdout
    assert "docker push registry.example.com/acme/acme-portal-frontend:v1" in plan
    assert "app-" not in plan
    # What make deploy pushes and hands the stack.
    names = run("scripts/images.sh", "names", cwd=acme_clone, env=env).stdout.splitlines()
    assert names == [
        "BACKEND_IMAGE=registry.example.com/acme/acme-portal-backend",
        "WORKER_IMAGE=registry.example.com/acme/acme-portal-worker",
        "FRONTEND_IMAGE=registry.example.com/acme/acme-portal-frontend",
    ]


def test_scripts_prefer_environment_then_env_file_then_project_file(
    acme_clone: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(acme_clone, checkout, symlinks=True)
    (checkout / ".env").write_text('PROJECT_NAME="Acme on my machine"\nDOMAIN=acme.test\n')
    names = 'printf "%s|%s|%s" "$PROJECT_NAME" "$DOMAIN" "$STACK_NAME"'
    out = run(*_with_settings(names), cwd=checkout, env=base_env(DOMAIN="acme.localhost"))
    assert out.stdout == "Acme on my machine|acme.localhost|acme-portal"


def test_fresh_clone_compose_and_stack_name_the_project(acme_clone: Path) -> None:
    env = base_env(PATH=f"{VENV_DIR / 'bin'}:{base_env()['PATH']}", **COMPOSE_SECRETS)
    compose = "docker-compose --project-directory . -f compose/compose.yaml config --format json"
    config = json.loads(run(*_with_settings(compose), cwd=acme_clone, env=env).stdout)
    assert config["name"] == "acme-portal"
    labels = config["services"]["backend"]["labels"]
    assert "Host(`acme.example`)" in labels["traefik.http.routers.backend.rule"]
    assert config["services"]["frontend"]["build"]["args"]["PROJECT_NAME"] == "Acme Portal"
    assert config["services"]["frontend"]["image"] == "acme-portal-frontend:latest"
    assert config["services"]["worker"]["image"] == "acme-portal-worker:latest"

    stack = "docker-compose --project-directory . -f compose/stack.yaml config --format json"
    config = json.loads(
        run(
            *_with_settings(stack),
            cwd=acme_clone,
            env=env | {"TAG": "v1", "FIRST_SUPERUSER": "admin@acme.example"},
        ).stdout
    )
    backend = config["services"]["backend"]
    assert backend["image"] == "acme-portal-backend:v1"
    assert backend["environment"]["PROJECT_NAME"] == "Acme Portal"
    assert backend["environment"]["FRONTEND_HOST"] == "https://acme.example"


def _ansible_venv() -> Path:
    """The deployment's tools, installed by the project's own script when missing."""
    run("bash", "-c", "source scripts/lib.sh && ensure_ansible_venv", cwd=REPO_DIR)
    return REPO_DIR / ".venv-ansible"


def _ansible_value(checkout: Path, expression: str, *extra: str) -> object:
    """EXPRESSION (Jinja) as Ansible templates it for the example inventory's first manager."""
    out = run(
        _ansible_venv() / "bin/ansible",
        "-i",
        "inventories/example",
        "managers[0]",
        "-m",
        "ansible.builtin.debug",
        "-a",
        f"msg={{{{ {expression} | to_json }}}}",
        *extra,
        cwd=checkout / "ansible",
        env=base_env(ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1"),
    )
    result = json.loads(out.stdout)["plays"][0]["tasks"][0]["hosts"]["manager1"]
    return json.loads(result["msg"])


def test_fresh_clone_ansible_example_inventory_names_the_project(acme_clone: Path) -> None:
    sites = _ansible_value(acme_clone, "app_sites")
    assert isinstance(sites, dict)
    assert list(sites) == ["acme.example"]
    # What the app_stack role hands the stack for that site: the project's name and images.
    role = acme_clone / "ansible/roles/app_stack"
    environment = _ansible_value(
        acme_clone,
        "app_stack_environment",
        "-e",
        f"@{role / 'defaults/main.yml'}",
        "-e",
        f"@{role / 'vars/main.yml'}",
        "-e",
        "app_stack_domain=acme.example app_stack_image_tag=v1",
        "-e",
        "app_stack_registry=registry.example.com/acme",
    )
    assert isinstance(environment, dict)
    assert environment["PROJECT_NAME"] == "Acme Portal"
    assert environment["STACK_NAME"] == "acme-example"
    assert environment["BACKEND_IMAGE"] == "registry.example.com/acme/acme-portal-backend"
    assert environment["FRONTEND_IMAGE"] == "registry.example.com/acme/acme-portal-frontend"
