"""rewards catalogue, reward pictures, redemptions; leaderboard opt-out

Revision ID: d41c7e0b9f35
Revises: a4e9c2f61b07
Create Date: 2026-12-04 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d41c7e0b9f35"
down_revision: str | None = "a4e9c2f61b07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): a batch would copy the table, which other
    # tables' foreign keys refer to.
    op.add_column(
        "employees",
        sa.Column("on_leaderboard", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("picture_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("picture_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stock >= 0", name="ck_rewards_stock"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reward_pictures",
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"]),
        sa.PrimaryKeyConstraint("reward_id"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("reward_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_redemptions_employee_id", ["employee_id"], unique=False)
        batch_op.create_index(
            "ix_redemptions_status_at", ["status", "requested_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_status_at")
        batch_op.drop_index("ix_redemptions_employee_id")
    op.drop_table("redemptions")
    op.drop_table("reward_pictures")
    op.drop_table("rewards")
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_column("on_leaderboard")
