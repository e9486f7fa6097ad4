"""Password hashing (argon2id, with older schemes upgraded at login) and access tokens."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from passlib.hash import argon2, bcrypt, pbkdf2_sha256
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import InvalidTokenError, PasswordHasher, TokenCodec
from app.models import User
from tests.conftest import make_settings
from tests.utils.factories import DEFAULT_PASSWORD

OWASP_ARGON2ID = "$argon2id$v=19$m=19456,t=2,p=1$"


def hasher_with(**overrides: object) -> PasswordHasher:
    return PasswordHasher(make_settings("sqlite://", **overrides))


def test_settings_default_hash_parameters_follow_owasp() -> None:
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert defaults["PASSWORD_HASH_MEMORY_KIB"] == 19456
    assert defaults["PASSWORD_HASH_TIME_COST"] == 2
    assert defaults["PASSWORD_HASH_PARALLELISM"] == 1


def test_hash_password_with_default_parameters_is_owasp_argon2id() -> None:
    defaults = {
        name: Settings.model_fields[name].default
        for name in (
            "PASSWORD_HASH_MEMORY_KIB",
            "PASSWORD_HASH_TIME_COST",
            "PASSWORD_HASH_PARALLELISM",
        )
    }
    hashed = hasher_with(**defaults).hash("a password")
    assert hashed.startswith(OWASP_ARGON2ID)


def test_hash_password_uses_configured_parameters() -> None:
    hasher = hasher_with(
        PASSWORD_HASH_MEMORY_KIB=2048, PASSWORD_HASH_TIME_COST=3, PASSWORD_HASH_PARALLELISM=2
    )
    hashed = hasher.hash("a password")
    assert hashed.startswith("$argon2id$v=19$m=2048,t=3,p=2$")
    assert hasher.verify("a password", hashed) == (True, None)


def test_hash_password_salts_each_hash() -> None:
    hasher = hasher_with()
    assert hasher.hash("same password") != hasher.hash("same password")


def test_verify_password_with_wrong_password_fails() -> None:
    hasher = hasher_with()
    assert hasher.verify("wrong password", hasher.hash("right password")) == (False, None)


def test_verify_password_against_no_hash_fails() -> None:
    assert hasher_with().verify("any password", None) == (False, None)


@pytest.mark.parametrize(
    "stored", ["", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$broken", "$2b$04$short"]
)
def test_verify_password_against_corrupt_hash_fails(stored: str) -> None:
    assert hasher_with().verify("any password", stored) == (False, None)


def test_verify_password_with_weaker_argon2_parameters_offers_upgrade() -> None:
    old = argon2.using(type="ID", memory_cost=1024, rounds=1, parallelism=1).hash("a password")
    ok, new_hash = hasher_with(PASSWORD_HASH_MEMORY_KIB=2048, PASSWORD_HASH_TIME_COST=2).verify(
        "a password", old
    )
    assert ok
    assert new_hash is not None
    assert new_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")


def test_verify_password_longer_than_bcrypt_accepts_fails_cleanly() -> None:
    stored = bcrypt.using(rounds=4).hash("p" * 72)
    assert hasher_with().verify("p" * 100, stored) == (False, None)


LEGACY_HASHES = {
    "bcrypt": lambda password: bcrypt.using(rounds=4).hash(password),
    "pbkdf2_sha256": lambda password: pbkdf2_sha256.using(rounds=1000).hash(password),
}


@pytest.mark.parametrize("scheme", LEGACY_HASHES)
def test_login_with_legacy_hash_succeeds_and_upgrades_to_argon2id(
    client: FlaskClient, db: Session, user: User, scheme: str
) -> None:
    legacy = LEGACY_HASHES[scheme](DEFAULT_PASSWORD)
    assert not legacy.startswith("$argon2")
    db.execute(update(User).where(User.id == user.id).values(hashed_password=legacy))
    db.commit()

    credentials = {"username": user.email, "password": DEFAULT_PASSWORD}
    response = client.post("/api/v1/login/access-token", data=credentials)
    assert response.status_code == 200

    db.expire_all()
    upgraded = db.scalar(select(User.hashed_password).where(User.id == user.id))
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$")
    assert client.post("/api/v1/login/access-token", data=credentials).status_code == 200


@pytest.mark.parametrize("scheme", LEGACY_HASHES)
def test_login_with_legacy_hash_and_wrong_password_keeps_hash(
    client: FlaskClient, db: Session, user: User, scheme: str
) -> None:
    legacy = LEGACY_HASHES[scheme](DEFAULT_PASSWORD)
    db.execute(update(User).where(User.id == user.id).values(hashed_password=legacy))
    db.commit()
    response = client.post(
        "/api/v1/login/access-token", data={"username": user.email, "password": "wrong-password"}
    )
    assert response.status_code in (400, 401)
    db.expire_all()
    assert db.scalar(select(User.hashed_password).where(User.id == user.id)) == legacy


def test_access_token_round_trips_its_claims() -> None:
    codec = TokenCodec(make_settings("sqlite://", ACCESS_TOKEN_EXPIRE_MINUTES=7))
    assert codec.lifetime_seconds == 7 * 60
    claims = codec.decode_access_token(codec.create_access_token(user_id=42, stamp="s" * 32))
    assert (claims.user_id, claims.stamp) == (42, "s" * 32)


def test_access_token_checked_before_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec(make_settings("sqlite://", ACCESS_TOKEN_EXPIRE_MINUTES=5))
    token = codec.create_access_token(user_id=42, stamp="s" * 32)
    issued = time.time()
    assert codec.decode_access_token(token).user_id == 42
    monkeypatch.setattr(time, "time", lambda: issued + 4 * 60)
    assert codec.decode_access_token(token).user_id == 42
    monkeypatch.setattr(time, "time", lambda: issued + 5 * 60 + 1)
    with pytest.raises(InvalidTokenError, match="expired"):
        codec.decode_access_token(token)


def test_access_token_from_another_secret_is_refused() -> None:
    ours = TokenCodec(make_settings("sqlite://"))
    theirs = TokenCodec(make_settings("sqlite://", SECRET_KEY="x" * 40))
    token = theirs.create_access_token(user_id=1, stamp="s" * 32)
    with pytest.raises(InvalidTokenError):
        ours.decode_access_token(token)
