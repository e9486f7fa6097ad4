from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Item, User
from app.runtime import Runtime
from tests.utils.assertions import assert_error, assert_item
from tests.utils.factories import auth_headers, make_item, make_user

ITEMS = "/api/v1/items/"


def _titles(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[str]:
    response = client.get(ITEMS + query, headers=headers)
    assert response.status_code == 200
    return [item["title"] for item in response.get_json()["data"]]


def test_create_item_returns_it_owned_by_caller(
    client: FlaskClient, user: User, user_headers: dict[str, str]
) -> None:
    response = client.post(ITEMS, json={"title": "First"}, headers=user_headers)
    assert response.status_code == 201
    body = assert_item(response.get_json())
    assert body["title"] == "First"
    assert body["description"] is None
    assert body["owner_id"] == user.id
    listed = client.get(ITEMS, headers=user_headers).get_json()
    assert listed["count"] == 1
    assert listed["data"][0]["id"] == body["id"]


def test_create_item_keeps_description_with_newlines_and_tabs(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        ITEMS, json={"title": "T", "description": "line one\nline two\ttab"}, headers=user_headers
    )
    assert response.status_code == 201
    item_id = response.get_json()["id"]
    again = client.get(f"{ITEMS}{item_id}", headers=user_headers).get_json()
    assert again["description"] == "line one\nline two\ttab"


@pytest.mark.parametrize("length", [1, 255])
def test_create_item_with_title_at_length_bounds_succeeds(
    client: FlaskClient, user_headers: dict[str, str], length: int
) -> None:
    response = client.post(ITEMS, json={"title": "t" * length}, headers=user_headers)
    assert response.status_code == 201
    assert response.get_json()["title"] == "t" * length


@pytest.mark.parametrize("title", ["", " \t ", "t" * 256])
def test_create_item_with_bad_title_returns_422(
    client: FlaskClient, user_headers: dict[str, str], title: str
) -> None:
    response = client.post(ITEMS, json={"title": title}, headers=user_headers)
    assert_error(response, 422, field="title")
    assert client.get(ITEMS, headers=user_headers).get_json()["count"] == 0


def test_create_item_with_description_at_limit_succeeds(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        ITEMS, json={"title": "t", "description": "d" * 10_000}, headers=user_headers
    )
    assert response.status_code == 201
    item_id = response.get_json()["id"]
    again = client.get(f"{ITEMS}{item_id}", headers=user_headers).get_json()
    assert again["description"] == "d" * 10_000


def test_create_item_with_description_over_limit_returns_422(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        ITEMS, json={"title": "t", "description": "d" * 10_001}, headers=user_headers
    )
    assert_error(response, 422, field="description")


def test_create_item_asking_for_another_owner_returns_422(
    client: FlaskClient, superuser: User, user_headers: dict[str, str]
) -> None:
    response = client.post(
        ITEMS, json={"title": "t", "owner_id": superuser.id}, headers=user_headers
    )
    assert_error(response, 422, field="owner_id")


def test_create_item_without_token_returns_401(client: FlaskClient) -> None:
    assert_error(client.post(ITEMS, json={"title": "t"}), 401)


# --- GET /items/ ---------------------------------------------------------------------


def test_read_items_lists_only_callers_own(
    client: FlaskClient, db: Session, user: User, superuser: User, user_headers: dict[str, str]
) -> None:
    make_item(db, user, title="mine")
    make_item(db, superuser, title="theirs")
    body = client.get(ITEMS, headers=user_headers).get_json()
    assert [item["title"] for item in body["data"]] == ["mine"]
    assert body["count"] == 1


def test_read_items_with_items_read_all_lists_everyones(
    client: FlaskClient, db: Session, runtime: Runtime, user: User, superuser: User
) -> None:
    reader = make_user(db, runtime, permissions=["items:read_all"])
    make_item(db, user, title="a")
    make_item(db, superuser, title="b")
    body = client.get(ITEMS, headers=auth_headers(runtime, reader)).get_json()
    assert sorted(item["title"] for item in body["data"]) == ["a", "b"]
    assert body["count"] == 2


def test_read_items_lists_newest_first_in_pages(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    for n in range(5):
        client.post(ITEMS, json={"title": f"item {n}"}, headers=user_headers)
    assert _titles(client, user_headers) == [f"item {n}" for n in (4, 3, 2, 1, 0)]
    page = client.get(ITEMS + "?skip=1&limit=2", headers=user_headers).get_json()
    assert [item["title"] for item in page["data"]] == ["item 3", "item 2"]
    assert page["count"] == 5
    assert _titles(client, user_headers, "?skip=5") == []


def test_read_items_filters_by_text_in_title_or_description_without_regard_to_case(
    client: FlaskClient, db: Session, user: User, superuser: User, user_headers: dict[str, str]
) -> None:
    make_item(db, user, title="Weekly Groceries")
    make_item(db, user, title="Errands", description="buy GROCERIES and stamps")
    make_item(db, user, title="Taxes", description=None)
    make_item(db, superuser, title="groceries of someone else")
    body = client.get(ITEMS, query_string={"q": "grocer"}, headers=user_headers).get_json()
    assert [item["title"] for item in body["data"]] == ["Errands", "Weekly Groceries"]
    assert body["count"] == 2
    assert _titles(client, user_headers, "?q=") == ["Taxes", "Errands", "Weekly Groceries"]


@pytest.mark.parametrize("text", ["%", "_", "\\"])
def test_read_items_treats_wildcards_in_search_literally(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str], text: str
) -> None:
    make_item(db, user, title="Plain title", description="plain text")
    response = client.get(ITEMS, query_string={"q": text}, headers=user_headers)
    assert response.status_code == 200
    assert response.get_json() == {"data": [], "count": 0}


def test_read_items_with_control_characters_in_search_returns_400(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.get(ITEMS, query_string={"q": "a\x00b"}, headers=user_headers)
    assert_error(response, 400, field="q")


def test_read_items_caps_limit_at_100(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    db.add_all(Item(title=f"bulk {n}", owner_id=user.id) for n in range(101))
    db.commit()
    body = client.get(ITEMS + "?limit=500", headers=user_headers).get_json()
    assert len(body["data"]) == 100
    assert body["count"] == 101


# --- GET /items/{id} -----------------------------------------------------------------


def test_read_item_own_succeeds(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    item = make_item(db, user, title="mine")
    response = client.get(f"{ITEMS}{item.id}", headers=user_headers)
    assert response.status_code == 200
    body = assert_item(response.get_json())
    assert (body["id"], body["title"], body["owner_id"]) == (item.id, "mine", user.id)


def test_read_item_of_someone_else_returns_404(
    client: FlaskClient, db: Session, superuser: User, user_headers: dict[str, str]
) -> None:
    item = make_item(db, superuser)
    assert_error(client.get(f"{ITEMS}{item.id}", headers=user_headers), 404)


def test_read_item_of_someone_else_with_items_read_all_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    item = make_item(db, user)
    reader = make_user(db, runtime, permissions=["items:read_all"])
    response = client.get(f"{ITEMS}{item.id}", headers=auth_headers(runtime, reader))
    assert response.status_code == 200


def test_read_item_missing_returns_404(client: FlaskClient, user_headers: dict[str, str]) -> None:
    assert_error(client.get(f"{ITEMS}987654", headers=user_headers), 404)


# --- PATCH /items/{id} ---------------------------------------------------------------


def test_update_item_own_changes_fields_and_updated_at(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    created = client.post(ITEMS, json={"title": "old", "description": "d"}, headers=user_headers)
    before = created.get_json()
    response = client.patch(
        f"{ITEMS}{before['id']}", json={"title": "new", "description": None}, headers=user_headers
    )
    assert response.status_code == 200
    after = assert_item(response.get_json())
    assert (after["title"], after["description"]) == ("new", None)
    assert after["created_at"] == before["created_at"]
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )
    assert client.get(f"{ITEMS}{before['id']}", headers=user_headers).get_json() == after


def test_update_item_with_only_description_keeps_title(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    item = make_item(db, user, title="kept")
    response = client.patch(f"{ITEMS}{item.id}", json={"description": "new"}, headers=user_headers)
    assert (response.get_json()["title"], response.get_json()["description"]) == ("kept", "new")


def test_update_item_of_someone_else_returns_404(
    client: FlaskClient, db: Session, superuser: User, user_headers: dict[str, str]
) -> None:
    item = make_item(db, superuser, title="theirs")
    response = client.patch(f"{ITEMS}{item.id}", json={"title": "mine"}, headers=user_headers)
    assert_error(response, 404)
    db.refresh(item)
    assert item.title == "theirs"


def test_update_item_with_only_items_read_all_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    item = make_item(db, user, title="theirs")
    reader = make_user(db, runtime, permissions=["items:read_all"])
    response = client.patch(
        f"{ITEMS}{item.id}", json={"title": "x"}, headers=auth_headers(runtime, reader)
    )
    assert_error(response, 403)
    db.refresh(item)
    assert item.title == "theirs"


def test_update_item_with_items_write_all_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    item = make_item(db, user, title="theirs")
    editor = make_user(db, runtime, permissions=["items:write_all"])
    response = client.patch(
        f"{ITEMS}{item.id}", json={"title": "edited"}, headers=auth_headers(runtime, editor)
    )
    assert response.status_code == 200
    assert response.get_json()["title"] == "edited"
    assert response.get_json()["owner_id"] == user.id


@pytest.mark.parametrize("changes", [{"title": ""}, {"title": "t" * 256}, {"title": None}])
def test_update_item_with_bad_title_returns_422(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str], changes: dict
) -> None:
    item = make_item(db, user, title="kept")
    assert_error(
        client.patch(f"{ITEMS}{item.id}", json=changes, headers=user_headers), 422, field="title"
    )
    db.refresh(item)
    assert item.title == "kept"


def test_update_item_missing_returns_404(client: FlaskClient, user_headers: dict[str, str]) -> None:
    assert_error(client.patch(f"{ITEMS}987654", json={"title": "x"}, headers=user_headers), 404)


# --- DELETE /items/{id} --------------------------------------------------------------


def test_delete_item_own_removes_it(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    item = make_item(db, user)
    response = client.delete(f"{ITEMS}{item.id}", headers=user_headers)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_error(client.get(f"{ITEMS}{item.id}", headers=user_headers), 404)
    assert_error(client.delete(f"{ITEMS}{item.id}", headers=user_headers), 404)


def test_delete_item_of_someone_else_returns_404(
    client: FlaskClient, db: Session, superuser: User, user_headers: dict[str, str]
) -> None:
    item = make_item(db, superuser)
    assert_error(client.delete(f"{ITEMS}{item.id}", headers=user_headers), 404)
    db.expire_all()
    assert db.get(Item, item.id) is not None


def test_delete_item_with_only_items_read_all_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    item = make_item(db, user)
    reader = make_user(db, runtime, permissions=["items:read_all"])
    assert_error(client.delete(f"{ITEMS}{item.id}", headers=auth_headers(runtime, reader)), 403)
    db.expire_all()
    assert db.get(Item, item.id) is not None


def test_delete_item_with_items_write_all_succeeds(
    client: FlaskClient, db: Session, runtime: Runtime, user: User
) -> None:
    item = make_item(db, user)
    editor = make_user(db, runtime, permissions=["items:write_all"])
    item_id = item.id
    response = client.delete(f"{ITEMS}{item_id}", headers=auth_headers(runtime, editor))
    assert response.status_code == 204
    db.expire_all()
    assert db.get(Item, item_id) is None


def test_read_items_past_the_last_page_returns_no_rows_and_the_total(
    client: FlaskClient, db: Session, user: User, user_headers: dict[str, str]
) -> None:
    for number in range(3):
        make_item(db, user, title=f"Item {number}")

    body = client.get("/api/v1/items/?skip=10&limit=5", headers=user_headers).get_json()

    assert body == {"data": [], "count": 3}


def test_read_items_with_none_returns_zero_count(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    body = client.get("/api/v1/items/", headers=user_headers).get_json()

    assert body == {"data": [], "count": 0}
