"""tracking writer marks

Revision ID: 7e3f4a9b1c20
Revises: c967adc02d5e
Create Date: 2026-11-28 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e3f4a9b1c20"
down_revision: str | None = "c967adc02d5e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracking_marks",
        sa.Column("writer", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("writer"),
    )


def downgrade() -> None:
    op.drop_table("tracking_marks")
