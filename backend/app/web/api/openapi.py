"""GET /api/v1/openapi.json: the API as an OpenAPI 3.1 document.

Made from the same two sources as swagger.json, not converted from it: the
operations restx registered (paths, operation ids, parameters, which model each
request and response carries, security) and the pydantic models themselves, whose
JSON Schema (draft 2020-12) is what OpenAPI 3.1 speaks, nulls and all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import request
from flask_restx import Api

from . import shapes

# Swagger 2.0's parameter keywords that a 3.1 parameter keeps in its schema.
_SCHEMA_KEYWORDS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def document(api: Api, *, token_path: str, security_scheme: str) -> dict[str, Any]:
    """The whole document; the token URL absolute at the origin it was asked from."""
    built = _built(api)
    scheme = {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": urljoin(request.host_url, token_path), "scopes": {}}},
    }
    components = built["components"] | {"securitySchemes": {security_scheme: scheme}}
    return built | {"components": components}


_cache: dict[int, dict[str, Any]] = {}


def _built(api: Api) -> dict[str, Any]:
    cached = _cache.get(id(api))
    if cached is None:
        cached = _cache[id(api)] = _build(api.__schema__)
    return cached


def _build(swagger: dict[str, Any]) -> dict[str, Any]:
    # The components the operations refer to: a model's name, or a form's with its schema.
    models: Components = {}
    paths = {path: _path_item(item, models) for path, item in swagger["paths"].items()}
    _link_created(paths)
    return {
        "openapi": "3.1.0",
        "info": swagger["info"],
        "servers": [{"url": swagger.get("basePath", "/")}],
        "tags": swagger.get("tags", []),
        "security": swagger.get("security", []),
        "paths": paths,
        "components": {"schemas": _schemas(models)},
    }


def _link_created(paths: dict[str, dict[str, Any]]) -> None:
    """Links from what creates a row to what takes its id: `POST /items/` answers
    the item, whose `id` is `item_id` in every operation under `/items/{item_id}`.
    Clients and stateful testing (schemathesis) follow them."""
    for path, item in paths.items():
        responses = item.get("post", {}).get("responses", {})
        created = responses.get("201") or responses.get("202")
        if not path.endswith("/") or created is None:
            continue
        links = {}
        for child, child_item in paths.items():
            rest = child.removeprefix(path)
            if child == rest or not rest.startswith("{"):
                continue
            parameter = rest[1 : rest.index("}")]
            for operation in child_item.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {parameter: "$response.body#/id"},
                }
        if links:
            created["links"] = links


def _path_item(item: dict[str, Any], models: Components) -> dict[str, Any]:
    shared = item.get("parameters", [])
    return {
        method: _operation(operation, shared, models)
        for method, operation in item.items()
        if method in _METHODS
    }


def _operation(
    operation: dict[str, Any], shared: list[dict[str, Any]], models: Components
) -> dict[str, Any]:
    converted: dict[str, Any] = {
        key: operation[key]
        for key in ("tags", "summary", "description", "operationId", "security")
        if key in operation
    }
    parameters, body, form = [], None, []
    for parameter in [*shared, *operation.get("parameters", [])]:
        where = parameter["in"]
        if where == "body":
            body = _ref(parameter["schema"], models)
        elif where == "formData":
            form.append(parameter)
        else:
            parameters.append(_parameter(parameter))
    if parameters:
        converted["parameters"] = parameters
    if body is not None:
        converted["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    elif form:
        # The OAuth2 form (the login takes the same fields as JSON too, but a body
        # with two media types trips generators: openapi-python-client 0.29's
        # code for it does not import its own Unset).
        # Named after its operation (loginAccessToken: LoginAccessTokenForm).
        name = operation["operationId"][:1].upper() + operation["operationId"][1:] + "Form"
        models[name] = _form_schema(form)
        content = {"application/x-www-form-urlencoded": {"schema": {"$ref": COMPONENTS + name}}}
        converted["requestBody"] = {"required": True, "content": content}
    converted["responses"] = {
        code: _response(response, models)
        for code, response in sorted(operation.get("responses", {}).items())
    }
    return converted


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = {key: parameter[key] for key in _SCHEMA_KEYWORDS if key in parameter}
    converted = {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": bool(parameter.get("required")) or parameter["in"] == "path",
        "schema": schema,
    }
    if parameter.get("description"):
        converted["description"] = parameter["description"]
    return converted


def _form_schema(fields: list[dict[str, Any]]) -> dict[str, Any]:
    properties = {
        field["name"]: {key: field[key] for key in _SCHEMA_KEYWORDS if key in field}
        | ({"description": field["description"]} if field.get("description") else {})
        for field in fields
    }
    required = [field["name"] for field in fields if field.get("required")]
    return {"type": "object", "properties": properties, "required": required}


def _response(response: dict[str, Any], models: Components) -> dict[str, Any]:
    converted: dict[str, Any] = {"description": response.get("description") or ""}
    if "schema" in response:
        converted["content"] = {"application/json": {"schema": _ref(response["schema"], models)}}
    return converted


def _ref(schema: dict[str, Any], models: Components) -> dict[str, Any]:
    """A Swagger reference to a model, as a reference to its component."""
    name = schema["$ref"].removeprefix("#/definitions/")
    models.setdefault(name, None)
    return {"$ref": f"{COMPONENTS}{name}"}


COMPONENTS = "#/components/schemas/"
# Each component's name, and the schema of a form (restx's form parsers, which no
# pydantic model describes) or None for a model's (written from the model).
Components = dict[str, dict[str, Any] | None]


def _schemas(names: Components) -> dict[str, Any]:
    """Each model's JSON Schema as pydantic writes it, and those it nests."""
    schemas: dict[str, Any] = {}
    for name in sorted(names):
        form = names[name]
        if form is not None:
            schemas[name] = form
            continue
        schema = shapes.json_schema(name, ref_template=COMPONENTS + "{model}")
        for nested, definition in schema.pop("$defs", {}).items():
            schemas[nested] = _tidy(definition)
        schemas[name] = _tidy(schema)
    return dict(sorted(schemas.items()))


def _tidy(schema: Any) -> Any:
    """Without the titles pydantic makes up from field names, and without a null
    default on a field that cannot be null (left out means unchanged)."""
    if isinstance(schema, list):
        return [_tidy(each) for each in schema]
    if not isinstance(schema, dict):
        return schema
    nullable = {"type": "null"} in schema.get("anyOf", [])
    tidied = {}
    for key, value in schema.items():
        if key == "title" or (key == "default" and value is None and not nullable):
            continue
        if key == "properties":
            value = {name: _tidy(field) for name, field in value.items()}
        else:
            value = _tidy(value)
        tidied[key] = value
    return tidied
