"""The permission catalog."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from app.services.permissions import catalog
from app.web.auth import current_user

from .schema import errors, register_common_models

ns = Namespace("permissions", description="The permissions groups can grant")
register_common_models(ns)

permission_model = ns.model(
    "Permission",
    {"name": fields.String(required=True), "description": fields.String(required=True)},
)
permissions_model = ns.model(
    "Permissions", {"data": fields.List(fields.Nested(permission_model), required=True)}
)


@ns.route("/")
class PermissionList(Resource):
    @ns.doc("readPermissions")
    @ns.response(200, "Every permission in the catalog", permissions_model)
    @errors(ns, 401, 403)
    def get(self) -> dict[str, Any]:
        """List the permission catalog."""
        current_user()
        return {"data": [{"name": name, "description": text} for name, text in catalog()]}
