"""dispatch catalogue: territories, liaison officers, versioned rules, major keywords, audit

Revision ID: 0004_catalogue
Revises: 0003_lifecycle
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.kernel.db

revision: str = "0004_catalogue"
down_revision: str | None = "0003_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "territories",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["territories.code"],
            name=op.f("fk_territories_parent_code_territories"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_territories")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=20), server_default=sa.text("'functional'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("territory_code", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_departments_territory_code_territories"),
            "territories",
            ["territory_code"],
            ["code"],
        )
    op.create_table(
        "liaison_officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_liaison_officers_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liaison_officers")),
    )
    with op.batch_alter_table("liaison_officers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_liaison_officers_department_code"), ["department_code"], unique=False
        )
    op.create_table(
        "dispatch_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("territory_code", sa.String(length=40), nullable=True),
        sa.Column("scope_level", sa.String(length=20), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("lead_department", sa.String(length=40), nullable=False),
        sa.Column("co_departments", sa.JSON(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_department"],
            ["departments.code"],
            name=op.f("fk_dispatch_rules_lead_department_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territories.code"],
            name=op.f("fk_dispatch_rules_territory_code_territories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_rules")),
        sa.UniqueConstraint("rule_key", "version", name=op.f("uq_dispatch_rules_rule_key")),
    )
    with op.batch_alter_table("dispatch_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_rules_rule_key"), ["rule_key"], unique=False)
    op.create_table(
        "major_keywords",
        sa.Column("term", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_major_keywords")),
    )
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", services.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_key", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_changes")),
    )
    with op.batch_alter_table("catalogue_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogue_changes_at"), ["at"], unique=False)
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_level", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("scope_suggested", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("territory_code", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("major", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "priority", sa.String(length=20), server_default=sa.text("'normal'"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "co_department_codes", sa.JSON(), server_default=sa.text("'[]'"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        for column in (
            "co_department_codes",
            "priority",
            "major",
            "territory_code",
            "scope_suggested",
            "scope_level",
        ):
            batch_op.drop_column(column)
    op.drop_table("catalogue_changes")
    op.drop_table("major_keywords")
    op.drop_table("dispatch_rules")
    op.drop_table("liaison_officers")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_departments_territory_code_territories"), type_="foreignkey"
        )
        batch_op.drop_column("territory_code")
        batch_op.drop_column("kind")
    op.drop_table("territories")
