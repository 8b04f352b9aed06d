"""work order lifecycle: lead and co-handling orders, review fields, audit trail

Revision ID: 0003_lifecycle
Revises: 0002_staff
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0003_lifecycle"
down_revision: str | None = "0002_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        # A case now has a lead order and may have co-handling ones.
        batch_op.drop_constraint("uq_work_orders_case_id", type_="unique")
        batch_op.create_index(batch_op.f("ix_work_orders_case_id"), ["case_id"], unique=False)
        batch_op.add_column(
            sa.Column("role", sa.String(length=4), nullable=False, server_default="lead")
        )
        batch_op.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("rehandles", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("supervised", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("return_code", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("requested_due", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_work_orders_parent_id_work_orders"),
            "work_orders",
            ["parent_id"],
            ["id"],
        )
    op.create_table(
        "work_order_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=False),
        sa.Column("to_status", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_audit_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_audit")),
    )
    with op.batch_alter_table("work_order_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_order_audit_work_order_id"), ["work_order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_audit_work_order_id"))
    op.drop_table("work_order_audit")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_work_orders_parent_id_work_orders"), type_="foreignkey"
        )
        for column in (
            "requested_due",
            "review_note",
            "return_code",
            "supervised",
            "rehandles",
            "parent_id",
            "role",
        ):
            batch_op.drop_column(column)
        batch_op.drop_index(batch_op.f("ix_work_orders_case_id"))
        batch_op.create_unique_constraint("uq_work_orders_case_id", ["case_id"])
