"""The pydantic families (app/schemas) in the API: documented in the spec, used to
read request bodies and to write answers. A namespace does

    item_public = document(ns, ItemPublic)          # for @ns.response / @ns.expect
    body = read_body(ItemCreate)                    # 400/415/422 as the contract says
    return answer(ItemPublic, item)                 # the ORM object, as JSON-ready data

so that one class says what the spec documents, what the server accepts and what
it answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any, Literal, TypeVar

from flask import request
from flask_restx import Namespace
from flask_restx.model import SchemaModel
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from app.services.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

# What each kind of pydantic error says, never echoing the input back.
_MESSAGES = {
    "missing": "This field is required",
    "extra_forbidden": "Unknown field",
    "string_too_long": "Must be at most {max_length} characters",
    "string_too_short": "Must be at least {min_length} characters",
    "string_pattern_mismatch": "Contains characters that are not allowed",
    "string_unicode": "Contains characters that are not allowed",
    "string_type": "Must be of type string",
    "int_type": "Must be of type integer",
    "float_type": "Must be of type number",
    "bool_type": "Must be of type boolean",
    "list_type": "Must be of type array",
    "dict_type": "Must be of type object",
    "model_type": "Must be of type object",
    "too_long": "Must have at most {max_length} entries",
    "less_than_equal": "Must be at most {le}",
    "greater_than_equal": "Must be at least {ge}",
    "enum": "Must be one of: {expected}",
    "literal_error": "Must be one of: {expected}",
    # A model's own check (a ValueError): its message as it stands.
    "value_error": "{error}",
}


def document(ns: Namespace, model: type[BaseModel]) -> SchemaModel:
    """The model in the namespace, for the Swagger 2.0 spec, with the models it
    nests registered beside it (ProjectApi puts each one the spec refers to in its
    definitions): null as Swagger's x-nullable, no titles made up from field names."""
    *nested, documented = schema_models(model)
    for each in (*nested, documented):
        ns.add_model(each.name, each)
    return documented


def schema_models(model: type[BaseModel]) -> list[SchemaModel]:
    """The restx models of `model`: those it nests, then its own."""
    MODELS[model.__name__] = model
    schema = json_schema(model.__name__, ref_template=REF_TEMPLATE)
    nested = [
        SchemaModel(name, _swagger2(definition))
        for name, definition in schema.pop("$defs", {}).items()
    ]
    return [*nested, SchemaModel(model.__name__, _swagger2(schema))]


# Every model the API documents, by name: openapi.py writes them out again.
MODELS: dict[str, type[BaseModel]] = {}


def json_schema(name: str, *, ref_template: str) -> dict[str, Any]:
    """The JSON Schema of a documented model: of what a client may send for a
    request body (extra fields forbidden), else of what the server writes."""
    model = MODELS[name]
    mode: Literal["validation", "serialization"] = (
        "validation" if model.model_config.get("extra") == "forbid" else "serialization"
    )
    return model.model_json_schema(mode=mode, ref_template=ref_template)


REF_TEMPLATE = "#/definitions/{model}"


def _swagger2(schema: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema object as Swagger 2.0 takes it."""
    if isinstance(schema.get("discriminator"), dict):
        return _swagger2_tagged(schema)
    choices = schema.get("anyOf")
    if choices and {"type": "null"} in choices and len(choices) == 2:
        (other,) = (choice for choice in choices if choice != {"type": "null"})
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        return _swagger2({**other, **rest, "x-nullable": True})
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or (key == "default" and value is None):
            # Titles pydantic makes from field names; a null default (Swagger 2.0
            # cannot say it: left out means null).
            continue
        if key == "examples":  # JSON Schema's list; Swagger 2.0 has one example
            key, value = "example", value[0]
        elif key == "const":  # no const in Swagger 2.0: an enum of one
            key, value = "enum", [value]
        elif key == "properties":
            value = {name: _swagger2(field) for name, field in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = _swagger2(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            value = [_swagger2(choice) for choice in value]
        converted[key] = value
    return converted


def _swagger2_tagged(schema: dict[str, Any]) -> dict[str, Any]:
    """A tagged union (one shape per value of a field) as Swagger 2.0 can say it,
    which has no oneOf: an object with the tag field. openapi.json has the union."""
    tag, mapping = schema["discriminator"]["propertyName"], schema["discriminator"]["mapping"]
    description = schema.get("description", "")
    return {
        "type": "object",
        "description": f"{description} The other fields depend on `{tag}`: "
        "/api/v1/openapi.json has each shape.".strip(),
        "required": [tag],
        "properties": {tag: {"type": "string", "enum": list(mapping)}},
    }


def referenced_models(schema: Any) -> Iterator[str]:
    """The names of the models a (part of a) spec refers to."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            yield ref.removeprefix("#/definitions/")
        for value in schema.values():
            yield from referenced_models(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from referenced_models(value)


def read_body(model: type[M]) -> M:
    """The request's JSON body as `model` (parsed and checked in one pass by
    pydantic-core): 415 unless JSON, 400 when malformed, 422 when not an object or
    with a message per field at fault."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json)")
    raw = request.get_data()
    try:
        return model.model_validate_json(raw)
    except PydanticValidationError as exc:
        error = exc
    if _body_errors(error) == {"json_invalid"}:
        # pydantic-core refuses a string escape that is valid JSON but no text (a
        # lone surrogate, "\ud800"): that is the field's fault, so find the field.
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise BadRequest("The body is not valid JSON") from None
        try:
            return model.model_validate(data, strict=False)
        except PydanticValidationError as exc:
            error = exc
    if _body_errors(error):
        raise InvalidInput("The body must be a JSON object", {"body": "Must be an object"})
    raise InvalidInput("Input payload validation failed", field_errors(error, model))


def _body_errors(error: PydanticValidationError) -> set[str]:
    """The kinds of error that concern the whole body rather than a field."""
    return {
        each["type"]
        for each in error.errors()
        if not each["loc"] and each["type"] not in _TAG_ERRORS
    }


# A body that is one of several shapes, told apart by a field (a job's `kind`):
# pydantic reports that field's errors at the body, and the others under the tag.
_TAG_ERRORS = {
    "union_tag_not_found": "This field is required",
    "union_tag_invalid": "Must be one of: {expected_tags}",
}


@cache
def _tags(model: type[BaseModel]) -> tuple[str | None, frozenset[str]]:
    """The field that tells a tagged union's shapes apart, and its values."""
    discriminator = model.model_json_schema().get("discriminator", {})
    return discriminator.get("propertyName"), frozenset(discriminator.get("mapping", ()))


def field_errors(
    exc: PydanticValidationError, model: type[BaseModel] | None = None
) -> dict[str, str]:
    tag_field, tags = _tags(model) if model is not None else (None, frozenset[str]())
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc, template = error["loc"], _MESSAGES.get(error["type"])
        if error["type"] in _TAG_ERRORS and tag_field:
            loc, template = (tag_field,), _TAG_ERRORS[error["type"]]
        elif loc and loc[0] in tags:
            loc = loc[1:]
        field = ".".join(str(part) for part in loc) or "body"
        ctx = {key: _number(value) for key, value in error.get("ctx", {}).items()}
        message = template.format(**ctx) if template else error["msg"]
        found.setdefault(field, message)
    return found


def _number(value: Any) -> Any:
    """A bound as people write it: 60, not 60.0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class With:
    """An object with more attributes for an answer than it has itself (a count
    computed apart): `answer(GroupPublic, With(group, member_count=3))`."""

    def __init__(self, source: Any, **more: Any) -> None:
        self.__dict__.update(more)
        self._source = source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def answer(model: type[BaseModel], value: Any) -> dict[str, Any]:
    """`value` (an ORM object, or a dict of them for a page) as `model` says, ready
    to be written as JSON."""
    # exclude_unset: a field the value does not give is left out rather than written
    # as its default (the health check's message, only when something is down).
    return model.model_validate(value).model_dump(mode="json", exclude_unset=True)
