"""points ledger with buckets and kinds, balances, per-activity rules, daily cap, flags

Revision ID: b5e1f0a3c7d2
Revises: d41c7e0b9f35
Create Date: 2026-12-04 19:20:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b5e1f0a3c7d2"
down_revision: str | None = "d41c7e0b9f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEAD_REF = re.compile(r"^lead:(\d+)")


def upgrade() -> None:
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.alter_column("activity_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("share_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="earned",
            )
        )
        batch_op.add_column(
            sa.Column(
                "bucket",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                nullable=False,
                server_default="available",
            )
        )
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "by_user_id",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.create_index("ix_points_ledger_lead_id", ["lead_id"], unique=False)
        batch_op.create_index(
            "ix_points_employee_bucket", ["employee_id", "bucket"], unique=False
        )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("marked", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "marked_by",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
    op.create_table(
        "point_balances",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("review", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("employee_id"),
    )
    op.create_table(
        "point_rules",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("unique_visitor", sa.Integer(), nullable=False),
        sa.Column("signup", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("converted", sa.Integer(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"]),
        sa.PrimaryKeyConstraint("activity_id"),
    )
    op.create_table(
        "daily_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("share_id", "day", name="uq_daily_points"),
    )
    op.create_table(
        "point_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_point_flags_key"),
    )
    op.create_index("ix_point_flags_employee_id", "point_flags", ["employee_id"], unique=False)
    op.create_index("ix_point_flags_status", "point_flags", ["status", "created_at"], unique=False)
    # Existing rows: every one was earned straight into `available`; tie lead rows to their
    # lead and start each balance at the sum of its rows.
    bind = op.get_bind()
    ledger = sa.table(
        "points_ledger", sa.column("id", sa.Integer), sa.column("ref"), sa.column("lead_id")
    )
    rows = bind.execute(
        sa.select(ledger.c.id, ledger.c.ref).where(ledger.c.ref.like("lead:%"))
    ).all()
    for row_id, ref in rows:
        match = _LEAD_REF.match(ref)
        if match:
            bind.execute(
                ledger.update()
                .where(ledger.c.id == row_id)
                .values(lead_id=int(match.group(1)))
            )
    op.execute(
        "INSERT INTO point_balances (employee_id, available, pending, review) "
        "SELECT employee_id, SUM(points), 0, 0 FROM points_ledger GROUP BY employee_id"
    )


def downgrade() -> None:
    op.drop_index("ix_point_flags_status", table_name="point_flags")
    op.drop_index("ix_point_flags_employee_id", table_name="point_flags")
    op.drop_table("point_flags")
    op.drop_table("daily_points")
    op.drop_table("point_rules")
    op.drop_table("point_balances")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("marked_by")
        batch_op.drop_column("marked")
    op.execute("DELETE FROM points_ledger WHERE share_id IS NULL")
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_points_employee_bucket")
        batch_op.drop_index("ix_points_ledger_lead_id")
        batch_op.drop_column("by_user_id")
        batch_op.drop_column("lead_id")
        batch_op.drop_column("bucket")
        batch_op.drop_column("kind")
        batch_op.alter_column("share_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("activity_id", existing_type=sa.Integer(), nullable=False)
