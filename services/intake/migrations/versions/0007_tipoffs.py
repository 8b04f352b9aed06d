"""tip-offs and duplicates: contact fingerprints, merged cases, duplicate links, disclosures

Revision ID: 0007_tipoffs
Revises: 0006_portal
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0007_tipoffs"
down_revision: str | None = "0006_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("phone_fingerprint", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("email_fingerprint", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch.create_index(batch.f("ix_cases_phone_fingerprint"), ["phone_fingerprint"])
        batch.create_index(batch.f("ix_cases_email_fingerprint"), ["email_fingerprint"])
        batch.create_index(batch.f("ix_cases_merged_into_id"), ["merged_into_id"])
        batch.create_index("ix_cases_category_submitted_at", ["category", "submitted_at"])
        batch.create_foreign_key(
            batch.f("fk_cases_merged_into_id_cases"), "cases", ["merged_into_id"], ["id"]
        )
    op.create_table(
        "duplicate_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_case_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("found_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", services.kernel.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_duplicate_links_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_case_id"],
            ["cases.id"],
            name=op.f("fk_duplicate_links_candidate_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_links")),
        sa.UniqueConstraint(
            "case_id", "candidate_case_id", name=op.f("uq_duplicate_links_case_id")
        ),
    )
    op.create_index(op.f("ix_duplicate_links_case_id"), "duplicate_links", ["case_id"])
    op.create_index(
        op.f("ix_duplicate_links_candidate_case_id"), "duplicate_links", ["candidate_case_id"]
    )
    op.create_index(op.f("ix_duplicate_links_status"), "duplicate_links", ["status"])
    op.create_table(
        "reporter_disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("staff_name", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("disclosed_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reporter_disclosures_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporter_disclosures")),
    )
    op.create_index(op.f("ix_reporter_disclosures_case_id"), "reporter_disclosures", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reporter_disclosures_case_id"), table_name="reporter_disclosures")
    op.drop_table("reporter_disclosures")
    op.drop_index(op.f("ix_duplicate_links_status"), table_name="duplicate_links")
    op.drop_index(op.f("ix_duplicate_links_candidate_case_id"), table_name="duplicate_links")
    op.drop_index(op.f("ix_duplicate_links_case_id"), table_name="duplicate_links")
    op.drop_table("duplicate_links")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(batch.f("fk_cases_merged_into_id_cases"), type_="foreignkey")
        batch.drop_index("ix_cases_category_submitted_at")
        batch.drop_index(batch.f("ix_cases_merged_into_id"))
        batch.drop_index(batch.f("ix_cases_email_fingerprint"))
        batch.drop_index(batch.f("ix_cases_phone_fingerprint"))
        for column in ("merged_into_id", "email_fingerprint", "phone_fingerprint"):
            batch.drop_column(column)
