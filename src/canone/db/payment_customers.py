"""The part of `SqlAccounts` that keeps each account's customer at the payment provider
(Stripe: cus_…), made the first time the account's card is set up there."""

from __future__ import annotations

from sqlalchemy import select

from canone.db.queries import Prepared, Queries, keyed
from canone.db.tables import accounts, payment_customers

_OF = Prepared(keyed(payment_customers, "account_id"))


class PaymentCustomerQueries(Queries):
    def payment_customer_of(self, account_id: str) -> str | None:
        row = self.prepared(_OF, {"account_id": account_id}).first()
        return None if row is None else str(row.customer_id)

    def account_of_payment_customer(self, customer_id: str) -> str | None:
        """The account a provider's customer is (a provider's event names the customer)."""
        query = select(payment_customers.c.account_id).where(
            payment_customers.c.customer_id == customer_id)
        row = self.connection.execute(query).first()
        return None if row is None else str(row.account_id)

    def account_with_card(self, token: str) -> str | None:
        """The account whose card on file is the provider's payment method `token`."""
        query = select(accounts.c.id).where(accounts.c.card_token == token).limit(1)
        row = self.connection.execute(query).first()
        return None if row is None else str(row.id)

    def save_payment_customer(self, account_id: str, customer_id: str) -> None:
        """Kept once: the provider gives an account the same customer every time."""
        self.connection.execute(self.upsert(payment_customers).values(
            account_id=account_id, customer_id=customer_id).on_conflict_do_nothing(
            index_elements=[payment_customers.c.account_id]))
