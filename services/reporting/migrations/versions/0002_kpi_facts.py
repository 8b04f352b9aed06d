"""what the KPIs need on each case's row

Revision ID: 0002_kpi_facts
Revises: 0001
Create Date: 2026-12-01 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0002_kpi_facts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each of these is a filter or the moment that places a case in a period.
_INDEXED = (
    "kind",
    "category",
    "answered_at",
    "dispatched_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "returned_at",
    "overdue_at",
    "urged_at",
    "supervised_at",
    "rated_at",
)


def _moment(name: str) -> sa.Column[object]:
    return sa.Column(name, services.kernel.db.UtcDateTime(timezone=True), nullable=True)


def _count(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("case_facts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answered_directly", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(_moment("answered_at"))
        batch_op.add_column(_moment("dispatched_at"))
        batch_op.add_column(_moment("assigned_at"))
        batch_op.add_column(_moment("accepted_at"))
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch_op.add_column(_moment("deadline_set_at"))
        batch_op.add_column(_moment("resolved_at"))
        batch_op.add_column(sa.Column("resolved_on_time", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("handling_seconds", sa.Float(), nullable=True))
        batch_op.add_column(_moment("closed_at"))
        batch_op.add_column(_moment("merged_at"))
        batch_op.add_column(_count("returns"))
        batch_op.add_column(_moment("returned_at"))
        batch_op.add_column(_count("rehandles"))
        batch_op.add_column(_moment("overdue_at"))
        batch_op.add_column(_count("urges"))
        batch_op.add_column(_moment("urged_at"))
        batch_op.add_column(_count("supervisions"))
        batch_op.add_column(_moment("supervised_at"))
        batch_op.add_column(sa.Column("rating", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("satisfied", sa.Boolean(), nullable=True))
        batch_op.add_column(_moment("rated_at"))
        for name in _INDEXED:
            batch_op.create_index(batch_op.f(f"ix_case_facts_{name}"), [name], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_facts", schema=None) as batch_op:
        for name in reversed(_INDEXED):
            batch_op.drop_index(batch_op.f(f"ix_case_facts_{name}"))
        for name in (
            "rated_at",
            "satisfied",
            "rating",
            "supervised_at",
            "supervisions",
            "urged_at",
            "urges",
            "overdue_at",
            "rehandles",
            "returned_at",
            "returns",
            "merged_at",
            "closed_at",
            "handling_seconds",
            "resolved_on_time",
            "deadline_set_at",
            "deadline",
            "accepted_at",
            "assigned_at",
            "dispatched_at",
            "answered_at",
            "answered_directly",
        ):
            batch_op.drop_column(name)
