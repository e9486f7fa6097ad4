"""What `scrub` takes out of an error-tracking event before it is sent."""

from __future__ import annotations

import json
from typing import Any, cast

from sentry_sdk.types import Event

from app.core import request_context
from app.core.error_tracking import scrub

SECRET = "s3cr3t-value-0x71"


def test_scrub_removes_secrets_wherever_they_are_and_keeps_the_rest() -> None:
    event: dict[str, Any] = {
        "message": f"called http://user:{SECRET}@db.example/x with Bearer {SECRET}",
        "request": {
            "url": f"https://example.com/api?page=2&access_token={SECRET}",
            "query_string": f"page=2&reset_token={SECRET}",
            "headers": [["Authorization", f"Basic {SECRET}"], ["Accept", "text/plain"]],
            "cookies": {"refresh": SECRET},
            "data": {"email": "a@example.com", "new_password": SECRET},
            "env": {"QUERY_STRING": f"x=1&api_key={SECRET}"},
        },
        "extra": {"nested": [{"SESSION_ID": SECRET, "count": 3}]},
    }
    with request_context.bound("edge-req-0071"):
        cleaned = cast(dict[str, Any], scrub(cast(Event, event)))
    assert SECRET not in json.dumps(cleaned)
    assert cleaned["tags"] == {"request_id": "edge-req-0071"}
    assert cleaned["request"]["data"]["email"] == "a@example.com"
    assert cleaned["request"]["headers"][1] == ["Accept", "text/plain"]
    assert "page=2" in cleaned["request"]["query_string"]
    assert cleaned["request"]["url"].startswith("https://example.com/api?page=2&")
    assert cleaned["extra"]["nested"][0]["count"] == 3


def test_scrub_adds_no_request_id_outside_a_request() -> None:
    cleaned = cast(dict[str, Any], scrub(cast(Event, {"message": "plain"})))
    assert cleaned == {"message": "plain"}
