"""JSON for requests and responses: Flask's own, hardened against hostile bodies."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    sort_keys = False  # fields keep the order the schemas give them

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            # Deeply nested arrays or objects exhaust the decoder's stack. Raised as
            # ValueError, they are malformed JSON (400) to every caller, not a 500.
            raise ValueError("The JSON is nested too deeply") from exc
