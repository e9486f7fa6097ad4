"""kombu's filesystem transport (the embedded broker), writing messages atomically.

kombu 5.7 creates a message's file under its final name and then writes it: a
consumer polling the folder can take the file in between, read it empty, and
the worker stops on a JSONDecodeError (kombu issue #1551,
https://github.com/celery/kombu/issues/1551). Here a message is written under a
name no consumer looks at, then renamed into place, which is atomic on one
filesystem. Selected by `celery_config` for `filesystem://` URLs. It overrides
kombu's `Channel._put`: kombu is pinned to the minor version it was checked
against (pyproject.toml); tests/queue/test_filesystem_transport.py is its canary.
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
