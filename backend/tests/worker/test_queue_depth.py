"""worker_queue_depth (app/workers/metrics.py) as a scrape reads it: the messages
waiting in the node's queues, and nothing, promptly, from a broker that hangs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.queue import RUN_JOB, TaskQueue
from app.workers import WorkerCelery
from app.workers.metrics import QUEUE_DEPTH_TIMEOUT, QueueDepth
from tests.conftest import make_settings
from tests.utils.brokers import filesystem_broker

QUEUES = ["jobs", "email"]


def depths(app: WorkerCelery) -> dict[str, float]:
    [family] = QueueDepth(app).collect()
    return {sample.labels["queue"]: sample.value for sample in family.samples}


def worker_app(tmp_path: Path, **settings: object) -> WorkerCelery:
    return WorkerCelery(
        make_settings(f"sqlite:///{tmp_path}/db", **settings), queues=QUEUES, runners={}
    )


def test_queue_depth_counts_the_messages_waiting_on_the_filesystem_broker(
    tmp_path: Path,
) -> None:
    broker = filesystem_broker(tmp_path / "broker")
    settings = make_settings(
        f"sqlite:///{tmp_path}/db", CELERY_BROKER_URL=broker.url, **broker.settings
    )
    queue = TaskQueue(settings)
    try:
        for job_id in range(3):
            queue.enqueue(RUN_JOB, job_id, queue="jobs")
    finally:
        queue.close()

    app = worker_app(tmp_path, CELERY_BROKER_URL=broker.url, **broker.settings)

    assert depths(app) == {"jobs": 3, "email": 0}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_queue_depth_gives_up_on_a_broker_that_never_answers(
    tmp_path: Path, silent_port: int
) -> None:
    app = worker_app(
        tmp_path,
        CELERY_BROKER_URL=f"redis://127.0.0.1:{silent_port}/0",
        BROKER_TIMEOUT=30,
    )
    started = time.monotonic()

    assert depths(app) == {}
    assert time.monotonic() - started < QUEUE_DEPTH_TIMEOUT + 1


def test_queue_depth_gives_up_at_once_on_a_broker_that_is_down(tmp_path: Path) -> None:
    """A refused connection is not retried: the scrape does not wait out its timeout,
    and no reader thread is left behind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed: connections are refused
    app = worker_app(tmp_path, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")
    before = set(threading.enumerate())
    started = time.monotonic()

    assert depths(app) == {}
    assert time.monotonic() - started < QUEUE_DEPTH_TIMEOUT / 2
    assert not set(threading.enumerate()) - before
