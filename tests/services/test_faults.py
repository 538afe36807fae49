"""Fault injection: the process dies, or the card network times out, between the charge
and the commit. Reconciliation settles it: the customer pays exactly once and has the
plan paid for (SPEC §4 "atomic", §7 sandbox timeout card)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

import stored
from canone.services import accounts, payments, quotes, renewal
from canone.services.access import Actor
from canone.services.errors import PaymentPending
from canone.services.ports import ChargeResult
from legacy import readdress_pending_signup
from sandboxnetwork import ThroughCharge

from .conftest import TIMEOUT_CARD, admin_of, at, config, sign_up


class ProcessDied(BaseException):
    """Stands for the process dying: nothing after it runs (not an Exception)."""


class DiesAfterCharging(ThroughCharge):
    """A gateway that takes the money, then the process dies before anything is saved."""

    def __init__(self, real) -> None:
        self.real = real

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        self.real.charge(card_token, amount_minor, currency, idempotency_key)
        raise ProcessDied()


class DiesBeforeCharging(DiesAfterCharging):
    """The process dies before the charge reaches the card network."""

    def charge(self, *args):
        raise ProcessDied()


def dying(svc, dies=DiesAfterCharging):
    return dataclasses.replace(svc, gateway=dies(svc.gateway))


def upgrade_dies(svc, clock, signed, dies=DiesAfterCharging) -> tuple[Actor, str]:
    """Ada confirms Enterprise on 16 April and the process dies (right after the charge, or
    before it): her actor and the quote's token."""
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    with pytest.raises(ProcessDied):
        quotes.confirm(dying(svc, dies), ada, signed.account.id, token)
    return ada, token


def test_dies_between_charge_and_commit_then_reconciled(svc, clock, signed) -> None:
    ada, token = upgrade_dies(svc, clock, signed)

    # Charged, but nothing recorded yet: the intent is pending.
    assert svc.gateway.total_charged() == 4900 + 4800
    assert stored.subscription(svc, signed.account.id).config == config()
    assert payments.reconcile(svc) == 0  # too recent: its request may still be running
    clock.advance(minutes=1)
    assert payments.reconcile(svc) == 1

    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    assert [(i.kind, i.total, i.amount_paid) for i in stored.invoices(svc, signed.account.id)] == [
        ("signup", 4900, 4900), ("upgrade", 4800, 4800)]
    assert svc.gateway.total_charged() == 4900 + 4800
    assert payments.reconcile(svc) == 0
    # The customer, retrying, sees the result and is not charged again.
    again = quotes.confirm(svc, ada, signed.account.id, token)
    assert again.invoice.total == 4800
    assert svc.gateway.total_charged() == 4900 + 4800


def test_dies_between_charge_and_commit_then_the_same_token_again(svc, clock, signed) -> None:
    ada, token = upgrade_dies(svc, clock, signed)

    done = quotes.confirm(svc, ada, signed.account.id, token)

    assert done.invoice.total == 4800
    assert svc.gateway.total_charged() == 4900 + 4800
    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    clock.advance(minutes=1)
    assert payments.reconcile(svc) == 0


@pytest.mark.sql("a second process opens the same database by its URL")
def test_a_killed_process_between_charge_and_commit(svc, clock, signed, tmp_path) -> None:
    """A real process, ended by os._exit right after the charge."""
    ada = admin_of(svc, signed.account.id)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    script = textwrap.dedent(f"""
        import os
        from datetime import datetime
        from canone.bootstrap import build_services
        from canone.db.database import Database
        from canone.integrations.payments import SandboxGateway
        from canone.services import quotes
        from canone.services.access import Actor
        from canone.settings import Settings

        class Clock:
            def now(self):
                return datetime.fromisoformat({clock.now().isoformat()!r})

        class Dies(SandboxGateway):
            def confirm_charge(self, *args):  # a confirmation charges the card
                super().confirm_charge(*args)
                os._exit(9)

        database = Database({svc.database.url!r})
        svc = build_services(Settings(secret_key="test-secret"), database, clock=Clock(),
                             gateway=Dies({str(tmp_path / "sandbox.db")!r}, Clock()), vies=None,
                             seller=None)  # as the test's services: quoted untaxed
        with database.transaction() as store:
            admin = store.people.user_by_email("ada@example.com")
        quotes.confirm(svc, Actor.of_user(admin), {signed.account.id!r}, {token!r})
        raise SystemExit("not reached")
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 9, done.stderr

    assert svc.gateway.total_charged() == 4900 + 4800
    assert stored.subscription(svc, signed.account.id).config == config()
    clock.advance(minutes=5)
    assert payments.reconcile(svc) == 1
    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    assert quotes.confirm(svc, ada, signed.account.id, token).invoice.total == 4800
    assert svc.gateway.total_charged() == 4900 + 4800
    assert stored.count_rows(svc, "payments") == 2


def test_timeout_card_sign_up_is_settled_by_reconciliation(svc, clock) -> None:
    with pytest.raises(PaymentPending):
        sign_up(svc, card=TIMEOUT_CARD)
    assert stored.count_rows(svc, "accounts") == 0
    assert svc.gateway.total_charged() == 4900

    clock.advance(minutes=1)
    assert payments.reconcile(svc) == 1

    assert stored.count_rows(svc, "accounts") == 1
    with svc.database.transaction() as store:
        ada = store.people.user_by_email("ada@example.com")
    assert [(i.number, i.total, i.amount_paid) for i in stored.invoices(svc, ada.account_id)] == [
        ("2026-000001", 4900, 4900)]
    assert stored.subscription(svc, ada.account_id).period_start == date(2026, 4, 1)
    assert svc.gateway.total_charged() == 4900


@pytest.mark.parametrize("settled_by", ["reconciliation", "confirming again"])
def test_timeout_card_upgrade_is_settled_once(svc, clock, signed, settled_by) -> None:
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    clock.set(at(2026, 4, 16))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token

    with pytest.raises(PaymentPending):
        quotes.confirm(svc, ada, signed.account.id, token)
    assert stored.subscription(svc, signed.account.id).config == config()
    assert svc.gateway.total_charged() == 4900 + 4800  # taken; the answer was lost
    if settled_by == "reconciliation":
        clock.advance(minutes=1)
        assert payments.reconcile(svc) == 1
    else:  # the same key again: the network answers with the first outcome
        assert quotes.confirm(svc, ada, signed.account.id, token).invoice.total == 4800
        clock.advance(minutes=1)
        assert payments.reconcile(svc) == 0

    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    assert quotes.confirm(svc, ada, signed.account.id, token).invoice.total == 4800
    assert [i.total for i in stored.invoices(svc, signed.account.id)] == [4900, 4800]
    assert svc.gateway.total_charged() == 4900 + 4800
    assert stored.count_rows(svc, "payments") == 2


def test_timeout_card_renewal_is_settled_once(svc, clock, signed) -> None:
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    clock.set(at(2026, 5, 1))

    report = renewal.run(svc)
    assert (report.renewed, report.pending) == (1, 1)
    assert stored.invoices(svc, signed.account.id)[-1].status == "open"
    assert renewal.run(svc).pending == 0  # in flight: not attempted again
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)  # nor by a card update

    clock.advance(minutes=1)
    assert payments.reconcile(svc) == 1
    assert stored.invoices(svc, signed.account.id)[-1].status == "paid"
    assert stored.account(svc, signed.account.id).status == "active"
    assert svc.gateway.total_charged() == 2 * 4900


def test_a_charge_that_never_reached_the_network_is_settled_as_failed(svc, clock,
                                                                      signed) -> None:
    """The process died before charging: reconciliation finds nothing, so it failed."""
    ada, _ = upgrade_dies(svc, clock, signed, DiesBeforeCharging)

    clock.advance(minutes=1)
    assert payments.reconcile(svc) == 1

    assert stored.subscription(svc, signed.account.id).config == config()
    assert svc.gateway.total_charged() == 4900
    fresh = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    assert quotes.confirm(svc, ada, signed.account.id, fresh).invoice.total == 4800


class DiesAtCharge(DiesAfterCharging):
    """Takes every charge; the process dies right after taking the `nth` (1 = the first)."""

    def __init__(self, real, nth: int) -> None:
        super().__init__(real)
        self.left = nth
        self.keys: list[str] = []

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        result = self.real.charge(card_token, amount_minor, currency, idempotency_key)
        self.keys.append(idempotency_key)
        self.left -= 1
        if self.left == 0:
            raise ProcessDied()
        return result


def test_dies_after_charging_part_of_a_renewal_batch_then_reconciled(svc, clock) -> None:
    """A batch's invoices and their intents are committed before the first charge; the
    process dies after the second charge, before anything of the charges is saved.
    Reconciliation settles the two charged as paid and the third, which never reached the
    network, as failed: it is retried on day 3. Nothing is charged twice."""
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]
    clock.set(at(2026, 5, 1))
    gateway = DiesAtCharge(svc.gateway, nth=2)

    with pytest.raises(ProcessDied):
        renewal.run(dataclasses.replace(svc, gateway=gateway))

    renewed = [stored.invoices(svc, s.account.id)[-1] for s in signed]
    assert [(i.kind, i.status, i.next_attempt_at) for i in renewed] == [
        ("renewal", "open", None)] * 3  # in flight: no run collects them meanwhile
    assert stored.count_rows(svc, "payment_intents") == 3 + 3
    assert svc.gateway.total_charged() == 3 * 4900 + 2 * 4900
    assert renewal.run(svc).collected == 0
    assert payments.reconcile(svc) == 0  # too recent: the run may still be going
    clock.advance(minutes=1)
    assert payments.reconcile(svc) == 3

    charged = {key.split("_", 1)[1].rsplit("_", 1)[0] for key in gateway.keys}
    after = {i.id: i for s in signed for i in stored.invoices(svc, s.account.id)}
    for invoice in renewed:
        now = after[invoice.id]
        if invoice.id in charged:
            assert (now.status, now.amount_paid, now.attempts) == ("paid", 4900, 0)
        else:
            assert (now.status, now.attempts, now.next_attempt_at) == (
                "open", 1, at(2026, 5, 3))
    assert svc.gateway.total_charged() == 3 * 4900 + 2 * 4900

    clock.set(at(2026, 5, 3, 12))  # day 3: the one that never reached the network
    report = renewal.run(svc)
    assert (report.renewed, report.collected, report.failed) == (0, 1, 0)
    assert svc.gateway.total_charged() == 6 * 4900
    for s in signed:
        assert all(i.status == "paid" and i.total == i.amount_paid + i.credit_applied
                   for i in stored.invoices(svc, s.account.id))
        assert sum(p.amount for p in stored.payments(svc, s.account.id)
                   if p.status == "succeeded") == 2 * 4900
    numbers = sorted(i.number for s in signed for i in stored.invoices(svc, s.account.id))
    assert numbers == [f"2026-{n:06d}" for n in range(1, 7)]


def test_a_renewal_charge_settled_meanwhile_is_not_settled_again(svc, clock) -> None:
    """Reconciliation (or anyone) settles a batch's charge between the charge and the
    batch's settling: the batch finds its intent settled and leaves the invoice, which it
    holds as it was issued, alone: one payment, one receipt, paid once."""
    signed = [sign_up(svc, email=f"p{n}@example.com") for n in range(3)]

    class SettledMeanwhile(DiesAfterCharging):
        def charge(self, card_token: str, amount_minor: int, currency: str,
                   idempotency_key: str) -> ChargeResult:
            result = self.real.charge(card_token, amount_minor, currency, idempotency_key)
            payments.settle(svc, idempotency_key, result)
            return result

    clock.set(at(2026, 5, 1))
    report = renewal.run(dataclasses.replace(svc, gateway=SettledMeanwhile(svc.gateway)))

    assert (report.renewed, report.collected, report.failed) == (3, 3, 0)
    for s in signed:
        renewed = stored.invoices(svc, s.account.id)[-1]
        assert (renewed.status, renewed.amount_paid, renewed.attempts) == ("paid", 4900, 0)
        assert [p.amount for p in stored.payments(svc, s.account.id)] == [4900, 4900]
        assert stored.kinds(svc, s.account.id).count("renewal_receipt") == 1
    assert svc.gateway.total_charged() == 6 * 4900


def test_an_intent_that_cannot_be_settled_does_not_hold_back_the_others(
        svc, clock, signed, caplog) -> None:
    """Two sign-ups with one email, both left pending by the card network's time-out (as
    before sign-ups held their address, or written by hand): the second cannot be settled
    (the email is taken by then). It is logged and left pending; the plan change behind it
    is settled all the same."""
    ada = admin_of(svc, signed.account.id)
    accounts.update_card(svc, ada, signed.account.id, TIMEOUT_CARD)
    for minute, email in ((0, "bea@example.com"), (30, "bea.too@example.com")):
        clock.set(at(2026, 4, 16, 8, minute))
        with pytest.raises(PaymentPending):
            sign_up(svc, email=email, card=TIMEOUT_CARD)
    readdress_pending_signup(svc, "bea.too@example.com", "bea@example.com", at(2026, 4, 16, 9))
    clock.set(at(2026, 4, 16, 9))
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    with pytest.raises(PaymentPending):
        quotes.confirm(svc, ada, signed.account.id, token)
    clock.advance(minutes=1)

    report = payments.reconcile_all(svc)

    assert report.settled == 2
    assert len(report.errors) == 1 and report.errors[0].startswith("sgn_")
    assert "could not settle payment intent sgn_" in caplog.text
    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    assert stored.count_rows(svc, "accounts") == 2  # Ada's and the first sign-up's
    assert svc.gateway.total_charged() == 4900 + 2 * 4900 + 4800
    with svc.database.transaction() as store:
        left = store.payments.pending_intents(svc.now(), 10)
    assert [(i.purpose, i.created_at) for i in left] == [("signup", at(2026, 4, 16, 8, 30))]


def test_settle_known_settles_a_charge_the_network_took_and_leaves_one_it_never_saw(
        svc, clock, signed) -> None:
    """What a retry of a dead request's Idempotency-Key does first (web/api/idempotency)."""
    ada, token = upgrade_dies(svc, clock, signed, DiesBeforeCharging)

    payments.settle_known(svc, signed.account.id)  # the network never saw it: left alone
    assert stored.subscription(svc, signed.account.id).config == config()
    with pytest.raises(ProcessDied):
        quotes.confirm(dying(svc), ada, signed.account.id, token)
    payments.settle_known(svc, signed.account.id)  # charged now: settled

    assert stored.subscription(svc, signed.account.id).config == config(tier="enterprise")
    assert [i.total for i in stored.invoices(svc, signed.account.id)] == [4900, 4800]
    assert svc.gateway.total_charged() == 4900 + 4800
