"""The application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core import error_tracking, tracing
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.runtime import Runtime
from app.web import (
    access_log,
    db,
    errors,
    limits,
    metrics,
    payload,
    request_id,
    response_headers,
)
from app.web.api import register_api
from app.web.json_provider import JSONProvider

logger = logging.getLogger(__name__)


class App(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """Already logged, once and with the request id, by `errors.error_result`."""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the app. Tests pass their own settings or runtime; servers pass nothing."""
    if runtime is None:
        runtime = Runtime.from_settings(settings or get_settings())
    settings = runtime.settings
    configure_logging(settings.LOG_LEVEL, settings.log_format)
    error_tracking.init(settings, "flask")

    app = App(__name__, static_folder=None)
    # Every path answers with and without its trailing slash, never by a redirect
    # (clients that do not follow one would fail; a POST's body would be resent).
    app.url_map.strict_slashes = False
    app.wsgi_app = payload.BodyLimit(  # type: ignore[method-assign]
        app.wsgi_app, settings.MAX_CONTENT_LENGTH
    )
    app.wsgi_app = response_headers.ResponseHeaders(app.wsgi_app)  # type: ignore[method-assign]
    if settings.PROXY_COUNT:
        # Behind Traefik: trust its X-Forwarded-* headers for the client address
        # (rate limits) and the scheme and host (links in the docs).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.PROXY_COUNT,
            x_proto=settings.PROXY_COUNT,
            x_host=settings.PROXY_COUNT,
        )
    app.config.update(
        MAX_CONTENT_LENGTH=settings.MAX_CONTENT_LENGTH,
        # Errors are shaped by our handlers, never by restx's "did you mean" hints.
        RESTX_ERROR_404_HELP=False,
        RESTX_MASK_SWAGGER=False,
        SWAGGER_UI_DOC_EXPANSION="list",
        SWAGGER_UI_OPERATION_ID=True,
        SWAGGER_UI_REQUEST_DURATION=True,
        SWAGGER_UI_OAUTH_CLIENT_ID="swagger-ui",
    )
    app.json = JSONProvider(app)
    app.extensions["runtime"] = runtime

    request_id.init_app(app)
    access_log.init_app(app, enabled=settings.WEB_ACCESS_LOG)
    metrics.init_app(app, runtime)
    db.init_app(app)
    limits.init_app(app, settings)
    if settings.cors_origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": settings.cors_origins}},
            supports_credentials=True,
            expose_headers=["Retry-After", "X-Request-ID"],
        )
    register_api(app)
    errors.init_app(app)
    if tracing.init(settings, "api", engines=[runtime.engine]):
        from app.web import tracing as request_tracing  # OpenTelemetry's: only when on

        request_tracing.instrument(app)
    logger.debug("application created (environment=%s)", settings.ENVIRONMENT)
    return app
