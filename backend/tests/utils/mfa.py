"""Two-factor authentication in tests: users with it on, and their codes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
from sqlalchemy.orm import Session

from app.models import User
from app.runtime import Runtime
from app.services import mfa

STEP = 30


@dataclass(frozen=True)
class MfaUser:
    secret: str
    recovery_codes: list[str]


def code_at(secret: str, when: float) -> str:
    """The TOTP code of `secret` at the time `when` (seconds since the epoch)."""
    return pyotp.TOTP(secret).at(when)


def now_code(secret: str, steps: int = 0) -> str:
    """The code `steps` time steps from now (within ±1 the server accepts it)."""
    return code_at(secret, time.time() + steps * STEP)


def enable_mfa(session: Session, runtime: Runtime, user: User, password: str) -> MfaUser:
    """Turn MFA on for `user` as the API does, confirmed with a code of three steps
    ago: every code from now on is new to the server (a code is accepted once)."""
    secret, _ = mfa.start_enrollment(
        session=session,
        hasher=runtime.hasher,
        crypto=runtime.mfa_crypto,
        settings=runtime.settings,
        user=user,
        password=password,
    )
    past = time.time() - 3 * STEP
    codes = mfa.confirm_enrollment(
        session=session,
        crypto=runtime.mfa_crypto,
        user=user,
        code=code_at(secret, past),
        clock=lambda: past,
    )
    session.commit()
    return MfaUser(secret=secret, recovery_codes=codes)
