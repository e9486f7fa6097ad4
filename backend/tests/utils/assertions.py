"""Assertions on the API's response shapes: errors, users, groups, items."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

USER_FIELDS = {
    "id",
    "email",
    "full_name",
    "is_active",
    "is_superuser",
    "groups",
    "permissions",
    "mfa_enabled",
    "email_verified",
    "pending_email",
    "created_at",
}
GROUP_FIELDS = {"id", "name", "description", "permissions", "member_count"}
ITEM_FIELDS = {"id", "title", "description", "owner_id", "created_at", "updated_at"}


def assert_error(
    response: TestResponse, status: int, *, field: str | None = None
) -> dict[str, Any]:
    """A JSON error with a non-empty message; `field` must be named in `errors`."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.is_json, text
    body = response.get_json()
    assert isinstance(body, dict), text
    assert isinstance(body.get("message"), str), text
    assert body["message"], text
    if field is not None:
        # A field or an entry in it ("permissions.1") is named.
        named = body.get("errors", {})
        assert any(key == field or key.startswith(field + ".") for key in named), text
    return body


def assert_client_error(response: TestResponse, *, field: str | None = None) -> dict[str, Any]:
    """A 4xx JSON error with a message (which 4xx is the endpoint's choice)."""
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    return assert_error(response, response.status_code, field=field)


def assert_user(body: Any) -> dict[str, Any]:
    """A user as the API returns it: every public field, never a password or hash."""
    assert isinstance(body, dict)
    assert set(body) == USER_FIELDS
    assert isinstance(body["id"], int)
    assert isinstance(body["is_active"], bool)
    assert isinstance(body["is_superuser"], bool)
    assert isinstance(body["mfa_enabled"], bool)
    assert isinstance(body["email_verified"], bool)
    assert body["pending_email"] is None or isinstance(body["pending_email"], str)
    assert all(set(group) == {"id", "name"} for group in body["groups"])
    assert all(isinstance(name, str) for name in body["permissions"])
    assert isinstance(body["created_at"], str)
    assert "$argon2" not in str(body)
    return body


def assert_group(body: Any, *, detail: bool = False) -> dict[str, Any]:
    assert isinstance(body, dict)
    assert set(body) == GROUP_FIELDS | ({"members"} if detail else set())
    if detail:
        assert all(set(member) == {"id", "email", "full_name"} for member in body["members"])
    return body


def assert_item(body: Any) -> dict[str, Any]:
    assert isinstance(body, dict)
    assert set(body) == ITEM_FIELDS
    return body
