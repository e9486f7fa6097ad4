"""Two-factor authentication (TOTP): each user's own enrollment, and an admin's reset.
The login's second step is in login.py."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource

from app.schemas.mfa import RecoveryCodes, TotpConfirm, TotpDisable, TotpEnrollment, TotpStart
from app.services import audit, mfa, users
from app.services.audit import Action
from app.services.errors import NotFound, PermissionDenied
from app.services.permissions import Permission, acts_as_superuser
from app.web.auth import require, require_interactive
from app.web.db import runtime, session
from app.web.limits import limiter, setting

from .schema import checked_id, errors, register_common_models
from .shapes import answer, document, read_body

ns = Namespace("mfa", description="Two-factor authentication (TOTP)")
register_common_models(ns)

start_model = document(ns, TotpStart)
enrollment_model = document(ns, TotpEnrollment)
confirm_model = document(ns, TotpConfirm)
recovery_codes_model = document(ns, RecoveryCodes)
disable_model = document(ns, TotpDisable)


@ns.route("/me/mfa/totp")
class TotpEnroll(Resource):
    @ns.doc("startTotpEnrollment")
    @ns.expect(start_model)
    @ns.response(200, "A new secret, not active until confirmed", enrollment_model)
    @errors(ns, 400, 401, 403, 409, 413, 415, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_LOGIN_IP"))
    def post(self) -> Response:
        """Start turning on two-factor authentication: needs your password."""
        user = require_interactive()
        body = read_body(TotpStart)
        rt = runtime()
        secret, uri = mfa.start_enrollment(
            session=session(),
            hasher=rt.hasher,
            crypto=rt.mfa_crypto,
            settings=rt.settings,
            user=user,
            password=body.password,
        )
        session().commit()
        return _no_store(answer(TotpEnrollment, {"secret": secret, "otpauth_uri": uri}))


@ns.route("/me/mfa/totp/confirm")
class TotpConfirmation(Resource):
    @ns.doc("confirmTotpEnrollment")
    @ns.expect(confirm_model)
    @ns.response(200, "On; the recovery codes, shown this once", recovery_codes_model)
    @errors(ns, 400, 401, 403, 409, 413, 415, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_LOGIN_IP"))
    def post(self) -> Response:
        """Turn on two-factor authentication with a code from the app."""
        user = require_interactive()
        body = read_body(TotpConfirm)
        codes = mfa.confirm_enrollment(
            session=session(), crypto=runtime().mfa_crypto, user=user, code=body.code
        )
        audit.record(session(), Action.MFA_ENABLED, actor=user, target=("user", user.id))
        session().commit()
        return _no_store(answer(RecoveryCodes, {"recovery_codes": codes}))


@ns.route("/me/mfa/totp/disable")
class TotpDisabling(Resource):
    @ns.doc("disableTotp")
    @ns.expect(disable_model)
    @ns.response(204, "Off")
    @errors(ns, 400, 401, 403, 413, 415, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_LOGIN_IP"))
    def post(self) -> Response:
        """Turn off two-factor authentication: needs your password and a code."""
        user = require_interactive()
        body = read_body(TotpDisable)
        rt = runtime()
        mfa.disable(
            session=session(),
            hasher=rt.hasher,
            crypto=rt.mfa_crypto,
            user=user,
            password=body.password,
            code=body.code,
        )
        audit.record(session(), Action.MFA_DISABLED, actor=user, target=("user", user.id))
        session().commit()
        return make_response("", 204)


@ns.route("/<int:user_id>/mfa")
@ns.param("user_id", "The user's id")
class UserMfa(Resource):
    @ns.doc("resetUserMfa")
    @ns.response(204, "Off, and every session of the user ended")
    @errors(ns, 401, 403, 404)
    def delete(self, user_id: int) -> Response:
        """Turn off a user's two-factor authentication, e.g. a lost device (users:write)."""
        actor = require(Permission.USERS_WRITE)
        target = users.get_user(session=session(), user_id=checked_id(user_id))
        if target is None:
            raise NotFound("User not found")
        if target.is_superuser and not acts_as_superuser(actor):
            raise PermissionDenied("Only a superuser can change superuser accounts")
        mfa.reset(session=session(), user=target)
        audit.record(
            session(),
            Action.MFA_DISABLED,
            actor=actor,
            target=("user", target.id),
            details={"reset_by_admin": True},
        )
        session().commit()
        return make_response("", 204)


def _no_store(body: dict[str, Any]) -> Response:
    """Secrets and recovery codes must not stay in a cache."""
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response
