"""Invoices carry their tax (SPEC §8): `subtotal` (net), `tax_lines` (one per rate),
`total` becomes gross, the date in the seller's calendar (`issued_on`) and the customer's
billing details and the seller as they were at issue.

Invoices issued before carried no tax: their subtotal is their total and they have no tax
lines; their date is the day of `issued_at` in Rome (an Italian seller's calendar, which
their numbers already followed as far as the year allows). Their parties stay unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

_ROME = ZoneInfo("Europe/Rome")


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("subtotal", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("tax_lines", sa.Text(), nullable=True))
        batch.add_column(sa.Column("issued_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("customer", sa.Text(), nullable=True))
        batch.add_column(sa.Column("seller", sa.Text(), nullable=True))
    invoices = sa.table("invoices", sa.column("id", sa.String), sa.column("total"),
                        sa.column("subtotal"), sa.column("tax_lines"),
                        sa.column("issued_at", sa.DateTime), sa.column("issued_on", sa.Date))
    bind = op.get_bind()
    bind.execute(invoices.update().values(subtotal=invoices.c.total, tax_lines="[]"))
    for invoice_id, issued_at in bind.execute(sa.select(invoices.c.id, invoices.c.issued_at)):
        bind.execute(invoices.update().where(invoices.c.id == invoice_id)
                     .values(issued_on=_rome_date(issued_at)))
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("subtotal", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("tax_lines", existing_type=sa.Text(), nullable=False)
        batch.alter_column("issued_on", existing_type=sa.Date(), nullable=False)


def _rome_date(issued_at: datetime | str) -> object:
    if isinstance(issued_at, str):  # SQLite hands back its text
        issued_at = datetime.fromisoformat(issued_at)
    if issued_at.tzinfo is None:  # SQLite keeps naive UTC
        issued_at = issued_at.replace(tzinfo=UTC)
    return issued_at.astimezone(_ROME).date()


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        for column in ("seller", "customer", "issued_on", "tax_lines", "subtotal"):
            batch.drop_column(column)
