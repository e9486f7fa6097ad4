"""The REST API: a flask-restx Api under /api/v1, one Namespace per resource module.

The spec is at /api/v1/swagger.json and the interactive docs at /api/docs.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response
from flask_restx import Api, apidoc

from app.web import errors

from . import groups, items, jobs, login, permissions, project, users, utils

API_PREFIX = "/api"
VERSION_PREFIX = "/v1"
SECURITY_SCHEME = "OAuth2PasswordBearer"

AUTHORIZATIONS = {
    SECURITY_SCHEME: {
        "type": "oauth2",
        "flow": "password",
        "tokenUrl": f"{API_PREFIX}{VERSION_PREFIX}/login/access-token",
        "scopes": {},
    }
}


def build_api(blueprint: Blueprint, title: str) -> Api:
    api = Api(
        blueprint,
        version="1.0",
        title=f"{title} API",
        description="Authenticate with the Authorize button: your email and password.",
        prefix=VERSION_PREFIX,
        doc="/docs",
        authorizations=AUTHORIZATIONS,
        security=SECURITY_SCHEME,
        ordered=True,
        validate=False,  # bodies are validated by schema.parse_body with short messages
    )
    for ns, path in (
        (login.ns, "/login"),
        (login.recovery_ns, "/password-recovery"),
        (login.reset_ns, "/reset-password"),
        (users.ns, "/users"),
        (groups.ns, "/groups"),
        (permissions.ns, "/permissions"),
        (items.ns, "/items"),
        (jobs.ns, "/jobs"),
        (utils.ns, "/utils"),
        # This project's own namespaces, kept apart so that updates merge cleanly.
        *project.NAMESPACES,
    ):
        api.add_namespace(ns, path=path)

    @api.errorhandler(Exception)
    def handle(exc: Exception) -> tuple[dict[str, Any], int, dict[str, str]]:
        return errors.error_result(exc)

    return api


def register_api(app: Flask) -> Api:
    # Swagger UI's assets must live under /api too: the proxy sends only /api here.
    app.register_blueprint(apidoc.apidoc, url_prefix=API_PREFIX)
    app.extensions.setdefault("restx", {})["apidoc_registered"] = True
    blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
    api = build_api(blueprint, app.extensions["runtime"].settings.PROJECT_NAME)
    blueprint.after_request(_no_content_type_without_content)
    app.register_blueprint(blueprint)
    return api


def _no_content_type_without_content(response: Response) -> Response:
    """A 204 has no body, so no media type either (werkzeug would say text/html)."""
    if response.status_code == 204:
        del response.headers["Content-Type"]
    return response
