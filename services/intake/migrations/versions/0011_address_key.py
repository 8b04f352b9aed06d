"""each case keeps its address as duplicate detection compares it, so places are found by index

Revision ID: 0011_address_key
Revises: 0010_duplicate_sweep
Create Date: 2026-11-30 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The very function new cases' keys are made with: a key made otherwise would never match.
from services.intake.similarity import normalise_address

revision: str = "0011_address_key"
down_revision: str | None = "0010_duplicate_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("address_key", sa.String(500), nullable=True))
    # Existing cases get their key in batches: a county's years of cases fit no one statement.
    cases = sa.table(
        "cases",
        sa.column("id", sa.Uuid()),
        sa.column("address", sa.String()),
        sa.column("address_key", sa.String()),
    )
    connection = op.get_bind()
    last = None
    while True:
        query = sa.select(cases.c.id, cases.c.address).where(cases.c.address.is_not(None))
        if last is not None:
            query = query.where(cases.c.id > last)
        rows = connection.execute(query.order_by(cases.c.id).limit(_BATCH)).all()
        if not rows:
            break
        connection.execute(
            sa.update(cases).where(cases.c.id == sa.bindparam("case_id")),
            [{"case_id": row.id, "address_key": normalise_address(row.address)} for row in rows],
        )
        last = rows[-1].id
    op.create_index("ix_cases_category_address_key", "cases", ["category", "address_key"])


def downgrade() -> None:
    op.drop_index("ix_cases_category_address_key", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("address_key")
