"""Utilities: the health check and a test email."""

from __future__ import annotations

import logging

from flask import Response, jsonify
from flask_restx import Namespace, Resource, reqparse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.queue import SEND_EMAIL
from app.schemas.utils import Health
from app.services import users
from app.services.errors import InvalidInput
from app.web.auth import require_superuser
from app.web.db import runtime, session

from .schema import email_address, errors, message_model, register_common_models
from .shapes import answer, document

logger = logging.getLogger(__name__)

ns = Namespace("utils", description="Health and utilities")
register_common_models(ns)

health_model = document(ns, Health)


def _database_status() -> str:
    try:
        session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("health check: database unavailable: %s", exc)
        return "unavailable"
    return "ok"


@ns.route("/health-check/")
class HealthCheck(Resource):
    @ns.doc("healthCheck", security=[])
    @ns.response(200, "Every dependency answers", health_model)
    @ns.response(503, "A dependency is down; it is named", health_model)
    def get(self) -> Response:
        """Report whether the API and its dependencies are up."""
        parts = {
            "database": _database_status(),
            "broker": "ok" if runtime().queue.ping() else "unavailable",
        }
        down = [name for name, value in parts.items() if value != "ok"]
        body = {"status": "unavailable" if down else "ok", **parts}
        if down:
            # Every error on the API carries a message, this one too.
            body["message"] = "Unavailable: " + ", ".join(down)
        response = jsonify(answer(Health, body))
        response.status_code = 503 if down else 200
        response.headers["Cache-Control"] = "no-store"
        return response


test_email_parser = reqparse.RequestParser(bundle_errors=True)
test_email_parser.add_argument(
    "email_to",
    type=email_address,
    location="args",
    required=True,
    help="Where to send the test email",
)


@ns.route("/test-email/")
class TestEmail(Resource):
    @ns.doc("testEmail")
    @ns.expect(test_email_parser)
    @ns.response(202, "Queued: the worker sends it", message_model)
    @errors(ns, 400, 401, 403, 422, 503)
    def post(self) -> tuple[dict[str, str], int]:
        """Send a test email through the worker (superuser)."""
        require_superuser()
        address = test_email_parser.parse_args()["email_to"]
        try:
            address = users.normalize_email(address)
        except InvalidInput as exc:
            raise InvalidInput(
                exc.message, {"email_to": exc.errors.get("email", "Invalid")}
            ) from exc
        runtime().queue.enqueue(SEND_EMAIL, "test_email", address, {})
        return {"message": f"Test email queued for {address}"}, 202
