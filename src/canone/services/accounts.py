"""Sign-up, people, cards and settings of an account."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.parties import BillingDetails, details_from_json, details_to_json
from canone.billing.periods import period_containing
from canone.billing.pricing import CUSTOM, price
from canone.billing.seller import document_date
from canone.services import (
    billing_details,
    collection,
    einvoice_files,
    payment_methods,
    subscriptions,
    taxation,
)
from canone.services.access import (
    Actor,
    load_account,
    require_billing,
    require_primary_admin,
    require_staff,
)
from canone.services.context import (
    Services,
    Settlement,
    local_date,
    local_midnight,
    new_id,
    record_change,
    subscription_json,
)
from canone.services.errors import InvalidBillingDetails, NoFreeSeat, existing
from canone.services.passwords import check_new_password
from canone.services.payloads import CardOnFile, Settled, SignUpPayload
from canone.services.payments import PENDING, pay
from canone.services.ports import Card, ChargeResult, StoredCard
from canone.services.records import (
    ACTIVE,
    ADMIN,
    PRIMARY_ADMIN,
    USER,
    Account,
    AccountBillingDetails,
    Invoice,
    PaymentIntent,
    Subscription,
    User,
)
from canone.services.store import Store

LOCALES = ("en", "it")
# A plain address: no white space or control characters, and none of the characters that
# make a quoted local part or a display name ('"a\\nb"@example.com' is one address to us
# and another to a mail server), which no mailbox of a person needs.
_ADDRESS_CHAR = r'[^@\s"\\(),:;<>\[\]\x00-\x1f\x7f]'
EMAIL = re.compile(rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one of `password_hash`. With no hash (no such person) the
    same argon2 work is done against a stand-in hash, so a wrong password takes as long for
    an unknown email as for a known one: the time of the answer does not tell which
    emails have an account."""
    try:
        return _hasher.verify(password_hash or _stand_in_hash(), password) and (
            password_hash is not None)
    except (VerificationError, InvalidHashError):
        return False


_stand_in: tuple[PasswordHasher, str] | None = None


def _stand_in_hash() -> str:
    """A hash of a random password made by the current hasher (argon2's cost is set by the
    parameters stored in the hash, so it must have the real hashes' parameters)."""
    global _stand_in
    hasher = _hasher
    if _stand_in is None or _stand_in[0] is not hasher:
        _stand_in = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _stand_in[1]


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


def is_plain_email(email: str) -> bool:
    return EMAIL.fullmatch(email or "") is not None


def check_email(email: str, field: str) -> str:
    if not is_plain_email((email or "").strip()):
        raise InvalidField(field, "must be an email address like name@example.com")
    return email.strip().lower()


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
    period = period_containing(anchor, config.interval, today)
    email = check_email(form.admin_email, "primary_admin.email")
    key = "sgn_" + (hashlib.sha256(request_key.encode()).hexdigest()[:40] if request_key
                    else new_id("x"))
    with svc.database.read() as store:
        started = store.payments.get_intent(key)
        if started is None and store.people.user_by_email(email) is not None:
            raise InvalidField("primary_admin.email", "is already used by another account")
    if started is not None:
        # The same request sent again (after 3-D Secure, a lost answer): the sign-up it
        # started goes on, its card neither checked nor saved again.
        return _signed_up(svc, pay(svc, started))
    details = _checked_details(svc, form.billing_details)
    customer = _signup_customer(svc, form, email)
    card = payment_methods.store(svc, form.card, customer, form.currency)
    payload = SignUpPayload(
        account_id=new_id("acc"), name=form.name.strip(), timezone=form.timezone,
        locale=form.locale, currency=form.currency, email=email,
        admin_name=form.admin_name.strip(), config=config, anchor=anchor,
        period_start=period.start, period_end=period.end,
        card=CardOnFile(card.token, card.brand, card.last4, card.exp_month, card.exp_year),
        billing_details=details, payment_customer=customer,
        # The tax is decided now, with the amount charged: settling later (a lost answer
        # reconciled) must not find another rate.
        taxed_at=svc.now())
    charged = taxation.charge(first.lines, _signup_terms(svc, payload).treatment, 0)
    with svc.database.transaction() as store:
        intent = store.payments.get_intent(key)
        if intent is None:
            intent = PaymentIntent(
                key=key, account_id=None, purpose="signup", amount=charged.amount_paid,
                currency=config.currency, card_token=card.token, payload=payload.to_json(),
                status=PENDING, created_at=svc.now(),
                # Hashed now, while the password is at hand; kept beside the payload until
                # the account is created (see payloads.SignUpPayload).
                password_hash=hash_password(form.admin_password))
            store.payments.add_intent(intent)
    return _signed_up(svc, pay(svc, intent))


def _signed_up(svc: Services, result: Settled) -> SignedUp:
    with svc.database.read() as store:
        account_id = existing(result.account_id, "the sign-up's account")
        account = existing(store.accounts.get(account_id), "account")
        sub = existing(store.subscriptions.of_account(account_id), "subscription")
        invoice = existing(store.invoices.get(existing(result.invoice_id, "the sign-up's "
                                                       "invoice")), "invoice")
    return SignedUp(account, sub, invoice)


def _signup_customer(svc: Services, form: SignUp, email: str) -> str | None:
    """With Stripe, the customer the payment method is saved to; the account does not
    exist yet, so the payment method (attached to one customer only) keys it."""
    payment_methods.check_given(svc, form.card)
    provider = payment_methods.hosted(svc)
    if provider is None or not isinstance(form.card, str):
        return None
    return provider.create_customer(f"signup_{form.card}", email, form.name.strip())


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
                      StoredCard(c.token, c.brand, c.last4, c.exp_month, c.exp_year), now)
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


def update_card(svc: Services, actor: Actor, account_id: str, card: Card | str) -> Account:
    """Replace the card on file (typed, or with Stripe a payment method id), then collect
    what the account owes with it."""
    with svc.database.read() as store:
        currency = load_account(store, actor, account_id).currency
        require_billing(store, actor, account_id, "update the card")
    payment_methods.check_given(svc, card)
    customer = (payment_methods.customer_of(svc, account_id)
                if isinstance(card, str) else None)
    stored = payment_methods.store(svc, card, customer, currency)
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id, lock=True)
        new = account.but(card=stored)
        store.accounts.save(new)
        record_change(svc, store, account_id=account_id, actor=actor.name,
                      action="account.card_updated", before={"card": _card(account.card)},
                      after={"card": _card(stored)}, event="account.updated")
    collection.collect_account(svc, account_id)  # what it owes, past due or awaiting a retry
    with svc.database.read() as store:
        fresh = existing(store.accounts.get(account_id), f"account {account_id}")
    return fresh


def _card(card: StoredCard | None) -> dict[str, Any] | None:
    return None if card is None else {"brand": card.brand, "last4": card.last4,
                                      "exp": f"{card.exp_month:02d}/{card.exp_year}"}


def set_auto_upgrade(svc: Services, actor: Actor, account_id: str, on: bool) -> Account:
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id, lock=True)
        require_primary_admin(store, actor, account_id, "change auto-upgrade")
        sub = store.subscriptions.of_account(account_id)
        if on and sub is not None and sub.config.contacts is None:
            raise InvalidField("auto_upgrade", "this plan has no contact limit to raise")
        new = account.but(auto_upgrade=on)
        store.accounts.save(new)
        record_change(svc, store, account_id=account_id, actor=actor.name,
                      action="account.auto_upgrade", before={"auto_upgrade": account.auto_upgrade},
                      after={"auto_upgrade": on}, event="account.updated")
        return new


def add_user(svc: Services, actor: Actor, account_id: str, email: str, name: str,
             password: str, role: str = USER, billing: bool = False) -> User:
    if role not in (ADMIN, USER):
        raise InvalidField("role", "allowed: admin, user")
    email = check_email(email, "email")
    check_new_password(password, "password")
    with svc.database.transaction() as store:
        load_account(store, actor, account_id)
        require_primary_admin(store, actor, account_id, "add users")
        if store.people.user_by_email(email) is not None:
            raise InvalidField("email", "is already used")
        _check_free_seat(store, account_id)
        user = User(new_id("usr"), account_id, email, name, role, billing and role == ADMIN,
                    True, hash_password(password))
        store.people.add_user(user)
        record_change(svc, store, account_id=account_id, actor=actor.name, action="user.added",
                      before=None, after={"email": email, "role": role, "billing": user.billing})
        return user


def _check_free_seat(store: Store, account_id: str) -> None:
    """Another active user needs a seat, now and after a scheduled reduction: seats are
    never fewer than active users (the host product may report more than canone counts)."""
    sub = store.subscriptions.of_account(account_id)
    if sub is None:
        return
    seats = min(sub.config.seats, sub.pending.seats if sub.pending else sub.config.seats)
    usage = store.usage.of_account(account_id)
    counted = sum(1 for user in store.people.users_of(account_id) if user.active)
    after = max(counted + 1, usage.active_users if usage else 0)
    if after > seats:
        raise NoFreeSeat(f"every user seat is taken ({after - 1} active users, {seats} "
                         "seats): add a seat on the Billing & Upgrade page first")


def authenticate(svc: Services, email: str, password: str) -> str | None:
    """The principal ("user:<id>" or "staff:<id>") these credentials sign in, or None.
    Exactly one password check is made whoever the email belongs to, if anyone."""
    email = email.strip().lower()
    with svc.database.read() as store:
        user = store.people.user_by_email(email)
        staff = store.people.staff_by_email(email) if user is None else None
    if user is not None:
        ok = password_matches(user.password_hash, password) and user.active
        return f"user:{user.id}" if ok else None
    if password_matches(staff.password_hash if staff else None, password):
        return None if staff is None else f"staff:{staff.id}"
    return None


def find_accounts(svc: Services, actor: Actor, text: str | None, limit: int, after: str | None
                  ) -> list[Account]:
    """Accounts whose name, id or a user's email contains `text` (None: every account), by
    id after the cursor `after`. Staff and operators only."""
    require_staff(actor, "list accounts")
    with svc.database.read() as store:
        return store.accounts.find(text, limit, after)


def account_of(svc: Services, actor: Actor, account_id: str) -> Account:
    with svc.database.read() as store:
        return load_account(store, actor, account_id)
