"""handover stamp: an SMS begun on a gateway that cannot tell a repeat is marked first

Revision ID: 0007_handover_stamp
Revises: 0006_delivery
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.kernel.db import UtcDateTime

revision: str = "0007_handover_stamp"
down_revision: str | None = "0006_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("handover_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "handover_at")
