"""Users: the administration of accounts, and each user's own profile."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource

from app.models import User
from app.queue import SEND_EMAIL, VERIFY_EMAIL
from app.schemas.common import Message
from app.schemas.users import (
    ResendVerification,
    UpdatePassword,
    UserCreate,
    UserPublic,
    UserRegister,
    UsersPage,
    UserUpdate,
    UserUpdateMe,
    VerifyEmail,
)
from app.services import audit, users, verification
from app.services.audit import Action
from app.services.errors import BadRequest, NotFound, PermissionDenied, Unavailable
from app.services.permissions import Permission, acts_as_superuser, effective_permissions
from app.web.auth import current_user, require, require_interactive
from app.web.db import runtime, session
from app.web.limits import limiter, setting

from .schema import (
    checked_id,
    errors,
    message_model,
    page_args,
    pagination_parser,
    register_common_models,
    search_text,
)
from .shapes import With, answer, document, read_body

ns = Namespace("users", description="User accounts")
register_common_models(ns)

USER_NOT_FOUND = "User not found"

user_model = document(ns, UserPublic)
users_page_model = document(ns, UsersPage)
user_create_model = document(ns, UserCreate)
user_register_model = document(ns, UserRegister)
user_update_me_model = document(ns, UserUpdateMe)
user_update_model = document(ns, UserUpdate)
password_change_model = document(ns, UpdatePassword)
verify_email_model = document(ns, VerifyEmail)
resend_verification_model = document(ns, ResendVerification)

RESEND_MESSAGE = "If that address waits for verification, a new verification email has been sent"

list_parser = pagination_parser()
list_parser.add_argument(
    "email", type=search_text, location="args", help="Only users whose email contains this text"
)


def public_user(user: User) -> With:
    """The user with what the answer computes: the permissions their groups give."""
    return With(user, permissions=effective_permissions(user))


def _get_or_404(user_id: int) -> User:
    user = users.get_user(session=session(), user_id=checked_id(user_id))
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


def _guard_superuser_changes(actor: User, target: User | None, changes: dict[str, Any]) -> None:
    """Only a superuser may grant superuser rights or change a superuser's account."""
    if acts_as_superuser(actor):
        return
    if changes.get("is_superuser") or (target is not None and target.is_superuser):
        raise PermissionDenied("Only a superuser can change superuser accounts")


# What `user.updated` says changed: these fields by name; never a value of a secret.
AUDITED_FIELDS = (
    "email",
    "pending_email",
    "email_verified",
    "full_name",
    "is_active",
    "is_superuser",
)


def _fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in AUDITED_FIELDS}


def _record_update(actor: User, target: User, before: dict[str, Any], password: bool) -> None:
    after = _fields(target)
    changed = [name for name in AUDITED_FIELDS if before[name] != after[name]]
    if password:
        changed.append("password")
    if changed:
        audit.record(
            session(),
            Action.USER_UPDATED,
            actor=actor,
            target=("user", target.id),
            details={"fields": changed},
        )


def _record_delete(actor: User, target: User) -> None:
    audit.record(
        session(),
        Action.USER_DELETED,
        actor=actor,
        target=("user", target.id),
        details={"email": target.email},
    )


def _welcome(user: User) -> None:
    """Queue the new-account email. The account exists either way: a broker outage
    is logged by the queue and does not undo the signup."""
    with contextlib.suppress(Unavailable):
        runtime().queue.enqueue(
            SEND_EMAIL, "new_account", user.email, {"full_name": user.full_name or ""}
        )


def _send_verification(email: str, user_id: int | None = None) -> None:
    """Queue a verification link for `email` (the worker issues it, so the token
    never travels through the broker). A broker outage is logged by the queue; the
    user can ask again."""
    with contextlib.suppress(Unavailable):
        runtime().queue.enqueue(VERIFY_EMAIL, email, user_id)


@ns.route("/")
class UserList(Resource):
    @ns.doc("readUsers")
    @ns.expect(list_parser)
    @ns.response(200, "A page of users", users_page_model)
    @errors(ns, 400, 401, 403)
    def get(self) -> dict[str, Any]:
        """List users (users:read)."""
        require(Permission.USERS_READ)
        args = page_args(list_parser)
        found, count = users.list_users(
            session=session(), skip=args["skip"], limit=args["limit"], email_contains=args["email"]
        )
        return answer(UsersPage, {"data": [public_user(user) for user in found], "count": count})

    @ns.doc("createUser")
    @ns.expect(user_create_model)
    @ns.response(201, "Created", user_model)
    @errors(ns, 400, 401, 403, 409, 413, 415, 422)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create a user (users:write)."""
        actor = require(Permission.USERS_WRITE)
        body = read_body(UserCreate).model_dump()
        _guard_superuser_changes(actor, None, body)
        user = users.create_user(session=session(), hasher=runtime().hasher, **body)
        audit.record(
            session(),
            Action.USER_CREATED,
            actor=actor,
            target=("user", user.id),
            details={"email": user.email, "is_superuser": user.is_superuser},
        )
        session().commit()
        _welcome(user)
        return answer(UserPublic, public_user(user)), 201


@ns.route("/signup")
class Signup(Resource):
    @ns.doc("registerUser", security=[])
    @ns.expect(user_register_model)
    @ns.response(201, "Registered", user_model)
    @errors(ns, 400, 403, 409, 413, 415, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_SIGNUP"))
    def post(self) -> tuple[dict[str, Any], int]:
        """Create an account without logging in, when open registration is on."""
        if not runtime().settings.USERS_OPEN_REGISTRATION:
            raise PermissionDenied("Open registration is disabled on this server")
        body = read_body(UserRegister).model_dump()
        user = users.create_user(
            session=session(), hasher=runtime().hasher, email_verified=False, **body
        )
        audit.record(
            session(),
            Action.USER_CREATED,
            actor=user,
            target=("user", user.id),
            details={"email": user.email, "signup": True},
        )
        session().commit()
        # The verification email is the welcome: it says the account exists and how
        # to start using it.
        _send_verification(user.email, user.id)
        return answer(UserPublic, public_user(user)), 201


@ns.route("/verify-email")
class VerifyEmailAddress(Resource):
    @ns.doc("verifyEmail", security=[])
    @ns.expect(verify_email_model)
    @ns.response(200, "Verified; a new address asked for is now the account's", user_model)
    @errors(ns, 400, 409, 413, 415, 422)
    def post(self) -> dict[str, Any]:
        """Verify an email address with the token from the link emailed to it."""
        body = read_body(VerifyEmail)
        try:
            verified = verification.verify_email(session=session(), token=body.token)
        except BadRequest:
            session().commit()  # a token refused after it was spent stays spent
            raise
        user = verified.user
        details: dict[str, Any] = {"email": user.email}
        if verified.previous_email is not None:
            details["previous_email"] = verified.previous_email
        audit.record(
            session(), Action.EMAIL_VERIFIED, actor=user, target=("user", user.id), details=details
        )
        session().commit()
        return answer(UserPublic, public_user(user))


@ns.route("/verify-email/resend")
class ResendVerificationEmail(Resource):
    @ns.doc("resendVerificationEmail", security=[])
    @ns.expect(resend_verification_model)
    @ns.response(202, "The same answer whether or not an account waits", message_model)
    @errors(ns, 400, 413, 415, 422, 429)
    @limiter.limit(setting("RATE_LIMIT_VERIFICATION_RESEND"))
    def post(self) -> tuple[dict[str, Any], int]:
        """Email a new verification link, if an account waits for this address."""
        body = read_body(ResendVerification)
        # The worker looks the account up: here, the work (and so the time taken)
        # is the same whether or not one waits for the address.
        _send_verification(body.email)
        return answer(Message, {"message": RESEND_MESSAGE}), 202


@ns.route("/me")
class UserMe(Resource):
    @ns.doc("readUserMe")
    @ns.response(200, "The current user", user_model)
    @errors(ns, 401, 403)
    def get(self) -> dict[str, Any]:
        """Read your own account."""
        return answer(UserPublic, public_user(current_user()))

    @ns.doc("updateUserMe")
    @ns.expect(user_update_me_model)
    @ns.response(200, "Updated", user_model)
    @errors(ns, 400, 401, 403, 409, 413, 415, 422)
    def patch(self) -> dict[str, Any]:
        """Change your own name or email (a new email needs your current password, and
        takes effect once verified through the link sent to it)."""
        user = current_user()
        body = read_body(UserUpdateMe).model_dump(exclude_unset=True)
        if "email" in body:
            require_interactive()
        current_password = body.pop("current_password", None)
        before = _fields(user)
        pending = users.update_own_account(
            session=session(),
            hasher=runtime().hasher,
            user=user,
            changes=body,
            current_password=current_password,
        )
        _record_update(user, user, before, password=False)
        session().commit()
        if pending is not None:
            _send_verification(pending, user.id)
        return answer(UserPublic, public_user(user))

    @ns.doc("deleteUserMe")
    @ns.response(204, "Deleted, with the user's items and jobs")
    @errors(ns, 401, 403)
    def delete(self) -> Response:
        """Delete your own account (not possible for a superuser)."""
        user = current_user()
        if user.is_superuser:
            raise PermissionDenied("A superuser cannot delete their own account")
        _record_delete(user, user)
        users.delete_user(session=session(), user=user)
        session().commit()
        return make_response("", 204)


@ns.route("/me/password")
class UserMePassword(Resource):
    @ns.doc("updatePasswordMe")
    @ns.expect(password_change_model)
    @ns.response(200, "Changed; every session is ended, log in again", message_model)
    @errors(ns, 400, 401, 403, 413, 415, 422)
    def patch(self) -> dict[str, str]:
        """Change your password: needs the current one; ends every session."""
        user = require_interactive()
        body = read_body(UpdatePassword)
        users.change_password(
            session=session(),
            hasher=runtime().hasher,
            user=user,
            current_password=body.current_password,
            new_password=body.new_password,
        )
        audit.record(session(), Action.PASSWORD_CHANGED, actor=user, target=("user", user.id))
        session().commit()
        return {"message": "Password updated successfully"}


@ns.route("/<int:user_id>")
@ns.param("user_id", "The user's id")
class UserById(Resource):
    @ns.doc("readUserById")
    @ns.response(200, "The user", user_model)
    @errors(ns, 401, 403, 404)
    def get(self, user_id: int) -> dict[str, Any]:
        """Read a user: yourself, or anyone with users:read."""
        actor = current_user()
        if actor.id == user_id:
            return answer(UserPublic, public_user(actor))
        require(Permission.USERS_READ)
        return answer(UserPublic, public_user(_get_or_404(user_id)))

    @ns.doc("updateUser")
    @ns.expect(user_update_model)
    @ns.response(200, "Updated", user_model)
    @errors(ns, 400, 401, 403, 404, 409, 413, 415, 422)
    def patch(self, user_id: int) -> dict[str, Any]:
        """Change any field of a user, the password included (users:write)."""
        actor = require(Permission.USERS_WRITE)
        target = _get_or_404(user_id)
        body = read_body(UserUpdate).model_dump(exclude_unset=True)
        _guard_superuser_changes(actor, target, body)
        if target.id == actor.id and False in (body.get("is_active"), body.get("is_superuser")):
            raise PermissionDenied(
                "You cannot deactivate yourself or drop your own superuser rights"
            )
        before = _fields(target)
        users.update_user(session=session(), hasher=runtime().hasher, user=target, changes=body)
        _record_update(actor, target, before, password=body.get("password") is not None)
        if target.email_verified and not before["email_verified"]:
            audit.record(
                session(),
                Action.EMAIL_VERIFIED,
                actor=actor,
                target=("user", target.id),
                details={"email": target.email, "by_administrator": True},
            )
        session().commit()
        return answer(UserPublic, public_user(target))

    @ns.doc("deleteUser")
    @ns.response(204, "Deleted, with the user's items and jobs")
    @errors(ns, 401, 403, 404)
    def delete(self, user_id: int) -> Response:
        """Delete a user (users:write; not yourself)."""
        actor = require(Permission.USERS_WRITE)
        target = _get_or_404(user_id)
        if target.id == actor.id:
            raise PermissionDenied("You cannot delete your own account here")
        _guard_superuser_changes(actor, target, {})
        _record_delete(actor, target)
        users.delete_user(session=session(), user=target)
        session().commit()
        return make_response("", 204)
