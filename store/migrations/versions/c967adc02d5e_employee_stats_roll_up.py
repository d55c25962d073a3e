"""employee stats roll-up, backfilled from share_stats

Revision ID: c967adc02d5e
Revises: 5b7d0c2e9a41
Create Date: 2026-11-28 06:05:14.670386
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c967adc02d5e"
down_revision: str | None = "5b7d0c2e9a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAT_COLUMNS = ("views", "unique_visitors", "signups", "attended", "converted", "points")


def upgrade() -> None:
    op.create_table(
        "employee_stats",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in STAT_COLUMNS),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("employee_id"),
    )
    op.create_index(
        "ix_employee_stats_rank",
        "employee_stats",
        [sa.text("points DESC"), sa.text("signups DESC"), sa.text("views DESC"), "employee_id"],
        unique=False,
    )
    # The roll-up so far, per employee; from here on store.queries.bump_stats keeps it exact.
    columns = ", ".join(STAT_COLUMNS)
    sums = ", ".join(f"SUM({column})" for column in STAT_COLUMNS)
    op.execute(
        f"INSERT INTO employee_stats (employee_id, {columns}) "
        f"SELECT employee_id, {sums} FROM share_stats GROUP BY employee_id"
    )


def downgrade() -> None:
    op.drop_index("ix_employee_stats_rank", table_name="employee_stats")
    op.drop_table("employee_stats")
