"""The email task (`email.send`) run in-process: what each kind of email says, its
delivery to a real SMTP server on loopback (plain, STARTTLS, implicit TLS, login),
and what happens when the server is down or refuses: retries with exponential
backoff, then a clear log line."""

from __future__ import annotations

import logging
import random
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from celery.exceptions import Retry
from celery.result import EagerResult
from celery.signals import task_retry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.devtools.ports import LOOPBACK
from app.models import EmailVerificationToken, PasswordResetToken
from app.queue import RECOVER_PASSWORD, SEND_EMAIL, VERIFY_EMAIL
from app.runtime import Runtime
from app.services import auth, users, verification
from app.services.errors import Unavailable
from tests.utils.factories import make_user
from tests.utils.smtp import (
    Mailbox,
    reset_token,
    running_controller,
    text_and_html,
    verification_token,
)
from tests.utils.unreachable import closed_port
from tests.worker.tasks.conftest import WorkerAppFactory

SITE = "https://app.example.com"
TO = "jane@example.com"
SMTP_LOGIN = "mailer"
SMTP_SECRET = "mail-server-password"


@dataclass(frozen=True)
class Arrival:
    """How one message reached the server."""

    tls: bool
    login: str | None


class Recorder(Mailbox):
    """A mailbox that notes how each message came in, and that can answer the first
    `refuse` messages with a temporary failure (451), as a busy server does."""

    def __init__(self, refuse: int = 0) -> None:
        super().__init__()
        self.refuse = refuse
        self.refused = 0
        self.arrivals: list[Arrival] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 Try again later"
        tls = server.transport.get_extra_info("ssl_object") is not None
        login = session.auth_data if session.authenticated else None
        self.arrivals.append(Arrival(tls=tls, login=login))
        return await super().handle_DATA(server, session, envelope)


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    if auth_data.login != SMTP_LOGIN.encode() or auth_data.password != SMTP_SECRET.encode():
        # handled=False: the server answers "535 Authentication credentials invalid".
        return AuthResult(success=False, handled=False)
    return AuthResult(success=True, auth_data=SMTP_LOGIN)


@contextmanager
def serve(recorder: Recorder, **smtp_options: Any) -> Iterator[Recorder]:
    """Run an aiosmtpd server with `smtp_options` on a free loopback port."""
    with running_controller(recorder, **smtp_options) as controller:
        recorder.port = controller.port
        yield recorder


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the TLS tests need the openssl command"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={LOOPBACK}", "-addext", f"subjectAltName=IP:{LOOPBACK}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Certificate(cert=cert, key=key)


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """The certificate, trusted by the process as a CA would be (OpenSSL reads
    SSL_CERT_FILE when the sender builds its TLS context)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    return certificate


@pytest.fixture
def retries() -> Iterator[list[Retry]]:
    """Every retry the email task schedules, in order (`when` is the countdown)."""
    seen: list[Retry] = []

    def note(sender: Any = None, reason: Any = None, **_: Any) -> None:
        if sender is not None and sender.name == SEND_EMAIL:
            seen.append(reason)

    task_retry.connect(note, weak=False)
    yield seen
    task_retry.disconnect(note)


def smtp_settings(port: int, **overrides: object) -> dict[str, object]:
    return {
        "EMAIL_BACKEND": "smtp",
        "SMTP_HOST": LOOPBACK,
        "SMTP_PORT": port,
        "SMTP_TLS": False,
        "SMTP_TIMEOUT": 5.0,
        "PROJECT_NAME": "Acme",
        # A trailing slash must not double up in links.
        "FRONTEND_HOST": f"{SITE}/",
        "EMAILS_FROM_EMAIL": "noreply@acme.example.com",
        **overrides,
    }


def send(
    worker_app: WorkerAppFactory,
    settings: dict[str, object],
    kind: str,
    context: dict[str, Any],
    to: str = TO,
    **apply_options: Any,
) -> EagerResult:
    app = worker_app(**settings)
    return app.tasks[SEND_EMAIL].apply(args=[kind, to, context], **apply_options)


def delivered(
    worker_app: WorkerAppFactory, kind: str, context: dict[str, Any], **overrides: object
) -> EmailMessage:
    """Send one email of `kind` through a plain SMTP server; return what arrived."""
    with serve(Recorder()) as server:
        result = send(worker_app, smtp_settings(server.port, **overrides), kind, context)
        assert result.state == "SUCCESS", result.result
        (message,) = server.wait_for(1)
    return message


def gave_up_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "worker.tasks.email" and record.levelno == logging.ERROR
    ]


# --- what each email says ------------------------------------------------------


def test_send_email_delivers_reset_link_in_text_and_html(worker_app: WorkerAppFactory) -> None:
    message = delivered(
        worker_app,
        "reset_password",
        {"token": "tok_123-abc"},
        PASSWORD_RESET_TOKEN_EXPIRE_MINUTES=45,
    )

    link = f"{SITE}/reset-password?token=tok_123-abc"
    text, html = text_and_html(message)
    assert message["To"] == TO
    assert message["From"] == "Acme <noreply@acme.example.com>"
    assert message["Subject"] == "Acme: reset your password"
    sent_at = parsedate_to_datetime(message["Date"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert reset_token(message) == "tok_123-abc"
    assert link in text
    assert f'href="{link}"' in html
    assert "within 45 minutes" in text
    assert "within 45 minutes" in html
    assert f"Acme account {TO}" in text
    assert "//reset-password" not in text.replace("https://", "")


def test_send_email_delivers_verification_link_in_text_and_html(
    worker_app: WorkerAppFactory,
) -> None:
    message = delivered(
        worker_app, "verify_email", {"token": "tok_456-def"}, EMAIL_VERIFICATION_EXPIRE_HOURS=36
    )

    link = f"{SITE}/verify-email?token=tok_456-def"
    text, html = text_and_html(message)
    assert message["Subject"] == "Acme: verify your email address"
    assert verification_token(message) == "tok_456-def"
    assert link in text
    assert f'href="{link}"' in html
    assert "within 36 hours" in text
    assert "within 36 hours" in html
    assert TO in text


def test_send_email_greets_new_user_by_name(worker_app: WorkerAppFactory) -> None:
    message = delivered(worker_app, "new_account", {"full_name": "Jane Doe"})

    text, html = text_and_html(message)
    assert message["Subject"] == "Acme: your new account"
    assert text.startswith("Hello Jane Doe,")
    assert "Hello Jane Doe," in html
    assert f"created for {TO}" in text
    assert f"{SITE}/login" in text
    assert f'href="{SITE}/login"' in html


def test_send_email_greets_new_user_without_name(worker_app: WorkerAppFactory) -> None:
    message = delivered(worker_app, "new_account", {"full_name": ""})

    text, html = text_and_html(message)
    assert text.startswith("Hello,")
    assert "<p>Hello,</p>" in html


def test_send_email_escapes_values_in_html_only(worker_app: WorkerAppFactory) -> None:
    message = delivered(
        worker_app, "new_account", {"full_name": "Tom & <b>Jerry</b>"}, PROJECT_NAME="R&D <Tools>"
    )

    text, html = text_and_html(message)
    assert message["Subject"] == "R&D <Tools>: your new account"
    assert text.startswith("Hello Tom & <b>Jerry</b>,")
    assert "An account on R&D <Tools> has been created" in text
    assert "Hello Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;," in html
    assert "An account on R&amp;D &lt;Tools&gt; has been created" in html
    assert "<b>Jerry" not in html
    assert "<Tools>" not in html


def test_send_email_delivers_test_email(worker_app: WorkerAppFactory) -> None:
    message = delivered(worker_app, "test_email", {})

    text, html = text_and_html(message)
    assert message["Subject"] == "Acme: test email"
    assert "This is a test email from Acme." in text
    assert f"If you can read it, {SITE} sends email correctly." in text
    assert "This is a test email from Acme." in html


def test_send_email_logs_message_with_console_backend(
    worker_app: WorkerAppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with serve(Recorder()) as server:
        settings = smtp_settings(server.port, EMAIL_BACKEND="console")
        result = send(worker_app, settings, "reset_password", {"token": "tok-console"})
        assert server.messages == []

    assert result.state == "SUCCESS"
    assert f"{SITE}/reset-password?token=tok-console" in caplog.text


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_send_email_with_console_backend_outside_local_logs_no_link_or_token(
    worker_app: WorkerAppFactory, caplog: pytest.LogCaptureFixture, environment: str
) -> None:
    """Without a mail server, a deployment logs that a message was not sent, never
    what it says: a reset link in the logs is a way into the account."""
    caplog.set_level(logging.INFO)
    settings = smtp_settings(1, EMAIL_BACKEND="console", ENVIRONMENT=environment)
    result = send(worker_app, settings, "reset_password", {"token": "tok-console"})

    assert result.state == "SUCCESS"
    assert "tok-console" not in caplog.text
    assert "reset-password" not in caplog.text
    assert TO in caplog.text and "not sent" in caplog.text


def test_recover_password_sends_a_working_reset_link_to_an_active_account(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session
) -> None:
    user = make_user(db, runtime, email="Recover.Me@example.com")
    with serve(Recorder()) as server:
        app = worker_app(runtime.settings.DATABASE_URL, **smtp_settings(server.port))
        # Another spelling of the address reaches the same account.
        result = app.tasks[RECOVER_PASSWORD].apply(args=["RECOVER.ME@example.com"])
        [message] = server.messages

    assert result.state == "SUCCESS"
    assert message["To"] == user.email
    token = reset_token(message)
    changed = auth.reset_password(
        session=db, hasher=runtime.hasher, token=token, new_password="a-brand-new-secret"
    )
    assert changed.id == user.id


@pytest.mark.parametrize("who", ["unknown", "inactive", "malformed"])
def test_recover_password_sends_nothing_without_an_active_account(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session, who: str
) -> None:
    inactive = make_user(db, runtime, is_active=False)
    address = {"unknown": "nobody@example.com", "inactive": inactive.email, "malformed": "x"}[who]
    with serve(Recorder()) as server:
        app = worker_app(runtime.settings.DATABASE_URL, **smtp_settings(server.port))
        result = app.tasks[RECOVER_PASSWORD].apply(args=[address])
        assert server.messages == []
    assert result.state == "SUCCESS"
    assert db.scalar(select(func.count()).select_from(PasswordResetToken)) == 0


def test_verify_address_sends_a_working_link_to_an_account_waiting_for_it(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session
) -> None:
    user = users.create_user(
        session=db,
        hasher=runtime.hasher,
        email="Verify.Me@example.com",
        password="a-long-enough-secret",
        email_verified=False,
    )
    db.commit()
    with serve(Recorder()) as server:
        app = worker_app(runtime.settings.DATABASE_URL, **smtp_settings(server.port))
        # Another spelling of the address reaches the same account.
        result = app.tasks[VERIFY_EMAIL].apply(args=["VERIFY.ME@example.com"])
        [message] = server.messages

    assert result.state == "SUCCESS"
    assert message["To"] == user.email
    verified = verification.verify_email(session=db, token=verification_token(message))
    assert (verified.user.id, verified.user.email_verified) == (user.id, True)


@pytest.mark.parametrize("who", ["unknown", "verified", "inactive", "malformed", "other_id"])
def test_verify_address_sends_nothing_without_an_account_waiting(
    worker_app: WorkerAppFactory, runtime: Runtime, db: Session, who: str
) -> None:
    verified = make_user(db, runtime)
    waiting = users.create_user(
        session=db,
        hasher=runtime.hasher,
        email="waiting@example.com",
        password="a-long-enough-secret",
        email_verified=False,
        is_active=who != "inactive",
    )
    db.commit()
    address = {"unknown": "nobody@example.com", "verified": verified.email, "malformed": "x"}.get(
        who, waiting.email
    )
    # With an id, only that account's link is sent (the signup's and the email change's).
    user_id = verified.id if who == "other_id" else None
    with serve(Recorder()) as server:
        app = worker_app(runtime.settings.DATABASE_URL, **smtp_settings(server.port))
        result = app.tasks[VERIFY_EMAIL].apply(args=[address, user_id])
        assert server.messages == []
    assert result.state == "SUCCESS"
    assert db.scalar(select(func.count()).select_from(EmailVerificationToken)) == 0


def test_send_email_fails_without_retry_for_unknown_kind(
    worker_app: WorkerAppFactory, retries: list[Retry], caplog: pytest.LogCaptureFixture
) -> None:
    with serve(Recorder()) as server:
        result = send(worker_app, smtp_settings(server.port), "birthday", {})
        assert server.messages == []

    assert result.state == "FAILURE"
    assert isinstance(result.result, ValueError)
    assert retries == []
    assert gave_up_lines(caplog) == [
        f"gave up on the birthday email to {TO} after 1 attempt: unknown email kind: birthday"
    ]


# --- failures: retries with backoff, then a clear log ---------------------------


def test_send_email_retries_with_doubling_backoff_then_gives_up_when_server_down(
    worker_app: WorkerAppFactory,
    retries: list[Retry],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each backoff is drawn at random below a bound that doubles; always drawing the
    # bound itself makes the bounds visible.
    monkeypatch.setattr(random, "randrange", lambda stop: stop - 1)
    with closed_port() as port:
        settings = smtp_settings(port, EMAIL_MAX_RETRIES=4)
        result = send(worker_app, settings, "reset_password", {"token": "tok"})

    assert result.state == "FAILURE"
    assert isinstance(result.result, Unavailable)
    assert [retry.when for retry in retries] == [2, 4, 8, 16]
    assert all(isinstance(retry.exc, Unavailable) for retry in retries)
    (line,) = gave_up_lines(caplog)
    assert line.startswith(
        f"gave up on the reset_password email to {TO} after 5 attempts: "
        "The mail server is unavailable"
    )
    assert "Connection refused" in line


def test_send_email_draws_backoff_below_doubling_bound(
    worker_app: WorkerAppFactory, retries: list[Retry]
) -> None:
    with closed_port() as port:
        settings = smtp_settings(port, EMAIL_MAX_RETRIES=6)
        result = send(worker_app, settings, "test_email", {})

    assert result.state == "FAILURE"
    assert len(retries) == 6
    for attempt, retry in enumerate(retries):
        assert 0 <= retry.when <= 2 * 2**attempt


def test_send_email_caps_backoff_at_ten_minutes(
    worker_app: WorkerAppFactory, retries: list[Retry], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "randrange", lambda stop: stop - 1)
    with closed_port() as port:
        settings = smtp_settings(port, EMAIL_MAX_RETRIES=10)
        # The tenth attempt: its uncapped backoff would be 2 * 2**9 = 1024 s.
        result = send(worker_app, settings, "test_email", {}, retries=9)

    assert result.state == "FAILURE"
    assert [retry.when for retry in retries] == [600]


def test_send_email_gives_up_at_once_when_retries_are_off(
    worker_app: WorkerAppFactory, retries: list[Retry], caplog: pytest.LogCaptureFixture
) -> None:
    with closed_port() as port:
        result = send(worker_app, smtp_settings(port, EMAIL_MAX_RETRIES=0), "test_email", {})

    assert result.state == "FAILURE"
    assert retries == []
    (line,) = gave_up_lines(caplog)
    assert line.startswith(f"gave up on the test_email email to {TO} after 1 attempt: ")


def test_send_email_delivers_once_after_temporary_refusals(
    worker_app: WorkerAppFactory, retries: list[Retry], caplog: pytest.LogCaptureFixture
) -> None:
    with serve(Recorder(refuse=2)) as server:
        settings = smtp_settings(server.port, EMAIL_MAX_RETRIES=3)
        result = send(worker_app, settings, "reset_password", {"token": "tok-third-time"})
        assert result.state == "SUCCESS"
        (message,) = server.wait_for(1)

    assert server.refused == 2
    assert len(server.messages) == 1
    assert len(retries) == 2
    assert reset_token(message) == "tok-third-time"
    assert gave_up_lines(caplog) == []


# --- SMTP connection settings -------------------------------------------------


def test_send_email_logs_in_with_smtp_credentials(worker_app: WorkerAppFactory) -> None:
    recorder = Recorder()
    with serve(recorder, authenticator=check_login, auth_require_tls=False):
        settings = smtp_settings(
            recorder.port, SMTP_USER=SMTP_LOGIN, SMTP_PASSWORD=SMTP_SECRET, EMAIL_MAX_RETRIES=0
        )
        result = send(worker_app, settings, "test_email", {})
        assert result.state == "SUCCESS", result.result
        recorder.wait_for(1)

    assert recorder.arrivals == [Arrival(tls=False, login=SMTP_LOGIN)]


def test_send_email_gives_up_at_once_on_wrong_smtp_password(
    worker_app: WorkerAppFactory, retries: list[Retry], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    with serve(recorder, authenticator=check_login, auth_require_tls=False):
        settings = smtp_settings(
            recorder.port, SMTP_USER=SMTP_LOGIN, SMTP_PASSWORD="wrong-password", EMAIL_MAX_RETRIES=3
        )
        result = send(worker_app, settings, "test_email", {})

    # A 5xx refusal is final: retrying with the same password would not help.
    assert result.state == "FAILURE"
    assert recorder.messages == []
    assert retries == []
    (line,) = gave_up_lines(caplog)
    assert "535" in line


def test_send_email_upgrades_with_starttls_and_logs_in(
    worker_app: WorkerAppFactory, trusted: Certificate
) -> None:
    recorder = Recorder()
    with serve(
        recorder,
        tls_context=trusted.server_context(),
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
    ):
        settings = smtp_settings(
            recorder.port,
            SMTP_TLS=True,
            SMTP_USER=SMTP_LOGIN,
            SMTP_PASSWORD=SMTP_SECRET,
            EMAIL_MAX_RETRIES=0,
        )
        result = send(worker_app, settings, "test_email", {})
        assert result.state == "SUCCESS", result.result
        recorder.wait_for(1)

    assert recorder.arrivals == [Arrival(tls=True, login=SMTP_LOGIN)]


def test_send_email_connects_with_implicit_tls(
    worker_app: WorkerAppFactory, trusted: Certificate
) -> None:
    recorder = Recorder()
    with serve(recorder, ssl_context=trusted.server_context()):
        settings = smtp_settings(recorder.port, SMTP_SSL=True, EMAIL_MAX_RETRIES=0)
        result = send(worker_app, settings, "test_email", {})
        assert result.state == "SUCCESS", result.result
        recorder.wait_for(1)

    assert recorder.arrivals == [Arrival(tls=True, login=None)]


def test_send_email_never_sends_in_clear_when_server_lacks_starttls(
    worker_app: WorkerAppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    with serve(recorder, authenticator=check_login, auth_require_tls=False):
        settings = smtp_settings(
            recorder.port,
            SMTP_TLS=True,
            SMTP_USER=SMTP_LOGIN,
            SMTP_PASSWORD=SMTP_SECRET,
            EMAIL_MAX_RETRIES=0,
        )
        result = send(worker_app, settings, "test_email", {})

    assert result.state == "FAILURE"
    assert recorder.messages == []
    (line,) = gave_up_lines(caplog)
    assert "STARTTLS" in line


def test_send_email_refuses_untrusted_certificate(
    worker_app: WorkerAppFactory,
    certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    recorder = Recorder()
    with serve(recorder, tls_context=certificate.server_context(), require_starttls=True):
        settings = smtp_settings(recorder.port, SMTP_TLS=True, EMAIL_MAX_RETRIES=0)
        result = send(worker_app, settings, "test_email", {})

    assert result.state == "FAILURE"
    assert recorder.messages == []
    (line,) = gave_up_lines(caplog)
    assert "CERTIFICATE_VERIFY_FAILED" in line
