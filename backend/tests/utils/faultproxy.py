"""A TCP proxy the tests control, to put a real server (PostgreSQL, Redis) under faults.

    with FaultProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test"
        ...                   # forwards, like a network that works
        proxy.blackhole()     # connections stay open, nothing gets through either way
        proxy.heal()          # what was held goes through, as a network that comes back

A blackhole is a partition, not a refusal: new connections are accepted and then
hear nothing, and bytes already on their way are held (not dropped), so clients
see a server that hangs, the worst case for a timeout. Healing delivers what was
held; a client that gave up in the meantime has closed its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

CHUNK = 64 * 1024


class FaultProxy:
    """Forwards 127.0.0.1:<port> to `host:port` in a thread of its own."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._open: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def blackhole(self) -> None:
        self._switch(forwarding=False)

    def heal(self) -> None:
        self._switch(forwarding=True)

    def _switch(self, *, forwarding: bool) -> None:
        async def apply() -> None:
            assert self._open is not None
            if forwarding:
                self._open.set()
            else:
                self._open.clear()

        asyncio.run_coroutine_threadsafe(apply(), self._loop).result(timeout=5)

    async def _start(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None and self._open is not None
        self._tasks.add(task)
        server_out: asyncio.StreamWriter | None = None
        try:
            # A new connection during a blackhole is accepted and then hears nothing.
            await self._open.wait()
            server_in, server_out = await asyncio.open_connection(*self._target)
            await asyncio.gather(
                self._pump(client_in, server_out), self._pump(server_in, client_out)
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for writer in (client_out, server_out):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        assert self._open is not None
        try:
            while data := await source.read(CHUNK):
                # Held, not dropped, while the network is "down".
                await self._open.wait()
                sink.write(data)
                await sink.drain()
        finally:
            with contextlib.suppress(OSError):
                sink.close()
