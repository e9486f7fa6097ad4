"""Generate a new project from this one:

    make new-project NAME="Acme Portal" DOMAIN=acme.example [DEST=../acme-portal] [SLUG=...]
    python3 tools/new_project.py --name "Acme Portal" [--domain acme.example]
                                 [--dest DIR] [--slug SLUG]

It copies the committed tree (HEAD: uncommitted changes stay behind, so the result
depends on the commit alone), names the project in project.env (its identity, which
every tool reads), README.md and the example Ansible inventory, writes a .env with
fresh secrets, and makes the first commit of a new repository.
.upstream and the `upstream` remote record where it came from, for `make
update-from-upstream`. UPSTREAM_URL overrides the recorded address (default:
origin's, else this checkout's path); UPSTREAM_BRANCH the branch followed (default:
the current one).

The standard library only: it runs on a fresh machine, before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[1]
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
DOMAIN_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = re.compile(rf"({DOMAIN_LABEL}\.)*{DOMAIN_LABEL}")
# .env files are read by compose, python-dotenv and the scripts: these characters
# mean something to at least one of them.
UNSAFE_IN_ENV = re.compile(r'["$\\`\x00-\x1f\x7f]')

UPSTREAM_FILE = """\
# The base this project was generated from, and the newest commit of it merged
# here. `make update-from-upstream` fetches UPSTREAM_BRANCH from UPSTREAM_URL,
# merges it, and moves UPSTREAM_COMMIT (docs/development.md, "Updating from
# the base"). Generation changed only project.env (the project's identity), the
# title of README.md and the example inventory's site (its domain).
UPSTREAM_URL={url}
UPSTREAM_BRANCH={branch}
UPSTREAM_COMMIT={commit}
"""


class Refused(Exception):
    """Nothing was created: the message says why."""


def log(message: str) -> None:
    print(f"\033[1;34m==>\033[0m {message}", file=sys.stderr, flush=True)


def git(*args: str, cwd: Path = ROOT_DIR, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise Refused(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip() if done.returncode == 0 else ""


# --- The names ---------------------------------------------------------------------------


def slugify(name: str) -> str:
    """Names the compose project, the Swarm stack and the images: lowercase ASCII
    letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def check_name(name: str) -> None:
    if not name:
        raise Refused(
            'give the project a name: make new-project NAME="Acme Portal" DOMAIN=acme.example'
        )
    if UNSAFE_IN_ENV.search(name):
        raise Refused(
            f'the name "{name}" has a character that .env files cannot hold as is '
            '(" $ \\ ` or a control character)'
        )


def check_slug(slug: str, name: str) -> None:
    if not SLUG.fullmatch(slug) or "--" in slug or slug.endswith("-"):
        raise Refused(
            f'"{name}" makes the slug "{slug}", which is not valid: a slug is 1 to 40 lowercase '
            "ASCII letters, digits and single dashes, starting with a letter or digit; pick "
            "another name or give a slug with SLUG=..."
        )


def check_domain(domain: str) -> None:
    if len(domain) > 253 or not DOMAIN.fullmatch(domain):
        raise Refused(
            f'"{domain}" is not a domain name (lowercase labels of letters, digits and dashes, '
            "separated by dots)"
        )


def check_dest(dest: Path) -> None:
    """New, or an empty directory, and outside this checkout."""
    if dest.exists():
        if not dest.is_dir():
            raise Refused(f"{dest} exists and is not a directory")
        if any(dest.iterdir()):
            raise Refused(f"{dest} exists and is not empty: choose another DEST")
    parent = dest.absolute().parent
    if not parent.is_dir():
        raise Refused(f"the parent of {dest} does not exist")
    if parent.resolve().is_relative_to(ROOT_DIR.resolve()):
        raise Refused(f"{dest} is inside this repository: choose a folder outside it")


# --- The new project's files ----------------------------------------------------------------


def _constant(line: str) -> Callable[[re.Match[str]], str]:
    return lambda _: line


def set_values(text: str, values: dict[str, str], source: str = ".env.example") -> str:
    for key, value in values.items():
        # A function, not a replacement string: the value is taken as it is.
        text, found = re.subn(
            rf"^{key}=.*$", _constant(f"{key}={value}"), text, count=1, flags=re.M
        )
        if not found:
            raise Refused(f"{source} has no {key}= line")
    return text


# The example inventory's site (ansible/inventories/example): its domain.
EXAMPLE_SITE = "example.com"
EXAMPLE_SITE_FILES = (
    "ansible/inventories/example/group_vars/managers/main.yml",
    "ansible/inventories/example/group_vars/managers/vault.yml",
)


def set_example_site(dest: Path, domain: str) -> None:
    """The example inventory deploys the project's domain (`make deploy` then needs no
    DOMAIN): its site's key in app_sites and vault_sites, and where the one names
    the other. The base's example.com stays for a project on localhost, which no
    server serves."""
    if domain == "localhost":
        return
    for name in EXAMPLE_SITE_FILES:
        path = dest / name
        text, found = re.subn(
            rf"^  {re.escape(EXAMPLE_SITE)}:$",
            _constant(f"  {domain}:"),
            path.read_text(encoding="utf-8"),
            count=1,
            flags=re.M,
        )
        if not found:
            raise Refused(f"{name} has no site {EXAMPLE_SITE}")
        text = text.replace(f"vault_sites['{EXAMPLE_SITE}']", f"vault_sites['{domain}']")
        path.write_text(text, encoding="utf-8")


# The API's document, committed for the frontend's client generator: its title
# is the project's name (app/web/api), and check-client compares it.
SPEC_FILE = "frontend/openapi/openapi.json"


def project_name(identity: str) -> str:
    """PROJECT_NAME of a project.env's text."""
    found = re.search(r"^PROJECT_NAME=(.*)$", identity, flags=re.M)
    if not found:
        raise Refused("project.env has no PROJECT_NAME= line")
    return found.group(1).strip().strip("\"'")


def set_spec_title(dest: Path, old_name: str, name: str) -> None:
    """The document's title, as the API's export writes it (json.dumps)."""
    path = dest / SPEC_FILE
    old_line = f'"title": {json.dumps(f"{old_name} API")},'
    text = path.read_text(encoding="utf-8")
    if text.count(old_line) != 1:
        raise Refused(f"{SPEC_FILE} has no title {old_name} API")
    path.write_text(
        text.replace(old_line, f'"title": {json.dumps(f"{name} API")},'), encoding="utf-8"
    )


def write_identity(dest: Path, name: str, slug: str, domain: str) -> None:
    """The names go into project.env, committed: every tool reads them there, so a
    fresh clone (a CI job, an image) is the project's without a .env."""
    identity = dest / "project.env"
    base_text = identity.read_text(encoding="utf-8")
    set_spec_title(dest, project_name(base_text), name)
    text = set_values(
        base_text,
        {
            "PROJECT_NAME": f'"{name}"',
            "PROJECT_SLUG": slug,
            "STACK_NAME": slug,
            "DOMAIN": domain,
            "BACKEND_IMAGE": f"{slug}-backend",
            "WORKER_IMAGE": f"{slug}-worker",
            "FRONTEND_IMAGE": f"{slug}-frontend",
        },
        source="project.env",
    )
    identity.write_text(text, encoding="utf-8")


def write_env_file(dest: Path) -> None:
    """.env is .env.example with fresh random secrets: URL-safe, because
    POSTGRES_PASSWORD goes into DATABASE_URL and FLOWER_BASIC_AUTH is user:password."""
    text = (dest / ".env.example").read_text(encoding="utf-8")
    secrets_text = set_values(
        text,
        {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIRST_SUPERUSER_PASSWORD": secrets.token_urlsafe(18),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
            "FLOWER_BASIC_AUTH": f"admin:{secrets.token_urlsafe(18)}",
        },
    )
    env = dest / ".env"
    env.touch(mode=0o600)
    env.write_text(secrets_text, encoding="utf-8")


def set_title(readme: Path, name: str) -> None:
    """The README's first line is its title."""
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    readme.write_text("".join([f"# {name}\n", *lines[1:]]), encoding="utf-8")


def copy_commit(commit: str, dest: Path) -> None:
    """The commit's tree as git stores it (modes, links), by git archive and tar."""
    archive = subprocess.Popen(
        ["git", "archive", "--format=tar", commit], cwd=ROOT_DIR, stdout=subprocess.PIPE
    )
    extracted = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout)
    if archive.wait() or extracted.returncode:
        raise Refused(f"could not copy commit {commit[:12]} into {dest}")


def generate(name: str, domain: str, dest: Path, slug: str) -> None:
    if not git("var", "GIT_COMMITTER_IDENT", check=False):
        raise Refused(
            "git needs your name and email for the first commit: "
            "git config --global user.name ...; git config --global user.email ..."
        )
    commit = git("rev-parse", "--verify", "HEAD^{commit}", check=False)
    if not commit:
        raise Refused("this checkout has no commit to copy")
    url = (
        os.environ.get("UPSTREAM_URL")
        or git("remote", "get-url", "origin", check=False)
        or str(ROOT_DIR)
    )
    branch = (
        os.environ.get("UPSTREAM_BRANCH")
        or git("symbolic-ref", "-q", "--short", "HEAD", check=False)
        or "HEAD"
    )
    if git("status", "--porcelain", "--untracked-files=no"):
        log(
            f"uncommitted changes in {ROOT_DIR} are not copied: "
            f"generating from commit {commit[:12]}"
        )

    log(f"creating {name} ({slug}, {domain}) in {dest}")
    existed = dest.is_dir()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        copy_commit(commit, dest)
        write_identity(dest, name, slug, domain)
        write_env_file(dest)
        set_title(dest / "README.md", name)
        set_example_site(dest, domain)
        (dest / ".upstream").write_text(UPSTREAM_FILE.format(url=url, branch=branch, commit=commit))
        git("init", "-q", "-b", "main", cwd=dest)
        git("add", "-A", cwd=dest)
        # .gitignore keeps .env out; a repository that lost that line must not get it.
        if (
            subprocess.run(
                ["git", "ls-files", "--error-unmatch", ".env"], cwd=dest, capture_output=True
            ).returncode
            == 0
        ):
            raise Refused(f".env would be committed: .gitignore in {dest} no longer ignores it")
        git(
            "commit",
            "-q",
            "-m",
            f"Create {name}",
            "-m",
            f"Generated from {url} at {commit[:12]} ({branch}) by make new-project.",
            cwd=dest,
        )
        git("remote", "add", "--no-tags", "upstream", url, cwd=dest)
    except BaseException:
        # Leave nothing half-made behind.
        if existed:
            for child in dest.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            shutil.rmtree(dest, ignore_errors=True)
        log(f"nothing was created in {dest}")
        raise

    superuser = next(
        (
            line.partition("=")[2]
            for line in (dest / ".env").read_text().splitlines()
            if line.startswith("FIRST_SUPERUSER=")
        ),
        "",
    )
    print(
        f"\n  {name} is ready in {dest}\n"
        f"    cd {dest} && make dev\n"
        "  Its secrets are in .env (never committed): the first superuser is\n"
        f"  {superuser}, with FIRST_SUPERUSER_PASSWORD from there.\n"
        "  Take later changes of the base with: make update-from-upstream\n",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/new_project.py", description="Generate a new project from this one."
    )
    parser.add_argument("--name", default="", help='the project\'s name, e.g. "Acme Portal"')
    parser.add_argument("--domain", default="localhost", help="its domain (default localhost)")
    parser.add_argument(
        "--dest", type=Path, help="where (default: beside this checkout, named by the slug)"
    )
    parser.add_argument(
        "--slug", default="", help="lowercase name of stacks and images (default: from the name)"
    )
    args = parser.parse_args(argv)
    try:
        check_name(args.name)
        slug = args.slug or slugify(args.name)
        check_slug(slug, args.name)
        domain = (args.domain or "localhost").lower()
        check_domain(domain)
        dest = (args.dest or ROOT_DIR.parent / slug).absolute()
        check_dest(dest)
        generate(args.name, domain, dest, slug)
    except Refused as exc:
        print(f"\033[1;31merror:\033[0m {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
