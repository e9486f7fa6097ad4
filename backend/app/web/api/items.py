"""Items: the example resource. Copy this module to add your own."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource

from app.schemas.items import ItemCreate, ItemPublic, ItemsPage, ItemUpdate
from app.services import items
from app.web.auth import current_user
from app.web.db import session

from .schema import (
    checked_id,
    errors,
    page_args,
    pagination_parser,
    register_common_models,
    search_text,
)
from .shapes import answer, document, read_body

ns = Namespace("items", description="Items, the example resource")
register_common_models(ns)

item_model = document(ns, ItemPublic)
items_page_model = document(ns, ItemsPage)
item_create_model = document(ns, ItemCreate)
item_update_model = document(ns, ItemUpdate)
list_parser = pagination_parser()
list_parser.add_argument(
    "q",
    type=search_text,
    location="args",
    help="Only items whose title or description contains this text (in any case)",
)


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
            session=session(), viewer=user, skip=args["skip"], limit=args["limit"], text=args["q"]
        )
        return answer(ItemsPage, {"data": found, "count": count})

    @ns.doc("createItem")
    @ns.expect(item_create_model)
    @ns.response(201, "Created", item_model)
    @errors(ns, 400, 401, 403, 413, 415, 422)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create an item owned by you."""
        user = current_user()
        body = read_body(ItemCreate)
        item = items.create_item(
            session=session(), owner=user, title=body.title, description=body.description
        )
        session().commit()
        return answer(ItemPublic, item), 201


@ns.route("/<int:item_id>")
@ns.param("item_id", "The item's id")
class ItemById(Resource):
    @ns.doc("readItem")
    @ns.response(200, "The item", item_model)
    @errors(ns, 401, 403, 404)
    def get(self, item_id: int) -> dict[str, Any]:
        """Read an item: yours, or any with items:read_all."""
        user = current_user()
        item = items.get_item(session=session(), viewer=user, item_id=checked_id(item_id))
        return answer(ItemPublic, item)

    @ns.doc("updateItem")
    @ns.expect(item_update_model)
    @ns.response(200, "Updated", item_model)
    @errors(ns, 400, 401, 403, 404, 413, 415, 422)
    def patch(self, item_id: int) -> dict[str, Any]:
        """Change an item: yours, or any with items:write_all."""
        user = current_user()
        changes = read_body(ItemUpdate).model_dump(exclude_unset=True)
        item = items.update_item(
            session=session(), editor=user, item_id=checked_id(item_id), changes=changes
        )
        session().commit()
        return answer(ItemPublic, item)

    @ns.doc("deleteItem")
    @ns.response(204, "Deleted")
    @errors(ns, 401, 403, 404)
    def delete(self, item_id: int) -> Response:
        """Delete an item: yours, or any with items:write_all."""
        user = current_user()
        items.delete_item(session=session(), editor=user, item_id=checked_id(item_id))
        session().commit()
        return make_response("", 204)
