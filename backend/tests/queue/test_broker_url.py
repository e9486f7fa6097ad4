"""The broker URL as Celery gets it: kombu warned "No hostname was supplied" at every
connection to the embedded broker (and the tests' in-memory one), in every start's
log; they get a host they ignore."""

from __future__ import annotations

import logging
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


def test_connecting_to_the_in_memory_broker_warns_nothing(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a container: the setting comes from the environment, where Celery
    # reads it too (and prefers it to broker_url).
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    queue = TaskQueue(make_settings("sqlite://"))
    with caplog.at_level(logging.WARNING):
        assert queue.ping()
    queue.close()
    assert not [record for record in caplog.records if record.name.startswith("kombu")]
