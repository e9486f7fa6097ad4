"""Utilities: the health check."""

from __future__ import annotations

import logging

from flask import Response, jsonify
from flask_restx import Namespace, Resource, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.web.db import session

logger = logging.getLogger(__name__)

ns = Namespace("utils", description="Health and utilities")

health_model = ns.model(
    "Health",
    {
        "status": fields.String(required=True, enum=["ok", "unavailable"]),
        "database": fields.String(required=True, enum=["ok", "unavailable"]),
        "message": fields.String(description="When unavailable: what is down"),
    },
)


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
        parts = {"database": _database_status()}
        down = [name for name, value in parts.items() if value != "ok"]
        body = {"status": "unavailable" if down else "ok", **parts}
        if down:
            # Every error on the API carries a message, this one too.
            body["message"] = "Unavailable: " + ", ".join(down)
        response = jsonify(body)
        response.status_code = 503 if down else 200
        response.headers["Cache-Control"] = "no-store"
        return response
