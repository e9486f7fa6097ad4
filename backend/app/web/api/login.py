"""Login, token refresh, logout, password recovery and reset."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any

from flask import Response, make_response, request
from flask_restx import Namespace, Resource, reqparse

from app.core.security import InvalidTokenError
from app.queue import RECOVER_PASSWORD
from app.schemas.auth import NewPassword, Token
from app.schemas.mfa import LoginRefused, MfaLogin
from app.schemas.users import UserPublic
from app.services import audit, auth, users
from app.services.audit import Action
from app.services.errors import (
    AuthenticationFailed,
    BadRequest,
    EmailVerificationRequired,
    InvalidInput,
    MfaRequired,
    PermissionDenied,
    Unavailable,
)
from app.web.auth import current_user
from app.web.db import runtime, session
from app.web.limits import limiter, login_account_key, mfa_account_key, setting
from app.web.payload import form_or_json

from .schema import errors, message_model, register_common_models
from .shapes import answer, document, read_body
from .users import public_user, user_model

logger = logging.getLogger(__name__)

ns = Namespace("login", description="Log in, refresh, log out, recover a password")
register_common_models(ns)
ns.add_model(user_model.name, user_model)

REFRESH_COOKIE = "refresh_token"
REFRESH_COOKIE_PATH = "/api/v1/login"
RECOVERY_MESSAGE = "If that account exists, a password recovery email has been sent"

token_model = document(ns, Token)
login_refused_model = document(ns, LoginRefused)
mfa_login_model = document(ns, MfaLogin)
login_form = reqparse.RequestParser()
login_form.add_argument("username", location="form", required=True, help="The email address")
login_form.add_argument("password", location="form", required=True)
login_form.add_argument("grant_type", location="form", required=False, choices=("password",))


def _credentials() -> tuple[str, str]:
    """username and password from the form (OAuth2) or a JSON body."""
    data = form_or_json()
    if "grant_type" in data and data["grant_type"] != "password":
        # OAuth2's other grants (client credentials, codes) are not offered here.
        raise BadRequest(
            "Unsupported grant type", {"grant_type": "Only the password grant is supported"}
        )
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        missing = {
            name: "This field is required"
            for name, value in (("username", username), ("password", password))
            if not isinstance(value, str)
        }
        raise InvalidInput("Input payload validation failed", missing)
    return username, password


def _token_response(tokens: auth.IssuedTokens) -> Response:
    token = {
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "expires_in": tokens.expires_in,
    }
    response = make_response(answer(Token, token))
    set_refresh_cookie(response, tokens.refresh_token, tokens.refresh_expires_at)
    response.headers["Cache-Control"] = "no-store"
    return response


def set_refresh_cookie(response: Response, value: str, expires: datetime | None) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        value,
        expires=expires,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=runtime().settings.refresh_cookie_secure,
    )


@ns.route("/access-token")
class AccessToken(Resource):
    @ns.doc("loginAccessToken", security=[])
    @ns.expect(login_form)
    @ns.response(200, "Logged in; the refresh token is set as an httpOnly cookie", token_model)
    @ns.response(
        403,
        "Inactive user; or a second factor is due; or the email address is not verified",
        login_refused_model,
    )
    @errors(ns, 400, 401, 413, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_LOGIN_IP"))
    @limiter.limit(setting("RATE_LIMIT_LOGIN_ACCOUNT"), key_func=login_account_key)
    def post(self) -> Response:
        """Log in with email and password (OAuth2 password grant); JSON is accepted too."""
        username, password = _credentials()
        rt = runtime()
        try:
            tokens = auth.login(
                session=session(),
                hasher=rt.hasher,
                codec=rt.tokens,
                settings=rt.settings,
                email=username,
                password=password,
            )
        except MfaRequired:
            session().commit()  # the challenge its mfa_token names
            raise
        except (AuthenticationFailed, PermissionDenied) as exc:
            _record_failed_login(username, exc)
            raise
        user = tokens.user
        audit.record(session(), Action.LOGIN_SUCCEEDED, actor=user, target=("user", user.id))
        session().commit()
        return _token_response(tokens)


@ns.route("/mfa")
class MfaLoginStep(Resource):
    @ns.doc("loginMfa", security=[])
    @ns.expect(mfa_login_model)
    @ns.response(200, "Logged in; the refresh token is set as an httpOnly cookie", token_model)
    @errors(ns, 400, 401, 413, 415, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_LOGIN_IP"))
    @limiter.limit(setting("RATE_LIMIT_LOGIN_ACCOUNT"), key_func=mfa_account_key)
    def post(self) -> Response:
        """Finish a login with two-factor authentication: a code from the app, or a
        recovery code."""
        body = read_body(MfaLogin)
        rt = runtime()
        try:
            tokens = auth.login_with_code(
                session=session(),
                codec=rt.tokens,
                crypto=rt.mfa_crypto,
                settings=rt.settings,
                mfa_token=body.mfa_token,
                code=body.code,
            )
        except AuthenticationFailed:
            session().commit()  # the wrong code counts against the token
            _record_failed_code(body.mfa_token)
            raise
        user = tokens.user
        audit.record(
            session(),
            Action.LOGIN_SUCCEEDED,
            actor=user,
            target=("user", user.id),
            details={"mfa": True},
        )
        session().commit()
        return _token_response(tokens)


def _user_target(user: Any) -> tuple[str, object] | None:
    return ("user", user.id) if user is not None else None


def _record_failed_code(mfa_token: str) -> None:
    """A wrong or spent second step, kept in a transaction of its own; the actor is
    the account a token this server signed names."""
    try:
        user_id: int | None = runtime().tokens.mfa.decode(mfa_token).user_id
    except InvalidTokenError:
        user_id = None
    user = users.get_user(session=session(), user_id=user_id) if user_id is not None else None
    audit.record(session(), Action.LOGIN_MFA_FAILED, actor=user, target=_user_target(user))
    session().commit()


def _record_failed_login(username: str, exc: Exception) -> None:
    """A failed attempt is kept though the login fails: in a transaction of its own.
    The actor is the account the email reaches, if any."""
    session().rollback()
    user = users.get_user_by_email(session=session(), email=username)
    if isinstance(exc, EmailVerificationRequired):
        reason = "email_not_verified"
    elif isinstance(exc, PermissionDenied):
        reason = "inactive"
    else:
        reason = "invalid_credentials"
    audit.record(
        session(),
        Action.LOGIN_FAILED,
        actor=user,
        target=_user_target(user),
        details={"email": users.login_key(username)[:255], "reason": reason},
    )
    session().commit()


@ns.route("/refresh")
class Refresh(Resource):
    @ns.doc("loginRefresh", security=[])
    @ns.response(200, "New access token; the refresh cookie is rotated", token_model)
    @ns.response(403, "The email address is not verified", login_refused_model)
    @errors(ns, 401)
    def post(self) -> Response:
        """Exchange the refresh cookie for a new access token (and a new cookie)."""
        rt = runtime()
        try:
            tokens = auth.refresh(
                session=session(),
                codec=rt.tokens,
                settings=rt.settings,
                refresh_token=request.cookies.get(REFRESH_COOKIE),
            )
        except AuthenticationFailed:
            session().commit()  # keep a reuse-detection revocation
            raise
        session().commit()
        return _token_response(tokens)


@ns.route("/logout")
class Logout(Resource):
    @ns.doc("logout", security=[])
    @ns.response(204, "Logged out")
    def post(self) -> Response:
        """Revoke the refresh token and clear its cookie."""
        user = auth.logout(session=session(), refresh_token=request.cookies.get(REFRESH_COOKIE))
        if user is not None:
            audit.record(session(), Action.LOGOUT, actor=user, target=("user", user.id))
        session().commit()
        response = make_response("", 204)
        response.delete_cookie(
            REFRESH_COOKIE,
            path=REFRESH_COOKIE_PATH,
            httponly=True,
            samesite="Strict",
            secure=runtime().settings.refresh_cookie_secure,
        )
        return response


@ns.route("/test-token")
class TestToken(Resource):
    @ns.doc("testToken")
    @ns.response(200, "The current user", user_model)
    @errors(ns, 401, 403)
    def post(self) -> dict[str, Any]:
        """Check an access token: returns its user."""
        return answer(UserPublic, public_user(current_user()))


recovery_ns = Namespace("password-recovery", description="Password recovery")
register_common_models(recovery_ns)


@recovery_ns.route("/<string:email>")
@recovery_ns.param("email", "The account's email address")
class PasswordRecovery(Resource):
    @recovery_ns.doc("recoverPassword", security=[])
    @recovery_ns.response(200, "Same answer whether or not the account exists", message_model)
    @errors(recovery_ns, 429)
    @limiter.limit(setting("RATE_LIMIT_PASSWORD_RECOVERY"))
    def post(self, email: str) -> dict[str, str]:
        """Email a password reset link, if the account exists."""
        # The worker looks the account up: here, the work (and so the time taken)
        # is the same whether or not it exists. A broker failure is logged by the
        # queue, and answered the same way too.
        with contextlib.suppress(Unavailable):
            runtime().queue.enqueue(RECOVER_PASSWORD, email)
        return {"message": RECOVERY_MESSAGE}


reset_ns = Namespace("reset-password", description="Password reset")
register_common_models(reset_ns)
reset_model = document(reset_ns, NewPassword)


@reset_ns.route("/")
class ResetPassword(Resource):
    @reset_ns.doc("resetPassword", security=[])
    @reset_ns.expect(reset_model)
    @reset_ns.response(200, "Password changed; every session of the user is ended", message_model)
    @errors(reset_ns, 400, 413, 415, 422)
    def post(self) -> dict[str, str]:
        """Set a new password with the token from a reset email."""
        body = read_body(NewPassword)
        try:
            user = auth.reset_password(
                session=session(),
                hasher=runtime().hasher,
                token=body.token,
                new_password=body.new_password,
            )
        except BadRequest:
            session().commit()  # a token refused after it was spent stays spent
            raise
        audit.record(session(), Action.PASSWORD_RESET, actor=user, target=("user", user.id))
        session().commit()
        return {"message": "Password updated successfully"}
