"""Each job of .gitlab-ci.yml has, in its image or from its before_script, every
command its scripts declare with `require_commands` (scripts/lib.sh): what runs
on a real runner, read without one.

A job's scripts are found from its `script:` lines: `make TARGET` (the
Makefile's recipe), a script path, then every script or make target those
scripts call, and the hooks of .pre-commit-config.yaml for a script that runs
pre-commit. The tables below say what each image ships and which commands each
package installs: a job naming an image or a package missing from them fails
until they are completed.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_DIR = Path(__file__).resolve().parents[3]

# What each image has on its PATH, of the commands scripts may require.
IMAGE_COMMANDS: dict[str, set[str]] = {
    "python:3.11-slim-bookworm": {"sh", "bash", "python3", "pip", "apt-get"},
    # The official Node.js image: Debian without Python (that is apt's python3).
    "node:20-bookworm-slim": {"sh", "bash", "node", "npm", "npx", "apt-get"},
    # Alpine with the static docker CLI and its compose plugin: no bash, curl, make, git.
    "docker:28": {"sh", "docker", "apk"},
}
# The commands a package installs, by package manager.
PACKAGE_COMMANDS: dict[str, dict[str, set[str]]] = {
    "apt-get": {
        "make": {"make"},
        "git": {"git"},
        "curl": {"curl"},
        "python3": {"python3"},
        "python3-venv": set(),
        "postgresql-client": {"psql", "pg_dump", "pg_restore"},
        "mariadb-client": {"mariadb", "mariadb-dump"},
        "chromium": {"chromium"},
        "openssh-client": {"ssh", "ssh-add", "ssh-agent", "ssh-keyscan"},
    },
    "apk": {
        "bash": {"bash"},
        "make": {"make"},
        "git": {"git"},
        "curl": {"curl"},
        "python3": {"python3"},
        "openssh-client": {"ssh", "ssh-add", "ssh-agent", "ssh-keyscan"},
    },
}

SCRIPT_PATH = re.compile(r"(?<![\w.-])((?:scripts|ci)/[\w.-]+\.sh)\b")
# A command, not a message that mentions one: at a line's start or after && ; || (.
MAKE_CALL = re.compile(
    r"(?:^[ \t]*@?|&&\s*|;\s*|\|\|\s*|\(\s*)(?:[A-Z_]+=\S*\s+)*(?:\$\(MAKE\)|make)\s+"
    r"(?:[A-Z_]+=\S*\s+|--?[\w-]+\s+)*([a-z][\w-]*)",
    re.MULTILINE,
)
REQUIRE = re.compile(r"^\s*require_commands\s+(.+)$", re.MULTILINE)
INSTALL = re.compile(r"\b(apt-get\s+install|apk\s+add)\s+([^>&;|]+)")
VARIABLE = re.compile(r"\$\{?(\w+)\}?")


@dataclass
class Job:
    name: str
    image: str
    before_script: list[str]
    script: list[str]
    variables: dict[str, str] = field(default_factory=dict)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """GitLab's `extends`: hashes merge deeply, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(config: dict[str, Any], name: str) -> dict[str, Any]:
    job = config[name]
    parents = job.get("extends", [])
    resolved: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        resolved = _merge(resolved, _resolve(config, parent))
    return _merge(resolved, {key: value for key, value in job.items() if key != "extends"})


def _lines(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def jobs(text: str) -> list[Job]:
    config = yaml.safe_load(text)
    default = config.get("default", {})
    result = []
    for name, body in config.items():
        if name.startswith(".") or not isinstance(body, dict) or "script" not in body:
            continue
        job = _resolve(config, name)
        image = job.get("image", default.get("image"))
        result.append(
            Job(
                name=name,
                image=image["name"] if isinstance(image, dict) else image,
                before_script=_lines(job.get("before_script", default.get("before_script"))),
                script=_lines(job["script"]),
                variables={**config.get("variables", {}), **job.get("variables", {})},
            )
        )
    return result


def _make_recipe(target: str) -> str:
    makefile = (REPO_DIR / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, f"the Makefile has no target {target}"
    return match.group(1)


def _code(text: str) -> str:
    """The text without its comment lines (they mention scripts they do not run)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _required_by(text: str, seen: set[str]) -> set[str]:
    """The commands TEXT (a script, recipe or job line) requires, and those of
    everything it calls."""
    text = _code(text)
    required: set[str] = set()
    for match in REQUIRE.finditer(text):
        required |= {
            spec.split(":")[0] for spec in match.group(1).split() if not spec.startswith("#")
        }
    if MAKE_CALL.search(text):
        required.add("make")
    for target in MAKE_CALL.findall(text):
        if f"make {target}" not in seen:
            seen.add(f"make {target}")
            required |= _required_by(_make_recipe(target), seen)
    sources = SCRIPT_PATH.findall(text)
    if re.search(r"\bpre-commit run\b", text):
        sources.append(".pre-commit-config.yaml")
    for path in sources:
        if path in seen:
            continue
        seen.add(path)
        source = (REPO_DIR / path).read_text(encoding="utf-8")
        if source.startswith("#!/usr/bin/env bash"):
            required.add("bash")
        if path == ".pre-commit-config.yaml":
            entries = [h["entry"] for r in yaml.safe_load(source)["repos"] for h in r["hooks"]]
            required |= {e.split()[0] for e in entries if "/" not in e.split()[0]}
            source = "\n".join(entries)
        required |= _required_by(source, seen)
    return required


def provided(job: Job) -> set[str]:
    assert job.image in IMAGE_COMMANDS, f"{job.name}: add what {job.image} ships to IMAGE_COMMANDS"
    commands = set(IMAGE_COMMANDS[job.image])
    for line in job.before_script:
        expanded = VARIABLE.sub(lambda m: job.variables.get(m.group(1), ""), line)
        for tool, packages in INSTALL.findall(expanded):
            manager = "apk" if tool.startswith("apk") else "apt-get"
            assert manager in commands, f"{job.name}: {job.image} has no {manager}"
            for package in (word for word in packages.split() if not word.startswith("-")):
                known = PACKAGE_COMMANDS[manager]
                assert package in known, (
                    f"{job.name}: add {manager} package {package} to PACKAGE_COMMANDS"
                )
                commands |= known[package]
    return commands


def missing(job: Job) -> set[str]:
    required = _required_by("\n".join(job.script), set())
    return required - provided(job)


CI_FILE = REPO_DIR / ".gitlab-ci.yml"


@pytest.mark.parametrize("job", jobs(CI_FILE.read_text(encoding="utf-8")), ids=lambda job: job.name)
def test_the_jobs_image_has_what_its_scripts_require(job: Job) -> None:
    assert missing(job) == set(), f"{job.name} ({job.image}) lacks {sorted(missing(job))}"


def test_the_check_sees_a_job_without_what_its_scripts_require() -> None:
    # The test and test-docker jobs as they once were: no Node.js, no curl.
    (test, test_docker) = jobs("""
default:
  image: python:3.11-slim-bookworm
test:
  before_script:
    - apt-get update -qq && apt-get install -y -qq make git postgresql-client >/dev/null
  script: [make test]
test-docker:
  image: docker:28
  before_script:
    - apk add --no-cache bash make git python3 >/dev/null
  script: [make test-docker]
""")
    assert {"node", "npm"} <= missing(test)
    assert missing(test_docker) == {"curl"}


def test_the_packages_before_script_installs_count_with_the_jobs_variables() -> None:
    (job,) = jobs("""
lint:
  image: node:20-bookworm-slim
  variables:
    APT_PACKAGES: curl
  before_script:
    - apt-get install -y ${APT_PACKAGES} make >/dev/null
  script: [make lint]
""")
    assert {"curl", "make", "node"} <= provided(job)


# ci/gitlab-deploy.sh, the deploy jobs' script, with `make` replaced by one that
# reports what `make deploy` would get.
FAKE_MAKE = """#!/usr/bin/env bash
{
  echo "args=$*"
  for name in BUILD INVENTORY ANSIBLE_PRIVATE_KEY_FILE ANSIBLE_HOST_KEY_CHECKING \\
      ANSIBLE_VAULT_PASSWORD_FILE REGISTRY_USER REGISTRY_PASSWORD; do
    echo "$name=${!name:-}"
  done
  stat -c 'vault_mode=%a' "$ANSIBLE_VAULT_PASSWORD_FILE"
  stat -c 'key_mode=%a' "$ANSIBLE_PRIVATE_KEY_FILE"
  echo "inventory=$(cat "$INVENTORY")"
} >"$REPORT"
"""
DEPLOY_VARIABLES = {
    "DOMAIN": "staging.example.com",
    "REGISTRY": "registry.example.com/team/app",
    "SSH_PRIVATE_KEY": "a key\r\n",
    "SSH_KNOWN_HOSTS": "203.0.113.10 ssh-ed25519 AAAA",
    "ANSIBLE_VAULT_PASSWORD": "vault secret",
    "CI_DEPLOY_USER": "gitlab+deploy-token-1",
    "CI_DEPLOY_PASSWORD": "token secret",
}


def _deploy(tmp_path: Path, **variables: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "make").write_text(FAKE_MAKE)
    (bin_dir / "make").chmod(0o755)
    report = tmp_path / "report"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "REPORT": str(report),
        **variables,
    }
    result = subprocess.run(
        ["bash", str(REPO_DIR / "ci/gitlab-deploy.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, report


def test_the_deploy_job_refuses_to_run_without_known_hosts(tmp_path: Path) -> None:
    inventory = tmp_path / "INVENTORY"
    inventory.write_text("all: {}\n")
    variables = {**DEPLOY_VARIABLES, "INVENTORY": str(inventory), "SSH_KNOWN_HOSTS": ""}

    result, report = _deploy(tmp_path, **variables)

    assert result.returncode != 0
    assert "SSH_KNOWN_HOSTS" in result.stderr
    assert not report.exists()


def test_the_deploy_job_hands_make_deploy_its_secrets_in_private_files(tmp_path: Path) -> None:
    # A File variable: a path without a .yml suffix.
    inventory = tmp_path / "INVENTORY"
    inventory.write_text("all: {}\n")

    result, report = _deploy(tmp_path, **DEPLOY_VARIABLES, INVENTORY=str(inventory))

    assert result.returncode == 0, result.stderr
    got = dict(line.split("=", 1) for line in report.read_text().splitlines())
    assert got["args"] == "deploy DOMAIN=staging.example.com"
    assert got["BUILD"] == "0"
    assert got["INVENTORY"].endswith(".yml")
    assert got["inventory"] == "all: {}"
    assert got["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert got["vault_mode"] == got["key_mode"] == "600"
    assert got["REGISTRY_USER"] == "gitlab+deploy-token-1"
    assert (tmp_path / "home/.ssh/known_hosts").read_text() == "203.0.113.10 ssh-ed25519 AAAA\n"
    # The secrets' directory is gone once the job ends.
    assert not Path(got["ANSIBLE_VAULT_PASSWORD_FILE"]).exists()


def test_the_deploy_job_takes_a_committed_inventory_directory(tmp_path: Path) -> None:
    result, report = _deploy(tmp_path, **DEPLOY_VARIABLES, INVENTORY="ansible/inventories/example")

    assert result.returncode == 0, result.stderr
    assert f"INVENTORY={REPO_DIR}/ansible/inventories/example\n" in report.read_text()
