"""the email channel: every message taken in, kept raw with its outcome

Revision ID: 0009_email
Revises: 0008_open311
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0009_email"
down_revision: str | None = "0008_open311"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("received_via", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("acknowledgement_id", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("defects", sa.Text(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("received_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_email_messages_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
        sa.UniqueConstraint("message_key", name=op.f("uq_email_messages_message_key")),
        sa.UniqueConstraint(
            "acknowledgement_id", name=op.f("uq_email_messages_acknowledgement_id")
        ),
    )
    op.create_index(op.f("ix_email_messages_case_id"), "email_messages", ["case_id"])
    op.create_index(op.f("ix_email_messages_message_id"), "email_messages", ["message_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_email_messages_message_id"), table_name="email_messages")
    op.drop_index(op.f("ix_email_messages_case_id"), table_name="email_messages")
    op.drop_table("email_messages")
