"""The kind of the account's payment method (card or sepa_debit, SPEC §9) and the country
of its issuing bank when the gateway tells: until now a saved bank account read back as a
card whose brand happened to be "sepa_debit". Methods saved before are known by that brand;
their country is unknown (NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("card_kind", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("card_country", sa.String(length=2), nullable=True))
    op.execute("UPDATE accounts SET card_kind = CASE WHEN card_brand = 'sepa_debit'"
               " THEN 'sepa_debit' ELSE 'card' END WHERE card_token IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("card_country")
        batch.drop_column("card_kind")
