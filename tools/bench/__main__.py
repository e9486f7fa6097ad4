"""Benchmark the API under load against a throwaway PostgreSQL database.

    python -m bench              the API's servers and the two ceilings (about 2 minutes)
    python -m bench --compare    also the other server settings, on /users/me and /items
    python -m bench --metrics-cost 3
                                 only /users/me with the API's metrics on and off,
                                 alternated 3 times: what they cost
    python -m bench --token-cost 3
                                 only /users/me with a JWT and with a personal
                                 access token, alternated 3 times on one server

It creates and migrates a database, seeds a user (in a group granting a
permission) with 100 items, starts each server on loopback, drives it with wrk
and prints requests/s, mean and p99 latency and errors, then the ratios of the
API to the minimal app. It asserts nothing about time: figures vary with the
machine. The database is dropped and every server stopped on the way out.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.devtools.ports import free_port
from bench.support import (
    TICKS,
    busy_ticks,
    children_seconds,
    stop_group,
    throwaway_database,
    ticks_by,
)

TOOLS_DIR = Path(__file__).resolve().parents[1]
BACKEND_DIR = TOOLS_DIR.parent / "backend"
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
API_APP = "app.web:create_app()"
EMAIL = "bench@example.com"
ITEMS = 100
ME_TARGET, ITEMS_TARGET, ME_P99_TARGET_MS = 0.70, 0.50, 150.0
# A measurement during which other processes used more of the machine than this
# is taken again (up to --retries times), and the least disturbed one is kept.
DISTURBED = 0.10


def log(message: str) -> None:
    print(f"\033[1;34m==>\033[0m {message}", file=sys.stderr, flush=True)


# --- options ----------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    postgres_url: str
    duration: int
    warmup: int
    connections: int
    threads: int
    retries: int
    compare: bool
    metrics_cost: int
    token_cost: int
    port: int


def parse_options(argv: list[str] | None) -> Options:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=env.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the throwaway database on (BENCH_POSTGRES_URL)",
    )
    for name, default, meaning in (
        ("duration", "10", "seconds of load per measurement"),
        ("warmup", "2", "seconds of load before each measurement, not counted"),
        ("connections", "64", "wrk's open connections"),
        ("threads", "2", "wrk's threads"),
    ):
        variable = f"BENCH_{name.upper()}"
        value = int(env.get(variable, default))
        parser.add_argument(f"--{name}", type=int, default=value, help=f"{meaning} ({variable})")
    parser.add_argument(
        "--retries",
        type=int,
        default=int(env.get("BENCH_RETRIES", "1")),
        help=f"times to measure again when other processes take over {DISTURBED * 100:.0f}%% "
        "of the CPU (BENCH_RETRIES)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        default=env.get("BENCH_COMPARE", "") not in ("", "0"),
        help="also measure the other server settings (BENCH_COMPARE=1)",
    )
    parser.add_argument(
        "--metrics-cost",
        type=int,
        metavar="ROUNDS",
        default=int(env.get("BENCH_METRICS_COST", "0")),
        help="instead: /users/me with METRICS_ENABLED on, then off, ROUNDS times "
        "(BENCH_METRICS_COST)",
    )
    parser.add_argument(
        "--token-cost",
        type=int,
        metavar="ROUNDS",
        default=int(env.get("BENCH_TOKEN_COST", "0")),
        help="instead: /users/me with a JWT, then with a personal access token, ROUNDS "
        "times on one server (BENCH_TOKEN_COST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(env.get("BENCH_PORT", "0")),
        help="the port the servers listen on; 0: any free one (BENCH_PORT)",
    )
    args = parser.parse_args(argv)
    return Options(
        postgres_url=args.postgres_url,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        retries=args.retries,
        compare=args.compare,
        metrics_cost=args.metrics_cost,
        token_cost=args.token_cost,
        port=args.port,
    )


# --- servers ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Server:
    """A way of serving an app: a command line with `{port}` in it."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


def gunicorn(name: str, app: str, *options: str) -> Server:
    argv = (sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:{port}", *options, app)
    return Server(name, argv)


def api(name: str, workers: int, threads: int) -> Server:
    """The API as it is served (app/web/server.py: granian), given its worker settings."""
    return Server(
        name,
        (sys.executable, "-m", "app.web.server", "--host", "127.0.0.1", "--port", "{port}"),
        {"WEB_CONCURRENCY": str(workers), "WEB_THREADS": str(threads)},
    )


def gunicorn_api(workers: int, threads: int = 1) -> Server:
    """The API under gunicorn (sync workers, or gthread with threads), access lines logged."""
    if threads > 1:
        name = f"gunicorn gthread, {workers} workers x {threads} threads"
    else:
        name = f"gunicorn sync, {workers} workers"
    options = ("--workers", str(workers), "--threads", str(threads), "--access-logfile", "-")
    return gunicorn(name, API_APP, *options)


# Every server runs 2 worker processes, the ceilings included, so that the ratios
# compare like with like on any machine (one per core on the 2-core reference).
# The API as `make api` and the image serve it, with the settings
# docs/performance.md chose...
API = api("the API: granian, 2 workers x 2 threads", 2, 2)
# ...and under gunicorn, the contender it was chosen over.
GUNICORN = gunicorn_api(2)
# ...and without its Prometheus metrics (app/web/metrics.py), for what they cost.
API_NO_METRICS = Server(
    "the API without metrics", API.argv, {**API.env, "METRICS_ENABLED": "false"}
)
HELLO = gunicorn("ceiling: hello-world Flask", "bench.hello:create_app()", "--workers", "2")
MINIMAL = gunicorn("ceiling: minimal Flask app", "bench.minimal:create_app()", "--workers", "2")


def contenders() -> list[Server]:
    """The other settings compared on the API (--compare)."""
    return [
        gunicorn_api(3),
        gunicorn_api(2, threads=2),
        gunicorn_api(2, threads=4),
        api("granian, 2 workers x 1 thread", 2, 1),
        api("granian, 2 workers x 4 threads", 2, 4),
    ]


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: str | None = None


def call(url: str, endpoint: Endpoint) -> tuple[int, bytes]:
    data = endpoint.form.encode() if endpoint.form is not None else None
    headers = dict(endpoint.headers)
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Running:
    base: str
    process: subprocess.Popen[bytes]


@contextmanager
def running(
    server: Server, env: Mapping[str, str], logs: Path, probe: Endpoint, port: int = 0
) -> Iterator[Running]:
    """Start the server in a session of its own, wait until `probe` answers, stop it."""
    port = port or free_port()
    log_path = logs / f"server-{port}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [arg.replace("{port}", str(port)) for arg in server.argv],
            cwd=BACKEND_DIR,
            env={**env, **server.env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{server.name} exited:\n{log_path.read_text()[-3000:]}")
            try:
                if call(base + probe.path, probe)[0] < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{server.name} did not answer in 30 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield Running(base, process)
    finally:
        stop_group(process)


# --- load -------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rps: float
    mean_ms: float
    p99_ms: float
    errors: int
    cpu_us: float  # CPU per request: server, PostgreSQL and wrk together
    other_cpu: float  # share of the machine other processes used meanwhile


def check(base: str, endpoint: Endpoint) -> None:
    """One request by hand first: the load must measure answers of 200, not errors."""
    status, body = call(base + endpoint.path, endpoint)
    if status != 200:
        raise SystemExit(f"{endpoint.label}: expected 200, got {status}: {body[:300]!r}")


def wrk(server: Running, endpoint: Endpoint, seconds: int, options: Options) -> Result:
    argv = [
        "wrk",
        *("-t", str(options.threads), "-c", str(options.connections), "-d", f"{seconds}s"),
        *("--timeout", "10s", "--latency", "-s", str(WRK_SCRIPT)),
    ]
    for name, value in endpoint.headers.items():
        argv += ["-H", f"{name}: {value}"]
    database = (make_url(os.environ["DATABASE_URL"]).database or "").encode()

    def part_of(group: int, command: bytes) -> str | None:
        # The server's processes and the PostgreSQL backends serving the bench
        # database (their process titles name it).
        return "mine" if group == server.process.pid or database in command else None

    busy, own, wrk_before = busy_ticks(), ticks_by(part_of)["mine"], children_seconds()
    output = subprocess.run(
        [*argv, server.base + endpoint.path],
        env={**os.environ, "BENCH_FORM": endpoint.form or ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    busy = busy_ticks() - busy
    own = ticks_by(part_of)["mine"] - own
    mine = own / TICKS + children_seconds() - wrk_before
    line = next(line for line in output.splitlines() if line.startswith("BENCH_RESULT "))
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    elapsed = data["duration_us"] / 1e6
    return Result(
        rps=data["requests"] / elapsed,
        mean_ms=data["mean_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=sum(data[k] for k in ("status", "connect", "read", "write", "timeout")),
        cpu_us=1e6 * mine / max(data["requests"], 1),
        other_cpu=max(0.0, busy / TICKS - mine) / (elapsed * (os.cpu_count() or 1)),
    )


def measure(
    server: Server, endpoints: list[Endpoint], env: Mapping[str, str], logs: Path, options: Options
) -> dict[str, Result]:
    results: dict[str, Result] = {}
    with running(server, env, logs, endpoints[0], options.port) as live:
        for endpoint in endpoints:
            check(live.base, endpoint)
            if options.warmup:
                wrk(live, endpoint, options.warmup, options)
            result = wrk(live, endpoint, options.duration, options)
            for _ in range(options.retries):
                if result.other_cpu <= DISTURBED:
                    break
                log(f"other processes took {result.other_cpu:.0%} of the CPU: measuring again")
                again = wrk(live, endpoint, options.duration, options)
                result = min(result, again, key=lambda r: r.other_cpu)
            results[endpoint.label] = result
            log(
                f"{server.name}, {endpoint.label}: {result.rps:.0f} req/s, "
                f"p99 {result.p99_ms:.1f} ms, {result.errors} errors"
            )
    return results


# --- the database -----------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    token: str
    login_form: str
    personal_token: str


def seed() -> Seed:
    """Migrate with the app's own command, then add the user, a group and the items."""
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=BACKEND_DIR, check=True)
    # Imported here, once the environment names the database.
    from app.core.config import Settings
    from app.models import Group, GroupPermission, Item
    from app.runtime import Runtime
    from app.services import personal_tokens, users
    from app.services.permissions import Permission

    runtime = Runtime.from_settings(Settings())
    password = secrets.token_urlsafe(12)
    try:
        with runtime.session_factory() as session:
            user = users.create_user(
                session=session,
                hasher=runtime.hasher,
                email=EMAIL,
                password=password,
                full_name="Bench User",
            )
            session.add(
                Group(
                    name="staff",
                    grants=[GroupPermission(permission=Permission.USERS_READ.value)],
                    members=[user],
                )
            )
            session.add_all(
                Item(title=f"Item {n}", description=f"Description of item {n}", owner_id=user.id)
                for n in range(ITEMS)
            )
            session.flush()
            personal = personal_tokens.create_token(
                session=session,
                codec=runtime.personal_tokens,
                user=user,
                name="bench",
                permissions=[Permission.USERS_READ.value],
                expires_in_days=1,
            )
            session.commit()
            token = runtime.tokens.create_access_token(user_id=user.id, stamp=user.security_stamp)
        # Planner statistics, as autovacuum keeps them on a live database: without
        # them PostgreSQL plans the joins for tables of unknown size.
        with runtime.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
    finally:
        runtime.engine.dispose()
    log(f"seeded {EMAIL} (group staff: users:read) with {ITEMS} items")
    return Seed(
        token=token,
        login_form=urllib.parse.urlencode({"username": EMAIL, "password": password}),
        personal_token=personal.token,
    )


# --- report -----------------------------------------------------------------

Rows = list[tuple[str, str, Result]]


def table(rows: Rows) -> str:
    head = (
        f"{'server':<40} {'endpoint':<32} {'req/s':>7} {'avg ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'CPU us/req':>10} {'other CPU':>9}"
    )
    lines = [head, "-" * len(head)]
    for server, endpoint, r in rows:
        lines.append(
            f"{server:<40} {endpoint:<32} {r.rps:>7.0f} {r.mean_ms:>8.1f} {r.p99_ms:>8.1f} "
            f"{r.errors:>6} {r.cpu_us:>10.0f} {r.other_cpu:>9.0%}"
        )
    return "\n".join(lines)


def ratios(name: str, me: Result, items: Result, minimal: Result) -> list[str]:
    me_ratio, items_ratio = me.rps / minimal.rps, items.rps / minimal.rps
    me_ok = me_ratio >= ME_TARGET and me.p99_ms < ME_P99_TARGET_MS and me.errors == 0
    items_ok = items_ratio >= ITEMS_TARGET
    return [
        f"{name:<40} /users/me {me_ratio:5.2f} ({'met' if me_ok else 'MISSED'})"
        f"   /items {items_ratio:5.2f} ({'met' if items_ok else 'MISSED'})"
    ]


def metrics_cost(options: Options, env: Mapping[str, str], me: Endpoint, logs: Path) -> None:
    """/users/me with metrics on then off, `options.metrics_cost` times: alternated,
    so that whatever else the machine does weighs on both alike."""
    rows: Rows = []
    shares: list[float] = []
    for round_ in range(1, options.metrics_cost + 1):
        on = measure(API, [me], env, logs, options)[me.label]
        off = measure(API_NO_METRICS, [me], env, logs, options)[me.label]
        rows += [
            (f"{API.name} #{round_}", me.label, on),
            (f"{API_NO_METRICS.name} #{round_}", me.label, off),
        ]
        shares.append(on.rps / off.rps)
    print()
    print(table(rows))
    print()
    print("req/s with metrics / without, each round: " + ", ".join(f"{r:.3f}" for r in shares))
    print(f"median {statistics.median(shares):.3f}")


def token_cost(
    options: Options, env: Mapping[str, str], jwt: Endpoint, token: Endpoint, logs: Path
) -> None:
    """/users/me with a JWT then a personal access token, `options.token_cost` times
    on one server: alternated, so that whatever else the machine does weighs on
    both alike."""
    rows: Rows = []
    shares: list[float] = []
    with running(API, env, logs, jwt, options.port) as live:
        for round_ in range(1, options.token_cost + 1):
            results: dict[str, Result] = {}
            for endpoint in (jwt, token):
                check(live.base, endpoint)
                if options.warmup:
                    wrk(live, endpoint, options.warmup, options)
                results[endpoint.label] = wrk(live, endpoint, options.duration, options)
                rows.append((f"{API.name} #{round_}", endpoint.label, results[endpoint.label]))
                log(f"round {round_}, {endpoint.label}: {results[endpoint.label].rps:.0f} req/s")
            shares.append(results[token.label].rps / results[jwt.label].rps)
    print()
    print(table(rows))
    print()
    print("req/s with a personal access token / with a JWT, each round: ")
    print(", ".join(f"{r:.3f}" for r in shares) + f"; median {statistics.median(shares):.3f}")


def report(options: Options, results: dict[Server, dict[str, Result]]) -> None:
    minimal = next(iter(results[MINIMAL].values()))
    rows = [(s.name, label, r) for s, by_label in results.items() for label, r in by_label.items()]
    print()
    print(
        f"{os.cpu_count()} cores; wrk -t{options.threads} -c{options.connections} "
        f"-d{options.duration}s after a {options.warmup} s warm-up; PostgreSQL on loopback."
    )
    print("CPU us/req: server, PostgreSQL and wrk together. Other CPU: the machine's")
    print("share used meanwhile by other processes (high values disturb the figures).")
    print()
    print(table(rows))
    print()
    print(
        f"Ratios to the minimal app's req/s. Targets: /users/me >= {ME_TARGET:.2f} with "
        f"p99 < {ME_P99_TARGET_MS:.0f} ms and no errors; /items >= {ITEMS_TARGET:.2f}."
    )
    for server, by_label in results.items():
        if server in (HELLO, MINIMAL):
            continue
        me, items = by_label["GET /api/v1/users/me"], by_label["GET /api/v1/items/?limit=20"]
        print("\n".join(ratios(server.name, me, items, minimal)))


# --- main -------------------------------------------------------------------


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)  # so that the clean-up below runs
    started = time.monotonic()
    results: dict[Server, dict[str, Result]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as scratch,
        throwaway_database(options.postgres_url) as database_url,
    ):
        # For this process (the seeding) and the servers alike.
        os.environ.update(
            {
                "ENV_FILE": str(Path(scratch) / "none.env"),  # the repository's .env plays no part
                "ENVIRONMENT": "local",
                "DATABASE_URL": database_url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "ACCESS_TOKEN_EXPIRE_MINUTES": "60",
                "RATE_LIMIT_ENABLED": "false",
                # The servers run in backend/, and gunicorn imports the ceilings from bench.
                "PYTHONPATH": str(TOOLS_DIR),
            }
        )
        env = dict(os.environ)
        data = seed()
        auth = {"Authorization": f"Bearer {data.token}"}
        me = Endpoint("GET /api/v1/users/me", "/api/v1/users/me", auth)
        items = Endpoint("GET /api/v1/items/?limit=20", "/api/v1/items/?limit=20", auth)
        login = Endpoint(
            "POST /api/v1/login/access-token", "/api/v1/login/access-token", form=data.login_form
        )
        if options.token_cost:
            personal = {"Authorization": f"Bearer {data.personal_token}"}
            with_token = Endpoint("GET /api/v1/users/me (token)", "/api/v1/users/me", personal)
            with_jwt = Endpoint("GET /api/v1/users/me (JWT)", "/api/v1/users/me", auth)
            token_cost(options, env, with_jwt, with_token, Path(scratch))
            print(f"\nDone in {time.monotonic() - started:.0f} s.")
            return 0
        if options.metrics_cost:
            metrics_cost(options, env, me, Path(scratch))
            print(f"\nDone in {time.monotonic() - started:.0f} s.")
            return 0
        plan: list[tuple[Server, list[Endpoint]]] = [
            (API, [me, items, login]),
            (GUNICORN, [me, items, login]),
            (HELLO, [Endpoint("GET / (hello world)", "/")]),
            (MINIMAL, [Endpoint("GET /me (same work as /users/me)", "/me", auth)]),
        ]
        if options.compare:
            plan += [(server, [me, items]) for server in contenders()]
        log(
            f"{len(plan)} servers: wrk -t{options.threads} -c{options.connections} "
            f"-d{options.duration}s per endpoint, after a {options.warmup} s warm-up"
        )
        for server, endpoints in plan:
            results[server] = measure(server, endpoints, env, Path(scratch), options)
    report(options, results)
    print(f"\nDone in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
