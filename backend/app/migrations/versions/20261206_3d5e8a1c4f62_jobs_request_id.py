"""jobs: the request id that created each

Kept with the row so that a job can be matched to the API request that created
it and to its log lines and error-tracking events. Nullable: older jobs have
none, nor jobs created outside a request.

Revision ID: 3d5e8a1c4f62
Revises: 7b1f3c9e2a10
Create Date: 2026-12-06 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d5e8a1c4f62"
down_revision: str | None = "7b1f3c9e2a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on every backend: SQLite needs no table copy for it.
    op.add_column("jobs", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # SQLite drops it by copying the table: keep the copy AUTOINCREMENT, as ids
    # must never be reused (7b1f3c9e2a10).
    with op.batch_alter_table("jobs", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("request_id")
