"""Migration 0008 (SPEC §9) on accounts saved before payment methods had a kind: a bank
account is known by its brand, anything else is a card, and no country is made up."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from canone.db.database import Database
from canone.services.ports import StoredCard

_ACCOUNT = ("INSERT INTO accounts (id, name, timezone, locale, currency, status, auto_upgrade,"
            " card_token, card_brand, card_last4, card_exp_month, card_exp_year, created_at)"
            " VALUES (:id, 'Acme', 'Europe/Rome', 'it', 'EUR', 'active', false, :token,"
            " :brand, :last4, :month, :year, :at)")


def test_methods_saved_before_kinds_read_back_as_what_they_are(empty_database: Database) -> None:
    empty_database.migrate("0007")
    at = datetime(2026, 4, 1, tzinfo=UTC)
    with empty_database.engine.begin() as connection:
        for row in (("acc_1", "pm_sepa", "sepa_debit", "3000", 0, 0),
                    ("acc_2", "pm_card", "mastercard", "4444", 3, 2030),
                    ("acc_3", None, None, None, None, None)):
            connection.execute(text(_ACCOUNT), dict(zip(
                ("id", "token", "brand", "last4", "month", "year"), row, strict=True), at=at))

    empty_database.migrate()

    with empty_database.read() as store:
        found = store.accounts.by_ids(["acc_1", "acc_2", "acc_3"])
    assert found["acc_1"].card == StoredCard("pm_sepa", "sepa_debit", "3000", 0, 0, "",
                                             "sepa_debit")
    assert found["acc_2"].card == StoredCard("pm_card", "mastercard", "4444", 3, 2030, "",
                                             "card")
    assert found["acc_3"].card is None
