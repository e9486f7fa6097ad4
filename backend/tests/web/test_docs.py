"""The interactive docs and the spec: served in local, off elsewhere unless asked for."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.runtime import Runtime
from tests.utils.apps import app_with_settings
from tests.utils.assertions import assert_error
from tests.utils.databases import same_on_every_database

DOCS = ("/api/docs", "/api/v1/swagger.json", "/api/v1/openapi.json", "/api/v1/", "/api/v1")


@same_on_every_database
def test_docs_are_served_in_local(client: FlaskClient) -> None:
    ui = client.get("/api/docs")
    assert ui.status_code == 200 and ui.mimetype == "text/html"
    assert client.get("/api/v1/swagger.json").get_json()["paths"]


@same_on_every_database
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_docs_answer_404_outside_local_by_default(
    runtime: Runtime, db: Session, environment: str
) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the settings outside local want a database password; SQLite needs none")
    client = app_with_settings(runtime, ENVIRONMENT=environment).test_client()
    for path in DOCS:
        assert_error(client.get(path), 404)
    # The API itself is there.
    assert client.get("/api/v1/utils/health-check/").status_code in (200, 503)


@same_on_every_database
def test_docs_follow_docs_enabled_when_set(runtime: Runtime, db: Session) -> None:
    off = app_with_settings(runtime, DOCS_ENABLED=False).test_client()
    for path in DOCS:
        assert_error(off.get(path), 404)
    if runtime.engine.dialect.name == "sqlite":
        on = app_with_settings(runtime, ENVIRONMENT="production", DOCS_ENABLED=True).test_client()
        for path in DOCS:
            assert on.get(path).status_code == 200


@same_on_every_database
def test_api_root_links_to_its_documentation(client: FlaskClient) -> None:
    index = client.get("/api/v1/")
    assert index.status_code == 200
    links = index.get_json()
    assert links["name"].endswith(" API")
    for name in ("docs", "openapi", "swagger", "health"):
        assert client.get(links[name]).status_code == 200, name
