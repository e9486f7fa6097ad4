"""Email end to end: the API queues it, a real worker renders and sends it over
SMTP to a real server on loopback, and what arrives works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import User
from app.runtime import Runtime
from tests.utils.assertions import assert_client_error, assert_error
from tests.utils.brokers import Broker
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user, unique_email
from tests.utils.smtp import (
    Mailbox,
    reset_token,
    smtp_server,
    text_and_html,
    verification_token,
)
from tests.utils.worker import Inbox, Worker, client_on_broker, mail_to, running_worker

FRONTEND_HOST = "https://app.example.com"
PROJECT_NAME = "Mail Test Project"
RESET = "/api/v1/reset-password/"
LOGIN = "/api/v1/login/access-token"
TEST_EMAIL = "/api/v1/utils/test-email/"
VERIFY = "/api/v1/users/verify-email"
RESEND = "/api/v1/users/verify-email/resend"
NEW_PASSWORD = "a-brand-new-secret"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture(scope="module")
def worker(broker: Broker, mailbox: Mailbox, runtime: Runtime, log_dir: Path) -> Iterator[Worker]:
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=log_dir,
        settings=broker.settings
        | {
            "EMAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": mailbox.port,
            "SMTP_TLS": False,
            "SMTP_TIMEOUT": 5,
            "FRONTEND_HOST": FRONTEND_HOST,
            "PROJECT_NAME": PROJECT_NAME,
        },
    ) as started:
        yield started


@pytest.fixture
def api(runtime: Runtime, broker: Broker, worker: Worker, db: Session) -> Iterator[FlaskClient]:
    with client_on_broker(runtime, broker) as client:
        yield client


def login(api: FlaskClient, email: str, password: str) -> int:
    return api.post(LOGIN, data={"username": email, "password": password}).status_code


def test_recover_password_emails_link_that_resets_password_once(
    api: FlaskClient, mailbox: Mailbox, worker: Worker, db: Session, runtime: Runtime
) -> None:
    user = make_user(db, runtime, email=unique_email("forgetful"))
    assert api.post(f"/api/v1/password-recovery/{user.email}").status_code == 200

    message = mail_to(mailbox, user.email, worker=worker)
    assert PROJECT_NAME in message["Subject"]
    assert "noreply@example.com" in message["From"]
    text, html = text_and_html(message)
    token = reset_token(message)
    link = f"{FRONTEND_HOST}/reset-password?token={token}"
    assert link in text
    assert f'href="{link}"' in html

    used = api.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert used.status_code == 200
    again = api.post(RESET, json={"token": token, "new_password": "yet-another-secret"})
    assert_error(again, 400)
    assert login(api, user.email, NEW_PASSWORD) == 200
    assert login(api, user.email, DEFAULT_PASSWORD) in (400, 401)


def test_send_test_email_as_superuser_delivers_it(
    api: FlaskClient, mailbox: Mailbox, worker: Worker, superuser_headers: dict[str, str]
) -> None:
    address = unique_email("postmaster")
    response = api.post(TEST_EMAIL, query_string={"email_to": address}, headers=superuser_headers)
    assert response.status_code == 202
    assert address in response.get_json()["message"]

    message = mail_to(mailbox, address, worker=worker)
    assert message["Subject"] == f"{PROJECT_NAME}: test email"
    text, html = text_and_html(message)
    assert FRONTEND_HOST in text
    assert FRONTEND_HOST in html


def test_send_test_email_as_normal_user_is_forbidden(
    api: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = api.post(TEST_EMAIL, query_string={"email_to": unique_email()}, headers=user_headers)
    assert_error(response, 403)


@pytest.mark.parametrize("address", ["not-an-email", "", "a@b@example.com", "x" * 300])
def test_send_test_email_to_bad_address_is_rejected(
    api: FlaskClient, superuser_headers: dict[str, str], address: str
) -> None:
    response = api.post(TEST_EMAIL, query_string={"email_to": address}, headers=superuser_headers)
    assert_client_error(response, field="email_to")


def test_send_test_email_without_address_is_rejected(
    api: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    assert_client_error(api.post(TEST_EMAIL, headers=superuser_headers), field="email_to")


@pytest.fixture
def verifying(
    runtime: Runtime, broker: Broker, worker: Worker, db: Session
) -> Iterator[FlaskClient]:
    """A client of an app with the contract's default: verification required."""
    with client_on_broker(runtime, broker, EMAIL_VERIFICATION_REQUIRED=True) as client:
        yield client


def test_signup_emails_a_verification_link_that_unlocks_login_once(
    verifying: FlaskClient, mailbox: Mailbox, worker: Worker
) -> None:
    address = unique_email("newcomer")
    response = verifying.post(
        "/api/v1/users/signup",
        json={"email": address, "password": DEFAULT_PASSWORD, "full_name": "New Comer"},
    )
    assert response.status_code == 201
    refused = verifying.post(LOGIN, data={"username": address, "password": DEFAULT_PASSWORD})
    assert_error(refused, 403)
    assert refused.get_json()["email_verification_required"] is True

    message = mail_to(mailbox, address, worker=worker)
    assert message["Subject"] == f"{PROJECT_NAME}: verify your email address"
    text, html = text_and_html(message)
    token = verification_token(message)
    link = f"{FRONTEND_HOST}/verify-email?token={token}"
    assert link in text
    assert f'href="{link}"' in html
    assert "48 hours" in text

    verified = verifying.post(VERIFY, json={"token": token})
    assert verified.status_code == 200
    assert verified.get_json()["email_verified"] is True
    assert login(verifying, address, DEFAULT_PASSWORD) == 200
    assert_error(verifying.post(VERIFY, json={"token": token}), 400)


def test_resend_emails_a_new_link_to_an_address_waiting_for_one(
    verifying: FlaskClient, mailbox: Mailbox, worker: Worker
) -> None:
    address = unique_email("patient")
    body = {"email": address, "password": DEFAULT_PASSWORD}
    assert verifying.post("/api/v1/users/signup", json=body).status_code == 201
    first = verification_token(mail_to(mailbox, address, worker=worker))
    inbox = Inbox(mailbox, worker)
    assert verifying.post(RESEND, json={"email": address.upper()}).status_code == 202
    (message,) = inbox.wait_for(1)
    assert message["To"] == address
    second = verification_token(message)
    assert second != first
    assert verifying.post(VERIFY, json={"token": second}).status_code == 200
    # The earlier link has nothing left to verify.
    assert_error(verifying.post(VERIFY, json={"token": first}), 400)


def test_email_change_emails_the_new_address_and_moves_the_account_once_verified(
    verifying: FlaskClient, mailbox: Mailbox, worker: Worker, db: Session, runtime: Runtime
) -> None:
    user = make_user(db, runtime, email=unique_email("mover"))
    new = unique_email("moved")
    headers = auth_headers(runtime, user)
    asked = verifying.patch(
        "/api/v1/users/me",
        json={"email": new, "current_password": DEFAULT_PASSWORD},
        headers=headers,
    )
    assert asked.status_code == 200
    assert (asked.get_json()["email"], asked.get_json()["pending_email"]) == (user.email, new)

    token = verification_token(mail_to(mailbox, new, worker=worker))
    assert login(verifying, user.email, DEFAULT_PASSWORD) == 200
    assert verifying.post(VERIFY, json={"token": token}).get_json()["email"] == new
    assert login(verifying, new, DEFAULT_PASSWORD) == 200
    assert login(verifying, user.email, DEFAULT_PASSWORD) in (400, 401)


def test_create_user_as_superuser_emails_welcome_message(
    api: FlaskClient,
    mailbox: Mailbox,
    worker: Worker,
    superuser: User,
    superuser_headers: dict[str, str],
) -> None:
    address = unique_email("invited")
    response = api.post(
        "/api/v1/users/",
        json={"email": address, "password": DEFAULT_PASSWORD},
        headers=superuser_headers,
    )
    assert response.status_code == 201

    message = mail_to(mailbox, address, worker=worker)
    assert message["Subject"] == f"{PROJECT_NAME}: your new account"
    assert address in text_and_html(message)[0]
