"""The worker's integration tests: a real worker process (from its Flask-free
virtualenv), real brokers and a real SMTP server.

They run once, not once per database backend, on a database of their own:
PostgreSQL when TEST_POSTGRES_URL is set (a worker and the API writing at the
same time, as in production), else a SQLite file. Every test starts from empty
tables (the suite's `db` fixture); the workers write to the same database.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.db import migrate
from app.runtime import Runtime
from app.web import create_app
from tests.conftest import make_settings
from tests.utils.brokers import Broker, filesystem_broker
from tests.utils.databases import throwaway_database
from tests.utils.worker import Worker, running_worker, workers_since

_SETUP_STARTED = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    backend = "postgresql" if os.environ.get("TEST_POSTGRES_URL") else "sqlite"
    with throwaway_database(backend, tmp_path_factory.mktemp("worker-db")) as url:
        yield url


# `runtime` and `app` are session-scoped in the suite's conftest: defined again
# here so that these tests get their own, on the database above.
@pytest.fixture(scope="session")
def runtime(database_url: str) -> Iterator[Runtime]:
    rt = Runtime.from_settings(make_settings(database_url))
    migrate.upgrade(rt.engine)
    yield rt
    rt.engine.dispose()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> Flask:
    flask_app = create_app(runtime=runtime)
    flask_app.testing = True
    return flask_app


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-logs")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Broker:
    """The module's broker: files in a folder of its own (modules testing the other
    brokers define their own)."""
    return filesystem_broker(tmp_path_factory.mktemp("broker"))


@pytest.fixture(scope="module")
def worker(broker: Broker, runtime: Runtime, log_dir: Path) -> Iterator[Worker]:
    """The default worker module on the module's broker, for its tests."""
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=log_dir,
        settings=broker.settings,
    ) as started:
        yield started


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_SETUP_STARTED] = time.monotonic()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test shows the log of every worker it could have used."""
    report = yield
    if report.failed:
        for worker in workers_since(item.stash.get(_SETUP_STARTED, 0.0)):
            report.sections.append((f"worker {worker.name} log", worker.log_tail()))
    return report
