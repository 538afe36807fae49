"""Credit notes with their own gapless yearly series, the ledger entry that points at its
credit note, and the FatturaPA file of every invoice and credit note (SPEC §8).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

ID = sa.String(length=64)
CODE = sa.String(length=32)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("credit_note_id", ID, nullable=True))
    op.create_table(
        "document_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_document_counters")),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("invoice_id", ID, nullable=False),
        sa.Column("invoice_number", sa.String(length=16), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("reason", CODE, nullable=False),
        sa.Column("settlement", CODE, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_at", INSTANT, nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.Text(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("stamp_duty", sa.BigInteger(), nullable=False),
        sa.Column("customer", sa.Text(), nullable=True),
        sa.Column("source_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_credit_notes_account_id_accounts")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"],
                                name=op.f("fk_credit_notes_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
    )
    op.create_index(op.f("ix_credit_notes_invoice_id"), "credit_notes", ["invoice_id"])
    op.create_index(op.f("ix_credit_notes_source_id"), "credit_notes", ["source_id"])
    op.create_index("ix_credit_notes_account_issued", "credit_notes",
                    ["account_id", "issued_at"])
    op.create_table(
        "credit_note_lines",
        sa.Column("credit_note_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["credit_note_id"], ["credit_notes.id"], ondelete="CASCADE",
                                name=op.f("fk_credit_note_lines_credit_note_id_credit_notes")),
        sa.PrimaryKeyConstraint("credit_note_id", "position",
                                name=op.f("pk_credit_note_lines")),
    )
    op.create_index(op.f("ix_credit_note_lines_account_id"), "credit_note_lines",
                    ["account_id"])
    op.create_table(
        "einvoices",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("document_kind", CODE, nullable=False),
        sa.Column("document_id", ID, nullable=False),
        sa.Column("document_number", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=40), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("state", CODE, nullable=False),
        sa.Column("sdi", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_einvoices_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_einvoices")),
        sa.UniqueConstraint("document_id", name=op.f("uq_einvoices_document_id")),
        sa.UniqueConstraint("file_name", name=op.f("uq_einvoices_file_name")),
    )
    op.create_index(op.f("ix_einvoices_account_id"), "einvoices", ["account_id"])
    op.create_index("ix_einvoices_state", "einvoices", ["state", "created_at"])
    op.create_index("ix_einvoices_created", "einvoices", ["created_at"])


def downgrade() -> None:
    op.drop_table("einvoices")
    op.drop_table("credit_note_lines")
    op.drop_table("credit_notes")
    op.drop_table("document_counters")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("credit_note_id")
