"""Groups: named sets of permissions, and their members."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response
from flask_restx import Namespace, Resource

from app.models import Group, User
from app.schemas.groups import (
    GroupCreate,
    GroupDetail,
    GroupPublic,
    GroupsPage,
    GroupUpdate,
)
from app.services import audit, groups, users
from app.services.audit import Action
from app.services.errors import NotFound
from app.services.permissions import Permission, has_permission
from app.web.auth import current_user, require
from app.web.db import session

from .schema import checked_id, errors, page_args, pagination_parser, register_common_models
from .shapes import With, answer, document, read_body

ns = Namespace("groups", description="Groups and their permissions and members")
register_common_models(ns)

GROUP_NOT_FOUND = "Group not found"

group_model = document(ns, GroupPublic)
group_detail_model = document(ns, GroupDetail)
groups_page_model = document(ns, GroupsPage)
group_create_model = document(ns, GroupCreate)
group_update_model = document(ns, GroupUpdate)
list_parser = pagination_parser()


def _detail(group: Group) -> dict[str, Any]:
    return answer(GroupDetail, With(group, member_count=len(group.members)))


def group_permissions(group: Group) -> list[str]:
    return sorted(grant.permission for grant in group.grants)


def _record(actor: User, action: str, group: Group, **details: Any) -> None:
    details = {"name": group.name, **details}
    audit.record(session(), action, actor=actor, target=("group", group.id), details=details)


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
        page = [With(group, member_count=counts[group.id]) for group in found]
        return answer(GroupsPage, {"data": page, "count": count})

    @ns.doc("createGroup")
    @ns.expect(group_create_model)
    @ns.response(201, "Created", group_detail_model)
    @errors(ns, 400, 401, 403, 409, 413, 415, 422)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create a group (groups:write)."""
        actor = require(Permission.GROUPS_WRITE)
        body = read_body(GroupCreate)
        group = groups.create_group(
            session=session(),
            name=body.name,
            description=body.description,
            permissions=body.permissions,
        )
        _record(actor, Action.GROUP_CREATED, group, permissions=group_permissions(group))
        session().commit()
        return _detail(group), 201


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
        return _detail(group)

    @ns.doc("updateGroup")
    @ns.expect(group_update_model)
    @ns.response(200, "Updated", group_detail_model)
    @errors(ns, 400, 401, 403, 404, 409, 413, 415, 422)
    def patch(self, group_id: int) -> dict[str, Any]:
        """Change a group's name, description or permissions (groups:write)."""
        actor = require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        changes = read_body(GroupUpdate).model_dump(exclude_unset=True)
        before = (group.name, group.description, group_permissions(group))
        groups.update_group(session=session(), group=group, changes=changes)
        after = (group.name, group.description, group_permissions(group))
        names = ("name", "description", "permissions")
        fields = [name for name, old, new in zip(names, before, after, strict=True) if old != new]
        if fields:
            _record(
                actor,
                Action.GROUP_UPDATED,
                group,
                fields=fields,
                permissions_added=sorted(set(after[2]) - set(before[2])),
                permissions_removed=sorted(set(before[2]) - set(after[2])),
            )
        session().commit()
        return _detail(group)

    @ns.doc("deleteGroup")
    @ns.response(204, "Deleted; its members lose its permissions")
    @errors(ns, 401, 403, 404)
    def delete(self, group_id: int) -> Response:
        """Delete a group (groups:write)."""
        actor = require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        _record(actor, Action.GROUP_DELETED, group)
        groups.delete_group(session=session(), group=group)
        session().commit()
        return make_response("", 204)


@ns.route("/<int:group_id>/members/<int:user_id>")
@ns.param("group_id", "The group's id")
@ns.param("user_id", "The user's id")
class GroupMembership(Resource):
    @ns.doc("addGroupMember")
    @ns.response(204, "The user is a member (also when already one)")
    @errors(ns, 401, 403, 404)
    def put(self, group_id: int, user_id: int) -> Response:
        """Add a user to a group (groups:write)."""
        actor = require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        member = _get_user_or_404(user_id)
        if groups.add_member(session=session(), group=group, user=member):
            _record(actor, Action.GROUP_MEMBER_ADDED, group, user_id=member.id, email=member.email)
        session().commit()
        return make_response("", 204)

    @ns.doc("removeGroupMember")
    @ns.response(204, "The user is not a member (also when never one)")
    @errors(ns, 401, 403, 404)
    def delete(self, group_id: int, user_id: int) -> Response:
        """Remove a user from a group (groups:write)."""
        actor = require(Permission.GROUPS_WRITE)
        group = _get_or_404(group_id)
        member = _get_user_or_404(user_id)
        if groups.remove_member(session=session(), group=group, user=member):
            _record(
                actor, Action.GROUP_MEMBER_REMOVED, group, user_id=member.id, email=member.email
            )
        session().commit()
        return make_response("", 204)
