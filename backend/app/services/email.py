"""Outgoing email: rendering from templates and delivery over SMTP (or the log).

Templates live in `app/templates/email/<name>.txt` and `<name>.html` (Jinja2).
The "console" backend logs each message instead of sending it, for development;
outside ENVIRONMENT=local it logs only that a message was not sent.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core.config import Settings
from app.db.base import utcnow
from app.services.errors import ServiceError, Unavailable

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "email"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self._env = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, subject: str, context: dict[str, Any]) -> RenderedEmail:
        return RenderedEmail(
            subject=subject,
            text=self._env.get_template(f"{name}.txt").render(context),
            html=self._env.get_template(f"{name}.html").render(context),
        )


class EmailRejected(ServiceError):
    """The mail server refused for good (a 5xx reply: unknown recipient, bad
    credentials): trying again would not help."""


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


class EmailSender:
    """Builds a MIME message (text + HTML alternative) and delivers it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def build(self, to: str, email: RenderedEmail) -> EmailMessage:
        settings = self._settings
        message = EmailMessage()
        message["Subject"] = email.subject
        message["From"] = formataddr(
            (settings.EMAILS_FROM_NAME or settings.PROJECT_NAME, str(settings.EMAILS_FROM_EMAIL))
        )
        message["To"] = to
        # Required by RFC 5322; smtplib doesn't add it, and spam filters punish its absence.
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain=str(settings.EMAILS_FROM_EMAIL).split("@")[-1])
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    def send(self, to: str, email: RenderedEmail) -> None:
        message = self.build(to, email)
        if self._settings.email_backend == "console":
            if self._settings.ENVIRONMENT == "local":
                logger.info(
                    "Email (console backend, not sent)\nTo: %s\nSubject: %s\n\n%s",
                    to,
                    email.subject,
                    email.text,
                )
            else:
                # Only in development may the text reach the log: it can hold a
                # password-reset link, a way into the account for whoever reads logs.
                logger.warning(
                    "Email to %s (%s) not sent: no mail server (SMTP_HOST); its text is "
                    "withheld from the log",
                    to,
                    email.subject,
                )
            return
        try:
            self._deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("Sending email to %s failed: %s", to, exc)
            if _is_permanent(exc):
                raise EmailRejected("The mail server refused the message") from exc
            raise Unavailable("The mail server is unavailable") from exc

    def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        host = settings.SMTP_HOST or "localhost"
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.SMTP_SSL:
            smtp = smtplib.SMTP_SSL(
                host, settings.SMTP_PORT, timeout=settings.SMTP_TIMEOUT, context=context
            )
        else:
            smtp = smtplib.SMTP(host, settings.SMTP_PORT, timeout=settings.SMTP_TIMEOUT)
        with smtp:
            if settings.SMTP_TLS and not settings.SMTP_SSL:
                smtp.starttls(context=context)
            if settings.SMTP_USER:
                password = (
                    settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else ""
                )
                smtp.login(settings.SMTP_USER, password)
            smtp.send_message(message)


# Each kind of email the project sends: its template name and subject.
SUBJECTS = {
    "reset_password": "reset your password",
    "new_account": "your new account",
    "test_email": "test email",
    "verify_email": "verify your email address",
}


def render_email(
    renderer: EmailRenderer, settings: Settings, *, kind: str, to: str, context: dict[str, Any]
) -> RenderedEmail:
    """Render one email of a known kind; `context` holds only JSON values, as it
    travels through the broker."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown email kind: {kind}")
    values = {
        "project_name": settings.PROJECT_NAME,
        "site": settings.FRONTEND_HOST.rstrip("/"),
        "email": to,
        **context,
    }
    if kind == "reset_password":
        values["link"] = f"{values['site']}/reset-password?token={context['token']}"
        values["valid_minutes"] = settings.PASSWORD_RESET_TOKEN_EXPIRE_MINUTES
    if kind == "verify_email":
        values["link"] = f"{values['site']}/verify-email?token={context['token']}"
        values["valid_hours"] = settings.EMAIL_VERIFICATION_EXPIRE_HOURS
    return renderer.render(kind, f"{settings.PROJECT_NAME}: {SUBJECTS[kind]}", values)
