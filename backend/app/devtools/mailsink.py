"""A mail sink for development: `python -m app.devtools.mailsink`.

An SMTP server on MAIL_SINK_HOST:MAIL_SINK_SMTP_PORT (default 127.0.0.1:1025)
accepts every message and keeps it as an .eml file in MAIL_SINK_DIR (default
backend/data/mail); nothing is delivered anywhere. A read-only web page on
http://MAIL_SINK_HOST:MAIL_SINK_WEB_PORT/ (default port 8025) lists the messages,
newest first, and shows each one's text part with its links clickable. In a
container MAIL_SINK_HOST is 0.0.0.0: the container's loopback is its own.
Why our own rather than MailDev: docs/development.md, "Mail in development".

It reads its settings from the environment itself: it is not part of the app,
and needs nothing of it (nor Flask), only aiosmtpd (the `dev` extra).
"""

from __future__ import annotations

import email
import email.policy
import html
import logging
import os
import re
import signal
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from app.core.logging import configure_logging

logger = logging.getLogger("mailsink")

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "mail"
# File names start with the time of arrival, so that names sort oldest first.
STAMP = "%Y%m%dT%H%M%S%fZ"
MESSAGE_ID = re.compile(r"\A\d{8}T\d{12}Z-[0-9a-f]{32}\Z")
LINK = re.compile(r"https?://[^\s<>\"']+")
# Punctuation that ends a sentence rather than the link before it.
LINK_TRAILER = ".,;:!?)]}"
# The HTML part of an email runs no script and loads nothing.
HTML_PART_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class SinkConfig:
    host: str
    smtp_port: int
    web_port: int
    folder: Path

    @classmethod
    def from_env(cls) -> SinkConfig:
        return cls(
            host=os.environ.get("MAIL_SINK_HOST") or "127.0.0.1",
            smtp_port=int(os.environ.get("MAIL_SINK_SMTP_PORT") or 1025),
            web_port=int(os.environ.get("MAIL_SINK_WEB_PORT") or 8025),
            folder=Path(os.environ.get("MAIL_SINK_DIR") or DEFAULT_DIR),
        )


# --- storage --------------------------------------------------------------------


class Mailbox:
    """The folder of .eml files: one per message, named `<arrival>-<random>.eml`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def store(self, content: bytes, recipients: list[str]) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_id = f"{datetime.now(UTC).strftime(STAMP)}-{uuid.uuid4().hex}"
        # Who it was for, as the envelope said (Bcc recipients appear only here).
        header = f"X-Original-To: {', '.join(recipients)}\n".encode()
        partial = self.folder / f".{message_id}.tmp"
        # CRLF ends lines on the wire only: files get the local line ends, as `mailbox` does.
        partial.write_bytes(header + content.replace(b"\r\n", b"\n"))
        # A rename is atomic: the web page never reads half a message.
        partial.replace(self.folder / f"{message_id}.eml")
        return message_id

    def ids(self) -> list[str]:
        """Newest first."""
        if not self.folder.is_dir():
            return []
        found = (path.stem for path in self.folder.glob("*.eml"))
        return sorted((name for name in found if MESSAGE_ID.match(name)), reverse=True)

    def path(self, message_id: str) -> Path | None:
        if not MESSAGE_ID.match(message_id):
            return None
        path = self.folder / f"{message_id}.eml"
        return path if path.is_file() else None

    def read(self, message_id: str) -> EmailMessage | None:
        path = self.path(message_id)
        if path is None:
            return None
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


class SinkHandler:
    """aiosmtpd handler: keep every message, accept it."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message_id = self.mailbox.store(envelope.original_content, envelope.rcpt_tos)
        message = self.mailbox.read(message_id)
        subject = header(message, "Subject") if message is not None else ""
        logger.info("kept %r for %s", subject, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted"


# --- web page -------------------------------------------------------------------


def received_at(message_id: str) -> str:
    stamp = datetime.strptime(message_id.split("-", 1)[0], STAMP).replace(tzinfo=UTC)
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def linkify(text: str) -> str:
    """HTML-escape `text`, turning each http(s) address into a link."""
    out: list[str] = []
    position = 0
    for match in LINK.finditer(text):
        url = match.group().rstrip(LINK_TRAILER)
        out.append(html.escape(text[position : match.start()]))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        position = match.start() + len(url)
    out.append(html.escape(text[position:]))
    return "".join(out)


def page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#1f2937}"
        "table{border-collapse:collapse}td,th{padding:.3em .8em;text-align:left;"
        "border-bottom:1px solid #e5e7eb}pre{white-space:pre-wrap;background:#f9fafb;"
        "padding:1em}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def header(message: EmailMessage, name: str) -> str:
    return str(message.get(name, ""))


def index_page(mailbox: Mailbox) -> str:
    rows = []
    for message_id in mailbox.ids():
        message = mailbox.read(message_id)
        if message is None:  # deleted meanwhile
            continue
        subject = header(message, "Subject") or "(no subject)"
        rows.append(
            f"<tr><td>{received_at(message_id)}</td>"
            f"<td>{html.escape(header(message, 'To') or header(message, 'X-Original-To'))}</td>"
            f'<td><a href="/messages/{message_id}">{html.escape(subject)}</a></td></tr>'
        )
    table = (
        "<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>No mail yet.</p>"
    )
    return page("Mail sink", f"<h1>Mail sink</h1>{table}")


def message_page(message_id: str, message: EmailMessage) -> str:
    fields = "".join(
        f"<tr><th>{name}</th><td>{html.escape(header(message, name))}</td></tr>"
        for name in ("From", "To", "X-Original-To", "Subject", "Date")
        if header(message, name)
    )
    text = message.get_body(preferencelist=("plain",))
    body = (
        f"<pre>{linkify(text.get_content())}</pre>"
        if isinstance(text, EmailMessage)
        else "<p>This message has no text part.</p>"
    )
    links = [f'<a href="/messages/{message_id}.eml">raw .eml</a>']
    if message.get_body(preferencelist=("html",)) is not None:
        links.insert(0, f'<a href="/messages/{message_id}.html">HTML part</a>')
    subject = header(message, "Subject") or "(no subject)"
    return page(
        subject,
        f'<p><a href="/">&larr; all messages</a></p><table>{fields}</table>{body}'
        f"<p>{' &middot; '.join(links)}</p>",
    )


class WebHandler(BaseHTTPRequestHandler):
    mailbox: Mailbox  # set on the subclass that `web_server` builds

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.reply(index_page(self.mailbox))
            return
        name = path.removeprefix("/messages/")
        message_id, _, extension = name.partition(".")
        message = self.mailbox.read(message_id) if path.startswith("/messages/") else None
        if message is None:
            self.reply(page("Not found", "<h1>No such message</h1>"), HTTPStatus.NOT_FOUND)
        elif extension == "":
            self.reply(message_page(message_id, message))
        elif extension == "eml":
            raw = self.mailbox.path(message_id)
            assert raw is not None
            self.reply(raw.read_bytes(), content_type="message/rfc822")
        elif extension == "html" and (part := message.get_body(preferencelist=("html",))):
            assert isinstance(part, EmailMessage)
            self.reply(part.get_content(), headers={"Content-Security-Policy": HTML_PART_POLICY})
        else:
            self.reply(page("Not found", "<h1>No such page</h1>"), HTTPStatus.NOT_FOUND)

    def reply(
        self,
        content: str | bytes,
        status: HTTPStatus = HTTPStatus.OK,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


# --- running --------------------------------------------------------------------


@contextmanager
def smtp_server(mailbox: Mailbox, host: str, port: int) -> Iterator[Controller]:
    controller = Controller(SinkHandler(mailbox), hostname=host, port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def web_server(mailbox: Mailbox, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("SinkWebHandler", (WebHandler,), {"mailbox": mailbox})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    # The same lines as the processes beside it in `make dev`.
    configure_logging("INFO", "text")
    # aiosmtpd narrates every SMTP command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    config = SinkConfig.from_env()
    mailbox = Mailbox(config.folder)
    # Stop cleanly on SIGTERM too (process managers send it), not only on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with (
        smtp_server(mailbox, config.host, config.smtp_port),
        web_server(mailbox, config.host, config.web_port) as web,
    ):
        logger.info(
            "mail sink: SMTP on %s:%d, messages on http://%s:%d/, kept in %s",
            config.host,
            config.smtp_port,
            config.host,
            config.web_port,
            config.folder,
        )
        with suppress(KeyboardInterrupt):
            web.serve_forever()


if __name__ == "__main__":
    main()
