from __future__ import annotations

from flask.testing import FlaskClient

from tests.utils.assertions import assert_error

PERMISSIONS = "/api/v1/permissions/"
REQUIRED = {
    "users:read",
    "users:write",
    "groups:read",
    "groups:write",
    "items:read_all",
    "items:write_all",
    "jobs:run",
}


def test_read_permissions_lists_catalog_with_descriptions(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.get(PERMISSIONS, headers=user_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"data"}
    names = [entry["name"] for entry in body["data"]]
    assert set(names) >= REQUIRED
    assert len(names) == len(set(names))
    for entry in body["data"]:
        assert set(entry) == {"name", "description"}
        assert isinstance(entry["description"], str)
        assert entry["description"]


def test_read_permissions_names_the_ones_groups_accept(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    names = [
        e["name"] for e in client.get(PERMISSIONS, headers=superuser_headers).get_json()["data"]
    ]
    response = client.post(
        "/api/v1/groups/", json={"name": "all", "permissions": names}, headers=superuser_headers
    )
    assert response.status_code == 201
    assert sorted(response.get_json()["permissions"]) == sorted(names)


def test_read_permissions_without_token_returns_401(client: FlaskClient) -> None:
    assert_error(client.get(PERMISSIONS), 401)
