"""activity intro's formatting (rich text JSON) beside its plain text

Revision ID: e3b1c4a7f2d9
Revises: c967adc02d5e
Create Date: 2026-12-04 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3b1c4a7f2d9"
down_revision: str | None = "c967adc02d5e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for every existing activity: its plain intro keeps being shown, escaped.
    op.add_column("activities", sa.Column("intro_rich", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("intro_rich")
