"""Prometheus's configuration (compose/prometheus/) and the Grafana dashboard
(compose/grafana/dashboard.json), checked by promtool, Prometheus's own tool
(fetched by scripts/prometheus.sh when missing). That the metrics they name are
the ones the API and the workers expose: tests/worker/process/test_metric_names.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.config import REPO_DIR
from tests.utils.prometheus import (
    DASHBOARD,
    PROMETHEUS_DIR,
    dashboard,
    dashboard_queries,
    metric_names,
    promtool,
)

CONFIGS = ["prometheus.yml", "stack.yml"]
# What each config's scrape jobs name their targets by: compose's service name,
# Swarm's name for the tasks of a service.
TARGET_NAME = {"prometheus.yml": "{service}", "stack.yml": "tasks.{service}"}


def worker_modules() -> list[str]:
    """The worker modules beside the default one (worker-<name>/, as scripts/lib.sh finds them)."""
    return sorted(
        path.parent.name.removeprefix("worker-")
        for path in REPO_DIR.glob("worker-*/pyproject.toml")
    )


def expected_jobs() -> dict[str, tuple[str, int]]:
    """Each scrape job, with the service it scrapes and the port."""
    jobs = {"api": ("backend", 8000), "worker-default": ("worker", 9540)}
    for module in worker_modules():
        jobs[f"worker-{module}"] = (f"worker-{module}", 9540)
    return jobs


def checked(*args: str | Path, cwd: Path = PROMETHEUS_DIR) -> str:
    result = promtool(*args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_promtool_accepts_both_configs_and_their_rules() -> None:
    output = checked("check", "config", *CONFIGS)
    assert output.count("is valid prometheus config file syntax") == len(CONFIGS)
    assert "SUCCESS" in checked("check", "rules", "rules.yml")


def test_the_alerts_fire_on_their_test_series_and_only_there() -> None:
    """rules.test.yml: each alert on a series that should fire it, and on a healthy one."""
    assert "SUCCESS" in checked("test", "rules", "rules.test.yml")


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    """The checks above can fail: a query that does not parse is refused."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        yaml.safe_dump(
            {"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": "rate(up[5m]"}]}]}
        )
    )
    result = promtool("check", "rules", broken)
    assert result.returncode != 0
    assert "parse error" in result.stdout + result.stderr


@pytest.mark.parametrize("config", CONFIGS)
def test_every_worker_module_is_scraped(config: str) -> None:
    """The API and every worker module, each its own job (worker-<module>), by
    the name its platform resolves: `make new-worker` adds a module's job."""
    scrape = yaml.safe_load((PROMETHEUS_DIR / config).read_text())["scrape_configs"]
    found = {}
    for job in scrape:
        if "static_configs" in job:
            found[job["job_name"]] = job["static_configs"][0]["targets"]
        else:
            sd = job["dns_sd_configs"][0]
            found[job["job_name"]] = [f"{name}:{sd['port']}" for name in sd["names"]]
        assert job.get("metrics_path", "/metrics") == "/metrics"
    expected = {
        job: [f"{TARGET_NAME[config].format(service=service)}:{port}"]
        for job, (service, port) in expected_jobs().items()
    }
    assert found == expected


def test_the_dashboard_imports_with_a_data_source_to_choose() -> None:
    """Grafana's import format: it asks for DS_PROMETHEUS, which every panel and
    query uses; each panel has a title, a place, and queries with their ids."""
    data = dashboard()
    assert data["title"] and data["uid"] and isinstance(data["schemaVersion"], int)
    assert [(i["name"], i["type"], i["pluginId"]) for i in data["__inputs"]] == [
        ("DS_PROMETHEUS", "datasource", "prometheus")
    ]
    source = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    panels = [panel for panel in data["panels"] if panel["type"] != "row"]
    assert len(panels) >= 10
    ids = [panel["id"] for panel in data["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["title"], panel
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}, panel["title"]
        assert panel["datasource"] == source, panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == source, panel["title"]
            assert target["expr"].strip(), panel["title"]
    assert "${DS_PROMETHEUS}" in DASHBOARD.read_text()


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    """promtool has no query checker of its own: each query becomes a recording
    rule of a throwaway file, which `promtool check rules` parses."""
    queries = dashboard_queries()
    rules = [{"record": f"dashboard:query_{n}", "expr": expr} for n, expr in enumerate(queries)]
    (tmp_path / "dashboard.rules.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    assert f"SUCCESS: {len(queries)} rules found" in checked(
        "check", "rules", "dashboard.rules.yml", cwd=tmp_path
    )


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (route) (rate(http_requests_total{job="api"}[5m]))', {"http_requests_total"}),
        (
            "histogram_quantile(0.99, sum by (job, le) (rate(x_bucket[5m]))) > 1 and on (job) up",
            {"x_bucket", "up"},
        ),
        ('count by (job) (max_over_time(up{a="b(c)"}[1h])) unless count by (job) (up)', {"up"}),
        ("a:b:c > 0.05 and d offset 5m", {"a:b:c", "d"}),
    ],
)
def test_metric_names_are_read_from_queries(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names
