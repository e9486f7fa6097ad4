"""Request and response schemas shared by the namespaces, and request validation.

flask-restx models document every body in the spec; `parse_body()` validates the
request against the same model (JSON Schema), so the docs and the checks cannot
drift apart. Validation messages are short and never echo the input back.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask_restx import Model, Namespace, fields, inputs, reqparse
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from app.schemas import common
from app.services.errors import InvalidInput

from .shapes import schema_models

F = TypeVar("F", bound=Callable[..., Any])

# C0 controls but tab, newline and carriage return; DEL; lone UTF-16 surrogates
# (valid JSON escapes that no database can store).
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_ID = 2**31 - 1  # ids fit a 32-bit signed integer on every database
MAX_SKIP = 2**31 - 1
MAX_LIMIT = 100

(error_model,) = schema_models(common.Error)
(validation_error_model,) = schema_models(common.ValidationError)
(message_model,) = schema_models(common.Message)

_MESSAGES = {
    "maxLength": "Must be at most {value} characters",
    "minLength": "Must be at least {value} characters",
    "maximum": "Must be at most {value}",
    "minimum": "Must be at least {value}",
    "maxItems": "Must have at most {value} entries",
    "uniqueItems": "Must not repeat entries",
}

ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated, or the token is invalid",
    403: "Not enough permissions",
    404: "Not found",
    409: "Conflict with an existing value",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation error",
    429: "Too many requests",
    503: "A dependency is unavailable",
}


class Email(fields.String):
    """An email address: `format: email` in the spec, so clients and generators know."""

    __schema_format__ = "email"


def register_common_models(ns: Namespace) -> None:
    for model in (error_model, validation_error_model, message_model):
        ns.add_model(model.name, model)


def errors(ns: Namespace, *codes: int) -> Callable[[F], F]:
    """Document the error responses an operation can give."""

    def decorate(func: F) -> F:
        for code in codes:
            model = validation_error_model if code in (400, 422) else error_model
            func = ns.response(code, ERROR_DESCRIPTIONS[code], model)(func)
        return func

    return decorate


def nullable(field: fields.Raw) -> fields.Raw:
    """Mark a field as accepting and returning null (Swagger 2.0's x-nullable)."""
    field.__schema_example__ = None
    original = field.schema

    def schema() -> dict[str, Any]:
        value = dict(original())
        value["x-nullable"] = True
        return value

    field.schema = schema
    return field


def _to_json_schema(model: Model) -> dict[str, Any]:
    """The model as a self-contained JSON Schema: nested models inlined, and
    Swagger's x-nullable turned into a type list."""
    schema: dict[str, Any] = copy.deepcopy(model.__schema__)
    properties = schema.get("properties", {})
    for name, field in model.items():
        if isinstance(field, fields.Nested):
            properties[name] = _to_json_schema(field.nested)
    for prop in properties.values():
        if prop.pop("x-nullable", False) and "type" in prop:
            prop["type"] = [prop["type"], "null"]
    return schema


_validators: dict[str, Draft4Validator] = {}


def _validator(model: Model) -> Draft4Validator:
    validator = _validators.get(model.name)
    if validator is None:
        validator = Draft4Validator(_to_json_schema(model))
        _validators[model.name] = validator
    return validator


def _message(error: ValidationError) -> tuple[str, str]:
    """(field, message) for one schema violation; the input is never echoed."""
    path = [str(p) for p in error.path]
    kind: str = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    if kind == "required":
        missing = next((name for name in value if name not in instance), "")
        return ".".join([*path, missing]), "This field is required"
    if kind == "additionalProperties":
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        return ".".join([*path, *extra[:1]]) or "body", "Unknown field"
    if kind == "type":
        names = " or ".join(value) if isinstance(value, list) else str(value)
        message = f"Must be of type {names}"
    elif kind in _MESSAGES:
        message = _MESSAGES[kind].format(value=value)
    elif kind == "enum":
        message = "Must be one of: " + ", ".join(map(str, value))
    else:
        message = "Invalid value"
    return ".".join(path) or "body", message


def _find_forbidden(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if _FORBIDDEN_CHARS.search(value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, child in items:
        found = _find_forbidden(child, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def parse_body(model: Model) -> dict[str, Any]:
    """The JSON body, validated against `model`; 400 or 422 with per-field errors."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("The body is not valid JSON")
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object", {"body": "Must be an object"})
    found: dict[str, str] = {}
    for error in _validator(model).iter_errors(data):
        field, message = _message(error)
        found.setdefault(field, message)
    if found:
        raise InvalidInput("Input payload validation failed", found)
    bad = _find_forbidden(data, "")
    if bad is not None:
        raise InvalidInput(
            "Input payload validation failed", {bad: "Contains characters that are not allowed"}
        )
    return data


def search_text(value: str) -> str:
    """A query-string search text. Control characters can't match any stored value,
    and some databases refuse them (PostgreSQL rejects NUL): they are a 400 here."""
    if _FORBIDDEN_CHARS.search(value):
        raise ValueError("Contains characters that are not allowed")
    return value


def pagination_parser() -> reqparse.RequestParser:
    parser = reqparse.RequestParser(bundle_errors=True)
    parser.add_argument(
        "skip",
        type=inputs.int_range(0, MAX_SKIP),
        default=0,
        location="args",
        help="How many records to skip",
    )
    parser.add_argument(
        "limit",
        type=inputs.int_range(1, 1_000_000),
        default=MAX_LIMIT,
        location="args",
        help=f"How many records to return (at most {MAX_LIMIT}; larger values are capped)",
    )
    return parser


def page_args(parser: reqparse.RequestParser) -> dict[str, Any]:
    args = dict(parser.parse_args())
    args["limit"] = min(args["limit"], MAX_LIMIT)
    return args


def page_model(ns: Namespace, name: str, item: Model) -> Model:
    return ns.model(
        name,
        {
            "data": fields.List(fields.Nested(item), required=True),
            "count": fields.Integer(required=True, description="Total, not the page size"),
        },
    )


def checked_id(value: int) -> int:
    """Ids beyond the database's integer range can't exist: make them a plain miss
    (0 is never an id) instead of an overflow error in the database."""
    return value if 0 < value <= MAX_ID else 0


def isoformat(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
