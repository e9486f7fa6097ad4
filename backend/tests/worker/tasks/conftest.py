"""Worker tasks run in-process: each test builds the worker's Celery app on its own
settings and calls `app.tasks[name].apply(...)`, which runs the real task (retries
included) without a broker or a worker process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import current_app
from worker.main import WorkerCelery, create_celery_app

from tests.conftest import make_settings

WorkerAppFactory = Callable[..., WorkerCelery]


@pytest.fixture
def worker_app(tmp_path: Path) -> Iterator[WorkerAppFactory]:
    """Builds worker apps: `worker_app(database_url=None, **setting_overrides)`.
    Without a database URL the app gets a SQLite file of its own (unused by email)."""
    previous = current_app._get_current_object()
    built: list[WorkerCelery] = []

    def build(database_url: str | None = None, **overrides: object) -> WorkerCelery:
        settings = make_settings(database_url or f"sqlite:///{tmp_path / 'worker.db'}", **overrides)
        app = create_celery_app(settings)
        # What `celery worker` does at start-up: import the task modules it lists.
        app.loader.import_default_modules()
        built.append(app)
        return app

    yield build
    for app in built:
        app.dispose()
        app.close()
    # Building a Celery app makes it the process's current one: give that back.
    previous.set_current()
