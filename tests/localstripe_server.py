"""`localstripe --from-scratch --port N`, as the tests run it, with these adjustments made
before its routes are built:

- its store is not pickled to `/tmp/localstripe.pickle` after every write: each test server
  starts from scratch, and every localstripe on the machine would write that one file;
- it listens on 127.0.0.1 only (localstripe binds `::`, which a machine without IPv6
  refuses) and keeps no access log (nobody reads it);
- `POST /v1/payment_intents/{id}/confirm` accepts `off_session` (Stripe's parameter for a
  charge made while the customer is away), which localstripe refuses as unexpected; and
  applies Stripe's one off-session rule that canone's flows depend on, which localstripe
  lacks: a card whose bank demands 3-D Secure (localstripe's own list of such cards, e.g.
  4000002760003184) is refused with HTTP 402 `authentication_required` and the
  PaymentIntent back in `requires_payment_method`, as the recording
  tests/integrations/stripe_recordings/offsession_authentication_required.json shows
  Stripe's answer (the adapter's reading of that answer is tested against the recording);
- a PaymentIntent keeps the `payment_method_types` and `receipt_email` it was created with
  (localstripe drops the one and refuses the other), so that a test sees what canone asked
  of Stripe; neither given reads null (Stripe would fill in its defaults).

Run it as `python tests/localstripe_server.py --from-scratch --port N`.
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError


def _ignore_dump(self: resources.Store) -> None:
    """No pickle of the store: nothing reads it back (the tests start from scratch)."""


_confirm = resources.PaymentIntent._api_confirm


AUTHENTICATION_REQUIRED = ("Your card was declined. This transaction requires"
                           " authentication.")


class _AuthenticationRequired(UserError):
    """Stripe's 402 card_error for an off-session charge its bank wants authenticated."""

    def __init__(self, intent: Any) -> None:
        super().__init__(402, AUTHENTICATION_REQUIRED)
        error = {"type": "card_error", "code": "authentication_required",
                 "decline_code": "authentication_required", "message": AUTHENTICATION_REQUIRED}
        self.body = {"error": {**error, "payment_intent": {
            "id": intent.id, "object": "payment_intent", "amount": intent.amount,
            "currency": intent.currency, "status": "requires_payment_method",
            "latest_charge": None, "client_secret": intent.client_secret,
            "last_payment_error": error, "metadata": intent.metadata}}}


def _confirm_off_session(id: str, off_session: Any = None, **kwargs: Any) -> Any:
    if resources.try_convert_to_bool(off_session) is True:
        intent = resources.PaymentIntent._api_retrieve(id)
        method = resources.PaymentMethod._api_retrieve(intent.payment_method)
        if intent.status == "requires_confirmation" and method._requires_authentication():
            error = _AuthenticationRequired(intent)
            intent.payment_method = None  # as Stripe: requires_payment_method
            raise error
    return _confirm(id, **kwargs)


_create_intent = resources.PaymentIntent.__init__


def _intent_as_asked(self: resources.PaymentIntent, payment_method_types: Any = None,
                     receipt_email: Any = None, **kwargs: Any) -> None:
    _create_intent(self, **kwargs)
    self.payment_method_types = payment_method_types
    self.receipt_email = receipt_email


def _patch() -> None:
    resources.Store.dump_to_disk = _ignore_dump  # type: ignore[method-assign]
    resources.PaymentIntent.__init__ = _intent_as_asked  # type: ignore[method-assign]
    for index, (method, url, _func) in enumerate(resources.extra_apis):
        if url == "/v1/payment_intents/{id}/confirm":
            resources.extra_apis[index] = (method, url, _confirm_off_session)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--from-scratch", action="store_true")  # always: nothing is loaded
    port = parser.parse_args().port
    _patch()
    from localstripe import server  # builds its routes from `extra_apis` on import

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    web.run_app(server.app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    main()
