"""The REST API: a flask-restx Api under /api/v1, one Namespace per resource module.

The documents are at /api/v1/swagger.json (Swagger 2.0, which the interactive docs
at /api/docs read) and /api/v1/openapi.json (OpenAPI 3.1: openapi.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, Flask, Response, current_app, request
from flask_restx import Api, apidoc
from werkzeug.exceptions import NotFound

from app.web import errors, response_headers

from . import (
    audit,
    groups,
    items,
    jobs,
    login,
    mfa,
    openapi,
    permissions,
    personal_tokens,
    project,
    shapes,
    sso,
    users,
    utils,
)

API_PREFIX = "/api"
VERSION_PREFIX = "/v1"
SECURITY_SCHEME = "OAuth2PasswordBearer"

TOKEN_PATH = f"{API_PREFIX}{VERSION_PREFIX}/login/access-token"
AUTHORIZATIONS = {
    SECURITY_SCHEME: {"type": "oauth2", "flow": "password", "tokenUrl": TOKEN_PATH, "scopes": {}}
}


class ProjectApi(Api):
    """restx's Api, with links to the documentation at its root, and two additions
    to its spec:

    - every model a schema refers to is in the definitions (restx adds only the
      models an operation names, not those the pydantic models nest: shapes.py);
    - the token endpoint named by its absolute URL, as Swagger 2.0 requires: the
      origin the spec itself was asked from (behind the proxy, the public one:
      PROXY_COUNT), so it holds wherever the API is served.
    """

    _completed: tuple[int, dict[str, Any]] | None = None

    @property
    def __schema__(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().__schema__  # built once, then cached by restx
        if self._completed is None or self._completed[0] != id(schema):
            self._completed = (id(schema), self._with_nested_models(schema))
        completed = self._completed[1]
        scheme = dict(completed["securityDefinitions"][SECURITY_SCHEME])
        scheme["tokenUrl"] = urljoin(request.host_url, TOKEN_PATH)
        return completed | {"securityDefinitions": {SECURITY_SCHEME: scheme}}

    def render_root(self) -> dict[str, str]:
        """/api/v1 itself (restx's root): links to the documentation, as at /api/v1/."""
        return _index()

    def _with_nested_models(self, schema: dict[str, Any]) -> dict[str, Any]:
        definitions = dict(schema.get("definitions", {}))
        pending = list(shapes.referenced_models(schema))
        while pending:
            name = pending.pop()
            if name not in definitions:
                definitions[name] = self.models[name].__schema__
                pending.extend(shapes.referenced_models(definitions[name]))
        return schema | {"definitions": definitions}


def build_api(blueprint: Blueprint, title: str, *, docs: bool = True) -> Api:
    """The API; without `docs`, no interactive docs (register_api hides the spec too)."""
    api = ProjectApi(
        blueprint,
        version="1.0",
        title=f"{title} API",
        description="Authenticate with the Authorize button: your email and password.",
        prefix=VERSION_PREFIX,
        doc="/docs" if docs else False,
        authorizations=AUTHORIZATIONS,
        security=SECURITY_SCHEME,
        ordered=True,
        validate=False,  # bodies are read by shapes.read_body, with short messages
    )
    for ns, path in (
        (login.ns, "/login"),
        (sso.ns, "/login/sso"),
        (login.recovery_ns, "/password-recovery"),
        (login.reset_ns, "/reset-password"),
        (users.ns, "/users"),
        (personal_tokens.ns, "/users/me/tokens"),
        (mfa.ns, "/users"),
        (groups.ns, "/groups"),
        (permissions.ns, "/permissions"),
        (items.ns, "/items"),
        (jobs.ns, "/jobs"),
        (audit.ns, "/audit-events"),
        (utils.ns, "/utils"),
        # This project's own namespaces, kept apart so that updates merge cleanly.
        *project.NAMESPACES,
    ):
        api.add_namespace(ns, path=path)

    if docs:
        api.documentation(response_headers.docs_page(api))

    @api.errorhandler(Exception)
    def handle(exc: Exception) -> tuple[dict[str, Any], int, dict[str, str]]:
        """An error, as every operation answers one: JSON with its `detail`."""
        return errors.error_result(exc)

    return api


def register_api(app: Flask) -> Api:
    settings = app.extensions["runtime"].settings
    if settings.docs_enabled:
        # Swagger UI's assets must live under /api too: the proxy sends only /api here.
        app.register_blueprint(apidoc.apidoc, url_prefix=API_PREFIX)
    # Registered or deliberately not: restx must not add its own at /.
    app.extensions.setdefault("restx", {})["apidoc_registered"] = True
    blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
    api = build_api(blueprint, settings.PROJECT_NAME, docs=settings.docs_enabled)
    # The same API as OpenAPI 3.1, beside restx's Swagger 2.0 document.
    blueprint.add_url_rule(
        f"{VERSION_PREFIX}/openapi.json",
        "openapi",
        lambda: openapi.document(api, token_path=TOKEN_PATH, security_scheme=SECURITY_SCHEME),
    )
    # /api/v1/ itself: where to read about the API (what the dev banner links to).
    blueprint.add_url_rule(f"{VERSION_PREFIX}/", "index", _index)
    if not settings.docs_enabled:
        # restx serves the spec whatever its add_specs says (its init_app resets it).
        blueprint.before_request(_no_spec)
    blueprint.after_request(_no_content_type_without_content)
    app.register_blueprint(blueprint)
    return api


def _no_spec() -> None:
    if request.endpoint in ("api.specs", "api.openapi", "api.index", "api.root"):
        raise NotFound()


def _index() -> dict[str, str]:
    """Links to the API's documentation; served where the documentation is."""
    version = f"{API_PREFIX}{VERSION_PREFIX}"
    return {
        "name": f"{current_app.extensions['runtime'].settings.PROJECT_NAME} API",
        "docs": f"{API_PREFIX}/docs",
        "openapi": f"{version}/openapi.json",
        "swagger": f"{version}/swagger.json",
        "health": f"{version}/utils/health-check/",
    }


def _no_content_type_without_content(response: Response) -> Response:
    """A 204 has no body, so no media type either (werkzeug would say text/html)."""
    if response.status_code == 204:
        del response.headers["Content-Type"]
    return response
