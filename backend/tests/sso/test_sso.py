"""Single sign-on against a real OpenID provider (oidc-provider, on loopback): the
whole authorization code flow with PKCE, from our authorize endpoint through the
provider's login and consent pages to our callback and a refresh."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.models import AuditEvent, Group, User
from app.runtime import Runtime
from app.services import sso
from tests.sso.oidc import CLIENT_SECRET, OidcProvider, oidc_provider, sign_in_at_provider
from tests.utils.apps import app_with_settings
from tests.utils.databases import same_on_every_database
from tests.utils.factories import DEFAULT_PASSWORD, make_group, make_user
from tests.utils.unreachable import closed_port

FRONTEND = "http://frontend.test"
NAMES = ("test", "closed", "expired", "wrongaud", "forged", "down")
CALLBACK_PREFIX = f"{FRONTEND}/api/v1/login/sso/"
MAPPING = {"staff": "Staff", "ops": "Operators", "admins": "Admins"}


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with oidc_provider([f"{CALLBACK_PREFIX}{name}/callback" for name in NAMES]) as running:
        yield running


@pytest.fixture(scope="module")
def down_port() -> Iterator[int]:
    with closed_port() as port:
        yield port


def provider_settings(issuer: str, down_port: int) -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "issuer": issuer,
        "client_id": "app",
        "client_secret": CLIENT_SECRET,
        "scopes": ["openid", "email", "groups"],
        "groups_claim": "groups",
        "group_mapping": MAPPING,
        "create_users": True,
        "allowed_domains": ["example.com"],
    }
    return [
        {**base, "name": "test", "title": "Test IdP"},
        {**base, "name": "closed", "title": "Closed IdP", "create_users": False},
        {**base, "name": "expired", "title": "Late clock", "client_id": "expired"},
        {**base, "name": "wrongaud", "title": "Confused", "client_id": "wrong-audience"},
        {**base, "name": "forged", "title": "Forged", "client_id": "forged"},
        {**base, "name": "down", "title": "Down", "issuer": f"http://127.0.0.1:{down_port}"},
    ]


@pytest.fixture
def sso_app(runtime: Runtime, provider: OidcProvider, down_port: int, db: Session) -> Flask:
    sso.clear_cache()
    return app_with_settings(
        runtime,
        FRONTEND_HOST=FRONTEND,
        SSO_PROVIDERS=provider_settings(provider.issuer, down_port),
        SSO_CLOCK_SKEW_SECONDS=0,
        SSO_HTTP_TIMEOUT=3,
    )


@pytest.fixture
def browser(sso_app: Flask) -> FlaskClient:
    return sso_app.test_client()


def authorize(browser: FlaskClient, name: str) -> str:
    response = browser.get(f"/api/v1/login/sso/{name}/authorize")
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def back_from_provider(browser: FlaskClient, callback_url: str) -> TestResponse:
    assert callback_url.startswith(CALLBACK_PREFIX), callback_url
    parts = urlsplit(callback_url)
    return browser.get(f"{parts.path}?{parts.query}")


def sign_in(browser: FlaskClient, name: str, login: str, *, consent: bool = True) -> TestResponse:
    url = authorize(browser, name)
    return back_from_provider(
        browser, sign_in_at_provider(url, CALLBACK_PREFIX, login, consent=consent)
    )


def sso_error(response: TestResponse) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{FRONTEND}/login"
    return parse_qs(location.query)["sso_error"][0]


def signed_in(browser: FlaskClient, response: TestResponse) -> dict[str, Any]:
    """The callback sent the browser to the app with a refresh cookie, which the
    app trades for an access token."""
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == f"{FRONTEND}/login/sso"
    cookie = browser.get_cookie("refresh_token", path="/api/v1/login")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    refreshed = browser.post("/api/v1/login/refresh")
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.get_json()["access_token"]
    me = browser.post("/api/v1/login/test-token", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    body: dict[str, Any] = me.get_json()
    return body


def group_names(db: Session, email: str) -> set[str]:
    db.expire_all()
    user = db.scalars(select(User).where(User.email == email)).one()
    return {group.name for group in user.groups}


def events(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@same_on_every_database
def test_the_providers_are_listed_without_their_secrets(browser: FlaskClient) -> None:
    response = browser.get("/api/v1/login/sso/")
    assert response.status_code == 200
    assert response.get_json()["data"][:2] == [
        {"name": "test", "title": "Test IdP"},
        {"name": "closed", "title": "Closed IdP"},
    ]
    assert CLIENT_SECRET not in response.text


@same_on_every_database
def test_no_provider_no_button(runtime: Runtime, db: Session) -> None:
    response = app_with_settings(runtime).test_client().get("/api/v1/login/sso/")
    assert response.status_code == 200
    assert response.get_json() == {"data": []}


@same_on_every_database
def test_authorize_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(
    browser: FlaskClient, provider: OidcProvider
) -> None:
    response = browser.get("/api/v1/login/sso/test/authorize")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == provider.issuer
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["client_id"] == "app"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == f"{CALLBACK_PREFIX}test/callback"
    assert query["state"] and query["nonce"] and query["code_challenge"]
    cookie = response.headers["Set-Cookie"]
    assert "Path=/api/v1/login/sso/test/callback" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Cache-Control"] == "no-store"


def test_a_new_user_is_created_with_the_mapped_groups_and_synced_at_each_login(
    browser: FlaskClient, db: Session, runtime: Runtime
) -> None:
    for name in ("Staff", "Operators", "Admins", "Unrelated"):
        make_group(db, name=name)

    me = signed_in(browser, sign_in(browser, "test", "alice"))

    assert me["email"] == "alice@example.com"
    assert me["is_superuser"] is False
    assert group_names(db, "alice@example.com") == {"Staff", "Operators"}
    [event] = events(db, "sso.login")
    assert event.actor_id == me["id"]
    assert event.details["provider"] == "test"
    assert event.details["created"] is True
    assert event.details["groups_added"] == ["Operators", "Staff"]

    # Meanwhile an admin adds a mapped group the provider does not claim, another
    # group, and takes a claimed one away: the next SSO login puts the mapped ones
    # back as the provider says, and leaves the other alone.
    alice = db.scalars(select(User).where(User.email == "alice@example.com")).one()
    groups = {g.name: g for g in db.scalars(select(Group))}
    alice.groups = [groups["Operators"], groups["Admins"], groups["Unrelated"]]
    db.commit()

    second = sso_app_browser(browser)
    again = signed_in(second, sign_in(second, "test", "alice"))

    assert again["id"] == me["id"]
    assert group_names(db, "alice@example.com") == {"Staff", "Operators", "Unrelated"}
    latest = max(events(db, "sso.login"), key=lambda e: e.id)
    assert latest.details["created"] is False
    assert latest.details["groups_added"] == ["Staff"]
    assert latest.details["groups_removed"] == ["Admins"]


def sso_app_browser(browser: FlaskClient) -> FlaskClient:
    """Another browser on the same app."""
    return browser.application.test_client()


def test_an_existing_user_is_matched_by_email(
    browser: FlaskClient, db: Session, runtime: Runtime
) -> None:
    bob = make_user(db, runtime, email="BOB@example.com", full_name="Bob")
    make_group(db, name="Staff", members=[bob])

    me = signed_in(browser, sign_in(browser, "closed", "bob"))

    assert me["id"] == bob.id
    # bob's provider names no mapped group: he leaves the mapped Staff.
    assert group_names(db, "bob@example.com") == set()
    assert len(list(db.scalars(select(User)))) == 1


@same_on_every_database
def test_an_unverified_account_matched_by_email_loses_the_password_it_was_made_with(
    browser: FlaskClient, db: Session, runtime: Runtime
) -> None:
    """Whoever signed up with an address nobody verified may not own it: once its
    owner proves it at the provider, that sign-up's password must not open the
    account they now use."""
    bob = make_user(db, runtime, email="bob@example.com")
    bob.email_verified = False
    db.commit()

    me = signed_in(browser, sign_in(browser, "closed", "bob"))

    assert me["id"] == bob.id
    assert me["email_verified"] is True
    login = {"username": "bob@example.com", "password": DEFAULT_PASSWORD}
    other = sso_app_browser(browser)
    assert other.post("/api/v1/login/access-token", data=login).status_code in (400, 401)


def test_an_unknown_user_is_refused_when_the_provider_may_not_create_accounts(
    browser: FlaskClient, db: Session
) -> None:
    assert sso_error(sign_in(browser, "closed", "alice")) == "unknown_user"
    assert list(db.scalars(select(User))) == []
    [event] = events(db, "login.failed")
    assert event.details == {"method": "sso", "provider": "closed", "reason": "unknown_user"}


def test_an_inactive_user_is_refused(browser: FlaskClient, db: Session, runtime: Runtime) -> None:
    make_user(db, runtime, email="bob@example.com", is_active=False)
    assert sso_error(sign_in(browser, "test", "bob")) == "inactive_user"
    assert browser.post("/api/v1/login/refresh").status_code == 401


def test_an_unverified_email_is_refused(browser: FlaskClient, db: Session) -> None:
    assert sso_error(sign_in(browser, "test", "carol")) == "email_unverified"
    assert list(db.scalars(select(User))) == []


def test_an_email_of_another_domain_is_refused(browser: FlaskClient, db: Session) -> None:
    assert sso_error(sign_in(browser, "test", "dave")) == "domain_not_allowed"
    assert list(db.scalars(select(User))) == []


def test_a_declined_consent_is_access_denied(browser: FlaskClient, db: Session) -> None:
    assert sso_error(sign_in(browser, "test", "alice", consent=False)) == "access_denied"
    assert list(db.scalars(select(User))) == []


def test_a_callback_from_another_login_is_a_state_mismatch(
    browser: FlaskClient, db: Session
) -> None:
    first = authorize(browser, "test")
    authorize(browser, "test")  # a second start replaces the pending login
    callback = sign_in_at_provider(first, CALLBACK_PREFIX, "alice")
    assert sso_error(back_from_provider(browser, callback)) == "state_mismatch"
    assert list(db.scalars(select(User))) == []


def test_a_callback_without_a_pending_login_is_a_state_mismatch(
    browser: FlaskClient, sso_app: Flask, db: Session
) -> None:
    callback = sign_in_at_provider(authorize(browser, "test"), CALLBACK_PREFIX, "alice")
    other_browser = sso_app.test_client()
    assert sso_error(back_from_provider(other_browser, callback)) == "state_mismatch"
    # The pending login is spent by its first use.
    back_from_provider(browser, callback)
    assert sso_error(back_from_provider(browser, callback)) == "state_mismatch"


def test_an_id_token_for_another_audience_is_refused(browser: FlaskClient, db: Session) -> None:
    assert sso_error(sign_in(browser, "wrongaud", "alice")) == "wrong_audience"
    assert list(db.scalars(select(User))) == []


def test_an_id_token_signed_by_another_key_is_refused(browser: FlaskClient, db: Session) -> None:
    assert sso_error(sign_in(browser, "forged", "alice")) == "invalid_token"
    assert list(db.scalars(select(User))) == []


def test_an_expired_id_token_is_refused(browser: FlaskClient, db: Session) -> None:
    assert sso_error(sign_in(browser, "expired", "alice")) == "token_expired"
    assert list(db.scalars(select(User))) == []


def test_an_id_token_with_another_nonce_is_refused(browser: FlaskClient, db: Session) -> None:
    parts = urlsplit(authorize(browser, "test"))
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["nonce"] = "a-nonce-of-someone-else"
    tampered = urlunsplit(parts._replace(query=urlencode(query)))
    callback = sign_in_at_provider(tampered, CALLBACK_PREFIX, "alice")
    assert sso_error(back_from_provider(browser, callback)) == "nonce_mismatch"
    assert list(db.scalars(select(User))) == []


@same_on_every_database
def test_an_unknown_provider_is_not_found(browser: FlaskClient) -> None:
    for path in ("authorize", "callback"):
        response = browser.get(f"/api/v1/login/sso/nope/{path}")
        assert response.status_code == 404
        assert response.get_json()["message"]


def test_a_provider_that_is_down_sends_the_browser_back_to_the_login_page(
    browser: FlaskClient,
) -> None:
    started = time.monotonic()
    response = browser.get("/api/v1/login/sso/down/authorize")
    assert sso_error(response) == "provider_unreachable"
    assert time.monotonic() - started < 5
