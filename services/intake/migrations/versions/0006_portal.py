"""the department's replies and the citizens' ratings

Revision ID: 0006_portal
Revises: 0005_hotline
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0006_portal"
down_revision: str | None = "0005_hotline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("department_name", sa.String(length=100), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("resolved_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_resolutions_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolutions")),
    )
    op.create_index(op.f("ix_resolutions_case_id"), "resolutions", ["case_id"])
    op.create_table(
        "ratings",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.String(length=30), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("rated_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_ratings_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_ratings")),
    )


def downgrade() -> None:
    op.drop_table("ratings")
    op.drop_index(op.f("ix_resolutions_case_id"), table_name="resolutions")
    op.drop_table("resolutions")
