"""delivery: each sent part by the gateway's reference, and the receipts still awaited

Revision ID: 0006_delivery
Revises: 0005_citizen_limits
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.kernel.db import UtcDateTime

revision: str = "0006_delivery"
down_revision: str | None = "0005_citizen_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_parts",
        sa.Column("gateway_ref", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_parts_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("gateway_ref", name=op.f("pk_message_parts")),
    )
    op.create_index(
        op.f("ix_message_parts_message_id"), "message_parts", ["message_id"], unique=False
    )
    op.create_table(
        "delivery_watches",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_delivery_watches_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_delivery_watches")),
    )
    op.create_index(
        op.f("ix_delivery_watches_due_at"), "delivery_watches", ["due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_watches_due_at"), table_name="delivery_watches")
    op.drop_table("delivery_watches")
    op.drop_index(op.f("ix_message_parts_message_id"), table_name="message_parts")
    op.drop_table("message_parts")
