from __future__ import annotations

from flask.testing import FlaskClient


def test_create_item_returns_it_owned_by_caller(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/items/", json={"title": "First"}, headers=user_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["title"] == "First"
    listed = client.get("/api/v1/items/", headers=user_headers).get_json()
    assert listed["count"] == 1
    assert listed["data"][0]["id"] == body["id"]
