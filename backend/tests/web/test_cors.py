from __future__ import annotations

from app.web import create_app
from tests.conftest import make_settings


def test_preflight_allows_configured_origin_with_credentials(tmp_sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_sqlite_url, BACKEND_CORS_ORIGINS="https://app.example.com"))
    response = app.test_client().options(
        "/api/v1/items/",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_preflight_ignores_origin_outside_allowlist(tmp_sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_sqlite_url, BACKEND_CORS_ORIGINS="https://app.example.com"))
    response = app.test_client().get(
        "/api/v1/utils/health-check/", headers={"Origin": "https://evil.example.net"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_responses_carry_no_cors_headers_without_allowlist(tmp_sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_sqlite_url))
    response = app.test_client().get(
        "/api/v1/utils/health-check/", headers={"Origin": "https://app.example.com"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
