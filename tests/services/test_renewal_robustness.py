"""The billing run keeps going and keeps its promises: a subscription that cannot be billed
from the catalog blocks only itself, collecting one account looks at that account's
invoices whatever else is due, and invoice numbers stay gapless when a renewal meets a
period that was billed already."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from importlib import resources

import stored
from canone.billing.catalog import Catalog, parse_catalog_text
from canone.services import accounts, collection, renewal
from canone.services.context import Services, config_json

from .conftest import DECLINED_CARD, GOOD_CARD, admin_of, at, config, sign_up

CUSTOM_REASON = "the configuration has a custom price: support bills it, not the price list"


def _plus_1000_priced_custom(svc: Services) -> Services:
    """The same services with a catalog in which Marketing Plus at 1,000 contacts (49 a
    month in the default catalog) became a price negotiated with sales."""
    text = resources.files("canone.data").joinpath("catalog.toml").read_text("utf-8")
    plus = 'base = [49, 69, 119, 189, 369, 489, "custom"]'
    assert plus in text
    catalog: Catalog = parse_catalog_text(
        text.replace(plus, 'base = ["custom", 69, 119, 189, 369, 489, "custom"]'), "changed")
    return replace(svc, catalog=catalog)


def _blocked_audit(svc: Services, account_id: str) -> list[dict[str, object] | None]:
    with svc.database.transaction() as store:
        return [entry.after for entry in store.audit.of_account(account_id, 100, "renewal.blocked")]


def _event_types(svc: Services, account_id: str) -> list[str]:
    with svc.database.transaction() as store:
        return [event.type for event in store.outbox.events_of(account_id, 100)]


def test_a_subscription_priced_custom_by_a_catalog_change_is_blocked_and_the_run_goes_on(
        svc, clock) -> None:
    ada = sign_up(svc)  # Marketing Plus, 1,000 contacts: 49
    others = [sign_up(svc, config(tier="starter"), email=f"p{n}@example.com")  # 15
              for n in range(2)]
    before = stored.subscription(svc, ada.account.id)
    changed = _plus_1000_priced_custom(svc)
    clock.set(at(2026, 5, 1, 12))

    report = renewal.run(changed)

    assert (report.renewed, report.blocked, report.collected) == (2, 1, 2)
    assert stored.subscription(svc, ada.account.id) == before  # left due, nothing moved
    assert [i.kind for i in stored.invoices(svc, ada.account.id)] == ["signup"]
    for other in others:
        assert [(i.period_start, i.total, i.status) for i in stored.invoices(svc, other.account.id)
                ] == [(date(2026, 4, 1), 1500, "paid"), (date(2026, 5, 1), 1500, "paid")]
    assert _blocked_audit(svc, ada.account.id) == [{
        "subscription": before.id, "period": {"start": "2026-05-01", "end": "2026-06-01"},
        "reason": CUSTOM_REASON, "configuration": config_json(config())}]
    assert _event_types(svc, ada.account.id).count("renewal.blocked") == 1

    # The next day's run meets it again: still blocked, but said once per period.
    clock.set(at(2026, 5, 2, 12))
    report = renewal.run(changed)
    assert (report.renewed, report.blocked) == (0, 1)
    assert len(_blocked_audit(svc, ada.account.id)) == 1
    assert _event_types(svc, ada.account.id).count("renewal.blocked") == 1

    # Priced from the list again (the catalog change undone): renewed where it was left.
    clock.set(at(2026, 5, 3, 12))
    report = renewal.run(svc)
    assert (report.renewed, report.blocked, report.collected) == (1, 0, 1)
    assert [(i.period_start, i.total, i.status) for i in stored.invoices(svc, ada.account.id)] == [
        (date(2026, 4, 1), 4900, "paid"), (date(2026, 5, 1), 4900, "paid")]


def test_more_blocked_subscriptions_than_a_batch_holds_do_not_stop_the_run(svc, clock) -> None:
    blocked = [sign_up(svc, email=f"b{n}@example.com") for n in range(3)]
    fine = sign_up(svc, config(tier="starter"), email="fine@example.com")
    clock.set(at(2026, 5, 1, 12))

    report = renewal.run(_plus_1000_priced_custom(svc), batch=2)

    assert (report.renewed, report.blocked, report.collected) == (1, 3, 1)
    assert stored.subscription(svc, fine.account.id).period_start == date(2026, 5, 1)
    for signed in blocked:
        assert stored.subscription(svc, signed.account.id).period_start == date(2026, 4, 1)
        assert len(_blocked_audit(svc, signed.account.id)) == 1


def test_a_subscription_the_catalog_no_longer_allows_is_blocked(svc, clock) -> None:
    ada = sign_up(svc, config(tier="starter", seats=3))  # starter allows at most 3 seats
    text = resources.files("canone.data").joinpath("catalog.toml").read_text("utf-8")
    assert text.count("max_seats = 3") == 1
    changed = replace(svc, catalog=parse_catalog_text(
        text.replace("max_seats = 3", "max_seats = 2"), "changed"))
    clock.set(at(2026, 5, 1, 12))

    report = renewal.run(changed)

    assert (report.renewed, report.blocked) == (0, 1)
    [audit] = _blocked_audit(svc, ada.account.id)
    assert audit is not None
    assert audit["reason"] == ("the configuration is not in the catalog any more (seats: "
                               "marketing starter allows at most 2 seats)")


def test_invoice_numbers_stay_gapless_when_a_renewal_conflict_happens(svc, clock, monkeypatch,
                                                                     allow_fallback) -> None:
    """An invoice for the next period exists already (a crashed or foreign writer): the
    batch falls back to one by one, which moves that subscription's dates without taking
    an invoice number for it."""
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    _add_early_renewal(svc, signed[0])
    fell_back = _watch_fallback(monkeypatch)
    clock.set(at(2026, 5, 1, 12))

    report = renewal.run(svc)

    assert fell_back  # the path under test
    assert report.renewed == 3
    numbers = sorted(i.number for s in signed for i in stored.invoices(svc, s.account.id))
    assert numbers == [f"2026-{n:06d}" for n in range(1, 7)]
    assert [i.id for i in stored.invoices(svc, signed[0].account.id)
            if i.period_start == date(2026, 5, 1)] == ["inv_early"]


def test_a_batch_that_falls_back_blocks_one_by_one_too(svc, clock, monkeypatch,
                                                       allow_fallback) -> None:
    ada = sign_up(svc)  # priced custom below
    signed = [sign_up(svc, config(tier="starter"), email=f"p{n}@example.com")
              for n in range(2)]
    _add_early_renewal(svc, signed[0])
    fell_back = _watch_fallback(monkeypatch)
    clock.set(at(2026, 5, 1, 12))

    report = renewal.run(_plus_1000_priced_custom(svc))

    assert fell_back
    assert (report.renewed, report.blocked) == (2, 1)
    assert len(_blocked_audit(svc, ada.account.id)) == 1
    numbers = sorted(i.number for s in (ada, *signed) for i in stored.invoices(svc, s.account.id))
    assert numbers == [f"2026-{n:06d}" for n in range(1, 6)]


def _add_early_renewal(svc, signed) -> None:
    """An invoice for May's period already there: its renewal in the batch conflicts."""
    with svc.database.transaction() as store:
        store.invoices.add(signed.invoice.but(
            id="inv_early", number=store.invoices.next_number(2026), kind="renewal",
            period_start=date(2026, 5, 1), period_end=date(2026, 6, 1), status="paid"))


def _watch_fallback(monkeypatch) -> list[Exception]:
    """Record why a batch of renewals fell back to one by one."""
    seen: list[Exception] = []
    batch = renewal._renew_batch

    def watched(*args, **kwargs):
        try:
            return batch(*args, **kwargs)
        except Exception as exc:
            seen.append(exc)
            raise

    monkeypatch.setattr(renewal, "_renew_batch", watched)
    return seen


def test_collecting_an_account_looks_at_its_own_invoices_whatever_else_is_due(
        svc, clock) -> None:
    """Other accounts' retries fall due before this account's invoice: collecting this
    account, even in batches of two, charges its invoice and leaves theirs alone."""
    others = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    ada = sign_up(svc)
    for signed in (*others, ada):
        accounts.update_card(svc, admin_of(svc, signed.account.id), signed.account.id,
                             DECLINED_CARD)
    clock.set(at(2026, 5, 1, 12))
    assert renewal.run(svc).failed == 4  # each retried from 3 May, 12:00
    clock.set(at(2026, 5, 4, 12))
    good = svc.gateway.store_card(GOOD_CARD)
    unpaid = stored.invoices(svc, ada.account.id)[-1]
    with svc.database.transaction() as store:  # as `accounts.update_card` does
        found = store.accounts.get(ada.account.id, lock=True)
        assert found is not None
        store.accounts.save(found.but(card=good))
        store.invoices.save(unpaid.but(next_attempt_at=clock.now()))

    report = collection.collect(svc, clock.now(), account_id=ada.account.id, batch=2)

    assert (report.collected, report.failed) == (1, 0)
    assert stored.invoices(svc, ada.account.id)[-1].status == "paid"
    for other in others:
        last = stored.invoices(svc, other.account.id)[-1]
        assert (last.status, last.attempts, last.next_attempt_at) == (
            "open", 1, at(2026, 5, 3, 12))
