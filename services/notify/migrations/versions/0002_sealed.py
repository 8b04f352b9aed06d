"""sealed tip-off contacts and recipients; merged cases

Revision ID: 0002_sealed
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0002_sealed"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_contacts") as batch:
        batch.add_column(sa.Column("sealed_contact", sa.Text(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sealed_recipient", sa.Text(), nullable=True))
    op.create_table(
        "case_merges",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("into_case_id", sa.Uuid(), nullable=False),
        sa.Column("merged_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_merges")),
    )
    op.create_index(op.f("ix_case_merges_into_case_id"), "case_merges", ["into_case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_merges_into_case_id"), table_name="case_merges")
    op.drop_table("case_merges")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sealed_recipient")
    with op.batch_alter_table("case_contacts") as batch:
        batch.drop_column("sealed_contact")
