"""The TOTP window and replay protection, at chosen times (the service's clock)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from app.models import User
from app.runtime import Runtime
from app.services import mfa
from app.services.errors import BadRequest
from tests.utils.factories import DEFAULT_PASSWORD
from tests.utils.mfa import STEP, code_at

# The middle of a time step: a second either way stays in it.
T0 = 1_800_000_000 - 1_800_000_000 % STEP + STEP // 2


def at(when: float) -> Callable[[], float]:
    return lambda: when


def started(db: Session, runtime: Runtime, user: User) -> str:
    secret, _ = mfa.start_enrollment(
        session=db,
        hasher=runtime.hasher,
        crypto=runtime.mfa_crypto,
        settings=runtime.settings,
        user=user,
        password=DEFAULT_PASSWORD,
    )
    return secret


def confirm(db: Session, runtime: Runtime, user: User, code: str, when: float) -> list[str]:
    return mfa.confirm_enrollment(
        session=db, crypto=runtime.mfa_crypto, user=user, code=code, clock=at(when)
    )


def disable(db: Session, runtime: Runtime, user: User, code: str, when: float) -> None:
    mfa.disable(
        session=db,
        hasher=runtime.hasher,
        crypto=runtime.mfa_crypto,
        user=user,
        password=DEFAULT_PASSWORD,
        code=code,
        clock=at(when),
    )


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_confirm_accepts_codes_within_one_step(
    db: Session, runtime: Runtime, user: User, steps: int
) -> None:
    secret = started(db, runtime, user)
    assert len(confirm(db, runtime, user, code_at(secret, T0 + steps * STEP), T0)) == 10
    assert user.mfa_enabled


@pytest.mark.parametrize("steps", [-2, 2])
def test_confirm_refuses_codes_two_steps_away(
    db: Session, runtime: Runtime, user: User, steps: int
) -> None:
    secret = started(db, runtime, user)
    with pytest.raises(BadRequest):
        confirm(db, runtime, user, code_at(secret, T0 + steps * STEP), T0)
    assert not user.mfa_enabled


def test_a_code_is_accepted_once(db: Session, runtime: Runtime, user: User) -> None:
    secret = started(db, runtime, user)
    code = code_at(secret, T0)
    confirm(db, runtime, user, code, T0)
    # The same code, still within its window: refused.
    with pytest.raises(BadRequest):
        disable(db, runtime, user, code, T0 + 10)
    # Nor the step before the one used.
    with pytest.raises(BadRequest):
        disable(db, runtime, user, code_at(secret, T0 - STEP), T0)
    disable(db, runtime, user, code_at(secret, T0 + STEP), T0 + STEP)
    assert not user.mfa_enabled


def test_a_recovery_code_works_once(db: Session, runtime: Runtime, user: User) -> None:
    secret = started(db, runtime, user)
    codes = confirm(db, runtime, user, code_at(secret, T0), T0)
    disable(db, runtime, user, codes[0], T0)
    secret = started(db, runtime, user)
    confirm(db, runtime, user, code_at(secret, T0 + STEP), T0 + STEP)
    # The old set went with the old enrollment.
    with pytest.raises(BadRequest):
        disable(db, runtime, user, codes[1], T0 + STEP)
