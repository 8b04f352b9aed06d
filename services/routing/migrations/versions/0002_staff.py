"""staff accounts

Revision ID: 0002_staff
Revises: 0001
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0002_staff"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=True),
        sa.Column("unit", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_staff_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )


def downgrade() -> None:
    op.drop_table("staff")
