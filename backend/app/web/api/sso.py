"""Single sign-on with OpenID Connect: the providers, the start of a login and the
provider's callback (app/services/sso.py does the work)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Response, make_response, redirect, request
from flask_restx import Namespace, Resource

from app.core.config import Settings, SsoProvider
from app.schemas.sso import SsoProviders
from app.services import audit, auth, sso
from app.services.audit import Action
from app.services.errors import NotFound
from app.web.db import runtime, session, transactional

from .login import set_refresh_cookie
from .schema import errors, register_common_models
from .shapes import answer, document

logger = logging.getLogger(__name__)

ns = Namespace("sso", description="Single sign-on with OpenID Connect")
register_common_models(ns)

providers_model = document(ns, SsoProviders)

PENDING_COOKIE = "sso_pending"
# Where the browser lands: the login page with an error code, or the page that
# trades the refresh cookie for an access token.
LOGIN_PAGE = "/login"
LANDING_PAGE = "/login/sso"


def _callback_path(provider: SsoProvider) -> str:
    return f"/api/v1/login/sso/{provider.name}/callback"


def _provider(name: str) -> SsoProvider:
    provider = runtime().settings.sso_provider(name)
    if provider is None:
        raise NotFound("Unknown single sign-on provider")
    return provider


def _frontend(settings: Settings, path: str, **query: str) -> str:
    url = f"{settings.FRONTEND_HOST.rstrip('/')}{path}"
    return f"{url}?{urlencode(query)}" if query else url


def _redirect(url: str) -> Response:
    response = make_response(redirect(url))
    # Nothing of a sign-in's answer may be cached and replayed.
    response.headers["Cache-Control"] = "no-store"
    return response


@ns.route("/")
class ProviderList(Resource):
    @ns.doc("listSsoProviders", security=[])
    @ns.response(200, "The providers one can sign in with", providers_model)
    def get(self) -> dict[str, Any]:
        """List the single sign-on providers (public: the login page shows a button each)."""
        providers = runtime().settings.SSO_PROVIDERS
        return answer(
            SsoProviders, {"data": [{"name": p.name, "title": p.title} for p in providers]}
        )


@ns.route("/<string:name>/authorize")
@ns.param("name", "The provider's name")
class Authorize(Resource):
    @ns.doc("authorizeSso", security=[])
    @ns.response(
        302, "To the provider's sign-in page (or to the login page when it cannot be reached)"
    )
    @errors(ns, 404)
    def get(self, name: str) -> Response:
        """Start a sign-in at the provider."""
        provider = _provider(name)
        settings = runtime().settings
        try:
            url, pending = sso.begin(settings, provider)
        except sso.SsoFailed as exc:
            logger.warning("sso_start_failed", extra={"provider": name, "reason": exc.code})
            return _redirect(_frontend(settings, LOGIN_PAGE, sso_error=exc.code))
        response = _redirect(url)
        # Lax, not Strict: the browser comes back from the provider's site with a
        # top-level navigation, which must carry it.
        response.set_cookie(
            PENDING_COOKIE,
            sso.seal(settings, pending),
            max_age=sso.PENDING_MINUTES * 60,
            path=_callback_path(provider),
            httponly=True,
            samesite="Lax",
            secure=settings.refresh_cookie_secure,
        )
        return response


@ns.route("/<string:name>/callback")
@ns.param("name", "The provider's name")
class Callback(Resource):
    @ns.doc("ssoCallback", security=[])
    @ns.response(
        302,
        "Signed in: to the app with the refresh cookie set; else to the login page with sso_error",
    )
    @errors(ns, 404)
    @transactional
    def get(self, name: str) -> Response:
        """The provider sends the browser back here with a code (or an error)."""
        provider = _provider(name)
        rt = runtime()
        settings = rt.settings
        try:
            pending = sso.unseal(settings, request.cookies.get(PENDING_COOKIE), provider)
            claims = sso.verified_claims(settings, provider, pending, request.args)
            login = sso.complete(
                session=session(),
                hasher=rt.hasher,
                settings=settings,
                provider=provider,
                claims=claims,
            )
            tokens = auth.start_session(
                session=session(), codec=rt.tokens, settings=settings, user=login.user
            )
        except sso.SsoFailed as exc:
            _record_failure(provider, exc)
            response = _redirect(_frontend(settings, LOGIN_PAGE, sso_error=exc.code))
        else:
            user = login.user
            # Multi-factor authentication is the provider's to ask for: its
            # sign-in stands for both factors here (docs/security.md).
            audit.record(
                session(),
                Action.SSO_LOGIN,
                actor=user,
                target=("user", user.id),
                details={
                    "provider": provider.name,
                    "created": login.created,
                    "groups_added": login.groups_added,
                    "groups_removed": login.groups_removed,
                },
            )
            session().commit()
            response = _redirect(_frontend(settings, LANDING_PAGE))
            set_refresh_cookie(response, tokens.refresh_token, tokens.refresh_expires_at)
        # The pending login is spent either way.
        response.delete_cookie(
            PENDING_COOKIE,
            path=_callback_path(provider),
            httponly=True,
            samesite="Lax",
            secure=settings.refresh_cookie_secure,
        )
        return response


def _record_failure(provider: SsoProvider, exc: sso.SsoFailed) -> None:
    """A refused sign-in is kept, in a transaction of its own."""
    session().rollback()
    user = exc.user
    audit.record(
        session(),
        Action.LOGIN_FAILED,
        actor=user,
        target=("user", user.id) if user is not None else None,
        details={"method": "sso", "provider": provider.name, "reason": exc.code},
    )
    session().commit()
