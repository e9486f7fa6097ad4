"""Personal access tokens: each user's own, created, listed and revoked only with
a password login (a token cannot make or see tokens)."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource

from app.models import PersonalAccessToken
from app.schemas.personal_tokens import (
    PersonalTokenCreate,
    PersonalTokenCreated,
    PersonalTokenPublic,
    PersonalTokensPage,
)
from app.services import audit, personal_tokens
from app.services.audit import Action
from app.services.permissions import ALL_PERMISSIONS
from app.web.auth import require_interactive
from app.web.db import runtime, session

from .schema import checked_id, errors, register_common_models
from .shapes import With, answer, document, read_body

ns = Namespace("tokens", description="Personal access tokens, for scripts and CI")
register_common_models(ns)

token_model = document(ns, PersonalTokenPublic)
token_created_model = document(ns, PersonalTokenCreated)
tokens_page_model = document(ns, PersonalTokensPage)
token_create_model = document(ns, PersonalTokenCreate)


def public_token(record: PersonalAccessToken, **more: Any) -> With:
    """The token as answered: only names the catalog still has (a permission
    dropped from the code grants nothing)."""
    known = [name for name in record.permissions if name in ALL_PERMISSIONS]
    return With(record, permissions=known, **more)


@ns.route("")
class PersonalTokenList(Resource):
    @ns.doc("readPersonalTokens")
    @ns.response(200, "Your tokens, newest first (never the tokens themselves)", tokens_page_model)
    @errors(ns, 401, 403)
    def get(self) -> dict[str, Any]:
        """List your personal access tokens."""
        user = require_interactive()
        found = personal_tokens.list_tokens(session=session(), user=user)
        return answer(
            PersonalTokensPage,
            {"data": [public_token(record) for record in found], "count": len(found)},
        )

    @ns.doc("createPersonalToken")
    @ns.expect(token_create_model)
    @ns.response(201, "Created; the token is in this answer only", token_created_model)
    @errors(ns, 400, 401, 403, 413, 415, 422)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create a personal access token with some of your permissions."""
        user = require_interactive()
        body = read_body(PersonalTokenCreate)
        created = personal_tokens.create_token(
            session=session(),
            codec=runtime().personal_tokens,
            user=user,
            name=body.name,
            permissions=body.permissions,
            expires_in_days=body.expires_in_days,
        )
        audit.record(
            session(),
            Action.TOKEN_CREATED,
            actor=user,
            target=("token", created.record.id),
            details={
                "name": created.record.name,
                "permissions": created.record.permissions,
                "expires_at": created.record.expires_at.isoformat(),
            },
        )
        session().commit()
        return answer(PersonalTokenCreated, public_token(created.record, token=created.token)), 201


@ns.route("/<int:token_id>")
@ns.param("token_id", "The token's id")
class PersonalTokenById(Resource):
    @ns.doc("revokePersonalToken")
    @ns.response(204, "Revoked: the token fails from now on")
    @errors(ns, 401, 403, 404)
    def delete(self, token_id: int) -> Response:
        """Revoke one of your personal access tokens."""
        user = require_interactive()
        token_id = checked_id(token_id)
        personal_tokens.revoke_token(session=session(), user=user, token_id=token_id)
        audit.record(session(), Action.TOKEN_REVOKED, actor=user, target=("token", token_id))
        session().commit()
        return make_response("", 204)
