"""view_rollups: counted views older than RETENTION_DAYS, per share and quarter hour

Revision ID: c7e5a1d9b3f2
Revises: f6a2b8c4d019
Create Date: 2026-12-04 21:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c7e5a1d9b3f2"
down_revision: str | None = "f6a2b8c4d019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "view_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("share_id", "bucket", name="uq_view_rollup"),
    )
    op.create_index("ix_view_rollups_activity_id", "view_rollups", ["activity_id"])
    # share_visitors.first_seen becomes the moment of the first counted view (per-day unique
    # visitors are read from it, so raw views can go): a row a sign-up made before any view
    # held the sign-up's moment. Take the first counted view's where one is stored.
    op.execute(
        """
        UPDATE share_visitors SET first_seen = (
            SELECT MIN(v.at) FROM views v
            WHERE v.share_id = share_visitors.share_id
              AND v.visitor_key = share_visitors.visitor_key AND v.counted
        )
        WHERE visits > 0 AND EXISTS (
            SELECT 1 FROM views v
            WHERE v.share_id = share_visitors.share_id
              AND v.visitor_key = share_visitors.visitor_key AND v.counted
        )
        """
    )


def downgrade() -> None:
    op.drop_index("ix_view_rollups_activity_id", table_name="view_rollups")
    op.drop_table("view_rollups")
