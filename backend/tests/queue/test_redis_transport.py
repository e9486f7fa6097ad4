"""The Redis transport: one client per channel's pool, messages as kombu's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kombu import Connection
from kombu.transport import redis as kombu_redis

from app.core.config import Settings
from app.queue import celery_config, redis_transport
from tests.utils import brokers

REDIS_DB = 14


@pytest.fixture
def channel() -> Iterator[redis_transport.Channel]:
    broker = brokers.redis_broker(REDIS_DB)
    with Connection(broker.url, transport=redis_transport.Transport) as connection:
        channel = connection.default_channel
        assert isinstance(channel, redis_transport.Channel)
        yield channel


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("redis://127.0.0.1:6379/0", redis_transport.TRANSPORT),
        ("rediss://127.0.0.1:6380/0", redis_transport.TRANSPORT),
        ("amqp://guest:guest@127.0.0.1:5672//", None),
    ],
)
def test_redis_urls_take_the_transport(url: str, transport: str | None) -> None:
    settings = Settings(_env_file=None, CELERY_BROKER_URL=url)
    assert celery_config(settings)["broker_transport"] == transport


def test_the_channel_keeps_one_client_for_its_pool(channel: redis_transport.Channel) -> None:
    clients = set()
    for number in range(5):
        with channel.conn_or_acquire() as client:
            clients.add(id(client))
        channel._put("jobs", {"body": number})
    assert len(clients) == 1
    assert [channel._get("jobs")["body"] for _ in range(5)] == list(range(5))


def test_a_new_pool_gets_a_new_client(channel: redis_transport.Channel) -> None:
    with channel.conn_or_acquire() as first:
        pass
    channel._disconnect_pools()  # what kombu does when the connection is lost
    with channel.conn_or_acquire() as second:
        assert second is not first
        assert second.connection_pool is channel.pool
        assert second.ping()


def test_a_given_client_is_used_as_is(channel: redis_transport.Channel) -> None:
    own = channel._create_client()
    with channel.conn_or_acquire(own) as client:
        assert client is own


def test_kombu_would_build_a_client_each_time(channel: redis_transport.Channel) -> None:
    """The reason for the transport: when kombu stops doing it, drop the module."""
    with (
        kombu_redis.Channel.conn_or_acquire(channel) as first,
        kombu_redis.Channel.conn_or_acquire(channel) as second,
    ):
        assert first is not second
