"""Records with every field set to a telling value, for the store tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from canone.billing.configuration import Configuration
from canone.billing.parties import Address, BillingDetails
from canone.services.ports import StoredCard
from canone.services.records import (
    ACTIVE,
    PRIMARY_ADMIN,
    Account,
    Invoice,
    InvoiceLine,
    InvoiceTaxLine,
    Subscription,
    User,
)
from canone.services.sellers import seller_in_effect

T0 = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
BIG = 9_007_199_254_740_993  # above 2**53: lost by anything that goes through a float

CONFIG = Configuration("crm", "pro", "monthly", "EUR", 2500, 3, ("api", "sso"))
SMALLER = Configuration("crm", "basic", "yearly", "EUR", None, 1)


CUSTOMER = BillingDetails("business", "Müller Analytik GmbH",
                          Address("Friedrichstraße 68", "10117", "Berlin", None, "DE"),
                          vat_id="DE136695976")


def account(n: int = 1, **changes: object) -> Account:
    record = Account(
        id=f"acc_{n}", name=f"Rossi & Figli {n}", timezone="Europe/Rome", locale="it",
        currency="EUR", status=ACTIVE, auto_upgrade=True,
        card=StoredCard("card_tok_abc", "visa", "4242", 12, 2031), created_at=T0)
    return record.but(**changes)


def user(n: int = 1, account_id: str = "acc_1", **changes: object) -> User:
    record = User(id=f"usr_{n}", account_id=account_id, email=f"Anna.{n}@Example.com",
                  name="Anna Bianchi", role=PRIMARY_ADMIN, billing=True, active=True,
                  password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
    return record.but(**changes)


def subscription(n: int = 1, account_id: str = "acc_1", **changes: object) -> Subscription:
    record = Subscription(
        id=f"sub_{n}", account_id=account_id, config=CONFIG, anchor=date(2026, 1, 31),
        period_start=date(2026, 2, 28), period_end=date(2026, 3, 31),
        renews_at=datetime(2026, 3, 30, 22, 0, tzinfo=UTC), status=ACTIVE, pending=SMALLER,
        cancel_at_period_end=False, version=7)
    return record.but(**changes)


def invoice(n: int = 1, account_id: str = "acc_1", subscription_id: str = "sub_1",
            **changes: object) -> Invoice:
    record = Invoice(
        id=f"inv_{n}", account_id=account_id, subscription_id=subscription_id,
        number=f"2026-{n:06d}", kind="renewal", currency="EUR", issued_at=T0,
        period_start=date(2026, 3, 31), period_end=date(2026, 4, 30),
        lines=(InvoiceLine("plan", "CRM Pro, 3 seats", BIG),
               InvoiceLine("credit", "Unused time on CRM Basic", -1_234)),
        total=BIG - 1_234, credit_applied=500, amount_paid=0, status="open", attempts=2,
        next_attempt_at=T0 + timedelta(days=2), subtotal=BIG - 1_234,
        tax_lines=(InvoiceTaxLine("reverse_charge", Decimal("0"), "DE", "N2.1",
                                  "reverse_charge_7ter", BIG - 1_234, 0),),
        issued_on=date(2026, 3, 14), customer=CUSTOMER, seller=seller_in_effect(None))
    return record.but(**changes)


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
