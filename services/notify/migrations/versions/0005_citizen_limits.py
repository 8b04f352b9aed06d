"""the citizen's limits: quiet hours, daily cap and digest, opt-outs, replies, case progress

Revision ID: 0005_citizen_limits
Revises: 0004_step_contacts
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0005_citizen_limits"
down_revision: str | None = "0004_step_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("not_before", services.kernel.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("counted_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("digest_id", sa.Uuid(), nullable=True))
        batch.create_index("ix_messages_recipient_counted_on", ["recipient", "counted_on"])
    op.create_table(
        "opt_outs",
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("opted_out_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient", name=op.f("pk_opt_outs")),
    )
    op.create_table(
        "case_progress",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("tracking_no", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("department_name", sa.String(length=100), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("into_tracking_no", sa.String(length=20), nullable=True),
        sa.Column("updated_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_progress")),
    )
    op.create_table(
        "replies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("meaning", sa.String(length=20), nullable=False),
        sa.Column("received_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replies")),
    )
    op.create_index(op.f("ix_replies_recipient"), "replies", ["recipient"])


def downgrade() -> None:
    op.drop_index(op.f("ix_replies_recipient"), table_name="replies")
    op.drop_table("replies")
    op.drop_table("case_progress")
    op.drop_table("opt_outs")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_recipient_counted_on")
        batch.drop_column("digest_id")
        batch.drop_column("counted_on")
        batch.drop_column("not_before")
