"""The embedded broker's transport: a consumer never sees a half-written message."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from kombu import Connection, Queue
from kombu.transport import filesystem

from app.queue.filesystem_transport import Transport

MESSAGES = 300


def exchange_messages(transport: type[filesystem.Transport], folder: Path) -> list[object]:
    """Put MESSAGES payloads while another thread takes them as fast as it can."""
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    received: list[object] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def consume() -> None:
        with Connection("filesystem://", transport=transport, transport_options=options) as conn:
            channel = conn.default_channel
            while len(received) < MESSAGES and not done.is_set():
                try:
                    received.append(channel._get("jobs"))
                except filesystem.Empty:
                    continue
                except Exception as exc:
                    errors.append(exc)
                    return

    consumer = threading.Thread(target=consume)
    consumer.start()
    try:
        with Connection("filesystem://", transport=transport, transport_options=options) as conn:
            channel = conn.default_channel
            for number in range(MESSAGES):
                channel._put("jobs", {"number": number, "body": "x" * 4096})
        consumer.join(timeout=30)
    finally:
        done.set()
        consumer.join()
    assert not errors, f"the consumer failed: {errors[0]!r}"
    return received


def test_consume_messages_while_they_are_written_reads_every_one_whole(tmp_path: Path) -> None:
    received = exchange_messages(Transport, tmp_path)

    assert sorted(message["number"] for message in received) == list(range(MESSAGES))  # type: ignore[index]
    assert not list(tmp_path.iterdir()), "a message or a partial file was left behind"


def test_a_wait_for_messages_returns_soon_so_a_stopping_worker_notices(tmp_path: Path) -> None:
    """The worker's loop waits 2 s at a time and checks for Ctrl-C in between:
    the transport answers "nothing yet" after a fraction of that, and a message
    put meanwhile is still delivered by the next wait."""
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    received: list[object] = []
    with Connection("filesystem://", transport=Transport, transport_options=options) as conn:
        queue = Queue("jobs", routing_key="jobs")
        consumer = conn.Consumer([queue], callbacks=[lambda body, message: received.append(body)])
        with consumer:
            started = time.monotonic()
            with pytest.raises(socket.timeout):
                conn.drain_events(timeout=2.0)
            waited = time.monotonic() - started
            conn.default_channel.basic_publish(
                conn.default_channel.prepare_message("hello"), exchange="", routing_key="jobs"
            )
            conn.drain_events(timeout=2.0)

    assert waited < 1.0, f"waited {waited:.2f} s for no message"
    assert received == ["hello"]
