"""indexes for the figures

Revision ID: 0004_kpi_speed
Revises: 0003_places_officials_messages
Create Date: 2026-12-01 11:10:00
"""

from collections.abc import Sequence

revision: str = "0004_kpi_speed"
down_revision: str | None = "0003_places_officials_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
