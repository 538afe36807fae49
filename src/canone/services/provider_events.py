"""Events from the payment provider (SPEC §9: Stripe's webhooks), applied idempotently.

Events come at least once and in any order, so none is applied as it reads: the provider
is asked for the object's state now, and that state is applied through `payments.settle`,
which settles each of canone's intents exactly once. A repeated or out-of-date event finds
the intent settled (or the object still open) and changes nothing.
"""

from __future__ import annotations

from contextlib import suppress

from canone.services.context import Services
from canone.services.errors import PaymentFailed
from canone.services.payments import PENDING, settle
from canone.services.ports import PaymentEvent

IGNORED = "ignored"  # not about one of canone's payments (or not handled yet)
OPEN = "open"  # the payment is still open (processing, requires_action): nothing to apply
SETTLED = "settled"  # canone's intent is settled (now, or by an earlier event or request)


def apply_payment_event(svc: Services, event: PaymentEvent) -> str:
    """Apply what the event is about, as the provider has it now; what was done."""
    if event.object_type != "payment_intent":
        return IGNORED  # refunds, disputes, set-ups and payment methods come with their use cases
    outcome = svc.gateway.charge_outcome(event.object_id)
    if outcome.key is None:
        return IGNORED  # not opened by canone
    if not outcome.final:
        return OPEN
    with svc.database.read() as store:
        intent = store.payments.get_intent(outcome.key)
    if intent is None:
        return IGNORED
    if intent.status == PENDING:
        with suppress(PaymentFailed):  # recorded as failed; its owner was told
            settle(svc, outcome.key, outcome)
    return SETTLED
