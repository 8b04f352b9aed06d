"""open311 clients and requests; cases indexed by submission time

Revision ID: 0008_open311
Revises: 0007_tipoffs
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0008_open311"
down_revision: str | None = "0007_tipoffs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", services.kernel.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_clients_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_clients_name")),
    )
    op.create_table(
        "open311_requests",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("media_url", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_open311_requests_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_open311_requests")),
    )
    op.create_index(op.f("ix_open311_requests_client_id"), "open311_requests", ["client_id"])
    op.create_index("ix_cases_submitted_at", "cases", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_submitted_at", table_name="cases")
    op.drop_index(op.f("ix_open311_requests_client_id"), table_name="open311_requests")
    op.drop_table("open311_requests")
    op.drop_table("open311_clients")
