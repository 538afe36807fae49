"""Helpers shared by the outbox and inbound tests: a test clock, sign-ups, and reading the
outbox tables (the store port reads only due rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from canone.billing.configuration import Configuration
from canone.db.database import Database
from canone.db.tables import outbox, webhook_deliveries
from canone.services import signups
from canone.services.context import Services
from canone.services.ports import Card

GOOD_CARD = Card("4242424242424242", 12, 2035, "123")
START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def config(product: str = "marketing", tier: str = "plus", interval: str = "month",
           currency: str = "USD", contacts: int | None = 1000, seats: int = 1,
           addons: tuple[str, ...] = ()) -> Configuration:
    return Configuration(product, tier, interval, currency, contacts, seats, addons)


def sign_up(svc: Services, plan: Configuration | None = None, *, email: str = "ada@example.com",
            locale: str = "en", name: str = "Ada's Shop",
            card: Card | str = GOOD_CARD) -> signups.SignedUp:
    """An account signed up with `card` (a Stripe payment method's id with Stripe)."""
    plan = plan or config()
    return signups.sign_up(svc, signups.SignUp(
        name=name, timezone="Europe/Rome" if locale == "it" else "UTC", locale=locale,
        currency=plan.currency, admin_email=email, admin_name="Ada Lovelace",
        admin_password="correct horse", config=plan, card=card, anchor=None))


def outbox_rows(database: Database) -> list[dict[str, Any]]:
    """Every email outbox row, oldest first (the store port reads only due rows)."""
    with database.engine.connect() as connection:
        query = select(outbox).order_by(outbox.c.seq)
        return [dict(row._mapping) for row in connection.execute(query)]


def delivery_rows(database: Database) -> list[dict[str, Any]]:
    with database.engine.connect() as connection:
        query = select(webhook_deliveries).order_by(webhook_deliveries.c.created_at,
                                                    webhook_deliveries.c.id)
        return [dict(row._mapping) for row in connection.execute(query)]
