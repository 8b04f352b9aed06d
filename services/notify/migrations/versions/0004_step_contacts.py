"""every step's recipients: the citizen's language, departments, liaison officers, extensions

Revision ID: 0004_step_contacts
Revises: 0003_email
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0004_step_contacts"
down_revision: str | None = "0003_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language", sa.String(length=2), server_default=sa.text("'zh'"), nullable=False
            )
        )
    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("published_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    op.create_table(
        "liaison_officers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liaison_officers")),
    )
    with op.batch_alter_table("liaison_officers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_liaison_officers_department_code"), ["department_code"], unique=False
        )
    op.create_table(
        "extension_requests",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_extension_requests")),
    )


def downgrade() -> None:
    op.drop_table("extension_requests")
    with op.batch_alter_table("liaison_officers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liaison_officers_department_code"))
    op.drop_table("liaison_officers")
    op.drop_table("departments")
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.drop_column("language")
