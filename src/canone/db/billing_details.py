"""The part of `SqlAccounts` that keeps accounts' billing details (SPEC §8): one row per
account, written whole on every save, with VIES's last answer beside the details."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select

from canone.billing.parties import Address, BillingDetails
from canone.db.queries import Prepared, Queries, keyed
from canone.db.tables import billing_details
from canone.services.records import AccountBillingDetails
from canone.services.vies import ViesCheck

_OF = Prepared(keyed(billing_details, "account_id"))


def details_values(saved: AccountBillingDetails) -> dict[str, Any]:
    """The row of an account's saved details (also what a bulk load inserts)."""
    d, a, vies = saved.details, saved.details.address, saved.vies
    return {
        "account_id": saved.account_id, "kind": d.kind, "legal_name": d.legal_name,
        "street": a.street, "postcode": a.postcode, "city": a.city, "province": a.province,
        "country": a.country, "vat_id": d.vat_id, "tax_code": d.tax_code,
        "sdi_code": d.sdi_code, "pec": d.pec, "card_country": saved.card_country,
        "vies_valid": vies and vies.valid, "vies_checked_at": vies and vies.checked_at,
        "vies_name": vies and vies.name, "vies_address": vies and vies.address,
        "vies_consultation_id": vies and vies.consultation_id,
        "updated_at": saved.updated_at,
    }


def _record(r: Row[Any]) -> AccountBillingDetails:
    address = Address(r.street, r.postcode, r.city, r.province, r.country)
    details = BillingDetails(r.kind, r.legal_name, address, r.vat_id, r.tax_code, r.sdi_code,
                             r.pec)
    vies = None if r.vies_checked_at is None else ViesCheck(
        r.vies_valid, r.vies_checked_at, r.vies_name, r.vies_address, r.vies_consultation_id)
    return AccountBillingDetails(r.account_id, details, vies, r.card_country, r.updated_at)


class BillingDetailsQueries(Queries):
    def billing_details_of(self, account_id: str, lock: bool = False
                           ) -> AccountBillingDetails | None:
        row = self.prepared(_OF, {"account_id": account_id}, lock).first()
        return None if row is None else _record(row)

    def billing_details_by_ids(self, account_ids: Sequence[str]
                               ) -> dict[str, AccountBillingDetails]:
        """The saved details of several accounts in one query (none saved: left out)."""
        if not account_ids:
            return {}
        query = select(billing_details).where(self.among(billing_details.c.account_id,
                                                         account_ids))
        return {r.account_id: _record(r) for r in self.all(query)}

    def save_billing_details(self, saved: AccountBillingDetails) -> None:
        values = details_values(saved)
        self.connection.execute(self.upsert(billing_details).values(values).on_conflict_do_update(
            index_elements=[billing_details.c.account_id], set_=values))
