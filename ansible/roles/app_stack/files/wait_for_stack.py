"""Wait until every service of a Docker stack runs its current version.

Run on a Swarm manager after `docker stack deploy`: succeeds once each
replicated service has all its replicas running (past their health checks:
Swarm counts a task as running only once it is healthy) and no update is in
progress. Fails when an update that started after --since was rolled back or
paused, when a service's tasks keep failing, or when --timeout seconds pass
first. Needs the Docker SDK for Python
(python3-docker).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from typing import Any

import docker  # type: ignore[import-untyped]

# Update states that mean the new version was refused.
FAILED_STATES = {"rollback_completed", "rollback_paused", "paused"}
# Update states still in progress.
BUSY_STATES = {"updating", "rollback_started"}
# Tasks of one service that may fail during a deployment before it is taken
# for a crash loop (a first deployment has nothing to roll back to).
MAX_FAILED_TASKS = 5


def parse_time(value: str) -> float:
    """Docker's RFC 3339 timestamps (nanoseconds, Z) as Unix seconds."""
    head, _, fraction = value.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds + float("0." + (fraction or "0")[:6])


def check(client: Any, stack: str, since: float) -> tuple[list[str], list[str]]:
    """The services still converging, and the ones whose update failed."""
    pending: list[str] = []
    failed: list[str] = []
    services = client.services.list(filters={"label": f"com.docker.stack.namespace={stack}"})
    if not services:
        pending.append(f"no services in stack {stack} yet")
    for service in services:
        name = service.name
        status = service.attrs.get("UpdateStatus") or {}
        state = status.get("State")
        started = parse_time(status["StartedAt"]) if status.get("StartedAt") else 0.0
        if state in FAILED_STATES and started >= since:
            failed.append(f"{name}: update {state}: {status.get('Message', '')}")
            continue
        if state in BUSY_STATES:
            pending.append(f"{name}: {state}")
            continue
        tasks = service.tasks()
        crashed = [
            task
            for task in tasks
            if task["Status"]["State"] in ("failed", "rejected")
            and parse_time(task["Status"]["Timestamp"]) >= since
        ]
        if len(crashed) >= MAX_FAILED_TASKS:
            error = crashed[-1]["Status"].get("Err", "")
            failed.append(f"{name}: {len(crashed)} tasks failed since the deployment: {error}")
            continue
        mode = service.attrs["Spec"].get("Mode", {})
        if "Replicated" not in mode:
            continue
        wanted = mode["Replicated"].get("Replicas", 1)
        running = sum(
            1
            for task in tasks
            if task["DesiredState"] == "running" and task["Status"]["State"] == "running"
        )
        if running < wanted:
            pending.append(f"{name}: {running}/{wanted} running")
    return pending, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker-host", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--since", type=float, default=0.0, help="Unix time the deployment began")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    client = docker.DockerClient(base_url=args.docker_host)
    deadline = time.monotonic() + args.timeout
    while True:
        pending, failed = check(client, args.stack, args.since)
        if failed:
            print("failed, rolled back or paused:\n  " + "\n  ".join(failed), file=sys.stderr)
            return 1
        if not pending:
            print(f"stack {args.stack}: every service runs its current version")
            return 0
        if time.monotonic() > deadline:
            waiting = "\n  ".join(pending)
            print(f"still converging after {args.timeout:.0f}s:\n  {waiting}", file=sys.stderr)
            return 1
        time.sleep(3)


if __name__ == "__main__":
    sys.exit(main())
