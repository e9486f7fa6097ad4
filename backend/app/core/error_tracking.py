"""Error tracking with Sentry (or any service that takes its SDK's events), for the
API and every worker module: off unless SENTRY_DSN is set.

Events carry the request id (app.core.request_context) as a tag, and never a
password, token, cookie, Authorization header or secret query parameter: the SDK
leaves out personal data (as with send_default_pii=False) and `scrub` removes what could
still get through, in request data, headers, variables and breadcrumbs alike.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qsl, urlencode

from app.core import request_context
from app.core.config import Settings

if TYPE_CHECKING:
    from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint

FILTERED = "[Filtered]"
# Names whose values are secrets, wherever they appear (keys of any mapping in the
# event, query parameters, headers).
_SECRET_WORDS = r"pass|secret|token|auth|cookie|session|csrf|api[-_]?key|dsn"  # noqa: S105 (names)
_SECRET_NAME = re.compile(_SECRET_WORDS, re.IGNORECASE)
# A secret inside a string: a bearer credential, a URL's password.
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^/:@\s]+:)[^@\s/]+@")
# A secret query parameter inside a string (a raw query string, a URL, an environ).
_QUERY_SECRET = re.compile(
    rf"((?:^|[?&;\s])[^=&;\s]*(?:{_SECRET_WORDS})[^=&;\s]*=)"
    r"[^&;\s#'\"]*",
    re.IGNORECASE,
)


_enabled = False


def init(settings: Settings, framework: Literal["flask", "celery"]) -> bool:
    """Start sending error events when SENTRY_DSN is set; whether it is. The SDK is
    imported only then: it would add about half a second to every start."""
    if settings.SENTRY_DSN is None or not settings.SENTRY_DSN.get_secret_value():
        return False
    import sentry_sdk
    from sentry_sdk.integrations import Integration

    integration: Integration
    if framework == "flask":
        from sentry_sdk.integrations.flask import FlaskIntegration

        integration = FlaskIntegration()
    else:
        from sentry_sdk.integrations.celery import CeleryIntegration

        integration = CeleryIntegration()
    global _enabled
    _enabled = True
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN.get_secret_value(),
        environment=settings.SENTRY_ENVIRONMENT or settings.ENVIRONMENT,
        release=settings.SENTRY_RELEASE or None,
        # Neither send_default_pii nor data_collection: the SDK then collects as with
        # send_default_pii=False (no user identity, cookies or Authorization), which
        # this SDK version deprecates naming.
        before_send=scrub,
        before_breadcrumb=_scrub_breadcrumb,
        integrations=[integration],
        # Errors only: no performance tracing.
        traces_sample_rate=None,
    )
    return True


@contextlib.contextmanager
def job_scope() -> Iterator[None]:
    """A scope of its own for a job: the tags `tag_job` sets end with it."""
    if not _enabled:
        yield
        return
    import sentry_sdk

    with sentry_sdk.new_scope():
        yield


def tag_job(job_id: int, kind: str) -> None:
    """Tag the job's events with its id and kind (inside `job_scope`)."""
    if _enabled:
        import sentry_sdk

        sentry_sdk.set_tags({"job_id": str(job_id), "job_kind": kind})


def scrub(event: Event, _hint: Hint | None = None) -> Event:
    """The event with its secrets filtered out and the request id as a tag."""
    request: Any = event.get("request")
    if isinstance(request, dict):
        query = request.get("query_string")
        if isinstance(query, str) and query:
            request["query_string"] = _scrub_query(query)
        if isinstance(request.get("url"), str):
            url, _, query = request["url"].partition("?")
            request["url"] = f"{url}?{_scrub_query(query)}" if query else url
        request.pop("cookies", None)
    cleaned: dict[str, Any] = _scrub_value(event)
    request_id = request_context.current()
    if request_id:
        tags = cleaned.setdefault("tags", {})
        if isinstance(tags, dict):
            tags.setdefault("request_id", request_id)
    return cast("Event", cleaned)


def _scrub_breadcrumb(crumb: Breadcrumb, _hint: BreadcrumbHint) -> Breadcrumb:
    return cast("Breadcrumb", _scrub_value(crumb))


def _scrub_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, FILTERED if _SECRET_NAME.search(k) else v) for k, v in pairs])


def _scrub_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: FILTERED if isinstance(key, str) and _SECRET_NAME.search(key) else _scrub_value(v)
            for key, v in value.items()
        }
    if isinstance(value, list | tuple):
        # Headers may come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and _SECRET_NAME.search(value[0]):
            return [value[0], FILTERED]
        return [_scrub_value(v) for v in value]
    if isinstance(value, str):
        value = _URL_PASSWORD.sub(r"\1" + FILTERED + "@", _BEARER.sub(FILTERED, value))
        return _QUERY_SECRET.sub(r"\1" + FILTERED, value)
    return value
