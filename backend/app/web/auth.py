"""Who is calling: the bearer token's user, and the permission checks on them.

Two kinds of bearer token: a password login's short-lived JWT, and a personal access
token (known by its prefix). A personal access token limits the request to its
permissions (request_context.scope, which every permission check applies) and
never carries superuser status; `require_interactive` keeps it from the account's
own security settings.
"""

from __future__ import annotations

from flask import g, request

from app.core import request_context
from app.db.base import utcnow
from app.models import User
from app.services import auth, personal_tokens
from app.services.errors import AuthenticationFailed, PermissionDenied
from app.services.permissions import Permission, acts_as_superuser, has_permission
from app.web.db import runtime, session

INTERACTIVE_ONLY = "A personal access token cannot do this: log in with your password"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user() -> User:
    """The authenticated user (cached for the request); 401 without a valid token."""
    user = g.get("current_user")
    if user is None:
        token = bearer_token()
        if token is None:
            raise AuthenticationFailed("Not authenticated")
        if runtime().personal_tokens.recognizes(token):
            user = _user_from_personal_token(token)
        else:
            user = auth.user_from_access_token(
                session=session(), codec=runtime().tokens, token=token
            )
        g.current_user = user
        # The request's log lines name who made it from here on (unbound at its end).
        request_context.bind_user(user.id)
    assert isinstance(user, User)
    return user


def _user_from_personal_token(token: str) -> User:
    now = utcnow()
    user, record = personal_tokens.authenticate(
        session=session(), codec=runtime().personal_tokens, token=token, now=now
    )
    g.personal_token_id = record.id
    # From here on, every permission check of this request sees the token's limits
    # (unbound at the request's end, with the request id).
    request_context.bind_scope((user.id, frozenset(record.permissions)))
    if personal_tokens.needs_touch(record, now):
        # On the request's own connection, not a second one from the pool (requests
        # waiting for a second connection could take the whole pool). A GET's runs
        # without a transaction, so this commits at once; other methods' commits
        # with the request's transaction (a use by a failed request is not kept).
        personal_tokens.touch(connection=session().connection(), token_id=record.id, now=now)
    return user


def require_interactive() -> User:
    """The current user, when they authenticated with their password (a login's
    token); 403 for a personal access token. For what a leaked script token must
    never reach: tokens themselves, the password, the email, MFA."""
    user = current_user()
    if g.get("personal_token_id") is not None:
        raise PermissionDenied(INTERACTIVE_ONLY)
    return user


def require(permission: Permission) -> User:
    """The current user if they hold `permission`; 403 otherwise."""
    user = current_user()
    if not has_permission(user, permission):
        raise PermissionDenied("Not enough permissions")
    return user


def require_superuser() -> User:
    user = current_user()
    if not acts_as_superuser(user):
        raise PermissionDenied("Only a superuser can do this")
    return user
