"""each case keeps the grid cell of its map point, so near places are found by index

Revision ID: 0012_grid_cell
Revises: 0011_address_key
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The very function new cases' cells are made with: a cell made otherwise would never match.
from services.intake.similarity import grid_cell

revision: str = "0012_grid_cell"
down_revision: str | None = "0011_address_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("grid_cell", sa.String(40), nullable=True))
    # Existing cases get their cell in batches: a county's years of cases fit no one statement.
    cases = sa.table(
        "cases",
        sa.column("id", sa.Uuid()),
        sa.column("lat", sa.Float()),
        sa.column("lon", sa.Float()),
        sa.column("grid_cell", sa.String()),
    )
    connection = op.get_bind()
    last = None
    while True:
        query = sa.select(cases.c.id, cases.c.lat, cases.c.lon).where(
            cases.c.lat.is_not(None), cases.c.lon.is_not(None)
        )
        if last is not None:
            query = query.where(cases.c.id > last)
        rows = connection.execute(query.order_by(cases.c.id).limit(_BATCH)).all()
        if not rows:
            break
        connection.execute(
            sa.update(cases).where(cases.c.id == sa.bindparam("case_id")),
            [{"case_id": row.id, "grid_cell": grid_cell(row.lat, row.lon)} for row in rows],
        )
        last = rows[-1].id
    op.create_index("ix_cases_category_grid_cell", "cases", ["category", "grid_cell"])


def downgrade() -> None:
    op.drop_index("ix_cases_category_grid_cell", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("grid_cell")
