"""bulletins as produced, weekly, monthly and on demand

Revision ID: 0004_bulletins
Revises: 0003_places_officials_messages
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0004_bulletins"
down_revision: str | None = "0003_places_officials_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("produced_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("schedule_key", sa.String(length=40), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
        sa.UniqueConstraint("schedule_key", name=op.f("uq_bulletins_schedule_key")),
    )
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulletins_produced_at"), ["produced_at"], unique=False)


def downgrade() -> None:
    op.drop_table("bulletins")
