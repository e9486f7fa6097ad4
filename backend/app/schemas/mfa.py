"""Multi-factor authentication: TOTP enrollment, its recovery codes, the login's
second step."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import Input, Output, printable
from .users import CurrentPassword

# A TOTP code (six digits) or a recovery code (`k7qmd-x2p9h`), as typed.
Code = Annotated[
    str,
    printable(min_length=1, max_length=64),
    Field(description="Six digits from the authenticator app, or a recovery code"),
]


class TotpStart(Input):
    password: CurrentPassword


class TotpEnrollment(Output):
    secret: str = Field(description="Base32, for typing into an authenticator app")
    otpauth_uri: str = Field(description="The otpauth:// URI, to show as a QR code")


class TotpConfirm(Input):
    code: Annotated[
        str,
        printable(min_length=1, max_length=64),
        Field(description="Six digits from the authenticator app"),
    ]


class RecoveryCodes(Output):
    recovery_codes: list[str] = Field(description="One-time codes, shown this once")


class TotpDisable(Input):
    password: CurrentPassword
    code: Code


class MfaLogin(Input):
    mfa_token: Annotated[str, printable(min_length=1, max_length=2048)]
    code: Code


class LoginRefused(Output):
    """A login's 403: an inactive user; or the password was right and a second factor
    is due (`mfa_required` and `mfa_token` then): go on at /login/mfa; or the
    address is not verified yet (`email_verification_required`)."""

    message: str
    mfa_required: bool = Field(default=False)
    email_verification_required: bool = Field(default=False)
    mfa_token: str = Field(  # type: ignore[assignment]
        default=None, description="With mfa_required: single-use, valid for 5 minutes"
    )
