"""Rate limits: login per account and per address, password recovery, signup,
verification emails.

Each test builds its own app with limits on and small; every app built starts
with fresh in-memory counters. The Redis test keeps its counters apart with
client addresses and accounts no other test uses.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.devtools.ports import free_port
from app.models import User
from app.runtime import Runtime
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error
from tests.utils.databases import same_on_every_database
from tests.utils.factories import DEFAULT_PASSWORD, make_user
from tests.utils.mfa import enable_mfa

LOGIN = "/api/v1/login/access-token"
LOGIN_MFA = "/api/v1/login/mfa"
RECOVER = "/api/v1/password-recovery/{}"
SIGNUP = "/api/v1/users/signup"
RESEND = "/api/v1/users/verify-email/resend"
HIGH = "1000/minute"
WRONG_PASSWORD = "wrong-password"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def limited_client(runtime: Runtime, **limits: object) -> FlaskClient:
    """A client of an app with rate limits on: generous ones unless given."""
    settings: dict[str, object] = {
        "RATE_LIMIT_ENABLED": True,
        "RATE_LIMIT_LOGIN_ACCOUNT": HIGH,
        "RATE_LIMIT_LOGIN_IP": HIGH,
        "RATE_LIMIT_PASSWORD_RECOVERY": HIGH,
        "RATE_LIMIT_SIGNUP": HIGH,
        "RATE_LIMIT_VERIFICATION_RESEND": HIGH,
    }
    settings.update(limits)
    app = app_with_settings(runtime, **settings)
    app.testing = True
    return app.test_client()


def from_address(address: str) -> dict[str, object]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def attempt_login(
    client: FlaskClient, email: str, password: str = WRONG_PASSWORD, address: str = "10.0.0.1"
) -> TestResponse:
    return client.post(
        LOGIN, data={"username": email, "password": password}, **from_address(address)
    )


def assert_rate_limited(response: TestResponse) -> None:
    assert_error(response, 429)
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60


def assert_not_limited(response: TestResponse) -> None:
    assert response.status_code != 429
    assert response.status_code < 500


@same_on_every_database
def test_login_per_account_limit_applies_across_addresses(
    runtime: Runtime, db: Session, user: User
) -> None:
    client = limited_client(runtime, RATE_LIMIT_LOGIN_ACCOUNT="2/minute")
    assert attempt_login(client, user.email, address="10.0.0.1").status_code in (400, 401)
    assert attempt_login(client, user.email, address="10.0.0.2").status_code in (400, 401)

    # A third address gets nowhere, even with the right password and the email in capitals.
    assert_rate_limited(attempt_login(client, user.email, address="10.0.0.3"))
    assert_rate_limited(
        attempt_login(client, user.email.upper(), DEFAULT_PASSWORD, address="10.0.0.4")
    )
    # Other accounts are unaffected.
    assert_not_limited(attempt_login(client, "someone-else@example.com", address="10.0.0.3"))


@same_on_every_database
def test_login_per_account_limit_applies_to_every_spelling_of_the_address(
    runtime: Runtime, db: Session
) -> None:
    """Login folds full-width letters and ideographic dots in the domain, and case:
    the limit counts every spelling that reaches the same account as one."""
    make_user(db, runtime, email="user@example.com")
    client = limited_client(runtime, RATE_LIMIT_LOGIN_ACCOUNT="2/minute")
    assert attempt_login(client, "user@example.com", address="10.0.0.1").status_code == 401
    assert attempt_login(client, "USER@Example.COM", address="10.0.0.2").status_code == 401

    for spelling in (
        "user@\uff45x\uff41mpl\uff45.com",
        "user@example\u3002com",
        "User@EXAMPLE.com",
    ):
        assert_rate_limited(attempt_login(client, spelling, DEFAULT_PASSWORD, address="10.0.0.3"))
    assert_rate_limited(attempt_login(client, "user@example.com", DEFAULT_PASSWORD))


@same_on_every_database
def test_login_per_account_limit_counts_json_logins(
    runtime: Runtime, db: Session, user: User
) -> None:
    client = limited_client(runtime, RATE_LIMIT_LOGIN_ACCOUNT="1/minute")
    body = {"username": user.email, "password": DEFAULT_PASSWORD}
    assert client.post(LOGIN, json=body).status_code == 200
    assert_rate_limited(client.post(LOGIN, json=body))


@same_on_every_database
def test_login_per_address_limit_applies_across_accounts(runtime: Runtime, db: Session) -> None:
    client = limited_client(runtime, RATE_LIMIT_LOGIN_IP="3/minute")
    for n in range(3):
        assert_not_limited(attempt_login(client, f"guess{n}@example.com", address="10.0.0.1"))
    assert_rate_limited(attempt_login(client, "guess9@example.com", address="10.0.0.1"))
    assert_not_limited(attempt_login(client, "guess9@example.com", address="10.0.0.2"))


@same_on_every_database
def test_login_per_address_limit_ignores_forwarded_for_without_proxy(
    runtime: Runtime, db: Session
) -> None:
    client = limited_client(runtime, RATE_LIMIT_LOGIN_IP="1/minute")
    assert_not_limited(attempt_login(client, "a@example.com", address="10.0.0.1"))
    spoofed = client.post(
        LOGIN,
        data={"username": "b@example.com", "password": WRONG_PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
        **from_address("10.0.0.1"),
    )
    assert_rate_limited(spoofed)


@same_on_every_database
def test_recover_password_is_limited_per_address(runtime: Runtime, db: Session) -> None:
    client = limited_client(runtime, RATE_LIMIT_PASSWORD_RECOVERY="2/minute")
    for n in range(2):
        response = client.post(RECOVER.format(f"r{n}@example.com"), **from_address("10.0.0.1"))
        assert response.status_code == 200
    assert_rate_limited(client.post(RECOVER.format("r9@example.com"), **from_address("10.0.0.1")))
    other = client.post(RECOVER.format("r9@example.com"), **from_address("10.0.0.2"))
    assert other.status_code == 200


@same_on_every_database
def test_verification_resend_is_limited_per_address(runtime: Runtime, db: Session) -> None:
    client = limited_client(runtime, RATE_LIMIT_VERIFICATION_RESEND="2/minute")

    def resend(n: int, address: str) -> TestResponse:
        return client.post(RESEND, json={"email": f"v{n}@example.com"}, **from_address(address))

    assert resend(1, "10.0.0.1").status_code == 202
    assert resend(2, "10.0.0.1").status_code == 202
    assert_rate_limited(resend(3, "10.0.0.1"))
    assert resend(3, "10.0.0.2").status_code == 202


@same_on_every_database
def test_signup_is_limited_per_address(runtime: Runtime, db: Session) -> None:
    client = limited_client(runtime, RATE_LIMIT_SIGNUP="2/minute")

    def signup(n: int, address: str) -> TestResponse:
        body = {"email": f"new{n}@example.com", "password": DEFAULT_PASSWORD}
        return client.post(SIGNUP, json=body, **from_address(address))

    assert signup(1, "10.0.0.1").status_code == 201
    assert signup(2, "10.0.0.1").status_code == 201
    assert_rate_limited(signup(3, "10.0.0.1"))
    assert signup(3, "10.0.0.2").status_code == 201


@same_on_every_database
def test_limits_stay_off_for_app_with_limits_disabled(
    runtime: Runtime, db: Session, user: User
) -> None:
    unlimited = app_with_settings(
        runtime, RATE_LIMIT_ENABLED=False, RATE_LIMIT_LOGIN_ACCOUNT="1/minute"
    ).test_client()
    # Building a limited app in the same process must not switch limits on for the other.
    limited = limited_client(runtime, RATE_LIMIT_LOGIN_ACCOUNT="1/minute")
    for _ in range(3):
        assert_not_limited(attempt_login(unlimited, user.email))
    attempt_login(limited, user.email)
    assert_rate_limited(attempt_login(limited, user.email))


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        client.close()
        pytest.skip(f"Redis is unreachable at {REDIS_URL}")
    yield client
    client.close()


@same_on_every_database
def test_login_limit_is_counted_in_redis(
    runtime: Runtime, db: Session, redis_client: redis.Redis
) -> None:
    marker = uuid.uuid4().hex
    address = f"10.{int(marker[:2], 16)}.{int(marker[2:4], 16)}.{int(marker[4:6], 16)}"
    email = f"{marker}@example.com"
    client = limited_client(
        runtime, RATE_LIMIT_STORAGE_URL=REDIS_URL, RATE_LIMIT_LOGIN_ACCOUNT="2/minute"
    )
    try:
        assert_not_limited(attempt_login(client, email, address=address))
        assert_not_limited(attempt_login(client, email, address=address))
        assert_rate_limited(attempt_login(client, email, address=address))
        # The counters live in Redis, not in the in-memory fallback.
        keys = list(redis_client.scan_iter(match=f"*{marker}*"))
        assert keys
    finally:
        for key in redis_client.scan_iter(match=f"*{marker}*"):
            redis_client.delete(key)
        for key in redis_client.scan_iter(match=f"*{address}*"):
            redis_client.delete(key)


@same_on_every_database
def test_login_keeps_working_when_limit_storage_is_down(
    runtime: Runtime, db: Session, user: User
) -> None:
    client = limited_client(runtime, RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = attempt_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200


@same_on_every_database
def test_app_built_after_one_whose_store_was_down_counts_in_its_own_store(
    runtime: Runtime, db: Session, user: User, redis_client: redis.Redis
) -> None:
    """Apps of one process share the limiter: the fallback one fell back to must not
    outlive it (the tests build many apps, in any order)."""
    down = limited_client(runtime, RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert attempt_login(down, user.email, DEFAULT_PASSWORD).status_code == 200
    marker = uuid.uuid4().hex
    client = limited_client(runtime, RATE_LIMIT_STORAGE_URL=REDIS_URL)
    try:
        assert_not_limited(attempt_login(client, f"{marker}@example.com"))
        assert list(redis_client.scan_iter(match=f"*{marker}*"))
    finally:
        for key in redis_client.scan_iter(match=f"*{marker}*"):
            redis_client.delete(key)


def mfa_token(client: FlaskClient, email: str, address: str) -> str:
    response = attempt_login(client, email, DEFAULT_PASSWORD, address)
    assert response.status_code == 403, response.get_data(as_text=True)
    token = response.get_json()["mfa_token"]
    assert isinstance(token, str)
    return token


def attempt_mfa(client: FlaskClient, token: str, address: str) -> TestResponse:
    return client.post(
        LOGIN_MFA, json={"mfa_token": token, "code": "wrong-code"}, **from_address(address)
    )


@same_on_every_database
def test_login_mfa_per_account_limit_applies_across_tokens_and_addresses(
    runtime: Runtime, db: Session
) -> None:
    client = limited_client(runtime, RATE_LIMIT_LOGIN_ACCOUNT="2/minute")
    target, other = make_user(db, runtime), make_user(db, runtime)
    enable_mfa(db, runtime, target, DEFAULT_PASSWORD)
    enable_mfa(db, runtime, other, DEFAULT_PASSWORD)
    first = mfa_token(client, target.email, "10.0.0.1")
    second = mfa_token(client, target.email, "10.0.0.2")
    assert_not_limited(attempt_mfa(client, first, "10.0.0.3"))
    assert_not_limited(attempt_mfa(client, first, "10.0.0.4"))
    # A new token, from a new address: the same account, so limited.
    assert_rate_limited(attempt_mfa(client, second, "10.0.0.5"))
    # Another account's second step is not.
    assert_not_limited(attempt_mfa(client, mfa_token(client, other.email, "10.0.0.6"), "10.0.0.6"))


@same_on_every_database
def test_login_mfa_per_address_limit_applies(runtime: Runtime, db: Session) -> None:
    client = limited_client(runtime, RATE_LIMIT_LOGIN_IP="2/minute")
    for n in range(2):
        assert_not_limited(attempt_mfa(client, f"token-{n}", "10.0.1.1"))
    assert_rate_limited(attempt_mfa(client, "token-2", "10.0.1.1"))
