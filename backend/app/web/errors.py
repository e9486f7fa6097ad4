"""Every error becomes JSON `{"message", ...}` here, in one place.

Domain errors map to their status codes; HTTP errors keep theirs; anything else
is logged (the line carries the request id) and answered 500 without details.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.services.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
    Unavailable,
)
from app.web import request_id

logger = logging.getLogger(__name__)

STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 422,
    BadRequest: 400,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    Unavailable: 503,
}
# Headers of werkzeug's HTTP errors worth passing on (not its HTML content type).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

ErrorResult = tuple[dict[str, Any], int, dict[str, str]]


def error_result(exc: BaseException) -> ErrorResult:
    """The body, status and headers answering `exc`."""
    if isinstance(exc, ServiceError):
        status = next(code for kind, code in STATUS.items() if isinstance(exc, kind))
        body: dict[str, Any] = {"message": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        body.update(exc.fields)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return body, status, headers
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        data = getattr(exc, "data", None)  # restx's validation errors
        body = dict(data) if isinstance(data, dict) else {}
        body.setdefault("message", exc.description or exc.name)
        response_headers = exc.get_response().headers
        headers = {k: response_headers[k] for k in _KEPT_HEADERS if k in response_headers}
        return body, status, headers
    if _database_unavailable(exc):
        logger.error("database unavailable: %s", exc)
        return {"message": "The database is unavailable, try again later"}, 503, {}
    # The request id is a field of the line (app.core.logging), not of the message.
    logger.exception("unhandled error", exc_info=exc)
    return {"message": "Internal server error", "request_id": request_id.current()}, 500, {}


def _database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return True
    # The driver's own error, where SQLAlchemy does not wrap it: setting a pooled
    # connection's isolation level as it is checked out (a round trip on MariaDB).
    dbapi = current_app.extensions["runtime"].engine.dialect.loaded_dbapi
    return isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError)


def _flask_handler(exc: Exception) -> Response:
    body, status, headers = error_result(exc)
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


def init_app(app: Flask) -> None:
    """Errors outside the API's resources (unknown paths, the docs) are JSON too."""
    app.register_error_handler(Exception, _flask_handler)
