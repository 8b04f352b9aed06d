"""email messages: sealed address, subject and headers beside the message

Revision ID: 0003_email
Revises: 0002_sealed
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_email"
down_revision: str | None = "0002_sealed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_envelopes",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("sealed_to", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_email_envelopes_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_email_envelopes")),
    )


def downgrade() -> None:
    op.drop_table("email_envelopes")
