"""One page of a list and how many rows there are in all, in one round trip."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def paginate(session: Session, query: Select[T], *, skip: int, limit: int) -> tuple[list[T], int]:
    """The rows `skip` to `skip + limit` of `query` (which orders them), and the
    total: a window count rides along each row, so the page and its total come back
    in one round trip. Only an empty page past the end costs a second query."""
    counted: Select[Any] = query.add_columns(func.count().over()).offset(skip).limit(limit)
    rows = session.execute(counted).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][-1])
    if not skip:
        return [], 0
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return [], int(total or 0)
