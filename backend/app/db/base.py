"""The declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

# Deterministic constraint names keep migrations identical on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (SQLite and MariaDB have no time zones); returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # MariaDB's DATETIME drops microseconds unless asked to keep them.
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def exact_string(length: int) -> String:
    """VARCHAR(length), compared exactly on every database.

    MariaDB's default collations ignore case and accents and take every emoji for
    the same character: a unique column there would refuse `zoë@example.com` next
    to `zoe@example.com`. PostgreSQL and SQLite compare exactly already; where a
    rule ignores case, the code applies it (emails are stored lower-cased).
    """
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Ids are never handed out twice: a deleted user's id must not come back as
        # a new account's. SQLite reuses the largest freed rowid unless the table
        # says AUTOINCREMENT; PostgreSQL's sequences and MariaDB's AUTO_INCREMENT
        # (kept across restarts since 10.2.4) never go back. Set here, after the
        # table is built, so that a model's own __table_args__ cannot drop it.
        table = cls.__dict__.get("__table__")
        if table is not None:
            table.dialect_kwargs["sqlite_autoincrement"] = True
