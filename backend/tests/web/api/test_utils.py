from __future__ import annotations

from flask.testing import FlaskClient

from tests.utils.unreachable import app_without_database

HEALTH = "/api/v1/utils/health-check/"


def test_health_check_with_database_up_returns_ok(client: FlaskClient) -> None:
    response = client.get(HEALTH)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"status": "ok", "database": "ok", "broker": "ok"}  # as the contract shows
    assert response.headers["Cache-Control"] == "no-store"


def test_health_check_with_database_down_returns_503_naming_it() -> None:
    with app_without_database() as (app, _):
        response = app.test_client().get(HEALTH)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unavailable"
    assert "database" in body["message"]
