from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from canone.services import quotes
from canone.services.access import Actor
from canone.services.records import User

from .conftest import config, sign_up


def test_spec_example_upgrade_charges_48(svc, clock) -> None:
    signed = sign_up(svc)
    assert signed.invoice.total == 4900
    assert signed.invoice.number == "2026-000001"
    with svc.database.transaction() as store:
        admin: User = store.people.user_by_email("ada@example.com")
    actor = Actor.of_user(admin)
    clock.set(datetime(2026, 4, 16, 10, tzinfo=UTC))
    quote = quotes.preview(svc, actor, signed.account.id, config(tier="enterprise"))
    assert quote.change.due_now == Decimal("48.00")
    done = quotes.confirm(svc, actor, signed.account.id, quote.token)
    assert done.invoice.total == 4800
    again = quotes.confirm(svc, actor, signed.account.id, quote.token)
    assert again.invoice.id == done.invoice.id
    assert svc.gateway.total_charged() == 4900 + 4800
