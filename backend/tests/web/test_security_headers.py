"""The app sets its own security headers, so a deployment without Traefik in front
is as safe: every response refuses framing and MIME sniffing and sends no referrer;
API answers allow no content at all, the docs page only its own scripts."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.utils.databases import same_on_every_database

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def policy(response: TestResponse) -> dict[str, str]:
    """The Content-Security-Policy's directives, by name."""
    header = response.headers["Content-Security-Policy"]
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value[0] if value else "" for name, *value in directives}


@same_on_every_database
@pytest.mark.parametrize(
    "path",
    ["/api/v1/utils/health-check/", "/api/v1/users/me", "/api/v1/nothing-here", "/api/docs"],
    ids=["ok", "401", "404", "docs"],
)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, name
    assert policy(response)["frame-ancestors"] == "'none'"


@same_on_every_database
def test_api_answers_allow_no_content(client: FlaskClient) -> None:
    assert policy(client.get("/api/v1/utils/health-check/"))["default-src"] == "'none'"


@same_on_every_database
def test_docs_page_runs_only_its_own_scripts(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    directives = policy(page)
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    # The page's one inline script (Swagger UI's set-up) is allowed by its hash.
    [inline] = INLINE_SCRIPT.findall(page.get_data())
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    assert f"'sha256-{digest}'" in directives["script-src"]


@same_on_every_database
def test_docs_oauth_redirect_page_runs_its_inline_script(client: FlaskClient) -> None:
    page = client.get("/api/swaggerui/oauth2-redirect.html", buffered=True)
    assert page.status_code == 200
    [inline] = INLINE_SCRIPT.findall(page.get_data())
    page.close()
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    assert f"'sha256-{digest}'" in policy(page)["script-src"]


@same_on_every_database
def test_https_answers_ask_to_stay_on_https(client: FlaskClient) -> None:
    secure = client.get("/api/v1/utils/health-check/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/api/v1/utils/health-check/").headers
