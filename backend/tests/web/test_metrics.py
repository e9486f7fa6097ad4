"""GET /metrics: the API's Prometheus metrics (app/web/metrics.py), in the app and
served by a real multi-process server."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from app.models import User
from app.runtime import Runtime
from tests.utils.apps import app_with_settings
from tests.utils.server import api_server

BACKEND_DIR = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels (the parser refuses a bad format)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def test_metrics_label_requests_by_route_template_not_path(
    client: FlaskClient, superuser_headers: dict[str, str], user: User
) -> None:
    route = "/api/v1/users/<int:user_id>"
    before = scrape(client)

    assert client.get(f"/api/v1/users/{user.id}", headers=superuser_headers).status_code == 200
    assert client.get("/api/v1/users/999999", headers=superuser_headers).status_code == 404
    text = scrape(client)

    for status in ("200", "404"):
        labels = {"method": "GET", "route": route, "status": status}
        counted = value(text, "http_requests_total", **labels)
        assert counted - value(before, "http_requests_total", **labels) == 1
    timed = value(text, "http_request_duration_seconds_count", method="GET", route=route)
    assert (
        timed - value(before, "http_request_duration_seconds_count", method="GET", route=route) == 2
    )
    routes = {dict(labels).get("route") for _, labels in samples(text)}
    assert f"/api/v1/users/{user.id}" not in routes
    assert "/api/v1/users/999999" not in routes


def test_metrics_count_paths_no_route_matches_as_unmatched(client: FlaskClient) -> None:
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = value(scrape(client), "http_requests_total", **labels)

    assert client.get("/no/such/page/12345").status_code == 404
    assert client.get("/api/v1/nothing-here").status_code == 404
    text = scrape(client)

    assert value(text, "http_requests_total", **labels) - before == 2
    assert "/no/such/page/12345" not in text and "nothing-here" not in text


def test_metrics_count_methods_outside_http_as_other(client: FlaskClient) -> None:
    labels = {"method": "other", "route": "unmatched", "status": "405"}
    before = value(scrape(client), "http_requests_total", **labels)

    assert client.open("/api/v1/users/", method="BREW").status_code == 405
    text = scrape(client)

    assert "BREW" not in text
    assert value(text, "http_requests_total", **labels) - before == 1


def test_metrics_count_jobs_created_by_kind(
    client: FlaskClient, runtime: Runtime, superuser_headers: dict[str, str]
) -> None:
    before = value(scrape(client), "jobs_created_total", kind="demo")

    for _ in range(2):
        response = client.post(
            "/api/v1/jobs/", json={"kind": "demo", "params": {}}, headers=superuser_headers
        )
        assert response.status_code == 202
    refused = client.post("/api/v1/jobs/", json={"kind": "nope"}, headers=superuser_headers)
    assert refused.status_code == 422

    assert value(scrape(client), "jobs_created_total", kind="demo") - before == 2


def test_metrics_show_requests_in_progress_and_the_pool(client: FlaskClient) -> None:
    text = scrape(client)

    # The scrape itself is in progress.
    assert value(text, "http_requests_in_progress") >= 1
    assert value(text, "db_pool_connections", state="size") >= 1
    assert ("db_pool_connections", frozenset({("state", "checked_out")})) in samples(text)


def test_metrics_stay_out_of_the_api_docs(client: FlaskClient) -> None:
    for document in ("/api/v1/swagger.json", "/api/v1/openapi.json"):
        paths = client.get(document).get_json()["paths"]
        assert not [path for path in paths if "metrics" in path]


def test_metrics_disabled_answer_404(runtime: Runtime) -> None:
    app = app_with_settings(runtime, METRICS_ENABLED=False)

    assert app.test_client().get("/metrics").status_code == 404


# --- a real server with two worker processes ---------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    directory = tmp_path / "metrics"
    directory.mkdir()
    # Left by an earlier run: the server must start from an empty directory.
    (directory / "counter_999999.db").write_bytes(b"stale")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/db",
        "WEB_CONCURRENCY": "2",
        "WEB_ACCESS_LOG": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    with api_server(env=env) as (base, process):
        # Each process makes its files as it loads the app.
        deadline = time.monotonic() + 60
        while len(worker_pids(directory, "gauge_livesum")) < 2 or not answers(base):
            assert time.monotonic() < deadline and process.poll() is None, "no server"
            time.sleep(0.2)
        yield base, directory


def answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/metrics", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def worker_pids(directory: Path, kind: str) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in directory.glob(f"{kind}_*.db")}


def test_metrics_sum_every_server_process(server: tuple[str, Path]) -> None:
    base, directory = server
    assert not (directory / "counter_999999.db").exists()

    def get(index: int) -> int:
        # A connection each: the server's processes take them as they come.
        with requests.Session() as session:
            return session.get(f"{base}/not-here/{index}", timeout=10).status_code

    # Until both processes have counted some (the kernel chooses which accepts).
    requests_sent = 0
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len(worker_pids(directory, "counter")) < 2:
            assert time.monotonic() < deadline, "one process took every request"
            assert set(pool.map(get, range(40))) == {404}
            requests_sent += 40
    text = requests.get(f"{base}/metrics", timeout=10).text

    # ...and one scrape, answered by either, has them all.
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(text, "http_requests_total", **labels) == requests_sent
    assert value(text, "http_request_duration_seconds_count", method="GET", route="unmatched") == (
        requests_sent
    )
    # Two pools of DATABASE_POOL_SIZE (SQLite's: 5 each), none checked out now.
    assert value(text, "db_pool_connections", state="checked_out") == 0


def test_metrics_forget_the_gauges_of_a_dead_server_process(server: tuple[str, Path]) -> None:
    base, directory = server
    before = worker_pids(directory, "gauge_livesum")
    assert len(before) == 2
    size = value(
        requests.get(f"{base}/metrics", timeout=10).text, "db_pool_connections", state="size"
    )

    killed = sorted(before)[0]
    os.kill(int(killed), signal.SIGKILL)
    # Its replacement (granian respawns it) has a pool of its own, counted once it
    # has loaded the app (its gauges' file appears a little earlier, as it imports).
    deadline = time.monotonic() + 30
    while True:
        try:
            text = requests.get(f"{base}/metrics", timeout=10).text
        except requests.ConnectionError:
            # Taken by the killed process's listener before the kernel closed it.
            text = ""
        pids = worker_pids(directory, "gauge_livesum")
        if text and pids - before and value(text, "db_pool_connections", state="size") == size:
            break
        assert time.monotonic() < deadline, f"no process replaced the one killed: {text}"
        time.sleep(0.2)

    # The scrape forgot the killed process: its pool is not counted with the others.
    assert killed not in pids
