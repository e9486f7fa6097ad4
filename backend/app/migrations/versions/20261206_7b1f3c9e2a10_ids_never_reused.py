"""ids never reused; users carry a security stamp

A deleted user's id must never come back as a new account's, or a token issued
to the first would authenticate the second. SQLite hands out the largest freed
rowid again unless a table is declared AUTOINCREMENT, which only a new table can
be: on SQLite each table with an id is copied into one that is. PostgreSQL's
sequences and MariaDB's AUTO_INCREMENT never go back, so nothing changes there.

And tokens no longer carry a counter (`token_version`, 0 for every new account)
but the account's security stamp, a random value that no other account has.

Revision ID: 7b1f3c9e2a10
Revises: 60c74f9f0127
Create Date: 2026-12-06 04:30:00.000000
"""

import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "7b1f3c9e2a10"
down_revision: str | None = "60c74f9f0127"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose primary key is an id of its own.
TABLES_WITH_IDS = ("groups", "items", "jobs", "refresh_tokens", "password_reset_tokens")
STAMP = sa.String(length=32)


def _on_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _batch(table: str, *, autoincrement: bool) -> AbstractContextManager[BatchOperations]:
    """Alter `table`; on SQLite always as a copy, declared AUTOINCREMENT or not."""
    if not _on_sqlite():
        return op.batch_alter_table(table)
    return op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    )


def upgrade() -> None:
    with _batch("users", autoincrement=True) as batch_op:
        batch_op.add_column(sa.Column("security_stamp", STAMP, nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("security_stamp", STAMP))
    bind = op.get_bind()
    ids = bind.execute(sa.select(users.c.id)).scalars().all()
    if ids:
        bind.execute(
            users.update()
            .where(users.c.id == sa.bindparam("user_id"))
            .values(security_stamp=sa.bindparam("stamp")),
            [{"user_id": user_id, "stamp": secrets.token_hex(16)} for user_id in ids],
        )
    with _batch("users", autoincrement=True) as batch_op:
        batch_op.alter_column("security_stamp", existing_type=STAMP, nullable=False)
        batch_op.drop_column("token_version")
    if _on_sqlite():
        for table in TABLES_WITH_IDS:
            with _batch(table, autoincrement=True):
                pass


def downgrade() -> None:
    with _batch("users", autoincrement=False) as batch_op:
        batch_op.add_column(
            sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
        )
    with _batch("users", autoincrement=False) as batch_op:
        batch_op.alter_column("token_version", existing_type=sa.Integer(), server_default=None)
        batch_op.drop_column("security_stamp")
    if _on_sqlite():
        for table in TABLES_WITH_IDS:
            with _batch(table, autoincrement=False):
                pass
