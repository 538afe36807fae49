"""The email outbox keeps the order its rows were written in: a `seq` identity column as
the key (the id stays unique), and the due index ends with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    with op.batch_alter_table("outbox", recreate="auto") as batch:
        batch.drop_constraint("pk_outbox", type_="primary")
        batch.add_column(sa.Column("seq", SERIAL, sa.Identity(always=False), nullable=False))
        batch.create_primary_key("pk_outbox", ["seq"])
        batch.create_unique_constraint("uq_outbox_id", ["id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at", "seq"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    with op.batch_alter_table("outbox", recreate="auto") as batch:
        batch.drop_constraint("uq_outbox_id", type_="unique")
        batch.drop_constraint("pk_outbox", type_="primary")
        batch.drop_column("seq")
        batch.create_primary_key("pk_outbox", ["id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)
