"""email verification: whether a user's address is verified, a new one pending,
and the single-use tokens of the links sent

Accounts that exist already are marked verified: they were made before addresses
were checked, and must keep logging in.

Revision ID: 4a7d2c9e6b13
Revises: 9c4e2f7a1b35
Create Date: 2026-12-07 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from app.db.base import UTCDateTime

revision: str = "4a7d2c9e6b13"
down_revision: str | None = "9c4e2f7a1b35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exact_string(length: int) -> sa.types.TypeEngine[str]:
    """Compared exactly on MariaDB too, whose default collation ignores accents."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    # SQLite alters columns by copying the table: keep the copy AUTOINCREMENT, as
    # ids must never be reused (7b1f3c9e2a10).
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        # True for the rows already there (and for rows written by tools that
        # predate the column); the application says it for each account it makes.
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("pending_email", _exact_string(255), nullable=True))
    op.create_table(
        "email_verification_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", _exact_string(255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_verification_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_verification_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_verification_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_email_verification_tokens_expires_at"),
        "email_verification_tokens",
        ["expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_email_verification_tokens_user_id"),
        "email_verification_tokens",
        ["user_id"],
        unique=False,
    )


def downgrade() -> None:
    # Its indexes go with it (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("email_verification_tokens")
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("pending_email")
        batch_op.drop_column("email_verified")
