"""kombu's filesystem transport (the embedded broker), writing messages atomically.

kombu 5.7 creates a message's file under its final name and then writes it: a
consumer polling the folder can take the file in between, read it empty, and
the worker stops on a JSONDecodeError (kombu issue #1551,
https://github.com/celery/kombu/issues/1551). Here a message is written under a
name no consumer looks at, then renamed into place, which is atomic on one
filesystem. Selected by `celery_config` for `filesystem://` URLs. It overrides
kombu's `Channel._put`: kombu is pinned to the minor version it was checked
against (pyproject.toml); tests/queue/test_filesystem_transport.py is its canary.
It also waits for messages in shorter spells, so that a worker stops promptly.
"""

from __future__ import annotations

import os
import uuid
from contextlib import suppress
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

TRANSPORT = f"{__name__}:Transport"
# How long one wait for a message lasts (see Transport.drain_events).
STOP_CHECK_SECONDS = 0.25


class Channel(filesystem.Channel):
    # The parameters as kombu's filesystem channel names them (its own base names
    # the second one differently).
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        folder = self.data_folder_out
        # Consumers take only "<anything>.<queue>.msg"; ".<uuid>.part" is never one.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(folder, f".{uuid.uuid4()}.part")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))  # type: ignore[no-untyped-call]
            os.replace(partial, os.path.join(folder, name))
        except OSError as exc:
            with suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add a message to {folder!r}") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:  # type: ignore[override]
        """Wait at most STOP_CHECK_SECONDS when given a limit. The worker's loop
        calls this with a 2 s limit and checks for a stop request (Ctrl-C,
        SIGTERM) only between two calls: returning sooner lets it stop within a
        fraction of a second. Nothing is lost: the caller treats the timeout as
        "no message yet" and calls again."""
        if timeout is not None and timeout > STOP_CHECK_SECONDS:
            timeout = STOP_CHECK_SECONDS
        super().drain_events(connection, timeout=timeout)  # type: ignore[no-untyped-call]
