"""Items, the example resource: owned by a user, visible to holders of items:read_all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db.pages import paginate
from app.db.search import contains_text
from app.models import Item, User
from app.services.errors import InvalidInput, NotFound, PermissionDenied
from app.services.permissions import Permission, has_permission

ITEM_NOT_FOUND = "Item not found"


def list_items(
    *, session: Session, viewer: User, skip: int, limit: int, text: str | None = None
) -> tuple[list[Item], int]:
    """Newest first: the viewer's own, or everyone's with items:read_all; with
    `text`, only those whose title or description contains it (in any case)."""
    query = select(Item).order_by(Item.created_at.desc(), Item.id.desc())
    if not has_permission(viewer, Permission.ITEMS_READ_ALL):
        query = query.where(Item.owner_id == viewer.id)
    if text:
        query = query.where(
            or_(contains_text(Item.title, text), contains_text(Item.description, text))
        )
    return paginate(session, query, skip=skip, limit=limit)


def get_item(*, session: Session, viewer: User, item_id: int) -> Item:
    """The item if the viewer may see it; someone else's looks missing."""
    item = session.get(Item, item_id)
    if item is None or (
        item.owner_id != viewer.id and not has_permission(viewer, Permission.ITEMS_READ_ALL)
    ):
        raise NotFound(ITEM_NOT_FOUND)
    return item


def _get_writable(*, session: Session, editor: User, item_id: int) -> Item:
    """The item if the editor may change it: their own, or any with items:write_all
    (which needs no items:read_all). Someone else's looks missing unless visible."""
    if has_permission(editor, Permission.ITEMS_WRITE_ALL):
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(ITEM_NOT_FOUND)
        return item
    item = get_item(session=session, viewer=editor, item_id=item_id)
    if item.owner_id != editor.id:
        raise PermissionDenied("Not enough permissions to change this item")
    return item


def _check_title(title: str) -> str:
    if not title.strip():
        raise InvalidInput("Invalid title", {"title": "Must not be blank"})
    return title


def create_item(
    *, session: Session, owner: User, title: str, description: str | None = None
) -> Item:
    item = Item(title=_check_title(title), description=description, owner_id=owner.id)
    session.add(item)
    session.flush()
    return item


def update_item(
    *, session: Session, editor: User, item_id: int, changes: Mapping[str, Any]
) -> Item:
    item = _get_writable(session=session, editor=editor, item_id=item_id)
    if changes.get("title") is not None:
        item.title = _check_title(changes["title"])
    if "description" in changes:
        item.description = changes["description"]
    session.flush()
    return item


def delete_item(*, session: Session, editor: User, item_id: int) -> None:
    item = _get_writable(session=session, editor=editor, item_id=item_id)
    session.delete(item)
    session.flush()
