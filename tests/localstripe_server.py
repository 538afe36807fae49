"""`localstripe --from-scratch --port N`, as the tests run it, with two adjustments made
before its routes are built:

- its store is not pickled to `/tmp/localstripe.pickle` after every write: each test server
  starts from scratch, and every localstripe on the machine would write that one file;
- it listens on 127.0.0.1 only (localstripe binds `::`, which a machine without IPv6
  refuses) and keeps no access log (nobody reads it);
- `POST /v1/payment_intents/{id}/confirm` accepts `off_session` (Stripe's parameter for a
  charge made while the customer is away), which localstripe refuses as unexpected.
  localstripe has no off-session behaviour to apply, so the value is ignored; what Stripe
  does differently off-session is tested against recorded responses.

Run it as `python tests/localstripe_server.py --from-scratch --port N`.
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

from aiohttp import web
from localstripe import resources


def _ignore_dump(self: resources.Store) -> None:
    """No pickle of the store: nothing reads it back (the tests start from scratch)."""


_confirm = resources.PaymentIntent._api_confirm


def _confirm_off_session(id: str, off_session: Any = None, **kwargs: Any) -> Any:
    return _confirm(id, **kwargs)


def _patch() -> None:
    resources.Store.dump_to_disk = _ignore_dump  # type: ignore[method-assign]
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
