"""Email verification with EMAIL_VERIFICATION_REQUIRED on (the default; the rest of
the suite turns it off): signup, the 403 at login and refresh, the link's token,
resending, and a user's change of address. The tokens come from the service that
the worker uses to build the links (their delivery: tests/worker/process/test_email.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.db.base import utcnow
from app.models import AuditEvent, EmailVerificationToken, User
from app.runtime import Runtime
from app.services import auth, verification
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error, assert_user
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user, unique_email

LOGIN = "/api/v1/login/access-token"
REFRESH = "/api/v1/login/refresh"
SIGNUP = "/api/v1/users/signup"
VERIFY = "/api/v1/users/verify-email"
RESEND = "/api/v1/users/verify-email/resend"
ME = "/api/v1/users/me"
RESET = "/api/v1/reset-password/"


@pytest.fixture
def client(runtime: Runtime, db: Session) -> Iterator[FlaskClient]:
    """A client of an app with the contract's default: verification required."""
    app = app_with_settings(runtime, EMAIL_VERIFICATION_REQUIRED=True)
    app.testing = True
    yield app.test_client()


def login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD) -> TestResponse:
    return client.post(LOGIN, data={"username": email, "password": password})


def signup(client: FlaskClient, email: str) -> dict[str, Any]:
    response = client.post(SIGNUP, json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 201
    return assert_user(response.get_json())


def link_token(db: Session, runtime: Runtime, email: str) -> str:
    """A link's token as the worker makes it for `email`, for the one account waiting."""
    db.expire_all()
    (waiting,) = verification.accounts_to_verify(session=db, email=email)
    token = verification.issue_token(
        session=db, settings=runtime.settings, user=waiting, email=email
    )
    db.commit()
    return token


def stored_user(db: Session, user_id: int) -> User:
    db.expire_all()
    user = db.get(User, user_id)
    assert user is not None
    return user


def assert_verification_required(response: TestResponse) -> None:
    assert_error(response, 403)
    assert response.get_json()["email_verification_required"] is True
    assert "mfa_token" not in response.get_json()
    assert "Set-Cookie" not in response.headers


def test_signup_starts_unverified_and_login_is_refused_with_403(client: FlaskClient) -> None:
    address = unique_email("fresh")
    body = signup(client, address)
    assert (body["email_verified"], body["pending_email"]) == (False, None)
    assert_verification_required(login(client, address))


def test_unverified_login_with_wrong_password_says_nothing_of_verification(
    client: FlaskClient,
) -> None:
    address = unique_email("fresh")
    signup(client, address)
    wrong = login(client, address, "not-the-password")
    unknown = login(client, unique_email("nobody"), "not-the-password")
    assert wrong.status_code == unknown.status_code
    assert wrong.status_code in (400, 401)
    assert wrong.get_json() == unknown.get_json()
    assert "email_verification_required" not in wrong.get_json()


def test_verify_email_then_login_succeeds_and_the_token_works_once(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    address = unique_email("fresh")
    user_id = signup(client, address)["id"]
    token = link_token(db, runtime, address)

    verified = client.post(VERIFY, json={"token": token})
    assert verified.status_code == 200
    body = assert_user(verified.get_json())
    assert (body["id"], body["email"], body["email_verified"]) == (user_id, address, True)
    assert login(client, address).status_code == 200

    assert_error(client.post(VERIFY, json={"token": token}), 400)
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "email.verified")).all()
    assert [(e.actor_id, e.target_id, e.details) for e in events] == [
        (user_id, str(user_id), {"email": address})
    ]


def test_expired_token_returns_400_and_leaves_the_account_unverified(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    address = unique_email("late")
    user_id = signup(client, address)["id"]
    token = link_token(db, runtime, address)
    db.execute(update(EmailVerificationToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert_error(client.post(VERIFY, json={"token": token}), 400)
    assert stored_user(db, user_id).email_verified is False


@pytest.mark.parametrize(
    "tamper",
    [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t + "x", lambda t: t[1:]],
    ids=["changed", "longer", "shorter"],
)
def test_tampered_token_returns_400(
    client: FlaskClient, db: Session, runtime: Runtime, tamper: Any
) -> None:
    address = unique_email("tamper")
    user_id = signup(client, address)["id"]
    token = link_token(db, runtime, address)
    assert_error(client.post(VERIFY, json={"token": tamper(token)}), 400)
    assert stored_user(db, user_id).email_verified is False
    # The genuine token still works.
    assert client.post(VERIFY, json={"token": token}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 7}, {"token": "x" * 300}])
def test_malformed_verify_body_is_a_client_error(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post(VERIFY, json=body)
    assert response.status_code in (400, 422)
    assert "message" in response.get_json()


def test_verification_not_required_lets_unverified_users_log_in(
    runtime: Runtime, db: Session
) -> None:
    app = app_with_settings(runtime, EMAIL_VERIFICATION_REQUIRED=False)
    client = app.test_client()
    address = unique_email("relaxed")
    assert (
        client.post(SIGNUP, json={"email": address, "password": DEFAULT_PASSWORD}).get_json()[
            "email_verified"
        ]
        is False
    )
    assert login(client, address).status_code == 200


def test_admin_created_users_start_verified(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    address = unique_email("invited")
    created = client.post(
        "/api/v1/users/",
        json={"email": address, "password": DEFAULT_PASSWORD},
        headers=superuser_headers,
    )
    assert created.status_code == 201
    assert created.get_json()["email_verified"] is True
    assert login(client, address).status_code == 200


def test_admin_marks_users_unverified_and_verified(
    client: FlaskClient, db: Session, superuser: User, superuser_headers: dict[str, str], user: User
) -> None:
    path = f"/api/v1/users/{user.id}"
    unmarked = client.patch(path, json={"email_verified": False}, headers=superuser_headers)
    assert unmarked.get_json()["email_verified"] is False
    assert_verification_required(login(client, user.email))

    marked = client.patch(path, json={"email_verified": True}, headers=superuser_headers)
    assert marked.get_json()["email_verified"] is True
    assert login(client, user.email).status_code == 200
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "email.verified")).one()
    assert (event.actor_id, event.target_id) == (superuser.id, str(user.id))
    assert event.details == {"email": user.email, "by_administrator": True}


def test_refresh_of_an_account_no_longer_verified_returns_403(
    client: FlaskClient, superuser_headers: dict[str, str], user: User
) -> None:
    assert login(client, user.email).status_code == 200
    client.patch(
        f"/api/v1/users/{user.id}", json={"email_verified": False}, headers=superuser_headers
    )
    assert_verification_required(client.post(REFRESH))


def test_admin_set_email_counts_as_verified(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    address = unique_email("typo")
    user_id = signup(client, address)["id"]
    fixed = unique_email("fixed")
    changed = client.patch(
        f"/api/v1/users/{user_id}", json={"email": fixed}, headers=superuser_headers
    )
    assert changed.status_code == 200
    assert (changed.get_json()["email"], changed.get_json()["email_verified"]) == (fixed, True)
    assert login(client, fixed).status_code == 200


def test_resend_gives_the_same_answer_for_every_address(client: FlaskClient, user: User) -> None:
    waiting = unique_email("waiting")
    signup(client, waiting)
    answers = [
        client.post(RESEND, json={"email": address})
        for address in (waiting, user.email, unique_email("nobody"), "not an address")
    ]
    assert {r.status_code for r in answers} == {202}
    assert len({r.get_data() for r in answers}) == 1
    assert set(answers[0].get_json()) == {"message"}


def test_resend_finds_only_accounts_waiting_for_the_address(
    client: FlaskClient, db: Session, user: User
) -> None:
    waiting = unique_email("waiting")
    user_id = signup(client, waiting)["id"]
    assert [u.id for u in verification.accounts_to_verify(session=db, email=waiting.upper())] == [
        user_id
    ]
    assert verification.accounts_to_verify(session=db, email=user.email) == []
    assert verification.accounts_to_verify(session=db, email=unique_email("nobody")) == []


# Changing one's own address.


def change_email(
    client: FlaskClient, headers: dict[str, str], email: str, password: str | None
) -> TestResponse:
    body: dict[str, Any] = {"email": email}
    if password is not None:
        body["current_password"] = password
    return client.patch(ME, json=body, headers=headers)


@pytest.mark.parametrize("password", [None, "wrong-password"], ids=["missing", "wrong"])
def test_email_change_needs_the_current_password(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, password: str | None
) -> None:
    response = change_email(client, auth_headers(runtime, user), unique_email("new"), password)
    assert_error(response, 400, field="current_password")
    assert stored_user(db, user.id).pending_email is None


def test_email_change_takes_effect_once_the_new_address_is_verified(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    old = user.email
    new = unique_email("moved")
    headers = auth_headers(runtime, user)
    asked = change_email(client, headers, new.upper(), DEFAULT_PASSWORD)
    assert asked.status_code == 200
    body = asked.get_json()
    assert (body["email"], body["pending_email"], body["email_verified"]) == (old, new, True)

    # Until the link is followed, the old address is the account's.
    assert login(client, old).status_code == 200
    assert login(client, new).status_code in (400, 401)

    verified = client.post(VERIFY, json={"token": link_token(db, runtime, new)})
    assert verified.status_code == 200
    body = verified.get_json()
    assert (body["email"], body["pending_email"], body["email_verified"]) == (new, None, True)
    assert login(client, new).status_code == 200
    assert login(client, old).status_code in (400, 401)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "email.verified")).one()
    assert event.details == {"email": new, "previous_email": old}


def test_email_change_kills_reset_links_sent_before_and_while_pending(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    before = auth.create_password_reset_token(session=db, settings=runtime.settings, user=user)
    db.commit()
    new = unique_email("moved")
    assert (
        change_email(client, auth_headers(runtime, user), new, DEFAULT_PASSWORD).status_code == 200
    )
    assert_error(client.post(RESET, json={"token": before, "new_password": "a-new-secret-1"}), 400)

    during = auth.create_password_reset_token(
        session=db, settings=runtime.settings, user=stored_user(db, user.id)
    )
    db.commit()
    assert client.post(VERIFY, json={"token": link_token(db, runtime, new)}).status_code == 200
    assert_error(client.post(RESET, json={"token": during, "new_password": "a-new-secret-2"}), 400)
    assert login(client, new).status_code == 200


def test_a_link_verifies_only_the_address_the_account_still_waits_for(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    headers = auth_headers(runtime, user)
    first = unique_email("first")
    change_email(client, headers, first, DEFAULT_PASSWORD)
    first_token = link_token(db, runtime, first)
    second = unique_email("second")
    change_email(client, headers, second, DEFAULT_PASSWORD)

    assert_error(client.post(VERIFY, json={"token": first_token}), 400)
    assert stored_user(db, user.id).email == user.email
    assert client.post(VERIFY, json={"token": link_token(db, runtime, second)}).status_code == 200
    assert stored_user(db, user.id).email == second


def test_asking_for_the_current_address_again_drops_the_pending_one(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    headers = auth_headers(runtime, user)
    new = unique_email("undecided")
    change_email(client, headers, new, DEFAULT_PASSWORD)
    token = link_token(db, runtime, new)
    back = change_email(client, headers, user.email, None)
    assert back.status_code == 200 and back.get_json()["pending_email"] is None
    assert_error(client.post(VERIFY, json={"token": token}), 400)


def test_email_change_to_a_taken_address_returns_409(
    client: FlaskClient, runtime: Runtime, user: User, superuser: User
) -> None:
    response = change_email(client, auth_headers(runtime, user), superuser.email, DEFAULT_PASSWORD)
    assert_error(response, 409, field="email")


def test_address_taken_before_the_link_is_followed_returns_409(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    new = unique_email("contested")
    change_email(client, auth_headers(runtime, user), new, DEFAULT_PASSWORD)
    token = link_token(db, runtime, new)
    make_user(db, runtime, email=new)
    assert_error(client.post(VERIFY, json={"token": token}), 409)
    assert stored_user(db, user.id).email == user.email


def test_email_change_with_a_personal_access_token_is_refused(
    client: FlaskClient, runtime: Runtime, user: User
) -> None:
    created = client.post(
        "/api/v1/users/me/tokens", json={"name": "ci"}, headers=auth_headers(runtime, user)
    )
    assert created.status_code == 201, created.get_json()
    headers = {"Authorization": f"Bearer {created.get_json()['token']}"}
    assert_error(change_email(client, headers, unique_email("pat"), DEFAULT_PASSWORD), 403)
