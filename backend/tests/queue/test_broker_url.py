"""The broker URL as Celery gets it: kombu warned "No hostname was supplied" at every
connection to the embedded broker (and the tests' in-memory one), in every start's
log; they get a host they ignore."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.queue import TaskQueue, celery_config
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("memory://", "memory://localhost//"),
        ("filesystem://", "filesystem://localhost//"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("amqp://guest:guest@rabbit:5672//", "amqp://guest:guest@rabbit:5672//"),
    ],
)
def test_broker_url_has_a_host(given: str, used: str, tmp_path: Path) -> None:
    settings = make_settings("sqlite://", CELERY_BROKER_URL=given, BROKER_DATA_DIR=str(tmp_path))
    assert celery_config(settings)["broker_url"] == used


def test_connections_name_a_host_when_the_environment_gives_the_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in a container: the setting comes from the environment, where Celery
    # reads it too (and prefers it to broker_url).
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    queue = TaskQueue(make_settings("sqlite://"))
    for connection in (queue.celery.connection_for_write(), queue.celery.connection_for_read()):
        with connection:
            assert connection.hostname == "localhost"
    queue.close()
