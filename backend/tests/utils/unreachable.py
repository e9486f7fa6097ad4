"""An app whose database cannot be reached: its server refuses every connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from app.runtime import Runtime
from app.web import create_app
from tests.conftest import make_settings


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port held bound but never listening: connecting is refused at once,
    and nothing else can take the port while it is held."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextmanager
def app_without_database() -> Iterator[tuple[Flask, Runtime]]:
    """An app (and its runtime) pointed at a PostgreSQL server that isn't there."""
    with closed_port() as port:
        runtime = Runtime.from_settings(
            make_settings(f"postgresql://postgres@127.0.0.1:{port}/app", DATABASE_POOL_SIZE=1)
        )
        try:
            yield create_app(runtime=runtime), runtime
        finally:
            runtime.engine.dispose()
