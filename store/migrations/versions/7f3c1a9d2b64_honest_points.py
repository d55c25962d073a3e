"""honest points: new visitors per network (the points cap), own sign-ups marked

Revision ID: 7f3c1a9d2b64
Revises: e3b1c4a7f2d9
Create Date: 2026-12-04 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7f3c1a9d2b64"
down_revision: str | None = "e3b1c4a7f2d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("network", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("share_id", "network", "day", name="uq_network_visitors"),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_own", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("is_own")
    op.drop_table("network_visitors")
