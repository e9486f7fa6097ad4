"""Groups: named sets of permissions, and their members."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource, fields

from app.models import Group, User
from app.services import groups, users
from app.services.errors import NotFound
from app.services.permissions import ALL_PERMISSIONS, Permission, has_permission
from app.web.auth import current_user, require
from app.web.db import session

from .schema import (
    checked_id,
    errors,
    nullable,
    page_args,
    page_model,
    pagination_parser,
    parse_body,
    register_common_models,
)

ns = Namespace("groups", description="Groups and their permissions and members")
register_common_models(ns)

GROUP_NOT_FOUND = "Group not found"

group_model = ns.model(
    "Group",
    {
        "id": fields.Integer(required=True),
        "name": fields.String(required=True),
        "description": nullable(fields.String(required=True)),
        "permissions": fields.List(fields.String, required=True),
        "member_count": fields.Integer(required=True),
    },
)
member_model = ns.model(
    "GroupMember",
    {
        "id": fields.Integer(required=True),
        "email": fields.String(required=True),
        "full_name": nullable(fields.String(required=True)),
    },
)
group_detail_model = ns.clone(
    "GroupDetail",
    group_model,
    {"members": fields.List(fields.Nested(member_model), required=True)},
)
groups_page_model = page_model(ns, "GroupsPage", group_model)


def _permissions_field() -> fields.List:
    return fields.List(
        fields.String(enum=sorted(ALL_PERMISSIONS)),
        unique=True,
        max_items=len(ALL_PERMISSIONS),
        description="Permission names from the catalog",
    )


group_create_model = ns.model(
    "GroupCreate",
    {
        "name": fields.String(required=True, min_length=1, max_length=100),
        "description": nullable(fields.String(max_length=1000)),
        "permissions": _permissions_field(),
    },
    strict=True,
)
group_update_model = ns.model(
    "GroupUpdate",
    {
        "name": fields.String(min_length=1, max_length=100),
        "description": nullable(fields.String(max_length=1000)),
        "permissions": _permissions_field(),
    },
    strict=True,
)
list_parser = pagination_parser()


def serialize_group(group: Group, member_count: int) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "permissions": group.permissions,
        "member_count": member_count,
    }


def serialize_group_detail(group: Group) -> dict[str, Any]:
    return serialize_group(group, len(group.members)) | {
        "members": [
            {"id": member.id, "email": member.email, "full_name": member.full_name}
            for member in group.members
        ]
    }


def _get_or_404(group_id: int) -> Group:
    group = groups.get_group(session=session(), group_id=checked_id(group_id))
    if group is None:
        raise NotFound(GROUP_NOT_FOUND)
    return group


def _get_user_or_404(user_id: int) -> User:
    user = users.get_user(session=session(), user_id=checked_id(user_id))
    if user is None:
        raise NotFound("User not found")
    return user


@ns.route("/")
class GroupList(Resource):
    @ns.doc("readGroups")
    @ns.expect(list_parser)
    @ns.response(200, "A page of groups (only your own without groups:read)", groups_page_model)
    @errors(ns, 400, 401, 403)
    def get(self) -> dict[str, Any]:
        """List groups: all with groups:read, else the ones you belong to."""
        user = current_user()
        args = page_args(list_parser)
        member = None if has_permission(user, Permission.GROUPS_READ) else user
        found, count = groups.list_groups(
            session=session(), skip=args["skip"], limit=args["limit"], member=member
        )
        counts = groups.member_counts(session=session(), group_ids=[g.id for g in found])
        return {"data": [serialize_group(g, counts[g.id]) for g in found], "count": count}

    @ns.doc("createGroup")
    @ns.expect(group_create_model)
    @ns.response(201, "Created", group_detail_model)
    @errors(ns, 400, 401, 403, 409, 413, 415, 422)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create a group (groups:write)."""
        require(Permission.GROUPS_WRITE)
        body = parse_body(group_create_model)
        group = groups.create_group(
            session=session(),
            name=body["name"],
            description=body.get("description"),
            permissions=body.get("permissions") or [],
        )
        session().commit()
        return serialize_group_detail(group), 201


@ns.route("/<int:group_id>")
@ns.param("group_id", "The group's id")
class GroupById(Resource):
    @ns.doc("readGroup")
    @ns.response(200, "The group with its members", group_detail_model)
    @errors(ns, 401, 403, 404)
    def get(self, group_id: int) -> dict[str, Any]:
        """Read a group: with groups:read, or as a member."""
        user = current_user()
        group = _get_or_404(group_id)
        if not has_permission(user, Permission.GROUPS_READ) and not groups.is_member(
            group=group, user=user
        ):
            raise NotFound(GROUP_NOT_FOUND)
        return serialize_group_detail(group)

    @ns.doc("updateGroup")
    @ns.expect(group_update_model)
    @ns.response(200, "Updated", group_detail_model)
    @errors(ns, 400, 401, 403, 404, 409, 413, 415, 422)
    def patch(self, group_id: int) -> dict[str, Any]:
        """Change a group's name, description or permissions (groups:write)."""
        require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        body = parse_body(group_update_model)
        groups.update_group(session=session(), group=group, changes=body)
        session().commit()
        return serialize_group_detail(group)

    @ns.doc("deleteGroup")
    @ns.response(204, "Deleted; its members lose its permissions")
    @errors(ns, 401, 403, 404)
    def delete(self, group_id: int) -> Response:
        """Delete a group (groups:write)."""
        require(Permission.GROUPS_WRITE)
        groups.delete_group(session=session(), group=_get_or_404(group_id))
        session().commit()
        return make_response("", 204)


@ns.route("/<int:group_id>/members/<int:user_id>")
@ns.param("group_id", "The group's id")
@ns.param("user_id", "The user's id")
class GroupMember(Resource):
    @ns.doc("addGroupMember")
    @ns.response(204, "The user is a member (also when already one)")
    @errors(ns, 401, 403, 404)
    def put(self, group_id: int, user_id: int) -> Response:
        """Add a user to a group (groups:write)."""
        require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        groups.add_member(session=session(), group=group, user=_get_user_or_404(user_id))
        session().commit()
        return make_response("", 204)

    @ns.doc("removeGroupMember")
    @ns.response(204, "The user is not a member (also when never one)")
    @errors(ns, 401, 403, 404)
    def delete(self, group_id: int, user_id: int) -> Response:
        """Remove a user from a group (groups:write)."""
        require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        groups.remove_member(session=session(), group=group, user=_get_user_or_404(user_id))
        session().commit()
        return make_response("", 204)
