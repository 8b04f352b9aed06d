"""duplicate detection sweeps the cases awaiting it instead of handling an event per case

Revision ID: 0010_duplicate_sweep
Revises: 0009_email
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_duplicate_sweep"
down_revision: str | None = "0009_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Cases already accepted were checked by the event handler this replaces.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("duplicates_checked", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    awaiting = sa.text("duplicates_checked = false")
    op.create_index(
        "ix_cases_awaiting_duplicate_check",
        "cases",
        ["submitted_at"],
        postgresql_where=awaiting,
        sqlite_where=awaiting,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_awaiting_duplicate_check", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("duplicates_checked")
