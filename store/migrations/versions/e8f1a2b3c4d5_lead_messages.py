"""lead_messages: where each message about a lead landed, so an erasure can rewrite it

Revision ID: e8f1a2b3c4d5
Revises: e8b3d5f1a2c6
Create Date: 2026-12-05 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e8f1a2b3c4d5"
down_revision: str | None = "e8b3d5f1a2c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "ts", name="uq_lead_messages_channel_ts"),
    )
    op.create_index("ix_lead_messages_lead_id", "lead_messages", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_lead_messages_lead_id", table_name="lead_messages")
    op.drop_table("lead_messages")
