"""catalogue categories

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_categories",
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("department_name", sa.String(length=100), nullable=False),
        sa.Column("department_name_en", sa.String(length=200), nullable=False),
        sa.Column("published_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_catalogue_categories")),
    )


def downgrade() -> None:
    op.drop_table("catalogue_categories")
