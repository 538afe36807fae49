"""Data as earlier versions of canone could leave it, for the tests of what canone must still
cope with."""

from __future__ import annotations

from datetime import datetime

from canone.services.context import Services


def readdress_pending_signup(svc: Services, email: str, to: str, before: datetime) -> None:
    """Make the pending sign-up (created before `before`) for `email` one for `to`: two
    sign-ups for one address, both pending, as canone allowed before it held a sign-up's
    address until its payment settled; the second can never be settled."""
    with svc.database.transaction() as store:
        [intent] = [i for i in store.payments.pending_intents(before, 10)
                    if i.purpose == "signup" and i.payload["email"] == email]
        store.payments.save_intent(intent.but(payload={**intent.payload, "email": to}))
