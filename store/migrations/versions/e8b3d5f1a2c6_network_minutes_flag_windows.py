"""network_minutes (sliding-window network bursts) and the span a view flag covers

Revision ID: e8b3d5f1a2c6
Revises: c7e5a1d9b3f2
Create Date: 2026-12-05 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e8b3d5f1a2c6"
down_revision: str | None = "c7e5a1d9b3f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("network", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("minute", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("share_id", "network", "minute", name="uq_network_minutes"),
    )
    op.create_index("ix_network_minutes_minute", "network_minutes", ["minute"])
    with op.batch_alter_table("point_flags") as batch:
        batch.add_column(
            sa.Column("window_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch.add_column(
            sa.Column("window_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("point_flags") as batch:
        batch.drop_column("window_end")
        batch.drop_column("window_start")
    op.drop_index("ix_network_minutes_minute", table_name="network_minutes")
    op.drop_table("network_minutes")
