"""jobs: state not indexed

The worker changes a job's state twice; with the column indexed, PostgreSQL
could not update the row in place (a HOT update) and wrote a new entry into
every index of the table each time. Nothing looks jobs up by state alone.

Revision ID: 60c74f9f0127
Revises: 2e36a4c47908
Create Date: 2026-11-26 04:03:59.273579
"""

from collections.abc import Sequence

from alembic import op

revision: str = "60c74f9f0127"
down_revision: str | None = "2e36a4c47908"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state"))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state"], unique=False)
