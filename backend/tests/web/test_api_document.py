"""The published API document (/api/v1/swagger.json) is valid Swagger 2.0, as
openapi-spec-validator reads it: code generators and gateways accept it."""

from __future__ import annotations

from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV2SpecValidator


def test_swagger_json_is_valid_swagger_2(client: FlaskClient) -> None:
    spec = client.get("/api/v1/swagger.json").get_json()
    errors = [error.message for error in OpenAPIV2SpecValidator(spec).iter_errors()]
    assert errors == []


def test_the_token_url_is_absolute_at_the_origin_the_document_came_from(
    client: FlaskClient,
) -> None:
    # Swagger 2.0 wants an absolute URL; the right one is where the API was reached.
    spec = client.get("/api/v1/swagger.json", base_url="https://api.example.com").get_json()
    (scheme,) = spec["securityDefinitions"].values()
    assert scheme["tokenUrl"] == "https://api.example.com/api/v1/login/access-token"
