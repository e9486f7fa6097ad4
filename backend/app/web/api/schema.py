"""What the namespaces share besides their shapes (shapes.py): the error
responses each operation documents, and the query string's paging and search."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask_restx import Namespace, inputs, reqparse
from pydantic import TypeAdapter

from app.schemas import common
from app.schemas.users import Email

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


def register_common_models(ns: Namespace) -> None:
    for model in (error_model, validation_error_model, message_model):
        ns.add_model(model.name, model)


def errors(ns: Namespace, *codes: int) -> Callable[[F], F]:
    """Document the error responses an operation can give."""

    def decorate(func: F) -> F:
        for code in codes:
            # These may name the fields at fault (a taken email is a 409 naming `email`).
            model = validation_error_model if code in (400, 409, 422) else error_model
            func = ns.response(code, ERROR_DESCRIPTIONS[code], model)(func)
        return func

    return decorate


class QueryText:
    """A query-string parameter's type that documents itself: reqparse calls it on
    the value, and restx copies its __schema__ into both documents."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.__schema__ = schema

    def __call__(self, value: str) -> str:
        # Control characters can't match any stored value, and some databases
        # refuse them (PostgreSQL rejects NUL): they are a 400 here.
        if _FORBIDDEN_CHARS.search(value):
            raise ValueError("Contains characters that are not allowed")
        return value


search_text = QueryText({"type": "string", "pattern": common.PRINTABLE})
# The body's Email, as a parameter (no examples: Swagger 2.0 parameters have none).
# Checked by the service (normalize_email), which answers 422 naming the parameter.
email_address = QueryText(
    {k: v for k, v in TypeAdapter(Email).json_schema().items() if k != "examples"}
)


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


def checked_id(value: int) -> int:
    """Ids beyond the database's integer range can't exist: make them a plain miss
    (0 is never an id) instead of an overflow error in the database."""
    return value if 0 < value <= MAX_ID else 0
