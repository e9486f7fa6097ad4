"""The published API documents are valid, as openapi-spec-validator reads them:
/api/v1/swagger.json as Swagger 2.0, /api/v1/openapi.json as OpenAPI 3.1. Code
generators and gateways accept them (tests/live/test_generated_client.py)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV31SpecValidator

from tests.utils.databases import same_on_every_database


@same_on_every_database
def test_swagger_json_is_valid_swagger_2(client: FlaskClient) -> None:
    spec = client.get("/api/v1/swagger.json").get_json()
    errors = [error.message for error in OpenAPIV2SpecValidator(spec).iter_errors()]
    assert errors == []


@same_on_every_database
def test_the_token_url_is_absolute_at_the_origin_the_document_came_from(
    client: FlaskClient,
) -> None:
    # Swagger 2.0 wants an absolute URL; the right one is where the API was reached.
    spec = client.get("/api/v1/swagger.json", base_url="https://api.example.com").get_json()
    (scheme,) = spec["securityDefinitions"].values()
    assert scheme["tokenUrl"] == "https://api.example.com/api/v1/login/access-token"


@same_on_every_database
def test_openapi_json_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


@same_on_every_database
def test_both_documents_have_the_same_operations_under_the_same_ids(client: FlaskClient) -> None:
    swagger = client.get("/api/v1/swagger.json").get_json()
    openapi = client.get("/api/v1/openapi.json").get_json()

    def operations(document: dict[str, Any]) -> dict[tuple[str, str], str]:
        return {
            (path, method): operation["operationId"]
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if method != "parameters"
        }

    ids = operations(openapi)
    assert ids == operations(swagger)
    assert len(set(ids.values())) == len(ids)  # the generated clients' method names


@same_on_every_database
def test_openapi_json_takes_its_schemas_from_the_models(client: FlaskClient) -> None:
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    # JSON Schema as pydantic writes it: null in the type, the server's limits.
    description = schemas["ItemCreate"]["properties"]["description"]
    assert {"type": "null"} in description["anyOf"]
    title = schemas["ItemCreate"]["properties"]["title"]
    assert (title["minLength"], title["maxLength"]) == (1, 255)
    assert schemas["ItemCreate"]["additionalProperties"] is False
    # A field that may be left out but never be null has no null default.
    assert "default" not in schemas["ItemUpdate"]["properties"]["title"]
