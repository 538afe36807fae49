"""The provider's intent id on each payment intent (SPEC §9: stored before it is confirmed,
so a crash or a time-out is recovered by retrieving it), and each account's customer at
the payment provider (Stripe: cus_…).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("payment_intents") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(length=255), nullable=True))
    op.create_table(
        "payment_customers",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_payment_customers_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_payment_customers")),
    )


def downgrade() -> None:
    op.drop_table("payment_customers")
    with op.batch_alter_table("payment_intents") as batch:
        batch.drop_column("provider_id")
