"""Searching text columns for what a person typed: anywhere in the value, without
regard to case, with LIKE's wildcards taken literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its wildcards escaped (escape='\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, in any case (lower() on both sides: PostgreSQL's
    LIKE is case-sensitive, MariaDB's collation is not)."""
    return func.lower(column).like(like_pattern(text.lower()), escape="\\")
