"""personal access tokens

Long-lived bearer tokens users create for scripts, each limited to some of its
owner's permissions; stored as a keyed hash, deleted when revoked.

Revision ID: 5c2b9d7e1a48
Revises: 9c4e2b7d5a31
Create Date: 2026-12-07 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "5c2b9d7e1a48"
down_revision: str | None = "9c4e2b7d5a31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("permission_names", sa.String(length=500), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.db.base.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", app.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_personal_access_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_access_tokens_token_hash")),
        # Ids are never reused (7b1f3c9e2a10).
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_personal_access_tokens_user_id"),
        "personal_access_tokens",
        ["user_id"],
        unique=False,
    )


def downgrade() -> None:
    # Dropping the table drops its index (MariaDB refuses to drop first an index
    # a foreign key relies on).
    op.drop_table("personal_access_tokens")
