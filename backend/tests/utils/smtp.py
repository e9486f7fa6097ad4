"""A real SMTP server on loopback that keeps what it receives, for tests that read mail."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from app.devtools.ports import LOOPBACK, free_port

RESET_LINK = re.compile(r"https?://\S+/reset-password\?token=([A-Za-z0-9_\-]+)")
VERIFY_LINK = re.compile(r"https?://\S+/verify-email\?token=([A-Za-z0-9_\-]+)")


class Mailbox:
    """The messages an SMTP server received, parsed; safe to read from the test thread."""

    def __init__(self) -> None:
        self.port = 0  # where the server listens, once started
        self._messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._arrived:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The first `count` messages, once that many have arrived."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(f"expected {count} message(s), got {len(self._messages)}")
            return list(self._messages[:count])


@contextmanager
def running_controller(handler: Any, **smtp_options: Any) -> Iterator[Controller]:
    """An aiosmtpd server for `handler` on a free loopback port, stopped afterwards."""
    for attempt in range(5):
        controller = Controller(handler, hostname=LOOPBACK, port=free_port(), **smtp_options)
        try:
            controller.start()
        except OSError:  # the port was taken between choosing and binding it
            if attempt == 4:
                raise
            continue
        break
    try:
        yield controller
    finally:
        controller.stop()


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run an SMTP server on a free loopback port; yield its mailbox (`port` set)."""
    mailbox = Mailbox()
    with running_controller(mailbox) as controller:
        mailbox.port = controller.port
        yield mailbox


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a multipart/alternative message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None, "the message has no text/plain part"
    assert html is not None, "the message has no text/html part"
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def reset_token(message: EmailMessage) -> str:
    """The token of the password reset link in the message's text part."""
    text, _ = text_and_html(message)
    match = RESET_LINK.search(text)
    assert match is not None, f"no reset link in:\n{text}"
    return match.group(1)


def verification_token(message: EmailMessage) -> str:
    """The token of the email verification link in the message's text part."""
    text, _ = text_and_html(message)
    match = VERIFY_LINK.search(text)
    assert match is not None, f"no verification link in:\n{text}"
    return match.group(1)
