"""The fault tier: the real PostgreSQL, MariaDB and Redis servers behind a proxy the
tests control (tests/utils/faultproxy.py), made to hang and then healed.

What it proves: while a dependency hangs, every request is answered within
`ANSWER_WITHIN` seconds (503, or served without the dependency), and service comes
back by itself once the dependency does. The apps here run with the default
timeouts, so the defaults are what is proven. A server that is not configured
(TEST_POSTGRES_URL, TEST_MARIADB_URL) or not reachable (TEST_REDIS_URL) skips.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.engine import make_url

from app.db import migrate
from app.runtime import Runtime
from tests.conftest import make_settings
from tests.utils.brokers import redis_broker
from tests.utils.databases import SERVER_ENV, throwaway_database
from tests.utils.faultproxy import FaultProxy

# The bound the issue of a hanging dependency sets: no request waits longer.
ANSWER_WITHIN = 10.0
T = TypeVar("T")


@dataclass(frozen=True)
class Proxied:
    """A server reached through a fault proxy: `url` goes through it."""

    url: str
    proxy: FaultProxy
    # The same server, reached directly: to look at it while the proxy is down.
    direct_url: str


def within(seconds: float, call: Callable[[], T]) -> tuple[T, float]:
    """`call()`'s result and how long it took; fails (instead of hanging the suite)
    when it takes longer than `seconds`."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test's thread
            failure.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - started
    if thread.is_alive():
        pytest.fail(f"no answer within {seconds:g} s")
    if failure:
        raise failure[0]
    return outcome[0], elapsed


def _through(url: str, proxy: FaultProxy) -> str:
    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


@pytest.fixture(params=[name for name, env in SERVER_ENV.items()])
def proxied_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Proxied]:
    """A new database, migrated, on each configured server, reached through a proxy."""
    backend = str(request.param)
    if not os.environ.get(SERVER_ENV[backend]):
        pytest.skip(f"{SERVER_ENV[backend]} is not set")
    with throwaway_database(backend, tmp_path) as url:
        direct = Runtime.from_settings(make_settings(url))
        migrate.upgrade(direct.engine)
        direct.engine.dispose()
        parsed = make_url(url)
        with FaultProxy(parsed.host or "127.0.0.1", parsed.port or _default_port(backend)) as proxy:
            yield Proxied(_through(url, proxy), proxy, url)


def _default_port(backend: str) -> int:
    return {"postgresql": 5432, "mariadb": 3306}[backend]


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a new SQLite database, for faults elsewhere than the database
    (the suite's own `runtime` would repeat each test on every database server)."""
    runtime = Runtime.from_settings(make_settings(f"sqlite:///{tmp_path / 'app.db'}"))
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def proxied_redis() -> Iterator[Proxied]:
    """The test Redis server (database 12, emptied; skips when unreachable) through a proxy."""
    url = redis_broker(12).url
    parsed = make_url(url)
    with FaultProxy(parsed.host or "127.0.0.1", parsed.port or 6379) as proxy:
        yield Proxied(_through(url, proxy), proxy, url)
