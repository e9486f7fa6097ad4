"""Typed domain errors; the web layer maps each to one HTTP status in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


class ServiceError(Exception):
    """Base class: `message` is safe to show to the client; `errors` names the
    fields at fault, when some are; `fields` are more members of the answer's body."""

    def __init__(
        self,
        message: str,
        errors: dict[str, str] | None = None,
        *,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.fields = fields or {}


class InvalidInput(ServiceError):
    """The request is well-formed but a value breaks a rule (422)."""


class BadRequest(ServiceError):
    """The operation cannot be done as asked (400): wrong password, used token."""


class AuthenticationFailed(ServiceError):
    """No valid credentials (401)."""


class PermissionDenied(ServiceError):
    """Authenticated but not allowed (403)."""


class MfaRequired(PermissionDenied):
    """The password was right; the login goes on at /login/mfa with this token."""

    def __init__(self, mfa_token: str) -> None:
        super().__init__(
            "Enter the code from your authenticator app",
            fields={"mfa_required": True, "mfa_token": mfa_token},
        )


class EmailVerificationRequired(PermissionDenied):
    """The password was right, but the account's address is not verified yet."""

    def __init__(self) -> None:
        super().__init__(
            "Verify your email address first: follow the link we sent you",
            fields={"email_verification_required": True},
        )


class NotFound(ServiceError):
    """Missing, or not visible to this user (404)."""


class Conflict(ServiceError):
    """A unique value is taken (409); `errors` names the field that holds it."""


class Unavailable(ServiceError):
    """A dependency (database, broker, mail server) is down (503)."""


def flush_unique(session: Session, message: str, *, field: str | None = None) -> None:
    """Flush, turning a unique-constraint race (two requests taking the same value
    at once, past the service's own check) into a Conflict naming `field`."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(message, {field: message} if field else None) from exc
