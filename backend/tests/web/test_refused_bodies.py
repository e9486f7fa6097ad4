"""A body over the limit, on the real server: refused with the contract's 413 once
it has been received (app/web/payload.py), so the connection ends cleanly and a
proxy forwards the 413 instead of a 502 (the server used to answer at once and
close on the unread rest, which the kernel turns into a reset)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator

import pytest
import requests

from tests.utils.server import api_server, dev_proxy

LOGIN = "/api/v1/login/access-token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Twice the default limit (1 MiB), in the pieces a client would send it in.
PIECE = b"u" * 64 * 1024
PIECES = 32
TRIES = 15


def body_pieces() -> Iterator[bytes]:
    yield b"username="
    for _ in range(PIECES):
        yield PIECE


BODY = b"".join(body_pieces())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("refused-bodies")
    env = {
        "ENVIRONMENT": "local",
        "SECRET_KEY": "refused-bodies-test-secret-key-long-enough",
        "DATABASE_URL": f"sqlite:///{folder}/db",
        "RATE_LIMIT_ENABLED": "false",
        "WEB_CONCURRENCY": "1",
    }
    with api_server(env=env) as (base, _):
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/utils/health-check/", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the API server did not start"
            time.sleep(0.2)
        yield base


@pytest.mark.parametrize("chunked", [False, True], ids=["announced", "chunked"])
def test_connection_stays_usable_after_a_body_over_the_limit(server: str, chunked: bool) -> None:
    """The whole body was read: the same connection answers the next request."""
    host, port = server.removeprefix("http://").split(":")
    for _ in range(TRIES):
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            if chunked:
                connection.request("POST", LOGIN, body=body_pieces(), headers=FORM)
            else:
                connection.request("POST", LOGIN, body=BODY, headers=FORM)
            refused = connection.getresponse()
            refused.read()
            connection.request("GET", "/api/v1/utils/health-check/")
            after = connection.getresponse()
            after.read()
        finally:
            connection.close()

        assert (refused.status, after.status) == (413, 200)


@pytest.fixture(scope="module")
def proxied(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    api_port = int(server.rsplit(":", 1)[1])
    with dev_proxy(
        api_port=api_port, frontend_port=api_port, cwd=tmp_path_factory.mktemp("traefik")
    ) as base:
        yield base


@pytest.mark.parametrize("chunked", [False, True], ids=["announced", "chunked"])
def test_body_over_the_limit_is_413_through_the_proxy(proxied: str, chunked: bool) -> None:
    statuses = []
    for _ in range(TRIES * 2):
        answer = requests.post(
            proxied + LOGIN, data=body_pieces() if chunked else BODY, headers=FORM, timeout=30
        )
        statuses.append(answer.status_code)
        if answer.status_code == 413:
            assert answer.json()["message"]

    assert set(statuses) == {413}
