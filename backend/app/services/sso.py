"""Single sign-on with OpenID Connect: the authorization code flow with PKCE
(S256), `state` and `nonce`, against the providers of SSO_PROVIDERS.

The API keeps no session: what a login started (state, nonce, PKCE verifier) goes
to the browser sealed (signed, expiring) in a cookie that only the callback sees,
and comes back with the provider's answer. Authlib builds the authorization URL,
exchanges the code and checks the ID token (signature by the provider's keys,
issuer, audience, times, nonce).

Every failure is an SsoFailed with a short code the login page explains
(docs/security.md lists them); none is a server error.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as jose_jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings, SsoProvider
from app.core.security import PasswordHasher
from app.models import Group, User
from app.services import users
from app.services.errors import Conflict, InvalidInput

# Minutes a started login may take at the provider before its callback.
PENDING_MINUTES = 10
# Seconds the discovery document and the provider's keys are reused.
CACHE_SECONDS = 300
PENDING_AUDIENCE = "sso-pending"


class SsoFailed(Exception):
    """A single sign-on that did not succeed; `code` goes to the login page."""

    def __init__(self, code: str, *, user: User | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.user = user


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the callback needs from the start of a login."""

    provider: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class SsoLogin:
    """A user the provider vouched for, and what the login changed."""

    user: User
    created: bool
    groups_added: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)


def redirect_uri(settings: Settings, provider: SsoProvider) -> str:
    """The callback the provider sends the browser back to: on the site's public
    origin, where the proxy routes /api to the API."""
    return f"{settings.FRONTEND_HOST.rstrip('/')}/api/v1/login/sso/{provider.name}/callback"


# --- the provider's documents, briefly cached --------------------------------

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def _get_json(url: str, settings: Settings, *, force: bool = False) -> dict[str, Any]:
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(url)
    if cached is not None and cached[0] > now and not force:
        return cached[1]
    try:
        response = requests.get(url, timeout=settings.SSO_HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SsoFailed("provider_unreachable") from exc
    if not isinstance(document, dict):
        raise SsoFailed("provider_unreachable")
    with _cache_lock:
        _cache[url] = (now + CACHE_SECONDS, document)
    return document


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _metadata(settings: Settings, provider: SsoProvider) -> dict[str, Any]:
    metadata = _get_json(f"{provider.issuer_url}/.well-known/openid-configuration", settings)
    # The document must be the issuer's own (OpenID Connect Discovery, 4.3).
    if metadata.get("issuer") != provider.issuer_url and metadata.get("issuer") != str(
        provider.issuer
    ):
        raise SsoFailed("provider_misconfigured")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise SsoFailed("provider_misconfigured")
    return metadata


def _client(settings: Settings, provider: SsoProvider) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret.get_secret_value(),
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri(settings, provider),
        code_challenge_method="S256",
    )


# --- the pending login, sealed for the browser -------------------------------


def _pending_key(settings: Settings) -> bytes:
    # A key of its own, derived from SECRET_KEY: nothing else it signs is a pending login.
    return hmac.new(
        settings.SECRET_KEY.get_secret_value().encode(), b"sso-pending", hashlib.sha256
    ).digest()


def seal(settings: Settings, pending: PendingLogin) -> str:
    payload = {
        "aud": PENDING_AUDIENCE,
        "exp": datetime.now(UTC) + timedelta(minutes=PENDING_MINUTES),
        "provider": pending.provider,
        "state": pending.state,
        "nonce": pending.nonce,
        "verifier": pending.code_verifier,
    }
    return jwt.encode(payload, _pending_key(settings), algorithm="HS256")


def unseal(settings: Settings, sealed: str | None, provider: SsoProvider) -> PendingLogin:
    """The pending login of this browser for this provider; state_mismatch when
    there is none (expired, forged, another provider's)."""
    if not sealed:
        raise SsoFailed("state_mismatch")
    try:
        payload = jwt.decode(
            sealed, _pending_key(settings), algorithms=["HS256"], audience=PENDING_AUDIENCE
        )
    except jwt.PyJWTError as exc:
        raise SsoFailed("state_mismatch") from exc
    values = [payload.get(key) for key in ("provider", "state", "nonce", "verifier")]
    if not all(isinstance(value, str) and value for value in values):
        raise SsoFailed("state_mismatch")
    pending = PendingLogin(*(str(value) for value in values))
    if pending.provider != provider.name:
        raise SsoFailed("state_mismatch")
    return pending


# --- the flow ------------------------------------------------------------------


def begin(settings: Settings, provider: SsoProvider) -> tuple[str, PendingLogin]:
    """The provider's authorization URL to send the browser to, and what to keep
    until it comes back."""
    metadata = _metadata(settings, provider)
    pending = PendingLogin(
        provider=provider.name,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),
    )
    with _client(settings, provider) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
    return url, pending


def verified_claims(
    settings: Settings, provider: SsoProvider, pending: PendingLogin, params: Mapping[str, str]
) -> dict[str, Any]:
    """The ID token's claims, after the provider's answer and the token are checked."""
    error = params.get("error")
    if error:
        raise SsoFailed("access_denied" if error == "access_denied" else "provider_error")
    state = params.get("state") or ""
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise SsoFailed("state_mismatch")
    code = params.get("code")
    if not code:
        raise SsoFailed("provider_error")
    metadata = _metadata(settings, provider)
    with _client(settings, provider) as client:
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                code=code,
                code_verifier=pending.code_verifier,
                timeout=settings.SSO_HTTP_TIMEOUT,
            )
        except OAuthError as exc:
            raise SsoFailed("provider_error") from exc
        except (requests.RequestException, ValueError) as exc:
            raise SsoFailed("provider_unreachable") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoFailed("invalid_token")
    return _check_id_token(settings, provider, metadata, pending, id_token, token)


def _check_id_token(
    settings: Settings,
    provider: SsoProvider,
    metadata: Mapping[str, Any],
    pending: PendingLogin,
    id_token: str,
    token: Mapping[str, Any],
) -> dict[str, Any]:
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    # Never "none", nor a shared-secret algorithm chosen by the token's header.
    registry = JWSRegistry(
        algorithms=[alg for alg in algorithms if alg != "none" and not alg.startswith("HS")],
        strict_check_header=False,
    )
    try:
        try:
            keys = KeySet.import_key_set(cast(Any, _get_json(metadata["jwks_uri"], settings)))
            decoded = jose_jwt.decode(id_token, keys, registry=registry)
        except InvalidKeyIdError:
            # The provider rotated its keys since they were cached.
            keys = KeySet.import_key_set(
                cast(Any, _get_json(metadata["jwks_uri"], settings, force=True))
            )
            decoded = jose_jwt.decode(id_token, keys, registry=registry)
    except BadSignatureError as exc:
        raise SsoFailed("invalid_token") from exc
    except (JoseError, ValueError) as exc:
        raise SsoFailed("invalid_token") from exc
    params: dict[str, Any] = {"nonce": pending.nonce, "client_id": provider.client_id}
    if isinstance(token.get("access_token"), str):
        params["access_token"] = token["access_token"]
    options = {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "value": provider.client_id},
    }
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    try:
        claims.validate(leeway=settings.SSO_CLOCK_SKEW_SECONDS)
    except ExpiredTokenError as exc:
        raise SsoFailed("token_expired") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        reasons = {"aud": "wrong_audience", "azp": "wrong_audience", "nonce": "nonce_mismatch"}
        raise SsoFailed(reasons.get(exc.claim, "invalid_token")) from exc
    except (JoseError, ValueError) as exc:
        raise SsoFailed("invalid_token") from exc
    return dict(claims)


# --- the local account ---------------------------------------------------------


def _email(provider: SsoProvider, claims: Mapping[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise SsoFailed("email_missing")
    # Only an address the provider checked belongs to its user may reach an account.
    if claims.get("email_verified") is not True:
        raise SsoFailed("email_unverified")
    try:
        normalized = users.normalize_email(email)
    except InvalidInput as exc:
        raise SsoFailed("email_missing") from exc
    domain = normalized.rpartition("@")[2]
    if provider.allowed_domains and domain not in provider.allowed_domains:
        raise SsoFailed("domain_not_allowed")
    return normalized


def _claimed_groups(provider: SsoProvider, claims: Mapping[str, Any]) -> set[str]:
    if not provider.groups_claim:
        return set()
    value = claims.get(provider.groups_claim)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def _sync_groups(
    session: Session, provider: SsoProvider, user: User, claims: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """Membership of the mapped local groups follows the provider's claim; the
    user's other groups stay as they are. Mapped groups that do not exist here are
    skipped (an admin creates them)."""
    mapped = {name.lower() for name in provider.group_mapping.values()}
    if not mapped:
        return [], []
    wanted = {
        provider.group_mapping[name].lower()
        for name in _claimed_groups(provider, claims)
        if name in provider.group_mapping
    }
    groups = session.scalars(select(Group).where(func.lower(Group.name).in_(mapped))).all()
    added, removed = [], []
    for group in groups:
        member = any(g.id == group.id for g in user.groups)
        if group.name.lower() in wanted and not member:
            user.groups.append(group)
            added.append(group.name)
        elif group.name.lower() not in wanted and member:
            user.groups.remove(group)
            removed.append(group.name)
    session.flush()
    return sorted(added), sorted(removed)


def complete(
    *,
    session: Session,
    hasher: PasswordHasher,
    settings: Settings,
    provider: SsoProvider,
    claims: Mapping[str, Any],
) -> SsoLogin:
    """The local user for the provider's verified claims: matched by email, or
    created when the provider allows it; mapped groups synced. The caller issues
    the session and commits."""
    email = _email(provider, claims)
    user = users.get_user_by_email(session=session, email=email)
    created = False
    if user is None:
        if not provider.create_users:
            raise SsoFailed("unknown_user")
        name = claims.get("name")
        try:
            user = users.create_user(
                session=session,
                hasher=hasher,
                email=email,
                # Nobody knows it: the account signs in through the provider, or sets
                # a password by recovery.
                password=secrets.token_urlsafe(48),
                full_name=name[:255] if isinstance(name, str) and name else None,
            )
        except Conflict as exc:
            # Another sign-in created the account a moment ago: the next one finds it.
            raise SsoFailed("try_again") from exc
        created = True
    if not user.is_active:
        raise SsoFailed("inactive_user", user=user)
    if not user.email_verified:
        # The provider proved the address; nobody had here. Whoever signed up with
        # it may not own it (an account made in advance for someone else's
        # address): its password and sessions go, the owner can set one by recovery.
        users.set_password(
            session=session, hasher=hasher, user=user, password=secrets.token_urlsafe(48)
        )
        user.email_verified = True
    added, removed = _sync_groups(session, provider, user, claims)
    return SsoLogin(user=user, created=created, groups_added=added, groups_removed=removed)
