"""deadlines: the work order's clock, and urges and supervisions

Revision ID: 0005_deadlines
Revises: 0004_catalogue
Create Date: 2026-12-01 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0005_deadlines"
down_revision: str | None = "0004_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENTS = (
    "paused_at",
    "remind_at",
    "urge_at",
    "supervise_at",
    "reminded_at",
    "overdue_at",
    "urged_at",
    "supervised_at",
)
_COUNTS = ("paused_working_days", "urges", "supervisions")


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_at", services.kernel.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deadline_basis", sa.String(length=12), nullable=True))
        for name in _MOMENTS:
            batch_op.add_column(
                sa.Column(name, services.kernel.db.UtcDateTime(timezone=True), nullable=True)
            )
        for name in _COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_work_orders_due_at"), ["due_at"], unique=False)
    op.create_table(
        "escalations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=True),
        sa.Column("staff_name", sa.String(length=50), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("occurred_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_escalations_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalations_work_order_id"), ["work_order_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("escalations")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_due_at"))
        for name in ("due_at", "deadline_basis", *_MOMENTS, *_COUNTS):
            batch_op.drop_column(name)
