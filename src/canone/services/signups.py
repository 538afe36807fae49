"""Sign-up (SPEC §5): the form and its checks, the payment intent that charges the first
period, and its settlement, which creates the account, its primary admin, subscription and
first invoice."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.parties import BillingDetails, details_from_json, details_to_json
from canone.billing.periods import Period, period_containing
from canone.billing.pricing import CUSTOM, Price, price
from canone.billing.seller import document_date
from canone.services import (
    billing_details,
    einvoice_files,
    payment_methods,
    subscriptions,
    taxation,
)
from canone.services.accounts import LOCALES, check_email, hash_password
from canone.services.context import (
    Services,
    Settlement,
    local_date,
    local_midnight,
    new_id,
    record_change,
    subscription_json,
)
from canone.services.errors import InvalidBillingDetails, PaymentFailed, existing
from canone.services.passwords import check_new_password
from canone.services.payloads import CardOnFile, Settled, SignUpPayload
from canone.services.payments import PENDING, pay, settle
from canone.services.ports import CANCELED, REQUIRES_ACTION, Card, ChargeResult, StoredCard
from canone.services.records import (
    ACTIVE,
    PRIMARY_ADMIN,
    Account,
    AccountBillingDetails,
    Invoice,
    PaymentIntent,
    Subscription,
    User,
)
from canone.services.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignUp:
    name: str
    timezone: str
    locale: str
    currency: str
    admin_email: str
    admin_name: str
    admin_password: str
    config: Configuration
    card: Card | str  # typed (sandbox), or a Stripe payment method id (pm_…) with Stripe
    anchor: date | None = None
    billing_details: BillingDetails | None = None  # optional at sign-up (§8)


@dataclass(frozen=True)
class SignedUp:
    account: Account
    subscription: Subscription
    invoice: Invoice


def check_basics(catalog_currencies: tuple[str, ...], form: SignUp) -> None:
    if not form.name.strip():
        raise InvalidField("name", "required, the account's name")
    try:
        ZoneInfo(form.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", f"{form.timezone!r} is not an IANA time zone "
                           "such as Europe/Rome") from None
    if form.locale not in LOCALES:
        raise InvalidField("locale", "allowed: " + ", ".join(LOCALES))
    if form.currency not in catalog_currencies:
        raise InvalidField("currency", "allowed: " + ", ".join(catalog_currencies))
    if form.currency != form.config.currency:
        raise InvalidField("subscription.currency", "must be the account's currency "
                           f"{form.currency}")
    check_email(form.admin_email, "primary_admin.email")
    if not form.admin_name.strip():
        raise InvalidField("primary_admin.name", "required")
    check_new_password(form.admin_password, "primary_admin.password")


def sign_up(svc: Services, form: SignUp, request_key: str | None = None) -> SignedUp:
    """Create an account and charge its first period in full; a declined card creates
    nothing (SPEC §5)."""
    check_basics(svc.catalog.currencies, form)
    config, first, anchor, period = _first_period(svc, form)
    email = check_email(form.admin_email, "primary_admin.email")
    key = "sgn_" + (hashlib.sha256(request_key.encode()).hexdigest()[:40] if request_key
                    else new_id("x"))
    waiting: list[PaymentIntent] = []
    with svc.database.read() as store:
        started = store.payments.get_intent(key)
        if started is None:
            _check_no_account(store, email)
            waiting = store.payments.pending_signups_of(email)
    if started is not None:
        # The same request sent again (after 3-D Secure, a lost answer): the sign-up it
        # started goes on, its card neither checked nor saved again.
        return _signed_up(svc, pay(svc, started))
    details = _checked_details(svc, form.billing_details)
    payment_methods.check_given(svc, form.card)
    if waiting:  # given up only for a sign-up whose own fields are good
        _give_up_unauthenticated(svc, waiting)
        with svc.database.read() as store:
            _check_address_free(store, email)
    customer = _signup_customer(svc, form)
    card = payment_methods.store(svc, form.card, customer, form.currency)
    payload = SignUpPayload(
        account_id=new_id("acc"), name=form.name.strip(), timezone=form.timezone,
        locale=form.locale, currency=form.currency, email=email,
        admin_name=form.admin_name.strip(), config=config, anchor=anchor,
        period_start=period.start, period_end=period.end,
        card=CardOnFile(card.token, card.brand, card.last4, card.exp_month, card.exp_year,
                        card.country, card.kind),
        billing_details=details, payment_customer=customer,
        # The tax is decided now, with the amount charged: settling later (a lost answer
        # reconciled) must not find another rate.
        taxed_at=svc.now())
    charged = taxation.charge(first.lines, _signup_terms(svc, payload).treatment, 0)
    with svc.database.transaction() as store:
        intent = store.payments.get_intent(key)
        if intent is None:
            # Asked again under the address's lock: of two sign-ups for one address sent
            # together, only one may charge a card (the other could never be settled).
            store.payments.lock_signups_of(email)
            _check_address_free(store, email)
            intent = PaymentIntent(
                key=key, account_id=None, purpose="signup", amount=charged.amount_paid,
                currency=config.currency, card_token=card.token, payload=payload.to_json(),
                status=PENDING, created_at=svc.now(),
                # Hashed now, while the password is at hand; kept beside the payload until
                # the account is created (see payloads.SignUpPayload).
                password_hash=hash_password(form.admin_password))
            store.payments.add_intent(intent)
    return _signed_up(svc, pay(svc, intent))


REPLACED = ("A new sign-up for this address replaced this one before the bank's "
            "authentication was finished; nothing was charged.")


def _give_up_unauthenticated(svc: Services, waiting: list[PaymentIntent]) -> None:
    """Sign-ups for the address that are still pending here, asked of the provider first:
    one left at the customer's bank challenge (3-D Secure never finished: the customer
    closed it and tries again, maybe with another card) is cancelled there and settled as
    failed, rather than holding the address until reconciliation gives it up a day later;
    one the provider has finished (a challenge completed in a tab closed since) is settled
    as reconciliation would settle it. Any other (an answer lost to a timeout, a debit
    processing) may be taking money: it keeps the address (`_check_address_free`)."""
    for intent in waiting:
        if intent.provider_id is None:
            continue
        try:
            found = svc.gateway.charge_outcome(intent.provider_id)
            if found.status == REQUIRES_ACTION:
                found = svc.gateway.cancel_charge(intent.provider_id)
                if found.status == CANCELED:
                    found = ChargeResult(CANCELED, None, REPLACED)
            if found.final:
                settle(svc, intent.key, found)
        except PaymentFailed:
            pass  # settled as failed: what giving it up means
        except Exception as exc:  # whatever it was (no answer, an error of the provider's),
            # the pending sign-up keeps the address and this one is refused (a 422, not 500)
            log.warning("pending sign-up %s not settled for a new sign-up: %s", intent.key,
                        exc)


def _check_no_account(store: Store, email: str) -> None:
    if store.people.user_by_email(email) is not None:
        raise InvalidField("primary_admin.email", "is already used by another account")


def _check_address_free(store: Store, email: str) -> None:
    _check_no_account(store, email)
    if store.payments.pending_signups_of(email):
        raise InvalidField("primary_admin.email", "is used by a sign-up whose payment is not "
                           "settled yet: wait for its outcome, then sign in or try again")


def _first_period(svc: Services, form: SignUp) -> tuple[Configuration, Price, date, Period]:
    """The configuration signed up for (validated), its price, the anchor, and the first
    period billed."""
    try:
        config = validate(svc.catalog, form.config)
    except InvalidField as exc:
        raise exc.under("subscription") from None
    first = price(svc.catalog, config)
    if first.status == CUSTOM:
        raise InvalidField("subscription", "this configuration has a custom price; "
                           "contact sales")
    today = local_date(svc.now(), form.timezone)
    anchor = form.anchor or today
    if anchor > today:
        raise InvalidField("anchor", f"must not be after today ({today.isoformat()} in "
                           f"{form.timezone})")
    # The anchor fixes the billing day; the first period billed is the one holding today.
    return config, first, anchor, period_containing(anchor, config.interval, today)


def _signed_up(svc: Services, result: Settled) -> SignedUp:
    with svc.database.read() as store:
        account_id = existing(result.account_id, "the sign-up's account")
        account = existing(store.accounts.get(account_id), "account")
        sub = existing(store.subscriptions.of_account(account_id), "subscription")
        invoice = existing(store.invoices.get(existing(result.invoice_id, "the sign-up's "
                                                       "invoice")), "invoice")
    return SignedUp(account, sub, invoice)


def _signup_customer(svc: Services, form: SignUp) -> str | None:
    """With Stripe, the customer the payment method is saved to; the account does not
    exist yet, so the payment method (attached to one customer only) keys it."""
    provider = payment_methods.hosted(svc)
    if provider is None or not isinstance(form.card, str):
        return None
    return provider.create_customer(f"signup_{form.card}", form.name.strip())


def _checked_details(svc: Services, typed: BillingDetails | None) -> dict[str, Any] | None:
    """Sign-up's billing details, checked (fields named under `billing_details`) and with
    VIES's answer, as the sign-up's payment intent keeps them until the account exists.
    While the seller files e-invoices they are required: the first invoice is a FatturaPA
    file, which names the customer (§8)."""
    if typed is None and einvoice_files.filing(svc) is not None:
        required = "required: the seller files every invoice as an e-invoice"
        raise InvalidBillingDetails({f"billing_details.{field}": required
                                     for field in billing_details.REQUIRED})
    if typed is None:
        return None
    try:
        details = billing_details.check_billing_details(typed)
    except InvalidBillingDetails as exc:
        raise exc.under("billing_details") from None
    return {"details": details_to_json(details),
            "vies": billing_details.vies_to_json(billing_details.vies_check(svc, details))}


def _signup_terms(svc: Services, payload: SignUpPayload) -> taxation.DocumentTerms:
    """The first invoice's terms: the tax from the billing details typed at sign-up (the
    account has none saved yet) as it was when the amount was charged, the date today."""
    checked, taxed_at = payload.billing_details, payload.taxed_at
    at = taxed_at or svc.now()
    if checked is None:
        terms = taxation.terms_for(svc.seller, None, False, at)
    else:
        vies = billing_details.vies_from_json(checked["vies"])
        terms = taxation.terms_for(svc.seller, details_from_json(checked["details"]),
                                   vies is not None and vies.confirmed, at)
    if taxed_at is None:  # a sign-up paid before taxes: invoiced net, as it was charged
        terms = dataclasses.replace(terms, treatment=None)
    return dataclasses.replace(terms, issued_on=document_date(svc.now()))


def _complete_signup(svc: Services, store: Store, intent: PaymentIntent,
                     outcome: ChargeResult) -> Settled:
    p = SignUpPayload.from_json(intent.payload)
    now = svc.now()
    c = p.card
    account = Account(p.account_id, p.name, p.timezone, p.locale, p.currency, ACTIVE, False,
                      StoredCard(c.token, c.brand, c.last4, c.exp_month, c.exp_year, c.country,
                                 c.kind), now)
    store.accounts.add(account)
    if p.payment_customer:
        store.accounts.save_payment_customer(account.id, p.payment_customer)
    password_hash = existing(intent.password_hash, "the sign-up's password")
    store.people.add_user(User(new_id("usr"), account.id, p.email, p.admin_name, PRIMARY_ADMIN,
                               True, True, password_hash))
    config, start, end = p.config, p.period_start, p.period_end
    sub = Subscription(new_id("sub"), account.id, config, p.anchor, start, end,
                       local_midnight(end, account.timezone), ACTIVE, None, False, 1)
    store.subscriptions.add(sub)
    record_change(svc, store, account_id=account.id, actor=f"user:{p.email}",
                  action="account.created", before=None, after=subscription_json(sub),
                  event="subscription.created")
    if p.billing_details:
        details = p.billing_details
        billing_details.store_details(svc, store, AccountBillingDetails(
            account.id, details_from_json(details["details"]),
            billing_details.vies_from_json(details["vies"]), None, now), None,
            f"user:{p.email}")
    lines = price(svc.catalog, config).lines
    terms = _signup_terms(svc, p)
    invoice = subscriptions.issue_paid_invoice(
        svc, store, account, sub, "signup", lines, start, end,
        intent.but(account_id=account.id), outcome, terms,
        taxation.charge(lines, terms.treatment, 0))
    return Settled(invoice_id=invoice.id, account_id=account.id)


def _signup_failed(svc: Services, store: Store, intent: PaymentIntent,
                   outcome: ChargeResult) -> None:
    """A declined sign-up creates nothing: the failed intent alone remembers it."""


# How a "signup" intent is settled (wired in bootstrap.settlements()).
SIGNUP_SETTLEMENT = Settlement(_complete_signup, _signup_failed)
