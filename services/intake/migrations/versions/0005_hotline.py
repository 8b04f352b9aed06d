"""hotline calls, callbacks, the knowledge base, field visits

Revision ID: 0005_hotline
Revises: 0004
Create Date: 2026-12-01 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0005_hotline"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = services.kernel.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_cases_contact_phone", "cases", ["contact_phone"])
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_by_name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_entries")),
    )
    op.create_table(
        "hotline_calls",
        sa.Column("call_id", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("caller_number", sa.String(length=20), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("knowledge_entry_id", sa.Integer(), nullable=True),
        sa.Column("received_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hotline_calls_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["knowledge_entry_id"],
            ["knowledge_entries.id"],
            name=op.f("fk_hotline_calls_knowledge_entry_id_knowledge_entries"),
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_hotline_calls")),
        sa.UniqueConstraint("case_id", name=op.f("uq_hotline_calls_case_id")),
    )
    op.create_index(op.f("ix_hotline_calls_caller_number"), "hotline_calls", ["caller_number"])
    op.create_index(op.f("ix_hotline_calls_operator_id"), "hotline_calls", ["operator_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_number", sa.String(length=20), nullable=False),
        sa.Column("first_missed_at", _UTC, nullable=False),
        sa.Column("last_missed_at", _UTC, nullable=False),
        sa.Column("missed_calls", sa.Integer(), nullable=False),
        sa.Column("closed_at", _UTC, nullable=True),
        sa.Column("closed_reason", sa.String(length=20), nullable=True),
        sa.Column("closed_note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_caller_number"), "callbacks", ["caller_number"])
    op.create_index(op.f("ix_callbacks_closed_at"), "callbacks", ["closed_at"])
    op.create_table(
        "missed_calls",
        sa.Column("call_id", sa.String(length=100), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("missed_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["callbacks.id"], name=op.f("fk_missed_calls_callback_id_callbacks")
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_missed_calls")),
    )
    op.create_index(op.f("ix_missed_calls_callback_id"), "missed_calls", ["callback_id"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", _UTC, nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("staff_name", sa.String(length=50), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name=op.f("fk_callback_attempts_callback_id_callbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    op.create_index(op.f("ix_callback_attempts_callback_id"), "callback_attempts", ["callback_id"])
    op.create_table(
        "visits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_type", sa.String(length=20), nullable=False),
        sa.Column("household_head", sa.String(length=50), nullable=True),
        sa.Column("participants", sa.Text(), nullable=True),
        sa.Column("township", sa.String(length=100), nullable=True),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("official_id", sa.String(length=64), nullable=False),
        sa.Column("official_name", sa.String(length=50), nullable=False),
        sa.Column("official_unit", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index(op.f("ix_visits_official_id"), "visits", ["official_id"])
    op.create_table(
        "visit_cases",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_visit_cases_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_cases_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("visit_id", "position", name=op.f("pk_visit_cases")),
        sa.UniqueConstraint("case_id", name=op.f("uq_visit_cases_case_id")),
    )


def downgrade() -> None:
    op.drop_table("visit_cases")
    op.drop_index(op.f("ix_visits_official_id"), table_name="visits")
    op.drop_table("visits")
    op.drop_index(op.f("ix_callback_attempts_callback_id"), table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index(op.f("ix_missed_calls_callback_id"), table_name="missed_calls")
    op.drop_table("missed_calls")
    op.drop_index(op.f("ix_callbacks_closed_at"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_caller_number"), table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index(op.f("ix_hotline_calls_operator_id"), table_name="hotline_calls")
    op.drop_index(op.f("ix_hotline_calls_caller_number"), table_name="hotline_calls")
    op.drop_table("hotline_calls")
    op.drop_table("knowledge_entries")
    op.drop_index("ix_cases_contact_phone", table_name="cases")
