"""Items: the example resource. Copy this module to add your own."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource, fields

from app.models import Item
from app.services import items
from app.web.auth import current_user
from app.web.db import session

from .schema import (
    checked_id,
    errors,
    isoformat,
    nullable,
    page_args,
    page_model,
    pagination_parser,
    parse_body,
    register_common_models,
)

ns = Namespace("items", description="Items, the example resource")
register_common_models(ns)

TITLE_MAX = 255
DESCRIPTION_MAX = 10_000

item_model = ns.model(
    "Item",
    {
        "id": fields.Integer(required=True),
        "title": fields.String(required=True),
        "description": nullable(fields.String(required=True)),
        "owner_id": fields.Integer(required=True),
        "created_at": fields.DateTime(required=True),
        "updated_at": fields.DateTime(required=True),
    },
)
items_page_model = page_model(ns, "ItemsPage", item_model)
item_create_model = ns.model(
    "ItemCreate",
    {
        "title": fields.String(required=True, min_length=1, max_length=TITLE_MAX),
        "description": nullable(fields.String(max_length=DESCRIPTION_MAX)),
    },
    strict=True,
)
item_update_model = ns.model(
    "ItemUpdate",
    {
        "title": fields.String(min_length=1, max_length=TITLE_MAX),
        "description": nullable(fields.String(max_length=DESCRIPTION_MAX)),
    },
    strict=True,
)
list_parser = pagination_parser()


def serialize_item(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "owner_id": item.owner_id,
        "created_at": isoformat(item.created_at),
        "updated_at": isoformat(item.updated_at),
    }


@ns.route("/")
class ItemList(Resource):
    @ns.doc("readItems")
    @ns.expect(list_parser)
    @ns.response(200, "A page of items, newest first", items_page_model)
    @errors(ns, 400, 401, 403)
    def get(self) -> dict[str, Any]:
        """List your items (everyone's with items:read_all)."""
        user = current_user()
        args = page_args(list_parser)
        found, count = items.list_items(
            session=session(), viewer=user, skip=args["skip"], limit=args["limit"]
        )
        return {"data": [serialize_item(item) for item in found], "count": count}

    @ns.doc("createItem")
    @ns.expect(item_create_model)
    @ns.response(201, "Created", item_model)
    @errors(ns, 400, 401, 403, 413, 415, 422)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create an item owned by you."""
        user = current_user()
        body = parse_body(item_create_model)
        item = items.create_item(session=session(), owner=user, **body)
        session().commit()
        return serialize_item(item), 201


@ns.route("/<int:item_id>")
@ns.param("item_id", "The item's id")
class ItemById(Resource):
    @ns.doc("readItem")
    @ns.response(200, "The item", item_model)
    @errors(ns, 401, 403, 404)
    def get(self, item_id: int) -> dict[str, Any]:
        """Read an item: yours, or any with items:read_all."""
        user = current_user()
        return serialize_item(
            items.get_item(session=session(), viewer=user, item_id=checked_id(item_id))
        )

    @ns.doc("updateItem")
    @ns.expect(item_update_model)
    @ns.response(200, "Updated", item_model)
    @errors(ns, 400, 401, 403, 404, 413, 415, 422)
    def patch(self, item_id: int) -> dict[str, Any]:
        """Change an item: yours, or any with items:write_all."""
        user = current_user()
        body = parse_body(item_update_model)
        item = items.update_item(
            session=session(), editor=user, item_id=checked_id(item_id), changes=body
        )
        session().commit()
        return serialize_item(item)

    @ns.doc("deleteItem")
    @ns.response(204, "Deleted")
    @errors(ns, 401, 403, 404)
    def delete(self, item_id: int) -> Response:
        """Delete an item: yours, or any with items:write_all."""
        user = current_user()
        items.delete_item(session=session(), editor=user, item_id=checked_id(item_id))
        session().commit()
        return make_response("", 204)
