"""Users: accounts, their administration, and each user's own profile."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, Field

from app.core import passwords
from app.services.permissions import Permission

from .common import PRINTABLE, Input, Output, Page, printable


def _email_pattern() -> str:
    """The documents' pattern for an address: printable, and not at a special-use
    domain (.test, .local, .invalid...), which `format: email` allows but
    email-validator refuses (no mail reaches them). Documentation only: pydantic's
    regex engine has no look-ahead, and the service's email-validator enforces it."""
    labels = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name)
        for name in SPECIAL_USE_DOMAIN_NAMES
    )
    return rf"^(?!.*@(?:[^@]*\.)?(?:{labels})\.?$){PRINTABLE[1:]}"


# At most 254 characters: the longest address SMTP carries (RFC 5321), as the
# service's email-validator checks it.
Email = Annotated[
    str,
    printable(min_length=3, max_length=254),
    Field(
        json_schema_extra={"format": "email", "pattern": _email_pattern()},
        examples=["jane@example.com"],
    ),
]


def _not_common(password: str) -> str:
    if passwords.is_common(password):
        raise ValueError(passwords.TOO_COMMON)
    return password


# A password being chosen. The documents cannot list the refused ones; they say so.
Password = Annotated[
    str,
    printable(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH),
    AfterValidator(_not_common),
    Field(
        description=f"{passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters; "
        "the most common passwords are refused"
    ),
]
# A password already chosen, to confirm who is asking: checked against the account's
# alone, since it may have been chosen before the list refused it.
CurrentPassword = Annotated[
    str, printable(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)
]
FullName = Annotated[str, printable(max_length=255), Field(examples=["Jane Doe"])]


class UserCreate(Input):
    email: Email
    password: Password
    full_name: FullName | None = None
    is_active: bool = True
    is_superuser: bool = False


class UserRegister(Input):
    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdateMe(Input):
    """The fields to change; those left out stay as they are."""

    email: Email = Field(  # type: ignore[assignment]
        default=None,
        description="A new address takes effect once verified through the link sent to it",
    )
    full_name: FullName | None = None
    current_password: Annotated[str, printable(max_length=128)] = Field(  # type: ignore[assignment]
        default=None, description="Required with a new email address"
    )


class UserUpdate(Input):
    """The fields to change; those left out stay as they are."""

    email: Email = Field(default=None)  # type: ignore[assignment]
    password: Password = Field(default=None)  # type: ignore[assignment]
    full_name: FullName | None = None
    is_active: bool = Field(default=None)  # type: ignore[assignment]
    is_superuser: bool = Field(default=None)  # type: ignore[assignment]
    email_verified: bool = Field(  # type: ignore[assignment]
        default=None, description="A new email set here counts as verified unless this says no"
    )


class VerifyEmail(Input):
    token: Annotated[str, printable(min_length=1, max_length=256)]


class ResendVerification(Input):
    # Any text: the answer is the same whatever the address.
    email: Annotated[str, printable(min_length=1, max_length=320)]


class UpdatePassword(Input):
    current_password: CurrentPassword
    new_password: Password


class GroupRef(Output):
    id: int
    name: str


class UserPublic(Output):
    id: int
    email: str = Field(examples=["jane@example.com"])
    full_name: str | None = Field(examples=["Jane Doe"])
    is_active: bool
    is_superuser: bool
    groups: list[GroupRef]
    permissions: list[Permission] = Field(description="Effective permission names")
    mfa_enabled: bool = Field(description="Two-factor authentication (TOTP) is on")
    email_verified: bool = Field(description="The owner of the address proved it is theirs")
    pending_email: str | None = Field(
        default=None,
        description="A new address asked for, in use once verified through the link sent to it",
    )
    created_at: datetime


class UsersPage(Page[UserPublic]):
    pass
