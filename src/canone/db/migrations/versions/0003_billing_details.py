"""Billing details of an account (SPEC §8), with VIES's last answer for its VAT id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "billing_details",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("legal_name", sa.Text(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_id", sa.String(length=32), nullable=True),
        sa.Column("tax_code", sa.String(length=16), nullable=True),
        sa.Column("sdi_code", sa.String(length=7), nullable=True),
        sa.Column("pec", sa.String(length=320), nullable=True),
        sa.Column("card_country", sa.String(length=2), nullable=True),
        sa.Column("vies_valid", sa.Boolean(), nullable=True),
        sa.Column("vies_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vies_name", sa.Text(), nullable=True),
        sa.Column("vies_address", sa.Text(), nullable=True),
        sa.Column("vies_consultation_id", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_billing_details_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_billing_details")),
    )


def downgrade() -> None:
    op.drop_table("billing_details")
