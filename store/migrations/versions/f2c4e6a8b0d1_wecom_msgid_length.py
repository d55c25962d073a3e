"""outbox.ts and leads.sales_ts hold WeCom msgids too (63 characters), not only Slack ts

Revision ID: f2c4e6a8b0d1
Revises: e8f1a2b3c4d5
Create Date: 2026-12-05 06:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f2c4e6a8b0d1"
down_revision: str | None = "e8f1a2b3c4d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("outbox", "ts"), ("leads", "sales_ts"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
                type_=sqlmodel.sql.sqltypes.AutoString(length=128),
                existing_nullable=True,
            )


def downgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
                type_=sqlmodel.sql.sqltypes.AutoString(length=32),
                existing_nullable=True,
            )
