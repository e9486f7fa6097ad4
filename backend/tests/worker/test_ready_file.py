"""WORKER_READY_FILE: a worker creates it once it consumes its queues, which is what
`make dev` in containers checks (compose/compose.dev.yaml); without it, nothing."""

from __future__ import annotations

from pathlib import Path

from celery.signals import worker_ready

from app.kinds import ml
from app.workers import create_worker_app
from tests.conftest import make_settings


class Worker:
    """What the signal's sender carries that the handler reads: its app."""

    def __init__(self, app: object) -> None:
        self.app = app


def test_ready_worker_creates_the_file_and_another_apps_does_not(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    settings = make_settings("sqlite://", WORKER_READY_FILE=ready)
    app = create_worker_app(
        queues=[ml.QUEUE], runners={ml.TRAIN_CLASSIFIER: lambda job: None}, settings=settings
    )
    # Another app's worker getting ready is not this one's.
    worker_ready.send(sender=Worker(object()))
    assert not ready.exists()
    worker_ready.send(sender=Worker(app))
    assert ready.exists()


def test_without_the_setting_no_file_is_made(tmp_path: Path) -> None:
    settings = make_settings("sqlite://")
    app = create_worker_app(
        queues=[ml.QUEUE], runners={ml.TRAIN_CLASSIFIER: lambda job: None}, settings=settings
    )
    worker_ready.send(sender=Worker(app))
    assert settings.WORKER_READY_FILE is None and list(tmp_path.iterdir()) == []
