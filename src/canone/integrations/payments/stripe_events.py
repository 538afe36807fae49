"""Stripe's webhooks (SPEC §9): the `Stripe-Signature` checked by the SDK, the event reduced
to what a handler needs — its id, its type and the object to re-read from Stripe.

The event's own copy of the object is not trusted for state: events arrive at least once
and in any order, and are written in the webhook endpoint's API version, so handlers
retrieve the object (in canone's API version) and apply what Stripe says now.
"""

from __future__ import annotations

import stripe

from canone.services.ports import PaymentEvent

# The events canone handles (SPEC §9); Stripe's webhook endpoint should send these.
HANDLED_EVENTS = frozenset({
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
    "payment_intent.canceled", "charge.refunded", "refund.updated", "refund.failed",
    "charge.dispute.created", "setup_intent.succeeded", "setup_intent.setup_failed",
    "payment_method.detached", "payment_method.automatically_updated",
})
TOLERANCE_SECONDS = 300  # Stripe's default: an older signature may be a replay


class WebhookRejected(Exception):
    """Not a genuine Stripe event: no, a wrong or a stale signature, or not an event."""


def verify_event(payload: bytes, signature: str | None, secret: str,
                 tolerance: int = TOLERANCE_SECONDS) -> PaymentEvent:
    """The event in `payload` if `signature` (the Stripe-Signature header) proves Stripe
    sent it with `secret` less than `tolerance` seconds ago; WebhookRejected otherwise."""
    if not signature:
        raise WebhookRejected("Stripe-Signature: the header is missing")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Stripe-Signature: {exc.user_message}") from None
    except ValueError:  # signed, but not JSON
        raise WebhookRejected("the body is not a Stripe event (JSON)") from None
    try:
        data = event.to_dict()
        subject = data["data"]["object"]
        return PaymentEvent(id=str(data["id"]), type=str(data["type"]),
                            object_id=str(subject["id"]), object_type=str(subject["object"]),
                            created=int(data["created"]), api_version=data.get("api_version"))
    except (KeyError, TypeError, ValueError):
        raise WebhookRejected("the body is not a Stripe event (id, type, data.object)") from None
