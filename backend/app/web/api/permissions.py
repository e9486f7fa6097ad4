"""The permission catalog."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from app.schemas.permissions import Permissions
from app.services.permissions import catalog
from app.web.auth import current_user

from .schema import errors, register_common_models
from .shapes import answer, document

ns = Namespace("permissions", description="The permissions groups can grant")
register_common_models(ns)

permissions_model = document(ns, Permissions)


@ns.route("/")
class PermissionList(Resource):
    @ns.doc("readPermissions")
    @ns.response(200, "Every permission in the catalog", permissions_model)
    @errors(ns, 401, 403)
    def get(self) -> dict[str, Any]:
        """List the permission catalog."""
        current_user()
        return answer(
            Permissions, {"data": [{"name": name, "description": text} for name, text in catalog()]}
        )
