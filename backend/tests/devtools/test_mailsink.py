"""The development mail sink, run as `make dev` runs it (`python -m app.devtools.mailsink`):
mail sent to its SMTP port shows up on its web page and in its folder."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from app.devtools.ports import LOOPBACK, free_port

BACKEND_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15.0


@dataclass
class Sink:
    process: subprocess.Popen[bytes]
    smtp_port: int
    web_port: int
    folder: Path

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        """Status, headers and body of a GET on the web page."""
        url = f"http://{LOOPBACK}:{self.web_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read().decode()

    def send(self, subject: str, text: str, html: str | None = None, bcc: str = "") -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = "Acme <noreply@acme.example.com>"
        message["To"] = "jane@example.com"
        message["Message-ID"] = make_msgid()
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        recipients = ["jane@example.com", *([bcc] if bcc else [])]
        with smtplib.SMTP(LOOPBACK, self.smtp_port, timeout=5) as smtp:
            smtp.send_message(message, to_addrs=recipients)

    def message_path(self, subject: str) -> str:
        """The web path of the message listed with `subject`."""
        _, _, index = self.get("/")
        pattern = rf'<a href="(/messages/[^"]+)">{re.escape(subject)}</a>'
        match = re.search(pattern, index)
        assert match is not None, f"{subject!r} is not listed:\n{index}"
        return match.group(1)


def wait_until_serving(sink: Sink) -> bool:
    """True once the web page answers (the SMTP server starts first); False when the
    process died, e.g. because a port was taken between choosing and binding it."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if sink.process.poll() is not None:
            return False
        try:
            sink.get("/")
        except OSError:
            time.sleep(0.05)
            continue
        return True
    raise AssertionError("the mail sink did not start in time")


@contextmanager
def running_sink(tmp_path: Path) -> Iterator[Sink]:
    log = tmp_path / "mailsink.log"
    for _ in range(3):
        smtp_port, web_port = free_port(), free_port()
        env = os.environ | {
            "MAIL_SINK_SMTP_PORT": str(smtp_port),
            "MAIL_SINK_WEB_PORT": str(web_port),
            "MAIL_SINK_DIR": str(tmp_path / "mail"),
        }
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.devtools.mailsink"],
                cwd=BACKEND_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        sink = Sink(process, smtp_port, web_port, tmp_path / "mail")
        if wait_until_serving(sink):
            break
    else:
        raise AssertionError(f"the mail sink did not start:\n{log.read_text()}")
    try:
        yield sink
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    with running_sink(tmp_path_factory.mktemp("mailsink")) as running:
        yield running


def test_mailsink_shows_message_text_with_clickable_links(sink: Sink) -> None:
    sink.send(
        "Reset <your> password",
        "Open https://app.example.com/reset-password?token=abc&next=1.\nThanks, <Acme>\n",
        html="<p>Open the link</p>",
    )

    status, _, index = sink.get("/")
    assert status == 200
    assert "Reset &lt;your&gt; password" in index
    assert "jane@example.com" in index

    status, _, page = sink.get(sink.message_path("Reset &lt;your&gt; password"))
    assert status == 200
    link = "https://app.example.com/reset-password?token=abc&amp;next=1"
    assert f'<a href="{link}">{link}</a>.' in page
    assert "Thanks, &lt;Acme&gt;" in page
    assert "Acme &lt;noreply@acme.example.com&gt;" in page


def test_mailsink_lists_newest_first(sink: Sink) -> None:
    sink.send("First of two", "one")
    sink.send("Second of two", "two")

    _, _, index = sink.get("/")

    assert index.index("Second of two") < index.index("First of two")


def test_mailsink_keeps_each_message_as_eml_file(sink: Sink) -> None:
    sink.send("Kept on disk", "stored text", bcc="hidden@example.com")

    kept = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sink.folder.glob("*.eml")
    ]
    (message,) = [message for message in kept if message["Subject"] == "Kept on disk"]
    assert isinstance(message, EmailMessage)
    assert message["X-Original-To"] == "jane@example.com, hidden@example.com"
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    assert body.get_content() == "stored text\n"

    path = sink.message_path("Kept on disk")
    status, headers, raw = sink.get(f"{path}.eml")
    assert status == 200
    assert headers["Content-Type"] == "message/rfc822"
    assert "Subject: Kept on disk" in raw


def test_mailsink_serves_html_part_without_scripts(sink: Sink) -> None:
    sink.send("With HTML", "plain", html="<p>Hello <b>there</b></p><script>alert(1)</script>")
    path = sink.message_path("With HTML")

    status, headers, html = sink.get(f"{path}.html")

    assert status == 200
    assert "<p>Hello <b>there</b></p>" in html
    assert headers["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/messages/20990101T000000000000Z-00000000000000000000000000000000",
        "/messages/../mailsink.log",
        "/messages/%2e%2e%2fmailsink.log",
        "/etc/passwd",
    ],
)
def test_mailsink_answers_not_found_for_unknown_path(sink: Sink, path: str) -> None:
    status, _, page = sink.get(path)

    assert status == 404
    assert "No such" in page


def test_mailsink_starts_empty_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with running_sink(tmp_path) as running:
        status, _, index = running.get("/")
        assert status == 200
        assert "No mail yet." in index

        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0
        with pytest.raises(OSError):
            smtplib.SMTP(LOOPBACK, running.smtp_port, timeout=2)
