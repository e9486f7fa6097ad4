"""Brokers for tests that run a real worker.

Each test run keeps to a broker space of its own, so that no test sees another's
messages: a Redis database index (emptied before use), a RabbitMQ virtual host
(created for the run, deleted afterwards), or a folder for the embedded
filesystem broker. A broker that cannot be reached skips its tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from kombu import Connection, Queue
from kombu.exceptions import OperationalError

from app.devtools.ports import LOOPBACK, free_port
from app.queue import QUEUES

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Broker:
    """Where tasks travel: the URL and any setting both the API and the worker need."""

    url: str
    settings: dict[str, object] = field(default_factory=dict)


def redis_broker(db: int) -> Broker:
    """The test Redis server's database `db`, emptied; skips when Redis is unreachable."""
    parts = urlsplit(REDIS_URL)
    url = urlunsplit(parts._replace(path=f"/{db}"))
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.flushdb()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        pytest.skip(f"Redis at {parts.hostname}:{parts.port} is unreachable: {exc}")
    finally:
        client.close()
    return Broker(url)


def _rabbitmqctl(*args: str) -> bool:
    command = shutil.which("rabbitmqctl")
    if command is None:
        return False
    done = subprocess.run([command, *args], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


def _purge(url: str) -> None:
    with Connection(url, connect_timeout=2) as connection:
        for name in QUEUES:
            channel = connection.channel()
            try:
                Queue(name, channel=channel).purge()
            except connection.channel_errors:  # no such queue yet
                pass
            finally:
                if channel.is_open:
                    channel.close()


@contextmanager
def rabbitmq_broker() -> Iterator[Broker]:
    """A virtual host of its own on the test RabbitMQ server (when rabbitmqctl can make
    one; else the server's own, its queues purged); skips when RabbitMQ is unreachable."""
    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except (OperationalError, OSError) as exc:
        host = urlsplit(RABBITMQ_URL)
        pytest.skip(f"RabbitMQ at {host.hostname}:{host.port} is unreachable: {exc}")
    parts = urlsplit(RABBITMQ_URL)
    vhost = f"test_{uuid.uuid4().hex[:12]}"
    if _rabbitmqctl("add_vhost", vhost):
        try:
            if not _rabbitmqctl(
                "set_permissions", "-p", vhost, parts.username or "guest", *[".*"] * 3
            ):
                raise AssertionError(f"could not grant access to the vhost {vhost}")
            yield Broker(urlunsplit(parts._replace(path="/" + quote(vhost, safe=""))))
        finally:
            _rabbitmqctl("delete_vhost", vhost)
    else:
        _purge(RABBITMQ_URL)
        yield Broker(RABBITMQ_URL)


def filesystem_broker(folder: Path) -> Broker:
    """The embedded broker: messages are files in `folder`."""
    return Broker("filesystem://", {"BROKER_DATA_DIR": str(folder)})


class RedisServer:
    """A private redis-server that a test stops and starts again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> None:
        command = shutil.which("redis-server")
        if command is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                command,
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host=LOOPBACK, port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        log = (self.folder / "redis.log").read_text(errors="replace")
                        raise AssertionError(f"redis-server did not start:\n{log}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT)
        self.process = None


@contextmanager
def private_redis(folder: Path) -> Iterator[RedisServer]:
    """A running private Redis server on a free loopback port; stopped at the end."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
