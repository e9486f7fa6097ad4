"""Rate limits (Flask-Limiter): in Redis when configured, in memory otherwise.

Limits are read from settings when a request arrives, so tests and deployments
change them without code.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.core.config import Settings
from app.web.db import runtime

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def init_app(app: Flask, settings: Settings) -> None:
    app.config.update(
        RATELIMIT_ENABLED=settings.RATE_LIMIT_ENABLED,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage_url,
        # If Redis goes away, keep serving rather than fail every login.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_KEY_PREFIX=f"ratelimit:{settings.PROJECT_NAME}",
    )
    limiter.init_app(app)


def setting(name: str) -> Callable[[], str]:
    """A limit read from the named setting at request time."""

    def value() -> str:
        return str(getattr(runtime().settings, name))

    return value


def login_account_key() -> str:
    """The account a login attempt targets, so one account can't be brute-forced
    from many addresses."""
    data = request.form if request.form else (request.get_json(silent=True) or {})
    username = data.get("username") if isinstance(data, dict) or hasattr(data, "get") else None
    return "login:" + (str(username).strip().lower() if username else "-")
