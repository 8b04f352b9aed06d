"""places, officials, revisits, returns and messages on the read model

Revision ID: 0003_places_officials_messages
Revises: 0002_kpi_facts
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0003_places_officials_messages"
down_revision: str | None = "0002_kpi_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXED = (
    "scope_level",
    "township",
    "village",
    "first_contact_id",
    "revisited_at",
    "finished_at",
)


def _moment(name: str) -> sa.Column[object]:
    return sa.Column(name, services.kernel.db.UtcDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("case_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_level", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("township", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("village", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("first_contact_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("first_contact_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("revisits", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(_moment("revisited_at"))
        batch_op.add_column(_moment("finished_at"))
        for name in _INDEXED:
            batch_op.create_index(batch_op.f(f"ix_case_facts_{name}"), [name], unique=False)
    op.create_table(
        "message_facts",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("template", sa.String(length=60), nullable=False),
        _moment("sent_at"),
        _moment("delivered_at"),
        _moment("failed_at"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_facts")),
    )
    with op.batch_alter_table("message_facts", schema=None) as batch_op:
        for name in ("case_id", "sent_at", "delivered_at", "failed_at"):
            batch_op.create_index(batch_op.f(f"ix_message_facts_{name}"), [name], unique=False)
    op.create_table(
        "case_returns",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=True),
        sa.Column("returned_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_case_returns")),
    )
    with op.batch_alter_table("case_returns", schema=None) as batch_op:
        for name in ("case_id", "department_code"):
            batch_op.create_index(batch_op.f(f"ix_case_returns_{name}"), [name], unique=False)


def downgrade() -> None:
    op.drop_table("case_returns")
    op.drop_table("message_facts")
    with op.batch_alter_table("case_facts", schema=None) as batch_op:
        for name in reversed(_INDEXED):
            batch_op.drop_index(batch_op.f(f"ix_case_facts_{name}"))
        for name in (
            "finished_at",
            "revisited_at",
            "revisits",
            "first_contact_name",
            "first_contact_id",
            "village",
            "township",
            "scope_level",
        ):
            batch_op.drop_column(name)
