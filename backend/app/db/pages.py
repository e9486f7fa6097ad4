"""One page of a list and how many rows there are in all, in one round trip."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def paginate(session: Session, query: Select[T], *, skip: int, limit: int) -> tuple[list[T], int]:
    """The rows `skip` to `skip + limit` of `query` (which orders them), and the
    total: the count rides along each row as a scalar subquery, so the page and its
    total come back in one round trip. PostgreSQL computes it once (an InitPlan)
    and the page keeps its index scan with LIMIT (a window count(*) OVER () would
    read every matching row). Only an empty page past the end costs a second query."""
    count = select(func.count()).select_from(query.order_by(None).subquery()).correlate(None)
    counted: Select[Any] = query.add_columns(count.scalar_subquery()).offset(skip).limit(limit)
    rows = session.execute(counted).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][-1])
    if not skip:
        return [], 0
    return [], int(session.scalar(count) or 0)
