"""Password recovery by email and reset with the emailed token.

The API queues the reset email; a real worker (started from its own virtualenv)
sends it to a real SMTP server on loopback, and the token is read from the link
in the received mail, as the user would follow it. Tests about the reset rules
alone take a token issued directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.models import PasswordResetToken, User
from app.runtime import Runtime
from app.services import auth
from tests.utils.assertions import assert_error
from tests.utils.brokers import Broker, filesystem_broker
from tests.utils.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.utils.smtp import Mailbox, reset_token, smtp_server, text_and_html
from tests.utils.unreachable import closed_port
from tests.utils.worker import Inbox, Worker, client_on_broker, running_worker

RECOVER = "/api/v1/password-recovery/{}"
RESET = "/api/v1/reset-password/"
LOGIN = "/api/v1/login/access-token"
NEW_PASSWORD = "a-brand-new-secret"
FRONTEND_HOST = "https://app.example.com"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture(scope="module")
def mail_worker(
    runtime: Runtime, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Broker, Worker]]:
    """A worker that sends mail to `mailbox`, and the broker the API reaches it by."""
    broker = filesystem_broker(tmp_path_factory.mktemp("broker"))
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=tmp_path_factory.mktemp("worker-logs"),
        settings=broker.settings
        | {
            "EMAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": mailbox.port,
            "SMTP_TLS": False,
            "SMTP_TIMEOUT": 5,
            "FRONTEND_HOST": FRONTEND_HOST,
            "PROJECT_NAME": "Test Project",
        },
    ) as worker:
        yield broker, worker


@pytest.fixture
def inbox(mailbox: Mailbox, mail_worker: tuple[Broker, Worker]) -> Inbox:
    return Inbox(mailbox, mail_worker[1])


@pytest.fixture
def mail_client(
    runtime: Runtime, db: Session, mail_worker: tuple[Broker, Worker]
) -> Iterator[FlaskClient]:
    with client_on_broker(runtime, mail_worker[0]) as client:
        yield client


def request_reset(client: FlaskClient, inbox: Inbox, email: str) -> str:
    """Ask for a reset email and return the token from its link."""
    before = len(inbox.messages)
    response = client.post(RECOVER.format(email))
    assert response.status_code == 200
    return reset_token(inbox.wait_for(before + 1)[-1])


def issue_token(db: Session, runtime: Runtime, user: User) -> str:
    """A reset token as the recovery email carries it, without sending the email."""
    token = auth.create_password_reset_token(session=db, settings=runtime.settings, user=user)
    db.commit()
    return token


def login(client: FlaskClient, email: str, password: str) -> int:
    return client.post(LOGIN, data={"username": email, "password": password}).status_code


def test_recover_password_sends_reset_link_with_text_and_html(
    mail_client: FlaskClient, inbox: Inbox, user: User
) -> None:
    response = mail_client.post(RECOVER.format(user.email))
    assert response.status_code == 200
    [message] = inbox.wait_for(1)
    assert message["To"] == user.email
    assert "noreply@example.com" in message["From"]
    assert "Test Project" in message["Subject"]
    text, html = text_and_html(message)
    token = reset_token(message)
    link = f"{FRONTEND_HOST}/reset-password?token={token}"
    assert link in text
    assert f'href="{link}"' in html
    assert "<p>" in html


def test_recover_password_gives_same_answer_for_unknown_email(
    mail_client: FlaskClient, inbox: Inbox, user: User
) -> None:
    known = mail_client.post(RECOVER.format(user.email))
    unknown = mail_client.post(RECOVER.format("nobody@example.com"))
    malformed = mail_client.post(RECOVER.format("not-an-email"))
    assert known.status_code == unknown.status_code == malformed.status_code == 200
    assert known.get_json() == unknown.get_json() == malformed.get_json()
    assert set(known.get_json()) == {"message"}
    # Only the real account got mail: the worker sends in order, so a second
    # message to it arrives after anything sent for the requests in between.
    mail_client.post(RECOVER.format(user.email))
    assert [m["To"] for m in inbox.wait_for(2)] == [user.email, user.email]
    assert len(inbox.messages) == 2


def test_recover_password_of_inactive_user_sends_nothing(
    mail_client: FlaskClient, inbox: Inbox, db: Session, runtime: Runtime, user: User
) -> None:
    inactive = make_user(db, runtime, is_active=False)
    response = mail_client.post(RECOVER.format(inactive.email))
    assert response.status_code == 200
    # A later message to an active account arrives alone: none went to the inactive one.
    mail_client.post(RECOVER.format(user.email))
    assert [m["To"] for m in inbox.wait_for(1)] == [user.email]
    assert len(inbox.messages) == 1


def test_recover_password_does_the_same_work_for_unknown_and_known_accounts(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the API does (its statements, what it enqueues) must not depend on whether
    the account exists, or its timing tells: the worker looks the account up."""
    inactive = make_user(db, runtime, is_active=False)

    def work_for(email: str) -> tuple[list[str], list[tuple[str, tuple[object, ...]]]]:
        statements: list[str] = []
        queued: list[tuple[str, tuple[object, ...]]] = []

        def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            statements.append(statement)

        monkeypatch.setattr(
            runtime.queue, "enqueue", lambda task, *args: queued.append((task, args))
        )
        event.listen(runtime.engine, "before_cursor_execute", record)
        try:
            assert client.post(RECOVER.format(email)).status_code == 200
        finally:
            event.remove(runtime.engine, "before_cursor_execute", record)
        return statements, [
            (task, tuple(str(a).replace(email, "<email>") for a in args)) for task, args in queued
        ]

    known = work_for(user.email)
    assert known == work_for("nobody@example.com") == work_for(inactive.email)
    assert known[1], "the request hands the address to the worker"


def test_recover_password_with_broker_down_gives_same_answer(
    runtime: Runtime, db: Session, user: User
) -> None:
    with (
        closed_port() as port,
        client_on_broker(runtime, Broker(f"redis://127.0.0.1:{port}/0")) as client,
    ):
        known = client.post(RECOVER.format(user.email))
        unknown = client.post(RECOVER.format("nobody@example.com"))
    assert known.status_code == unknown.status_code == 200
    assert known.get_json() == unknown.get_json()


def test_reset_password_with_emailed_token_sets_new_password(
    mail_client: FlaskClient, inbox: Inbox, user: User
) -> None:
    token = request_reset(mail_client, inbox, user.email)
    response = mail_client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 200
    assert set(response.get_json()) == {"message"}
    assert login(mail_client, user.email, NEW_PASSWORD) == 200
    assert login(mail_client, user.email, DEFAULT_PASSWORD) in (400, 401)


def test_reset_password_with_used_token_is_bad_request(
    mail_client: FlaskClient, inbox: Inbox, user: User
) -> None:
    token = request_reset(mail_client, inbox, user.email)
    first = mail_client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert first.status_code == 200
    again = mail_client.post(RESET, json={"token": token, "new_password": "yet-another-secret"})
    assert_error(again, 400)
    assert login(mail_client, user.email, NEW_PASSWORD) == 200


def test_reset_password_invalidates_other_outstanding_links(
    mail_client: FlaskClient, inbox: Inbox, user: User
) -> None:
    older = request_reset(mail_client, inbox, user.email)
    newer = request_reset(mail_client, inbox, user.email)
    assert older != newer
    used = mail_client.post(RESET, json={"token": newer, "new_password": NEW_PASSWORD})
    assert used.status_code == 200
    assert_error(mail_client.post(RESET, json={"token": older, "new_password": "x" * 12}), 400)


def test_reset_password_with_expired_token_is_bad_request(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    token = issue_token(db, runtime, user)
    db.execute(
        update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.commit()
    response = client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert_error(response, 400)
    assert login(client, user.email, DEFAULT_PASSWORD) == 200


@pytest.mark.parametrize(
    "token",
    ["unknown-token", "x", "A" * 43, "../../etc/passwd", "' OR '1'='1", "\u00e9\u00e8\u4e2d"],
    ids=["unknown", "short", "well-formed unknown", "path", "sql", "non-ascii"],
)
def test_reset_password_with_unknown_token_is_bad_request(
    client: FlaskClient, user: User, token: str
) -> None:
    response = client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert_error(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "abc"},
        {"new_password": NEW_PASSWORD},
        {"token": 1, "new_password": 2},
        {"token": "", "new_password": NEW_PASSWORD},
        {"token": "\ud800", "new_password": NEW_PASSWORD},
        {"token": "t" * 10_000, "new_password": NEW_PASSWORD},
    ],
    ids=[
        "empty",
        "no password",
        "no token",
        "wrong types",
        "empty token",
        "lone surrogate",
        "huge",
    ],
)
def test_reset_password_with_malformed_body_is_rejected(
    client: FlaskClient, body: dict[str, object]
) -> None:
    response = client.post(RESET, json=body)
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code)


def test_reset_password_with_too_short_password_keeps_token_usable(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    token = issue_token(db, runtime, user)
    short = client.post(RESET, json={"token": token, "new_password": "short"})
    assert short.status_code in (400, 422)
    assert_error(short, short.status_code, field="new_password")
    ok = client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    assert ok.status_code == 200


def test_reset_password_of_inactive_user_spends_the_token_for_good(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    token = issue_token(db, runtime, user)
    db.execute(update(User).where(User.id == user.id).values(is_active=False))
    db.commit()
    new_password = {"token": token, "new_password": NEW_PASSWORD}
    assert_error(client.post(RESET, json=new_password), 400)

    db.execute(update(User).where(User.id == user.id).values(is_active=True))
    db.commit()
    assert_error(client.post(RESET, json=new_password), 400)
    assert login(client, user.email, DEFAULT_PASSWORD) == 200


def test_deactivating_a_user_kills_outstanding_reset_links(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    user: User,
    superuser_headers: dict[str, str],
) -> None:
    token = issue_token(db, runtime, user)
    off = client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=superuser_headers
    )
    assert off.status_code == 200
    on = client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": True}, headers=superuser_headers
    )
    assert on.status_code == 200
    assert_error(client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD}), 400)


def test_reset_password_ends_every_session(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    assert login(client, user.email, DEFAULT_PASSWORD) == 200
    headers = auth_headers(runtime, user)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200

    token = issue_token(db, runtime, user)
    assert (
        client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD}).status_code == 200
    )

    stale = client.get("/api/v1/users/me", headers=headers)
    assert_error(stale, 401)
    assert stale.headers["WWW-Authenticate"] == "Bearer"
    assert_error(client.post("/api/v1/login/refresh"), 401)
