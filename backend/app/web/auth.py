"""Who is calling: the bearer token's user, and the permission checks on them."""

from __future__ import annotations

from flask import g, request

from app.core import request_context
from app.models import User
from app.services import auth
from app.services.errors import AuthenticationFailed, PermissionDenied
from app.services.permissions import Permission, has_permission
from app.web.db import runtime, session


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
        user = auth.user_from_access_token(session=session(), codec=runtime().tokens, token=token)
        g.current_user = user
        # The request's log lines name who made it from here on (unbound at its end).
        request_context.bind_user(user.id)
    assert isinstance(user, User)
    return user


def require(permission: Permission) -> User:
    """The current user if they hold `permission`; 403 otherwise."""
    user = current_user()
    if not has_permission(user, permission):
        raise PermissionDenied("Not enough permissions")
    return user


def require_superuser() -> User:
    user = current_user()
    if not user.is_superuser:
        raise PermissionDenied("Only a superuser can do this")
    return user
