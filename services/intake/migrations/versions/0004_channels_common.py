"""what every channel records: sealed reporters, references, first contact, attachments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("sealed_contact", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reference", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("first_contact_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("first_contact_name", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("first_contact_unit", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("urgency", sa.String(length=20), server_default="normal", nullable=False)
        )
        batch.add_column(sa.Column("scope_level", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("language", sa.String(length=2), server_default="zh", nullable=False)
        )
        batch.add_column(
            sa.Column("answered_directly", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index(batch.f("ix_cases_first_contact_id"), ["first_contact_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("received_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_case_id"), "attachments", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_case_id"), table_name="attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_first_contact_id"))
        for column in (
            "answered_directly",
            "language",
            "scope_level",
            "urgency",
            "first_contact_unit",
            "first_contact_name",
            "first_contact_id",
            "reference",
            "sealed_contact",
        ):
            batch.drop_column(column)
