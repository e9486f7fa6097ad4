"""The compose stack seen through its Traefik, from inside the stack's network
(`make test-docker` runs it in the tests image: `python -m tests.live.through_proxy`):
the single-page app at /, and a job that the API queues in Redis, the worker runs
and records. Exits non-zero, saying what failed, otherwise."""

from __future__ import annotations

import os
import time

import requests

BASE = os.environ.get("PROXY_URL", "http://proxy")
JOB_TIMEOUT = 60


def main() -> None:
    page = requests.get(BASE + "/", timeout=10)
    assert page.status_code == 200, (page.status_code, page.text[:200])
    assert '<div id="app"' in page.text, page.text[:200]
    login = requests.post(
        BASE + "/api/v1/login/access-token",
        data={
            "username": os.environ["FIRST_SUPERUSER"],
            "password": os.environ["FIRST_SUPERUSER_PASSWORD"],
        },
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = requests.post(
        BASE + "/api/v1/jobs/", json={"kind": "demo"}, headers=headers, timeout=10
    )
    assert created.status_code == 202, (created.status_code, created.text)
    job_id = created.json()["id"]
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job = requests.get(f"{BASE}/api/v1/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert job["state"] == "succeeded", job
    print(f"job {job_id} {job['state']}")


if __name__ == "__main__":
    main()
