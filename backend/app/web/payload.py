"""Reading a body that may come as a form (OAuth2 clients, Swagger UI) or as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request


def form_or_json() -> Mapping[str, Any]:
    """The form fields, or the JSON object; empty when the body is neither."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return data if isinstance(data, Mapping) else {}
