"""The audit log: read only. No operation changes or deletes an event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_restx import Namespace, Resource, inputs

from app.schemas.audit import AuditEventsPage
from app.services import audit
from app.services.permissions import Permission
from app.web.auth import require
from app.web.db import session

from .schema import (
    MAX_ID,
    QueryText,
    email_address,
    errors,
    page_args,
    pagination_parser,
    register_common_models,
)
from .shapes import answer, document

ns = Namespace("audit-events", description="The audit log of security events")
register_common_models(ns)

events_page_model = document(ns, AuditEventsPage)


class _Instant(QueryText):
    """An ISO 8601 date and time; without a time zone, UTC."""

    def __call__(self, value: str) -> datetime:  # type: ignore[override]
        try:
            parsed = datetime.fromisoformat(super().__call__(value))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError):  # overflow: year 1 with an offset east of UTC
            raise ValueError("Must be an ISO 8601 date and time") from None


instant = _Instant({"type": "string", "format": "date-time"})

list_parser = pagination_parser()
list_parser.add_argument(
    "action", choices=audit.ACTIONS, location="args", help="Only events of this action"
)
list_parser.add_argument(
    "actor_id", type=inputs.int_range(1, MAX_ID), location="args", help="Only this user's events"
)
list_parser.add_argument(
    "actor_email",
    type=email_address,
    location="args",
    help="Only the events of the user who had this email when they happened",
)
list_parser.add_argument(
    "since", type=instant, location="args", help="Only events at or after this time"
)
list_parser.add_argument(
    "until", type=instant, location="args", help="Only events before this time"
)


@ns.route("/")
class AuditEventList(Resource):
    @ns.doc("readAuditEvents")
    @ns.expect(list_parser)
    @ns.response(200, "A page of events, newest first", events_page_model)
    @errors(ns, 400, 401, 403)
    def get(self) -> dict[str, Any]:
        """List audit events (audit:read)."""
        require(Permission.AUDIT_READ)
        args = page_args(list_parser)
        found, count = audit.list_events(
            session=session(),
            skip=args["skip"],
            limit=args["limit"],
            action=args["action"],
            actor_id=args["actor_id"],
            actor_email=args["actor_email"],
            since=args["since"],
            until=args["until"],
        )
        return answer(AuditEventsPage, {"data": found, "count": count})
