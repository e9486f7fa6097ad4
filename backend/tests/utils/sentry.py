"""A stand-in for Sentry's ingestion endpoint on loopback: it takes the envelopes
the SDK's real transport posts (POST /api/<project>/envelope/, gzip or not) and
keeps them raw, so that a test can read their events and grep their bytes."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sentry_sdk


class Receiver:
    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                elif self.headers.get("Content-Encoding") == "br":
                    import brotli  # type: ignore[import-not-found]

                    body = brotli.decompress(body)
                if self.path.rstrip("/").endswith("/envelope"):
                    with receiver._lock:
                        receiver.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public@127.0.0.1:{self.server.server_address[1]}/1"

    def events(self) -> list[dict[str, Any]]:
        """The error events received: each envelope item of type "event"."""
        found = []
        with self._lock:
            envelopes = list(self.envelopes)
        for envelope in envelopes:
            lines = envelope.split(b"\n")
            # A header line, then per item: its header line and its payload line.
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if header and json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def raw(self) -> bytes:
        with self._lock:
            return b"\n".join(self.envelopes)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A running receiver; on leaving, the SDK is flushed and switched off."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        client = sentry_sdk.get_client()
        client.flush(timeout=5)
        client.close(timeout=5)
        switch_off()
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(5)


def switch_off() -> None:
    """No client, as before any `sentry_sdk.init`: nothing is captured or sent."""
    sentry_sdk.get_global_scope().set_client(None)


def flush() -> None:
    sentry_sdk.get_client().flush(timeout=5)
    time.sleep(0.05)
