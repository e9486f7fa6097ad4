"""Job round trips through the API and one worker on Redis: `python -m bench.jobs`.

Starts the API (gunicorn, its production settings) and one worker of default
concurrency on a throwaway PostgreSQL database and a Redis database of its own,
then measures, for 0-second `demo` jobs:

- the round trip, one job at a time: POST /api/v1/jobs/ until GET shows
  `succeeded` (p50, p99);
- sustained throughput: clients enqueue jobs for a while; jobs/s counts jobs
  finished (`succeeded`, seen through the API) per second of wall time.

Prints figures; asserts nothing. Loopback only; stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
import requests
from sqlalchemy.engine import make_url

BACKEND_DIR = Path(__file__).resolve().parents[1]
ROOT_DIR = BACKEND_DIR.parent
ADMIN = "bench@example.com"
PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway benchmark account)


def log(message: str) -> None:
    print(f"[bench.jobs] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    name = f"bench_jobs_{secrets.token_hex(4)}"
    admin = make_url(server_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def process(
    argv: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as output:
        proc = subprocess.Popen(  # noqa: S603 (our own commands)
            argv,
            cwd=BACKEND_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if callable(condition) and condition():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def start_job(session: requests.Session, base: str) -> int:
    response = session.post(f"{base}/jobs/", json={"kind": "demo", "params": {"seconds": 0}})
    response.raise_for_status()
    return int(response.json()["id"])


def job_state(session: requests.Session, base: str, job_id: int) -> str:
    response = session.get(f"{base}/jobs/{job_id}")
    response.raise_for_status()
    return str(response.json()["state"])


def round_trips(session: requests.Session, base: str, count: int) -> list[float]:
    """One job at a time, polled every millisecond until it succeeded."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        job_id = start_job(session, base)
        while job_state(session, base, job_id) != "succeeded":
            time.sleep(0.001)
        timings.append(time.perf_counter() - started)
    return timings


JOBS_LUA = """
wrk.method = "POST"
wrk.body = '{"kind": "demo", "params": {"seconds": 0}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
"""


def throughput(
    token: str, base: str, clients: int, seconds: float, db_url: str
) -> tuple[int, float]:
    """wrk enqueues jobs for `seconds` over `clients` connections; the clock stops
    when the database shows every one of them finished."""
    dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def count(where: str) -> int:
        with psycopg.connect(dsn) as connection:
            row = connection.execute(f"SELECT count(*) FROM jobs WHERE {where}").fetchone()  # noqa: S608
            return int(row[0]) if row else 0

    before = count("true")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(JOBS_LUA)
        script.flush()
        started = time.perf_counter()
        subprocess.run(  # noqa: S603
            ["wrk", "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "-s", script.name, f"{base}/jobs/"],  # noqa: S607
            env={**os.environ, "BENCH_TOKEN": token},
            check=True,
            capture_output=True,
        )
    wait_until(lambda: count("state <> 'succeeded'") == 0, 300, "every job to finish")
    return count("true") - before, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.jobs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    options = parser.parse_args(argv)

    pg_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    worker_venv = Path(os.environ.get("WORKER_VENV_DIR", ROOT_DIR / ".venv-worker"))
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    with throwaway_database(pg_url) as db_url, tempfile.TemporaryDirectory() as tmp:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
            "ENV_FILE": "/dev/null",
            "DATABASE_URL": db_url,
            "CELERY_BROKER_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIRST_SUPERUSER": ADMIN,
            "FIRST_SUPERUSER_PASSWORD": PASSWORD,
            "RATE_LIMIT_ENABLED": "false",
            "GUNICORN_ACCESS_LOG": "0",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "app", "prestart"],
            cwd=BACKEND_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
        api = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "app.web:create_app()",
        ]
        worker = [
            str(worker_venv / "bin" / "celery"),
            "-A",
            "worker.main",
            "worker",
            "--loglevel=WARNING",
            "-Q",
            "jobs",
            "--without-gossip",
            "--without-mingle",
        ]
        with (
            process(api, env, Path(tmp) / "api.log"),
            process(worker, env, Path(tmp) / "worker.log"),
        ):
            wait_until(
                lambda: requests.get(f"{base}/utils/health-check/", timeout=2).ok, 60, "the API"
            )
            with requests.Session() as session:
                token = session.post(
                    f"{base}/login/access-token", data={"username": ADMIN, "password": PASSWORD}
                ).json()["access_token"]
                session.headers["Authorization"] = f"Bearer {token}"
                # Warm up: the worker's pool and the API's connections.
                round_trips(session, base, 20)
                log(f"round trips: {options.round_trips} jobs, one at a time")
                timings = sorted(round_trips(session, base, options.round_trips))
            log(f"throughput: {options.clients} clients enqueue for {options.seconds:.0f}s")
            jobs, elapsed = throughput(token, base, options.clients, options.seconds, db_url)

    p50 = statistics.median(timings) * 1000
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
    print()
    print(
        "Jobs: 0-second demo jobs, API (gunicorn.conf.py) + 1 worker (default concurrency), Redis"
    )
    print(
        f"  round trip, enqueue to succeeded via the API: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        f"   (target: p50 < 50 ms)"
    )
    print(
        f"  sustained: {jobs} jobs in {elapsed:.1f} s = {jobs / elapsed:.0f} jobs/s"
        f"   (target: >= 300 jobs/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
