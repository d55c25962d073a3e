"""the activity's language (en or zh): a customer's page falls back to it

Revision ID: f6a2b8c4d019
Revises: b5e1f0a3c7d2
Create Date: 2026-12-04 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f6a2b8c4d019"
down_revision: str | None = "b5e1f0a3c7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=True,
                server_default="en",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("language")
