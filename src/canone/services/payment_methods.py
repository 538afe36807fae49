"""Cards and bank accounts on file (SPEC §7, §9). With the sandbox, a card's number is
typed to canone and stored by the sandbox network; with Stripe, no number ever reaches
canone: Stripe's form (Elements, on a SetupIntent of the account's Stripe customer) makes a
payment method, and canone keeps its id, brand, last four digits and expiry."""

from __future__ import annotations

from canone.billing.errors import InvalidField
from canone.services.access import Actor, load_account, require_billing
from canone.services.context import Services
from canone.services.errors import PaymentFailed, ProviderMismatch, existing
from canone.services.ports import (
    SEPA_DEBIT,
    Card,
    CardRejected,
    HostedPaymentMethods,
    SetupSession,
    StoredCard,
)

NO_NUMBERS = ("Card numbers never reach canone with Stripe: collect the card with Stripe"
              " Elements (a SetupIntent from POST /api/v1/accounts/{id}/setup-intents) and"
              " send its payment method as `stripe_payment_method`.")
ONLY_STRIPE = ("`stripe_payment_method` is for Stripe; this canone charges the sandbox card"
               " network: send the card's number, exp_month, exp_year and cvc.")


def hosted(svc: Services) -> HostedPaymentMethods | None:
    """The provider's own card form, when the gateway has one (Stripe)."""
    gateway = svc.gateway
    return gateway if isinstance(gateway, HostedPaymentMethods) else None


def check_given(svc: Services, given: Card | str) -> None:
    """A card number with Stripe, or a Stripe payment method with the sandbox: 422."""
    if hosted(svc) is not None and isinstance(given, Card):
        raise InvalidField("payment_method.number", NO_NUMBERS)
    if hosted(svc) is None and isinstance(given, str):
        raise InvalidField("payment_method.stripe_payment_method", ONLY_STRIPE)


SEPA_EUR_ONLY = ("SEPA Direct Debit is for accounts billed in EUR: use a card for this"
                 " account.")


def is_sepa(card: StoredCard | None) -> bool:
    """A bank account debited by SEPA Direct Debit, not a card."""
    return card is not None and card.kind == SEPA_DEBIT


def store(svc: Services, given: Card | str, customer: str | None,
          currency: str = "EUR") -> StoredCard:
    """The card (sandbox) or the provider's payment method (Stripe, saved to `customer`) as
    canone keeps it. A typed card that is malformed is a 422 naming the part; a payment
    method the provider refuses to save (e.g. declined) is a 402 with its message; a SEPA
    bank account for an account not billed in EUR (`currency`) is a 422."""
    stored = _store(svc, given, customer)
    if is_sepa(stored) and currency != "EUR":
        raise InvalidField("payment_method.stripe_payment_method", SEPA_EUR_ONLY)
    return stored


def _store(svc: Services, given: Card | str, customer: str | None) -> StoredCard:
    check_given(svc, given)
    provider = hosted(svc)
    if isinstance(given, Card):  # check_given let it through: the sandbox takes it
        try:
            return svc.gateway.store_card(given)
        except CardRejected as exc:
            raise InvalidField(f"payment_method.{exc.field}", exc.message) from None
    if provider is None:
        raise InvalidField("payment_method.stripe_payment_method", ONLY_STRIPE)
    try:
        return provider.save_payment_method(
            existing(customer, "the account's customer at the payment provider"), given)
    except CardRejected as exc:
        raise PaymentFailed(exc.message, "card_declined") from None


def customer_of(svc: Services, account_id: str) -> str:
    """The account's customer at the provider, made and kept on first use."""
    provider = hosted(svc)
    if provider is None:
        raise InvalidField("payment_method.stripe_payment_method", ONLY_STRIPE)
    with svc.database.read() as found:
        known = found.accounts.payment_customer_of(account_id)
        account = found.accounts.get(account_id)
    if known is not None:
        return known
    account = existing(account, "account")
    customer = provider.create_customer(account_id, account.name)
    return keep_customer(svc, account_id, customer)


def keep_customer(svc: Services, account_id: str, customer: str) -> str:
    """Store the account's customer; the one stored first stays."""
    with svc.database.transaction() as saved:
        saved.accounts.save_payment_customer(account_id, customer)
        kept = saved.accounts.payment_customer_of(account_id)
    return existing(kept, "payment customer")


def start_setup(svc: Services, actor: Actor, account_id: str,
                kind: str | None = None) -> SetupSession:
    """A SetupIntent for the account's card (and, for EUR accounts, SEPA Direct Debit),
    for Stripe's form; the account's customer made on first use. `kind` "sepa_debit" or
    "card": for that one only (the page's IBAN field, its card field); a SEPA one for an
    account not billed in EUR is a 422."""
    if kind not in (None, "card", "sepa_debit"):
        raise InvalidField("kind", "must be card or sepa_debit")
    with svc.database.read() as found:
        account = load_account(found, actor, account_id)
        require_billing(found, actor, account_id, "set up a payment method")
    provider = hosted(svc)
    if provider is None:
        raise ProviderMismatch("Setting up a payment method with the provider's form is for"
                               " Stripe; this canone charges the sandbox card network, which"
                               " takes the card's number (PUT .../payment-method).")
    methods = ("card", "sepa_debit") if account.currency == "EUR" else ("card",)
    if kind is not None and kind not in methods:
        raise InvalidField("kind", SEPA_EUR_ONLY)
    return provider.start_setup(customer_of(svc, account_id),
                                methods if kind is None else (kind,))
