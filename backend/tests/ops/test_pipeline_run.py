"""`make test-pipeline` (scripts/test-pipeline.sh), the GitLab pipeline of a new
project run by gitlab-ci-local, is a step of .ci/run, and docs/deployment.md
follows .gitlab-ci.yml: the CI/CD variables in the order of the file's header,
and every job the pipeline test does not run listed with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO_DIR = Path(__file__).resolve().parents[3]
DOC = REPO_DIR / "docs" / "deployment.md"
# The top-level keys of a pipeline that are not jobs.
GLOBAL_KEYWORDS = {"default", "include", "stages", "variables", "workflow"}
# The first name of a numbered item that looks like a variable: CI_DEPLOY_USER, INVENTORY.
VARIABLE_NAME = re.compile(r"\b[A-Z][A-Z0-9_]{4,}\b")


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    # Up to the next heading of the same level or above.
    depth = len(title.split(" ", 1)[0])
    end = re.compile(rf"\n#{{1,{depth}}} ").search(text, start + 1)
    return text[start : end.start() if end else len(text)]


def _first_names(items: list[str]) -> list[str]:
    names = []
    for item in items:
        match = VARIABLE_NAME.search(item)
        assert match, f"no variable named in: {item[:80]}"
        names.append(match.group())
    return names


def header_variables() -> list[str]:
    """The variables of the header's numbered list, in its order."""
    text = (REPO_DIR / ".gitlab-ci.yml").read_text(encoding="utf-8")
    header = text[text.index("CI/CD variables to set") : text.index("\nstages:")]
    return _first_names(re.split(r"^#\s+\d+\.\s", header, flags=re.MULTILINE)[1:])


def documented_variables() -> list[str]:
    """The variables of the walkthrough's step "Set the CI/CD variables", in its order."""
    walkthrough = _section("## From a new project to production with GitLab")
    step = walkthrough[walkthrough.index("Set the CI/CD variables") :]
    step = step[: re.search(r"^\d+\. ", step, re.MULTILINE).start()]
    return _first_names(re.split(r"^ +\d+\.\s", step, flags=re.MULTILINE)[1:])


def test_ci_runs_the_pipeline_test_under_a_time_limit() -> None:
    run = (REPO_DIR / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (REPO_DIR / "Makefile").read_text(encoding="utf-8")

    assert re.search(r"^\s+run_step \d+m test-pipeline$", run, re.MULTILINE)
    assert re.search(r"^test-pipeline: ##.*\n\t@scripts/test-pipeline\.sh$", makefile, re.MULTILINE)


def test_the_walkthrough_sets_the_variables_in_the_order_of_the_pipelines_header() -> None:
    expected = header_variables()

    assert len(expected) >= 5, expected
    assert documented_variables() == expected


def test_the_docs_say_why_each_job_the_pipeline_test_skips_is_not_run() -> None:
    pipeline = yaml.safe_load((REPO_DIR / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    # Every job, also those whose script comes from a template (`extends`).
    jobs = {
        name
        for name, body in pipeline.items()
        if not name.startswith(".") and name not in GLOBAL_KEYWORDS and isinstance(body, dict)
    }
    script = (REPO_DIR / "scripts" / "test-pipeline.sh").read_text(encoding="utf-8")
    match = re.search(r"^DEFAULT_JOBS=\(([^)]*)\)$", script, re.MULTILINE)
    assert match, "scripts/test-pipeline.sh names no default jobs"
    ran = set(match.group(1).split())
    # Each bullet's lead, before its colon, names the jobs it explains.
    section = _section("### What `make test-pipeline` runs, and what it cannot run here")
    explained = {
        name
        for lead in re.findall(r"^- ([^:\n]*):", section, re.MULTILINE)
        for name in re.findall(r"`([\w-]+)`", lead)
    }

    assert ran <= jobs, f"the pipeline test runs jobs the pipeline lacks: {ran - jobs}"
    assert jobs - ran <= explained, f"not explained in the docs: {sorted(jobs - ran - explained)}"
