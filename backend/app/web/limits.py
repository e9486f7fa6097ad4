"""Rate limits (Flask-Limiter): in Redis when configured, in memory otherwise.

Limits are read from settings when a request arrives, so tests and deployments
change them without code.

The decorators need the `limiter` at import time, so every app built in one
process shares it, and its storage is the one of the app initialised last.
Flask-Limiter's own on/off switch is process-wide too: it stays on, and each
app's `RATE_LIMIT_ENABLED` is checked per request instead, so building one app
never turns limits on or off for another.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from app.core.config import Settings
from app.core.security import InvalidTokenError
from app.services import users
from app.web.db import runtime
from app.web.payload import form_or_json

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def init_app(app: Flask, settings: Settings) -> None:
    url = settings.rate_limit_storage_url
    timeout = settings.RATE_LIMIT_STORAGE_TIMEOUT
    app.config.update(
        RATELIMIT_ENABLED=True,  # per app: see _disabled_for_this_app
        RATELIMIT_STORAGE_URI=url,
        # Every call to Redis is bounded: a store that accepts connections and
        # never answers must not hold requests (redis-py waits forever by default).
        RATELIMIT_STORAGE_OPTIONS=(
            {"socket_timeout": timeout, "socket_connect_timeout": timeout}
            if url.startswith(("redis://", "rediss://", "unix://"))
            else {}
        ),
        # If Redis goes away or hangs, keep counting in memory (each process on its
        # own) until it answers again, rather than fail every login...
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        # ...and an error past that lets the request through, logged, never a 500.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_KEY_PREFIX=f"ratelimit:{settings.PROJECT_NAME}",
    )
    # The limiter adds Retry-After to every answer of a limited endpoint:
    # response_headers drops it but from 429s.
    limiter.init_app(app)
    # The shared limiter now counts in this app's store: not in the fallback an app
    # initialised before fell back to when its store was down (Flask-Limiter keeps
    # that state across init_app, and would come back only at its next check).
    limiter._storage_dead = False  # no public way to say it


@limiter.request_filter
def _disabled_for_this_app() -> bool:
    return not runtime().settings.RATE_LIMIT_ENABLED


def setting(name: str) -> Callable[[], str]:
    """A limit read from the named setting at request time."""

    def value() -> str:
        return str(getattr(runtime().settings, name))

    return value


def login_account_key() -> str:
    """The account a login attempt targets, so one account can't be brute-forced
    from many addresses, nor under other spellings of its email."""
    try:
        username = form_or_json().get("username")
    except HTTPException:
        # A body the endpoint refuses itself (413). Raising here would not do: the
        # limiter takes any error in a key function for its store being down, and
        # would count in this process's memory from then on.
        username = None
    return "login:" + (users.login_key(username) if isinstance(username, str) else "-")


def mfa_account_key() -> str:
    """The account a login's second step targets, named by its mfa_token: codes for
    one account are limited however many tokens its password won. Only a token this
    server signed names an account; anything else shares one key."""
    try:
        token = form_or_json().get("mfa_token")
    except HTTPException:
        token = None  # as in login_account_key
    if isinstance(token, str):
        try:
            return f"login-mfa:{runtime().tokens.mfa.decode(token).user_id}"
        except InvalidTokenError:
            pass
    return "login-mfa:-"
