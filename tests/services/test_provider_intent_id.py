"""The provider's intent id is stored in canone's intent before it is confirmed (SPEC §9),
so that a crash between opening and confirming, or between confirming and settling, is
recovered by that id: never a second intent at the provider, never a second charge."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

import stored
from canone.db.database import Database
from canone.integrations.payments.stripe import StripeGateway
from canone.services import payments, quotes, renewal
from canone.services.context import Services
from canone.services.ports import ChargeRequest, ChargeResult
from canone.services.records import PaymentIntent
from stripefixtures import TEST_KEY, LocalStripe

from .conftest import admin_of, at, config, sign_up


class ProcessDied(BaseException):
    """Stands for the process dying: nothing after it runs (not an Exception)."""


class Dies:
    """A gateway whose process dies once, before or after confirming an opened intent."""

    def __init__(self, real: object, after_confirming: bool) -> None:
        self.real = real
        self.after_confirming = after_confirming
        self.opened: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def open_charge(self, request: ChargeRequest) -> str:
        provider_id: str = self.real.open_charge(request)  # type: ignore[attr-defined]
        self.opened.append(provider_id)
        return provider_id

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        if self.after_confirming:
            self.real.confirm_charge(provider_id, request)  # type: ignore[attr-defined]
        raise ProcessDied()


@pytest.fixture
def stripe_svc(svc: Services, stripe_base: str) -> Services:
    return dataclasses.replace(svc, gateway=StripeGateway(TEST_KEY, api_base=stripe_base,
                                                          network_retries=0))


def stored_intent(svc: Services, key: str) -> PaymentIntent:
    with svc.database.read() as store:
        intent = store.payments.get_intent(key)
    assert intent is not None
    return intent


def only_intent(svc: Services, account_id: str, purpose: str) -> PaymentIntent:
    with svc.database.read() as store:
        intent = store.payments.pending_intent_of(account_id)
    assert intent is not None and intent.purpose == purpose
    return intent


def upgrade_dies(svc: Services, after_confirming: bool,
                 localstripe: LocalStripe | None = None) -> tuple[str, str, PaymentIntent]:
    """Ada upgrades to enterprise; the process dies around confirming, the provider's id of
    the intent it opened already stored. (account, quote token, the stored intent). With
    Stripe, her card is a payment method from Elements."""
    signed = (sign_up(svc) if localstripe is None else
              sign_up(svc, card=localstripe.card_method("4242424242424242")))  # type: ignore[arg-type]
    ada = admin_of(svc, signed.account.id)
    svc.clock.set(at(2026, 4, 16))  # type: ignore[attr-defined]
    token = quotes.preview(svc, ada, signed.account.id, config(tier="enterprise")).token
    dies = Dies(svc.gateway, after_confirming)
    with pytest.raises(ProcessDied):
        quotes.confirm(dataclasses.replace(svc, gateway=dies), ada, signed.account.id, token)
    intent = only_intent(svc, signed.account.id, "change")
    assert intent.provider_id == dies.opened[0]
    return signed.account.id, token, intent


def test_the_provider_id_round_trips(database: Database) -> None:
    intent = PaymentIntent(key="chg_1", account_id=None, purpose="change", amount=4800,
                           currency="USD", card_token="pm_1", payload={}, status="pending",
                           created_at=datetime(2026, 4, 16, 9, tzinfo=UTC))
    with database.transaction() as store:
        store.payments.add_intent(intent)
    with database.transaction() as store:
        store.payments.save_provider_ids([("chg_1", "pi_1")])
    with database.transaction() as store:
        saved = store.payments.get_intent("chg_1")
        assert saved == intent.but(provider_id="pi_1")
        store.payments.save_intent(intent.but(status="succeeded", provider_id="pi_1"))
    with database.read() as store:
        assert store.payments.get_intent("chg_1") == intent.but(status="succeeded",
                                                                provider_id="pi_1")
        assert store.payments.intents_by_key(["chg_1"])["chg_1"].provider_id == "pi_1"


def test_stripe_a_crash_before_confirming_is_recovered_by_the_stored_id(
        stripe_svc: Services, localstripe: LocalStripe) -> None:
    account_id, token, intent = upgrade_dies(
        stripe_svc, after_confirming=False, localstripe=localstripe)

    assert intent.status == "pending"
    ada = admin_of(stripe_svc, account_id)
    done = quotes.confirm(stripe_svc, ada, account_id, token)  # the request runs again

    assert done.invoice.status == "paid"
    assert stored.subscription(stripe_svc, account_id).config == config(tier="enterprise")
    changes = [pi for pi in localstripe.payment_intents()
               if pi["metadata"] == {"canone_intent": intent.key}]
    assert [(pi["id"], pi["status"], pi["amount"]) for pi in changes] == [
        (intent.provider_id, "succeeded", done.invoice.amount_paid)]
    assert stored_intent(stripe_svc, intent.key).status == "succeeded"


def test_stripe_a_crash_after_confirming_is_settled_by_the_stored_id(
        stripe_svc: Services, localstripe: LocalStripe) -> None:
    account_id, _, intent = upgrade_dies(
        stripe_svc, after_confirming=True, localstripe=localstripe)

    stripe_svc.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert payments.reconcile(stripe_svc) == 1
    assert payments.reconcile(stripe_svc) == 0

    assert stored.subscription(stripe_svc, account_id).config == config(tier="enterprise")
    assert [(i.kind, i.status) for i in stored.invoices(stripe_svc, account_id)] == [
        ("signup", "paid"), ("upgrade", "paid")]
    changes = [pi for pi in localstripe.payment_intents()
               if pi["metadata"] == {"canone_intent": intent.key}]
    assert [(pi["id"], pi["status"]) for pi in changes] == [(intent.provider_id, "succeeded")]
    assert len(localstripe.payment_intents()) == 2  # the sign-up's and the upgrade's


def test_stripe_reconciliation_cancels_an_intent_opened_and_never_confirmed(
        stripe_svc: Services, localstripe: LocalStripe) -> None:
    """Nobody is there to pay any more: nothing is charged behind the customer's back."""
    account_id, _, intent = upgrade_dies(
        stripe_svc, after_confirming=False, localstripe=localstripe)

    stripe_svc.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert payments.reconcile(stripe_svc) == 1

    assert stored_intent(stripe_svc, intent.key).status == "failed"
    assert stored.subscription(stripe_svc, account_id).config == config()
    changes = [pi for pi in localstripe.payment_intents()
               if pi["metadata"] == {"canone_intent": intent.key}]
    assert [(pi["id"], pi["status"]) for pi in changes] == [(intent.provider_id, "canceled")]


def test_sandbox_a_crash_before_confirming_is_recovered_by_the_stored_id(svc: Services) -> None:
    account_id, token, intent = upgrade_dies(svc, after_confirming=False)
    charged_before = svc.gateway.total_charged()  # type: ignore[attr-defined]

    done = quotes.confirm(svc, admin_of(svc, account_id), account_id, token)

    assert stored.subscription(svc, account_id).config == config(tier="enterprise")
    assert svc.gateway.total_charged() == charged_before + done.invoice.amount_paid  # type: ignore[attr-defined]
    assert svc.gateway.charge_outcome(intent.provider_id).status == "succeeded"
    assert [p.status for p in stored.payments(svc, account_id)] == ["succeeded", "succeeded"]


def test_sandbox_a_crash_after_confirming_is_settled_by_the_stored_id(svc: Services) -> None:
    account_id, _, intent = upgrade_dies(svc, after_confirming=True)
    charged = svc.gateway.total_charged()  # type: ignore[attr-defined]

    svc.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert payments.reconcile(svc) == 1

    assert stored.subscription(svc, account_id).config == config(tier="enterprise")
    assert svc.gateway.total_charged() == charged  # type: ignore[attr-defined]
    assert svc.gateway.charge_outcome(intent.provider_id).status == "succeeded"


def test_a_renewal_batch_stores_its_provider_ids_in_one_transaction(svc: Services) -> None:
    accounts = [sign_up(svc, email=f"p{n}@example.com").account.id for n in range(3)]
    svc.clock.set(at(2026, 5, 1))  # type: ignore[attr-defined]
    opened = []
    original = payments._store_provider_ids

    def counted(svc: Services, ids: list[tuple[str, str]]) -> None:
        if ids:  # an empty list opens no transaction
            opened.append(len(ids))
        original(svc, ids)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(payments, "_store_provider_ids", counted)
        report = renewal.run(svc)

    assert (report.renewed, report.collected) == (3, 3)
    assert opened == [3]
    keys = [f"col_{invoice.id}_1" for account_id in accounts
            for invoice in stored.invoices(svc, account_id) if invoice.kind == "renewal"]
    with svc.database.read() as store:
        renewals = store.payments.intents_by_key(keys)
    assert len(renewals) == 3
    assert all(i.status == "succeeded" and i.provider_id is not None
               and svc.gateway.charge_outcome(i.provider_id).key == i.key
               for i in renewals.values())


def test_stripe_a_renewal_on_a_card_stripe_no_longer_takes_fails_alone(
        stripe_svc: Services, localstripe: LocalStripe) -> None:
    """A payment method detached at Stripe cannot be charged: that renewal fails with the
    reason and is retried; the others of the batch are paid."""
    accounts = [sign_up(stripe_svc, email=f"p{n}@example.com",
                        card=localstripe.card_method("4242424242424242")).account.id  # type: ignore[arg-type]
                for n in range(2)]
    with stripe_svc.database.transaction() as store:
        gone = store.accounts.get(accounts[0])
        assert gone is not None and gone.card is not None
        store.accounts.save(gone.but(card=dataclasses.replace(
            gone.card, token=localstripe.card_method("4242424242424242"))))
    stripe_svc.clock.set(at(2026, 5, 1))  # type: ignore[attr-defined]

    report = renewal.run(stripe_svc)

    assert (report.renewed, report.collected, report.failed) == (2, 1, 1)
    assert [(p.status, p.message) for p in stored.payments(stripe_svc, accounts[0])][-1] == (
        "failed", "The payment method is not saved to a customer; save it first.")
    assert stored.invoices(stripe_svc, accounts[1])[-1].status == "paid"
