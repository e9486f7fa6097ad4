from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Group, User
from app.runtime import Runtime
from tests.utils.assertions import assert_error, assert_group
from tests.utils.factories import auth_headers, make_group, make_user

GROUPS = "/api/v1/groups/"
USERS = "/api/v1/users/"
USERS_ME = "/api/v1/users/me"


def _group_names(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Group.name).order_by(Group.name)))


# --- GET /groups/ ------------------------------------------------------------------


def test_read_groups_with_groups_read_lists_all_with_member_counts(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    reader = make_user(db, runtime, permissions=["groups:read"])  # in a group of its own
    make_group(db, name="alpha", permissions=["items:read_all"], members=[user, reader])
    make_group(db, name="beta")
    response = client.get(GROUPS, headers=auth_headers(runtime, reader))
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 3
    by_name = {group["name"]: assert_group(group) for group in body["data"]}
    assert by_name["alpha"]["member_count"] == 2
    assert by_name["alpha"]["permissions"] == ["items:read_all"]
    assert by_name["beta"]["member_count"] == 0


def test_read_groups_without_groups_read_lists_only_own_groups(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    make_group(db, name="mine", members=[user])
    make_group(db, name="theirs")
    body = client.get(GROUPS, headers=user_headers).get_json()
    assert [group["name"] for group in body["data"]] == ["mine"]
    assert body["count"] == 1


def test_read_groups_pages_with_total_count(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    for name in ("a", "b", "c", "d"):
        make_group(db, name=name)
    body = client.get(GROUPS + "?skip=1&limit=2", headers=superuser_headers).get_json()
    assert [group["name"] for group in body["data"]] == ["b", "c"]
    assert body["count"] == 4


# --- POST /groups/ -----------------------------------------------------------------


def test_create_group_returns_it_with_permissions_and_no_members(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.post(
        GROUPS,
        json={
            "name": "Editors",
            "description": "Edit everything",
            "permissions": ["items:write_all", "items:read_all"],
        },
        headers=superuser_headers,
    )
    assert response.status_code == 201
    body = assert_group(response.get_json(), detail=True)
    assert body["name"] == "Editors"
    assert body["description"] == "Edit everything"
    assert sorted(body["permissions"]) == ["items:read_all", "items:write_all"]
    assert body["member_count"] == 0
    assert body["members"] == []


def test_create_group_with_only_name_succeeds(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.post(GROUPS, json={"name": "Plain"}, headers=superuser_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["description"], body["permissions"]) == (None, [])


def test_create_group_without_permission_returns_403(
    client: FlaskClient, db: Session, user_headers: dict[str, str]
) -> None:
    assert_error(client.post(GROUPS, json={"name": "x"}, headers=user_headers), 403)
    assert _group_names(db) == []


def test_create_group_with_groups_write_from_a_group_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    admin = make_user(db, runtime, permissions=["groups:write"])
    response = client.post(GROUPS, json={"name": "new"}, headers=auth_headers(runtime, admin))
    assert response.status_code == 201


def test_create_group_with_unknown_permission_returns_422(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    response = client.post(
        GROUPS,
        json={"name": "x", "permissions": ["users:read", "everything:all"]},
        headers=superuser_headers,
    )
    assert_error(response, 422, field="permissions")
    assert _group_names(db) == []


@pytest.mark.parametrize("name", ["staff", "STAFF", "Staff"])
def test_create_group_with_taken_name_in_any_case_returns_409(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str], name: str
) -> None:
    make_group(db, name="Staff")
    assert_error(
        client.post(GROUPS, json={"name": name}, headers=superuser_headers), 409, field="name"
    )


@pytest.mark.parametrize("name", ["", "   "])
def test_create_group_with_blank_name_returns_422(
    client: FlaskClient, superuser_headers: dict[str, str], name: str
) -> None:
    response = client.post(GROUPS, json={"name": name}, headers=superuser_headers)
    assert_error(response, 422, field="name")


# --- GET /groups/{id} --------------------------------------------------------------


def test_read_group_with_groups_read_returns_members(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    group = make_group(db, name="team", permissions=["jobs:run"], members=[user])
    reader = make_user(db, runtime, permissions=["groups:read"])
    response = client.get(f"{GROUPS}{group.id}", headers=auth_headers(runtime, reader))
    assert response.status_code == 200
    body = assert_group(response.get_json(), detail=True)
    assert body["members"] == [{"id": user.id, "email": user.email, "full_name": user.full_name}]
    assert body["member_count"] == 1
    assert body["permissions"] == ["jobs:run"]


def test_read_group_as_member_without_groups_read_succeeds(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    group = make_group(db, members=[user])
    response = client.get(f"{GROUPS}{group.id}", headers=user_headers)
    assert response.status_code == 200
    assert response.get_json()["id"] == group.id


def test_read_group_as_non_member_without_groups_read_returns_404(
    client: FlaskClient, db: Session, user_headers: dict[str, str]
) -> None:
    group = make_group(db)
    assert_error(client.get(f"{GROUPS}{group.id}", headers=user_headers), 404)


def test_read_group_missing_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.get(f"{GROUPS}987654", headers=superuser_headers), 404)


# --- PATCH /groups/{id} ------------------------------------------------------------


def test_update_group_changes_fields(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    group = make_group(db, name="old", permissions=["users:read"])
    response = client.patch(
        f"{GROUPS}{group.id}",
        json={"name": "new", "description": None, "permissions": ["groups:read", "jobs:run"]},
        headers=superuser_headers,
    )
    assert response.status_code == 200
    body = assert_group(response.get_json(), detail=True)
    assert (body["name"], body["description"]) == ("new", None)
    assert sorted(body["permissions"]) == ["groups:read", "jobs:run"]
    again = client.get(f"{GROUPS}{group.id}", headers=superuser_headers).get_json()
    assert sorted(again["permissions"]) == ["groups:read", "jobs:run"]
    assert again["name"] == "new"


def test_update_group_keeping_its_own_name_in_other_case_succeeds(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    group = make_group(db, name="team")
    response = client.patch(f"{GROUPS}{group.id}", json={"name": "Team"}, headers=superuser_headers)
    assert response.status_code == 200
    assert response.get_json()["name"] == "Team"


def test_update_group_to_taken_name_returns_409(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    make_group(db, name="taken")
    group = make_group(db, name="mine")
    response = client.patch(
        f"{GROUPS}{group.id}", json={"name": "TAKEN"}, headers=superuser_headers
    )
    assert_error(response, 409)
    assert _group_names(db) == ["mine", "taken"]


def test_update_group_with_unknown_permission_returns_422(
    client: FlaskClient, db: Session, superuser_headers: dict[str, str]
) -> None:
    group = make_group(db, permissions=["users:read"])
    response = client.patch(
        f"{GROUPS}{group.id}", json={"permissions": ["root"]}, headers=superuser_headers
    )
    assert_error(response, 422, field="permissions")


def test_update_group_without_permission_returns_403(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    group = make_group(db, name="mine", members=[user])
    response = client.patch(
        f"{GROUPS}{group.id}", json={"permissions": ["users:write"]}, headers=user_headers
    )
    assert_error(response, 403)
    assert client.get(USERS_ME, headers=user_headers).get_json()["permissions"] == []


def test_update_and_delete_group_with_groups_write_from_a_group_succeed(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    admin = make_user(db, runtime, permissions=["groups:write"])
    headers = auth_headers(runtime, admin)
    group = make_group(db, name="team", members=[user])
    response = client.patch(f"{GROUPS}{group.id}", json={"name": "crew"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["name"] == "crew"
    assert (
        client.delete(f"{GROUPS}{group.id}/members/{user.id}", headers=headers).status_code == 204
    )
    assert client.delete(f"{GROUPS}{group.id}", headers=headers).status_code == 204
    assert "crew" not in _group_names(db)


def test_update_group_missing_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.patch(f"{GROUPS}987654", json={"name": "x"}, headers=superuser_headers)
    assert_error(response, 404)


# --- DELETE /groups/{id} -----------------------------------------------------------


def test_delete_group_removes_it_and_its_permissions_from_members(
    client: FlaskClient,
    db: Session,
    user: User,
    user_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    group = make_group(db, permissions=["users:read"], members=[user])
    assert client.get(USERS, headers=user_headers).status_code == 200
    response = client.delete(f"{GROUPS}{group.id}", headers=superuser_headers)
    assert response.status_code == 204
    assert_error(client.get(f"{GROUPS}{group.id}", headers=superuser_headers), 404)
    assert_error(client.get(USERS, headers=user_headers), 403)
    assert client.get(USERS_ME, headers=user_headers).get_json()["groups"] == []


def test_delete_group_without_permission_returns_403(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    group = make_group(db, name="mine", members=[user])
    assert_error(client.delete(f"{GROUPS}{group.id}", headers=user_headers), 403)
    assert _group_names(db) == ["mine"]


def test_delete_group_missing_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    assert_error(client.delete(f"{GROUPS}987654", headers=superuser_headers), 404)


# --- members -----------------------------------------------------------------------


def test_add_group_member_is_idempotent(
    client: FlaskClient, db: Session, user: User, superuser_headers: dict[str, str]
) -> None:
    group = make_group(db)
    path = f"{GROUPS}{group.id}/members/{user.id}"
    for _ in range(2):
        response = client.put(path, headers=superuser_headers)
        assert response.status_code == 204
        assert response.get_data() == b""
    body = client.get(f"{GROUPS}{group.id}", headers=superuser_headers).get_json()
    assert body["member_count"] == 1
    assert [member["id"] for member in body["members"]] == [user.id]


def test_remove_group_member_is_idempotent(
    client: FlaskClient, db: Session, user: User, superuser_headers: dict[str, str]
) -> None:
    group = make_group(db, members=[user])
    path = f"{GROUPS}{group.id}/members/{user.id}"
    for _ in range(2):
        assert client.delete(path, headers=superuser_headers).status_code == 204
    body = client.get(f"{GROUPS}{group.id}", headers=superuser_headers).get_json()
    assert (body["member_count"], body["members"]) == (0, [])


def test_change_group_membership_changes_effective_permissions_at_once(
    client: FlaskClient,
    db: Session,
    user: User,
    user_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    group = make_group(db, name="readers", permissions=["users:read"])
    path = f"{GROUPS}{group.id}/members/{user.id}"
    assert_error(client.get(USERS, headers=user_headers), 403)

    client.put(path, headers=superuser_headers)
    assert client.get(USERS, headers=user_headers).status_code == 200
    me = client.get(USERS_ME, headers=user_headers).get_json()
    assert me["permissions"] == ["users:read"]
    assert me["groups"] == [{"id": group.id, "name": "readers"}]

    client.delete(path, headers=superuser_headers)
    assert_error(client.get(USERS, headers=user_headers), 403)
    assert client.get(USERS_ME, headers=user_headers).get_json()["permissions"] == []


def test_change_group_permissions_changes_members_permissions_at_once(
    client: FlaskClient,
    db: Session,
    user: User,
    user_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    group = make_group(db, members=[user])
    client.patch(
        f"{GROUPS}{group.id}", json={"permissions": ["users:read"]}, headers=superuser_headers
    )
    assert client.get(USERS, headers=user_headers).status_code == 200
    client.patch(f"{GROUPS}{group.id}", json={"permissions": []}, headers=superuser_headers)
    assert_error(client.get(USERS, headers=user_headers), 403)


def test_add_group_member_without_permission_returns_403(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    group = make_group(db, permissions=["users:write"])
    assert_error(client.put(f"{GROUPS}{group.id}/members/{user.id}", headers=user_headers), 403)
    assert client.get(USERS_ME, headers=user_headers).get_json()["groups"] == []


def test_add_group_member_with_groups_write_from_a_group_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    admin = make_user(db, runtime, permissions=["groups:write"])
    group = make_group(db)
    response = client.put(
        f"{GROUPS}{group.id}/members/{user.id}", headers=auth_headers(runtime, admin)
    )
    assert response.status_code == 204


def test_remove_group_member_without_permission_returns_403(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    group = make_group(db, members=[user])
    assert_error(client.delete(f"{GROUPS}{group.id}/members/{user.id}", headers=user_headers), 403)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_change_group_member_of_missing_user_or_group_returns_404(
    client: FlaskClient, db: Session, user: User, superuser_headers: dict[str, str], method: str
) -> None:
    group = make_group(db)
    call = getattr(client, method)
    assert_error(call(f"{GROUPS}{group.id}/members/987654", headers=superuser_headers), 404)
    assert_error(call(f"{GROUPS}987654/members/{user.id}", headers=superuser_headers), 404)
