"""kombu's Redis transport, keeping one Redis client per channel.

kombu 5.7's Redis channel wraps its connection pool in a new `redis.Redis` for
every command it sends outside its consumer loop (`Channel.conn_or_acquire` in
kombu/transport/redis.py): each publish, and each message a worker takes and
acknowledges. With redis-py 7, building one costs more CPU than the command
itself (docs/performance.md). A client is only a thread-safe handle on the pool,
so the channel keeps one for as long as its pool lives. Selected by
`celery_config` for `redis://` and `rediss://` URLs.

It overrides a method kombu does not document: kombu is pinned to the minor
version it was checked against (pyproject.toml), and
tests/queue/test_redis_transport.py keeps a canary that fails when kombu's own
channel stops building a client per command (then this override can go) or this
one stops keeping its client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis

TRANSPORT = f"{__name__}:Transport"


class Channel(redis.Channel):
    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        # After a reconnection the channel has a new pool: the client follows it.
        if self._shared_client is None or self._shared_client.connection_pool is not self.pool:
            self._shared_client = self._create_client()  # type: ignore[no-untyped-call]
        yield self._shared_client


class Transport(redis.Transport):
    Channel = Channel
