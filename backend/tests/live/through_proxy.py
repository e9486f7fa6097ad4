"""The compose stack seen through its Traefik, from inside the stack's network
(`make test-docker` runs it in the tests image: `python -m tests.live.through_proxy`):
the single-page app at its routes, its robots.txt and a 404 for a missing file, no
API metrics at /metrics, and a job for each worker module that the API queues in
Redis on the module's queue, the module runs and records. Exits non-zero, saying
what failed, otherwise."""

from __future__ import annotations

import os
import time
from typing import Any

import requests

BASE = os.environ.get("PROXY_URL", "http://proxy")
JOB_TIMEOUT = 60


def main() -> None:
    check_frontend()
    check_metrics_hidden()
    login = requests.post(
        BASE + "/api/v1/login/access-token",
        data={
            "username": os.environ["FIRST_SUPERUSER"],
            "password": os.environ["FIRST_SUPERUSER_PASSWORD"],
        },
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    # One job per worker module: the default one (demo), the ml one (scikit-learn).
    demo = run_job(headers, {"kind": "demo"})
    print(f"job {demo['id']} (demo) {demo['state']}")
    ml = run_job(
        headers,
        {"kind": "ml.train_classifier", "params": {"dataset": "iris", "model": "random_forest"}},
    )
    assert ml["result"]["n_test"] == 38 and ml["result"]["accuracy"] > 0.85, ml
    print(
        f"job {ml['id']} (ml.train_classifier) {ml['state']}: accuracy {ml['result']['accuracy']}"
    )


def check_metrics_hidden() -> None:
    """The API's /metrics is on its own port only: the proxy routes /api alone."""
    answer = requests.get(BASE + "/metrics", timeout=10)
    assert "http_requests_total" not in answer.text, answer.text[:200]
    print("metrics: not served through the proxy")


def check_frontend() -> None:
    """The app's page for its routes, robots.txt, and a 404 (not the page) for a file
    that is not there: crawlers and Lighthouse take a page answered 200 for the file."""
    for route in ("/", "/items", "/admin/users/3"):
        page = requests.get(BASE + route, timeout=10)
        assert page.status_code == 200, (route, page.status_code, page.text[:200])
        assert '<div id="app"' in page.text, (route, page.text[:200])
    robots = requests.get(BASE + "/robots.txt", timeout=10)
    assert robots.status_code == 200, (robots.status_code, robots.text[:200])
    assert robots.headers["Content-Type"].startswith("text/plain"), robots.headers
    assert "User-agent:" in robots.text, robots.text[:200]
    for missing in ("/assets/missing.js", "/nope.png", "/items/export.csv"):
        answer = requests.get(BASE + missing, timeout=10)
        assert answer.status_code == 404, (missing, answer.status_code, answer.text[:200])
        assert '<div id="app"' not in answer.text, (missing, answer.text[:200])
    print("frontend: the app at its routes, robots.txt, 404 for missing files")


def run_job(headers: dict[str, str], body: dict[str, object]) -> dict[str, Any]:
    created = requests.post(BASE + "/api/v1/jobs/", json=body, headers=headers, timeout=10)
    assert created.status_code == 202, (created.status_code, created.text)
    job_id = created.json()["id"]
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job: dict[str, Any] = requests.get(
            f"{BASE}/api/v1/jobs/{job_id}", headers=headers, timeout=10
        ).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.5)
    assert job["state"] == "succeeded", job
    return job


if __name__ == "__main__":
    main()
