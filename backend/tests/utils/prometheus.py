"""Prometheus's side of the project (compose/prometheus/, compose/grafana/) as the
tests read it: promtool, run through scripts/prometheus.sh (which fetches it when
missing), and the metric names that queries use."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from app.core.config import REPO_DIR

PROMETHEUS_DIR = REPO_DIR / "compose" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
DASHBOARD = REPO_DIR / "compose" / "grafana" / "dashboard.json"
# Metrics Prometheus makes itself for every target, not scraped from it.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
# Grafana's variables in a query, and what stands in for them when promtool reads it.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}


def promtool(*args: str | Path, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_DIR / "scripts" / "prometheus.sh"), "promtool", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once strings,
    label matchers, ranges, grouping clauses, functions and keywords are gone."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def dashboard_queries() -> list[str]:
    """Every panel's queries, Grafana's variables replaced by values PromQL reads."""
    queries = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append(expr)
    return queries


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def names_queried() -> set[str]:
    """The metrics the dashboard and the rules read, but those the rules record."""
    exprs = dashboard_queries() + [rule["expr"] for rule in rules()]
    return set().union(*map(metric_names, exprs)) - recorded_names() - SYNTHETIC


def exposed_names(exposition: str) -> set[str]:
    """Every series name a /metrics page (Prometheus's text format) holds."""
    return {
        line.split("{", 1)[0].split(" ", 1)[0]
        for line in exposition.splitlines()
        if line and not line.startswith("#")
    }
