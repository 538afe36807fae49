"""Stripe behind the payment port (SPEC §9), through the official SDK's `StripeClient`.

Charging is two steps, so that no outcome is ever lost: `open_charge` creates the
PaymentIntent (unconfirmed) and gives its id, which the caller stores in its own intent;
`confirm_charge` confirms it; after a crash or a time-out `charge_outcome` retrieves it by
that id, and nothing opens a second one. Every request carries an idempotency key derived
from canone's intent key (one per invoice or quote, and attempt) and the operation, so the
SDK's own retries and ours are answered once by Stripe. Amounts are integer minor units;
every intent names its `payment_method_types`; Stripe is given no email address to send
receipts to (no customer `email`, no `receipt_email`): canone sends its own. A SEPA
mandate's email is the payment method's `billing_details`, set by Stripe.js, not a receipt
address.

Cards and bank accounts are collected by Stripe Elements on a SetupIntent; canone only ever
sees a payment method id (`save_payment_method`), never a number.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import stripe

from canone.services.ports import (
    AUTHENTICATION_FAILED,
    AUTHENTICATION_REQUIRED,
    CANCELED,
    DECLINED,
    INSUFFICIENT_FUNDS,
    PROCESSING,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    REQUIRES_ACTION,
    REQUIRES_CONFIRMATION,
    SUCCEEDED,
    BelowMinimumCharge,
    Card,
    CardRejected,
    ChargeRequest,
    ChargeResult,
    Dispute,
    GatewayTimeout,
    RefundRefused,
    RefundResult,
    SavedMethod,
    SetupSession,
    StoredCard,
)

if TYPE_CHECKING:
    from stripe.params import PaymentIntentConfirmParams, RefundCreateParams

# Stripe's code for a 3-D Secure challenge the customer failed, and canone's words for it
# (Stripe's own, "The provided PaymentMethod has failed authentication", say less).
AUTHENTICATION_FAILURE_CODE = "payment_intent_authentication_failure"
AUTHENTICATION_FAILED_TEXT = ("The bank could not authenticate this payment; nothing was"
                              " charged. Try again or use another card.")
# Stripe's minimum charge, 0.50 in the account's currency (SPEC §9); canone's currencies
# all have two decimals.
MINIMUM_CHARGE_MINOR = 50
PAYMENT_METHOD_KINDS = ("card", "sepa_debit")
TIMEOUT_SECONDS = 30.0
# The SDK retries a request whose answer was lost, with the same idempotency key.
NETWORK_RETRIES = 2

# An answer that says nothing about whether money moved: settle it by retrieving later.
_UNKNOWN_OUTCOME = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def pinned_api_version() -> str:
    """The Stripe API version the installed SDK is made for (its default)."""
    return str(stripe.api_version)


def idempotency_key(key: str, operation: str) -> str:
    """The key of one Stripe request: canone's intent key (which holds the attempt) and
    what the request does, e.g. `canone-col_inv_1_2-confirm`."""
    return f"canone-{key}-{operation}"


class StripeGateway:
    """A PaymentGateway and HostedPaymentMethods on Stripe."""

    def __init__(self, secret_key: str, api_version: str | None = None,
                 api_base: str | None = None, network_retries: int = NETWORK_RETRIES,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.api_version = api_version or pinned_api_version()
        self.client = stripe.StripeClient(
            secret_key, stripe_version=self.api_version,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    # -- customers and payment methods (HostedPaymentMethods) -----------------------------

    def store_card(self, card: Card) -> StoredCard:
        """Never: with Stripe no card number reaches canone (SPEC §9)."""
        raise CardRejected("number", "With Stripe, canone takes no card numbers: enter the"
                                     " card in Stripe's form on the billing page, or send a"
                                     " Stripe payment method as `stripe_payment_method`.")

    def create_customer(self, account_id: str, name: str) -> str:
        # No `email`: Stripe would email its receipts to it when the dashboard's "Successful
        # payments" is on. The name and canone's account id let staff find the customer.
        customer = self._call(self.client.v1.customers.create, {
            "name": name, "metadata": {"canone_account": account_id},
        }, key=idempotency_key(account_id, "customer"))
        return str(customer.id)

    def start_setup(self, customer: str, methods: tuple[str, ...]) -> SetupSession:
        unknown = [kind for kind in methods if kind not in PAYMENT_METHOD_KINDS]
        if not methods or unknown:
            raise ValueError(f"payment method kinds must be among {PAYMENT_METHOD_KINDS},"
                             f" not {methods}")
        setup = self._call(self.client.v1.setup_intents.create, {
            "customer": customer, "usage": "off_session",
            "payment_method_types": list(methods),
        })
        return SetupSession(str(setup.id), str(setup.client_secret))

    def save_payment_method(self, customer: str, payment_method: str) -> StoredCard:
        try:
            method = self.client.v1.payment_methods.retrieve(payment_method).to_dict()
            owner = method.get("customer")
            if owner is None:  # Stripe attaches on a succeeded SetupIntent; localstripe not
                method = self.client.v1.payment_methods.attach(
                    payment_method, {"customer": customer},
                    {"idempotency_key": idempotency_key(payment_method, "attach")},
                ).to_dict()
            elif owner != customer:
                raise CardRejected("payment_method",
                                   "This payment method belongs to another customer.")
        except (stripe.CardError, stripe.InvalidRequestError) as exc:
            raise CardRejected("payment_method", _message(exc)) from None
        except _UNKNOWN_OUTCOME as exc:
            raise GatewayTimeout(f"Stripe did not answer: {_message(exc)}") from None
        return stored_method(method)

    # -- charges --------------------------------------------------------------------------

    def minimum_charge(self, currency: str) -> int:
        return MINIMUM_CHARGE_MINOR

    def open_charge(self, request: ChargeRequest) -> str:
        minimum = self.minimum_charge(request.currency)
        if request.amount_minor < minimum:
            raise BelowMinimumCharge(request.amount_minor, minimum, request.currency.upper())
        method = self._payment_method(request.card_token)
        intent = self._call(self.client.v1.payment_intents.create, {
            "amount": request.amount_minor, "currency": request.currency.lower(),
            "customer": method["customer"], "payment_method": method["id"],
            "payment_method_types": [method["type"]],
            "metadata": {"canone_intent": request.key},
        }, key=idempotency_key(request.key, "create"))
        return str(intent.id)

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        params: PaymentIntentConfirmParams = (
            {"off_session": True} if request.off_session else {})
        try:
            intent = self.client.v1.payment_intents.confirm(
                provider_id, params,
                {"idempotency_key": idempotency_key(request.key, "confirm")})
        except stripe.CardError as exc:  # declined: the intent says how
            return self._after_decline(provider_id, exc)
        except stripe.InvalidRequestError:
            # Confirmed before (a retry after a lost answer) or canceled: its outcome.
            outcome = self.charge_outcome(provider_id)
            if outcome.status == REQUIRES_CONFIRMATION:
                raise
            return outcome
        except _UNKNOWN_OUTCOME as exc:
            raise GatewayTimeout(f"Stripe did not answer: {_message(exc)}") from None
        return outcome_of(intent.to_dict())

    def charge_outcome(self, provider_id: str) -> ChargeResult:
        intent = self._call(self.client.v1.payment_intents.retrieve, provider_id)
        return outcome_of(intent.to_dict())

    def cancel_charge(self, provider_id: str) -> ChargeResult:
        try:
            intent = self.client.v1.payment_intents.cancel(provider_id)
        except stripe.InvalidRequestError:  # succeeded or processing: no longer cancelable
            return self.charge_outcome(provider_id)
        except _UNKNOWN_OUTCOME as exc:
            raise GatewayTimeout(f"Stripe did not answer: {_message(exc)}") from None
        return outcome_of(intent.to_dict())

    def refund(self, provider_id: str, amount_minor: int, key: str) -> RefundResult:
        params: RefundCreateParams = {"payment_intent": provider_id, "amount": amount_minor}
        try:
            refund = self.client.v1.refunds.create(
                params,
                {"idempotency_key": idempotency_key(key, "refund")})
        except (stripe.InvalidRequestError, stripe.CardError) as exc:
            raise RefundRefused(_message(exc)) from None
        except _UNKNOWN_OUTCOME as exc:
            raise GatewayTimeout(f"Stripe did not answer: {_message(exc)}") from None
        return refund_of(refund.to_dict())

    def refund_outcome(self, refund_id: str) -> RefundResult:
        return refund_of(self._call(self.client.v1.refunds.retrieve, refund_id).to_dict())

    # -- objects the provider's events are about (ProviderObjects) ----------------------

    def refunds_of_charge(self, charge_id: str) -> list[RefundResult]:
        found = self._call(self.client.v1.refunds.list, {"charge": charge_id, "limit": 100})
        return [refund_of(refund) for refund in found.to_dict().get("data") or []]

    def dispute(self, dispute_id: str) -> Dispute:
        found = self._call(self.client.v1.disputes.retrieve, dispute_id).to_dict()
        return Dispute(str(found["id"]), str(found.get("payment_intent") or ""),
                       int(found["amount"]), str(found["status"]), str(found.get("reason")))

    def setup_method(self, setup_id: str) -> SavedMethod | None:
        setup = self._call(self.client.v1.setup_intents.retrieve, setup_id).to_dict()
        method = setup.get("payment_method")
        if setup.get("status") != "succeeded" or not method:
            return None
        # The set-up's customer: Stripe attaches the method to it (localstripe does not).
        return self.saved_method(method if isinstance(method, str) else str(method["id"]),
                                 setup.get("customer"))

    def saved_method(self, payment_method: str, customer: str | None = None) -> SavedMethod:
        method = self._call(self.client.v1.payment_methods.retrieve, payment_method).to_dict()
        owner = customer or method.get("customer")
        return SavedMethod(stored_method(method), str(owner) if owner else None)

    # -- the port's one-step charge (the services' current way of charging) ---------------

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        """Open and confirm at once, off-session. Stripe's idempotency keys make a retry
        answer the first intent. An outcome still open (processing, requires_action) is
        not known yet: GatewayTimeout, so that reconciliation settles it later."""
        request = ChargeRequest(idempotency_key, card_token, amount_minor, currency, True)
        outcome = self.confirm_charge(self.open_charge(request), request)
        if not outcome.final:
            raise GatewayTimeout(f"payment {outcome.provider_id} is {outcome.status}")
        return outcome

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        """The intent opened for this key, found by its metadata (Stripe's search, which
        lags about a minute behind), or None when none was opened."""
        found = self._call(self.client.v1.payment_intents.search, {
            "query": f"metadata['canone_intent']:'{idempotency_key}'", "limit": 1})
        intents = found.to_dict().get("data") or []
        return outcome_of(intents[0]) if intents else None

    # -- helpers --------------------------------------------------------------------------

    def _payment_method(self, token: str) -> dict[str, Any]:
        method: dict[str, Any] = self._call(self.client.v1.payment_methods.retrieve,
                                            token).to_dict()
        if not method.get("customer"):
            raise CardRejected("payment_method", "The payment method is not saved to a"
                                                 " customer; save it first.")
        return method

    def _after_decline(self, provider_id: str, error: stripe.CardError) -> ChargeResult:
        """The outcome of a declined confirmation: Stripe's error carries the intent, else
        it is retrieved; the error's message stands in for a missing one."""
        body = error.json_body if isinstance(error.json_body, dict) else {}
        embedded = (body.get("error") or {}).get("payment_intent")
        intent = embedded if isinstance(embedded, dict) else self._call(
            self.client.v1.payment_intents.retrieve, provider_id).to_dict()
        outcome = outcome_of(intent)
        if outcome.final and not outcome.message:
            return ChargeResult(outcome.status, None, _message(error), provider_id)
        return outcome

    def _call(self, method: Any, *args: Any, key: str | None = None) -> Any:
        """One request whose failure is not the customer's, with idempotency key `key`; a
        lost answer is a GatewayTimeout."""
        try:
            return method(*args, {"idempotency_key": key}) if key else method(*args)
        except stripe.IdempotencyError as exc:  # canone's bug, as with the sandbox
            raise ValueError(f"idempotency key {key!r}: {_message(exc)}") from None
        except _UNKNOWN_OUTCOME as exc:
            raise GatewayTimeout(f"Stripe did not answer: {_message(exc)}") from None


def outcome_of(intent: dict[str, Any]) -> ChargeResult:
    """A PaymentIntent (as a dict) as the port's outcome, with canone's intent key."""
    return replace(_outcome(intent), key=(intent.get("metadata") or {}).get("canone_intent"))


def _outcome(intent: dict[str, Any]) -> ChargeResult:
    status, provider_id = intent["status"], str(intent["id"])
    charge = intent.get("latest_charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    if status == "succeeded":
        return ChargeResult(SUCCEEDED, charge_id, "", provider_id)
    if status == "requires_action":
        return ChargeResult(REQUIRES_ACTION, None, "The bank asks to authenticate this"
                            " payment.", provider_id, intent.get("client_secret"))
    if status in ("processing", "requires_capture"):
        return ChargeResult(PROCESSING, None, "", provider_id)
    if status == "requires_confirmation":
        return ChargeResult(REQUIRES_CONFIRMATION, None, "", provider_id)
    if status == "canceled":
        return ChargeResult(CANCELED, None, "The payment was canceled.", provider_id)
    error = intent.get("last_payment_error") or {}
    codes = {error.get("code"), error.get("decline_code")}
    if AUTHENTICATION_FAILURE_CODE in codes:
        return ChargeResult(AUTHENTICATION_FAILED, None, AUTHENTICATION_FAILED_TEXT, provider_id)
    kind = (AUTHENTICATION_REQUIRED if "authentication_required" in codes
            else INSUFFICIENT_FUNDS if "insufficient_funds" in codes else DECLINED)
    return ChargeResult(kind, None, str(error.get("message") or ""), provider_id)


def refund_of(refund: dict[str, Any]) -> RefundResult:
    status = {"succeeded": REFUND_SUCCEEDED, "failed": REFUND_FAILED,
              "canceled": REFUND_FAILED}.get(str(refund.get("status")), REFUND_PENDING)
    reason = refund.get("failure_reason")
    intent = refund.get("payment_intent")
    return RefundResult(str(refund["id"]), status, int(refund["amount"]),
                        f"The refund failed: {reason}." if reason else "",
                        str(intent) if intent else None)


def stored_method(method: dict[str, Any]) -> StoredCard:
    """What canone keeps of a Stripe payment method: no number, ever."""
    kind = method.get("type")
    if kind == "card":
        card = method["card"]
        return StoredCard(str(method["id"]), str(card["brand"]), str(card["last4"]),
                          int(card["exp_month"]), int(card["exp_year"]),
                          str(card.get("country") or ""), "card")
    if kind == "sepa_debit":
        account = method["sepa_debit"]
        return StoredCard(str(method["id"]), "sepa_debit", str(account["last4"]), 0, 0,
                          str(account.get("country") or ""), "sepa_debit")
    raise CardRejected("payment_method", f"canone takes cards and SEPA Direct Debit, not {kind}.")


def _message(exc: stripe.StripeError) -> str:
    return str(exc.user_message or exc.__class__.__name__)
