"""The one `metadata` every table is defined on, and the column types they share."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, MetaData, String

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

ID = String(64)
CODE = String(32)
MONEY = BigInteger


def account_column(nullable: bool = False, index: bool = True) -> Column[str]:
    return Column("account_id", ID, ForeignKey("accounts.id"), nullable=nullable, index=index)


def loose_account_column(nullable: bool = False) -> Column[str]:
    """An account id without a foreign key: logs and outboxes may be written first."""
    return Column("account_id", ID, nullable=nullable, index=True)
